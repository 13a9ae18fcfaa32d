package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/focus"
)

// focusURL is the FOCUS export of months from to to (inclusive) of the
// organizations orgs (all the caller may see when empty), in format.
func focusURL(from, to costexplorer.Month, orgs []string, format focus.Format) string {
	v := url.Values{"from": {from.String()}, "to": {to.String()}, "format": {string(format)}}
	if len(orgs) > 0 {
		v["org"] = orgs
	}
	return "/focus?" + v.Encode()
}

// focusExport serves GET /focus?from=YYYY-MM&to=YYYY-MM[&org=ID…][&format=csv|parquet][&spec=1.3|1.2]:
// the FOCUS dataset of the invoices of those months, as `costexplorer export
// focus` writes it (internal/focus), streamed. The organizations are the
// session's and, for a caller who may see them, its linked ones; org
// narrows them (an organization outside them is refused, as the Invoices
// view refuses its invoices).
func (s *Server) focusExport(w http.ResponseWriter, r *http.Request, rq *request) {
	if !s.billingAllowed(w, r, rq, "the invoices", "Invoices need") {
		return
	}
	q := r.URL.Query()
	bad := func(why string) {
		s.renderMessage(w, r, http.StatusBadRequest, "Bad FOCUS export", why, rq.view)
	}
	from, err1 := costexplorer.ParseMonth(q.Get("from"))
	to, err2 := costexplorer.ParseMonth(q.Get("to"))
	if err1 != nil || err2 != nil || from > to {
		bad("Give the period as from=YYYY-MM and to=YYYY-MM, from not after to.")
		return
	}
	format, spec := focus.CSV, focus.Latest
	var err error
	if v := q.Get("format"); v != "" {
		if format, err = focus.ParseFormat(v); err != nil {
			bad("The format is csv (gzip-compressed) or parquet.")
			return
		}
	}
	if v := q.Get("spec"); v != "" {
		if spec, err = focus.ParseSpec(v); err != nil {
			bad("The FOCUS version is 1.3 or 1.2.")
			return
		}
	}
	scope, _, err := s.invoiceScope(r, rq)
	if err != nil {
		s.unexpected(w, r, err, rq.view)
		return
	}
	orgs := q["org"]
	for _, o := range orgs {
		if !slices.Contains(scope, o) {
			s.renderMessage(w, r, http.StatusNotFound, "Organization not found",
				"There is no organization "+o+" among those whose invoices you may see.", rq.view)
			return
		}
	}
	if len(orgs) == 0 {
		orgs = scope
	}
	name := "focus-" + string(spec) + "-" + from.String() + "-" + to.String()
	h := w.Header()
	if format == focus.Parquet {
		h.Set("Content-Type", "application/vnd.apache.parquet")
		name += ".parquet"
	} else {
		h.Set("Content-Type", "application/gzip")
		name += ".csv.gz"
	}
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	req := focus.Request{OrgID: rq.p.OrgID, From: from, To: to, Spec: spec, Format: format, Orgs: orgs}
	if _, err := focus.Export(r.Context(), s.store, req, w); err != nil {
		// The status is sent: all that is left is to log and cut the answer.
		s.log.Error("web: stream FOCUS export", "org", rq.p.OrgID, "err", err)
		panic(http.ErrAbortHandler)
	}
}
