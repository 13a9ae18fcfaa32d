package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
	"github.com/costexplorer/costexplorer/internal/golden"
)

func TestMonthWindow(t *testing.T) {
	now := time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)
	m := costexplorer.MakeMonth
	tests := []struct {
		name, from, to string
		start, end     costexplorer.Month
		err            string
	}{
		{"DefaultSixMonthsToNow", "", "", m(2025, time.January), m(2025, time.July), ""},
		{"FromAndTo", "2025-01", "2025-06", m(2025, time.January), m(2025, time.July), ""},
		{"OneMonth", "2024-12", "2024-12", m(2024, time.December), m(2025, time.January), ""},
		{"ToOnlyAcrossYear", "", "2025-02", m(2024, time.September), m(2025, time.March), ""},
		{"FromOnly", "2025-05", "", m(2025, time.May), m(2025, time.July), ""},
		{"FromAfterTo", "2025-06", "2025-01", 0, 0, "--from 2025-06 is after --to 2025-01"},
		{"BadFrom", "2025-6", "", 0, 0, "--from: invalid month"},
		{"DayGiven", "", "2025-06-01", 0, 0, "--to: invalid month"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end, err := monthWindow(tt.from, tt.to, now)
			if wantErr(t, err, tt.err) {
				return
			}
			if start != tt.start || end != tt.end {
				t.Errorf("= %s, %s; want %s, %s", start, end, tt.start, tt.end)
			}
		})
	}
}

func TestQueryRequestDefaults(t *testing.T) {
	now := time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)
	const org = "aaaaaaaaaaaaaaaaaaaaaaaa"
	base := func() queryArgs { return queryArgs{org: org, output: "table", timeout: time.Minute} }
	tests := []struct {
		name  string
		edit  func(a *queryArgs)
		check func(t *testing.T, r client.QueryRequest)
		err   string
	}{
		{"NoGroupBy", func(a *queryArgs) {}, func(t *testing.T, r client.QueryRequest) {
			if r.GroupBy != "" || r.Organizations != nil || r.Services != nil {
				t.Errorf("request = %+v, want no grouping and no filters", r)
			}
		}, ""},
		{"ServicesDefaultToAll", func(a *queryArgs) { a.groupBy = stringList{"services"} }, func(t *testing.T, r client.QueryRequest) {
			if !slices.Equal(r.Services, costexplorer.Services) {
				t.Errorf("services = %v, want all %d", r.Services, len(costexplorer.Services))
			}
		}, ""},
		{"ServicesGivenKept", func(a *queryArgs) {
			a.groupBy = stringList{"services"}
			a.services = stringList{"Clusters,Backup", "Support"}
		},
			func(t *testing.T, r client.QueryRequest) {
				if !slices.Equal(r.Services, []client.Service{"Clusters", "Backup", "Support"}) {
					t.Errorf("services = %v", r.Services)
				}
			}, ""},
		{"OrganizationsLeftForDiscovery", func(a *queryArgs) { a.groupBy = stringList{"organizations"} }, func(t *testing.T, r client.QueryRequest) {
			if r.GroupBy != client.GroupByOrganizations || r.Organizations != nil {
				t.Errorf("request = %+v", r)
			}
		}, ""},
		{"ProjectsFiltersAndPartial", func(a *queryArgs) {
			a.groupBy, a.projects, a.partial = stringList{"projects"}, stringList{"bbbbbbbbbbbbbbbbbbbbbbbb"}, true
		}, func(t *testing.T, r client.QueryRequest) {
			if !slices.Equal(r.Projects, []string{"bbbbbbbbbbbbbbbbbbbbbbbb"}) || !r.IncludePartialMatches {
				t.Errorf("request = %+v", r)
			}
		}, ""},
		{"ProjectsNeedValues", func(a *queryArgs) { a.groupBy = stringList{"projects"} }, nil, "--group-by projects needs"},
		{"ClustersNeedValues", func(a *queryArgs) { a.groupBy = stringList{"clusters"} }, nil, "--group-by clusters needs"},
		{"UnknownGroupBy", func(a *queryArgs) { a.groupBy = stringList{"regions"} }, nil, "--group-by must be"},
		{"NoOrg", func(a *queryArgs) { a.org = "" }, nil, "--org is required"},
		{"BadOutput", func(a *queryArgs) { a.output = "yaml" }, nil, "--output must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := base()
			tt.edit(&a)
			r, err := a.request(now)
			if wantErr(t, err, tt.err) {
				return
			}
			if r.Start != costexplorer.MakeMonth(2025, time.January) || r.End != costexplorer.MakeMonth(2025, time.July) {
				t.Errorf("window = %s..%s", r.Start, r.End)
			}
			tt.check(t, r)
		})
	}
}

func TestRenderTable(t *testing.T) {
	months := []costexplorer.Month{costexplorer.MakeMonth(2025, time.May), costexplorer.MakeMonth(2025, time.June)}
	rows := []client.Row{
		{UsageDate: "2025-05-01", OrganizationID: "o1", OrganizationName: "Acme", Service: "Backup", UsageAmount: 1050},
		{UsageDate: "2025-05-01", OrganizationID: "o2", OrganizationName: "Initech", Service: "Backup", UsageAmount: 25},
		{UsageDate: "2025-05-01", OrganizationID: "o1", OrganizationName: "Acme", Service: "Clusters", UsageAmount: 123456},
		{UsageDate: "2025-06-01", OrganizationID: "o1", OrganizationName: "Acme", Service: "Clusters", UsageAmount: 100000},
		{UsageDate: "2025-06-01", OrganizationID: "o1", OrganizationName: "Acme", Service: "Credits", UsageAmount: -5000},
	}
	var b bytes.Buffer
	if err := renderTable(&b, client.GroupByServices, months, rows); err != nil {
		t.Fatal(err)
	}
	// Services add up across organizations; largest total first; a month
	// without usage shows "-"; credits (negative) sort last.
	want := `SERVICE    2025-05   2025-06     TOTAL
Clusters  1,234.56  1,000.00  2,234.56
Backup       10.75         -     10.75
Credits          -    -50.00    -50.00
--------  --------  --------  --------
TOTAL     1,245.31    950.00  2,195.31
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := renderTable(&b, client.GroupByServices, months, []client.Row{{UsageDate: "June"}}); err == nil {
		t.Error("a row with a bad usageDate was rendered")
	}
}

// TestQueryGolden runs `costexplorer query` against the demo server and
// compares the table with golden files; the JSON and CSV outputs are the
// server's bodies.
func TestQueryGolden(t *testing.T) {
	s := startCLIServer(t)
	env := s.env()
	checkCLIGoldens(t, env, []cliGolden{
		{"ByServices", "query/services.golden", []string{"query", "--from", "2025-01", "--to", "2025-06", "--group-by", "services"}},
		{"ByOrganizationsDiscoversLinked", "query/organizations.golden", []string{"query", "--group-by", "organizations"}},
		{"OrganizationGiven", "query/organization-given.golden", []string{"query", "--from", "2025-04", "--group-by", "organizations", "--organization", s.creds.OrgID}},
		{"FinestDetailOneService", "query/detail-clusters.golden", []string{"query", "--from", "2025-05", "--service", "Clusters"}},
		{"ServicesPartial", "query/services-partial.golden", []string{"query", "--from", "2025-06", "--to", "2025-06", "--group-by", "services", "--service", "Support,Credits", "--partial"}},
	})

	t.Run("RawFormatsAreServerBodies", func(t *testing.T) {
		args := []string{"query", "--from", "2025-04", "--to", "2025-06", "--group-by", "services", "--service", "Clusters", "--service", "Backup"}
		body := `{"startDate":"2025-04-01","endDate":"2025-07-01","services":["Clusters","Backup"],"groupBy":"services"}`
		created := runCLI(t, env, body, "api", "invoices", "createCostExplorerProcess")
		token := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(created.stdout), `{"token":"`), `"}`)
		for _, f := range []struct{ output, accept string }{
			{"json", "application/vnd.atlas.2023-01-01+json"},
			{"csv", "application/vnd.atlas.2023-01-01+csv"},
		} {
			r := runCLI(t, env, "", append(args, "--output", f.output)...)
			if r.code != 0 {
				t.Fatalf("%s: exit %d: %s", f.output, r.code, r.stderr)
			}
			_, raw := s.rawFetch(t, "GET", client.UsagePath(s.creds.OrgID, token), f.accept, nil)
			if f.output == "json" {
				raw = append(bytes.TrimSpace(raw), '\n')
			}
			if r.stdout != string(raw) {
				t.Errorf("--output %s:\n%s\nthe server answers:\n%s", f.output, r.stdout, raw)
			}
		}
	})
}

func TestQueryExitStatus(t *testing.T) {
	s := startCLIServer(t)
	slow := startCLIServer(t, "--min-processing", "1h")
	wrong := s.env()
	wrong["COSTEXPLORER_PUBLIC_KEY"] = "zzzzzzzz"
	unreachable := s.env()
	unreachable["COSTEXPLORER_BASE_URL"] = "http://127.0.0.1:1"
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"OK", s.env(), []string{"query", "--from", "2025-06"}, 0, ""},
		{"Usage", s.env(), []string{"query", "--group-by", "regions"}, exitUsage, "--group-by: unknown dimension \"regions\""},
		{"APIErrorOutsideWindow", s.env(), []string{"query", "--from", "2023-01"}, exitAPIError, "400 INVALID_DATE_RANGE: startDate 2023-01-01 is outside the billing data window"},
		{"APIErrorBadService", s.env(), []string{"query", "--service", "Coffee"}, exitAPIError, "400 INVALID_ENUM_VALUE"},
		{"Auth", wrong, []string{"query"}, exitAuth, "401 USER_UNAUTHORIZED"},
		{"Network", unreachable, []string{"query"}, exitNetwork, "connection refused"},
		{"StillProcessingAfterTimeout", slow.env(), []string{"query", "--timeout", "300ms"}, exitProcessing, "still processing after 300ms; fetch it later with:\n  costexplorer api invoices getCostExplorerUsage --orgId " + s.creds.OrgID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, "", tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, r.stderr)
			}
		})
	}
}

// cliGolden is a command whose standard output is a golden file.
type cliGolden struct {
	name, golden string
	args         []string
}

// checkCLIGoldens runs each command with env: it must exit 0, write
// nothing on standard error (not a terminal) and print its golden file.
func checkCLIGoldens(t *testing.T, env map[string]string, cases []cliGolden) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, env, "", tt.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if r.stderr != "" {
				t.Errorf("stderr = %q, want nothing (not a terminal)", r.stderr)
			}
			golden.Check(t, tt.golden, []byte(r.stdout))
		})
	}
}
