package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/focus"
)

var focusLink = regexp.MustCompile(`id="download-focus" href="([^"]+)"`)

// export is what `costexplorer export focus` writes for req.
func (e *env) export(t *testing.T, req focus.Request) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := focus.Export(context.Background(), e.DB, req, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFocusDownload follows the explorer's FOCUS links: the export of the
// page's period and organizations, byte for byte what internal/focus (the
// CLI's `export focus`) writes, within what the caller may see.
func TestFocusDownload(t *testing.T) {
	e := newEnv(t, options{})
	linked := e.Layout.Linked[0].ID
	admin := e.signedIn(costexplorer.RoleOrgBillingAdmin)
	viewer := e.signedIn(costexplorer.RoleOrgBillingReadOnly)

	_, page := admin.explore("/explorer?from=2025-03&to=2025-05&groupBy=organizations&org=" + e.Org + "&org=" + linked)
	m := focusLink.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the result offers no FOCUS download:\n%s", page)
	}
	link := html.UnescapeString(m[1])
	res, body := admin.get(link)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/gzip" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="focus-1.3-2025-03-2025-05.csv.gz"` {
		t.Fatalf("GET %s: %d %v", link, res.StatusCode, res.Header)
	}
	from, _ := costexplorer.ParseMonth("2025-03")
	to, _ := costexplorer.ParseMonth("2025-05")
	want := e.export(t, focus.Request{OrgID: e.Org, From: from, To: to, Orgs: []string{e.Org, linked}})
	if !bytes.Equal([]byte(body), want) {
		t.Fatalf("the download (%d bytes) differs from export focus of the same period and organizations (%d bytes)", len(body), len(want))
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(zr)
	if !bytes.Contains(csv, []byte(linked)) || !bytes.Contains(csv, []byte(e.Org)) {
		t.Error("the export lacks the selected organizations' rows")
	}

	// An invoice's page offers its FOCUS rows: those of the invoice alone,
	// as the invoice reports API makes them.
	linkedMay := costexplorer.InvoiceID(linked, to)
	_, page = admin.get("/invoices/" + linkedMay)
	m = regexp.MustCompile(`id="download-invoice-focus" href="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the invoice page offers no FOCUS download:\n%s", page)
	}
	res, body = admin.get(html.UnescapeString(m[1]))
	inv, err := e.DB.Invoice(context.Background(), []string{linked}, linkedMay)
	if err != nil {
		t.Fatal(err)
	}
	var one bytes.Buffer
	if _, err := focus.ExportInvoice(context.Background(), e.DB, inv, focus.Request{}, &one); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !bytes.Equal([]byte(body), one.Bytes()) {
		t.Fatalf("the invoice's FOCUS download (%d, %d bytes) is not its report's file (%d bytes)", res.StatusCode, len(body), one.Len())
	}

	// Parquet, and the whole billing account when no organization is named.
	res, body = admin.get("/focus?from=2025-03&to=2025-05&format=parquet&spec=1.2")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(body, "PAR1") ||
		!bytes.Equal([]byte(body), e.export(t, focus.Request{OrgID: e.Org, From: from, To: to, Format: focus.Parquet, Spec: focus.Spec12})) {
		t.Fatalf("parquet: %d %v (%d bytes)", res.StatusCode, res.Header, len(body))
	}

	// A billing viewer sees only its own organization's invoices.
	res, body = viewer.get("/focus?from=2025-03&to=2025-05")
	if res.StatusCode != http.StatusOK || !bytes.Equal([]byte(body), e.export(t, focus.Request{OrgID: e.Org, From: from, To: to, Orgs: []string{e.Org}})) {
		t.Fatalf("viewer: %d (%d bytes)", res.StatusCode, len(body))
	}
	for path, status := range map[string]int{
		"/focus?from=2025-03&to=2025-05&org=" + linked:  http.StatusNotFound, // not the viewer's to see
		"/focus?from=2025-03&to=2025-05&org=" + e.other: http.StatusNotFound,
		"/focus?from=2025-05&to=2025-03":                http.StatusBadRequest,
		"/focus?from=2025-3&to=2025-05":                 http.StatusBadRequest,
		"/focus?to=2025-05":                             http.StatusBadRequest,
		"/focus?from=2025-03&to=2025-05&format=xlsx":    http.StatusBadRequest,
		"/focus?from=2025-03&to=2025-05&spec=1.0":       http.StatusBadRequest,
	} {
		if res, _ := viewer.get(path); res.StatusCode != status {
			t.Errorf("GET %s: %d, want %d", path, res.StatusCode, status)
		}
	}
	member := e.signedIn(costexplorer.RoleOrgMember)
	if res, _ := member.get("/focus?from=2025-03&to=2025-05"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a member without a billing role: %d, want 403", res.StatusCode)
	}
	if res, _ := e.newBrowser().get("/focus?from=2025-03&to=2025-05"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("without a session: %d, want a redirect to sign in", res.StatusCode)
	}
}
