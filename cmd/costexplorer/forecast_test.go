package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer/client"
)

func TestForecastCLI(t *testing.T) {
	s := startCLIServer(t)
	env := s.env()
	checkCLIGoldens(t, env, []cliGolden{
		{"Total", "forecast/total.golden", []string{"forecast"}},
		{"ByServicesCSV", "forecast/services.csv", []string{"forecast", "--group-by", "services", "--as-of", "2025-06-10", "--output", "csv"}},
		{"ByTeamTable", "forecast/team.golden", []string{"forecast", "--group-by", "tag:team", "--as-of", "2025-06-10"}},
		{"FilteredBySingularDimension", "forecast/production-clusters.golden", []string{"forecast", "--group-by", "cluster", "--filter", "tag:environment=production and services=Clusters"}},
	})
	t.Run("JSONIsTheServersBody", func(t *testing.T) {
		r := runCLI(t, env, "", "forecast", "--group-by", "services", "--output", "json")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		status, raw := s.rawFetch(t, "POST", client.UsageForecastPath(s.creds.OrgID), "application/json", []byte(`{"groupBy":["services"]}`))
		if want := string(append(bytes.TrimSpace(raw), '\n')); status != 200 || r.stdout != want {
			t.Errorf("--output json:\n%s\nthe server answers %d:\n%s", r.stdout, status, want)
		}
	})
	for _, tt := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"BadOutput", []string{"forecast", "--output", "yaml"}, exitUsage, "--output must be table, json or csv"},
		{"Positional", []string{"forecast", "services"}, exitUsage, ""},
		{"BadGroupBy", []string{"forecast", "--group-by", "regions"}, exitUsage, "--group-by: unknown dimension"},
		{"BadFilter", []string{"forecast", "--filter", "tag:team"}, exitUsage, "--filter:"},
		{"FilterValueRefused", []string{"forecast", "--filter", "services=Coffee"}, exitAPIError, "400 INVALID_ENUM_VALUE"},
		{"AsOfInTheFuture", []string{"forecast", "--as-of", "2099-01-01"}, exitAPIError, "400 INVALID_DATE_RANGE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, env, "", tt.args...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("exit %d, want %d; stderr %q lacks %q", r.code, tt.wantCode, r.stderr, tt.wantStderr)
			}
		})
	}
}
