package client_test

import (
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/costexplorer/costexplorer/client"
)

// TestAllUsagePaging checks that the iterator follows the cursors and
// yields exactly the rows of one large page, in order, and that a bad
// request is an *APIError naming the field.
func TestAllUsagePaging(t *testing.T) {
	s := shared
	c, cnt := newClient(t, s, client.WithServiceAccount(s.ClientID, s.ClientSecret))
	ctx := t.Context()
	req := client.UsageQueryRequest{
		Granularity: client.Daily,
		TimePeriod:  client.TimePeriod{Start: "2025-05-01", End: "2025-05-15"},
		GroupBy:     []client.Dimension{"tag:team", "services"},
		PageSize:    10000,
	}
	one, err := c.QueryUsage(ctx, s.Org, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Results) < 20 || one.Next != nil {
		t.Fatalf("one page: %d rows, next %v; want every row", len(one.Results), one.Next)
	}
	req.PageSize = 9
	var all []client.UsageResult
	for r, err := range c.AllUsage(ctx, s.Org, req) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	if !reflect.DeepEqual(all, one.Results) {
		t.Errorf("iterated %d rows, want the %d of the one page in order", len(all), len(one.Results))
	}
	if got, want := cnt.count("POST "+client.UsageQueryPath(s.Org)), 1+(len(one.Results)+8)/9; got != want {
		t.Errorf("usage:query requests = %d, want %d (one page, then pages of 9)", got, want)
	}

	req.GroupBy = []client.Dimension{"regions"}
	_, err = c.QueryUsage(ctx, s.Org, req)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || len(apiErr.Fields) != 1 || apiErr.Fields[0].Field != "groupBy[0]" {
		t.Errorf("bad group-by: %v", err)
	}
}
