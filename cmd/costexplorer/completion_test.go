package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func complete(t *testing.T, words ...string) []string {
	t.Helper()
	var out bytes.Buffer
	m := NewMain(strings.NewReader(""), &out, &bytes.Buffer{}, func(string) string { return "" })
	if code := m.Run(context.Background(), append([]string{"__complete"}, words...)); code != 0 {
		t.Fatalf("__complete %v exited %d", words, code)
	}
	return strings.Fields(out.String())
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
	var out bytes.Buffer
	m := NewMain(strings.NewReader(""), &out, &bytes.Buffer{}, func(string) string { return "" })
	if code := m.Run(context.Background(), []string{"completion", "bash"}); code != 0 || !strings.Contains(out.String(), "complete -o default -F _costexplorer costexplorer") {
		t.Errorf("completion bash: exit %d\n%s", code, out.String())
	}
}
