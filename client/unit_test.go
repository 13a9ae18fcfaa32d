package client

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		jitter     float64
		want       time.Duration
	}{
		{"FirstNoJitter", 0, 0, 0, 125 * time.Millisecond},
		{"FirstFullJitter", 0, 0, 0.999999999, 250 * time.Millisecond},
		{"SecondHalfJitter", 1, 0, 0.5, 300 * time.Millisecond}, // step 400 ms: 200 + 100
		{"GrowsByFactor", 2, 0, 0, 320 * time.Millisecond},      // step 640 ms
		{"CappedAtMax", 30, 0, 0, pollMax / 2},
		{"CappedAtMaxFullJitter", 30, 0, 0.999999999, pollMax},
		{"RetryAfterWins", 0, 3 * time.Second, 0.5, 3 * time.Second},
		{"BackoffWinsOverShortRetryAfter", 30, time.Second, 0, pollMax / 2},
		{"JitterClamped", 0, 0, 7, 250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := backoff(tt.attempt, tt.retryAfter, tt.jitter)
			if d := got - tt.want; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("backoff(%d, %v, %v) = %v, want %v", tt.attempt, tt.retryAfter, tt.jitter, got, tt.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"Seconds", "7", 7 * time.Second},
		{"SecondsWithSpaces", " 2 ", 2 * time.Second},
		{"HTTPDate", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"PastDateIsZero", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"AbsentIsZero", "", 0},
		{"NegativeIsZero", "-3", 0},
		{"GarbageIsZero", "soon", 0},
		{"AbsurdIsZero", "99999999", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			if got := retryAfter(h, now); got != tt.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

// TestDigestHeader checks the response computation against the worked
// examples of RFC 7616 §3.9.1.
func TestDigestHeader(t *testing.T) {
	const (
		nonce  = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
		opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
		cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	)
	tests := []struct {
		alg, response string
	}{
		{"MD5", "8ca523f5e9506fed4657c9700eebdbec"},
		{"SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			ch := &digestChallenge{realm: "http-auth@example.org", nonce: nonce, opaque: opaque, algorithm: tt.alg, qopAuth: true}
			h := digestHeader(ch, "Mufasa", "Circle of Life", "GET", "/dir/index.html", 1, cnonce)
			p := parseParams(strings.TrimPrefix(h, "Digest "))
			want := map[string]string{
				"username": "Mufasa", "realm": "http-auth@example.org", "nonce": nonce, "uri": "/dir/index.html",
				"algorithm": tt.alg, "qop": "auth", "nc": "00000001", "cnonce": cnonce, "response": tt.response, "opaque": opaque,
			}
			for k, v := range want {
				if p[k] != v {
					t.Errorf("%s = %q, want %q (header %s)", k, p[k], v, h)
				}
			}
		})
	}
}

func TestPickChallenge(t *testing.T) {
	const (
		md5c = `Digest realm="MMS Public API", domain="", nonce="n1", algorithm=MD5, qop="auth", stale=false`
		shac = `Digest realm="MMS Public API", domain="", nonce="n1", algorithm=SHA-256, qop="auth", stale=true`
	)
	tests := []struct {
		name      string
		values    []string
		preferMD5 bool
		wantAlg   string
		wantOK    bool
	}{
		{"SHA256PreferredWhenOffered", []string{md5c, shac}, false, "SHA-256", true},
		{"MD5WhenAsked", []string{md5c, shac}, true, "MD5", true},
		{"MD5Only", []string{md5c}, false, "MD5", true},
		{"SkipsOtherSchemes", []string{`Bearer realm="x"`, md5c}, false, "MD5", true},
		{"NoDigest", []string{`Basic realm="x"`}, false, "", false},
		{"AuthIntOnlyUnsupported", []string{`Digest realm="r", nonce="n", qop="auth-int"`}, false, "", false},
		{"UnknownAlgorithm", []string{`Digest realm="r", nonce="n", algorithm=SHA-512-256, qop="auth"`}, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, ok := pickChallenge(tt.values, tt.preferMD5)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if ok && ch.algorithm != tt.wantAlg {
				t.Errorf("algorithm = %q, want %q", ch.algorithm, tt.wantAlg)
			}
		})
	}
	ch, _ := pickChallenge([]string{shac}, false)
	if !ch.stale || ch.realm != "MMS Public API" || ch.nonce != "n1" || !ch.qopAuth {
		t.Errorf("parsed challenge = %+v", ch)
	}
}

func TestParseParamsQuotedEscapes(t *testing.T) {
	p := parseParams(`realm="a \"quoted\", realm", nonce=abc , qop="auth,auth-int"`)
	if p["realm"] != `a "quoted", realm` || p["nonce"] != "abc" || p["qop"] != "auth,auth-int" {
		t.Errorf("parseParams = %q", p)
	}
}

func TestParseAPIError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   APIError
	}{
		{"Atlas", 400, `{"detail":"groupBy projects needs at least one value in the projects filter.","error":400,"errorCode":"VALIDATION_ERROR","parameters":["groupBy"],"reason":"Bad Request","badRequestDetail":{"fields":[{"field":"groupBy","description":"d"}]}}`,
			APIError{StatusCode: 400, ErrorCode: "VALIDATION_ERROR", Reason: "Bad Request", Detail: "groupBy projects needs at least one value in the projects filter.",
				Parameters: []any{"groupBy"}, Fields: []FieldViolation{{Field: "groupBy", Description: "d"}}}},
		{"OAuth", 401, `{"error":"invalid_client","error_description":"Client authentication failed."}`,
			APIError{StatusCode: 401, ErrorCode: "invalid_client", Reason: "Unauthorized", Detail: "Client authentication failed."}},
		{"PlainText", 502, "upstream unavailable\n", APIError{StatusCode: 502, Reason: "Bad Gateway", Detail: "upstream unavailable"}},
		{"HTMLIgnored", 502, "<html><body>Bad gateway</body></html>", APIError{StatusCode: 502, Reason: "Bad Gateway"}},
		{"Empty", 503, "", APIError{StatusCode: 503, Reason: "Service Unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseAPIError(tt.status, []byte(tt.body))
			got.Body = nil
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(tt.want)
			if string(gj) != string(wj) {
				t.Errorf("got  %s\nwant %s", gj, wj)
			}
		})
	}
	e := parseAPIError(404, []byte(`{"error":404,"errorCode":"RESOURCE_NOT_FOUND","detail":"Cannot find it.","reason":"Not Found","parameters":[]}`))
	if got := e.Error(); got != "404 RESOURCE_NOT_FOUND: Cannot find it." {
		t.Errorf("Error() = %q", got)
	}
}

func TestQueryRequestJSON(t *testing.T) {
	checkMarshal(t, []marshalCase{
		{"Minimal", QueryRequest{Start: MakeMonth(2025, time.January), End: MakeMonth(2025, time.July)},
			`{"startDate":"2025-01-01","endDate":"2025-07-01"}`},
		{"Full", QueryRequest{Start: MakeMonth(2024, time.December), End: MakeMonth(2025, time.January),
			Organizations: []string{"aaaaaaaaaaaaaaaaaaaaaaaa"}, Projects: []string{"bbbbbbbbbbbbbbbbbbbbbbbb"},
			Clusters: []string{"cccccccccccccccccccccccc"}, Services: []Service{"Clusters", "Data Transfer"},
			GroupBy: GroupByServices, IncludePartialMatches: true},
			`{"startDate":"2024-12-01","endDate":"2025-01-01","organizations":["aaaaaaaaaaaaaaaaaaaaaaaa"],"projects":["bbbbbbbbbbbbbbbbbbbbbbbb"],"clusters":["cccccccccccccccccccccccc"],"services":["Clusters","Data Transfer"],"groupBy":"services","includePartialMatches":true}`},
	})
}

// marshalCase is a case of a table of request bodies: a value and the JSON
// it must encode to, byte for byte.
type marshalCase struct {
	name string
	v    any
	want string
}

// checkMarshal checks that each case's value encodes to its JSON.
func checkMarshal(t *testing.T, cases []marshalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
}

func TestUnwrapEnvelope(t *testing.T) {
	tests := []struct {
		name           string
		body           string
		wantDoc        string
		wantProcessing bool
		wantErrCode    string
	}{
		{"Processing", `{"status":102,"content":{}}`, "", true, ""},
		{"EmptyBodyIsProcessing", "\n", "", true, ""},
		{"Ready", `{"status":200,"content":{"usageDetails":[]}}`, `{"usageDetails":[]}`, false, ""},
		{"NoEnvelope", `{"usageDetails":[]}`, `{"usageDetails":[]}`, false, ""},
		{"ErrorInEnvelope", `{"status":404,"content":{"error":404,"errorCode":"RESOURCE_NOT_FOUND","detail":"x"}}`, "", false, "RESOURCE_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, processing, err := unwrapEnvelope([]byte(tt.body))
			var ae *APIError
			if tt.wantErrCode != "" {
				if !errors.As(err, &ae) || ae.ErrorCode != tt.wantErrCode {
					t.Fatalf("err = %v, want %s", err, tt.wantErrCode)
				}
				return
			}
			if err != nil || processing != tt.wantProcessing || string(doc) != tt.wantDoc {
				t.Errorf("= %q, %v, %v; want %q, %v", doc, processing, err, tt.wantDoc, tt.wantProcessing)
			}
		})
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	for _, tt := range []struct {
		name string
		base string
		opts []Option
	}{
		{"NotAURL", "127.0.0.1:8080", nil},
		{"FTP", "ftp://example.com", nil},
		{"EmptyDigestKey", "http://127.0.0.1", []Option{WithDigest("abc", "")}},
		{"EmptySecret", "http://127.0.0.1", []Option{WithServiceAccount("id", "")}},
		{"BadVersion", "http://127.0.0.1", []Option{WithAPIVersion("2023-1-1")}},
		{"NegativeRetries", "http://127.0.0.1", []Option{WithRateLimitRetries(-1)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.base, tt.opts...); err == nil {
				t.Error("New succeeded")
			}
		})
	}
}

func TestNewRequestJoinsPath(t *testing.T) {
	c, err := New("https://cloud.example.com/prefix/", WithAPIVersion("2025-03-12"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := c.NewRequest(t.Context(), "GET", UsagePath("aaaaaaaaaaaaaaaaaaaaaaaa", "tok")+"?envelope=true", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.URL.String(), "https://cloud.example.com/prefix/api/atlas/v2/orgs/aaaaaaaaaaaaaaaaaaaaaaaa/billing/costExplorer/usage/tok?envelope=true"; got != want {
		t.Errorf("URL = %s, want %s", got, want)
	}
	if got := req.Header.Get("Accept"); got != "application/vnd.atlas.2025-03-12+json" {
		t.Errorf("Accept = %s", got)
	}
}
