package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
)

func TestSignIn(t *testing.T) {
	e := newEnv(t, options{})
	pk, private := e.apiKey(e.Org, costexplorer.RoleOrgBillingAdmin)
	clientID, secret := e.serviceAccount(e.Org, costexplorer.RoleOrgBillingReadOnly)

	t.Run("OK_APIKey", func(t *testing.T) {
		b := e.newBrowser()
		res, body := b.signIn(pk, private)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Fatalf("sign in: %d Location %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
		}
		var c *http.Cookie
		for _, sc := range res.Cookies() {
			if sc.Name == "costexplorer_session" {
				c = sc
			}
		}
		if c == nil {
			t.Fatalf("no session cookie in %v", res.Header["Set-Cookie"])
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure {
			t.Errorf("session cookie attributes: HttpOnly=%v SameSite=%v Path=%q Secure=%v; want HttpOnly, Strict, /, not Secure over plain HTTP",
				c.HttpOnly, c.SameSite, c.Path, c.Secure)
		}
		res, body = b.get("/")
		if res.StatusCode != http.StatusOK || !strings.Contains(body, e.Layout.PayingOrg.Name) {
			t.Fatalf("explorer after sign-in: %d\n%s", res.StatusCode, body)
		}
	})
	t.Run("OK_ServiceAccount", func(t *testing.T) {
		b := e.newBrowser()
		b.mustSignIn(clientID, secret)
		res, body := b.get("/")
		if res.StatusCode != http.StatusOK || !strings.Contains(body, clientID) {
			t.Fatalf("explorer after sign-in: %d\n%s", res.StatusCode, body)
		}
	})
	t.Run("OK_ReturnsToBookmarkedView", func(t *testing.T) {
		b := e.newBrowser()
		res, _ := b.get("/explorer?groupBy=projects&from=2025-03")
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin?") {
			t.Fatalf("signed-out explorer: %d Location %q", res.StatusCode, loc)
		}
		u, _ := url.Parse(loc)
		next := u.Query().Get("next")
		res, _ = b.signIn(pk, private, "next", next)
		if got := res.Header.Get("Location"); got != "/explorer?groupBy=projects&from=2025-03" {
			t.Errorf("after sign-in: Location %q, want the bookmarked view", got)
		}
	})
	t.Run("OK_OffsiteNextIgnored", func(t *testing.T) {
		for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "/download/x/csv"} {
			b := e.newBrowser()
			res, _ := b.signIn(pk, private, "next", next)
			if got := res.Header.Get("Location"); got != "/" {
				t.Errorf("next=%q: Location %q, want /", next, got)
			}
		}
	})
	t.Run("ErrWrongSecret", func(t *testing.T) {
		b := e.newBrowser()
		res, body := b.signIn(pk, "00000000-0000-0000-0000-000000000000")
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not accepted") {
			t.Fatalf("wrong private key: %d\n%s", res.StatusCode, body)
		}
		if b.sessionCookie() != "" {
			t.Error("a failed sign-in set a session cookie")
		}
		if strings.Contains(body, "00000000-0000-0000-0000-000000000000") {
			t.Error("the page echoes the secret")
		}
	})
	t.Run("ErrMissingCSRF", func(t *testing.T) {
		b := e.newBrowser()
		b.get("/signin") // the sign-in cookie, but no token in the form
		res, body := b.post("/signin", url.Values{"id": {pk}, "secret": {private}})
		if res.StatusCode != http.StatusForbidden || b.sessionCookie() != "" {
			t.Fatalf("sign-in without token: %d session=%q\n%s", res.StatusCode, b.sessionCookie(), body)
		}
	})
	t.Run("ErrForgedCSRF", func(t *testing.T) {
		// A token from another visitor's form (bound to their sign-in
		// cookie) does not pass with this visitor's cookie.
		other := e.newBrowser()
		_, page := other.get("/signin")
		b := e.newBrowser()
		b.get("/signin")
		res, _ := b.post("/signin", url.Values{"csrf": {formToken(t, page)}, "id": {pk}, "secret": {private}})
		if res.StatusCode != http.StatusForbidden || b.sessionCookie() != "" {
			t.Fatalf("sign-in with another form's token: %d", res.StatusCode)
		}
	})
	t.Run("ErrCrossOrigin", func(t *testing.T) {
		b := e.newBrowser()
		_, page := b.get("/signin")
		form := url.Values{"csrf": {formToken(t, page)}, "id": {pk}, "secret": {private}}
		res, _ := b.post("/signin", form, "Sec-Fetch-Site", "cross-site")
		if res.StatusCode != http.StatusForbidden || b.sessionCookie() != "" {
			t.Fatalf("cross-site sign-in: %d", res.StatusCode)
		}
		res, _ = b.post("/signin", form, "Origin", "http://evil.example")
		if res.StatusCode != http.StatusForbidden || b.sessionCookie() != "" {
			t.Fatalf("sign-in from another origin: %d", res.StatusCode)
		}
	})
}

func TestSignOut(t *testing.T) {
	e := newEnv(t, options{})
	pk, private := e.apiKey(e.Org, costexplorer.RoleOrgOwner)

	t.Run("OK_OldCookieRefused", func(t *testing.T) {
		b := e.newBrowser()
		b.mustSignIn(pk, private)
		old := b.sessionCookie()
		_, page := b.get("/")
		res, _ := b.post("/signout", url.Values{"csrf": {formToken(t, page)}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin?m=signedout" {
			t.Fatalf("sign out: %d Location %q", res.StatusCode, res.Header.Get("Location"))
		}
		if b.sessionCookie() != "" {
			t.Error("the session cookie was not cleared")
		}
		// Someone who kept the cookie cannot use it any more.
		thief := e.newBrowser()
		u, _ := url.Parse(e.URL)
		thief.jar.SetCookies(u, []*http.Cookie{{Name: "costexplorer_session", Value: old}})
		for _, path := range []string{"/", "/explorer?groupBy=projects"} {
			res, _ = thief.get(path)
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin") {
				t.Errorf("GET %s with the signed-out cookie: %d Location %q, want a redirect to sign-in", path, res.StatusCode, res.Header.Get("Location"))
			}
		}
	})
	t.Run("OK_RevokedOnEveryReplica", func(t *testing.T) {
		// A second server on the same database: the session works there
		// too (no per-replica state), and signing out on the first one
		// ends it on the second.
		replica := e.handler()
		b := e.newBrowser()
		b.mustSignIn(pk, private)
		cookie := &http.Cookie{Name: "costexplorer_session", Value: b.sessionCookie()}
		onReplica := func() int {
			req, _ := http.NewRequest("GET", "/explorer", nil)
			req.AddCookie(cookie)
			rec := httptest.NewRecorder()
			replica.ServeHTTP(rec, req)
			return rec.Code
		}
		if code := onReplica(); code != http.StatusOK {
			t.Fatalf("session on the second replica: %d, want 200", code)
		}
		_, page := b.get("/")
		b.post("/signout", url.Values{"csrf": {formToken(t, page)}})
		if code := onReplica(); code != http.StatusSeeOther {
			t.Fatalf("signed-out session on the second replica: %d, want 303 to sign-in", code)
		}
	})
	for _, tc := range []struct {
		name    string
		csrf    func(page string) string
		headers []string
	}{
		{"ErrMissingCSRF", func(string) string { return "" }, nil},
		{"ErrForgedCSRF", func(string) string { return "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }, nil},
		{"ErrOtherSessionsCSRF", func(string) string {
			other := e.newBrowser()
			other.mustSignIn(pk, private)
			_, page := other.get("/")
			return formToken(t, page)
		}, nil},
		{"ErrCrossOrigin", func(page string) string { return formToken(t, page) }, []string{"Origin", "http://evil.example"}},
		{"ErrCrossSite", func(page string) string { return formToken(t, page) }, []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.newBrowser()
			b.mustSignIn(pk, private)
			_, page := b.get("/")
			res, _ := b.post("/signout", url.Values{"csrf": {tc.csrf(page)}}, tc.headers...)
			if res.StatusCode != http.StatusForbidden {
				t.Fatalf("sign out: %d, want 403", res.StatusCode)
			}
			if res, _ := b.get("/"); res.StatusCode != http.StatusOK {
				t.Fatalf("the session ended after a refused sign-out: %d", res.StatusCode)
			}
		})
	}
}

func TestSessionEnds(t *testing.T) {
	e := newEnv(t, options{})
	signedIn := func(t *testing.T) (*browser, string) {
		pk, private := e.apiKey(e.Org, costexplorer.RoleOrgBillingReadOnly)
		b := e.newBrowser()
		b.mustSignIn(pk, private)
		return b, pk
	}
	ended := func(t *testing.T, b *browser) {
		t.Helper()
		res, _ := b.get("/")
		if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "m=ended") {
			t.Fatalf("GET /: %d Location %q, want a redirect to sign-in saying the session ended", res.StatusCode, res.Header.Get("Location"))
		}
	}
	t.Run("ErrCredentialDisabled", func(t *testing.T) {
		b, pk := signedIn(t)
		if err := e.DB.SetAPIKeyEnabled(context.Background(), pk, false); err != nil {
			t.Fatal(err)
		}
		ended(t, b)
	})
	t.Run("ErrTamperedCookie", func(t *testing.T) {
		b, _ := signedIn(t)
		v := b.sessionCookie()
		payload, sig, _ := strings.Cut(v, ".")
		// Flip one character of the payload; keep the signature.
		c := byte('A')
		if payload[5] == 'A' {
			c = 'B'
		}
		forged := payload[:5] + string(c) + payload[6:] + "." + sig
		u, _ := url.Parse(e.URL)
		b.jar.SetCookies(u, []*http.Cookie{{Name: "costexplorer_session", Value: forged}})
		ended(t, b)
	})
	t.Run("ErrServiceAccountDisabled", func(t *testing.T) {
		id, secret := e.serviceAccount(e.Org, costexplorer.RoleOrgBillingAdmin)
		b := e.newBrowser()
		b.mustSignIn(id, secret)
		if err := e.DB.SetServiceAccountEnabled(context.Background(), id, false); err != nil {
			t.Fatal(err)
		}
		ended(t, b)
	})
	t.Run("ErrExpired", func(t *testing.T) {
		b, _ := signedIn(t)
		e.Clock.Advance(13 * 3600e9)
		t.Cleanup(func() { e.Clock.Advance(-13 * 3600e9) })
		ended(t, b)
	})
}

func TestOrganizationIsolation(t *testing.T) {
	e := newEnv(t, options{})
	b := e.signedIn(costexplorer.RoleOrgOwner)

	// A ready result of the other organization, made through the API.
	other := e.Layout.Others[0]
	bearerB := e.bearer(other.ID)
	tokenB := e.apiCreate(bearerB, other.ID, map[string]any{
		"startDate": "2025-01-01", "endDate": "2025-07-01",
		"groupBy": "organizations", "organizations": []string{other.ID},
	})
	e.apiResult(bearerB, other.ID, tokenB, "json")

	for _, tc := range []struct{ name, path string }{
		{"ErrNotFound_DownloadCSV", "/download/" + tokenB + "/csv"},
		{"ErrNotFound_DownloadJSON", "/download/" + tokenB + "/json"},
		{"ErrNotFound_Status", "/status/" + tokenB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := b.get(tc.path)
			if res.StatusCode != http.StatusNotFound {
				t.Fatalf("GET %s with another organization's session: %d, want 404\n%s", tc.path, res.StatusCode, body)
			}
			if strings.Contains(body, other.Name) {
				t.Errorf("the 404 page names the other organization")
			}
		})
	}
	t.Run("OK_OwnTokenFound", func(t *testing.T) {
		// The same request shape with a token of the session's own
		// organization answers, so the 404s above are about the owner.
		bearerA := e.bearer(e.Org)
		tokenA := e.apiCreate(bearerA, e.Org, map[string]any{
			"startDate": "2025-01-01", "endDate": "2025-07-01",
			"groupBy": "organizations", "organizations": []string{e.Org},
		})
		e.apiResult(bearerA, e.Org, tokenA, "json")
		if res, body := b.get("/download/" + tokenA + "/csv"); res.StatusCode != http.StatusOK {
			t.Fatalf("own download: %d\n%s", res.StatusCode, body)
		}
	})
	t.Run("OK_FilterOnOtherOrgMatchesNothing", func(t *testing.T) {
		res, body := b.explore("/explorer?groupBy=organizations&org=" + other.ID)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `data-state="ready"`) {
			t.Fatalf("explorer: %d\n%s", res.StatusCode, body)
		}
		if strings.Contains(body, other.Name) {
			t.Error("the page shows the other organization's name")
		}
		if !strings.Contains(body, "No usage matches") || !strings.Contains(body, "not among your organizations") {
			t.Error("the page does not say that the filter matches nothing outside the scope")
		}
	})
	t.Run("OK_ListsOnlyScope", func(t *testing.T) {
		_, body := b.explore("/")
		for _, o := range e.Layout.Linked {
			if !strings.Contains(body, o.ID) {
				t.Errorf("linked organization %s (%s) is not in the organization list", o.Name, o.ID)
			}
		}
		for _, o := range e.Layout.Others {
			if strings.Contains(body, o.ID) {
				t.Errorf("unrelated organization %s (%s) is on the page", o.Name, o.ID)
			}
		}
	})
}

func TestNotAllowed(t *testing.T) {
	e := newEnv(t, options{})
	b := e.signedIn(costexplorer.RoleOrgMember)
	res, body := b.get("/")
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "Not allowed") {
		t.Fatalf("explorer with ORG_MEMBER: %d\n%s", res.StatusCode, body)
	}
	if strings.Contains(body, "<svg xmlns") || strings.Contains(body, `name="project"`) {
		t.Error("the not-allowed page shows billing data or filters")
	}
	if !strings.Contains(body, `action="/signout"`) {
		t.Error("the not-allowed page has no way to sign out")
	}
	res, _ = b.get("/download/" + strings.Repeat("a", 64) + "/csv")
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("download with ORG_MEMBER: %d, want 403", res.StatusCode)
	}
}
