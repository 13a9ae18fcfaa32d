package httpapi_test

import (
	"net/url"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// FuzzReportPreviews sends arbitrary requests, authenticated, to the preview
// generateOrgInvoiceAndDownloadReport and to getOrgAssociatedInvoices: the
// invoice id, the Accept and Content-Type headers, the query string and the
// body come from the fuzzer. Every answer is a valid one (checkAnswer): no
// 5xx, an Atlas error or what openapi.yaml describes.
func FuzzReportPreviews(f *testing.F) {
	e, tb := fuzzEnv(f)
	inv := costexplorer.InvoiceID(e.Org, costexplorer.MonthOf(t0)-1)
	const (
		gz   = "application/vnd.atlas.preview+gzip"
		pj   = "application/vnd.atlas.preview+json"
		js25 = "application/vnd.atlas.2025-03-12+json"
	)
	f.Add(uint8(0), inv, gz, pj, "", []byte(`{}`))
	f.Add(uint8(0), inv, gz, "application/json", "envelope=true&pretty=true", []byte(`{"reportType":"FOCUS","reportFormat":"CSV","version":"1.2"}`))
	f.Add(uint8(0), inv, gz+", "+pj, pj, "", []byte(`{"version":null,"reportType":"focus"}`))
	f.Add(uint8(0), inv+":generateAndDownloadReport", gz, pj, "", []byte(`{}`))
	f.Add(uint8(0), "0123456789abcdef01234567", js25, js25, "", []byte(`[`))
	f.Add(uint8(1), "", js25, "", "month=2&year=2025&includeLinkedOrgs=true", []byte(nil))
	f.Add(uint8(1), "", pj, "", "month=00012&year=02025", []byte(nil))
	f.Add(uint8(1), "", pj+";q=0.1, "+js25, "", "year=99999999999&envelope=true", []byte(nil))
	f.Fuzz(func(t *testing.T, kind uint8, param, accept, contentType, rawQuery string, body []byte) {
		var method, path string
		switch kind % 2 {
		case 0:
			method, path = "POST", invoicesPath(e.Org)+"/"+url.PathEscape(param)+":generateAndDownloadReport"
		case 1:
			method, path = "GET", associatedPath(e.Org)
		}
		req, res := fuzzSend(t, e, method, path, accept, contentType, rawQuery, body)
		if res == nil {
			return
		}
		checkAnswer(t, e, tb, req, res)
	})
}
