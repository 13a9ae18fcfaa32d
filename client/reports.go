package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/costexplorer/costexplorer"
)

// InvoiceReportVersion is the API version of the invoice reports operations:
// they exist only from this date.
const InvoiceReportVersion = "2025-03-12"

// InvoiceReportRequest is the body of createOrgInvoiceReport. Type and
// Format are required (FOCUS, CSV); an empty FormatSpecVersion asks for the
// server's default (1.3).
type InvoiceReportRequest struct {
	FormatSpecVersion string `json:"formatSpecVersion,omitempty"`
	ReportFormat      string `json:"reportFormat"`
	ReportType        string `json:"reportType"`
}

// InvoiceReport is InvoiceReportResponse: a report's state (PENDING,
// RUNNING, SUCCEEDED, FAILED) and, on a single succeeded report, its
// download URL and when that expires. Done reports whether it has ended.
type InvoiceReport = costexplorer.InvoiceReportResponse

// InvoiceReportsPath is the path of an invoice's reports, or of one report
// when reportID is not empty.
func InvoiceReportsPath(orgID, invoiceID, reportID string) string {
	p := InvoicesPath(orgID, invoiceID) + "/reports"
	if reportID != "" {
		p += "/" + url.PathEscape(reportID)
	}
	return p
}

// CreateInvoiceReport requests a report of an invoice
// (createOrgInvoiceReport) and returns it, pending.
func (c *Client) CreateInvoiceReport(ctx context.Context, orgID, invoiceID string, req InvoiceReportRequest) (*InvoiceReport, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	return fetch[InvoiceReport](ctx, c, http.MethodPost, InvoiceReportsPath(orgID, invoiceID, ""), InvoiceReportVersion, body)
}

// InvoiceReports returns one page of an invoice's unexpired reports, newest
// first, without download URLs (listOrgInvoiceReports).
func (c *Client) InvoiceReports(ctx context.Context, orgID, invoiceID string, page PageOptions) (*Page[InvoiceReport], error) {
	path := withQuery(InvoiceReportsPath(orgID, invoiceID, ""), pageValues(page.PageNum, page.ItemsPerPage, page.OmitCount))
	return fetch[Page[InvoiceReport]](ctx, c, http.MethodGet, path, InvoiceReportVersion, nil)
}

// InvoiceReport returns one report (getOrgInvoiceReport).
func (c *Client) InvoiceReport(ctx context.Context, orgID, invoiceID, reportID string) (*InvoiceReport, error) {
	return fetch[InvoiceReport](ctx, c, http.MethodGet, InvoiceReportsPath(orgID, invoiceID, reportID), InvoiceReportVersion, nil)
}

// WaitInvoiceReport polls the report every interval until it has ended, or
// ctx ends, and returns its last state.
func (c *Client) WaitInvoiceReport(ctx context.Context, orgID, invoiceID, reportID string, interval time.Duration) (*InvoiceReport, error) {
	for {
		r, err := c.InvoiceReport(ctx, orgID, invoiceID, reportID)
		if err != nil || r.Done() {
			return r, err
		}
		if err := c.sleep(ctx, interval); err != nil {
			return nil, err
		}
	}
}

// DownloadInvoiceReport copies the file behind a succeeded report's
// download URL (a gzip-compressed CSV) to w and returns its size. The URL
// is signed: it is sent without the client's credentials.
func (c *Client) DownloadInvoiceReport(ctx context.Context, downloadURL string, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, downloadURL, nil)
	if err != nil {
		return 0, err
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return 0, newAPIError(resp)
	}
	return io.Copy(w, resp.Body)
}

// PreviewVersion is Atlas's preview API version, which an operation in
// public preview exists at alone (generateOrgInvoiceAndDownloadReport) or
// beside dated versions until its sunset (getOrgAssociatedInvoices).
const PreviewVersion = "preview"

// AssociatedInvoicesVersion is the dated version of getOrgAssociatedInvoices.
const AssociatedInvoicesVersion = "2025-03-12"

// ReportGenerationRequest is the body of the preview
// generateOrgInvoiceAndDownloadReport. Every field is optional: the server
// takes FOCUS, CSV and the FOCUS specification version 1.3 for empty ones.
type ReportGenerationRequest struct {
	ReportFormat string `json:"reportFormat,omitempty"`
	ReportType   string `json:"reportType,omitempty"`
	Version      string `json:"version,omitempty"`
}

// GenerateInvoiceReportPath is the path of the preview that generates an
// invoice's report and answers its file.
func GenerateInvoiceReportPath(orgID, invoiceID string) string {
	return InvoicesPath(orgID, invoiceID) + ":generateAndDownloadReport"
}

// GenerateInvoiceReport generates the invoice's report and copies its file
// (a gzip-compressed FOCUS CSV) to w as it arrives, at constant memory,
// returning its size (generateOrgInvoiceAndDownloadReport, preview: no
// report is stored, nothing to poll). It is sent once: a failure after the
// file started is returned with the bytes written so far.
func (c *Client) GenerateInvoiceReport(ctx context.Context, orgID, invoiceID string, req ReportGenerationRequest, w io.Writer) (int64, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	r, err := c.NewRequest(ctx, http.MethodPost, GenerateInvoiceReportPath(orgID, invoiceID), body)
	if err != nil {
		return 0, err
	}
	r.Header.Set("Accept", "application/vnd.atlas."+PreviewVersion+"+gzip")
	r.Header.Set("Content-Type", "application/vnd.atlas."+PreviewVersion+"+json")
	resp, err := c.Do(r)
	if err != nil {
		return 0, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return 0, newAPIError(resp)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("client: copy the generated invoice report: %w", err)
	}
	return n, nil
}

// AssociatedInvoicesOptions are the parameters of getOrgAssociatedInvoices.
// A zero Month or Year asks for the server's current one.
type AssociatedInvoicesOptions struct {
	Month, Year       int
	IncludeLinkedOrgs bool
}

// Values returns the options as query parameters.
func (o AssociatedInvoicesOptions) Values() url.Values {
	v := url.Values{}
	if o.Month != 0 {
		v.Set("month", strconv.Itoa(o.Month))
	}
	if o.Year != 0 {
		v.Set("year", strconv.Itoa(o.Year))
	}
	if o.IncludeLinkedOrgs {
		v.Set("includeLinkedOrgs", "true")
	}
	return v
}

// AssociatedInvoices is OrgAssociatedInvoiceResponse: the invoice ids of a
// month, with their organizations; Month is two digits, Year four.
type AssociatedInvoices = costexplorer.AssociatedInvoices

// AssociatedInvoicesPath is the path of an organization's associated
// invoices.
func AssociatedInvoicesPath(orgID string) string {
	return "/api/atlas/v2/orgs/" + url.PathEscape(orgID) + "/associatedInvoices"
}

// AssociatedInvoices returns the ids of the organization's invoices of a
// month and, with IncludeLinkedOrgs, of the organizations it pays for
// (getOrgAssociatedInvoices, version 2025-03-12).
func (c *Client) AssociatedInvoices(ctx context.Context, orgID string, opts AssociatedInvoicesOptions) (*AssociatedInvoices, error) {
	return fetch[AssociatedInvoices](ctx, c, http.MethodGet, withQuery(AssociatedInvoicesPath(orgID), opts.Values()), AssociatedInvoicesVersion, nil)
}
