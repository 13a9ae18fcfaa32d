package httpapi_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/costexplorer/costexplorer"
)

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
