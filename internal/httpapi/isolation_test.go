package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
)

// secrets are what a caller must never see of the organizations it cannot
// reach: their ids (checked as substrings of every answer, headers included)
// and names (checked against every JSON string value and CSV cell).
type secrets struct {
	ids   []string
	names map[string]bool
}

// forbidden collects the ids and names of every organization outside
// reachable, with their projects, clusters and invoices, leaving out names
// that a reachable entity shares.
func forbidden(t *testing.T, e *env, reachable []string) secrets {
	t.Helper()
	ctx := context.Background()
	orgs, _, err := e.DB.Organizations(ctx, costexplorer.OrganizationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	projects, clusters := e.projectsAndClusters(t)
	projOrg := map[string]string{}
	for _, p := range projects {
		projOrg[p.ID] = p.OrgID
	}
	s := secrets{names: map[string]bool{}}
	shared := map[string]bool{}
	add := func(org, id, name string) {
		if slices.Contains(reachable, org) {
			shared[name] = true
			return
		}
		s.ids = append(s.ids, id)
		s.names[name] = true
	}
	for _, o := range orgs {
		add(o.ID, o.ID, o.Name)
		for m := costexplorer.MonthOf(t0) - 12; m <= costexplorer.MonthOf(t0); m++ {
			if !slices.Contains(reachable, o.ID) {
				s.ids = append(s.ids, costexplorer.InvoiceID(o.ID, m))
			}
		}
	}
	for _, p := range projects {
		add(p.OrgID, p.ID, p.Name)
	}
	for _, c := range clusters {
		add(projOrg[c.ProjectID], c.ID, c.Name)
	}
	for n := range shared {
		delete(s.names, n)
	}
	if len(s.ids) == 0 {
		t.Fatal("no forbidden data: the test would prove nothing")
	}
	return s
}

// check fails the test if an answer carries any of the secrets.
func (s secrets) check(t *testing.T, what string, res *response) {
	t.Helper()
	var head bytes.Buffer
	_ = res.header.Write(&head)
	for _, id := range s.ids {
		if bytes.Contains(res.body, []byte(id)) || bytes.Contains(head.Bytes(), []byte(id)) {
			t.Errorf("%s: the answer carries the foreign id %s:\n%.500s", what, id, res.body)
		}
	}
	var values []string
	var v any
	if json.Unmarshal(res.body, &v) == nil {
		var walk func(any)
		walk = func(v any) {
			switch x := v.(type) {
			case string:
				values = append(values, x)
			case []any:
				for _, y := range x {
					walk(y)
				}
			case map[string]any:
				for _, y := range x {
					walk(y)
				}
			}
		}
		walk(v)
	} else if recs, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll(); err == nil {
		for _, r := range recs {
			for _, c := range r {
				values = append(values, c, strings.TrimPrefix(c, "'"))
			}
		}
	}
	for _, x := range values {
		if s.names[x] {
			t.Errorf("%s: the answer carries the foreign name %q", what, x)
		}
	}
}

// without returns s less one id and one name.
func (s secrets) without(id, name string) secrets {
	out := secrets{names: maps.Clone(s.names)}
	delete(out.names, name)
	for _, x := range s.ids {
		if x != id {
			out.ids = append(out.ids, x)
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestIsolation proves, endpoint by endpoint, that a credential of one
// organization receives no byte of another's data: for a standalone
// organization and its neighbours, for a linked organization and its paying
// organization (a linked organization's view covers only itself), and for
// the paying organization and an organization it does not pay for. A
// foreign organization, a foreign token and a foreign client id are answered
// exactly like ones that do not exist.
func TestIsolation(t *testing.T) {
	cfg := demo.Config{Seed: 7, LineItems: 20000, Months: 6, Now: t0}
	e := newEnv(t, options{demo: &cfg, rateLimit: httpapiRateLimit(1 << 30)})
	if len(e.Layout.Linked) == 0 || len(e.Layout.Others) == 0 {
		t.Fatalf("the demo layout lacks linked or other organizations: %+v", e.Layout)
	}
	paying := e.Layout.PayingOrg.ID
	linked := []string{paying}
	for _, o := range e.Layout.Linked {
		linked = append(linked, o.ID)
	}
	pairs := []struct {
		name      string
		a, b      string   // the caller's organization, and one it must not see
		reachable []string // every organization whose usage a's queries cover
	}{
		{"StandaloneVsPaying", e.Layout.Others[0].ID, paying, []string{e.Layout.Others[0].ID}},
		{"LinkedVsItsPayer", e.Layout.Linked[0].ID, paying, []string{e.Layout.Linked[0].ID}},
		{"PayingVsStandalone", paying, e.Layout.Others[0].ID, linked},
	}
	window := fmt.Sprintf(`"startDate":"%s","endDate":"%s"`, (costexplorer.MonthOf(t0) - 5).Date(), (costexplorer.MonthOf(t0) + 1).Date())
	for _, pair := range pairs {
		t.Run(pair.name, func(t *testing.T) {
			sec := forbidden(t, e, pair.reachable)
			// B's credentials and a query of B's, ready.
			bID, bSecret := e.ServiceAccount(e.t, pair.b, nil, costexplorer.RoleOrgOwner)
			bBearer := e.accessToken(bID, bSecret)
			e.bearer = bBearer
			bToken := e.create(pair.b, `{`+window+`}`)
			e.waitReady(pair.b, bToken)

			aID, aSecret := e.ServiceAccount(e.t, pair.a, nil, costexplorer.RoleOrgOwner)
			aBearer := e.accessToken(aID, aSecret)
			aKey, aPrivate := e.APIKey(e.t, pair.a, nil, costexplorer.RoleOrgOwner)
			e.bearer = aBearer
			get := func(path, accept string) *response {
				req := e.apiRequest("GET", path, "")
				if accept != "" {
					req.Header.Set("Accept", accept)
				}
				return e.do(req)
			}
			// same asserts that two answers are identical once the
			// differing value (an id or token the caller chose) is masked.
			same := func(what string, got, want *response, gotVal, wantVal string) {
				t.Helper()
				g := strings.ReplaceAll(string(got.body), gotVal, "X")
				w := strings.ReplaceAll(string(want.body), wantVal, "X")
				if got.status != want.status || g != w {
					t.Errorf("%s is distinguishable from a nonexistent one:\n%d %s\n%d %s", what, got.status, got.body, want.status, want.body)
				}
			}
			ghostOrg, ghostToken := randomHex(24), randomHex(64)
			const csvType = "application/vnd.atlas.2023-01-01+csv"

			// Answers to A about its own scope.
			for _, path := range []string{
				"/api/atlas/v2", "/api/atlas/v2/orgs", "/api/atlas/v2/orgs?itemsPerPage=500&includeCount=true",
				"/api/atlas/v2/orgs?pageNum=2&itemsPerPage=1", "/api/atlas/v2/orgs/" + pair.a,
				"/api/atlas/v2/orgs?name=" + url.QueryEscape(e.Layout.PayingOrg.Name[:3]),
			} {
				res := get(path, "")
				if res.status != http.StatusOK {
					t.Fatalf("GET %s: %d %s", path, res.status, res.body)
				}
				sec.check(t, "GET "+path, res)
			}
			res := e.doDigest(func() *http.Request {
				r := e.newRequest("GET", "/api/atlas/v2/orgs", nil)
				r.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
				return r
			}(), aKey.PublicKey, aPrivate)
			if res.status != http.StatusOK {
				t.Fatalf("Digest GET /orgs: %d %s", res.status, res.body)
			}
			sec.check(t, "Digest GET /orgs", res)

			// B's organization, B's token, B's path: exactly like ghosts.
			same("GET B's organization", get("/api/atlas/v2/orgs/"+pair.b, ""), get("/api/atlas/v2/orgs/"+ghostOrg, ""), pair.b, ghostOrg)
			same("GET B's usage path", get(usagePath(pair.b)+"/"+bToken, ""), get(usagePath(ghostOrg)+"/"+bToken, ""), pair.b, ghostOrg)
			same("B's token on A's path", get(usagePath(pair.a)+"/"+bToken, ""), get(usagePath(pair.a)+"/"+ghostToken, ""), bToken, ghostToken)
			same("B's token as CSV", get(usagePath(pair.a)+"/"+bToken, csvType), get(usagePath(pair.a)+"/"+ghostToken, csvType), bToken, ghostToken)
			same("B's token with envelope", get(usagePath(pair.a)+"/"+bToken+"?envelope=true", ""), get(usagePath(pair.a)+"/"+ghostToken+"?envelope=true", ""), bToken, ghostToken)
			postB := e.do(e.apiRequest("POST", usagePath(pair.b), `{`+window+`}`))
			postGhost := e.do(e.apiRequest("POST", usagePath(ghostOrg), `{`+window+`}`))
			same("POST to B's usage", postB, postGhost, pair.b, ghostOrg)
			for _, r := range []*response{postB, get("/api/atlas/v2/orgs/"+pair.b, ""), get(usagePath(pair.a)+"/"+bToken, "")} {
				if r.status < 400 {
					t.Fatalf("A reached B: %d %s", r.status, r.body)
				}
			}

			// Invoices: A's own, in every form, carry nothing of B's; B's
			// invoice ids on A's path, and B's invoice paths, answer exactly
			// like ids and organizations that do not exist.
			month := costexplorer.MonthOf(t0) - 1
			aInv, bInv, ghostInv := costexplorer.InvoiceID(pair.a, month), costexplorer.InvoiceID(pair.b, month), randomHex(24)
			const csv23 = "application/vnd.atlas.2023-01-01+csv"
			for _, path := range []string{
				invoicesPath(pair.a), invoicesPath(pair.a) + "?viewLinkedInvoices=true&itemsPerPage=500&statusNames=PENDING&statusNames=INVOICED",
				invoicesPath(pair.a) + "/pending", invoicesPath(pair.a) + "/" + aInv, invoicesPath(pair.a) + "/" + aInv + "?envelope=true",
			} {
				res := get(path, "")
				if res.status != http.StatusOK {
					t.Fatalf("GET %s: %d %s", path, res.status, res.body)
				}
				sec.check(t, "GET "+path, res)
			}
			for _, path := range []string{invoicesPath(pair.a) + "/" + aInv, invoicesPath(pair.a) + "/" + aInv + "/csv"} {
				res := get(path, csv23)
				if res.status != http.StatusOK {
					t.Fatalf("GET %s as CSV: %d %s", path, res.status, res.body)
				}
				sec.check(t, "CSV "+path, res)
			}
			searchA := func(inv, body string) *response {
				req := e.apiRequest("POST", invoicesPath(pair.a)+"/"+inv+"/lineItems:search?itemsPerPage=500", body)
				req.Header.Set("Accept", "application/vnd.atlas.2024-08-05+json")
				req.Header.Set("Content-Type", "application/json")
				return e.do(req)
			}
			for _, body := range []string{
				`{}`, `{"filters":{"includeZeroCentLineItems":true}}`,
				`{"filters":{"groupIds":` + quoteIDs(bProjectIDs(sec)) + `}}`,
			} {
				res := searchA(aInv, body)
				if res.status != http.StatusOK {
					t.Fatalf("search %s: %d %s", body, res.status, res.body)
				}
				sec.check(t, "search "+body, res)
			}
			same("B's invoice on A's path", get(invoicesPath(pair.a)+"/"+bInv, ""), get(invoicesPath(pair.a)+"/"+ghostInv, ""), bInv, ghostInv)
			same("B's invoice as CSV", get(invoicesPath(pair.a)+"/"+bInv, csv23), get(invoicesPath(pair.a)+"/"+ghostInv, csv23), bInv, ghostInv)
			same("B's invoice CSV download", get(invoicesPath(pair.a)+"/"+bInv+"/csv", csv23), get(invoicesPath(pair.a)+"/"+ghostInv+"/csv", csv23), bInv, ghostInv)
			same("B's invoice with envelope", get(invoicesPath(pair.a)+"/"+bInv+"?envelope=true&pretty=true", ""), get(invoicesPath(pair.a)+"/"+ghostInv+"?envelope=true&pretty=true", ""), bInv, ghostInv)
			same("B's invoice searched", searchA(bInv, `{}`), searchA(ghostInv, `{}`), bInv, ghostInv)
			same("B's invoice list", get(invoicesPath(pair.b), ""), get(invoicesPath(ghostOrg), ""), pair.b, ghostOrg)
			same("B's pending invoices", get(invoicesPath(pair.b)+"/pending", ""), get(invoicesPath(ghostOrg)+"/pending", ""), pair.b, ghostOrg)
			same("B's invoice on B's path", get(invoicesPath(pair.b)+"/"+bInv, ""), get(invoicesPath(ghostOrg)+"/"+bInv, ""), pair.b, ghostOrg)
			// The preview report of A's invoice and A's associated
			// invoices carry nothing of B's; B's invoice and organization
			// answer as ghosts.
			gen := e.generateReq(pair.a, aInv, `{}`, "")
			if gen.status != http.StatusOK {
				t.Fatalf("generate A's report: %d %s", gen.status, gen.body)
			}
			// A FOCUS file names its billing account, which for a linked
			// organization is its paying organization (docs/focus.md): its
			// id and name, and nothing else of it.
			focusSec := sec
			if pair.a != paying && slices.Contains(linked, pair.a) {
				focusSec = sec.without(paying, e.Layout.PayingOrg.Name)
			}
			focusSec.check(t, "generated report", &response{status: gen.status, header: gen.header, body: gunzip(t, gen.body)})
			same("B's invoice generated", e.generateReq(pair.a, bInv, `{}`, ""), e.generateReq(pair.a, ghostInv, `{}`, ""), bInv, ghostInv)
			same("B's invoice generated on B's path", e.generateReq(pair.b, bInv, `{}`, ""), e.generateReq(ghostOrg, bInv, `{}`, ""), pair.b, ghostOrg)
			assoc := fmt.Sprintf("?month=%d&year=%d&includeLinkedOrgs=true", month.Num(), month.Year())
			res = e.associatedReq(pair.a, assoc, "", "")
			if res.status != http.StatusOK || !strings.Contains(string(res.body), aInv) {
				t.Fatalf("A's associated invoices: %d %s", res.status, res.body)
			}
			sec.check(t, "associated invoices", res)
			same("B's associated invoices", e.associatedReq(pair.b, assoc, "", ""), e.associatedReq(ghostOrg, assoc, "", ""), pair.b, ghostOrg)
			if r := get(invoicesPath(pair.a)+"/"+bInv, ""); r.status != http.StatusNotFound {
				t.Fatalf("A reached B's invoice: %d %s", r.status, r.body)
			}

			// Queries by A naming B's ids in every filter, with and
			// without partial matches, in JSON and CSV: none of B's rows.
			var bProjects, bClusters []string
			for _, id := range sec.ids {
				if strings.HasPrefix(id, "5f") {
					continue
				}
				if len(bProjects) <= len(bClusters) {
					bProjects = append(bProjects, id)
				} else {
					bClusters = append(bClusters, id)
				}
			}
			quote := func(ids []string) string {
				b, _ := json.Marshal(ids[:min(len(ids), 200)])
				return string(b)
			}
			for _, body := range []string{
				`{` + window + `}`,
				`{` + window + `,"groupBy":"organizations","organizations":["` + pair.b + `","` + pair.a + `"]}`,
				`{` + window + `,"groupBy":"organizations","organizations":["` + pair.b + `"],"includePartialMatches":true}`,
				`{` + window + `,"groupBy":"projects","projects":` + quote(bProjects) + `,"includePartialMatches":true}`,
				`{` + window + `,"groupBy":"clusters","clusters":` + quote(bClusters) + `,"includePartialMatches":true}`,
				`{` + window + `,"projects":` + quote(bProjects) + `,"clusters":` + quote(bClusters) + `}`,
			} {
				tok := e.create(pair.a, body)
				if tok == bToken {
					t.Fatalf("A's query has B's token")
				}
				sec.check(t, "query "+body[:min(len(body), 120)], e.waitReady(pair.a, tok))
				sec.check(t, "CSV of "+body[:min(len(body), 120)], get(usagePath(pair.a)+"/"+tok, csvType))
			}

			// OAuth: B's client id with A's secret is refused like a
			// ghost id; A revoking B's access token leaves it working.
			tokenReq := func(id, secret string) *response {
				r := e.newRequest("POST", "/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.SetBasicAuth(id, secret)
				return e.do(r)
			}
			ghostClient := "mdb_sa_id_" + randomHex(24)
			same("B's client id with A's secret", tokenReq(bID, aSecret), tokenReq(ghostClient, aSecret), bID, ghostClient)
			rev := e.newRequest("POST", "/api/oauth/revoke", strings.NewReader("token="+url.QueryEscape(bBearer)))
			rev.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rev.SetBasicAuth(aID, aSecret)
			sec.check(t, "revoke B's token", e.do(rev))
			e.bearer = bBearer
			if r := get("/api/atlas/v2/orgs/"+pair.b, ""); r.status != http.StatusOK {
				t.Errorf("A revoked B's access token: %d %s", r.status, r.body)
			}
		})
	}
}

// bProjectIDs returns some of the forbidden ids (projects and clusters
// alike: a filter naming them must match nothing of A's).
func bProjectIDs(s secrets) []string {
	var out []string
	for _, id := range s.ids {
		if len(out) < 100 {
			out = append(out, id)
		}
	}
	return out
}

func quoteIDs(ids []string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// TestAuthorizationMatrix checks every role of a paying organization's
// credential against its own organization, a linked one, a foreign one and
// one that does not exist, for creating a query, getting a result, reading
// the organization and listing organizations. Only the credential's own
// organization is reachable, the cost explorer only with a billing role;
// linked organizations' usage is reached through the paying organization's
// own queries (covered by the engine's tests), never through their paths;
// and a foreign organization answers exactly like a missing one.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t, options{})
	const body = `{"startDate":"2025-01-01","endDate":"2025-02-01"}`
	targets := []struct {
		name string
		org  string
	}{
		{"Own", e.Org},
		{"Linked", e.Layout.Linked[0].ID},
		{"Foreign", e.Layout.Others[0].ID},
		{"Missing", "0123456789abcdef01234567"},
	}

	// A real token in each existing organization, made by its own owner, so
	// that a refusal cannot be a mere "not found".
	tokens := map[string]string{}
	for _, tg := range targets {
		if tg.name == "Missing" {
			tokens[tg.org] = "ab" + e.create(e.Org, body)[2:]
			continue
		}
		id, secret := e.ServiceAccount(e.t, tg.org, nil, costexplorer.RoleOrgOwner)
		req := e.apiRequest("POST", usagePath(tg.org), body)
		req.Header.Set("Authorization", "Bearer "+e.accessToken(id, secret))
		res := e.do(req)
		if res.status != http.StatusAccepted {
			t.Fatalf("owner of %s: create = %d %s", tg.name, res.status, res.body)
		}
		var v struct{ Token string }
		res.json(t, &v)
		tokens[tg.org] = v.Token
	}

	for _, role := range costexplorer.Roles {
		id, secret := e.ServiceAccount(e.t, e.Org, nil, role)
		bearer := "Bearer " + e.accessToken(id, secret)
		billing := costexplorer.CanViewBilling([]costexplorer.Role{role})
		refusals := map[string][]byte{} // operation → body of the Foreign refusal
		for _, tg := range targets {
			ops := []struct {
				op, method, path, body string
				want                   int
			}{
				{"CreateQuery", "POST", usagePath(tg.org), body, http.StatusAccepted},
				{"GetResult", "GET", usagePath(tg.org) + "/" + tokens[tg.org] + "?envelope=true", "", http.StatusOK},
				{"GetOrg", "GET", "/api/atlas/v2/orgs/" + tg.org, "", http.StatusOK},
			}
			for _, op := range ops {
				t.Run(string(role)+"/"+tg.name+"/"+op.op, func(t *testing.T) {
					e.t = t
					req := e.apiRequest(op.method, op.path, op.body)
					req.Header.Set("Authorization", bearer)
					res := e.do(req)
					allowed := tg.name == "Own" && (billing || op.op == "GetOrg")
					if allowed {
						if res.status != op.want {
							t.Fatalf("%d %s, want %d", res.status, res.body, op.want)
						}
						return
					}
					checkError(t, res, http.StatusUnauthorized, costexplorer.ErrUnauthorized)
					switch tg.name {
					case "Foreign":
						refusals[op.op] = res.body
					case "Missing":
						if !bytes.Equal(res.body, refusals[op.op]) {
							t.Errorf("a missing organization answers %s, a foreign one %s", res.body, refusals[op.op])
						}
					}
				})
			}
		}
		t.Run(string(role)+"/ListOrgs", func(t *testing.T) {
			e.t = t
			req := e.apiRequest("GET", "/api/atlas/v2/orgs", "")
			req.Header.Set("Authorization", bearer)
			res := e.do(req)
			if res.status != http.StatusOK {
				t.Fatalf("%d %s", res.status, res.body)
			}
			var page struct {
				Results    []struct{ ID string }
				TotalCount int
			}
			res.json(t, &page)
			if page.TotalCount != 1 || len(page.Results) != 1 || page.Results[0].ID != e.Org {
				t.Errorf("listed %+v, want only the credential's own organization", page)
			}
		})
	}
}
