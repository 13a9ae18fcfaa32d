package auth

import (
	"net/http"
	"net/url"
	"testing"
)

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
