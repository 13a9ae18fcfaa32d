package auth

import (
	"net/http"
	"strings"
	"testing"
)

func TestDigestHandshake(t *testing.T) {
	f := newFixture(t, nil)
	k, priv := f.apiKey(f.orgID)

	t.Run("FirstChallengeMatchesGolden", func(t *testing.T) {
		r := do(t, f.srv.Client(), f.request("GET", "/api/atlas/v2/orgs", nil))
		r.wantAtlasError(t, 401, "USER_UNAUTHORIZED")
		checkGolden(t, "challenge.golden", maskedChallenges(r.header.Values("WWW-Authenticate")))
		if n := strings.TrimPrefix(nonceRE.FindString(r.header.Get("WWW-Authenticate")), `nonce="`); len(n) < 32 {
			t.Errorf("nonce %q is too short", n)
		}
	})
	t.Run("OKMD5WithQueryString", func(t *testing.T) {
		c := f.digestClient(k.PublicKey, priv, nil)
		p := do(t, c, f.request("GET", "/api/atlas/v2/orgs?pageNum=2&itemsPerPage=5&name=a%20b", nil)).principal(t)
		if p["kind"] != "apiKey" || p["publicKey"] != k.PublicKey || p["id"] != k.ID || p["orgId"] != f.orgID {
			t.Errorf("principal = %v", p)
		}
	})
	t.Run("OKSHA256WithBody", func(t *testing.T) {
		c := f.digestClient(k.PublicKey, priv, func(tr *digestTransport) { tr.SHA256 = true })
		var sent string
		c.Transport.(*digestTransport).Sent = func(r *http.Request) { sent = r.Header.Get("Authorization") }
		p := do(t, c, f.request("POST", "/api/atlas/v2/orgs/"+f.orgID+"/billing/costExplorer/usage?pretty=true", strings.NewReader(`{"a":1}`))).principal(t)
		if p["body"] != `{"a":1}` {
			t.Errorf("body = %v", p["body"])
		}
		if !strings.Contains(sent, `algorithm="SHA-256"`) {
			t.Errorf("client did not sign with SHA-256: %s", sent)
		}
	})
	t.Run("OKNextNonceCount", func(t *testing.T) {
		// RFC 7616 clients (curl) reuse a nonce with nc 2, 3, …: each
		// (nonce, nc) pair is new.
		var p *digestParams
		c := f.digestClient(k.PublicKey, priv, func(tr *digestTransport) {
			tr.Sign = func(dp *digestParams) { p = dp }
		})
		do(t, c, f.request("GET", "/api/atlas/v2/orgs", nil)).principal(t)
		p.NC = "00000002"
		req := f.request("GET", "/api/atlas/v2/orgs", nil)
		req.Header.Set("Authorization", p.header(priv))
		do(t, f.srv.Client(), req).principal(t)
	})
}

func TestDigestRefusals(t *testing.T) {
	f := newFixture(t, nil)
	k, priv := f.apiKey(f.orgID)
	disabled, disabledPriv := f.apiKey(f.orgID)
	if err := f.db.SetAPIKeyEnabled(f.ctx, disabled.PublicKey, false); err != nil {
		t.Fatal(err)
	}
	const path = "/api/atlas/v2/orgs?pageNum=1"

	tests := []struct {
		name     string
		user     string
		password string
		edit     func(*digestTransport)
	}{
		{name: "WrongPassword", user: k.PublicKey, password: wrongSecret(priv)},
		{name: "UnknownPublicKey", user: "zzzzzzzz", password: priv},
		{name: "DisabledKey", user: disabled.PublicKey, password: disabledPriv},
		{name: "WrongRealmSent", user: k.PublicKey, password: priv, edit: func(tr *digestTransport) {
			tr.Sign = func(p *digestParams) { p.Realm = "Other Realm" }
		}},
		{name: "WrongRealmHashed", user: k.PublicKey, password: priv, edit: func(tr *digestTransport) {
			tr.Sign = func(p *digestParams) { p.HashRealm = "Other Realm" }
		}},
		{name: "WrongURI", user: k.PublicKey, password: priv, edit: func(tr *digestTransport) {
			tr.Sign = func(p *digestParams) { p.URI = "/api/atlas/v2/orgs/" + f.orgID }
		}},
		{name: "URIWithoutQuery", user: k.PublicKey, password: priv, edit: func(tr *digestTransport) {
			tr.Sign = func(p *digestParams) { p.URI = "/api/atlas/v2/orgs" }
		}},
		{name: "TamperedQueryString", user: k.PublicKey, password: priv, edit: func(tr *digestTransport) {
			tr.Tamper = func(r *http.Request) { r.URL.RawQuery = "pageNum=2" }
		}},
		{name: "TamperedQueryStringAndURI", user: k.PublicKey, password: priv, edit: func(tr *digestTransport) {
			tr.Tamper = func(r *http.Request) {
				r.URL.RawQuery = "pageNum=2"
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "pageNum=1", "pageNum=2", 1))
			}
		}},
		{name: "TamperedMethod", user: k.PublicKey, password: priv, edit: func(tr *digestTransport) {
			tr.Tamper = func(r *http.Request) { r.Method = "DELETE" }
		}},
		{name: "NonceNotMintedHere", user: k.PublicKey, password: priv, edit: func(tr *digestTransport) {
			tr.Sign = func(p *digestParams) { p.Nonce = strings.Repeat("A", len(p.Nonce)) }
		}},
		{name: "AlgorithmNotOffered", user: k.PublicKey, password: priv, edit: func(tr *digestTransport) {
			tr.Sign = func(p *digestParams) { p.Algorithm = "SHA-512-256" }
		}},
		{name: "QopMissing", user: k.PublicKey, password: priv, edit: func(tr *digestTransport) {
			tr.Sign = func(p *digestParams) { p.Qop = "" }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, f.digestClient(tt.user, tt.password, tt.edit), f.request("GET", path, nil))
			e := r.wantAtlasError(t, 401, "USER_UNAUTHORIZED")
			if e.Detail != detailUnauthenticated {
				t.Errorf("detail %q", e.Detail)
			}
			if got := r.header.Values("WWW-Authenticate"); len(got) != 2 || !strings.HasSuffix(got[0], "stale=false") || !strings.Contains(got[0], "algorithm=MD5") {
				t.Errorf("challenges %q, want fresh MD5 then SHA-256 with stale=false", got)
			}
		})
	}
	t.Run("ControlSameClientSucceeds", func(t *testing.T) {
		do(t, f.digestClient(k.PublicKey, priv, nil), f.request("GET", path, nil)).principal(t)
	})
	t.Run("SecretsNeverLogged", func(t *testing.T) {
		logs := f.logs.String()
		if !strings.Contains(logs, "wrong digest response") {
			t.Fatalf("failures not logged: %s", logs)
		}
		for _, s := range []string{priv, disabledPriv, k.HA1MD5, k.HA1SHA256, "response="} {
			if strings.Contains(logs, s) {
				t.Errorf("log contains %q", s)
			}
		}
	})
}

func TestDigestReplayIsRefused(t *testing.T) {
	f := newFixture(t, nil)
	k, priv := f.apiKey(f.orgID)
	var auth string
	c := f.digestClient(k.PublicKey, priv, func(tr *digestTransport) {
		tr.Sent = func(r *http.Request) { auth = r.Header.Get("Authorization") }
	})
	do(t, c, f.request("GET", "/api/atlas/v2/orgs?x=1", nil)).principal(t)

	replay := func(srvURL string) *response {
		req := f.request("GET", "/api/atlas/v2/orgs?x=1", nil)
		req.URL.Host = strings.TrimPrefix(srvURL, "http://")
		req.Header.Set("Authorization", auth)
		return do(t, f.srv.Client(), req)
	}
	t.Run("SameReplica", func(t *testing.T) {
		r := replay(f.srv.URL)
		r.wantAtlasError(t, 401, "USER_UNAUTHORIZED")
		if !strings.HasSuffix(r.header.Get("WWW-Authenticate"), "stale=false") {
			t.Errorf("challenge %q", r.header.Get("WWW-Authenticate"))
		}
	})
	t.Run("OtherReplica", func(t *testing.T) {
		// A second Authenticator on the same database (another replica)
		// shares the nonce key and the record of used pairs.
		_, other := f.serve(f.auth.cfg)
		replay(other.URL).wantAtlasError(t, 401, "USER_UNAUTHORIZED")
	})
}

func TestDigestAcrossReplicas(t *testing.T) {
	f := newFixture(t, nil)
	k, priv := f.apiKey(f.orgID)
	_, other := f.serve(f.auth.cfg)
	// The challenge comes from one replica, the signed request goes to the
	// other, as behind a load balancer.
	r := do(t, f.srv.Client(), f.request("GET", "/api/atlas/v2/orgs", nil))
	tr := &digestTransport{Username: k.PublicKey, Password: priv}
	req := f.request("GET", "/api/atlas/v2/orgs", nil)
	p, err := tr.params(req, r.header.Values("WWW-Authenticate"))
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Host = strings.TrimPrefix(other.URL, "http://")
	req.Header.Set("Authorization", p.header(priv))
	do(t, f.srv.Client(), req).principal(t)
}

func TestDigestExpiredNonceIsStale(t *testing.T) {
	f := newFixture(t, nil)
	k, priv := f.apiKey(f.orgID)
	first := do(t, f.srv.Client(), f.request("GET", "/api/atlas/v2/orgs", nil))
	tr := &digestTransport{Username: k.PublicKey, Password: priv}
	sign := func(password string, challenges []string) *response {
		req := f.request("GET", "/api/atlas/v2/orgs", nil)
		p, err := tr.params(req, challenges)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", p.header(password))
		return do(t, f.srv.Client(), req)
	}
	f.clock.Advance(f.auth.cfg.NonceTTL)

	t.Run("RightKeyGetsStaleTrue", func(t *testing.T) {
		r := sign(priv, first.header.Values("WWW-Authenticate"))
		r.wantAtlasError(t, 401, "USER_UNAUTHORIZED")
		got := r.header.Values("WWW-Authenticate")
		if len(got) != 2 || !strings.HasSuffix(got[0], ", stale=true") || !strings.HasSuffix(got[1], ", stale=true") {
			t.Fatalf("challenges %q, want stale=true", got)
		}
		if _, err := parseChallengeLikeSDK(got[0]); err != nil {
			t.Fatalf("stale challenge rejected by the SDK's parser: %v", err)
		}
		t.Run("RetryWithTheFreshNonceSucceeds", func(t *testing.T) {
			sign(priv, got).principal(t)
		})
	})
	t.Run("WrongKeyGetsStaleFalse", func(t *testing.T) {
		r := sign("wrong", first.header.Values("WWW-Authenticate"))
		r.wantAtlasError(t, 401, "USER_UNAUTHORIZED")
		if got := r.header.Get("WWW-Authenticate"); !strings.HasSuffix(got, ", stale=false") {
			t.Fatalf("challenge %q, want stale=false", got)
		}
	})
}

func TestAuthenticateOtherAnswers(t *testing.T) {
	f := newFixture(t, nil)
	k, priv := f.apiKey(f.orgID)
	t.Run("BasicSchemeGetsDigestChallenge", func(t *testing.T) {
		req := f.request("GET", "/api/atlas/v2/orgs", nil)
		req.SetBasicAuth(k.PublicKey, priv)
		r := do(t, f.srv.Client(), req)
		r.wantAtlasError(t, 401, "USER_UNAUTHORIZED")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Digest ") {
			t.Errorf("challenge %q", r.header.Get("WWW-Authenticate"))
		}
	})
	t.Run("TwoAuthorizationHeaders", func(t *testing.T) {
		req := f.request("GET", "/api/atlas/v2/orgs", nil)
		req.Header.Add("Authorization", "Bearer x")
		req.Header.Add("Authorization", "Bearer y")
		do(t, f.srv.Client(), req).wantAtlasError(t, 401, "USER_UNAUTHORIZED")
	})
	t.Run("StoreDownIs503", func(t *testing.T) {
		c := f.digestClient(k.PublicKey, priv, nil)
		f.db.Close()
		r := do(t, c, f.request("GET", "/api/atlas/v2/orgs", nil))
		r.wantAtlasError(t, 503, "SERVICE_UNAVAILABLE")
		if r.header.Get("WWW-Authenticate") != "" {
			t.Errorf("503 carries a challenge")
		}
	})
}

// wrongSecret returns secret with its last character changed, so it never
// equals secret (a fixed replacement would when secret already ends in it).
func wrongSecret(secret string) string {
	last := byte('0')
	if secret[len(secret)-1] == last {
		last = '1'
	}
	return secret[:len(secret)-1] + string(last)
}

// BenchmarkDigestRequest measures one Digest-authenticated request over
// loopback on a SQLite file, challenge round trip included (as the Atlas Go
// SDK does it): two HTTP exchanges, one nonce write, one key read, one
// organization read.
func BenchmarkDigestRequest(b *testing.B) {
	f := newFixture(b, nil)
	k, priv := f.apiKey(f.orgID)
	c := &http.Client{Transport: &digestTransport{Username: k.PublicKey, Password: priv, Base: f.srv.Client().Transport}}
	for b.Loop() {
		req, _ := http.NewRequest("GET", f.srv.URL+"/api/atlas/v2/orgs?pageNum=1", nil)
		resp, err := c.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("%v %v", resp, err)
		}
		resp.Body.Close()
	}
}
