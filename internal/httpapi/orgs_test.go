package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
)

type orgView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	IsDeleted bool   `json:"isDeleted"`
	Links     []struct {
		Href, Rel string
	} `json:"links"`
}

type orgList struct {
	Links []struct {
		Href, Rel string
	} `json:"links"`
	Results    []orgView `json:"results"`
	TotalCount *int      `json:"totalCount"`
	Status     *int      `json:"status"`
}

func rels(l orgList) string {
	var out []string
	for _, k := range l.Links {
		out = append(out, k.Rel+"="+strings.TrimPrefix(k.Href, "http://"))
	}
	return strings.Join(out, " ")
}

// TestListOrganizations checks GET /api/atlas/v2/orgs: the caller's own
// organization, paging with links, the name prefix filter, includeCount and
// the list envelope.
func TestListOrganizations(t *testing.T) {
	e := newEnv(t, options{})
	host := strings.TrimPrefix(e.URL, "http://")
	name := e.Layout.PayingOrg.Name
	cases := []struct {
		name, query string
		ids         []string
		total       int // -1: absent
		links       string
	}{
		{"Default", "", []string{e.Org}, 1, "self=" + host + "/api/atlas/v2/orgs?itemsPerPage=100&pageNum=1"},
		{"SecondPage", "?pageNum=2&itemsPerPage=1", nil, 1,
			"previous=" + host + "/api/atlas/v2/orgs?itemsPerPage=1&pageNum=1 self=" + host + "/api/atlas/v2/orgs?itemsPerPage=1&pageNum=2"},
		{"NamePrefixAnyCase", "?name=" + strings.ToLower(name[:3]), []string{e.Org}, 1,
			"self=" + host + "/api/atlas/v2/orgs?itemsPerPage=100&name=" + strings.ToLower(name[:3]) + "&pageNum=1"},
		{"NameMismatch", "?name=zzz", nil, 0, "self=" + host + "/api/atlas/v2/orgs?itemsPerPage=100&name=zzz&pageNum=1"},
		{"NoCount", "?includeCount=false", []string{e.Org}, -1,
			"self=" + host + "/api/atlas/v2/orgs?includeCount=false&itemsPerPage=100&pageNum=1"},
		{"HugePage", "?pageNum=2147483647&itemsPerPage=500", nil, 0,
			"previous=" + host + "/api/atlas/v2/orgs?itemsPerPage=500&pageNum=2147483646 self=" + host + "/api/atlas/v2/orgs?itemsPerPage=500&pageNum=2147483647"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			res := e.do(e.apiRequest("GET", "/api/atlas/v2/orgs"+c.query, ""))
			if res.status != http.StatusOK {
				t.Fatalf("%d %s", res.status, res.body)
			}
			var l orgList
			res.json(t, &l)
			var ids []string
			for _, o := range l.Results {
				ids = append(ids, o.ID)
				if o.Name != name || o.IsDeleted || len(o.Links) != 1 || o.Links[0].Href != e.URL+"/api/atlas/v2/orgs/"+o.ID {
					t.Errorf("result %+v", o)
				}
			}
			if strings.Join(ids, ",") != strings.Join(c.ids, ",") {
				t.Errorf("ids %v, want %v", ids, c.ids)
			}
			switch {
			case c.total < 0 && l.TotalCount != nil:
				t.Errorf("totalCount %d present with includeCount=false", *l.TotalCount)
			case c.total >= 0 && (l.TotalCount == nil || *l.TotalCount != c.total):
				t.Errorf("totalCount %v, want %d", l.TotalCount, c.total)
			}
			if got := rels(l); got != c.links {
				t.Errorf("links\n got %s\nwant %s", got, c.links)
			}
			if l.Status != nil {
				t.Errorf("status %d without envelope", *l.Status)
			}
		})
	}
	t.Run("Envelope", func(t *testing.T) {
		e.t = t
		res := e.do(e.apiRequest("GET", "/api/atlas/v2/orgs?envelope=true", ""))
		var l orgList
		res.json(t, &l)
		if res.status != 200 || l.Status == nil || *l.Status != 200 || len(l.Results) != 1 {
			t.Errorf("%d %s", res.status, res.body)
		}
	})
}

// TestGetOrganization checks GET /api/atlas/v2/orgs/{orgId}: the own
// organization (plain and enveloped), and the same 401 for a linked, a
// foreign and a missing organization.
func TestGetOrganization(t *testing.T) {
	e := newEnv(t, options{})
	res := e.do(e.apiRequest("GET", "/api/atlas/v2/orgs/"+e.Org, ""))
	var o orgView
	res.json(t, &o)
	if res.status != 200 || o.ID != e.Org || o.Name != e.Layout.PayingOrg.Name {
		t.Errorf("%d %s", res.status, res.body)
	}
	res = e.do(e.apiRequest("GET", "/api/atlas/v2/orgs/"+e.Org+"?envelope=true", ""))
	var env struct {
		Status  int
		Content orgView
	}
	res.json(t, &env)
	if res.status != 200 || env.Status != 200 || env.Content.ID != e.Org {
		t.Errorf("envelope: %d %s", res.status, res.body)
	}
	var bodies []string
	for _, id := range []string{e.Layout.Linked[0].ID, e.Layout.Others[0].ID, "0123456789abcdef01234567"} {
		res := e.do(e.apiRequest("GET", "/api/atlas/v2/orgs/"+id, ""))
		checkError(t, res, http.StatusUnauthorized, costexplorer.ErrUnauthorized)
		bodies = append(bodies, string(res.body))
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Errorf("refusals differ, revealing which organizations exist:\n%s", strings.Join(bodies, "\n"))
	}
}

// TestSystemStatus checks GET /api/atlas/v2 with an API key over Digest (its
// id, public key, roles and access list) and with a service account (apiKey
// null).
func TestSystemStatus(t *testing.T) {
	e := newEnv(t, options{})
	key, private := e.APIKey(e.t, e.Org, costexplorer.AccessList{"127.0.0.1", "10.1.0.0/16"}, costexplorer.RoleOrgOwner, costexplorer.RoleOrgBillingAdmin)
	req := e.apiRequest("GET", "/api/atlas/v2?pretty=true", "")
	req.Header.Del("Authorization")
	res := e.doDigest(req, key.PublicKey, private)
	if res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	var st struct {
		APIKey struct {
			AccessList []map[string]*string `json:"accessList"`
			ID         string               `json:"id"`
			PublicKey  string               `json:"publicKey"`
			Roles      []map[string]string  `json:"roles"`
		} `json:"apiKey"`
		AppName    string `json:"appName"`
		Build      string `json:"build"`
		Throttling bool   `json:"throttling"`
	}
	res.json(t, &st)
	if st.APIKey.ID != key.ID || st.APIKey.PublicKey != key.PublicKey || st.AppName != "MongoDB Atlas" || len(st.Build) != 40 {
		t.Errorf("status: %s", res.body)
	}
	roles, _ := json.Marshal(st.APIKey.Roles)
	if want := `[{"orgId":"` + e.Org + `","roleName":"ORG_OWNER"},{"orgId":"` + e.Org + `","roleName":"ORG_BILLING_ADMIN"}]`; string(roles) != want {
		t.Errorf("roles %s, want %s", roles, want)
	}
	acl, _ := json.Marshal(st.APIKey.AccessList)
	if want := `[{"cidrBlock":"127.0.0.1/32","ipAddress":"127.0.0.1"},{"cidrBlock":"10.1.0.0/16","ipAddress":null}]`; string(acl) != want {
		t.Errorf("access list %s, want %s", acl, want)
	}

	res = e.do(e.apiRequest("GET", "/api/atlas/v2", ""))
	if res.status != http.StatusOK || !strings.HasPrefix(string(res.body), `{"apiKey":null,"appName":"MongoDB Atlas"`) {
		t.Errorf("service account: %d %s", res.status, res.body)
	}
}
