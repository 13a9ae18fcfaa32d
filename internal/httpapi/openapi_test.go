package httpapi

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/costexplorer/costexplorer"
)

// stubAuth lets a Server be built for its route table alone.
type stubAuth struct{}

func (stubAuth) Authenticate(http.ResponseWriter, *http.Request) (*costexplorer.Principal, error) {
	return nil, costexplorer.Errorf(costexplorer.ErrUnauthorized, "no")
}
func (stubAuth) TokenHandler() http.Handler  { return http.NotFoundHandler() }
func (stubAuth) RevokeHandler() http.Handler { return http.NotFoundHandler() }

// TestOpenAPIMatchesRoutes holds openapi.yaml to the route table: every
// route is an operation of the document and every operation a route, and
// the success media types of each Atlas operation are exactly its versions
// in the formats it serves (JSON unless CSV- or gzip-only, CSV when
// allowed, gzip for a gzip operation), and
// those of the project's own operations application/json and, when
// allowed, text/csv.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{Auth: stubAuth{}, Metrics: http.NotFoundHandler()}}
	served := map[string]bool{}
	for _, o := range s.operations() {
		served[o.method+" "+o.path] = true
		item := doc.Paths.Value(o.path)
		if item == nil || item.GetOperation(o.method) == nil {
			t.Errorf("%s %s is served but not in openapi.yaml", o.method, o.path)
			continue
		}
		if o.api == nil {
			continue
		}
		want := map[string]bool{}
		if o.own {
			want["application/json"], want["text/csv"] = true, o.csv
			maps.DeleteFunc(want, func(_ string, v bool) bool { return !v })
		}
		for _, v := range o.versions {
			for f, suffix := range map[format]string{formatJSON: "+json", formatCSV: "+csv", formatGzip: "+gzip"} {
				if o.allows(f) {
					want["application/vnd.atlas."+v+suffix] = true
				}
			}
		}
		got := map[string]bool{}
		for code, r := range item.GetOperation(o.method).Responses.Map() {
			if !strings.HasPrefix(code, "2") || r.Value == nil {
				continue
			}
			for mt := range r.Value.Content {
				if mt != "*/*" {
					got[mt] = true
				}
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s %s: openapi.yaml answers %v, the route serves %v", o.method, o.path, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !served[method+" "+path] {
				t.Errorf("openapi.yaml describes %s %s, which no route serves", method, path)
			}
		}
	}
}
