package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/costexplorer/costexplorer"
)

// ReportService creates invoice reports and reads them back (DESIGN §5.4):
// internal/jobs.Reports over the store.
type ReportService interface {
	// Create accepts a validated request for a report of invoiceID, found
	// through orgID, and returns the pending report.
	Create(ctx context.Context, orgID, invoiceID string, req *costexplorer.InvoiceReportRequest) (*costexplorer.InvoiceReport, error)
	// InvoiceReport, InvoiceReports and InvoiceReportFile are those of
	// costexplorer.InvoiceReportStore.
	InvoiceReport(ctx context.Context, orgID, invoiceID, id string, now time.Time) (*costexplorer.InvoiceReport, error)
	InvoiceReports(ctx context.Context, orgID, invoiceID string, now time.Time, page costexplorer.PageRequest) ([]*costexplorer.InvoiceReport, int, error)
	InvoiceReportFile(ctx context.Context, id string, now time.Time, fn func([]byte) error) error
	// Generate writes the file of a report of inv at the FOCUS
	// specVersion to w, as a report's run makes it, synchronously.
	Generate(ctx context.Context, inv *costexplorer.Invoice, specVersion string, w io.Writer) error
}

// reportParam is the {reportId} of getOrgInvoiceReport.
var reportParam = pathParam{name: "reportId", valid: costexplorer.IsID, why: "a report id is 24 lower-case hexadecimal characters."}

// reportDownloadPath is the download URL's path: served by this server,
// outside the Atlas namespace (it is not an Atlas operation and takes no
// credentials: its signature is the credential).
const reportDownloadPath = "/api/costexplorer/v1/invoices/{invoiceId}/reports/{reportId}/download"

// reportView returns rep as the API shows it; withURL adds the signed
// download URL and its expiry to a succeeded report (a single report, never
// a listed one, as the specification says).
func (s *Server) reportView(r *http.Request, rep *costexplorer.InvoiceReport, withURL bool) costexplorer.InvoiceReportResponse {
	v := rep.Response()
	if rep.State == costexplorer.ReportSucceeded && withURL {
		exp := rep.ExpiresAt.Unix()
		v.DownloadURL = baseURL(r) + s.signedDownloadPath(rep.InvoiceID, rep.ID, exp)
		v.ExpiresAt = time.Unix(exp, 0).UTC()
	}
	return v
}

// withInvoice parses the request with parse(in), then finds the path's
// invoice (Server.invoice): a malformed request is a 400 naming its field
// whatever the invoice, and only a well-formed one learns whether the
// invoice exists.
func withInvoice[In, T any](s *Server, c *call, parse func(In) (T, error), in In) (T, *costexplorer.Invoice, error) {
	v, err := parse(in)
	if err != nil {
		return v, nil, err
	}
	inv, err := s.invoice(c)
	return v, inv, err
}

// createOrgInvoiceReport serves POST …/invoices/{invoiceId}/reports: the
// body is validated first (400 naming the field), then the invoice is found
// as the invoice operations find it (404 alike for a missing and a foreign
// one), then the report is created pending: 201 with its id and state.
func (s *Server) createOrgInvoiceReport(c *call) (reply, error) {
	req, inv, err := withInvoice(s, c, costexplorer.ParseInvoiceReportRequest, c.body)
	if err != nil {
		return nil, err
	}
	rep, err := s.cfg.Reports.Create(c.r.Context(), c.orgID, inv.ID, req)
	if err != nil {
		return nil, err
	}
	return entity{http.StatusCreated, s.reportView(c.r, rep, false)}, nil
}

// reportList is PaginatedInvoiceReportView.
type reportList struct {
	Links      []costexplorer.Link                  `json:"links"`
	Results    []costexplorer.InvoiceReportResponse `json:"results"`
	TotalCount *int                                 `json:"totalCount,omitempty"`
	Status     *int                                 `json:"status,omitempty"`
}

// listOrgInvoiceReports serves GET …/invoices/{invoiceId}/reports: the
// invoice's unexpired reports requested through {orgId}, newest first,
// without download URLs.
func (s *Server) listOrgInvoiceReports(c *call) (reply, error) {
	page, inv, err := withInvoice(s, c, costexplorer.ParsePageRequest, c.r.URL.Query())
	if err != nil {
		return nil, err
	}
	reps, total, err := s.cfg.Reports.InvoiceReports(c.r.Context(), c.orgID, inv.ID, s.cfg.Now(), page)
	if err != nil {
		return nil, err
	}
	list := reportList{
		Links:   pageLinks(c.r, page, page.Offset()+len(reps) < total),
		Results: make([]costexplorer.InvoiceReportResponse, 0, len(reps)),
	}
	for _, rep := range reps {
		list.Results = append(list.Results, s.reportView(c.r, rep, false))
	}
	if page.IncludeCount {
		list.TotalCount = &total
	}
	return listBody{http.StatusOK, &list, func(st int) { list.Status = &st }}, nil
}

// getOrgInvoiceReport serves GET …/invoices/{invoiceId}/reports/{reportId}:
// the report's state and, once it succeeded, its signed download URL and
// when that expires. An unknown, expired or other organization's report is
// 404, as is a report of an invoice the caller cannot see.
func (s *Server) getOrgInvoiceReport(c *call) (reply, error) {
	inv, err := s.invoice(c)
	if err != nil {
		return nil, err
	}
	id := c.r.PathValue("reportId")
	rep, err := s.cfg.Reports.InvoiceReport(c.r.Context(), c.orgID, inv.ID, id, s.cfg.Now())
	if err != nil {
		if costexplorer.IsNotFound(err) {
			return nil, errNotFound("Cannot find report " + id + " of invoice " + inv.ID + " for organization " + c.orgID + ".")
		}
		return nil, err
	}
	return entity{http.StatusOK, s.reportView(c.r, rep, true)}, nil
}

// reportFilename is the name a report's file is downloaded under: Atlas's
// example name.
func reportFilename(invoiceID string) string { return "invoice_" + invoiceID + "_focus.csv.gz" }

// reportSignature is the signature of a download URL: HMAC-SHA256 under
// the key every replica shares (the store's secret) of the invoice, the
// report and the expiry, base64url without padding.
func (s *Server) reportSignature(invoiceID, reportID string, expires int64) string {
	m := hmac.New(sha256.New, s.cfg.ReportKey)
	_, _ = io.WriteString(m, "invoice-report\n"+invoiceID+"\n"+reportID+"\n"+strconv.FormatInt(expires, 10))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) signedDownloadPath(invoiceID, reportID string, expires int64) string {
	return "/api/costexplorer/v1/invoices/" + invoiceID + "/reports/" + reportID + "/download?expires=" +
		strconv.FormatInt(expires, 10) + "&signature=" + s.reportSignature(invoiceID, reportID, expires)
}

// downloadInvoiceReport serves the download URL: the report's gzip CSV,
// streamed from the store, to anyone holding a URL that this server (any
// replica) signed and that has not expired. The answers, none of them 5xx
// unless the store fails:
//
//   - a URL whose signature does not match its invoice, report and expiry
//     (tampered with, or missing a part) is 403 INVALID_SIGNATURE, as an
//     object store answers a presigned URL that was altered;
//   - a genuine URL past its expiry is 404 RESOURCE_NOT_FOUND: the report
//     is gone, as Atlas answers for an expired report;
//   - a genuine URL of a report that no longer exists is 404 likewise.
func (s *Server) downloadInvoiceReport(w http.ResponseWriter, r *http.Request) {
	invoiceID, reportID := r.PathValue("invoiceId"), r.PathValue("reportId")
	q := r.URL.Query()
	exp, sig := q["expires"], q["signature"]
	var expires int64
	var err error
	if len(exp) == 1 {
		expires, err = strconv.ParseInt(exp[0], 10, 64)
	}
	if len(exp) != 1 || len(sig) != 1 || err != nil ||
		!hmac.Equal([]byte(sig[0]), []byte(s.reportSignature(invoiceID, reportID, expires))) {
		WriteError(w, r, costexplorer.Errorf(costexplorer.ErrInvalidSignature,
			"The download URL's signature does not match it: request the report again for a new URL."))
		return
	}
	now := s.cfg.Now()
	if now.Unix() >= expires {
		WriteError(w, r, errNotFound("The download URL of report "+reportID+" expired at "+
			time.Unix(expires, 0).UTC().Format(time.RFC3339)+"."))
		return
	}
	lw := &lazyWriter{w: w, contentType: "application/gzip", filename: reportFilename(invoiceID)}
	err = s.cfg.Reports.InvoiceReportFile(r.Context(), reportID, now, func(b []byte) error {
		_, err := lw.Write(b)
		return err
	})
	switch {
	case err == nil && !lw.started:
		// An empty file cannot be: a gzip stream has a header.
		WriteError(w, r, errNotFound("Cannot find report "+reportID+"."))
	case err != nil && !lw.started:
		if costexplorer.IsNotFound(err) {
			err = errNotFound("Cannot find report " + reportID + ".")
		}
		WriteError(w, r, err)
	case err != nil:
		// Only the connection can tell the client now.
		loggerFrom(r.Context()).Warn("download invoice report", "report", reportID, "err", err)
		panic(http.ErrAbortHandler)
	}
}
