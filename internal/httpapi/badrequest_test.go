package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// TestBadRequests is the table of malformed requests (body, path, header,
// query): each gets its status and errorCode, and none answers 5xx.
func TestBadRequests(t *testing.T) {
	e := newEnv(t, options{})
	const (
		ok    = `{"startDate":"2025-01-01","endDate":"2025-02-01"}`
		other = "0123456789abcdef01234567"
	)
	usage := usagePath("{org}")
	tooMany := make([]string, 1001)
	for i := range tooMany {
		tooMany[i] = "aaaaaaaaaaaaaaaaaaaaaaaa"
	}
	tooManyJSON, _ := json.Marshal(tooMany)
	deep := `{"startDate":"2025-01-01","endDate":"2025-02-01","projects":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`
	del := "\x00" // header value meaning "remove the header"

	cases := []badRequest{
		// Bodies.
		{"EmptyBody", "POST", usage, "", nil, 400, costexplorer.ErrMalformedJSON},
		{"NullBody", "POST", usage, "null", nil, 400, costexplorer.ErrMalformedJSON},
		{"ArrayBody", "POST", usage, "[]", nil, 400, costexplorer.ErrMalformedJSON},
		{"StringBody", "POST", usage, `"2025-01-01"`, nil, 400, costexplorer.ErrMalformedJSON},
		{"TrailingData", "POST", usage, ok + ` {}`, nil, 400, costexplorer.ErrMalformedJSON},
		{"TruncatedObject", "POST", usage, `{"startDate":"2025-01-01",`, nil, 400, costexplorer.ErrMalformedJSON},
		{"DeepNesting", "POST", usage, deep, nil, 400, costexplorer.ErrMalformedJSON},
		{"HugeArray", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","projects":` + string(tooManyJSON) + `}`, nil, 400, costexplorer.ErrValidation},
		{"StartDateNumber", "POST", usage, `{"startDate":20250101,"endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"EndDateBool", "POST", usage, `{"startDate":"2025-01-01","endDate":true}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"ProjectsString", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","projects":"aaaaaaaaaaaaaaaaaaaaaaaa"}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"ProjectsNumbers", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","projects":[1]}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"ServicesObject", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","services":{"a":1}}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"GroupByNumber", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","groupBy":1}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"PartialMatchesString", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","includePartialMatches":"true"}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"UnknownField", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","limit":10}`, nil, 400, costexplorer.ErrInvalidAttribute},
		{"FieldWrongCase", "POST", usage, `{"StartDate":"2025-01-01","endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrInvalidAttribute},
		{"MissingEndDate", "POST", usage, `{"startDate":"2025-01-01"}`, nil, 400, costexplorer.ErrMissingAttribute},
		{"NullStartDate", "POST", usage, `{"startDate":null,"endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrMissingAttribute},
		{"EmptyObject", "POST", usage, `{}`, nil, 400, costexplorer.ErrMissingAttribute},
		{"ServiceWrongCase", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","services":["clusters"]}`, nil, 400, costexplorer.ErrInvalidEnumValue},
		{"GroupBySingular", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","groupBy":"project"}`, nil, 400, costexplorer.ErrInvalidEnumValue},
		{"DateUnpadded", "POST", usage, `{"startDate":"2025-1-01","endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrInvalidDateFormat},
		{"DateImpossible", "POST", usage, `{"startDate":"2025-02-30","endDate":"2025-03-01"}`, nil, 400, costexplorer.ErrInvalidDateFormat},
		{"DateTime", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01T00:00:00Z"}`, nil, 400, costexplorer.ErrInvalidDateFormat},
		{"DateInvalidUTF8", "POST", usage, "{\"startDate\":\"\xff\xfe\",\"endDate\":\"2025-02-01\"}", nil, 400, costexplorer.ErrInvalidDateFormat},
		{"StartNotFirstOfMonth", "POST", usage, `{"startDate":"2025-01-15","endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrValidation},
		{"StartEqualsEnd", "POST", usage, `{"startDate":"2025-02-01","endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrStartDateAfterEndDate},
		{"StartAfterEnd", "POST", usage, `{"startDate":"2025-03-01","endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrStartDateAfterEndDate},
		{"StartBeforeWindow", "POST", usage, `{"startDate":"2023-12-01","endDate":"2024-02-01"}`, nil, 400, costexplorer.ErrInvalidDateRange},
		{"EndAfterWindow", "POST", usage, `{"startDate":"2025-06-01","endDate":"2025-08-01"}`, nil, 400, costexplorer.ErrInvalidDateRange},
		{"ProjectIDUpperCase", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","projects":["AAAAAAAAAAAAAAAAAAAAAAAA"]}`, nil, 400, costexplorer.ErrValidation},
		{"ClusterIDShort", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","clusters":["abc"]}`, nil, 400, costexplorer.ErrValidation},
		{"OrganizationIDNotHex", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","organizations":["zzzzzzzzzzzzzzzzzzzzzzzz"]}`, nil, 400, costexplorer.ErrValidation},
		{"GroupByClustersWithoutClusters", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","groupBy":"clusters"}`, nil, 400, costexplorer.ErrValidation},
		{"GroupByServicesEmptyList", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","groupBy":"services","services":[]}`, nil, 400, costexplorer.ErrValidation},
		{"BodyOverOneMiB", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","x":"` + strings.Repeat("a", 1<<20) + `"}`, nil, 413, costexplorer.ErrBodyTooLarge},

		// Paths.
		{"OrgIDUpperCase", "POST", usagePath(strings.ToUpper(other)), ok, nil, 400, costexplorer.ErrInvalidPathParameter},
		{"OrgIDShort", "GET", "/api/atlas/v2/orgs/0123456789abcdef0123456", "", nil, 400, costexplorer.ErrInvalidPathParameter},
		{"TokenShort", "GET", usage + "/" + strings.Repeat("a", 63), "", nil, 400, costexplorer.ErrInvalidPathParameter},
		{"TokenUpperCase", "GET", usage + "/" + strings.Repeat("A", 64), "", nil, 400, costexplorer.ErrInvalidPathParameter},
		{"TokenUnknown", "GET", usage + "/" + strings.Repeat("0", 64), "", nil, 404, costexplorer.ErrNotFound},
		{"TokenEmpty", "GET", usage + "/", "", nil, 404, costexplorer.ErrNotFound},
		{"UnknownPath", "GET", "/api/atlas/v2/clusters", "", nil, 404, costexplorer.ErrNotFound},
		{"PathPrefixOnly", "POST", "/api/atlas/v2/orgs/{org}/billing/costExplorer", ok, nil, 404, costexplorer.ErrNotFound},
		{"ForeignOrg", "POST", usagePath(other), ok, nil, 401, costexplorer.ErrUnauthorized},
		{"ForeignOrgResult", "GET", usagePath(other) + "/" + strings.Repeat("0", 64), "", nil, 401, costexplorer.ErrUnauthorized},
		{"WrongMethodOnUsage", "PUT", usage, ok, nil, 405, costexplorer.ErrMethodNotAllowed},
		{"WrongMethodOnOrgs", "POST", "/api/atlas/v2/orgs", ok, nil, 405, costexplorer.ErrMethodNotAllowed},

		// Headers.
		{"NoAccept", "POST", usage, ok, map[string]string{"Accept": del}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptJSON", "POST", usage, ok, map[string]string{"Accept": "application/json"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptAny", "GET", "/api/atlas/v2/orgs", "", map[string]string{"Accept": "*/*"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptTooEarly", "POST", usage, ok, map[string]string{"Accept": "application/vnd.atlas.2022-12-31+json"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptBadDate", "POST", usage, ok, map[string]string{"Accept": "application/vnd.atlas.2023-13-01+json"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptPreview", "GET", "/api/atlas/v2", "", map[string]string{"Accept": "application/vnd.atlas.preview+json"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptXML", "POST", usage, ok, map[string]string{"Accept": "application/vnd.atlas.2023-01-01+xml"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptCSVOnCreate", "POST", usage, ok, map[string]string{"Accept": "application/vnd.atlas.2023-01-01+csv"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptQZero", "POST", usage, ok, map[string]string{"Accept": "application/vnd.atlas.2023-01-01+json;q=0"}, 406, costexplorer.ErrInvalidVersionDate},
		{"NoContentType", "POST", usage, ok, map[string]string{"Content-Type": del}, 415, costexplorer.ErrUnsupportedMediaType},
		{"ContentTypeText", "POST", usage, ok, map[string]string{"Content-Type": "text/plain"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"ContentTypeForm", "POST", usage, ok, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"ContentTypeLatin1", "POST", usage, ok, map[string]string{"Content-Type": "application/json; charset=iso-8859-1"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"ContentTypeTooEarly", "POST", usage, ok, map[string]string{"Content-Type": "application/vnd.atlas.2022-01-01+json"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"ContentTypeMalformed", "POST", usage, ok, map[string]string{"Content-Type": "application/json; ;"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"NoCredentials", "POST", usage, ok, map[string]string{"Authorization": del}, 401, costexplorer.ErrUnauthorized},
		{"BearerGarbage", "GET", "/api/atlas/v2/orgs", "", map[string]string{"Authorization": "Bearer not.a.jwt"}, 401, costexplorer.ErrUnauthorized},
		{"UnknownScheme", "GET", "/api/atlas/v2/orgs", "", map[string]string{"Authorization": "Negotiate abc"}, 401, costexplorer.ErrUnauthorized},

		// Query parameters.
		{"PrettyYes", "GET", "/api/atlas/v2/orgs?pretty=yes", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"EnvelopeOne", "POST", usage + "?envelope=1", ok, nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"PrettyTwice", "GET", "/api/atlas/v2?pretty=true&pretty=false", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"EnvelopeEmpty", "GET", usage + "/" + strings.Repeat("0", 64) + "?envelope=", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ItemsPerPageZero", "GET", "/api/atlas/v2/orgs?itemsPerPage=0", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ItemsPerPageTooMany", "GET", "/api/atlas/v2/orgs?itemsPerPage=501", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"PageNumZero", "GET", "/api/atlas/v2/orgs?pageNum=0", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"PageNumNotNumber", "GET", "/api/atlas/v2/orgs?pageNum=two", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"PageNumOverflow", "GET", "/api/atlas/v2/orgs?pageNum=99999999999999999999", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"IncludeCountMaybe", "GET", "/api/atlas/v2/orgs?includeCount=maybe", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"NameTooLong", "GET", "/api/atlas/v2/orgs?name=" + strings.Repeat("n", 65), "", nil, 400, costexplorer.ErrInvalidQueryParameter},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d bad requests", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			req := e.apiRequest(c.method, strings.ReplaceAll(c.path, "{org}", e.Org), c.body)
			if c.body == "" && c.method == "POST" {
				req.Header.Set("Content-Type", "application/vnd.atlas.2023-01-01+json")
			}
			e.checkRefused(t, req, c.headers, c.status, c.code)
		})
	}
}

// panickyStore is a store whose organization listing panics once armed
// (the query engine lists organizations when it loads).
type panickyStore struct {
	costexplorer.Store
	armed atomic.Bool
}

func (p *panickyStore) Organizations(ctx context.Context, f costexplorer.OrganizationFilter) ([]*costexplorer.Organization, int, error) {
	if p.armed.Load() {
		panic("boom")
	}
	return p.Store.Organizations(ctx, f)
}

// TestPanicIsUnexpectedError checks the last resort: a handler that panics
// (here the organizations handler, through its store) is answered 500
// UNEXPECTED_ERROR, not a dropped connection or a stack trace.
func TestPanicIsUnexpectedError(t *testing.T) {
	var store *panickyStore
	e := newEnv(t, options{store: func(s costexplorer.Store) costexplorer.Store {
		store = &panickyStore{Store: s}
		return store
	}})
	store.armed.Store(true)
	res := e.do(e.apiRequest("GET", "/api/atlas/v2/orgs", ""))
	if res.status != http.StatusInternalServerError || strings.Contains(string(res.body), "boom") {
		t.Fatalf("panic answered %d %s", res.status, res.body)
	}
	if b := res.apiErr(t); b.ErrorCode != costexplorer.ErrInternal {
		t.Errorf("errorCode = %s", b.ErrorCode)
	}
}
