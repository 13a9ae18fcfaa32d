package httpapi

import (
	"io"
	"net/http"

	"github.com/costexplorer/costexplorer"
)

// generateOrgInvoiceAndDownloadReport serves the preview POST
// …/invoices/{invoiceId}:generateAndDownloadReport: the invoice's FOCUS
// report file itself (gzip CSV, application/vnd.atlas.preview+gzip),
// made while it is sent, by the mapping and writer a report's run uses
// (ReportService.Generate), at constant memory. The body is validated
// first (costexplorer.ParseReportGenerationRequest: 400 naming the
// field), then the invoice is found as every invoice operation finds it
// (404 alike for a missing and a foreign one).
//
// No report row is kept: nothing is stored or listed, so the answer has no
// id to poll and no URL to expire, and the operation is one request whose
// file is the answer (the invoice as it is now, unlike a report's file,
// fixed when it succeeded). Storing it would only add a copy nobody can
// name.
func (s *Server) generateOrgInvoiceAndDownloadReport(c *call) (reply, error) {
	req, inv, err := withInvoice(s, c, costexplorer.ParseReportGenerationRequest, c.body)
	if err != nil {
		return nil, err
	}
	ctx := c.r.Context()
	return attachment{stream{formatGzip, func(w io.Writer) error {
		return s.cfg.Reports.Generate(ctx, inv, req.SpecVersion, w)
	}}, reportFilename(inv.ID)}, nil
}

// getOrgAssociatedInvoices serves GET …/orgs/{orgId}/associatedInvoices
// (2025-03-12, and the preview until its sunset): the ids of the invoices
// of one month (month and year, by default those of the server's clock in
// UTC) of the organization and, with includeLinkedOrgs=true, of the
// organizations it pays for. As listInvoices's viewLinkedInvoices, the
// linked organizations' invoices are given only to a caller who may see
// them (costexplorer.CanViewLinkedInvoices); for others the parameter has
// no effect.
func (s *Server) getOrgAssociatedInvoices(c *call) (reply, error) {
	q, err := costexplorer.ParseAssociatedInvoicesQuery(c.orgID, c.r.URL.Query(), s.cfg.Now())
	if err != nil {
		return nil, err
	}
	ctx := c.r.Context()
	orgs := []string{c.orgID}
	if q.IncludeLinkedOrgs && costexplorer.CanViewLinkedInvoices(c.principal) {
		linked, err := s.cfg.Invoices.LinkedOrganizations(ctx, c.orgID)
		if err != nil {
			return nil, err
		}
		orgs = append(orgs, linked...)
	}
	res, err := costexplorer.FindAssociatedInvoices(ctx, s.cfg.Invoices, q, orgs)
	if err != nil {
		return nil, err
	}
	return entity{http.StatusOK, res}, nil
}
