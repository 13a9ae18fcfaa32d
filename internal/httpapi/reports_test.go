package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/golden"
)

// reportView decodes InvoiceReportResponse.
type reportView struct {
	DownloadURL       string `json:"downloadUrl"`
	ExpiresAt         string `json:"expiresAt"`
	FailureReason     string `json:"failureReason"`
	FormatSpecVersion string `json:"formatSpecVersion"`
	InvoiceID         string `json:"invoiceId"`
	ReportFormat      string `json:"reportFormat"`
	ReportID          string `json:"reportId"`
	ReportType        string `json:"reportType"`
	State             string `json:"state"`
}

func reportsPath(orgID, invoiceID string) string {
	return invoicesPath(orgID) + "/" + invoiceID + "/reports"
}

// reportReq sends an invoice reports request at 2025-03-12 with bearer (the
// default credential when empty).
func (e *env) reportReq(method, path, body, bearer string) *response {
	e.t.Helper()
	contentType := ""
	if body != "" {
		contentType = accept2025
	}
	return e.send(method, path, body, accept2025, contentType, bearer)
}

// createReport creates a report of invoiceID through orgID and returns it.
func (e *env) createReport(t *testing.T, orgID, invoiceID, body, bearer string) reportView {
	t.Helper()
	res := e.reportReq("POST", reportsPath(orgID, invoiceID), body, bearer)
	if res.status != http.StatusCreated || res.header.Get("Content-Type") != json2025 {
		t.Fatalf("create report: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
	}
	var v reportView
	res.json(t, &v)
	return v
}

// waitReport polls the report until it has ended and returns its last answer.
func (e *env) waitReport(t *testing.T, orgID, invoiceID, id, bearer string) (reportView, *response) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := e.reportReq("GET", reportsPath(orgID, invoiceID)+"/"+id, "", bearer)
		if res.status != http.StatusOK {
			t.Fatalf("get report: %d %s", res.status, res.body)
		}
		var v reportView
		res.json(t, &v)
		if v.State == "SUCCEEDED" || v.State == "FAILED" {
			return v, res
		}
		if time.Now().After(deadline) {
			t.Fatalf("report %s still %s after 30 s", id, v.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// download fetches a download URL without credentials.
func (e *env) download(t *testing.T, rawURL string) *response {
	t.Helper()
	req, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.do(req)
}

// maskReport replaces what changes from run to run in a report answer: the
// base URL, report ids (random after their time prefix) and signatures.
func (e *env) maskReport(b []byte, ids ...string) []byte {
	b = e.masked(b)
	for _, id := range ids {
		b = bytes.ReplaceAll(b, []byte(id), []byte("REPORT_ID_"+id[:8]))
	}
	return regexp.MustCompile(`signature=[A-Za-z0-9_-]+`).ReplaceAll(b, []byte("signature=SIGNATURE"))
}

// TestInvoiceReportLifecycle creates FOCUS reports of a linked
// organization's invoice (as its billing viewer) and pins, as golden files,
// the 201, the list while the first is pending and once both ended (newest
// first, without URLs), the succeeded report with its download URL, and the
// downloaded CSV. The download is served without credentials, is the same
// bytes on every request and after the invoice changes, and the 1.2 report
// has the 1.2 columns.
func TestInvoiceReportLifecycle(t *testing.T) {
	e := newEnv(t, options{noRunner: true})
	linked := e.Layout.Linked[0].ID
	viewer := e.as(t, linked, costexplorer.RoleOrgBillingReadOnly)
	june := costexplorer.MonthOf(t0)
	inv := costexplorer.InvoiceID(linked, june) // pending, half a month: a small file

	res := e.reportReq("POST", reportsPath(linked, inv), `{"reportType":"FOCUS","reportFormat":"CSV"}`, viewer)
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	var first reportView
	res.json(t, &first)
	if first.State != "PENDING" || first.FormatSpecVersion != "1.3" || first.InvoiceID != inv || !costexplorer.IsID(first.ReportID) {
		t.Fatalf("created report = %+v", first)
	}
	golden.Check(t, "reports/create_201.json", e.maskReport(res.body, first.ReportID))
	golden.Check(t, "reports/list_pending.json", e.maskReport(e.reportReq("GET", reportsPath(linked, inv), "", viewer).body, first.ReportID))

	// The test is the only worker: the report stays pending until it runs.
	e.Clock.Advance(time.Second)
	second := e.createReport(t, linked, inv, `{"reportType":"FOCUS","reportFormat":"CSV","formatSpecVersion":"1.2"}`, viewer)
	for e.Reports.RunOne(t.Context()) {
	}

	var list struct {
		Results    []reportView `json:"results"`
		TotalCount int          `json:"totalCount"`
	}
	res = e.reportReq("GET", reportsPath(linked, inv), "", viewer)
	res.json(t, &list)
	if list.TotalCount != 2 || len(list.Results) != 2 || list.Results[0].ReportID != second.ReportID || list.Results[1].ReportID != first.ReportID {
		t.Fatalf("list = %s, want the 1.2 report first", res.body)
	}
	for _, r := range list.Results {
		if r.State != "SUCCEEDED" || r.DownloadURL != "" || r.ExpiresAt != "" {
			t.Errorf("listed report %+v: want SUCCEEDED without download URL", r)
		}
	}
	golden.Check(t, "reports/list_done.json", e.maskReport(res.body, first.ReportID, second.ReportID))

	got, res := e.waitReport(t, linked, inv, first.ReportID, viewer)
	if got.DownloadURL == "" || got.ExpiresAt != "2025-06-16T12:00:01Z" {
		t.Fatalf("succeeded report = %+v, want a URL expiring 24 h after it ran", got)
	}
	golden.Check(t, "reports/get_succeeded.json", e.maskReport(res.body, first.ReportID))
	env := e.reportReq("GET", reportsPath(linked, inv)+"/"+first.ReportID+"?envelope=true", "", viewer)
	if env.status != http.StatusOK || !bytes.HasPrefix(env.body, []byte(`{"status":200,"content":{"downloadUrl":`)) {
		t.Errorf("enveloped report: %d %s", env.status, env.body)
	}
	env = e.reportReq("POST", reportsPath(linked, inv)+"?envelope=true", `{"reportType":"FOCUS","reportFormat":"CSV"}`, viewer)
	if env.status != http.StatusOK || !bytes.HasPrefix(env.body, []byte(`{"status":201,"content":{"formatSpecVersion":"1.3"`)) {
		t.Errorf("enveloped create: %d %s", env.status, env.body)
	}

	dl := e.download(t, got.DownloadURL)
	if dl.status != http.StatusOK || dl.header.Get("Content-Type") != "application/gzip" ||
		dl.header.Get("Content-Disposition") != `attachment; filename="invoice_`+inv+`_focus.csv.gz"` {
		t.Fatalf("download: %d %v %.200s", dl.status, dl.header, dl.body)
	}
	csv13 := gunzip(t, dl.body)
	golden.Check(t, "reports/download_focus_1.3.csv", csv13)

	// The same bytes again, even after the invoice gained a line item.
	e.addLineItem(t, linked, june)
	for range 2 {
		if again := e.download(t, got.DownloadURL); !bytes.Equal(again.body, dl.body) {
			t.Fatal("a second download differs from the first")
		}
	}
	got12, _ := e.waitReport(t, linked, inv, second.ReportID, viewer)
	csv12 := gunzip(t, e.download(t, got12.DownloadURL).body)
	header12, _, _ := strings.Cut(string(csv12), "\r\n")
	header13, _, _ := strings.Cut(string(csv13), "\r\n")
	if strings.Contains(header12, "ContractApplied") || !strings.Contains(header13, "ContractApplied") {
		t.Errorf("1.2 header %q / 1.3 header %q: want ContractApplied in 1.3 only", header12, header13)
	}
	if strings.Count(string(csv12), "\r\n") != strings.Count(string(csv13), "\r\n") {
		t.Error("the 1.2 and 1.3 reports of one invoice have different row counts")
	}
}

// addLineItem ingests one more charge into orgID's invoice of month m.
func (e *env) addLineItem(t *testing.T, orgID string, m costexplorer.Month) {
	t.Helper()
	var item *costexplorer.LineItem
	err := e.DB.ScanLineItems(t.Context(), func(li *costexplorer.LineItem) error {
		if item == nil && li.OrgID == orgID && li.Date.Month() == m && li.Amount > 0 {
			c := *li
			item = &c
		}
		return nil
	})
	if err != nil || item == nil {
		t.Fatalf("no line item of %s in %s: %v", orgID, m, err)
	}
	item.ID = costexplorer.NewLineItemID("report-test", orgID, m.String())
	res, err := e.DB.IngestUsage(t.Context(), &costexplorer.UsageBatch{Items: []costexplorer.LineItem{*item}})
	if err != nil || res.Inserted != 1 {
		t.Fatalf("ingest: %+v %v", res, err)
	}
}

// refused checks that a bad request is the Atlas error status and code,
// and above all no 5xx.
func refused(t *testing.T, res *response, status int, code string) {
	t.Helper()
	if res.status >= 500 {
		t.Fatalf("bad input answered %d: %s", res.status, res.body)
	}
	checkError(t, res, status, code)
}

// TestInvoiceReportBadRequests sends every kind of bad request to the
// invoice reports API and its download URL: each is an Atlas error of the
// right status and code, and none is a 5xx.
func TestInvoiceReportBadRequests(t *testing.T) {
	e := newEnv(t, options{noRunner: true})
	june := costexplorer.MonthOf(t0)
	inv := costexplorer.InvoiceID(e.Org, june-1)
	linked := e.Layout.Linked[0].ID
	linkedInv := costexplorer.InvoiceID(linked, june-1)
	path := reportsPath(e.Org, inv)
	const good = `{"reportType":"FOCUS","reportFormat":"CSV"}`

	for _, c := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"unknown report type", `{"reportType":"USAGE","reportFormat":"CSV"}`, 400, costexplorer.ErrInvalidEnumValue},
		{"unknown report format", `{"reportType":"FOCUS","reportFormat":"PARQUET"}`, 400, costexplorer.ErrInvalidEnumValue},
		{"lower-case type", `{"reportType":"focus","reportFormat":"CSV"}`, 400, costexplorer.ErrInvalidEnumValue},
		{"unsupported spec version", `{"reportType":"FOCUS","reportFormat":"CSV","formatSpecVersion":"1.0"}`, 400, costexplorer.ErrValidation},
		{"spec version not a string", `{"reportType":"FOCUS","reportFormat":"CSV","formatSpecVersion":1.3}`, 400, costexplorer.ErrInvalidJSONAttribute},
		{"missing type", `{"reportFormat":"CSV"}`, 400, costexplorer.ErrMissingAttribute},
		{"missing format", `{"reportType":"FOCUS"}`, 400, costexplorer.ErrMissingAttribute},
		{"unknown attribute", `{"reportType":"FOCUS","reportFormat":"CSV","version":"1.3"}`, 400, costexplorer.ErrInvalidAttribute},
		{"malformed JSON", `{"reportType":`, 400, costexplorer.ErrMalformedJSON},
		{"not an object", `[]`, 400, costexplorer.ErrMalformedJSON},
	} {
		t.Run(c.name, func(t *testing.T) {
			refused(t, e.reportReq("POST", path, c.body, ""), c.status, c.code)
		})
	}

	t.Run("an older version is not acceptable", func(t *testing.T) {
		req := e.apiRequest("POST", path, good)
		req.Header.Set("Content-Type", "application/vnd.atlas.2025-03-12+json")
		refused(t, e.do(req), 406, costexplorer.ErrInvalidVersionDate)
	})
	t.Run("a foreign invoice is a missing one", func(t *testing.T) {
		// The paying organization's billing viewer cannot see its linked
		// organizations' invoices; another organization's are no better.
		missing := "0123456789abcdef01234567"
		a := e.reportReq("POST", reportsPath(e.Org, linkedInv), good, "")
		b := e.reportReq("POST", reportsPath(e.Org, missing), good, "")
		refused(t, a, 404, costexplorer.ErrNotFound)
		refused(t, b, 404, costexplorer.ErrNotFound)
		if string(bytes.ReplaceAll(a.body, []byte(linkedInv), []byte(missing))) != string(b.body) {
			t.Errorf("foreign %s and missing %s differ", a.body, b.body)
		}
		refused(t, e.reportReq("GET", reportsPath(e.Org, linkedInv), "", ""), 404, costexplorer.ErrNotFound)
	})
	rep := e.createReport(t, e.Org, inv, good, "")
	t.Run("a report through another organization is missing", func(t *testing.T) {
		other := e.as(t, linked, costexplorer.RoleOrgOwner)
		refused(t, e.reportReq("GET", reportsPath(linked, inv)+"/"+rep.ReportID, "", other), 404, costexplorer.ErrNotFound)
		refused(t, e.reportReq("GET", reportsPath(linked, linkedInv)+"/"+rep.ReportID, "", other), 404, costexplorer.ErrNotFound)
		refused(t, e.reportReq("GET", reportsPath(e.Org, inv)+"/"+strings.Repeat("0", 24), "", ""), 404, costexplorer.ErrNotFound)
	})
	t.Run("a malformed report id", func(t *testing.T) {
		refused(t, e.reportReq("GET", path+"/"+strings.ToUpper(rep.ReportID), "", ""), 400, costexplorer.ErrInvalidPathParameter)
	})
	t.Run("wrong roles", func(t *testing.T) {
		for _, role := range []costexplorer.Role{costexplorer.RoleOrgMember, costexplorer.RoleOrgReadOnly, costexplorer.RoleOrgGroupCreator} {
			tok := e.as(t, e.Org, role)
			refused(t, e.reportReq("POST", path, good, tok), 401, costexplorer.ErrUnauthorized)
			refused(t, e.reportReq("GET", path, "", tok), 401, costexplorer.ErrUnauthorized)
			refused(t, e.reportReq("GET", path+"/"+rep.ReportID, "", tok), 401, costexplorer.ErrUnauthorized)
		}
	})

	for e.Reports.RunOne(t.Context()) {
	}
	done, _ := e.waitReport(t, e.Org, inv, rep.ReportID, "")
	u, err := url.Parse(done.DownloadURL)
	if err != nil || done.State != "SUCCEEDED" {
		t.Fatalf("report %+v: %v", done, err)
	}
	if res := e.download(t, u.String()); res.status != 200 {
		t.Fatalf("genuine URL: %d %s", res.status, res.body)
	}
	tampered := func(change func(q url.Values, u *url.URL)) string {
		v := *u
		q := v.Query()
		change(q, &v)
		v.RawQuery = q.Encode()
		return v.String()
	}
	for name, bad := range map[string]string{
		"later expiry": tampered(func(q url.Values, _ *url.URL) { q.Set("expires", q.Get("expires")+"0") }),
		"other signature": tampered(func(q url.Values, _ *url.URL) {
			s := []byte(q.Get("signature"))
			s[0] ^= 1
			q.Set("signature", string(s))
		}),
		"no signature":      tampered(func(q url.Values, _ *url.URL) { q.Del("signature") }),
		"no expiry":         tampered(func(q url.Values, _ *url.URL) { q.Del("expires") }),
		"expiry not number": tampered(func(q url.Values, _ *url.URL) { q.Set("expires", "soon") }),
		"other invoice": tampered(func(_ url.Values, v *url.URL) {
			v.Path = strings.Replace(v.Path, inv, linkedInv, 1)
		}),
		"other report": tampered(func(_ url.Values, v *url.URL) {
			v.Path = strings.Replace(v.Path, rep.ReportID, strings.Repeat("0", 24), 1)
		}),
	} {
		t.Run("tampered URL: "+name, func(t *testing.T) {
			refused(t, e.download(t, bad), 403, costexplorer.ErrInvalidSignature)
		})
	}
	t.Run("expired URL", func(t *testing.T) {
		e.Clock.Advance(25 * time.Hour)
		e.bearer = e.accessToken(e.ClientID, e.ClientSecret) // the first one expired too
		refused(t, e.download(t, u.String()), 404, costexplorer.ErrNotFound)
		refused(t, e.reportReq("GET", path+"/"+rep.ReportID, "", ""), 404, costexplorer.ErrNotFound)
		var list struct {
			Results []reportView `json:"results"`
		}
		e.reportReq("GET", path, "", "").json(t, &list)
		if len(list.Results) != 0 {
			t.Errorf("an expired report is still listed: %+v", list.Results)
		}
	})
}

// failingChunks is a store whose report files cannot be written, as when the
// database refuses every write of a chunk.
type failingChunks struct{ costexplorer.Store }

func (failingChunks) WriteInvoiceReportChunk(context.Context, string, int, int, []byte) error {
	return errors.New("disk full (test)")
}

// TestInvoiceReportFailsAfterItsAttempts makes every attempt of a report
// fail: each leaves the report RUNNING until its lease lapses, another
// attempt takes it, and after the fifth it is FAILED with a reason for the
// client (the cause stays in the log), still listed, without a download URL.
func TestInvoiceReportFailsAfterItsAttempts(t *testing.T) {
	e := newEnv(t, options{noRunner: true, logger: discardLogger(),
		store: func(s costexplorer.Store) costexplorer.Store { return failingChunks{s} }})
	inv := costexplorer.InvoiceID(e.Org, costexplorer.MonthOf(t0)-1)
	rep := e.createReport(t, e.Org, inv, `{"reportType":"FOCUS","reportFormat":"CSV"}`, "")
	for attempt := 1; attempt <= 5; attempt++ {
		if !e.Reports.RunOne(t.Context()) {
			t.Fatalf("attempt %d: nothing to claim", attempt)
		}
		var v reportView
		e.reportReq("GET", reportsPath(e.Org, inv)+"/"+rep.ReportID, "", "").json(t, &v)
		want := "RUNNING"
		if attempt == 5 {
			want = "FAILED"
		}
		if v.State != want {
			t.Fatalf("after attempt %d: %+v, want %s", attempt, v, want)
		}
		e.Clock.Advance(31 * time.Second) // the lease lapses
	}
	if e.Reports.RunOne(t.Context()) {
		t.Error("a failed report was claimed again")
	}
	res := e.reportReq("GET", reportsPath(e.Org, inv)+"/"+rep.ReportID, "", "")
	var v reportView
	res.json(t, &v)
	if v.State != "FAILED" || v.FailureReason != "The report could not be generated." || v.DownloadURL != "" || v.ExpiresAt != "" {
		t.Fatalf("failed report = %s", res.body)
	}
	if strings.Contains(string(res.body), "disk full") {
		t.Error("the cause of the failure reaches the client")
	}
}
