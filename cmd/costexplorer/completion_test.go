package main

import (
	"strings"
	"testing"
)

func complete(t *testing.T, words ...string) []string {
	t.Helper()
	return strings.Fields(runCLI(t, nil, "", append([]string{"__complete"}, words...)...).wantCode(t, 0).stdout)
}

func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{nil, []string{"admin", "api", "demo", "import", "query", "serve", "completion"}},
		{[]string{"admin"}, []string{"apikey", "org", "serviceaccount", "verify", "backup"}},
		{[]string{"admin", "apikey"}, []string{"create", "list", "disable"}},
		{[]string{"api"}, []string{"invoices", "organizations"}},
		{[]string{"api", "invoices"}, []string{"createCostExplorerProcess", "getCostExplorerQueryProcess", "getOrgBillingCostExplorerUsage"}},
		{[]string{"serve"}, []string{"--addr", "--min-processing", "--tls-cert", "--data-dir", "--db"}},
		{[]string{"query"}, []string{"--org", "--group-by", "--output"}},
		{[]string{"admin", "apikey", "create"}, []string{"--org", "--role"}},
	} {
		got := strings.Join(complete(t, tc.words...), " ")
		for _, w := range tc.want {
			if !strings.Contains(" "+got+" ", " "+w+" ") {
				t.Errorf("completion of %v lacks %s: %s", tc.words, w, got)
			}
		}
	}
	runCLI(t, nil, "", "completion", "bash").want(t, 0, []string{"complete -o default -F _costexplorer costexplorer"}, nil)
}
