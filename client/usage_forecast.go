package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// The project's own forecast (POST
// /api/costexplorer/v1/orgs/{orgId}/usage:forecast, not part of Atlas): the
// month end and the next months, per group or in total, each with an 80 %
// prediction interval. docs/forecast.md describes the method.

// UsageForecastPath returns the path of usage:forecast for orgID.
func UsageForecastPath(orgID string) string {
	return ownPath(orgID, "usage:forecast")
}

// ownPath returns the path of the project's own operation op (usage:query,
// usage:forecast) for orgID.
func ownPath(orgID, op string) string {
	return "/api/costexplorer/v1/orgs/" + url.PathEscape(orgID) + "/" + op
}

// ForecastUsage returns the forecast req asks for orgID. A bad request is
// an *APIError with status 400 naming the field.
func (c *Client) ForecastUsage(ctx context.Context, orgID string, req UsageForecastRequest) (*UsageForecast, error) {
	return callOwn[UsageForecast](ctx, c, UsageForecastPath(orgID), req)
}

// callOwn posts body as JSON to path of the project's own API, which speaks
// plain media types rather than Atlas's, and decodes a 200 answer into a T;
// any other status is an *APIError.
func callOwn[T any](ctx context.Context, c *Client, path string, body any) (*T, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	r, err := c.NewRequest(ctx, http.MethodPost, path, b)
	if err != nil {
		return nil, err
	}
	r.Header.Set("Accept", "application/json")
	r.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(r)
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, newAPIError(resp)
	}
	var out T
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("client: decode the answer of %s: %w", path, err)
	}
	return &out, nil
}
