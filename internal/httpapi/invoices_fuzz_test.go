package httpapi_test

import (
	"net/url"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// FuzzInvoiceRequest sends arbitrary requests, authenticated, to the invoice
// operations and the SKU catalogue: the path parameter (invoice or SKU id),
// the Accept and Content-Type headers, the query string and the search body
// come from the fuzzer. Every answer is a valid one (checkAnswer): no 5xx,
// an Atlas error or what openapi.yaml describes.
func FuzzInvoiceRequest(f *testing.F) {
	e, tb := fuzzEnv(f)
	inv := costexplorer.InvoiceID(e.Org, costexplorer.MonthOf(t0)-1)
	const (
		json1  = "application/vnd.atlas.2023-01-01+json"
		csv1   = "application/vnd.atlas.2023-01-01+csv"
		json24 = "application/vnd.atlas.2024-08-05+json"
		json25 = "application/vnd.atlas.2025-03-12+json"
	)
	f.Add(uint8(0), "", json1, "", "statusNames=PAID&statusNames=INVOICED&fromDate=2025-01-01&toDate=2025-07-01&sortBy=START_DATE&orderBy=asc", []byte(nil))
	f.Add(uint8(0), "", json1, "", "itemsPerPage=2&pageNum=3&includeCount=false&viewLinkedInvoices=false&pretty=true&envelope=true", []byte(nil))
	f.Add(uint8(0), "", json1, "", "fromDate=2025-13-01&statusNames=paid", []byte(nil))
	f.Add(uint8(1), inv, json1, "", "envelope=true", []byte(nil))
	f.Add(uint8(1), inv, csv1, "", "pretty=true", []byte(nil))
	f.Add(uint8(1), "pending", "application/vnd.atlas.2030-01-01+csv;q=0.5, "+json1, "", "", []byte(nil))
	f.Add(uint8(2), inv, csv1, "", "", []byte(nil))
	f.Add(uint8(2), "0123456789abcdef01234567", json1, "", "", []byte(nil))
	f.Add(uint8(3), "", json1, "", "pretty=true", []byte(nil))
	f.Add(uint8(4), inv, json24, json24, "itemsPerPage=3&pageNum=2", []byte(`{"filters":{"skuServices":["Clusters"],"usageStartDate":"2025-05-02","usageEndDate":"2025-05-09"},"sortField":"TOTAL_PRICE_CENTS","sortOrder":"ASCENDING"}`))
	f.Add(uint8(4), inv, json25, "application/json", "", []byte(`{"filters":{"groupIds":["aaaaaaaaaaaaaaaaaaaaaaaa"],"clusterIds":[],"includeZeroCentLineItems":true}}`))
	f.Add(uint8(5), inv, json24, json24, "", []byte(`{"filters":{"billStartDate":"2025-05-10","billEndDate":"2025-05-01"}}`))
	f.Add(uint8(5), inv, json24, json24, "", []byte(`{"filters":null,"sortField":null}`))
	f.Add(uint8(6), "", json25, "", "itemsPerPage=7&pageNum=2", []byte(nil))
	f.Add(uint8(7), "ATLAS_AWS_INSTANCE_M10", json25, "", "envelope=true", []byte(nil))
	f.Add(uint8(7), "../orgs", json25, "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, kind uint8, param, accept, contentType, rawQuery string, body []byte) {
		base := invoicesPath(e.Org)
		var method, path string
		switch kind % 8 {
		case 0:
			method, path = "GET", base
		case 1:
			method, path = "GET", base+"/"+url.PathEscape(param)
		case 2:
			method, path = "GET", base+"/"+url.PathEscape(param)+"/csv"
		case 3:
			method, path = "GET", base+"/pending"
		case 4:
			method, path = "POST", base+"/"+url.PathEscape(param)+"/lineItems:search"
		case 5:
			method, path = "GET", base+"/"+url.PathEscape(param)+"/lineItems:search"
		case 6:
			method, path = "GET", skusPath
		case 7:
			method, path = "GET", skusPath+"/"+url.PathEscape(param)
		}
		req, res := fuzzSend(t, e, method, path, accept, contentType, rawQuery, body)
		if res == nil {
			return
		}
		checkAnswer(t, e, tb, req, res)
	})
}
