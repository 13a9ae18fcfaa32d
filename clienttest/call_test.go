package clienttest

import (
	"context"
	"net/http"
	"testing"
)

// call is one SDK operation's outcome: the decoded value (nil when the SDK
// returned none), the response and the error the SDK returned, and the JSON
// body it sent (nil for none), so that the same request can be replayed raw.
type call struct {
	value any
	resp  *http.Response
	err   error
	sent  []byte
	// header holds headers the request was sent with beyond the client's
	// own (a test's rewriting transport sets them), replayed too.
	header http.Header
}

// result turns an SDK Execute's three results into a call, with a nil
// pointer as a nil value.
func result[T any](v *T, resp *http.Response, err error) call {
	c := call{resp: resp, err: err}
	if v != nil {
		c.value = v
	}
	return c
}

// replay sends the request the SDK sent (method, path and query from the
// SDK's own request, the same JSON body) as a raw request.
func (c *sdkClient) replay(t testing.TB, ctx context.Context, r call) rawAnswer {
	t.Helper()
	if r.resp == nil || r.resp.Request == nil {
		t.Fatalf("%s: the SDK returned no response to replay (error: %v)", c, r.err)
	}
	return c.rawCall(t, ctx, r.resp.Request.Method, r.resp.Request.URL.RequestURI(), r.sent, r.header)
}

// checkOK fails the test unless the SDK call succeeded with status want and
// decoded exactly what a raw request for the same call gets.
func (c *sdkClient) checkOK(t testing.TB, ctx context.Context, what string, r call, want int) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %s: %v", c, what, r.err)
	}
	if r.resp.StatusCode != want {
		t.Fatalf("%s: %s: status %d, want %d", c, what, r.resp.StatusCode, want)
	}
	if r.value == nil {
		t.Fatalf("%s: %s: the SDK decoded nothing", c, what)
	}
	raw := c.replay(t, ctx, r)
	if raw.status != want {
		t.Fatalf("%s: %s: raw status %d, want %d: %s", c, what, raw.status, want, clip(raw.body))
	}
	sameJSON(t, c.String()+": "+what, r.value, raw.body)
}

// errorCase is a call that must fail with status and errorCode code.
type errorCase struct {
	name   string
	r      call
	status int
	code   string
}

// checkErrors checks each case with checkError, in a subtest of its name.
func (c *sdkClient) checkErrors(t *testing.T, ctx context.Context, cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { c.checkError(t, ctx, tc.name, tc.r, tc.status, tc.code) })
	}
}

// checkError fails the test unless the SDK call failed with an error that
// admin.AsError recognises, whose code admin.IsErrorCode matches, with the
// HTTP status wantStatus, and whose decoded model is exactly the body a raw
// request for the same call gets.
func (c *sdkClient) checkError(t testing.TB, ctx context.Context, what string, r call, wantStatus int, wantCode string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("%s: %s: no error, want %d %s (value %s)", c, what, wantStatus, wantCode, show(r.value))
	}
	e, ok := c.asError(r.err)
	if !ok {
		t.Fatalf("%s: %s: admin.AsError does not recognise %T: %v", c, what, r.err, r.err)
	}
	if !e.isCode(wantCode) {
		t.Errorf("%s: %s: admin.IsErrorCode(err, %q) is false; errorCode %q", c, what, wantCode, e.code)
	}
	if r.resp == nil || r.resp.StatusCode != wantStatus {
		t.Fatalf("%s: %s: response %v, want status %d", c, what, r.resp, wantStatus)
	}
	raw := c.replay(t, ctx, r)
	if raw.status != wantStatus {
		t.Fatalf("%s: %s: raw status %d, want %d: %s", c, what, raw.status, wantStatus, clip(raw.body))
	}
	// The model against the bytes the SDK itself received: nothing lost.
	sameJSON(t, c.String()+": "+what+" (admin.AsError)", e.model, e.body)
	// Those bytes against the raw request's: the same answer. A 429's
	// detail counts down the seconds to the next token, so it may differ.
	got := jsonValue(e.body)
	if m, ok := got.(map[string]any); ok && wantCode == "RATE_LIMITED" {
		if w, ok := jsonValue(raw.body).(map[string]any); ok {
			m["detail"] = w["detail"]
		}
	}
	sameJSON(t, c.String()+": "+what+" (GenericOpenAPIError.Body)", got, raw.body)
}

// jsonValue is raw JSON that marshals as itself (or as a JSON string when it
// is not JSON, which then differs from any object).
func jsonValue(b []byte) any {
	v, err := decodeJSON(b)
	if err != nil {
		return string(b)
	}
	return v
}
