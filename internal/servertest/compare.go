package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
)

// Answers compares two servers' answers to the same requests, byte for
// byte once the base URL in the links of want's answers is replaced by
// got's: the tests of a sync, whose target must answer as its source does.
type Answers struct {
	Want, Got *client.Client
	// Org is the organization whose credentials both clients carry (a
	// paying organization's owner sees its linked invoices too).
	Org string
}

// get returns c's answer to a GET (or a POST when body is not nil) of
// path with the given Accept header (JSON at the client's version when "").
func get(ctx context.Context, c *client.Client, method, path, accept string, body []byte) (int, []byte, error) {
	req, err := c.NewRequest(ctx, method, path, body)
	if err != nil {
		return 0, nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
		if body != nil {
			req.Header.Set("Content-Type", strings.Replace(accept, "+csv", "+json", 1))
		}
	}
	return Send(c, req)
}

// Send sends req with c (an *http.Client or a *client.Client) and returns
// the answer's status and whole body.
func Send(c interface {
	Do(*http.Request) (*http.Response, error)
}, req *http.Request) (int, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// Same asks both servers and reports a difference as a test error; it
// returns the source's answer.
func (a *Answers) Same(t testing.TB, method, path, accept string, body []byte) []byte {
	t.Helper()
	ctx := context.Background()
	ws, wb, err := get(ctx, a.Want, method, path, accept, body)
	if err != nil {
		t.Fatalf("source %s %s: %v", method, path, err)
	}
	gs, gb, err := get(ctx, a.Got, method, path, accept, body)
	if err != nil {
		t.Fatalf("target %s %s: %v", method, path, err)
	}
	wb = bytes.ReplaceAll(wb, []byte(a.Want.BaseURL()), []byte(a.Got.BaseURL()))
	if ws != gs || !bytes.Equal(wb, gb) {
		t.Errorf("%s %s (%s): target answers %d, source %d; first difference: %s", method, path, accept, gs, ws, firstDifference(gb, wb))
	}
	return wb
}

// firstDifference shows where two answers part.
func firstDifference(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	clip := func(b []byte) string {
		lo, hi := max(i-80, 0), min(i+120, len(b))
		return string(b[lo:hi])
	}
	return fmt.Sprintf("at byte %d (lengths %d, %d):\n got …%s…\nwant …%s…", i, len(got), len(want), clip(got), clip(want))
}

// Invoices compares every invoice answer: the lists (as the Atlas SDK asks,
// and in one page of 500), the pending invoices, and for each invoice of
// the organization and of its linked organizations its JSON, its CSV and
// two line-item searches. It returns the number of requests compared.
func (a *Answers) Invoices(t testing.TB) int {
	t.Helper()
	base := client.InvoicesPath(a.Org, "")
	csv := a.Want.MediaType("csv")
	search := "application/vnd.atlas." + client.LineItemSearchVersion + "+json"
	n := 0
	a.Same(t, "GET", base+"?includeCount=true&itemsPerPage=100&orderBy=desc&pageNum=1&sortBy=END_DATE&viewLinkedInvoices=true", "", nil)
	list := a.Same(t, "GET", base+"?itemsPerPage=500", "", nil)
	a.Same(t, "GET", base+"/pending", "", nil)
	n += 3
	var page struct {
		Results []struct {
			ID             string `json:"id"`
			LinkedInvoices []struct {
				ID string `json:"id"`
			} `json:"linkedInvoices"`
		} `json:"results"`
	}
	if err := json.Unmarshal(list, &page); err != nil || len(page.Results) == 0 {
		t.Fatalf("the source lists no invoices (%v): %.300s", err, list)
	}
	var ids []string
	for _, r := range page.Results {
		ids = append(ids, r.ID)
		for _, l := range r.LinkedInvoices {
			ids = append(ids, l.ID)
		}
	}
	for _, id := range ids {
		p := client.InvoicesPath(a.Org, id)
		a.Same(t, "GET", p, "", nil)
		a.Same(t, "GET", p+"/csv", csv, nil)
		a.Same(t, "POST", p+"/lineItems:search?itemsPerPage=50&pageNum=2", search, []byte(`{}`))
		a.Same(t, "POST", p+"/lineItems:search?itemsPerPage=500", search,
			[]byte(`{"filters":{"includeZeroCentLineItems":true},"sortField":"TOTAL_PRICE_CENTS","sortOrder":"ASCENDING"}`))
		n += 4
	}
	return n
}

// Queries compares the answers (JSON and CSV) to n cost-explorer queries
// drawn at random (seeded) over the months from first to last: every
// groupBy, filters on the organizations, projects, clusters and services
// the source's ungrouped answer names, with and without partial matches.
func (a *Answers) Queries(t testing.TB, seed uint64, n int, first, last costexplorer.Month) {
	t.Helper()
	ctx := context.Background()
	all := client.QueryRequest{Start: first, End: last + 1}
	tok, err := a.Want.CreateQuery(ctx, a.Org, all)
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Want.WaitForUsage(ctx, a.Org, tok)
	if err != nil {
		t.Fatal(err)
	}
	var orgs, projects, clusters []string
	add := func(s *[]string, v string) {
		if v != "" && !slices.Contains(*s, v) {
			*s = append(*s, v)
		}
	}
	for _, r := range u.Rows {
		add(&orgs, r.OrganizationID)
		add(&projects, r.ProjectID)
		add(&clusters, r.ClusterID)
	}
	if len(projects) < 2 || len(clusters) < 2 {
		t.Fatalf("the source's answer names %d projects and %d clusters: too few to query", len(projects), len(clusters))
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	pick := func(s []string) []string {
		k := 1 + rng.IntN(min(len(s), 4))
		out := slices.Clone(s)
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out[:k]
	}
	services := []costexplorer.Service{"Clusters", "Backup", "Data Transfer", "Support", "Credits", "Atlas Data Federation"}
	groupBys := []client.GroupBy{client.GroupByNone, client.GroupByOrganizations, client.GroupByProjects, client.GroupByClusters, client.GroupByServices}
	nonEmpty := 0
	for i := range n {
		s := first + costexplorer.Month(rng.IntN(int(last-first)+1))
		q := client.QueryRequest{Start: s, End: s + 1 + costexplorer.Month(rng.IntN(int(last-s)+1)), GroupBy: groupBys[i%len(groupBys)]}
		if rng.IntN(2) == 0 || q.GroupBy == client.GroupByOrganizations {
			q.Organizations = pick(orgs)
		}
		if rng.IntN(3) == 0 || q.GroupBy == client.GroupByProjects {
			q.Projects = pick(projects)
		}
		if rng.IntN(3) == 0 || q.GroupBy == client.GroupByClusters {
			q.Clusters = pick(clusters)
		}
		if rng.IntN(3) == 0 || q.GroupBy == client.GroupByServices {
			for _, k := range rng.Perm(len(services))[:1+rng.IntN(3)] {
				q.Services = append(q.Services, services[k])
			}
		}
		q.IncludePartialMatches = rng.IntN(2) == 0
		want := a.result(t, a.Want, q)
		got := a.result(t, a.Got, q)
		if !bytes.Equal(want, got) {
			body, _ := json.Marshal(q)
			t.Errorf("query %s: first difference %s", body, firstDifference(got, want))
		}
		if !bytes.Contains(want, []byte(`"usageDate"`)) {
			continue
		}
		nonEmpty++
	}
	// Empty answers on both sides would prove nothing.
	if nonEmpty < n/2 {
		t.Errorf("only %d of %d queries have rows", nonEmpty, n)
	}
}

// result asks c query q and returns its JSON result as served.
func (a *Answers) result(t testing.TB, c *client.Client, q client.QueryRequest) []byte {
	t.Helper()
	ctx := context.Background()
	tok, err := c.CreateQuery(ctx, a.Org, q)
	if err != nil {
		t.Fatalf("%s: create %+v: %v", c.BaseURL(), q, err)
	}
	u, err := c.WaitForUsage(ctx, a.Org, tok)
	if err != nil {
		t.Fatalf("%s: wait for %+v: %v", c.BaseURL(), q, err)
	}
	return u.Raw
}

var _ = http.MethodGet
