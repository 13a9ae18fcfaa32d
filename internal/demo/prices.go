package demo

import (
	"fmt"
	"math/bits"

	"github.com/costexplorer/costexplorer"
)

// sku is one SKU the generator emits, resolved once through the domain
// catalogue so the inner loop copies strings instead of looking them up.
type sku struct {
	id          string
	service     costexplorer.Service
	unit        string
	priceNanos  int64  // unit price in billionths of a dollar
	description string // the catalogue's, the invoice line's Description
}

// skuTable holds the resolved SKUs; skuIndex finds one by id while planning.
type skuTable struct {
	list  []sku
	index map[string]int
}

// listPrices are approximate Atlas list prices (dollars per unit, expressed
// in nanodollars) for the SKUs the generator uses. They only need to look
// plausible; every one must exist in the domain catalogue.
var listPrices = []struct {
	id    string
	nanos int64
}{
	// Dedicated cluster instances, per server hour (AWS; GCP and Azure are
	// derived below with a small premium).
	{"INSTANCE_M10", 80_000_000},
	{"INSTANCE_M20", 200_000_000},
	{"INSTANCE_M30", 540_000_000},
	{"INSTANCE_M40", 1_040_000_000},
	{"INSTANCE_M50", 2_000_000_000},
	{"INSTANCE_M60", 3_950_000_000},
	{"INSTANCE_M80", 7_300_000_000},
	{"STORAGE_STANDARD", 115_000_000},                // GB month
	{"STORAGE_IOPS", 65_000_000},                     // IOPS month
	{"DATA_TRANSFER_SAME_REGION", 10_000_000},        // GB
	{"DATA_TRANSFER_DIFFERENT_REGION", 20_000_000},   // GB
	{"DATA_TRANSFER_INTERNET", 90_000_000},           // GB
	{"BACKUP_SNAPSHOT_STORAGE", 4_700_000},           // GB day
	{"PIT_RESTORE_STORAGE", 6_700_000},               // GB day
	{"BI_CONNECTOR", 130_000_000},                    // server hour
	{"SERVERLESS_RPU", 100_000_000},                  // million RPUs
	{"SERVERLESS_WPU", 1_000_000_000},                // million WPUs
	{"SERVERLESS_STORAGE", 8_300_000},                // GB day
	{"FLEX_INSTANCE", 270_000_000},                   // day
	{"DATA_FEDERATION_DATA_SCANNED", 5_000_000_000},  // TB
	{"DATA_FEDERATION_DATA_RETURNED", 10_000_000},    // GB
	{"STREAM_PROCESSING_INSTANCE_SP10", 190_000_000}, // hour
	{"STREAM_PROCESSING_INSTANCE_SP30", 390_000_000}, // hour
	{"STREAM_PROCESSING_DATA_TRANSFER", 90_000_000},  // GB
}

// globalPrices are the SKUs without a provider.
var globalPrices = []struct {
	id    string
	nanos int64
}{
	{"REALM_APP_REQUESTS", 2_000},                  // request
	{"REALM_APP_COMPUTE", 3_600_000},               // runtime hour
	{"REALM_APP_DATA_TRANSFER", 120_000_000},       // GB
	{"CHARTS_DATA_DOWNLOADED", 1_000_000_000},      // GB
	{"ATLAS_ADVANCED_SECURITY", 150_000_000_000},   // month
	{"ATLAS_ENTERPRISE_AUDITING", 250_000_000_000}, // month
	{"ATLAS_SUPPORT_DEVELOPER", 49_000_000_000},
	{"ATLAS_SUPPORT_PRO", 799_000_000_000},
	{"ATLAS_SUPPORT_ENTERPRISE", 4_000_000_000_000},
	{"CREDIT", -1_000_000_000}, // a credit of one dollar
	{"ATLAS_PROMOTIONAL_CREDIT", -1_000_000_000},
}

// providers are the cloud providers clusters run on, as they appear in SKU
// ids, with the price premium over AWS in percent.
var providers = []struct {
	code    string
	premium int64
}{{"AWS", 0}, {"GCP", 4}, {"AZURE", 7}}

// newSKUTable resolves every SKU through costexplorer.LookupSKU. A SKU the
// catalogue lacks is a programming error, caught by the package tests.
func newSKUTable() (*skuTable, error) {
	t := &skuTable{index: map[string]int{}}
	add := func(id string, nanos int64) error {
		s, err := costexplorer.LookupSKU(id)
		if err != nil {
			return err
		}
		t.index[id] = len(t.list)
		t.list = append(t.list, sku{id: id, service: s.Service, unit: s.Unit, priceNanos: nanos, description: s.Description})
		return nil
	}
	for _, p := range providers {
		for _, lp := range listPrices {
			if err := add("ATLAS_"+p.code+"_"+lp.id, lp.nanos+lp.nanos*p.premium/100); err != nil {
				return nil, err
			}
		}
	}
	for _, gp := range globalPrices {
		if err := add(gp.id, gp.nanos); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// provider returns the index of the SKU "ATLAS_<provider>_<suffix>".
func (t *skuTable) provider(provider, suffix string) int {
	return t.must("ATLAS_" + provider + "_" + suffix)
}

func (t *skuTable) must(id string) int {
	i, ok := t.index[id]
	if !ok {
		panic(fmt.Sprintf("demo: SKU %s missing from the price list", id))
	}
	return i
}

// centsOf returns qtyMilli/1000 units at priceNanos per unit, in cents,
// rounded half away from zero, with 128-bit integer arithmetic so that no
// quantity the generator produces can overflow.
func centsOf(qtyMilli, priceNanos int64) costexplorer.Cents {
	neg := (qtyMilli < 0) != (priceNanos < 0)
	q, p := abs64(qtyMilli), abs64(priceNanos)
	hi, lo := bits.Mul64(q, p)
	// cents = milli-units × nanodollars / (1000 × 10^7), rounded half up.
	const div = 10_000_000_000
	lo, carry := bits.Add64(lo, div/2, 0)
	hi += carry
	if hi >= div {
		panic("demo: amount out of range")
	}
	c, _ := bits.Div64(hi, lo, div)
	if neg {
		return -costexplorer.Cents(c)
	}
	return costexplorer.Cents(c)
}

func abs64(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}
