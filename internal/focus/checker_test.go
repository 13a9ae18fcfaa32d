package focus

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// This file is the FOCUS checker: it reads an export back (gzip CSV with
// encoding/csv, Parquet with parquet-go) into a table and enforces the
// normative rules of the FOCUS 1.3 Cost and Usage dataset, as summarised in
// the project's reference facts, each named by its rule id there (CH1…,
// NH1…, §4.x). docs/focus.md lists the rules it does not check, and why.

// value is one cell read back: the text of a CSV cell or the Parquet value,
// with numbers as exact rationals (a Parquet DOUBLE is converted exactly)
// and times as UTC instants.
type value struct {
	null bool
	s    string
	num  *big.Rat
	t    time.Time
}

// table is an export read back.
type table struct {
	format  Format
	columns []string
	rows    [][]value
	index   map[string]int
}

func (tb *table) get(row []value, col string) value {
	i, ok := tb.index[col]
	if !ok {
		return value{null: true}
	}
	return row[i]
}

// report collects violations, at most a few per rule.
type report struct {
	byRule map[string][]string
}

func (r *report) add(rule, format string, args ...any) {
	if r.byRule == nil {
		r.byRule = map[string][]string{}
	}
	if len(r.byRule[rule]) < 3 {
		r.byRule[rule] = append(r.byRule[rule], fmt.Sprintf(format, args...))
	} else if len(r.byRule[rule]) == 3 {
		r.byRule[rule] = append(r.byRule[rule], "…")
	}
}

func (r *report) String() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(r.byRule)) {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(r.byRule[k], "; "))
	}
	return b.String()
}

var (
	numericRe  = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?(E-?[0-9]+)?$`)                                                                           // NF1–NF7
	dateTimeRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)                                                                               // DT3
	currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)                                                                                                           // CF1
	pascalRe   = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)                                                                                                  // CH1, CH3
	customRe   = regexp.MustCompile(`^x_[A-Z][A-Za-z0-9]*$`)                                                                                                // CH9, CH10
	unitRe     = regexp.MustCompile(`^([1-9][0-9]* )?[A-Z][A-Za-z0-9]*(-(Years|Months|Days|Hours|Minutes|Seconds)|/(Year|Month|Day|Hour|Minute|Second))?$`) // UF1, UF2, UF6
)

// readCSV reads a gzip CSV export; an empty field is a null.
func readCSV(data []byte, r *report) (*table, error) {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(gz)
	cr.ReuseRecord = false
	head, err := cr.Read()
	if err != nil {
		return nil, err
	}
	tb := &table{format: CSV, columns: head, index: map[string]int{}}
	for i, c := range head {
		tb.index[c] = i
	}
	kinds := kindsOf(head)
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		row := make([]value, len(rec))
		for i, s := range rec {
			if s == "" {
				row[i] = value{null: true}
				continue
			}
			v := value{s: s}
			switch kinds[i] {
			case Cents, Decimal, Quantity:
				if !numericRe.MatchString(s) {
					r.add("NF numeric format", "line %d %s: %q", line, head[i], s)
					continue
				}
				v.num, _ = new(big.Rat).SetString(s)
			case Time:
				if !dateTimeRe.MatchString(s) {
					r.add("DT3 date/time format", "line %d %s: %q", line, head[i], s)
					continue
				}
				v.t, _ = time.Parse(time.RFC3339, s)
			}
			row[i] = v
		}
		tb.rows = append(tb.rows, row)
	}
	return tb, nil
}

// kindsOf returns the kind we declared for each named column (String for a
// name we do not know, which the column checks then report).
func kindsOf(names []string) []Kind {
	out := make([]Kind, len(names))
	for i, n := range names {
		for _, c := range allColumns {
			if c.Name == n {
				out[i] = c.Kind
			}
		}
	}
	return out
}

// readParquet reads a Parquet export with parquet-go, checking each
// column's physical and logical type against its kind.
func readParquet(data []byte, r *report) (*table, error) {
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	schema := f.Schema()
	tb := &table{format: Parquet, index: map[string]int{}}
	for i, field := range schema.Fields() {
		tb.columns = append(tb.columns, field.Name())
		tb.index[field.Name()] = i
	}
	kinds := kindsOf(tb.columns)
	for i, field := range schema.Fields() {
		lt := field.Type().LogicalType()
		var ltv any
		if lt != nil {
			ltv = lt.Value
		}
		kind := field.Type().Kind()
		ok := false
		switch kinds[i] {
		case String:
			_, is := ltv.(*format.StringType)
			ok = kind == parquet.ByteArray && is
		case JSON:
			_, is := ltv.(*format.JsonType)
			ok = kind == parquet.ByteArray && is
		case Cents:
			d, is := ltv.(*format.DecimalType)
			ok = kind == parquet.Int64 && is && d.Scale == 2
		case Decimal, Quantity:
			ok = kind == parquet.Double && ltv == nil
		case Time:
			ts, is := ltv.(*format.TimestampType)
			millis := false
			if is {
				_, millis = ts.Unit.Value.(*format.MilliSeconds)
			}
			ok = kind == parquet.Int64 && is && ts.IsAdjustedToUTC && millis
		}
		if !ok {
			r.add("types", "column %s: %s %v is not a %s", field.Name(), kind, lt, kinds[i])
		}
	}
	rows := parquet.NewReader(f)
	defer rows.Close()
	buf := make([]parquet.Row, 1024)
	for {
		n, err := rows.ReadRows(buf)
		for _, pr := range buf[:n] {
			row := make([]value, len(tb.columns))
			for _, pv := range pr {
				i := pv.Column()
				if pv.IsNull() {
					row[i] = value{null: true}
					continue
				}
				var v value
				switch kinds[i] {
				case Cents:
					v.num = big.NewRat(pv.Int64(), 100)
					v.s = v.num.FloatString(2)
				case Decimal, Quantity:
					v.num = new(big.Rat).SetFloat64(pv.Double())
					v.s = fmt.Sprint(pv.Double())
				case Time:
					v.t = time.UnixMilli(pv.Int64()).UTC()
					v.s = v.t.Format(time.RFC3339)
				default:
					v.s = string(pv.ByteArray())
				}
				row[i] = v
			}
			tb.rows = append(tb.rows, row)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return tb, nil
}

// The FOCUS 1.3 column sets (reference §3), by feature level.
var (
	mandatory13 = []string{"BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency",
		"BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription",
		"ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost", "HostProviderName",
		"InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName",
		"ServiceCategory", "ServiceName", "ServiceProviderName"}
	focus13 = []string{"AllocatedMethodDetails", "AllocatedMethodId", "AllocatedResourceId",
		"AllocatedResourceName", "AllocatedTags", "AvailabilityZone", "BilledCost", "BillingAccountId",
		"BillingAccountName", "BillingAccountType", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
		"CapacityReservationId", "CapacityReservationStatus", "ChargeCategory", "ChargeClass", "ChargeDescription",
		"ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory",
		"CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus",
		"CommitmentDiscountType", "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractApplied",
		"ContractedCost", "ContractedUnitPrice", "EffectiveCost", "HostProviderName", "InvoiceId",
		"InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory", "PricingCurrency",
		"PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice",
		"PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId",
		"ResourceName", "ResourceType", "ServiceCategory", "ServiceName", "ServiceProviderName", "ServiceSubcategory",
		"SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName", "SubAccountType", "Tags"}
	// new13 are the columns 1.3 added to 1.2 (reference §7).
	new13 = []string{"ServiceProviderName", "HostProviderName", "ContractApplied", "AllocatedMethodId",
		"AllocatedMethodDetails", "AllocatedResourceId", "AllocatedResourceName", "AllocatedTags"}
	// Conditional columns whose condition holds for Atlas in our data
	// (reference §6.1: a test fixes the conditions per dataset): sub
	// accounts (projects), resources (clusters), regions, usage measured,
	// list and negotiated prices, SKUs with price lists, tags.
	conditionalHeld = []string{"SubAccountId", "SubAccountName", "ResourceId", "ResourceName", "ResourceType",
		"RegionId", "RegionName", "ConsumedQuantity", "ConsumedUnit", "ListUnitPrice", "ContractedUnitPrice",
		"SkuId", "SkuMeter", "SkuPriceId", "Tags"}
	neverNull = []string{"BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingAccountId",
		"BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd",
		"ChargeCategory", "ChargeFrequency", "InvoiceIssuerName", "ServiceCategory", "ServiceName",
		"ServiceSubcategory", "ServiceProviderName", "ProviderName", "PublisherName"}
	// taxNull and usageNotNull: the §4.5 null matrix (columns we have).
	pricingMatrix = []string{"ListUnitPrice", "ContractedUnitPrice", "PricingQuantity", "PricingCategory", "SkuId", "SkuPriceId"}
	nullPairs     = [][2]string{{"SubAccountName", "SubAccountId"}, {"RegionName", "RegionId"},
		{"ResourceType", "ResourceId"}, {"ConsumedUnit", "ConsumedQuantity"}, {"PricingUnit", "PricingQuantity"},
		{"BillingAccountType", "BillingAccountId"}, {"SubAccountType", "SubAccountId"}}
	oneWay = [][2]string{{"ResourceName", "ResourceId"}, {"SkuMeter", "SkuId"}, {"SkuPriceDetails", "SkuPriceId"}}

	chargeCategories  = []string{"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
	chargeFrequencies = []string{"One-Time", "Recurring", "Usage-Based"}
	pricingCategories = []string{"Standard", "Dynamic", "Committed", "Other"}
	serviceCategories = []string{"AI and Machine Learning", "Analytics", "Business Applications", "Compute",
		"Databases", "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
		"Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security", "Storage", "Web", "Other"}
	subcategories = map[string]string{}
)

func init() {
	for cat, subs := range map[string]string{
		"AI and Machine Learning":   "AI Platforms;Bots;Generative AI;Machine Learning;Natural Language Processing",
		"Analytics":                 "Analytics Platforms;Business Intelligence;Data Processing;Search;Streaming Analytics",
		"Business Applications":     "Productivity and Collaboration",
		"Compute":                   "Containers;End User Computing;Quantum Compute;Serverless Compute;Virtual Machines",
		"Databases":                 "Caching;Data Warehouses;Ledger Databases;NoSQL Databases;Relational Databases;Time Series Databases",
		"Developer Tools":           "Developer Platforms;Continuous Integration and Deployment;Development Environments;Source Code Management;Quality Assurance",
		"Identity":                  "Identity and Access Management",
		"Integration":               "API Management;Messaging;Workflow Orchestration",
		"Internet of Things":        "IoT Analytics;IoT Platforms",
		"Management and Governance": "Architecture;Compliance;Cost Management;Data Governance;Disaster Recovery;Endpoint Management;Observability;Support",
		"Media":                     "Content Creation;Gaming;Media Streaming;Mixed Reality",
		"Migration":                 "Data Migration;Resource Migration",
		"Mobile":                    "",
		"Multicloud":                "Multicloud Integration",
		"Networking":                "Application Networking;Content Delivery;Network Connectivity;Network Infrastructure;Network Routing;Network Security",
		"Security":                  "Secret Management;Security Posture Management;Threat Detection and Response",
		"Storage":                   "Backup Storage;Block Storage;File Storage;Object Storage;Storage Platforms",
		"Web":                       "Application Platforms",
		"Other":                     "",
	} {
		for _, s := range strings.Split(subs, ";") {
			if s != "" {
				subcategories[s] = cat
			}
		}
		subcategories["Other ("+cat+")"] = cat
	}
}

// expectation is what the checker knows from outside the file: the FOCUS
// version and the amount billed of every invoice (reference §4.4).
type expectation struct {
	spec         Spec
	amountBilled map[string]*big.Rat // by invoice id, in dollars
}

// check enforces the rules on tb.
func check(tb *table, exp expectation) *report {
	r := &report{}
	checkColumns(tb, exp.spec, r)
	for i, row := range tb.rows {
		checkRow(tb, row, i+1, r)
	}
	checkSet(tb, exp, r)
	return r
}

// checkColumns: names, order, presence (CH1–CH12, §3, §6.1–6.2).
func checkColumns(tb *table, spec Spec, r *report) {
	seenCustom := false
	for _, c := range tb.columns {
		if strings.HasPrefix(c, "x_") {
			seenCustom = true
			if !customRe.MatchString(c) {
				r.add("CH9/CH10 custom column names", "%q", c)
			}
			continue
		}
		if seenCustom {
			r.add("CH11 FOCUS columns before custom ones", "%s after an x_ column", c)
		}
		if !pascalRe.MatchString(c) {
			r.add("CH1/CH3 PascalCase alphanumeric", "%q", c)
		}
		if len(c) > 50 {
			r.add("CH5 at most 50 characters", "%q", c)
		}
		if !slices.Contains(focus13, c) {
			r.add("§6.2 FOCUS column names", "%q is no FOCUS 1.3 column and lacks the x_ prefix", c)
		}
		if spec == Spec12 && slices.Contains(new13, c) {
			r.add("§7 the 1.2 column set", "%s is new in 1.3", c)
		}
	}
	if len(slices.Compact(slices.Clone(tb.columns))) != len(tb.columns) || len(tb.index) != len(tb.columns) {
		r.add("CH columns unique", "a column repeats")
	}
	var focusCols []string
	for _, c := range tb.columns {
		if !strings.HasPrefix(c, "x_") {
			focusCols = append(focusCols, c)
		}
	}
	if !slices.IsSorted(focusCols) {
		r.add("CH12 alphabetical order", "FOCUS columns are not in alphabetical order")
	}
	required := append(slices.Clone(mandatory13), conditionalHeld...)
	for _, c := range required {
		if spec == Spec12 && slices.Contains(new13, c) {
			continue
		}
		if _, ok := tb.index[c]; !ok {
			r.add("§3 presence", "column %s missing", c)
		}
	}
	if spec == Spec13 && !slices.Contains(tb.columns, "ContractApplied") {
		r.add("§3 presence", "ContractApplied missing (Atlas publishes it)")
	}
}

func isNull(v value) bool { return v.null }

// checkRow: the row-scope rules of §2 and §4.
func checkRow(tb *table, row []value, n int, r *report) {
	get := func(c string) value { return tb.get(row, c) }
	cc := get("ChargeCategory").s
	correction := get("ChargeClass").s == "Correction"
	for i, c := range tb.columns {
		v := row[i]
		if v.null {
			continue
		}
		if v.num == nil && v.t.IsZero() {
			if strings.TrimSpace(v.s) == "" {
				r.add("NH2/SH4 no empty strings", "row %d %s", n, c)
			}
			if v.s == "Not Applicable" || v.s == "N/A" {
				r.add("NH2 no placeholders", "row %d %s: %q", n, c, v.s)
			}
		}
		if strings.HasSuffix(c, "Category") && c != "ChargeCategory" && c != "ServiceCategory" && c != "PricingCategory" {
			r.add("CH8 normalized Category values", "row %d: unchecked category column %s", n, c)
		}
	}
	for _, c := range neverNull {
		if _, ok := tb.index[c]; ok && isNull(get(c)) {
			r.add("§6.4 never null", "row %d: %s is null", n, c)
		}
	}
	for _, c := range []string{"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"} {
		if v := get(c); !v.null && (v.t.IsZero() || v.t.Location() != time.UTC) {
			r.add("DT1 UTC", "row %d %s: %v", n, c, v.t)
		}
	}
	if v := get("BillingCurrency"); !currencyRe.MatchString(v.s) || v.s != "USD" {
		r.add("CF1 ISO 4217, the invoice's currency", "row %d: %q", n, v.s)
	}
	if !slices.Contains(chargeCategories, cc) {
		r.add("§4.3 ChargeCategory values", "row %d: %q", n, cc)
	}
	if v := get("ChargeClass"); !v.null && v.s != "Correction" {
		r.add("§4.3 ChargeClass values", "row %d: %q", n, v.s)
	}
	freq := get("ChargeFrequency").s
	if !slices.Contains(chargeFrequencies, freq) {
		r.add("§4.3 ChargeFrequency values", "row %d: %q", n, freq)
	}
	if cc == "Purchase" && freq == "Usage-Based" {
		r.add("§4.3 no Usage-Based purchase", "row %d", n)
	}
	if v := get("PricingCategory"); !v.null && !slices.Contains(pricingCategories, v.s) {
		r.add("§4.5 PricingCategory values", "row %d: %q", n, v.s)
	}
	cat, sub := get("ServiceCategory").s, get("ServiceSubcategory").s
	if !slices.Contains(serviceCategories, cat) {
		r.add("§4.8 ServiceCategory values", "row %d: %q", n, cat)
	}
	if parent, ok := subcategories[sub]; !ok || parent != cat {
		r.add("§4.8 ServiceSubcategory under its category", "row %d: %q under %q", n, sub, cat)
	}

	// Periods: inclusive start before exclusive end; charge period inside
	// the billing period; billing periods are whole months.
	bs, be := get("BillingPeriodStart").t, get("BillingPeriodEnd").t
	cs, ce := get("ChargePeriodStart").t, get("ChargePeriodEnd").t
	if !bs.Before(be) || !cs.Before(ce) {
		r.add("§4.2 start before end", "row %d: billing %v–%v, charge %v–%v", n, bs, be, cs, ce)
	}
	if cs.Before(bs) || ce.After(be) {
		r.add("§4.2 charge period inside billing period", "row %d: charge %v–%v, billing %v–%v", n, cs, ce, bs, be)
	}
	if bs.Day() != 1 || bs.Hour() != 0 || !be.Equal(bs.AddDate(0, 1, 0)) {
		r.add("§4.2 billing period is the invoice month [start, end)", "row %d: %v–%v", n, bs, be)
	}

	// §4.5 null matrix.
	for _, c := range pricingMatrix {
		if _, ok := tb.index[c]; !ok {
			continue
		}
		v := get(c)
		if cc == "Tax" && !v.null {
			r.add("§4.5 null on Tax rows", "row %d: %s", n, c)
		}
		if (cc == "Usage" || cc == "Purchase") && !correction && v.null {
			r.add("§4.5 not null on Usage/Purchase rows", "row %d: %s", n, c)
		}
	}
	for _, c := range []string{"ListUnitPrice", "ContractedUnitPrice"} {
		if v := get(c); !v.null && v.num.Sign() < 0 {
			r.add("§4.5 unit prices not negative", "row %d %s: %s", n, c, v.s)
		}
	}
	// §4.4 products, and the standalone rule when the price is null.
	billed := get("BilledCost")
	for _, pair := range [][2]string{{"ListCost", "ListUnitPrice"}, {"ContractedCost", "ContractedUnitPrice"}} {
		cost, price, qty := get(pair[0]), get(pair[1]), get("PricingQuantity")
		switch {
		case cost.null:
		case !price.null && !qty.null && !correction:
			want := new(big.Rat).Mul(price.num, qty.num)
			if !equalNum(tb.format, cost.num, want) {
				r.add("§4.4 "+pair[0]+" = "+pair[1]+" × PricingQuantity", "row %d: %s ≠ %s × %s", n, cost.s, price.s, qty.s)
			}
		case price.null && cc != "Usage" && cc != "Purchase" && !billed.null:
			if !equalNum(tb.format, cost.num, billed.num) {
				r.add("§4.4 "+pair[0]+" = BilledCost on standalone rows", "row %d: %s ≠ %s", n, cost.s, billed.s)
			}
		}
	}
	if eff := get("EffectiveCost"); cc != "Usage" && cc != "Purchase" && !billed.null && !eff.null && eff.num.Cmp(billed.num) != 0 {
		r.add("§4.4 EffectiveCost = BilledCost on standalone rows", "row %d", n)
	}
	// §4.5 consumed quantity.
	cq := get("ConsumedQuantity")
	if cc != "Usage" && !cq.null {
		r.add("§4.5 ConsumedQuantity null unless Usage", "row %d", n)
	}
	if cc == "Usage" && !correction && get("CommitmentDiscountStatus").s != "Unused" && cq.null {
		r.add("§4.5 ConsumedQuantity on Usage rows", "row %d", n)
	}
	// §6.8 null pairs.
	for _, p := range nullPairs {
		_, okA := tb.index[p[0]]
		_, okB := tb.index[p[1]]
		if okA && okB && get(p[0]).null != get(p[1]).null {
			r.add("§6.8 "+p[0]+" null ⇔ "+p[1]+" null", "row %d", n)
		}
	}
	for _, p := range oneWay {
		if _, ok := tb.index[p[0]]; ok && get(p[1]).null && !get(p[0]).null {
			r.add("§6.8 "+p[0]+" null when "+p[1]+" is", "row %d", n)
		}
	}
	if v := get("SkuMeter"); v.null && !get("SkuId").null {
		r.add("§4.6 SkuMeter should not be null with a SkuId", "row %d", n)
	}
	if get("ResourceName").s != "" && get("ResourceName").s == get("ResourceId").s {
		r.add("§4.7 ResourceName does not repeat ResourceId", "row %d", n)
	}
	// §4.9 participating entities.
	if _, ok := tb.index["HostProviderName"]; ok && get("HostProviderName").null && cc != "Tax" && cc != "Adjustment" {
		r.add("§4.9 HostProviderName not null", "row %d (%s)", n, cc)
	}
	// UF units (SHOULD, held as MUST for our own units).
	for _, c := range []string{"PricingUnit", "ConsumedUnit"} {
		if v := get(c); !v.null && !unitRe.MatchString(v.s) {
			r.add("UF unit format", "row %d %s: %q", n, c, v.s)
		}
	}
	// KV1–KV4 and §4.13: Tags, a flat JSON object; JO1–JO5 ContractApplied.
	if v := get("Tags"); !v.null {
		if err := checkKeyValue(v.s); err != nil {
			r.add("KV/§4.13 Tags", "row %d: %v: %s", n, err, v.s)
		}
	}
	if v := get("ContractApplied"); !v.null {
		var obj map[string]any
		if json.Unmarshal([]byte(v.s), &obj) != nil || obj["Elements"] == nil {
			r.add("JO/§4.12 ContractApplied", "row %d: %s", n, v.s)
		}
	}
}

// equalNum compares a cost with an exact product: exactly in CSV (both are
// exact decimals), within double rounding in Parquet, where they are DOUBLE.
func equalNum(f Format, got, want *big.Rat) bool {
	if f == CSV {
		return got.Cmp(want) == 0
	}
	g, _ := got.Float64()
	w, _ := want.Float64()
	return math.Abs(g-w) <= 1e-12*math.Max(1, math.Abs(w))
}

// checkKeyValue checks the Key-Value format: a JSON object, unique keys,
// values number, string, true, false or null — never objects or arrays.
func checkKeyValue(s string) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		k := tok.(string)
		if seen[k] {
			return fmt.Errorf("key %q repeats", k)
		}
		seen[k] = true
		tok, err = dec.Token()
		if err != nil {
			return err
		}
		if _, ok := tok.(json.Delim); ok {
			return fmt.Errorf("key %q: nested object or array", k)
		}
		if b, ok := tok.(bool); ok && !b {
			return fmt.Errorf("key %q: false is no tag value", k)
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// checkSet: the rules over several rows (§4.4, §4.6, §4.8).
func checkSet(tb *table, exp expectation, r *report) {
	billed := map[string]*big.Rat{}
	serviceCat := map[string]string{}
	skuOf := map[string]string{}
	for i, row := range tb.rows {
		get := func(c string) value { return tb.get(row, c) }
		if inv := get("InvoiceId"); !inv.null && !get("BilledCost").null {
			if billed[inv.s] == nil {
				billed[inv.s] = new(big.Rat)
			}
			billed[inv.s].Add(billed[inv.s], get("BilledCost").num)
		} else if inv.null {
			r.add("§4.1 InvoiceId on invoiced charges", "row %d", i+1)
		}
		key := get("ServiceName").s
		cat := get("ServiceCategory").s + "/" + get("ServiceSubcategory").s
		if prev, ok := serviceCat[key]; ok && prev != cat {
			r.add("§4.8 one category per ServiceName", "%s: %s and %s", key, prev, cat)
		}
		serviceCat[key] = cat
		if p := get("SkuPriceId"); !p.null {
			if prev, ok := skuOf[p.s]; ok && prev != get("SkuId").s {
				r.add("§4.6 one SkuId per SkuPriceId", "%s", p.s)
			}
			skuOf[p.s] = get("SkuId").s
		}
	}
	for id, want := range exp.amountBilled {
		got := billed[id]
		if got == nil {
			got = new(big.Rat)
		}
		if got.Cmp(want) != 0 {
			r.add("§4.4 Σ BilledCost per InvoiceId = amount billed", "invoice %s: %s ≠ %s", id, got.FloatString(2), want.FloatString(2))
		}
	}
	for id := range billed {
		if _, ok := exp.amountBilled[id]; !ok {
			r.add("§4.4 Σ BilledCost per InvoiceId = amount billed", "invoice %s is not one of the exported invoices", id)
		}
	}
}
