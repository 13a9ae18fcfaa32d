package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// tokenPath is where service accounts obtain access tokens (relative to the
// base URL), as on Atlas.
const tokenPath = "/api/oauth/token"

// tokenSource obtains and caches the access token of a service account.
type tokenSource struct {
	clientID, secret string
	now              func() time.Time // time.Now; tests move it

	mu      sync.Mutex
	token   string
	expires time.Time // when the cached token should no longer be used
}

// do sends req with a Bearer token; a 401 gets one retry with a new token
// (the cached one may have been revoked, or the server restarted with new
// signing keys).
func (s *tokenSource) do(c *Client, req *http.Request) (*http.Response, error) {
	tok, err := s.get(req.Context(), c, false)
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.hc.Do(r)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	r2, err := rewind(req)
	if err != nil {
		return resp, nil
	}
	fresh, err := s.get(req.Context(), c, true)
	if err != nil || fresh == tok {
		return resp, nil
	}
	drain(resp)
	r2.Header.Set("Authorization", "Bearer "+fresh)
	return c.hc.Do(r2)
}

// get returns a cached token, or obtains a new one when there is none, it
// is about to expire, or force is set.
func (s *tokenSource) get(ctx context.Context, c *Client, force bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	if !force && s.token != "" && now.Before(s.expires) {
		return s.token, nil
	}
	tok, ttl, err := s.fetch(ctx, c)
	if err != nil {
		return "", err
	}
	s.token, s.expires = tok, now.Add(ttl-refreshMargin(ttl))
	return tok, nil
}

// refreshMargin is how long before its expiry a token is replaced: a tenth
// of its lifetime, at most a minute, so that a token never expires in flight.
func refreshMargin(ttl time.Duration) time.Duration {
	return min(ttl/10, time.Minute)
}

func (s *tokenSource) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// fetch runs the client credentials grant (RFC 6749 §4.4), the client
// authenticated with HTTP Basic (id and secret form-encoded first, §2.3.1).
func (s *tokenSource) fetch(ctx context.Context, c *Client) (string, time.Duration, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + tokenPath
	u.RawQuery = ""
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	req.SetBasicAuth(url.QueryEscape(s.clientID), url.QueryEscape(s.secret))
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return "", 0, newAPIError(resp)
	}
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", 0, fmt.Errorf("client: decode the access token answer: %w", err)
	}
	if body.AccessToken == "" || !strings.EqualFold(body.TokenType, "Bearer") {
		return "", 0, fmt.Errorf("client: the token endpoint returned no Bearer token")
	}
	ttl := time.Duration(body.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = time.Hour
	}
	return body.AccessToken, ttl, nil
}
