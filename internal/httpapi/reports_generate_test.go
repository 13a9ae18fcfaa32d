package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/golden"
)

const (
	acceptPreviewGzip = "application/vnd.atlas.preview+gzip"
	previewJSON       = "application/vnd.atlas.preview+json"
)

func generatePath(orgID, invoiceID string) string {
	return invoicesPath(orgID) + "/" + invoiceID + ":generateAndDownloadReport"
}

func associatedPath(orgID string) string {
	return "/api/atlas/v2/orgs/" + orgID + "/associatedInvoices"
}

// send sends an authenticated request with accept and contentType (those
// of apiRequest when empty) as bearer (the default credential when empty).
func (e *env) send(method, path, body, accept, contentType, bearer string) *response {
	e.t.Helper()
	req := e.apiRequest(method, path, body)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.do(req)
}

// generateReq sends the preview generateOrgInvoiceAndDownloadReport as the
// specification has it (Accept preview+gzip, a preview+json body) with
// bearer (the default credential when empty).
func (e *env) generateReq(orgID, invoiceID, body, bearer string) *response {
	e.t.Helper()
	return e.send("POST", generatePath(orgID, invoiceID), body, acceptPreviewGzip, previewJSON, bearer)
}

// associatedReq sends getOrgAssociatedInvoices with the query and Accept
// (2025-03-12 when empty) as bearer (the default credential when empty).
func (e *env) associatedReq(orgID, query, accept, bearer string) *response {
	e.t.Helper()
	if accept == "" {
		accept = accept2025
	}
	return e.get(associatedPath(orgID)+query, accept, bearer)
}

// TestGenerateInvoiceReport generates a linked organization's invoice
// report as its billing viewer: the answer is the gzip CSV itself, named as
// a report's download is, byte for byte the file a report's run makes of
// the same invoice (the golden file of TestInvoiceReportLifecycle), with
// every member of the body defaulted; version 1.2 gives the 1.2 columns.
// Nothing is stored: the invoice has no report afterwards.
func TestGenerateInvoiceReport(t *testing.T) {
	e := newEnv(t, options{noRunner: true})
	linked := e.Layout.Linked[0].ID
	viewer := e.as(t, linked, costexplorer.RoleOrgBillingReadOnly)
	inv := costexplorer.InvoiceID(linked, costexplorer.MonthOf(t0))

	for _, body := range []string{`{}`, `{"reportType":"FOCUS","reportFormat":"CSV","version":"1.3"}`} {
		res := e.generateReq(linked, inv, body, viewer)
		if res.status != http.StatusOK || res.header.Get("Content-Type") != acceptPreviewGzip ||
			res.header.Get("Content-Disposition") != `attachment; filename="invoice_`+inv+`_focus.csv.gz"` {
			t.Fatalf("generate %s: %d %v %.200s", body, res.status, res.header, res.body)
		}
		golden.Check(t, "reports/download_focus_1.3.csv", gunzip(t, res.body))
	}

	// The report a run makes of the same invoice now is the same file.
	rep := e.createReport(t, linked, inv, `{"reportType":"FOCUS","reportFormat":"CSV"}`, viewer)
	for e.Reports.RunOne(t.Context()) {
	}
	done, _ := e.waitReport(t, linked, inv, rep.ReportID, viewer)
	stored := gunzip(t, e.download(t, done.DownloadURL).body)
	if now := gunzip(t, e.generateReq(linked, inv, `{}`, viewer).body); !bytes.Equal(now, stored) {
		t.Error("the generated file differs from the file of a report made at the same moment")
	}

	csv12 := string(gunzip(t, e.generateReq(linked, inv, `{"version":"1.2"}`, viewer).body))
	header12, _, _ := strings.Cut(csv12, "\r\n")
	if strings.Contains(header12, "ContractApplied") || !strings.Contains(header12, "BilledCost") ||
		strings.Count(csv12, "\r\n") != strings.Count(string(stored), "\r\n") {
		t.Errorf("1.2 file: header %q, %d lines; want the 1.2 columns and the 1.3 file's rows", header12, strings.Count(csv12, "\r\n"))
	}

	var list struct {
		TotalCount int `json:"totalCount"`
	}
	e.reportReq("GET", reportsPath(linked, inv), "", viewer).json(t, &list)
	if list.TotalCount != 1 {
		t.Errorf("the invoice has %d reports, want the one created: generating stores none", list.TotalCount)
	}
}

// TestGenerateInvoiceReportBadRequests sends every kind of bad request to
// the preview: each is an Atlas error of the right status and code, none a
// 5xx; a foreign invoice answers exactly as a missing one.
func TestGenerateInvoiceReportBadRequests(t *testing.T) {
	e := newEnv(t, options{noRunner: true})
	june := costexplorer.MonthOf(t0)
	inv := costexplorer.InvoiceID(e.Org, june-1)
	linkedInv := costexplorer.InvoiceID(e.Layout.Linked[0].ID, june-1)
	path := generatePath(e.Org, inv)

	for _, c := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"ErrUnknownReportType", `{"reportType":"USAGE"}`, 400, costexplorer.ErrInvalidEnumValue},
		{"ErrUnknownReportFormat", `{"reportFormat":"PARQUET"}`, 400, costexplorer.ErrInvalidEnumValue},
		{"ErrUnsupportedVersion", `{"version":"1.0"}`, 400, costexplorer.ErrValidation},
		{"ErrVersionNotAString", `{"version":1.3}`, 400, costexplorer.ErrInvalidJSONAttribute},
		{"ErrFormatSpecVersionIsCreatesMember", `{"formatSpecVersion":"1.3"}`, 400, costexplorer.ErrInvalidAttribute},
		{"ErrMalformedJSON", `{"reportType":`, 400, costexplorer.ErrMalformedJSON},
		{"ErrEmptyBody", ``, 400, costexplorer.ErrMalformedJSON},
		{"ErrNotAnObject", `["FOCUS"]`, 400, costexplorer.ErrMalformedJSON},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := e.generateReq(e.Org, inv, c.body, "")
			refused(t, res, c.status, c.code)
			if c.name == "ErrUnsupportedVersion" {
				if b := res.apiErr(t); b.BadRequestDetail == nil || b.BadRequestDetail.Fields[0].Field != "version" {
					t.Errorf("the error does not name the field version: %s", res.body)
				}
			}
		})
	}

	withHeaders := func(accept, contentType string) *response {
		return e.send("POST", path, `{}`, accept, contentType, "")
	}
	t.Run("ErrDatedVersionNotAcceptable", func(t *testing.T) {
		refused(t, withHeaders("application/vnd.atlas.2025-03-12+gzip", previewJSON), 406, costexplorer.ErrInvalidVersionDate)
		refused(t, withHeaders(accept2025, previewJSON), 406, costexplorer.ErrInvalidVersionDate)
	})
	t.Run("ErrPreviewJSONNotAcceptable", func(t *testing.T) {
		refused(t, withHeaders(previewJSON, previewJSON), 406, costexplorer.ErrInvalidVersionDate)
	})
	t.Run("ErrDatedContentType", func(t *testing.T) {
		refused(t, withHeaders(acceptPreviewGzip, accept2025), 415, costexplorer.ErrUnsupportedMediaType)
	})
	t.Run("OKApplicationJSONBody", func(t *testing.T) {
		if res := withHeaders(acceptPreviewGzip, "application/json"); res.status != 200 {
			t.Fatalf("application/json body: %d %s", res.status, res.body)
		}
	})
	t.Run("ErrMalformedInvoiceID", func(t *testing.T) {
		refused(t, e.generateReq(e.Org, strings.ToUpper(inv), `{}`, ""), 400, costexplorer.ErrInvalidPathParameter)
	})
	t.Run("ErrForeignInvoiceIsMissing", func(t *testing.T) {
		// The paying organization's billing viewer cannot see its linked
		// organizations' invoices; an unknown id is no different.
		missing := "0123456789abcdef01234567"
		a := e.generateReq(e.Org, linkedInv, `{}`, "")
		b := e.generateReq(e.Org, missing, `{}`, "")
		refused(t, a, 404, costexplorer.ErrNotFound)
		refused(t, b, 404, costexplorer.ErrNotFound)
		if string(bytes.ReplaceAll(a.body, []byte(linkedInv), []byte(missing))) != string(b.body) {
			t.Errorf("foreign %s and missing %s differ", a.body, b.body)
		}
	})
	t.Run("ErrWrongRoles", func(t *testing.T) {
		for _, role := range []costexplorer.Role{costexplorer.RoleOrgMember, costexplorer.RoleOrgReadOnly, costexplorer.RoleOrgGroupCreator} {
			refused(t, e.generateReq(e.Org, inv, `{}`, e.as(t, e.Org, role)), 401, costexplorer.ErrUnauthorized)
		}
	})
	t.Run("ErrOtherMethods", func(t *testing.T) {
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			req := e.apiRequest(m, path, "")
			req.Header.Set("Accept", acceptPreviewGzip)
			res := e.do(req)
			refused(t, res, 405, costexplorer.ErrMethodNotAllowed)
			if res.header.Get("Allow") != "POST" {
				t.Errorf("%s: Allow %q", m, res.header.Get("Allow"))
			}
		}
	})
	t.Run("OKTheInvoiceItselfStillAnswers", func(t *testing.T) {
		// The custom method shares the invoice's path segment.
		if res := e.do(e.apiRequest("GET", invoicesPath(e.Org)+"/"+inv, "")); res.status != 200 {
			t.Fatalf("GET invoice: %d %.200s", res.status, res.body)
		}
		res := e.do(e.apiRequest("POST", invoicesPath(e.Org)+"/"+inv, `{}`))
		refused(t, res, 405, costexplorer.ErrMethodNotAllowed)
		refused(t, e.generateReq(e.Org, inv+":generateReport", `{}`, ""), 400, costexplorer.ErrInvalidPathParameter)
	})
}

// TestAssociatedInvoices pins getOrgAssociatedInvoices: the month of the
// server's clock by default, the paying organization's linked invoices for
// its owner with includeLinkedOrgs (and not for its billing viewer), a
// month without invoices, the envelope, and the preview version with its
// Sunset header.
func TestAssociatedInvoices(t *testing.T) {
	e := newEnv(t, options{noRunner: true})
	paying := e.Layout.PayingOrg.ID
	owner := e.as(t, paying, costexplorer.RoleOrgOwner)
	viewer := e.as(t, paying, costexplorer.RoleOrgBillingReadOnly)
	june := costexplorer.MonthOf(t0)

	check := func(name string, res *response, contentType string) {
		t.Helper()
		res.mustOK(t, name, contentType)
		golden.Check(t, "associated/"+name, e.masked(res.body))
	}
	check("default.json", e.associatedReq(paying, "", "", viewer), json2025)
	var v costexplorer.AssociatedInvoices
	e.associatedReq(paying, "", "", viewer).json(t, &v)
	if v.Month != "06" || v.Year != "2025" || len(v.AssociatedInvoices) != 1 ||
		v.AssociatedInvoices[0] != (costexplorer.AssociatedInvoice{InvoiceID: costexplorer.InvoiceID(paying, june), OrgID: paying}) {
		t.Fatalf("default = %+v, want the paying organization's June 2025 invoice", v)
	}

	check("linked.json", e.associatedReq(paying, "?month=5&year=2025&includeLinkedOrgs=true", "", owner), json2025)
	e.associatedReq(paying, "?month=5&year=2025&includeLinkedOrgs=true", "", owner).json(t, &v)
	if want := 1 + len(e.Layout.Linked); len(v.AssociatedInvoices) != want || v.Month != "05" {
		t.Errorf("with linked organizations: %+v, want %d invoices of May", v, want)
	}
	for i, a := range v.AssociatedInvoices {
		if a.InvoiceID != costexplorer.InvoiceID(a.OrgID, june-1) || (i == 0) != (a.OrgID == paying) {
			t.Errorf("invoice %d = %+v", i, a)
		}
	}
	e.associatedReq(paying, "?month=5&year=2025&includeLinkedOrgs=true", "", viewer).json(t, &v)
	if len(v.AssociatedInvoices) != 1 {
		t.Errorf("a billing viewer sees linked invoices: %+v", v)
	}

	check("none.json", e.associatedReq(paying, "?month=1&year=2000", "", owner), json2025)
	env := e.associatedReq(paying, "?envelope=true&month=6", "", owner)
	if env.status != http.StatusOK || !bytes.HasPrefix(env.body, []byte(`{"status":200,"content":{"associatedInvoices":[`)) {
		t.Errorf("enveloped: %d %s", env.status, env.body)
	}

	dated := e.associatedReq(paying, "", "", owner)
	if s := dated.header.Get("Sunset"); s != "" {
		t.Errorf("2025-03-12 answer has Sunset %q", s)
	}
	pre := e.associatedReq(paying, "", previewJSON, owner)
	if pre.status != http.StatusOK || pre.header.Get("Content-Type") != previewJSON+";charset=utf-8" ||
		pre.header.Get("Sunset") != "Wed, 16 Sep 2026 00:00:00 GMT" || !bytes.Equal(pre.body, dated.body) {
		t.Errorf("preview: %d %v %s", pre.status, pre.header, pre.body)
	}
}

// TestAssociatedInvoicesBadRequests: every bad parameter, version and role
// is an Atlas error naming what is wrong, none a 5xx; another
// organization's path answers as a missing organization's.
func TestAssociatedInvoicesBadRequests(t *testing.T) {
	e := newEnv(t, options{noRunner: true})
	for _, c := range []struct {
		name, query string
		param       string
	}{
		{"ErrMonthZero", "?month=0", "month"},
		{"ErrMonth13", "?month=13", "month"},
		{"ErrMonthNotANumber", "?month=june", "month"},
		{"ErrMonthSigned", "?month=+6", "month"},
		{"ErrMonthTwice", "?month=5&month=6", "month"},
		{"ErrYear1999", "?year=1999", "year"},
		{"ErrYearFiveDigits", "?year=10000", "year"},
		{"ErrYearEmpty", "?year=", "year"},
		{"ErrIncludeLinkedOrgsYes", "?includeLinkedOrgs=yes", "includeLinkedOrgs"},
		{"ErrIncludeLinkedOrgsUpperCase", "?includeLinkedOrgs=TRUE", "includeLinkedOrgs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := e.associatedReq(e.Org, c.query, "", "")
			refused(t, res, 400, costexplorer.ErrInvalidQueryParameter)
			if b := res.apiErr(t); len(b.Parameters) == 0 || b.Parameters[0] != c.param || !strings.HasPrefix(b.Detail, "Invalid query parameter "+c.param+": ") {
				t.Errorf("error %s does not name %s", res.body, c.param)
			}
		})
	}
	golden.Check(t, "errors/associated_month_13.json", e.masked(e.associatedReq(e.Org, "?month=13", "", "").body))
	golden.Check(t, "errors/associated_year_1999.json", e.masked(e.associatedReq(e.Org, "?year=1999", "", "").body))

	t.Run("ErrVersions", func(t *testing.T) {
		for _, accept := range []string{"application/vnd.atlas.2023-01-01+json", "application/vnd.atlas.preview+gzip", "application/json", "application/vnd.atlas.2025-03-12+csv"} {
			checkError(t, e.associatedReq(e.Org, "", accept, ""), 406, costexplorer.ErrInvalidVersionDate)
		}
	})
	t.Run("ErrWrongRoles", func(t *testing.T) {
		for _, role := range []costexplorer.Role{costexplorer.RoleOrgMember, costexplorer.RoleOrgReadOnly} {
			checkError(t, e.associatedReq(e.Org, "", "", e.as(t, e.Org, role)), 401, costexplorer.ErrUnauthorized)
		}
	})
	t.Run("ErrForeignOrganizationIsMissing", func(t *testing.T) {
		other, ghost := e.Layout.Others[0].ID, randomHex(24)
		a, b := e.associatedReq(other, "", "", ""), e.associatedReq(ghost, "", "", "")
		if a.status < 400 || a.status != b.status || strings.ReplaceAll(string(a.body), other, ghost) != string(b.body) {
			t.Errorf("another organization %d %s, a missing one %d %s", a.status, a.body, b.status, b.body)
		}
	})
}
