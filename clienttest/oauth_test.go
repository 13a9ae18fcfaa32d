package clienttest

import (
	"context"
	"net/http"
	"testing"

	cc001 "go.mongodb.org/atlas-sdk/v20250312001/auth/clientcredentials"
	cc020 "go.mongodb.org/atlas-sdk/v20250312020/auth/clientcredentials"
	"golang.org/x/oauth2"
)

// The SDK's own OAuth configuration (auth/clientcredentials, what
// UseOAuthAuth is built on): its token works until RevokeToken revokes it
// at /api/oauth/revoke.
func TestOAuthTokenRevoke(t *testing.T) {
	type config interface {
		Token(context.Context) (*oauth2.Token, error)
		RevokeToken(context.Context, *oauth2.Token) error
	}
	for _, tc := range []struct {
		version string
		config  func() config
	}{
		{sdk001, func() config {
			c := cc001.NewConfig(demo.creds.ClientID, demo.creds.ClientSecret)
			c.TokenURL, c.RevokeURL = demo.base+cc001.TokenAPIPath, demo.base+cc001.RevokeAPIPath
			return c
		}},
		{sdk020, func() config {
			c := cc020.NewConfig(demo.creds.ClientID, demo.creds.ClientSecret)
			c.TokenURL, c.RevokeURL = demo.base+cc020.TokenAPIPath, demo.base+cc020.RevokeAPIPath
			return c
		}},
	} {
		t.Run(tc.version, func(t *testing.T) {
			ctx := t.Context()
			c := tc.config()
			tok, err := c.Token(ctx)
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
				t.Errorf("token type %q, expiry %v: want Bearer with an expiry (from expires_in)", tok.TokenType, tok.Expiry)
			}
			if got := getOrgWithBearer(t, tok.AccessToken); got != http.StatusOK {
				t.Fatalf("with a fresh token: %d", got)
			}
			if err := c.RevokeToken(ctx, tok); err != nil {
				t.Fatalf("RevokeToken: %v", err)
			}
			if got := getOrgWithBearer(t, tok.AccessToken); got != http.StatusUnauthorized {
				t.Errorf("with a revoked token: %d, want 401", got)
			}
		})
	}
}

func getOrgWithBearer(t *testing.T, token string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, demo.base+"/api/atlas/v2/orgs/"+demo.creds.OrgID, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
