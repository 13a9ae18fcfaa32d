package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
)

// MakeMonth returns the month of the given year and month.
func MakeMonth(year int, month time.Month) Month { return costexplorer.MakeMonth(year, month) }

// QueryRequest is a cost-explorer query (the Atlas
// CostExplorerFilterRequestBody). Start is the first month of the window and
// End the month after the last one, as the API's startDate (inclusive) and
// endDate (exclusive), both sent as first days of months.
type QueryRequest struct {
	Start, End    Month
	Organizations []string
	Projects      []string
	Clusters      []string
	Services      []Service
	// GroupBy needs at least one value in the filter of its dimension.
	GroupBy GroupBy
	// IncludePartialMatches includes usage that lacks a filtered dimension
	// (a support charge has no project or cluster).
	IncludePartialMatches bool
}

// MarshalJSON writes the request body the API expects.
func (q QueryRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(costexplorer.QueryRequestBody{
		StartDate: q.Start.Date(), EndDate: q.End.Date(),
		Organizations: q.Organizations, Projects: q.Projects, Clusters: q.Clusters, Services: q.Services,
		GroupBy: q.GroupBy, IncludePartialMatches: q.IncludePartialMatches,
	})
}

// UsagePath returns the path of the cost-explorer usage resource of orgID,
// and of one query's result when token is not empty.
func UsagePath(orgID, token string) string {
	p := "/api/atlas/v2/orgs/" + url.PathEscape(orgID) + "/billing/costExplorer/usage"
	if token != "" {
		p += "/" + url.PathEscape(token)
	}
	return p
}

// CreateQuery submits a query for orgID and returns its token. The same
// query on the same data returns the same token.
func (c *Client) CreateQuery(ctx context.Context, orgID string, req QueryRequest) (string, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := c.call(ctx, http.MethodPost, UsagePath(orgID, ""), body, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", errors.New("client: the server accepted the query but returned no token")
	}
	return out.Token, nil
}

// Usage is one look at a query's result.
type Usage struct {
	// Ready is false while the query is processing; Rows and Raw are then
	// empty.
	Ready bool
	// RetryAfter is the server's hint of when to look again, if it gave one.
	RetryAfter time.Duration
	// Rows are the usage details, ordered as the server ordered them.
	Rows []Row
	// Raw is the result document as received, {"usageDetails":[…]}.
	Raw json.RawMessage
}

// Total returns the sum of the rows' amounts.
func (u *Usage) Total() Cents {
	var t Cents
	for i := range u.Rows {
		t += u.Rows[i].UsageAmount
	}
	return t
}

// ErrProcessing is returned by [Client.UsageCSV] while the query is still
// processing.
var ErrProcessing = errors.New("client: the query is still processing")

// Usage looks once at the result of a query: ready with its rows, or still
// processing. An unknown or expired token is an *APIError with status 404.
func (c *Client) Usage(ctx context.Context, orgID, token string) (*Usage, error) {
	resp, err := c.get(ctx, UsagePath(orgID, token)+"?envelope=true", "")
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("client: read the usage answer: %w", err)
	}
	u := &Usage{RetryAfter: retryAfter(resp.Header, time.Now())}
	doc, processing, err := unwrapEnvelope(body)
	if err != nil || processing {
		return u, err
	}
	var res struct {
		UsageDetails *[]Row `json:"usageDetails"`
	}
	if err := json.Unmarshal(doc, &res); err != nil {
		return nil, fmt.Errorf("client: decode the usage details: %w", err)
	}
	if res.UsageDetails == nil {
		return nil, errors.New("client: the usage answer has no usageDetails")
	}
	u.Ready, u.Rows, u.Raw = true, *res.UsageDetails, doc
	return u, nil
}

// unwrapEnvelope reads a usage answer asked for with envelope=true. A 102
// envelope or an empty body (a server that ignored envelope=true and sent
// 102 Processing then an empty 200) means processing; an envelope with an
// error status is that error; an answer without an envelope is the document.
func unwrapEnvelope(body []byte) (doc []byte, processing bool, err error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, true, nil
	}
	var env struct {
		Status  *int            `json:"status"`
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(body, &env) != nil || env.Status == nil || env.Content == nil {
		return body, false, nil
	}
	switch s := *env.Status; {
	case s == http.StatusProcessing:
		return nil, true, nil
	case s >= 400:
		return nil, false, parseAPIError(s, env.Content)
	}
	return env.Content, false, nil
}

// UsageCSV looks once at the result of a query and, when it is ready,
// returns the CSV body as a stream (header line first), which the caller
// closes. While the query processes it returns ErrProcessing.
func (c *Client) UsageCSV(ctx context.Context, orgID, token string) (io.ReadCloser, error) {
	rc, _, err := c.usageCSV(ctx, orgID, token)
	return rc, err
}

func (c *Client) usageCSV(ctx context.Context, orgID, token string) (io.ReadCloser, time.Duration, error) {
	resp, err := c.get(ctx, UsagePath(orgID, token)+"?envelope=true", c.MediaType("csv"))
	if err != nil {
		return nil, 0, err
	}
	wait := retryAfter(resp.Header, time.Now())
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if strings.HasSuffix(mt, "+csv") || mt == "text/csv" {
		return resp.Body, 0, nil
	}
	// Not CSV: an envelope (processing or an error) or an empty answer.
	defer drain(resp)
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("client: read the usage answer: %w", err)
	}
	if _, processing, err := unwrapEnvelope(body); err != nil {
		return nil, 0, err
	} else if processing {
		return nil, wait, ErrProcessing
	}
	return nil, 0, fmt.Errorf("client: expected CSV, got %q", resp.Header.Get("Content-Type"))
}

// WaitForUsage polls the result of a query until it is ready, the server
// reports an error, or ctx ends. Polls are spaced by a jittered exponential
// backoff (from about a quarter second up to five seconds), never sooner
// than the server's Retry-After.
func (c *Client) WaitForUsage(ctx context.Context, orgID, token string) (*Usage, error) {
	for attempt := 0; ; attempt++ {
		u, err := c.Usage(ctx, orgID, token)
		if err != nil {
			return nil, err
		}
		if u.Ready {
			return u, nil
		}
		if err := c.sleep(ctx, backoff(attempt, u.RetryAfter, c.jitter())); err != nil {
			return nil, fmt.Errorf("client: waiting for query %s: %w", token, err)
		}
	}
}

// WaitForUsageCSV is WaitForUsage for the CSV form: it returns the CSV
// stream once the result is ready.
func (c *Client) WaitForUsageCSV(ctx context.Context, orgID, token string) (io.ReadCloser, error) {
	for attempt := 0; ; attempt++ {
		rc, wait, err := c.usageCSV(ctx, orgID, token)
		if !errors.Is(err, ErrProcessing) {
			return rc, err
		}
		if err := c.sleep(ctx, backoff(attempt, wait, c.jitter())); err != nil {
			return nil, fmt.Errorf("client: waiting for query %s: %w", token, err)
		}
	}
}
