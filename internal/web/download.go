package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/costexplorer/costexplorer"
)

// statusAnswer is the JSON the page's script polls while a query processes.
type statusAnswer struct {
	State      string `json:"state"` // processing, ready or failed
	RetryAfter int    `json:"retryAfter"`
}

// status serves GET /status/{token} for the script's polling.
func (s *Server) status(w http.ResponseWriter, r *http.Request, rq *request) {
	p, ok := s.process(w, r, rq)
	if !ok {
		return
	}
	now := s.cfg.Now()
	a := statusAnswer{State: string(p.Status(now))}
	if a.State == string(costexplorer.QueryProcessing) {
		a.RetryAfter = refreshSeconds(p.ReadyAt.Sub(now))
	}
	b, _ := json.Marshal(a)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// process returns the process of the session's organization named by the
// {token} path value, answering 404 for anything else: a token of another
// organization is as unknown as one that never existed.
func (s *Server) process(w http.ResponseWriter, r *http.Request, rq *request) (*costexplorer.QueryProcess, bool) {
	if err := costexplorer.AuthorizeOrg(rq.p, rq.p.OrgID, true); err != nil {
		s.renderMessage(w, r, http.StatusForbidden, "Not allowed", "Your credential may not see billing data.", rq.view)
		return nil, false
	}
	token := r.PathValue("token")
	notFound := func() {
		s.renderMessage(w, r, http.StatusNotFound, "Result not found",
			"There is no result with this token for "+rq.org.Name+". Results are kept for a day; run the query again.", rq.view)
	}
	if !costexplorer.IsToken(token) {
		notFound()
		return nil, false
	}
	p, err := s.cfg.Usage.Usage(r.Context(), rq.p.OrgID, token)
	if costexplorer.IsNotFound(err) {
		notFound()
		return nil, false
	}
	if err != nil {
		s.unexpected(w, r, err, rq.view)
		return nil, false
	}
	return p, true
}

// download serves GET /download/{token}/{format}: the process's stored JSON,
// or the contract's CSV of its rows, byte for byte what the API answers for
// the same token.
func (s *Server) download(w http.ResponseWriter, r *http.Request, rq *request) {
	format := r.PathValue("format")
	if format != "csv" && format != "json" {
		s.renderMessage(w, r, http.StatusNotFound, "Page not found", "Downloads are CSV or JSON.", rq.view)
		return
	}
	p, ok := s.process(w, r, rq)
	if !ok {
		return
	}
	if p.Status(s.cfg.Now()) != costexplorer.QueryReady {
		w.Header().Set("Retry-After", "1")
		s.renderMessage(w, r, http.StatusConflict, "Not ready yet", "This query is still processing. Try the download again in a moment.", rq.view)
		return
	}
	var buf bytes.Buffer
	ct := "application/json; charset=utf-8"
	if format == "json" {
		// The API writes the stored body and a newline (httpapi writeBody).
		buf.Write(p.Result)
		buf.WriteByte('\n')
	} else {
		ct = "text/csv; charset=utf-8"
		var res costexplorer.Result
		if err := json.Unmarshal(p.Result, &res); err != nil {
			s.unexpected(w, r, fmt.Errorf("decode result of %s: %w", p.Token, err), rq.view)
			return
		}
		if err := costexplorer.WriteCSV(&buf, res.UsageDetails); err != nil {
			s.unexpected(w, r, err, rq.view)
			return
		}
	}
	name := fmt.Sprintf("costexplorer-%s-%s", p.Query.Start, p.Query.End-1)
	if p.Query.GroupBy != "" {
		name += "-" + string(p.Query.GroupBy)
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", `attachment; filename="`+name+"."+format+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}
