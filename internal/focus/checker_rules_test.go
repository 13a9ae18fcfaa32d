package focus

import (
	"math/big"
	"slices"
	"strings"
	"testing"
)

// TestChecker_CatchesBrokenRows breaks a valid export one rule at a time
// and expects the checker to name that rule: a checker that passes every
// file would prove nothing.
func TestChecker_CatchesBrokenRows(t *testing.T) {
	st := fixtureStore(t)
	req := Request{OrgID: fxPaying, From: fxJan, To: fxFeb, Spec: Spec13, Format: CSV}
	data, _ := export(t, st, req)
	exp := expect(t, st, req)
	fresh := func() *table { return readBack(t, data, CSV, &report{}) }
	if rep := check(fresh(), exp); len(rep.byRule) > 0 {
		t.Fatalf("the unbroken export fails:\n%s", rep)
	}
	usageRow := func(tb *table) []value {
		for _, row := range tb.rows {
			if tb.get(row, "ChargeCategory").s == "Usage" && tb.get(row, "SkuId").s == "ATLAS_AWS_INSTANCE_M40" {
				return row
			}
		}
		t.Fatal("no M40 usage row")
		return nil
	}
	set := func(tb *table, row []value, col string, v value) { row[tb.index[col]] = v }
	num := func(s string) value { r, _ := new(big.Rat).SetString(s); return value{s: s, num: r} }

	for _, c := range []struct {
		rule   string
		break_ func(tb *table)
	}{
		{"§6.4 never null", func(tb *table) { set(tb, usageRow(tb), "BilledCost", value{null: true}) }},
		{"§4.4 ListCost = ListUnitPrice × PricingQuantity", func(tb *table) { set(tb, usageRow(tb), "ListCost", num("28.53")) }},
		{"§4.4 Σ BilledCost per InvoiceId = amount billed", func(tb *table) { set(tb, usageRow(tb), "BilledCost", num("24.97")) }},
		{"§4.3 ChargeCategory values", func(tb *table) { set(tb, usageRow(tb), "ChargeCategory", value{s: "Discount"}) }},
		{"§4.8 ServiceSubcategory under its category", func(tb *table) { set(tb, usageRow(tb), "ServiceSubcategory", value{s: "Block Storage"}) }},
		{"§4.2 charge period inside billing period", func(tb *table) {
			row := usageRow(tb)
			set(tb, row, "ChargePeriodEnd", value{s: "x", t: tb.get(row, "BillingPeriodEnd").t.AddDate(0, 0, 1)})
		}},
		{"KV/§4.13 Tags", func(tb *table) { set(tb, usageRow(tb), "Tags", value{s: `{"team":["a","b"]}`}) }},
		{"KV/§4.13 Tags", func(tb *table) { set(tb, usageRow(tb), "Tags", value{s: `{"a":"1","a":"2"}`}) }},
		{"§6.8 SubAccountName null ⇔ SubAccountId null", func(tb *table) { set(tb, usageRow(tb), "SubAccountName", value{null: true}) }},
		{"§4.5 not null on Usage/Purchase rows", func(tb *table) { set(tb, usageRow(tb), "SkuPriceId", value{null: true}) }},
		{"NH2/SH4 no empty strings", func(tb *table) { set(tb, usageRow(tb), "RegionId", value{s: " "}) }},
		{"UF unit format", func(tb *table) { set(tb, usageRow(tb), "PricingUnit", value{s: "server hours"}) }},
		{"CH11 FOCUS columns before custom ones", func(tb *table) {
			i, j := tb.index["Tags"], tb.index["x_Application"]
			tb.columns[i], tb.columns[j] = tb.columns[j], tb.columns[i]
			tb.index["Tags"], tb.index["x_Application"] = j, i
		}},
		{"§3 presence", func(tb *table) {
			i := tb.index["ServiceProviderName"]
			tb.columns = slices.Delete(tb.columns, i, i+1)
			delete(tb.index, "ServiceProviderName")
			for k, v := range tb.index {
				if v > i {
					tb.index[k] = v - 1
				}
			}
			for r := range tb.rows {
				tb.rows[r] = slices.Delete(tb.rows[r], i, i+1)
			}
		}},
	} {
		tb := fresh()
		c.break_(tb)
		rep := check(tb, exp)
		if _, ok := rep.byRule[c.rule]; !ok {
			t.Errorf("breaking %q: the checker reports only\n%s", c.rule, rep)
		}
	}
}

// TestChecker_ReadsNumbersAndTimesStrictly: the CSV reader rejects what the
// numeric and date/time formats forbid.
func TestChecker_ReadsNumbersAndTimesStrictly(t *testing.T) {
	for _, s := range []string{"+3", "1,200", "$5", "10 GB", "3.4E+6", "1/3", ".5"} {
		if numericRe.MatchString(s) {
			t.Errorf("%q accepted as a number", s)
		}
	}
	for _, s := range []string{"0", "-12.5", "3.4E-6", "1200"} {
		if !numericRe.MatchString(s) {
			t.Errorf("%q rejected as a number", s)
		}
	}
	for _, s := range []string{"2026-01-01", "2026-01-01T00:00:00+00:00", "2026-01-01 00:00:00Z"} {
		if dateTimeRe.MatchString(s) {
			t.Errorf("%q accepted as a date/time", s)
		}
	}
}

func TestFocusUnit(t *testing.T) {
	for in, want := range map[string]string{
		"server hours": "Hours", "GB days": "GB-Days", "million tokens": "1000000 Tokens",
		"sync runtime seconds": "SyncRuntime-Seconds", "widgets": "Widgets", "": "Units",
	} {
		if got := FocusUnit(in); got != want || !unitRe.MatchString(got) {
			t.Errorf("FocusUnit(%q) = %q, want %q (a FOCUS unit)", in, got, want)
		}
	}
}

func TestDecimalText(t *testing.T) {
	for _, c := range []struct {
		m     int64
		scale int
		want  string
	}{{1_188_571_428, 9, "1.188571428"}, {-5, 2, "-0.05"}, {0, 9, "0"}, {1200, 2, "12"}, {7, 0, "7"}, {-100, 9, "-0.0000001"}} {
		if got := decimalText(big.NewInt(c.m), c.scale); got != c.want {
			t.Errorf("decimalText(%d, %d) = %q, want %q", c.m, c.scale, got, c.want)
		}
	}
	if !strings.HasPrefix(decimalText(big.NewInt(1), 30), "0.000") {
		t.Error("small numbers keep their leading zeros")
	}
}
