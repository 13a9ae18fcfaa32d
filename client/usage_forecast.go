package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/costexplorer/costexplorer"
)

// The project's own forecast (POST
// /api/costexplorer/v1/orgs/{orgId}/usage:forecast, not part of Atlas): the
// month end and the next months, per group or in total, each with an 80 %
// prediction interval. docs/forecast.md describes the method.

// Types of forecasts, shared with the costexplorer domain.
type (
	// UsageForecastRequest is the body of a forecast: an optional group-by
	// (one dimension), filter and forecast day (YYYY-MM-DD; the server's
	// today when empty).
	UsageForecastRequest = costexplorer.UsageForecastRequest
	// UsageForecast is the answer: the forecast day, the intervals'
	// coverage and one GroupForecast per group.
	UsageForecast = costexplorer.UsageForecast
	// GroupForecast is one group's key and its months.
	GroupForecast = costexplorer.GroupForecast
	// MonthForecast is one month: the point estimate, the interval's
	// bounds and what was spent before the forecast day, in cents.
	MonthForecast = costexplorer.MonthForecast
)

// UsageForecastPath returns the path of usage:forecast for orgID.
func UsageForecastPath(orgID string) string {
	return "/api/costexplorer/v1/orgs/" + url.PathEscape(orgID) + "/usage:forecast"
}

// ForecastUsage returns the forecast req asks for orgID. A bad request is
// an *APIError with status 400 naming the field.
func (c *Client) ForecastUsage(ctx context.Context, orgID string, req UsageForecastRequest) (*UsageForecast, error) {
	var f UsageForecast
	if err := c.callOwn(ctx, UsageForecastPath(orgID), req, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// callOwn posts body as JSON to path of the project's own API, which speaks
// plain media types rather than Atlas's, and decodes a 200 answer into out;
// any other status is an *APIError.
func (c *Client) callOwn(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	r, err := c.NewRequest(ctx, http.MethodPost, path, b)
	if err != nil {
		return err
	}
	r.Header.Set("Accept", "application/json")
	r.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(r)
	if err != nil {
		return err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return newAPIError(resp)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("client: decode the answer of %s: %w", path, err)
	}
	return nil
}
