package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

func TestExplorer(t *testing.T) {
	e := newEnv(t, options{})
	b := e.signedIn(costexplorer.RoleOrgBillingReadOnly)

	t.Run("OK_DefaultView", func(t *testing.T) {
		res, body := b.explore("/")
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `data-state="ready"`) {
			t.Fatalf("GET /: %d\n%s", res.StatusCode, body)
		}
		for _, want := range []string{
			`<option value="2025-01" selected>Jan 2025</option>`, // from: the last six months
			`<option value="2025-06" selected>Jun 2025</option>`, // to: this month
			`<option value="services" selected>Services</option>`,
			"No services were selected to group by, so all 23 services are used.",
			`<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg"`,
			`<h2 id="usage-by-month">Usage By Month</h2>`,
			`<noscript>`, // nothing to refresh: must not appear
		} {
			if want == `<noscript>` {
				if strings.Contains(body, want) {
					t.Error("a ready page refreshes itself")
				}
				continue
			}
			if !strings.Contains(body, want) {
				t.Errorf("default view lacks %q", want)
			}
		}
	})
	t.Run("OK_SecurityHeaders", func(t *testing.T) {
		res, body := b.explore("/")
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("Content-Security-Policy %q allows unsafe sources", csp)
		}
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		// Nothing inline that the policy would block.
		for _, bad := range []*regexp.Regexp{regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`), regexp.MustCompile(`\sstyle=`), regexp.MustCompile(`\son[a-z]+=`), regexp.MustCompile(`<style`)} {
			if m := bad.FindString(body); m != "" {
				t.Errorf("page has inline code the policy blocks: %q", m)
			}
		}
	})
	t.Run("OK_FillNarrowedBySelectedOrganization", func(t *testing.T) {
		linked := e.Layout.Linked[0]
		res, body := b.explore("/explorer?groupBy=projects&org=" + linked.ID)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d\n%s", res.StatusCode, body)
		}
		if !strings.Contains(body, "projects of the selected organizations are used") {
			t.Error("the page does not say which projects it grouped by")
		}
		rows := regexp.MustCompile(`<tr data-key="([^"]+)"`).FindAllStringSubmatch(body, -1)
		if len(rows) < 2 {
			t.Fatalf("table has %d rows, want the linked organization's projects and the total", len(rows))
		}
		for _, r := range rows {
			if r[1] != "total" && !strings.HasPrefix(r[1], linked.ID+"/") {
				t.Errorf("row %s is not of the selected organization %s", r[1], linked.ID)
			}
		}
	})
	t.Run("OK_NoGroupingNoFill", func(t *testing.T) {
		_, body := b.explore("/explorer?groupBy=none")
		if strings.Contains(body, "were selected to group by") || !strings.Contains(body, `data-state="ready"`) {
			t.Errorf("groupBy=none filled a dimension or did not answer:\n%s", body)
		}
	})
	for _, tc := range []struct {
		name, query, want string
	}{
		{"ErrStartAfterEnd", "from=2025-05&to=2025-02", "must be after startDate"},
		{"ErrOutsideWindow", "from=2023-01", "outside the billing data window"},
		{"ErrAfterWindow", "to=2025-08", "outside the billing data window"},
		{"ErrNotAMonth", "from=May", "is not a month"},
		{"ErrUnknownGroupBy", "groupBy=regions", "Invalid enumeration value"},
		{"ErrBadProjectID", "project=xyz", "an id is 24 lower-case hexadecimal characters"},
		{"ErrUnknownService", "service=Coffee", "Invalid enumeration value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := b.get("/explorer?" + tc.query)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) {
				t.Fatalf("GET /explorer?%s: %d, want 400 saying %q\n%s", tc.query, res.StatusCode, tc.want, body)
			}
			if strings.Contains(body, `id="result"`) {
				t.Error("a refused query shows a result")
			}
			if !strings.Contains(body, `name="from"`) {
				t.Error("a refused query does not show the form to fix it")
			}
		})
	}
}

// TestProcessingWithoutJavaScript checks the processing state as a browser
// without JavaScript sees it: a page that refreshes itself, a status answer
// for the script, and no download before the result is ready.
func TestProcessingWithoutJavaScript(t *testing.T) {
	e := newEnv(t, options{minProcessing: time.Hour})
	b := e.signedIn(costexplorer.RoleOrgOwner)

	res, body := b.get("/explorer?groupBy=organizations")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `data-state="processing"`) {
		t.Fatalf("processing page: %d\n%s", res.StatusCode, body)
	}
	if !strings.Contains(body, `<noscript><meta http-equiv="refresh" content="5"></noscript>`) {
		t.Errorf("the processing page does not refresh itself without JavaScript:\n%s", body)
	}
	token := regexp.MustCompile(`data-token="([0-9a-f]{64})"`).FindStringSubmatch(body)
	if token == nil {
		t.Fatal("no token on the processing page")
	}
	status := func() map[string]any {
		res, body := b.get("/status/" + token[1])
		var a map[string]any
		if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &a) != nil {
			t.Fatalf("status: %d %s", res.StatusCode, body)
		}
		return a
	}
	if a := status(); a["state"] != "processing" || a["retryAfter"] != float64(5) {
		t.Errorf("status while processing = %v", a)
	}
	if res, _ := b.get("/download/" + token[1] + "/csv"); res.StatusCode != http.StatusConflict || res.Header.Get("Retry-After") == "" {
		t.Errorf("download while processing: %d, want 409 with Retry-After", res.StatusCode)
	}
	e.Clock.Advance(time.Hour)
	// The minimum processing time has passed; the worker may still be
	// evaluating, so wait (bounded) for the process to finish.
	var a map[string]any
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if a = status(); a["state"] != "processing" {
			break
		}
	}
	if a["state"] != "ready" {
		t.Errorf("status once ready = %v", a)
	}
	res, body = b.explore("/explorer?groupBy=organizations")
	if !strings.Contains(body, `data-state="ready"`) || strings.Contains(body, "<noscript>") {
		t.Errorf("ready page: %d\n%s", res.StatusCode, body)
	}
}

func TestStaticAndErrors(t *testing.T) {
	e := newEnv(t, options{})
	b := e.newBrowser()
	_, page := b.get("/signin")
	css := regexp.MustCompile(`href="(/static/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
	if css == nil {
		t.Fatalf("no versioned stylesheet link on the sign-in page:\n%s", page)
	}
	t.Run("OK_VersionedAssetImmutable", func(t *testing.T) {
		res, body := b.get(css[1])
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") ||
			!strings.Contains(res.Header.Get("Cache-Control"), "immutable") || !strings.Contains(body, ":root") {
			t.Fatalf("GET %s: %d %v", css[1], res.StatusCode, res.Header)
		}
		req, _ := http.NewRequest("GET", e.URL+css[1], nil)
		req.Header.Set("If-None-Match", res.Header.Get("ETag"))
		if res, _ := e.send(http.DefaultClient, req); res.StatusCode != http.StatusNotModified {
			t.Errorf("conditional GET: %d, want 304", res.StatusCode)
		}
	})
	t.Run("OK_ScriptType", func(t *testing.T) {
		res, _ := b.get("/static/app.js")
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") || res.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("app.js: %v", res.Header)
		}
	})
	for _, path := range []string{"/static/nope.js", "/nope", "/download"} {
		t.Run("ErrNotFound"+strings.ReplaceAll(path, "/", "_"), func(t *testing.T) {
			res, body := b.get(path)
			if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("GET %s: %d %s", path, res.StatusCode, body)
			}
		})
	}
	t.Run("OK_APIStillAtlas", func(t *testing.T) {
		// The web UI serves only what lies outside /api/.
		res, body := b.get("/api/atlas/v2/nothing")
		if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "RESOURCE_NOT_FOUND") {
			t.Errorf("GET /api/…: %d %s", res.StatusCode, body)
		}
	})
}

// TestSecureCookies checks that cookies are Secure when the request came
// over TLS.
func TestSecureCookies(t *testing.T) {
	e := newEnv(t, options{})
	h := e.handler()
	pk, private := e.apiKey(e.Org, costexplorer.RoleOrgOwner)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://costexplorer.example/signin", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].Secure {
		t.Fatalf("sign-in cookie over TLS: %v", rec.Header()["Set-Cookie"])
	}
	nonce := cookies[0]
	token := formToken(t, rec.Body.String())

	form := url.Values{"csrf": {token}, "id": {pk}, "secret": {private}}
	req := httptest.NewRequest("POST", "https://costexplorer.example/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(nonce)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign in over TLS: %d %s", rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie %s over TLS: Secure=%v HttpOnly=%v SameSite=%v", c.Name, c.Secure, c.HttpOnly, c.SameSite)
		}
	}
}
