package auth

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// kindRecorder collects what Config.OnFailure is told.
type kindRecorder struct {
	mu    sync.Mutex
	kinds []string
}

func (k *kindRecorder) record(kind string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kinds = append(k.kinds, kind)
}

// take returns the kinds recorded since the last call.
func (k *kindRecorder) take() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := k.kinds
	k.kinds = nil
	return out
}

func TestOnFailureKinds(t *testing.T) {
	rec := &kindRecorder{}
	f := newFixture(t, func(c *Config) {
		c.OnFailure = rec.record
		c.BruteForce.IPLimit = 1000 // only the rate-limit case below trips it
	})
	k, priv := f.apiKey(f.orgID)
	listed, listedPriv := f.apiKey(f.orgID, "203.0.113.0/24")
	sa, secret := f.serviceAccount(f.orgID)
	orgs := func() *http.Request { return f.request("GET", "/api/atlas/v2/orgs", nil) }

	tests := []struct {
		name string
		run  func(t *testing.T)
		want []string
	}{
		{"SuccessCountsOnlyTheChallenge", func(t *testing.T) {
			do(t, f.digestClient(k.PublicKey, priv, nil), orgs()).principal(t)
		}, []string{FailureMissing}},
		{"Missing", func(t *testing.T) {
			do(t, f.srv.Client(), orgs())
		}, []string{FailureMissing}},
		{"Malformed", func(t *testing.T) {
			req := orgs()
			req.SetBasicAuth(k.PublicKey, priv)
			do(t, f.srv.Client(), req)
		}, []string{FailureMalformed}},
		{"DigestInvalid", func(t *testing.T) {
			do(t, f.digestClient(k.PublicKey, "wrong", nil), orgs())
		}, []string{FailureMissing, FailureDigestInvalid}},
		{"DigestReplay", func(t *testing.T) {
			var authz string
			c := f.digestClient(k.PublicKey, priv, func(tr *digestTransport) {
				tr.Sent = func(r *http.Request) { authz = r.Header.Get("Authorization") }
			})
			do(t, c, orgs()).principal(t)
			req := orgs()
			req.Header.Set("Authorization", authz)
			do(t, f.srv.Client(), req)
		}, []string{FailureMissing, FailureDigestReplay}},
		{"DigestStale", func(t *testing.T) {
			first := do(t, f.srv.Client(), orgs())
			f.clock.Advance(f.auth.cfg.NonceTTL)
			tr := &digestTransport{Username: k.PublicKey, Password: priv}
			req := orgs()
			p, err := tr.params(req, first.header.Values("WWW-Authenticate"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", p.header(priv))
			do(t, f.srv.Client(), req)
		}, []string{FailureMissing, FailureDigestStale}},
		{"BearerInvalid", func(t *testing.T) {
			f.bearer("not-a-token", nil)
		}, []string{FailureBearerInvalid}},
		{"ClientInvalid", func(t *testing.T) {
			f.tokenRequest(sa.ClientID, secret+"x", url.Values{"grant_type": {"client_credentials"}})
		}, []string{FailureClientInvalid}},
		{"AccessList", func(t *testing.T) {
			do(t, f.digestClient(listed.PublicKey, listedPriv, nil), orgs())
		}, []string{FailureMissing, FailureAccessList}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.take()
			tt.run(t)
			if got := rec.take(); !slices.Equal(got, tt.want) {
				t.Errorf("kinds %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("RateLimited", func(t *testing.T) {
		rf := &kindRecorder{}
		g := newFixture(t, func(c *Config) {
			c.OnFailure = rf.record
			c.BruteForce.IPLimit = 2
		})
		for range 3 {
			g.bearer("not-a-token", nil)
		}
		if got := rf.take(); !slices.Equal(got, []string{FailureBearerInvalid, FailureBearerInvalid, FailureRateLimited}) {
			t.Errorf("kinds %q", got)
		}
	})
	t.Run("EveryKindIsListed", func(t *testing.T) {
		for _, k := range FailureKinds {
			if k == "" || strings.ToLower(k) != k {
				t.Errorf("kind %q is not a lower-case label value", k)
			}
		}
	})
}
