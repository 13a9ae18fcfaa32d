package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
)

const (
	skusPath   = "/api/atlas/v2/skus"
	accept2025 = "application/vnd.atlas.2025-03-12+json"
	json2025   = "application/vnd.atlas.2025-03-12+json;charset=utf-8"
)

// skuRequest is an authenticated GET of the SKU catalogue at 2025-03-12.
func (e *env) skuRequest(path string) *http.Request {
	req := e.apiRequest("GET", path, "")
	req.Header.Set("Accept", accept2025)
	return req
}

// TestListSkus pages through the catalogue: every SKU once, in id order,
// with previous/self/next links and totalCount as asked.
func TestListSkus(t *testing.T) {
	e := newEnv(t, options{})
	all := costexplorer.SKUs()
	if len(all) <= 100 {
		t.Fatalf("the catalogue has %d SKUs: the default page would not need a next link", len(all))
	}
	var seen []string
	for page := 1; ; page++ {
		res := e.do(e.skuRequest(skusPath + "?itemsPerPage=50&pageNum=" + strconv.Itoa(page)))
		res.mustOK(t, "page "+strconv.Itoa(page), json2025)
		var list costexplorer.SKUList
		res.json(t, &list)
		if list.TotalCount == nil || *list.TotalCount != len(all) {
			t.Fatalf("page %d: totalCount %v, want %d", page, list.TotalCount, len(all))
		}
		rels := relsOf(list.Links)
		for _, r := range list.Results {
			seen = append(seen, r.ID)
		}
		wantRels := "self,next"
		if page > 1 {
			wantRels = "previous," + wantRels
		}
		if len(seen) == len(all) {
			wantRels = strings.TrimSuffix(wantRels, ",next")
		}
		if rels != wantRels {
			t.Errorf("page %d: links %s, want %s", page, rels, wantRels)
		}
		if len(seen) >= len(all) || len(list.Results) == 0 {
			break
		}
	}
	for i, s := range all {
		if i >= len(seen) || seen[i] != s.ID {
			t.Fatalf("paged ids differ from the catalogue at %d", i)
		}
	}
	if len(seen) != len(all) {
		t.Errorf("paged %d SKUs, want %d", len(seen), len(all))
	}

	t.Run("DefaultsAndCount", func(t *testing.T) {
		e.t = t
		var list costexplorer.SKUList
		e.do(e.skuRequest(skusPath)).json(t, &list)
		if len(list.Results) != costexplorer.DefaultItemsPerPage || relsOf(list.Links) != "self,next" {
			t.Errorf("default page: %d results, links %s", len(list.Results), relsOf(list.Links))
		}
		res := e.do(e.skuRequest(skusPath + "?includeCount=false&pageNum=1000"))
		if string(res.body) != `{"links":[{"href":"`+e.URL+skusPath+`?includeCount=false&itemsPerPage=100&pageNum=999","rel":"previous"},{"href":"`+e.URL+skusPath+`?includeCount=false&itemsPerPage=100&pageNum=1000","rel":"self"}],"results":[]}`+"\n" {
			t.Errorf("page past the end without count: %s", res.body)
		}
	})
	t.Run("EnvelopePretty", func(t *testing.T) {
		e.t = t
		res := e.do(e.skuRequest(skusPath + "?itemsPerPage=1&envelope=true&pretty=true"))
		body := string(res.body)
		if res.status != 200 || !strings.HasPrefix(body, "{\n  \"links\": [") || !strings.HasSuffix(body, "  \"totalCount\": "+strconv.Itoa(len(all))+",\n  \"status\": 200\n}\n") {
			t.Errorf("%d %s", res.status, body)
		}
	})
}

// TestGetSku checks one SKU, an unknown one, ids of the wrong form, and
// that any role of any organization may read the catalogue.
func TestGetSku(t *testing.T) {
	e := newEnv(t, options{})
	res := e.do(e.skuRequest(skusPath + "/ATLAS_AWS_INSTANCE_M10"))
	if string(res.body) != `{"description":"Atlas AWS Cluster M10","id":"ATLAS_AWS_INSTANCE_M10"}`+"\n" || res.header.Get("Content-Type") != json2025 {
		t.Errorf("get: %d %s", res.status, res.body)
	}
	res = e.do(e.skuRequest(skusPath + "/ATLAS_AWS_INSTANCE_M10?envelope=true"))
	if string(res.body) != `{"status":200,"content":{"description":"Atlas AWS Cluster M10","id":"ATLAS_AWS_INSTANCE_M10"}}`+"\n" {
		t.Errorf("envelope: %s", res.body)
	}
	checkError(t, e.do(e.skuRequest(skusPath+"/atlas_aws_instance_m10")), 404, costexplorer.ErrNotFound)
	checkError(t, e.do(e.skuRequest(skusPath+"/NO_SUCH_SKU")), 404, costexplorer.ErrNotFound)
	checkError(t, e.do(e.skuRequest(skusPath+"/ATLAS-AWS")), 400, costexplorer.ErrInvalidPathParameter)
	checkError(t, e.do(e.skuRequest(skusPath+"/"+strings.Repeat("A", 129))), 400, costexplorer.ErrInvalidPathParameter)
	for _, role := range costexplorer.Roles {
		id, secret := e.ServiceAccount(t, e.Layout.Others[0].ID, nil, role)
		req := e.skuRequest(skusPath + "/CREDIT")
		req.Header.Set("Authorization", "Bearer "+e.accessToken(id, secret))
		if res := e.do(req); res.status != 200 || res.header.Get("RateLimit-Limit") == "" {
			t.Errorf("%s: %d %s, RateLimit-Limit %q", role, res.status, res.body, res.header.Get("RateLimit-Limit"))
		}
	}
	req := e.skuRequest(skusPath)
	req.Header.Del("Authorization")
	checkError(t, e.do(req), 401, costexplorer.ErrUnauthorized)
}

// TestSkuVersions checks that the SKU operations exist at 2025-03-12 only:
// a later date resolves down to it, an earlier one is 406.
func TestSkuVersions(t *testing.T) {
	e := newEnv(t, options{})
	for accept, want := range map[string]int{
		"application/vnd.atlas.2025-03-12+json": 200,
		"application/vnd.atlas.2026-01-01+json": 200,
		"application/vnd.atlas.2025-03-11+json": 406,
		"application/vnd.atlas.2023-01-01+json": 406,
		"application/vnd.atlas.2024-08-05+json": 406,
		"application/vnd.atlas.2025-03-12+csv":  406,
	} {
		for _, path := range []string{skusPath, skusPath + "/CREDIT"} {
			req := e.skuRequest(path)
			req.Header.Set("Accept", accept)
			res := e.do(req)
			if res.status != want {
				t.Errorf("%s %s: %d, want %d", accept, path, res.status, want)
			}
			if want == 200 && res.header.Get("Content-Type") != json2025 {
				t.Errorf("%s: Content-Type %q", accept, res.header.Get("Content-Type"))
			}
		}
	}
}

func relsOf(links []costexplorer.Link) string {
	var rels []string
	for _, l := range links {
		rels = append(rels, l.Rel)
	}
	return strings.Join(rels, ",")
}
