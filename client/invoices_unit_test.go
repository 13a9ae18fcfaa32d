package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// readWire reads a wire golden of the domain package: the bytes the server
// writes for each Invoices operation.
func readWire(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeInvoiceCentsExactly(t *testing.T) {
	var inv Invoice
	if err := json.Unmarshal(readWire(t, "invoice.json"), &inv); err != nil {
		t.Fatal(err)
	}
	if inv.AmountBilled != 351442 || inv.AmountPaid != 351442 || inv.Credits != 50000 || inv.Subtotal != 401442 {
		t.Errorf("amounts = billed %d paid %d credits %d subtotal %d; want the integer cents of the answer",
			inv.AmountBilled, inv.AmountPaid, inv.Credits, inv.Subtotal)
	}
	if inv.StatusName != InvoicePaid || inv.Month() != MakeMonth(2024, time.June) {
		t.Errorf("status %s month %s, want PAID 2024-06", inv.StatusName, inv.Month())
	}
	var sum Cents
	for _, li := range inv.LineItems {
		sum += li.TotalPrice
	}
	if sum != inv.Subtotal-inv.Credits {
		t.Errorf("line items sum to %d, want subtotal - credits = %d", sum, inv.Subtotal-inv.Credits)
	}
	li := inv.LineItems[1]
	if li.Discount != 16 || li.PercentDiscount != 10 || li.TotalPrice != 146 || li.Tags["team"][0] != "analytics" {
		t.Errorf("discounted item = %+v", li)
	}
	if li.Service() != "BI Connector" || inv.LineItems[0].Service() != "Clusters" {
		t.Errorf("services = %q, %q; want BI Connector, Clusters", li.Service(), inv.LineItems[0].Service())
	}
	if len(inv.Payments) == 0 || inv.Payments[0].AmountPaid != 351442 {
		t.Errorf("payments = %+v, want one of 351442 cents", inv.Payments)
	}
}

func TestDecodeInvoicePages(t *testing.T) {
	var list Page[Invoice]
	if err := json.Unmarshal(readWire(t, "invoice_list.json"), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Results) == 0 || len(list.Results[0].LinkedInvoices) != 1 || list.Results[0].LinkedInvoices[0].AmountBilled != 4900 {
		t.Errorf("list = %+v, want the first invoice with one linked invoice of 4900 cents", list.Results)
	}
	var items Page[UsageLineItem]
	if err := json.Unmarshal(readWire(t, "invoice_line_items.json"), &items); err != nil {
		t.Fatal(err)
	}
	if items.TotalCount != 4 || len(items.Results) != 2 || items.Results[1].TotalPrice != 146 || items.HasNext() {
		t.Errorf("line items = %+v", items)
	}
	var skus Page[SKU]
	if err := json.Unmarshal(readWire(t, "skus_page.json"), &skus); err != nil {
		t.Fatal(err)
	}
	if len(skus.Results) == 0 || skus.Results[0].ID == "" {
		t.Errorf("skus = %+v", skus)
	}
}

func TestInvoiceListOptionsValues(t *testing.T) {
	tests := []struct {
		name string
		opts InvoiceListOptions
		want string
	}{
		{"Defaults", InvoiceListOptions{}, ""},
		{"Every", InvoiceListOptions{
			HideLinkedInvoices: true, StatusNames: []InvoiceStatus{InvoicePaid, InvoiceFree},
			FromDate: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), ToDate: time.Date(2025, 7, 1, 23, 0, 0, 0, time.UTC),
			SortBy: SortByStartDate, OrderBy: OrderAsc, PageNum: 2, ItemsPerPage: 5, OmitCount: true,
		}, "fromDate=2025-01-01&includeCount=false&itemsPerPage=5&orderBy=asc&pageNum=2&sortBy=START_DATE&statusNames=PAID&statusNames=FREE&toDate=2025-07-01&viewLinkedInvoices=false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.opts.Values().Encode(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	if got := InvoicesPath("o/x", "pending"); got != "/api/atlas/v2/orgs/"+url.PathEscape("o/x")+"/invoices/pending" {
		t.Errorf("InvoicesPath = %q", got)
	}
}

func TestLineItemQueryJSON(t *testing.T) {
	checkMarshal(t, []marshalCase{
		{"Empty", LineItemQuery{}, `{}`},
		{"SortOnly", LineItemQuery{SortField: SortTotalPriceCents, SortOrder: SortAscending}, `{"sortField":"TOTAL_PRICE_CENTS","sortOrder":"ASCENDING"}`},
		{"Filters", LineItemQuery{
			UsageStartDate: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), UsageEndDate: time.Date(2025, 6, 7, 0, 0, 0, 0, time.UTC),
			ClusterIDs: []string{"aaaaaaaaaaaaaaaaaaaaaaaa"}, SKUServices: []string{"Atlas"}, IncludeZeroCentLineItems: true,
		}, `{"filters":{"usageStartDate":"2025-06-01","usageEndDate":"2025-06-07","clusterIds":["aaaaaaaaaaaaaaaaaaaaaaaa"],"skuServices":["Atlas"],"includeZeroCentLineItems":true}}`},
	})
}

func TestDecodeInvoiceStream(t *testing.T) {
	// The golden invoice pays for a linked organization: its linked
	// invoice is read too, without line items.
	for _, name := range []string{"invoice.json", "invoice_pending.json"} {
		t.Run(name, func(t *testing.T) {
			b := readWire(t, name)
			if name == "invoice_pending.json" {
				var p struct {
					Results []json.RawMessage `json:"results"`
				}
				if err := json.Unmarshal(b, &p); err != nil {
					t.Fatal(err)
				}
				b = p.Results[0]
			}
			var whole Invoice
			if err := json.Unmarshal(b, &whole); err != nil {
				t.Fatal(err)
			}
			var streamed []LineItem
			inv := &Invoice{}
			err := decodeInvoiceStream(json.NewDecoder(bytes.NewReader(b)), inv, func(li *LineItem) error {
				streamed = append(streamed, *li)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(streamed, whole.LineItems) {
				t.Errorf("streamed items differ from the decoded ones:\n%+v\n%+v", streamed, whole.LineItems)
			}
			whole.LineItems = nil
			for i := range whole.LinkedInvoices {
				whole.LinkedInvoices[i].LineItems = nil
			}
			if !reflect.DeepEqual(inv, &whole) {
				t.Errorf("streamed invoice:\n%+v\nwant:\n%+v", inv, whole)
			}
		})
	}
	t.Run("ErrStopsTheStream", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := decodeInvoiceStream(json.NewDecoder(bytes.NewReader(readWire(t, "invoice.json"))), &Invoice{}, func(*LineItem) error {
			n++
			return stop
		})
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("err = %v after %d items, want stop after 1", err, n)
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		b := readWire(t, "invoice.json")
		if err := decodeInvoiceStream(json.NewDecoder(bytes.NewReader(b[:len(b)/2])), &Invoice{}, nil); err == nil {
			t.Error("a truncated invoice decoded")
		}
	})
}

// TestOperationVersions checks that each operation sends the later of the
// client's API version and the first version the operation exists in.
func TestOperationVersions(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.Header.Get("Accept")+" "+r.Header.Get("Content-Type"))
		_, _ = w.Write([]byte(`{"results":[]}`))
	}))
	defer srv.Close()
	for _, tt := range []struct {
		name, version string
		want          []string
	}{
		{"Default", "", []string{
			"GET application/vnd.atlas.2023-01-01+json ",
			"GET application/vnd.atlas.2024-08-05+json application/vnd.atlas.2024-08-05+json",
			"GET application/vnd.atlas.2025-03-12+json ",
		}},
		{"Later", "2025-01-01", []string{
			"GET application/vnd.atlas.2025-01-01+json ",
			"GET application/vnd.atlas.2025-01-01+json application/vnd.atlas.2025-01-01+json",
			"GET application/vnd.atlas.2025-03-12+json ",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var opts []Option
			if tt.version != "" {
				opts = append(opts, WithAPIVersion(tt.version))
			}
			c, err := New(srv.URL, opts...)
			if err != nil {
				t.Fatal(err)
			}
			got = nil
			ctx := t.Context()
			if _, err := c.Invoices(ctx, "o", InvoiceListOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.SearchLineItems(ctx, "o", "i", LineItemQuery{}, PageOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.SKUs(ctx, PageOptions{}); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("requests:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}
