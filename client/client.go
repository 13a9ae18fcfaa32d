package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultAPIVersion is the Atlas API version of both cost-explorer
// operations, sent in the Accept header unless [WithAPIVersion] says
// otherwise.
const DefaultAPIVersion = "2023-01-01"

// DefaultRateLimitRetries is how many times a 429 answer is retried by
// default.
const DefaultRateLimitRetries = 3

// maxRetryWait bounds one wait before retrying a 429, whatever Retry-After
// says, so that a misbehaving server cannot park a caller for hours.
const maxRetryWait = 2 * time.Minute

// Client calls an Atlas-compatible API. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	hc        *http.Client
	userAgent string
	version   string
	retries   int
	// serverRetries is how many times a GET failing with a 5xx or a
	// network error is sent again; pace spaces requests near the rate limit.
	serverRetries int
	pace          *pacer

	// digest and oauth hold the credentials; at most one is set.
	digest *digestAuth
	oauth  *tokenSource

	// sleep waits d or until ctx ends; tests replace it to observe waits.
	sleep func(ctx context.Context, d time.Duration) error
	// jitter returns a number in [0, 1) for backoff jitter.
	jitter func() float64
}

// Option configures a Client.
type Option func(*Client) error

// WithDigest authenticates with an API key over HTTP Digest (RFC 7616: MD5
// or SHA-256, qop=auth), the scheme of Atlas programmatic API keys.
func WithDigest(publicKey, privateKey string) Option {
	return credentials(publicKey, privateKey, "client: WithDigest needs a public and a private key", func(c *Client) {
		c.digest = &digestAuth{username: publicKey, password: privateKey}
	})
}

// WithServiceAccount authenticates with a service account: OAuth 2.0 client
// credentials against BASE/api/oauth/token. The access token is cached and
// renewed shortly before it expires; a request answered 401 is retried once
// with a fresh token.
func WithServiceAccount(clientID, clientSecret string) Option {
	return credentials(clientID, clientSecret, "client: WithServiceAccount needs a client id and a secret", func(c *Client) {
		c.oauth = &tokenSource{clientID: clientID, secret: clientSecret}
	})
}

// credentials is the option that sets one kind of credentials (set), in
// place of any other, once both their parts, id and secret, are given;
// missing says what is missing otherwise.
func credentials(id, secret, missing string, set func(*Client)) Option {
	return func(c *Client) error {
		if id == "" || secret == "" {
			return errors.New(missing)
		}
		c.digest, c.oauth = nil, nil
		set(c)
		return nil
	}
}

// WithHTTPClient sets the HTTP client that carries the requests (its
// Transport, timeouts and proxy settings). The default is a client of its
// own on http.DefaultTransport.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("client: WithHTTPClient(nil)")
		}
		c.hc = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		c.userAgent = ua
		return nil
	}
}

// WithAPIVersion sets the Atlas API version date (YYYY-MM-DD) of the Accept
// header, or [PreviewVersion]. A server answers a later date with the newest
// version not after it; the preview only with an operation's preview.
func WithAPIVersion(version string) Option {
	return func(c *Client) error {
		if _, err := time.Parse(time.DateOnly, version); err != nil && version != PreviewVersion {
			return fmt.Errorf("client: API version %q is not a date YYYY-MM-DD nor %q", version, PreviewVersion)
		}
		c.version = version
		return nil
	}
}

// WithRateLimitRetries sets how many times a request answered 429 is sent
// again, each time after the server's Retry-After (at most two minutes). Zero
// turns retrying off: the 429 is returned as an *APIError at once.
func WithRateLimitRetries(n int) Option {
	return retries(n, "rate-limit", func(c *Client) *int { return &c.retries })
}

// retries is the option that sets the count of retries field points to:
// n, which may not be negative (an error naming what is retried).
func retries(n int, what string, field func(*Client) *int) Option {
	return func(c *Client) error {
		if n < 0 {
			return errors.New("client: negative " + what + " retries")
		}
		*field(c) = n
		return nil
	}
}

// New returns a client of the API at baseURL (scheme and host, e.g.
// "https://cloud.mongodb.com" or "http://127.0.0.1:8080"; paths are appended
// to it).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q is not an http(s) URL", baseURL)
	}
	c := &Client{
		base:      u,
		hc:        &http.Client{},
		userAgent: "costexplorer-go-client",
		version:   DefaultAPIVersion,
		retries:   DefaultRateLimitRetries,
		sleep:     sleepCtx,
		jitter:    rand.Float64,
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// BaseURL returns the base URL the client calls.
func (c *Client) BaseURL() string { return c.base.String() }

// APIVersion returns the API version date the client sends.
func (c *Client) APIVersion() string { return c.version }

// MediaType returns the versioned Atlas media type of format ("json" or
// "csv"), e.g. application/vnd.atlas.2023-01-01+json.
func (c *Client) MediaType(format string) string {
	return "application/vnd.atlas." + c.version + "+" + format
}

// NewRequest returns a request for path (which starts with "/", and may
// carry a query string) under the base URL, with the client's User-Agent and
// an Accept header for JSON at the client's API version. A body is sent as
// the versioned JSON media type. Send it with [Client.Do].
func (c *Client) NewRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("client: invalid path %q: %w", path, err)
	}
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + ref.Path
	u.RawPath = ""
	u.RawQuery = ref.RawQuery
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", c.MediaType("json"))
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if body != nil {
		req.Header.Set("Content-Type", c.MediaType("json"))
	}
	return req, nil
}

// Do sends req with the client's credentials and returns the response
// whatever its status: the caller reads (and closes) the body. A 429 is
// retried after Retry-After as [WithRateLimitRetries] allows; a GET failing
// with a 5xx or a network error as [WithServerErrorRetries] allows; requests
// are spaced as [WithRateLimitPacing] says. A request with a body must be
// replayable (NewRequest's are).
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	limited, failed := 0, 0
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			var err error
			if r, err = rewind(req); err != nil {
				return nil, err
			}
		}
		if d := c.pace.wait(time.Now()); d > 0 {
			if err := c.sleep(ctx, d); err != nil {
				return nil, err
			}
		}
		resp, err := c.send(r)
		if err != nil {
			if req.Method != http.MethodGet || failed >= c.serverRetries || !retryableError(ctx, err) {
				return nil, err
			}
			if err := c.sleep(ctx, c.serverRetryWait(failed, nil)); err != nil {
				return nil, err
			}
			failed++
			continue
		}
		c.pace.observe(resp.Header)
		var wait time.Duration
		switch {
		case resp.StatusCode == http.StatusTooManyRequests && limited < c.retries:
			if wait = retryAfter(resp.Header, time.Now()); wait <= 0 {
				wait = backoff(limited, 0, c.jitter())
			}
			wait = min(wait, maxRetryWait)
			limited++
		case req.Method == http.MethodGet && retryableStatus(resp.StatusCode) && failed < c.serverRetries:
			wait = c.serverRetryWait(failed, resp)
			failed++
		default:
			return resp, nil
		}
		drain(resp)
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// send sends one request through the configured authentication.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	switch {
	case c.digest != nil:
		return c.digest.do(c.hc, req)
	case c.oauth != nil:
		return c.oauth.do(c, req)
	default:
		return c.hc.Do(req)
	}
}

// call sends a request and decodes a successful JSON answer into out (when
// non-nil). Any status outside 2xx is returned as an *APIError.
func (c *Client) call(ctx context.Context, method, path string, body []byte, out any) error {
	return c.callVersion(ctx, method, path, "", body, out)
}

// callVersion is call for an operation that exists from API version since:
// it sends the later of the client's version and since.
func (c *Client) callVersion(ctx context.Context, method, path, since string, body []byte, out any) error {
	req, err := c.NewRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	if v := max(c.version, since); v != c.version {
		req.Header.Set("Accept", "application/vnd.atlas."+v+"+json")
		if body != nil {
			req.Header.Set("Content-Type", "application/vnd.atlas."+v+"+json")
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer drain(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("client: decode %s %s answer: %w", method, req.URL.Path, err)
	}
	return nil
}

// fetch is callVersion for an answer decoded into a new T.
func fetch[T any](ctx context.Context, c *Client, method, path, since string, body []byte) (*T, error) {
	var v T
	if err := c.callVersion(ctx, method, path, since, body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// get sends a GET of path, with the Accept header accept (the client's JSON
// media type when empty), and returns the answer when its status is 2xx,
// for the caller to read and drain; any other status is an *APIError.
func (c *Client) get(ctx context.Context, path, accept string) (*http.Response, error) {
	req, err := c.NewRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer drain(resp)
		return nil, newAPIError(resp)
	}
	return resp, nil
}

// rewind returns a copy of req whose body can be sent again.
func rewind(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return r, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("client: cannot resend a request whose body cannot be replayed")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r.Body = body
	return r, nil
}

// drain reads a little of what is left of a response body and closes it,
// so that the connection can be reused.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
