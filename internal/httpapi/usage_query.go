package httpapi

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/costexplorer/costexplorer"
)

// usageQuery serves POST /api/costexplorer/v1/orgs/{orgId}/usage:query
// (DESIGN §5.5): the answer at once, one page of it, as JSON
// (costexplorer.UsageAnswer) or as CSV with the next page's cursor in the
// Next-Cursor header (absent after the last page).
func (s *Server) usageQuery(c *call) (reply, error) {
	q, page, err := costexplorer.ParseUsageQueryRequest(c.orgID, c.body, costexplorer.QueryLimits{
		Now:           s.cfg.Now(),
		HistoryMonths: s.cfg.HistoryMonths,
	})
	if err != nil {
		return nil, err
	}
	answer, err := costexplorer.EvaluateUsageRows(c.r.Context(), s.cfg.UsageQueries, q)
	if err != nil {
		return nil, err
	}
	if err := costexplorer.CheckUsageRows(answer.Len(), s.cfg.MaxUsageRows); err != nil {
		return nil, err
	}
	rows, next := costexplorer.PageUsageAnswer(q, answer, page)
	if c.neg.format != formatCSV {
		return ownJSONReply{http.StatusOK, costexplorer.NewUsageAnswer(q, rows, next)}, nil
	}
	var buf bytes.Buffer
	cw, err := costexplorer.NewUsageCSVWriter(&buf, q)
	if err == nil {
		err = cw.Write(rows)
	}
	if err == nil {
		err = cw.Flush()
	}
	if err != nil {
		return nil, err
	}
	return usageCSV{body: buf.Bytes(), next: next}, nil
}

// nextCursorHeader carries the cursor of the next page of a CSV answer
// (the JSON answer has it in its body).
const nextCursorHeader = "Next-Cursor"

// usageCSV is a page of a usage:query answer as CSV.
type usageCSV struct {
	body []byte
	next string
}

func (u usageCSV) write(w http.ResponseWriter, _ *call) {
	h := w.Header()
	h.Set("Content-Type", ownCSV)
	if u.next != "" {
		h.Set(nextCursorHeader, u.next)
	}
	h.Set("Content-Length", strconv.Itoa(len(u.body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(u.body)
}
