package clienttest

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/costexplorer/costexplorer/client"
	"github.com/mongodb-forks/digest"
	admin001 "go.mongodb.org/atlas-sdk/v20250312001/admin"
	auth001 "go.mongodb.org/atlas-sdk/v20250312001/auth"
	admin020 "go.mongodb.org/atlas-sdk/v20250312020/admin"
	auth020 "go.mongodb.org/atlas-sdk/v20250312020/auth"
)

// The pinned SDK versions (see go.mod for how they were chosen).
const (
	sdk001 = "v20250312001.1.0"
	sdk020 = "v20250312020.0.0"
)

var sdkVersions = []string{sdk001, sdk020}

// authMethod is how an SDK client authenticates.
type authMethod string

const (
	digestAuth authMethod = "digest" // admin.UseDigestAuth with the demo's API key (ORG_OWNER)
	oauthAuth  authMethod = "oauth"  // admin.UseOAuthAuth with the demo's service account (ORG_BILLING_READ_ONLY)
)

var authMethods = []authMethod{digestAuth, oauthAuth}

// sdkClient is the official SDK at one pinned version with one
// authentication method. Exactly one of a001 and a020 is set; each operation
// (a method in the operation's file) has one case per version. raw is the
// project's own client with the same credentials, the reference every SDK
// answer is compared with.
type sdkClient struct {
	version string
	auth    authMethod
	a001    *admin001.APIClient
	a020    *admin020.APIClient
	raw     *client.Client
}

func (c *sdkClient) String() string { return c.version + "/" + string(c.auth) }

// clientConfig says how to build an sdkClient.
type clientConfig struct {
	base  string
	creds credentials
	// transport, when set, carries the SDK's requests under its
	// authentication instead of http.DefaultTransport, so that a test can
	// send what the SDK's typed calls cannot (a malformed body, an old
	// Accept version) and still see how the SDK reads the answer. Unset,
	// the client is built exactly as the SDK's documentation says.
	transport http.RoundTripper
}

// sdkBuild serializes building SDK clients: the SDK's UseOAuthAuth assigns
// http.DefaultClient.Transport (a package-level variable) when its context
// carries no HTTP client, which would race between parallel tests.
var sdkBuild sync.Mutex

// newSDKClient returns an SDK client of version with auth against cfg.base.
func newSDKClient(t testing.TB, version string, auth authMethod, cfg clientConfig) *sdkClient {
	t.Helper()
	sdkBuild.Lock()
	defer sdkBuild.Unlock()
	c := &sdkClient{version: version, auth: auth}
	var err error
	switch version {
	case sdk001:
		c.a001, err = new001(auth, cfg)
	case sdk020:
		c.a020, err = new020(auth, cfg)
	default:
		t.Fatalf("unknown SDK version %q", version)
	}
	if err != nil {
		t.Fatalf("%s: NewClient: %v", c, err)
	}
	c.raw = newRawClient(t, auth, cfg)
	return c
}

func new001(auth authMethod, cfg clientConfig) (*admin001.APIClient, error) {
	return admin001.NewClient(sdkModifiers[admin001.ClientModifier]{
		admin001.UseBaseURL, admin001.UseDigestAuth, admin001.UseHTTPClient, admin001.UseOAuthAuth, auth001.HTTPClient,
	}.options(auth, cfg)...)
}

func new020(auth authMethod, cfg clientConfig) (*admin020.APIClient, error) {
	return admin020.NewClient(sdkModifiers[admin020.ClientModifier]{
		admin020.UseBaseURL, admin020.UseDigestAuth, admin020.UseHTTPClient, admin020.UseOAuthAuth, auth020.HTTPClient,
	}.options(auth, cfg)...)
}

// sdkModifiers are the client options of one SDK version's admin package
// (each version has its own ClientModifier type) and the HTTP client
// context key of its auth package.
type sdkModifiers[M any] struct {
	baseURL    func(baseURL string) M
	digestAuth func(apiKey, apiSecret string) M
	httpClient func(*http.Client) M
	oauthAuth  func(ctx context.Context, clientID, clientSecret string) M
	oauthKey   any
}

// options returns the client options for auth against cfg.base, as the
// SDK's documentation builds a client.
func (m sdkModifiers[M]) options(auth authMethod, cfg clientConfig) []M {
	opts := []M{m.baseURL(cfg.base)}
	switch {
	case auth == digestAuth && cfg.transport == nil:
		opts = append(opts, m.digestAuth(cfg.creds.PublicKey, cfg.creds.PrivateKey))
	case auth == digestAuth:
		hc, _ := digest.NewTransportWithHTTPRoundTripper(cfg.creds.PublicKey, cfg.creds.PrivateKey, cfg.transport).Client()
		opts = append(opts, m.httpClient(hc))
	default:
		// UseOAuthAuth reads the base URL set before it (to find
		// /api/oauth/token), so it must come after UseBaseURL.
		opts = append(opts, m.oauthAuth(oauthContext(cfg, m.oauthKey), cfg.creds.ClientID, cfg.creds.ClientSecret))
	}
	return opts
}

// oauthContext is the context UseOAuthAuth takes: the SDK (through
// golang.org/x/oauth2) fetches tokens and, wrapped, sends every request with
// the HTTP client under key, or its own default when there is none.
func oauthContext(cfg clientConfig, key any) context.Context {
	if cfg.transport == nil {
		return context.Background()
	}
	return context.WithValue(context.Background(), key, &http.Client{Transport: cfg.transport})
}

// newRawClient returns the project's own client with the same credentials,
// used only for raw requests (NewRequest and Do): it never retries a 429.
func newRawClient(t testing.TB, auth authMethod, cfg clientConfig) *client.Client {
	t.Helper()
	opt := client.WithDigest(cfg.creds.PublicKey, cfg.creds.PrivateKey)
	if auth == oauthAuth {
		opt = client.WithServiceAccount(cfg.creds.ClientID, cfg.creds.ClientSecret)
	}
	// Its own transport, never http.DefaultClient, which the SDK's
	// UseOAuthAuth modifies.
	c, err := client.New(cfg.base, opt, client.WithRateLimitRetries(0), client.WithHTTPClient(&http.Client{Transport: &http.Transport{}}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// forEachClient runs f as a parallel subtest for every SDK version and
// authentication method against the shared demo server.
func forEachClient(t *testing.T, f func(t *testing.T, c *sdkClient)) {
	t.Helper()
	for _, v := range sdkVersions {
		for _, a := range authMethods {
			c := newSDKClient(t, v, a, clientConfig{base: apiBase, creds: demo.creds})
			t.Run(c.String(), func(t *testing.T) {
				t.Parallel()
				f(t, c)
			})
		}
	}
}

// sdkError is what a caller learns from an SDK error through the SDK's own
// helpers: admin.AsError's model, admin.IsErrorCode, and the body the SDK
// kept (GenericOpenAPIError.Body).
type sdkError struct {
	model any // *admin.ApiError of the client's version
	code  string
	body  []byte
	// isCode is admin.IsErrorCode of the client's version on the error.
	isCode func(code string) bool
}

// asError reads err as the client's SDK version tells its users to; ok is
// false when admin.AsError does not recognise it.
func (c *sdkClient) asError(err error) (e sdkError, ok bool) {
	if c.a001 != nil {
		return asErrorWith[*admin001.GenericOpenAPIError](err, admin001.AsError, admin001.IsErrorCode)
	}
	return asErrorWith[*admin020.GenericOpenAPIError](err, admin020.AsError, admin020.IsErrorCode)
}

// asErrorWith is asError with one SDK version's AsError and IsErrorCode; G
// is its *GenericOpenAPIError.
func asErrorWith[G interface{ Body() []byte }, M interface{ GetErrorCode() string }](err error,
	asError func(error) (M, bool), isErrorCode func(error, string) bool) (sdkError, bool) {
	m, ok := asError(err)
	if !ok {
		return sdkError{}, false
	}
	var g G
	errors.As(err, &g)
	return sdkError{model: m, code: m.GetErrorCode(), body: g.Body(),
		isCode: func(code string) bool { return isErrorCode(err, code) }}, true
}
