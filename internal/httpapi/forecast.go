package httpapi

import (
	"net/http"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/forecast"
)

// usageForecast serves POST /api/costexplorer/v1/orgs/{orgId}/usage:forecast
// (DESIGN §5.5, docs/forecast.md): the month end and the next months, per
// group or in total, from the daily totals the usage evaluator answers.
// asOf defaults to the server's clock's day, so that tests pin it.
func (s *Server) usageForecast(c *call) (reply, error) {
	q, err := costexplorer.ParseUsageForecastRequest(c.orgID, c.body, s.limits())
	if err != nil {
		return nil, err
	}
	f, err := forecast.Usage(c.r.Context(), s.cfg.UsageQueries, q)
	if err != nil {
		return nil, err
	}
	return ownJSONReply{http.StatusOK, f}, nil
}
