package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/golden"
)

// forecastPath is the path of usage:forecast for orgID.
func forecastPath(orgID string) string {
	return "/api/costexplorer/v1/orgs/" + orgID + "/usage:forecast"
}

// forecastRequest builds an authenticated usage:forecast request with a
// JSON body.
func (e *env) forecastRequest(orgID, body string) *http.Request {
	e.t.Helper()
	req := e.newRequest("POST", forecastPath(orgID), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.bearer)
	return req
}

// forecast posts a usage:forecast body for the demo organization and
// decodes its answer, failing on anything but 200.
func (e *env) forecast(body string) (*costexplorer.UsageForecast, []byte) {
	e.t.Helper()
	res := e.do(e.forecastRequest(e.Org, body))
	res.mustOK(e.t, "usage:forecast "+body, "application/json; charset=utf-8")
	var f costexplorer.UsageForecast
	res.json(e.t, &f)
	return &f, res.body
}

// TestForecastGolden pins the forecast of the demo data (which ends on the
// pinned clock's day, 2025-06-15) in total, by service, and on an earlier
// day for one team.
func TestForecastGolden(t *testing.T) {
	e := newEnv(t, options{})
	for name, body := range map[string]string{
		"total":        `{}`,
		"services":     `{"groupBy":["services"]}`,
		"team_june_10": `{"groupBy":["tag:team"],"filter":{"dimension":"tag:environment","in":["production"]},"asOf":"2025-06-10"}`,
	} {
		t.Run(name, func(t *testing.T) {
			e.t = t
			f, raw := e.forecast(body)
			golden.Check(t, "forecast/"+name+".json", append(raw, '\n'))
			for _, r := range f.Results {
				if len(r.Months) != 1+costexplorer.ForecastMonths {
					t.Errorf("%v: %d months", r.Groups, len(r.Months))
				}
				for _, m := range r.Months {
					if !(m.Lower <= m.Amount && m.Amount <= m.Upper) || m.ActualToDate > m.Amount && m.Lower >= 0 {
						t.Errorf("%v %s: lower %d, amount %d, upper %d, actual %d out of order", r.Groups, m.Month, m.Lower, m.Amount, m.Upper, m.ActualToDate)
					}
				}
			}
		})
	}
	t.Run("EmptyBodyIsTheTotal", func(t *testing.T) {
		e.t = t
		_, a := e.forecast(``)
		_, b := e.forecast(`{}`)
		if string(a) != string(b) {
			t.Errorf("an empty body answers\n%s\n{} answers\n%s", a, b)
		}
	})
}

// TestForecastActualIsTheStores checks the known part of the month-end
// forecast against the line items in the store: what the organization and
// its linked organizations spent in the month before asOf, to the cent,
// in total and split by service.
func TestForecastActualIsTheStores(t *testing.T) {
	e := newEnv(t, options{})
	asOf, _ := costexplorer.ParseDay("2025-06-15")
	scope := []string{e.Org}
	for _, o := range e.Layout.Linked {
		scope = append(scope, o.ID)
	}
	want := map[string]costexplorer.Cents{}
	var total costexplorer.Cents
	err := e.DB.ScanLineItems(context.Background(), func(li *costexplorer.LineItem) error {
		if li.Date >= costexplorer.DayOf(asOf.Month().Start()) && li.Date < asOf && slices.Contains(scope, li.OrgID) {
			want[string(li.Service)] += li.Amount
			total += li.Amount
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := e.forecast(`{}`)
	if got := f.Results[0].Months[0].ActualToDate; got != total || total == 0 {
		t.Errorf("total actual to date %d, the store says %d", got, total)
	}
	byService, _ := e.forecast(`{"groupBy":["services"]}`)
	got := map[string]costexplorer.Cents{}
	for _, r := range byService.Results {
		got[r.Groups[costexplorer.DimServices].ID] = r.Months[0].ActualToDate
	}
	for svc, c := range want {
		if got[svc] != c {
			t.Errorf("%s: actual to date %d, the store says %d", svc, got[svc], c)
		}
	}
}

// TestForecastRoles checks that usage:forecast has the cost explorer's
// roles.
func TestForecastRoles(t *testing.T) {
	e := newEnv(t, options{})
	e.checkBillingRoles(t, http.StatusOK, func() *http.Request { return e.forecastRequest(e.Org, `{}`) })
}

// TestForecastBadRequests is the table of malformed usage:forecast
// requests: each gets its status and errorCode, none a 5xx.
func TestForecastBadRequests(t *testing.T) {
	e := newEnv(t, options{})
	const other = "0123456789abcdef01234567"
	del := "\x00"
	cases := []ownBadRequest{
		{"NullBody", "", `null`, nil, 400, costexplorer.ErrMalformedJSON},
		{"ArrayBody", "", `[]`, nil, 400, costexplorer.ErrMalformedJSON},
		{"TrailingData", "", `{}{}`, nil, 400, costexplorer.ErrMalformedJSON},
		{"TruncatedObject", "", `{"asOf":`, nil, 400, costexplorer.ErrMalformedJSON},
		{"UnknownField", "", `{"months":6}`, nil, 400, costexplorer.ErrInvalidAttribute},
		{"QueryField", "", `{"granularity":"DAILY"}`, nil, 400, costexplorer.ErrInvalidAttribute},
		{"GroupByTwo", "", `{"groupBy":["services","tag:team"]}`, nil, 400, costexplorer.ErrValidation},
		{"GroupByString", "", `{"groupBy":"services"}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"GroupByRegion", "", `{"groupBy":["regions"]}`, nil, 400, costexplorer.ErrInvalidEnumValue},
		{"GroupByEmptyTag", "", `{"groupBy":["tag:"]}`, nil, 400, costexplorer.ErrInvalidEnumValue},
		{"FilterEmpty", "", `{"filter":{}}`, nil, 400, costexplorer.ErrValidation},
		{"FilterString", "", `{"filter":"tag:team=payments"}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"FilterBadService", "", `{"filter":{"dimension":"services","in":["clusters"]}}`, nil, 400, costexplorer.ErrInvalidEnumValue},
		{"FilterBadProjectID", "", `{"filter":{"dimension":"projects","in":["p1"]}}`, nil, 400, costexplorer.ErrValidation},
		{"FilterVeryDeep", "", `{"filter":` + strings.Repeat(`{"not":`, 100000) + strings.Repeat("}", 100000) + `}`, nil, 400, costexplorer.ErrMalformedJSON},
		{"AsOfNumber", "", `{"asOf":20250610}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"AsOfMonth", "", `{"asOf":"2025-06"}`, nil, 400, costexplorer.ErrInvalidDateFormat},
		{"AsOfImpossible", "", `{"asOf":"2025-02-30"}`, nil, 400, costexplorer.ErrInvalidDateFormat},
		{"AsOfTomorrow", "", `{"asOf":"2025-06-16"}`, nil, 400, costexplorer.ErrInvalidDateRange},
		{"AsOfBeforeHistory", "", `{"asOf":"2023-01-01"}`, nil, 400, costexplorer.ErrInvalidDateRange},
		{"OrgIDUpperCase", strings.ToUpper(other), `{}`, nil, 400, costexplorer.ErrInvalidPathParameter},
		{"ForeignOrg", other, `{}`, nil, 401, costexplorer.ErrUnauthorized},
		{"NoCredentials", "", `{}`, map[string]string{"Authorization": del}, 401, costexplorer.ErrUnauthorized},
		{"AcceptCSV", "", `{}`, map[string]string{"Accept": "text/csv"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptAtlasOnly", "", `{}`, map[string]string{"Accept": "application/vnd.atlas.2023-01-01+json"}, 406, costexplorer.ErrInvalidVersionDate},
		{"NoContentType", "", `{}`, map[string]string{"Content-Type": del}, 415, costexplorer.ErrUnsupportedMediaType},
		{"ContentTypeAtlas", "", `{}`, map[string]string{"Content-Type": "application/vnd.atlas.2023-01-01+json"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"BodyOverOneMiB", "", `{"asOf":"` + strings.Repeat("a", 1<<20) + `"}`, nil, 413, costexplorer.ErrBodyTooLarge},
	}
	e.checkOwnBadRequests(t, cases, e.forecastRequest)
}
