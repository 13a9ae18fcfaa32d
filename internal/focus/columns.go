// Package focus maps costexplorer's invoices and line items to the FinOps
// FOCUS Cost and Usage dataset (versions 1.3 and 1.2) and writes it as gzip
// CSV or Parquet, streaming at constant memory. The mapping is written once,
// here, and documented column by column in docs/focus.md.
package focus

import (
	"fmt"
	"slices"
)

// Spec is a FOCUS specification version we export: its formatSpecVersion.
type Spec string

// The versions we export; Latest is the default (the one Atlas publishes).
const (
	Spec13 Spec = "1.3"
	Spec12 Spec = "1.2"
	Latest      = Spec13
)

// ParseSpec returns the version named s ("1.3", "1.2").
func ParseSpec(s string) (Spec, error) {
	switch Spec(s) {
	case Spec13, Spec12:
		return Spec(s), nil
	}
	return "", fmt.Errorf("unsupported FOCUS version %q: use 1.3 or 1.2", s)
}

// Kind is how a column's values are typed in the files.
type Kind int

// The column kinds. Money is always in USD, the billing currency:
//
//   - Cents: an exact amount of cents; CSV "12.34", Parquet DECIMAL(18,2).
//   - Decimal: an exact decimal that is not a whole number of cents (unit
//     prices, list and contracted costs, which are price × quantity); CSV
//     the exact decimal text, Parquet DOUBLE (FOCUS allows either).
//   - Quantity: a measured quantity; CSV the shortest decimal that reads
//     back to the same float64, Parquet DOUBLE.
//   - Time: a UTC instant, whole seconds; CSV YYYY-MM-DDTHH:mm:ssZ,
//     Parquet TIMESTAMP(MILLIS, isAdjustedToUTC).
//   - String: UTF-8 text; Parquet STRING.
//   - JSON: a JSON object; Parquet JSON (a STRING annotated JSON).
const (
	String Kind = iota
	Cents
	Decimal
	Quantity
	Time
	JSON
)

func (k Kind) String() string {
	return [...]string{"String", "Cents", "Decimal", "Quantity", "Time", "JSON"}[k]
}

// Column is one column of the export.
type Column struct {
	Name     string
	Kind     Kind
	Nullable bool
	Since13  bool // only in FOCUS 1.3 (and later)
}

// allColumns lists every column we write, FOCUS columns first in
// alphabetical order (the order of the specification's tables, allowed by
// its column-handling rules), then the x_ columns. The index of a column
// here is its index in a [Row].
var allColumns = []Column{
	{"BilledCost", Cents, false, false},
	{"BillingAccountId", String, false, false},
	{"BillingAccountName", String, false, false},
	{"BillingCurrency", String, false, false},
	{"BillingPeriodEnd", Time, false, false},
	{"BillingPeriodStart", Time, false, false},
	{"ChargeCategory", String, false, false},
	{"ChargeClass", String, true, false},
	{"ChargeDescription", String, true, false},
	{"ChargeFrequency", String, false, false},
	{"ChargePeriodEnd", Time, false, false},
	{"ChargePeriodStart", Time, false, false},
	{"ConsumedQuantity", Quantity, true, false},
	{"ConsumedUnit", String, true, false},
	{"ContractApplied", JSON, true, true},
	{"ContractedCost", Decimal, false, false},
	{"ContractedUnitPrice", Decimal, true, false},
	{"EffectiveCost", Cents, false, false},
	{"HostProviderName", String, true, true},
	{"InvoiceId", String, true, false},
	{"InvoiceIssuerName", String, false, false},
	{"ListCost", Decimal, false, false},
	{"ListUnitPrice", Decimal, true, false},
	{"PricingCategory", String, true, false},
	{"PricingQuantity", Quantity, true, false},
	{"PricingUnit", String, true, false},
	{"ProviderName", String, false, false},
	{"PublisherName", String, false, false},
	{"RegionId", String, true, false},
	{"RegionName", String, true, false},
	{"ResourceId", String, true, false},
	{"ResourceName", String, true, false},
	{"ResourceType", String, true, false},
	{"ServiceCategory", String, false, false},
	{"ServiceName", String, false, false},
	{"ServiceProviderName", String, false, true},
	{"ServiceSubcategory", String, false, false},
	{"SkuId", String, true, false},
	{"SkuMeter", String, true, false},
	{"SkuPriceId", String, true, false},
	{"SubAccountId", String, true, false},
	{"SubAccountName", String, true, false},
	{"Tags", JSON, true, false},
	{"x_Application", String, true, false},
	{"x_AtlasUnit", String, true, false},
	{"x_BillDate", String, true, false},
	{"x_ChargeSubType", String, true, false},
	{"x_CloudProvider", String, true, false},
	{"x_ConfigServer", String, true, false},
	{"x_DiscountCost", Cents, true, false},
	{"x_DiscountPercent", Quantity, true, false},
	{"x_LineItemId", String, true, false},
	{"x_Note", String, true, false},
	{"x_OrganizationId", String, false, false},
	{"x_OrganizationName", String, false, false},
	{"x_ReplicaSet", String, true, false},
}

// Column indexes in a Row, one constant per column of allColumns.
const (
	colBilledCost = iota
	colBillingAccountId
	colBillingAccountName
	colBillingCurrency
	colBillingPeriodEnd
	colBillingPeriodStart
	colChargeCategory
	colChargeClass
	colChargeDescription
	colChargeFrequency
	colChargePeriodEnd
	colChargePeriodStart
	colConsumedQuantity
	colConsumedUnit
	colContractApplied
	colContractedCost
	colContractedUnitPrice
	colEffectiveCost
	colHostProviderName
	colInvoiceId
	colInvoiceIssuerName
	colListCost
	colListUnitPrice
	colPricingCategory
	colPricingQuantity
	colPricingUnit
	colProviderName
	colPublisherName
	colRegionId
	colRegionName
	colResourceId
	colResourceName
	colResourceType
	colServiceCategory
	colServiceName
	colServiceProviderName
	colServiceSubcategory
	colSkuId
	colSkuMeter
	colSkuPriceId
	colSubAccountId
	colSubAccountName
	colTags
	colApplication
	colAtlasUnit
	colBillDate
	colChargeSubType
	colCloudProvider
	colConfigServer
	colDiscountCost
	colDiscountPercent
	colLineItemId
	colNote
	colOrganizationId
	colOrganizationName
	colReplicaSet
	numColumns
)

// Columns returns the columns of spec, in file order.
func Columns(spec Spec) []Column {
	var out []Column
	for _, c := range allColumns {
		if c.Since13 && spec == Spec12 {
			continue
		}
		out = append(out, c)
	}
	return out
}

// indexes returns the Row indexes of spec's columns, in file order.
func indexes(spec Spec) []int {
	var out []int
	for i, c := range allColumns {
		if !(c.Since13 && spec == Spec12) {
			out = append(out, i)
		}
	}
	return out
}

func init() {
	if len(allColumns) != numColumns {
		panic("focus: allColumns and the column constants disagree")
	}
	names := make([]string, 0, len(allColumns))
	for _, c := range allColumns {
		names = append(names, c.Name)
	}
	if slices.Contains(names, "") {
		panic("focus: unnamed column")
	}
}
