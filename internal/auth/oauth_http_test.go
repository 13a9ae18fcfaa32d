package auth

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestTokenEndpoint(t *testing.T) {
	f := newFixture(t, nil)
	sa, secret := f.serviceAccount(f.orgID)
	grant := url.Values{"grant_type": {"client_credentials"}}

	t.Run("OKIssueAndUse", func(t *testing.T) {
		r := f.tokenRequest(sa.ClientID, secret, grant)
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if r.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("headers %v", r.header)
		}
		var body map[string]any
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body) != 3 || body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) {
			t.Errorf("body %s", r.body)
		}
		token, _ := body["access_token"].(string)
		// The Atlas CLI reads exp without verifying: it must be a JWT with
		// a future exp.
		var claims jwt.RegisteredClaims
		if _, _, err := jwt.NewParser().ParseUnverified(token, &claims); err != nil || !claims.ExpiresAt.After(f.clock.Now()) || claims.Subject != sa.ClientID {
			t.Fatalf("token claims %+v, %v", claims, err)
		}
		p := f.bearer(token, nil).principal(t)
		if p["kind"] != "serviceAccount" || p["id"] != sa.ClientID || p["orgId"] != f.orgID {
			t.Errorf("principal %v", p)
		}
	})
	t.Run("OKURLEncodedBasicCredentials", func(t *testing.T) {
		// RFC 6749 §2.3.1 clients (golang.org/x/oauth2) form-encode the
		// id and secret inside Basic.
		if r := f.tokenRequest(url.QueryEscape(sa.ClientID), url.QueryEscape(secret), grant); r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})

	disabled, disabledSecret := f.serviceAccount(f.orgID)
	if err := f.db.SetServiceAccountEnabled(f.ctx, disabled.ClientID, false); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		id     string
		secret string
		form   url.Values
		edit   func(*http.Request)
		status int
		code   string
	}{
		{name: "ErrNoClientAuthentication", form: grant, status: 401, code: "invalid_client"},
		{name: "ErrWrongSecret", id: sa.ClientID, secret: secret + "x", form: grant, status: 401, code: "invalid_client"},
		{name: "ErrUnknownClient", id: "mdb_sa_id_000000000000000000000000", secret: secret, form: grant, status: 401, code: "invalid_client"},
		{name: "ErrDisabledAccount", id: disabled.ClientID, secret: disabledSecret, form: grant, status: 401, code: "invalid_client"},
		{name: "ErrUnsupportedGrantType", id: sa.ClientID, secret: secret, form: url.Values{"grant_type": {"password"}}, status: 400, code: "unsupported_grant_type"},
		{name: "ErrMissingGrantType", id: sa.ClientID, secret: secret, form: url.Values{}, status: 400, code: "invalid_request"},
		{name: "ErrRepeatedParameter", id: sa.ClientID, secret: secret, form: url.Values{"grant_type": {"client_credentials", "client_credentials"}}, status: 400, code: "invalid_request"},
		{name: "ErrNotAForm", id: sa.ClientID, secret: secret, form: grant, edit: func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, status: 400, code: "invalid_request"},
		{name: "ErrGET", id: sa.ClientID, secret: secret, form: grant, edit: func(r *http.Request) { r.Method = "GET" }, status: 405, code: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := f.request("POST", "/api/oauth/token", strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.id != "" {
				req.SetBasicAuth(tt.id, tt.secret)
			}
			if tt.edit != nil {
				tt.edit(req)
			}
			r := do(t, f.srv.Client(), req)
			var body map[string]string
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatalf("body %q: %v", r.body, err)
			}
			if r.status != tt.status || body["error"] != tt.code || body["error_description"] == "" || len(body) != 2 {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if (tt.status == 401) != (r.header.Get("WWW-Authenticate") == `Basic realm="MMS Public API"`) {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
			}
		})
	}
	t.Run("SecretsNeverLogged", func(t *testing.T) {
		logs := f.logs.String()
		if !strings.Contains(logs, "invalid_client") {
			t.Fatalf("failures not logged: %s", logs)
		}
		if strings.Contains(logs, secret) || strings.Contains(logs, disabledSecret) {
			t.Error("log contains a secret")
		}
	})
}

func TestBearerRefusals(t *testing.T) {
	f := newFixture(t, nil)
	sa, secret := f.serviceAccount(f.orgID)
	valid := func() *tokenClaims {
		now := f.clock.Now()
		return &tokenClaims{OrgID: f.orgID, RegisteredClaims: jwt.RegisteredClaims{
			Issuer: "costexplorer", Subject: sa.ClientID, ID: "0123456789abcdef0123456789abcdef",
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}}
	}
	other := testSigner(t, 9)

	refused := func(t *testing.T, token string) {
		t.Helper()
		r := f.bearer(token, nil)
		r.wantAtlasError(t, 401, "USER_UNAUTHORIZED")
		got := r.header.Values("WWW-Authenticate")
		if len(got) != 3 || !strings.HasPrefix(got[0], "Digest ") || got[2] != `Bearer realm="MMS Public API", error="invalid_token"` {
			t.Errorf("challenges %q", got)
		}
	}
	t.Run("ControlForgedWithTheServerKeyIsAccepted", func(t *testing.T) {
		// Proves the forging below is faithful: only the attacked part
		// differs from an accepted token.
		f.bearer(forge(t, jwt.SigningMethodEdDSA, f.auth.tokens.priv, valid()), nil).principal(t)
	})
	t.Run("ErrResignedWithAnotherKey", func(t *testing.T) {
		refused(t, forge(t, jwt.SigningMethodEdDSA, other.priv, valid()))
	})
	t.Run("ErrAlgNone", func(t *testing.T) {
		refused(t, forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid()))
	})
	t.Run("ErrHS256WithThePublicKey", func(t *testing.T) {
		refused(t, forge(t, jwt.SigningMethodHS256, []byte(f.auth.tokens.pub), valid()))
	})
	t.Run("ErrGarbage", func(t *testing.T) {
		refused(t, "garbage")
	})
	t.Run("ErrRevoked", func(t *testing.T) {
		token := f.accessToken(sa.ClientID, secret)
		f.bearer(token, nil).principal(t)
		req := f.request("POST", "/api/oauth/revoke", strings.NewReader(url.Values{"token": {token}, "token_type_hint": {"access_token"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(sa.ClientID, secret)
		if r := do(t, f.srv.Client(), req); r.status != 200 || len(r.body) != 0 {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		refused(t, token)
		t.Run("OnOtherReplicaToo", func(t *testing.T) {
			_, srv := f.serve(f.auth.cfg)
			r := f.bearer(token, func(r *http.Request) { r.URL.Host = strings.TrimPrefix(srv.URL, "http://") })
			r.wantAtlasError(t, 401, "USER_UNAUTHORIZED")
		})
	})
	t.Run("ErrExpired", func(t *testing.T) {
		token := f.accessToken(sa.ClientID, secret)
		f.bearer(token, nil).principal(t)
		f.clock.Advance(time.Hour + tokenLeeway + time.Second)
		refused(t, token)
	})
	t.Run("ErrAccountDisabled", func(t *testing.T) {
		token := f.accessToken(sa.ClientID, secret)
		f.bearer(token, nil).principal(t)
		f.disableServiceAccount(t, sa.ClientID)
		// The replica remembers what the token resolved to for
		// CallerCacheTTL: the stated bound (callercache_test.go).
		f.clock.Advance(f.auth.cfg.CallerCacheTTL)
		refused(t, token)
	})
}

func TestRevokeEndpoint(t *testing.T) {
	f := newFixture(t, nil)
	sa, secret := f.serviceAccount(f.orgID)
	other, otherSecret := f.serviceAccount(f.orgID)
	revoke := func(id, secret string, form url.Values) *response {
		req := f.request("POST", "/api/oauth/revoke", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		return do(t, f.srv.Client(), req)
	}
	token := f.accessToken(sa.ClientID, secret)
	t.Run("ErrAnotherClientsToken", func(t *testing.T) {
		r := revoke(other.ClientID, otherSecret, url.Values{"token": {token}})
		if r.status != 400 || !bytes.Contains(r.body, []byte(`"invalid_request"`)) {
			t.Fatalf("%d %s", r.status, r.body)
		}
		f.bearer(token, nil).principal(t)
	})
	t.Run("ErrWrongClientSecret", func(t *testing.T) {
		r := revoke(sa.ClientID, otherSecret, url.Values{"token": {token}})
		if r.status != 401 || !bytes.Contains(r.body, []byte(`"invalid_client"`)) {
			t.Fatalf("%d %s", r.status, r.body)
		}
		f.bearer(token, nil).principal(t)
	})
	t.Run("ErrMissingToken", func(t *testing.T) {
		if r := revoke(sa.ClientID, secret, url.Values{}); r.status != 400 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("OKUnknownTokenPerRFC7009", func(t *testing.T) {
		if r := revoke(sa.ClientID, secret, url.Values{"token": {"not-a-token"}}); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

// TestStoreHoldsNoPlaintextSecret scans the SQLite database file and its
// WAL for the API private key and the service-account secret.
func TestStoreHoldsNoPlaintextSecret(t *testing.T) {
	f := newFixture(t, nil)
	k, priv := f.apiKey(f.orgID)
	sa, secret := f.serviceAccount(f.orgID)
	do(t, f.digestClient(k.PublicKey, priv, nil), f.request("GET", "/api/atlas/v2/orgs", nil)).principal(t)
	f.bearer(f.accessToken(sa.ClientID, secret), nil).principal(t)

	scan := func(t *testing.T) {
		t.Helper()
		var all []byte
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			b, err := os.ReadFile(f.path + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		// The scan sees the data: the public key and client id are there.
		for _, present := range []string{k.PublicKey, sa.ClientID} {
			if !bytes.Contains(all, []byte(present)) {
				t.Fatalf("%q not found: the scan does not see the stored rows", present)
			}
		}
		for name, s := range map[string]string{"API private key": priv, "service account secret": secret,
			"secret without prefix": strings.TrimPrefix(secret, secretPrefix), "private key without dashes": strings.ReplaceAll(priv, "-", "")} {
			if bytes.Contains(all, []byte(s)) {
				t.Errorf("the database files contain the %s", name)
			}
		}
	}
	t.Run("WhileOpen", scan)
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("AfterClose", scan)
}

// BenchmarkBearerRequest measures one request with an access token: the
// signature check, a revocation read, an account read, an organization read.
func BenchmarkBearerRequest(b *testing.B) {
	f := newFixture(b, nil)
	sa, secret := f.serviceAccount(f.orgID)
	r := f.tokenRequest(sa.ClientID, secret, url.Values{"grant_type": {"client_credentials"}})
	if r.status != 200 {
		b.Fatal(string(r.body))
	}
	token := f.accessToken(sa.ClientID, secret)
	for b.Loop() {
		req, _ := http.NewRequest("GET", f.srv.URL+"/api/atlas/v2/orgs", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := f.srv.Client().Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("%v %v", resp, err)
		}
		resp.Body.Close()
	}
}
