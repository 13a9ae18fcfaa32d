package clienttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	admin001 "go.mongodb.org/atlas-sdk/v20250312001/admin"
	admin020 "go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// usageQuery is a CostExplorerFilterRequestBody, built as the SDK model of
// each version.
type usageQuery struct {
	StartDate             string   `json:"startDate"`
	EndDate               string   `json:"endDate"`
	Organizations         []string `json:"organizations,omitempty"`
	Projects              []string `json:"projects,omitempty"`
	Clusters              []string `json:"clusters,omitempty"`
	Services              []string `json:"services,omitempty"`
	GroupBy               string   `json:"groupBy,omitempty"`
	IncludePartialMatches *bool    `json:"includePartialMatches,omitempty"`
}

func optSlice(s []string) *[]string {
	if s == nil {
		return nil
	}
	return &s
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (q usageQuery) body001() *admin001.CostExplorerFilterRequestBody {
	return &admin001.CostExplorerFilterRequestBody{StartDate: q.StartDate, EndDate: q.EndDate,
		Organizations: optSlice(q.Organizations), Projects: optSlice(q.Projects), Clusters: optSlice(q.Clusters),
		Services: optSlice(q.Services), GroupBy: optString(q.GroupBy), IncludePartialMatches: q.IncludePartialMatches}
}

func (q usageQuery) body020() *admin020.CostExplorerFilterRequestBody {
	return &admin020.CostExplorerFilterRequestBody{StartDate: q.StartDate, EndDate: q.EndDate,
		Organizations: optSlice(q.Organizations), Projects: optSlice(q.Projects), Clusters: optSlice(q.Clusters),
		Services: optSlice(q.Services), GroupBy: optString(q.GroupBy), IncludePartialMatches: q.IncludePartialMatches}
}

// createUsageQuery is POST .../billing/costExplorer/usage:
// CreateCostExplorerQueryProcess in v20250312001, renamed
// CreateCostExplorerProcess by v20250312020.
func (c *sdkClient) createUsageQuery(ctx context.Context, orgID string, q usageQuery) call {
	switch {
	case c.a001 != nil:
		body := q.body001()
		r := result(c.a001.InvoicesApi.CreateCostExplorerQueryProcess(ctx, orgID, body).Execute())
		r.sent = mustJSON(body)
		return r
	default:
		body := q.body020()
		r := result(c.a020.InvoicesApi.CreateCostExplorerProcess(ctx, orgID, body).Execute())
		r.sent = mustJSON(body)
		return r
	}
}

// getUsage is GET .../billing/costExplorer/usage/{token}:
// GetCostExplorerQueryProcess, renamed GetCostExplorerUsage. Both return
// `any`: the JSON decoded into map[string]any (v20250312020 with
// json.Number for numbers), or nil for an empty body.
func (c *sdkClient) getUsage(ctx context.Context, orgID, token string) call {
	var r call
	switch {
	case c.a001 != nil:
		r.value, r.resp, r.err = c.a001.InvoicesApi.GetCostExplorerQueryProcess(ctx, orgID, token).Execute()
	default:
		r.value, r.resp, r.err = c.a020.InvoicesApi.GetCostExplorerUsage(ctx, orgID, token).Execute()
	}
	return r
}

// queries counts the queries freshQuery has handed out in this process.
var queries atomic.Int64

// freshQuery returns a valid query of the demo organization that no test of
// this process has sent before: its token is new, so the server keeps it
// processing for minProcessing. Queries differ by their window (1 to 12
// months, ending next month) and then by their filters.
func freshQuery() usageQuery {
	n := int(queries.Add(1)) - 1
	end := firstOfMonth(time.Now()).AddDate(0, 1, 0)
	q := usageQuery{StartDate: end.AddDate(0, -(1 + n%12), 0).Format(time.DateOnly), EndDate: end.Format(time.DateOnly)}
	yes := true
	switch n / 12 {
	case 0: // finest detail: every identity field
	case 1:
		q.Organizations, q.GroupBy = []string{demo.creds.OrgID}, "organizations"
	case 2:
		q.Organizations, q.GroupBy = []string{demo.creds.OrgID}, "services"
	case 3:
		q.Services, q.IncludePartialMatches = []string{"Clusters", "Support", "Backup"}, &yes
	default:
		// Results are cached per query for the server's lifetime, and the
		// server lives as long as the test process: more variants are
		// needed for -count above 2.
		panic(fmt.Sprintf("freshQuery: %d queries in one process: add variants", n))
	}
	return q
}

func firstOfMonth(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// createToken creates q with the SDK, checks the answer against a raw
// request, and returns the token.
func (c *sdkClient) createToken(t testing.TB, ctx context.Context, q usageQuery) string {
	t.Helper()
	r := c.createUsageQuery(ctx, demo.creds.OrgID, q)
	c.checkOK(t, ctx, "create query", r, http.StatusAccepted)
	var created struct{ Token string }
	json.Unmarshal(mustJSON(r.value), &created)
	if len(created.Token) != 64 {
		t.Fatalf("%s: create query: token %q", c, created.Token)
	}
	return created.Token
}

// A careful caller's poll loop, the contract under test: processing and
// ready must be told apart by the status codes alone.
var (
	errEmptyResult   = errors.New("an empty final answer without an interim 102: a caller cannot tell it from an empty result")
	errBodyWith102   = errors.New("a body after an interim 102")
	errNotUsage      = errors.New("a ready answer without usageDetails")
	errPollTimedOut  = errors.New("still processing after the poll deadline")
	errProcessingNon = errors.New("an interim 102 without a final 200")
	errNoRetryAfter  = errors.New("an interim 102 without Retry-After")
)

// poll is what pollUsage saw.
type poll struct {
	ready      call // the final, ready answer
	processing int  // answers that said processing
}

// pollUsage polls the result of token with the SDK's own get call until it
// is ready, as a careful caller does: it traces 1xx answers with httptrace,
// takes an interim 102 Processing followed by an empty 200 as "processing",
// waits the 102's Retry-After, and asks again. Anything else that is not a
// ready result (an empty 200 with no 102 before it, a body after a 102, a
// result without usageDetails, an SDK error) is an error.
func (c *sdkClient) pollUsage(ctx context.Context, orgID, token string) (poll, error) {
	var p poll
	deadline := time.Now().Add(20 * minProcessing)
	for {
		var interim []int
		var retryAfter string
		tctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
				interim = append(interim, code)
				retryAfter = h.Get("Retry-After")
				return nil
			},
		})
		r := c.getUsage(tctx, orgID, token)
		switch {
		case r.err != nil:
			return p, fmt.Errorf("get usage: %w", r.err)
		case slices.Contains(interim, http.StatusProcessing):
			if r.resp.StatusCode != http.StatusOK {
				return p, fmt.Errorf("%w: final status %d", errProcessingNon, r.resp.StatusCode)
			}
			if r.value != nil {
				return p, fmt.Errorf("%w: %s", errBodyWith102, show(r.value))
			}
			if retryAfter == "" {
				return p, errNoRetryAfter
			}
			p.processing++
		case r.value == nil:
			return p, fmt.Errorf("%w (status %d)", errEmptyResult, r.resp.StatusCode)
		default:
			m, _ := r.value.(map[string]any)
			if _, ok := m["usageDetails"]; !ok {
				return p, fmt.Errorf("%w: %s", errNotUsage, show(r.value))
			}
			p.ready = r
			return p, nil
		}
		if time.Now().After(deadline) {
			return p, errPollTimedOut
		}
		wait := 200 * time.Millisecond
		if s, err := strconv.Atoi(retryAfter); err == nil && s > 0 {
			wait = min(time.Duration(s)*time.Second, minProcessing)
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-time.After(wait):
		}
	}
}

func TestUsage(t *testing.T) {
	forEachClient(t, func(t *testing.T, c *sdkClient) {
		ctx := t.Context()
		for range 2 {
			q := freshQuery()
			token := c.createToken(t, ctx, q)
			p, err := c.pollUsage(ctx, demo.creds.OrgID, token)
			if err != nil {
				t.Fatalf("%s: poll %s: %v", c, show(q), err)
			}
			if p.processing == 0 {
				t.Errorf("%s: the first poll of a new query did not say processing (min-processing %s)", c, minProcessing)
			}
			c.checkOK(t, ctx, "get usage", p.ready, http.StatusOK)
			if rows := usageRows(p.ready.value); rows == 0 {
				t.Errorf("%s: %s: no usage rows in the demo data", c, show(q))
			}
			// The project's own client reads the same result through
			// ?envelope=true into exact cents: the SDK's numbers (float64
			// in v20250312001, json.Number in v20250312020) must be the
			// same amounts, row by row.
			own, err := c.raw.Usage(ctx, demo.creds.OrgID, token)
			if err != nil || !own.Ready {
				t.Fatalf("%s: our client: ready %v, %v", c, own != nil && own.Ready, err)
			}
			sameJSON(t, c.String()+": the SDK's result against our client's", p.ready.value,
				mustJSON(costexplorer.Result{UsageDetails: own.Rows}))
			// Asked again, the result is ready at once and the same.
			again := c.getUsage(ctx, demo.creds.OrgID, token)
			c.checkOK(t, ctx, "get usage again", again, http.StatusOK)
			sameJSON(t, c.String()+": get usage again", again.value, mustJSON(p.ready.value))
		}
	})
}

// usageRows returns the number of usageDetails rows of a ready result.
func usageRows(v any) int {
	m, _ := v.(map[string]any)
	rows, _ := m["usageDetails"].([]any)
	return len(rows)
}
