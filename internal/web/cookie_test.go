package web

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

var testNow = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

func testSession(t testing.TB) *session {
	t.Helper()
	sess, err := newSession(&costexplorer.Principal{
		Kind: costexplorer.PrincipalAPIKey, ID: "0123456789abcdef01234567", PublicKey: "abcdefgh",
		OrgID: "5f1e4a0b9c8d7e6f5a4b3c2d", Roles: []costexplorer.Role{costexplorer.RoleOrgOwner},
	}, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

func TestSessionCookie(t *testing.T) {
	k := newKeys(bytes.Repeat([]byte{1}, 32))
	sess := testSession(t)
	value, err := k.encodeSession(sess)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK_RoundTrip", func(t *testing.T) {
		got, err := k.decodeSession(value, testNow)
		if err != nil || got.ID != sess.ID || got.OrgID != sess.OrgID || got.PublicKey != "abcdefgh" || len(got.Roles) != 1 {
			t.Fatalf("decode = %+v, %v; want %+v", got, err, sess)
		}
	})
	t.Run("OK_SessionIDsDiffer", func(t *testing.T) {
		if other := testSession(t); other.ID == sess.ID || len(sess.ID) != 32 {
			t.Errorf("session ids %q and %q: want 128 random bits each", sess.ID, other.ID)
		}
	})
	for _, tc := range []struct {
		name  string
		value string
		now   time.Time
		keys  keys
	}{
		{"ErrExpired", value, testNow.Add(time.Hour), k},
		{"ErrOtherKey", value, testNow, newKeys(bytes.Repeat([]byte{2}, 32))},
		{"ErrNoSignature", strings.Split(value, ".")[0], testNow, k},
		{"ErrEmpty", "", testNow, k},
		{"ErrSignatureOfOtherPurpose", strings.Split(value, ".")[0] + "." + k.csrfToken(strings.Split(value, ".")[0]), testNow, k},
		{"ErrUnsignedChange", forge(t, value, func(s *session) { s.OrgID = "6a2b3c4d5e6f7a8b9c0d1e2f" }), testNow, k},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := tc.keys.decodeSession(tc.value, tc.now); err == nil {
				t.Fatalf("decoded %+v, want a refusal", got)
			}
		})
	}
	t.Run("OK_CSRFBoundToSession", func(t *testing.T) {
		token := k.csrfToken(sess.ID)
		if !k.checkCSRF(sess.ID, token) {
			t.Error("the session's own token is refused")
		}
		if k.checkCSRF(testSession(t).ID, token) || k.checkCSRF(sess.ID, "") || k.checkCSRF(sess.ID, token+"A") {
			t.Error("a token of another session, an empty or a changed token is accepted")
		}
		if k.checkSignInToken(sess.ID, token) {
			t.Error("a session CSRF token passes as a sign-in token")
		}
	})
}

// forge re-encodes the payload of value after change, keeping the old
// signature.
func forge(t *testing.T, value string, change func(*session)) string {
	t.Helper()
	p, sig, _ := strings.Cut(value, ".")
	raw, _ := b64.DecodeString(p)
	var s session
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	change(&s)
	raw, _ = json.Marshal(&s)
	return b64.EncodeToString(raw) + "." + sig
}

// FuzzDecodeSession feeds arbitrary cookie values to the decoder: it must
// never panic, and nothing but a value it signed may pass.
func FuzzDecodeSession(f *testing.F) {
	k := newKeys(bytes.Repeat([]byte{1}, 32))
	value, _ := k.encodeSession(testSession(f))
	f.Add(value)
	f.Add("")
	f.Add(".")
	f.Add("e30.")
	f.Fuzz(func(t *testing.T, v string) {
		sess, err := k.decodeSession(v, testNow)
		if err != nil {
			return
		}
		// Only what encodeSession wrote carries a valid signature, so a
		// decoded session re-encodes to exactly the same value.
		if again, _ := k.encodeSession(sess); again != v {
			t.Fatalf("decoded a value that was never signed: %q → %+v", v, sess)
		}
	})
}

// FuzzExplorerQuery feeds arbitrary URL queries through the explorer's
// query building and the API's validation: never a panic, and every accepted
// query stays within the session's organization.
func FuzzExplorerQuery(f *testing.F) {
	org := &costexplorer.Organization{ID: "5f1e4a0b9c8d7e6f5a4b3c2d", Name: "Acme"}
	sc := &scope{
		orgs:     []*costexplorer.Organization{org},
		projects: []*costexplorer.Project{{ID: "aaaaaaaaaaaaaaaaaaaaaaaa", OrgID: org.ID, Name: "p"}},
		clusters: []*costexplorer.Cluster{{ID: "bbbbbbbbbbbbbbbbbbbbbbbb", ProjectID: "aaaaaaaaaaaaaaaaaaaaaaaa", Name: "c"}},
		org:      map[string]*costexplorer.Organization{org.ID: org},
		project:  map[string]*costexplorer.Project{},
		cluster:  map[string]*costexplorer.Cluster{},
	}
	for _, s := range []string{"", "groupBy=clusters", "from=2025-01&to=2025-03&groupBy=projects&partial=1",
		"groupBy=none&service=Clusters&service=AI+Models", "from=2025-13", "org=zz&project=%00", "groupBy=organizations&org=" + org.ID} {
		f.Add(s)
	}
	current := costexplorer.MonthOf(testNow)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		body, _, err := buildBody(parseFilters(q, current, costexplorer.DefaultHistoryMonths), sc)
		if err != nil {
			return
		}
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		query, err := costexplorer.ParseQueryRequest(org.ID, b, costexplorer.QueryLimits{Now: testNow})
		if err == nil && query.OrgID != org.ID {
			t.Fatalf("query for %s from a session of %s", query.OrgID, org.ID)
		}
	})
}
