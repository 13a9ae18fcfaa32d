package main

import (
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
)

func TestDayWindow(t *testing.T) {
	tests := []struct {
		name, from, to string
		g              costexplorer.Granularity
		start, end     string
		err            string
	}{
		{"DailyDefaultThisMonth", "", "", costexplorer.Daily, "2025-06-01", "2025-07-01", ""},
		{"MonthlyDefaultSixMonths", "", "", costexplorer.Monthly, "2025-01-01", "2025-07-01", ""},
		{"DaysBothIncluded", "2025-06-01", "2025-06-03", costexplorer.Daily, "2025-06-01", "2025-06-04", ""},
		{"MonthsAsDays", "2025-04", "2025-05", costexplorer.Daily, "2025-04-01", "2025-06-01", ""},
		{"ToDayDefaultFrom", "", "2025-03-10", costexplorer.Daily, "2025-03-01", "2025-03-11", ""},
		{"ToMonthDefaultFrom", "", "2025-03", costexplorer.Daily, "2025-03-01", "2025-04-01", ""},
		{"OneDay", "2025-06-14", "2025-06-14", costexplorer.Daily, "2025-06-14", "2025-06-15", ""},
		{"FromAfterTo", "2025-06-14", "2025-06-13", costexplorer.Daily, "", "", "--from 2025-06-14 is after --to 2025-06-13"},
		{"BadDay", "2025-06-31", "", costexplorer.Daily, "", "", "--from: invalid day"},
		{"BadMonth", "June", "", costexplorer.Daily, "", "", "--from: invalid month"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end, err := dayWindow(tt.from, tt.to, tt.g, cliNow)
			if wantErr(t, err, tt.err) {
				return
			}
			if start.String() != tt.start || end.String() != tt.end {
				t.Errorf("= %s..%s, want %s..%s", start, end, tt.start, tt.end)
			}
		})
	}
}

// TestQueryUsageGolden runs `costexplorer query` on the project's own API
// against the demo server: the tables are golden files, the JSON is every
// page of the API's answer and the CSV the API's CSV.
func TestQueryUsageGolden(t *testing.T) {
	s := startCLIServer(t)
	env := s.env()
	daily := []string{"query", "--granularity", "daily", "--from", "2025-06-01", "--to", "2025-06-03",
		"--group-by", "tag:team", "--group-by", "services", "--filter", "tag:environment=production"}
	checkCLIGoldens(t, env, []cliGolden{
		{"DailyTeamsAndServices", "query/usage-daily.golden", daily},
		{"ProjectsWithoutIDsMeansAll", "query/usage-projects.golden", []string{"query", "--from", "2025-04", "--group-by", "projects"}},
		{"MonthlyByTagPartialMonth", "query/usage-monthly-tag.golden", []string{"query", "--from", "2025-04-10", "--group-by", "tag:cost-center", "--filter", "tag:team!=data and tag:environment!=", "--service", "Clusters"}},
	})

	t.Run("OutputsAreTheAPIAnswer", func(t *testing.T) {
		body := `{"granularity":"DAILY","timePeriod":{"start":"2025-06-01","end":"2025-06-04"},"groupBy":["tag:team","services"],"filter":{"dimension":"tag:environment","in":["production"]}}`
		fetch := func(accept string) string {
			status, b := s.rawFetchAs(t, "POST", client.UsageQueryPath(s.creds.OrgID), accept, "application/json", []byte(body))
			if status != 200 {
				t.Fatalf("%d %s", status, b)
			}
			return string(b)
		}
		for _, f := range []struct{ output, accept string }{{"json", "application/json"}, {"csv", "text/csv"}} {
			r := runCLI(t, env, "", append(daily, "--output", f.output)...)
			if r.code != 0 {
				t.Fatalf("%s: exit %d: %s", f.output, r.code, r.stderr)
			}
			if want := fetch(f.accept); r.stdout != want {
				t.Errorf("--output %s:\n%s\nthe server answers:\n%s", f.output, r.stdout, want)
			}
		}
	})

	t.Run("Errors", func(t *testing.T) {
		for _, tt := range []struct {
			args       []string
			code       int
			wantStderr string
		}{
			{[]string{"query", "--granularity", "hourly"}, exitUsage, "--granularity must be daily or monthly"},
			{[]string{"query", "--group-by", "tag:team", "--group-by", "services", "--group-by", "projects"}, exitUsage, "at most 2 times"},
			{[]string{"query", "--filter", "tag:team"}, exitUsage, "--filter: condition \"tag:team\" has no ="},
			{[]string{"query", "--granularity", "daily", "--from", "2023-01-01"}, exitAPIError, "400 INVALID_DATE_RANGE"},
			{[]string{"query", "--filter", "services=Coffee"}, exitAPIError, "400 INVALID_ENUM_VALUE"},
		} {
			r := runCLI(t, env, "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("%q: exit %d, stderr %q; want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.wantStderr)
			}
		}
	})
}
