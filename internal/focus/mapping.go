package focus

import (
	"bytes"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
)

// Cell is one value of a row. Which field holds it depends on the column's
// Kind: I for Cents (cents) and Time (Unix seconds), F for Quantity, S for
// String and JSON, S (exact text) and F (the same number as a float64) for
// Decimal. Null marks a null.
type Cell struct {
	Null bool
	S    string
	I    int64
	F    float64
}

// Row holds every column of allColumns; a writer picks those of its Spec.
type Row [numColumns]Cell

// Names of the entities FOCUS asks for. Atlas sells, hosts (on its own
// account, when no cloud is named), invoices and publishes its services.
const (
	mongoDB     = "MongoDB"
	currencyUSD = "USD"
)

// Values of the charge columns we write.
const (
	ChargeUsage      = "Usage"
	ChargeCredit     = "Credit"
	ChargeTax        = "Tax"
	ChargeAdjustment = "Adjustment"

	SubTypeSalesTax      = "SalesTax"
	SubTypeCarriedCredit = "CreditCarriedForward"
)

// hostProviders names the cloud an item's SKU names; ATLAS (no cloud)
// is hosted by MongoDB itself.
var hostProviders = map[costexplorer.CloudProvider]string{
	costexplorer.CloudAWS:   "Amazon Web Services",
	costexplorer.CloudGCP:   "Google Cloud",
	costexplorer.CloudAzure: "Microsoft Azure",
	costexplorer.CloudAtlas: mongoDB,
}

// ServiceCategories gives each Atlas service its FOCUS ServiceCategory and
// ServiceSubcategory (docs/focus.md says why each).
var ServiceCategories = map[costexplorer.Service][2]string{
	costexplorer.ServiceAtlas:                  {"Databases", "NoSQL Databases"},
	costexplorer.ServiceClusters:               {"Databases", "NoSQL Databases"},
	costexplorer.ServiceStorage:                {"Storage", "Block Storage"},
	costexplorer.ServiceServerless:             {"Databases", "NoSQL Databases"},
	costexplorer.ServiceBackup:                 {"Storage", "Backup Storage"},
	costexplorer.ServiceDataTransfer:           {"Networking", "Network Connectivity"},
	costexplorer.ServiceBIConnector:            {"Analytics", "Business Intelligence"},
	costexplorer.ServiceDSCCompute:             {"Analytics", "Data Processing"},
	costexplorer.ServiceDSCStorage:             {"Storage", "Object Storage"},
	costexplorer.ServicePremiumFeatures:        {"Security", "Other (Security)"},
	costexplorer.ServiceDataFederation:         {"Analytics", "Data Processing"},
	costexplorer.ServiceStreamProcessing:       {"Analytics", "Streaming Analytics"},
	costexplorer.ServiceAppServices:            {"Compute", "Serverless Compute"},
	costexplorer.ServiceCharts:                 {"Analytics", "Business Intelligence"},
	costexplorer.ServiceCloudManager:           {"Management and Governance", "Observability"},
	costexplorer.ServiceCloudManagerStdPremium: {"Management and Governance", "Observability"},
	costexplorer.ServiceLegacyBackup:           {"Storage", "Backup Storage"},
	costexplorer.ServiceAIModelAPIs:            {"AI and Machine Learning", "Generative AI"},
	costexplorer.ServiceAutomatedEmbedding:     {"AI and Machine Learning", "Natural Language Processing"},
	costexplorer.ServiceNativeReranking:        {"AI and Machine Learning", "Natural Language Processing"},
	costexplorer.ServiceFlexConsulting:         {"Management and Governance", "Support"},
	costexplorer.ServiceSupport:                {"Management and Governance", "Support"},
	costexplorer.ServiceCredits:                {"Other", "Other (Other)"},
}

// taxService names the invoice's sales tax row; it is no Atlas service.
const taxService = "Sales Tax"

// atlasUnits maps the units of the SKU catalogue to FOCUS units (plural
// units, "GB-Days" for a size over time, "1000000 Tokens" for a counted
// block). A unit not listed is written with each word capitalized, joined
// by hyphens ("sync runtime seconds" → "Sync-Runtime-Seconds").
var atlasUnits = map[string]string{
	"GB":              "GB",
	"TB":              "TB",
	"GB days":         "GB-Days",
	"GB months":       "GB-Months",
	"IOPS months":     "IOPS-Months",
	"credits":         "Credits",
	"days":            "Days",
	"hours":           "Hours",
	"server hours":    "Hours",
	"runtime hours":   "Hours",
	"runtime minutes": "Minutes",
	"months":          "Months",
	"requests":        "Requests",
	"million RPUs":    "1000000 RPUs",
	"million WPUs":    "1000000 WPUs",
	"million tokens":  "1000000 Tokens",
	"units":           "Units",
}

// FocusUnit returns the FOCUS unit for an Atlas unit. A unit the catalogue
// does not list becomes one capitalized word, hyphenated to a trailing time
// unit: "sync runtime seconds" → "SyncRuntime-Seconds", "widgets" →
// "Widgets" (the shapes of FOCUS's unit format).
func FocusUnit(u string) string {
	if f, ok := atlasUnits[u]; ok {
		return f
	}
	words := strings.Fields(u)
	if len(words) == 0 {
		return "Units"
	}
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	last := words[len(words)-1]
	if len(words) > 1 && slices.Contains(timeUnits, last) {
		return strings.Join(words[:len(words)-1], "") + "-" + last
	}
	return strings.Join(words, "")
}

// timeUnits are FOCUS's time units, plural.
var timeUnits = []string{"Years", "Months", "Days", "Hours", "Minutes", "Seconds"}

// Account is the billing account of the rows of one organization: the
// organization that pays (its paying organization when linked).
type Account struct {
	ID, Name string
}

// mapper fills rows; it keeps scratch numbers so that mapping allocates
// only the strings it writes, and the text of the values that repeat from
// row to row (tag sets, prices, bill dates), bounded by cacheSize each.
type mapper struct {
	// decimals: write the exact text of Decimal cells (CSV writes it;
	// Parquet writes only their float64, and is spared the work).
	decimals bool
	q, p, r  big.Int
	billDay  costexplorer.Day
	billText string
	units    map[string]string
	tags     map[costexplorer.Tags]string
	prices   map[int64]string
	priceIDs map[skuPrice]string
}

type skuPrice struct {
	sku   string
	nanos int64
}

// cacheSize bounds each of the mapper's caches: memory stays bounded
// whatever the data (a cache that fills is emptied).
const cacheSize = 4096

func newMapper(decimals bool) *mapper {
	return &mapper{decimals: decimals, units: map[string]string{}, tags: map[costexplorer.Tags]string{},
		prices: map[int64]string{}, priceIDs: map[skuPrice]string{}}
}

// cached returns m[k], computing and keeping it with f when missing.
func cached[K comparable](m map[K]string, k K, f func() string) string {
	v, ok := m[k]
	if !ok {
		if len(m) >= cacheSize {
			clear(m)
		}
		v = f()
		m[k] = v
	}
	return v
}

func (m *mapper) unit(u string) string {
	return cached(m.units, u, func() string { return FocusUnit(u) })
}

func str(s string) Cell {
	if s == "" {
		return Cell{Null: true}
	}
	return Cell{S: s}
}

func timeCell(t time.Time) Cell { return Cell{I: t.Unix()} }

func centsCell(c costexplorer.Cents) Cell { return Cell{I: int64(c)} }

// centsDecimal is a Decimal cell holding a whole number of cents.
func centsDecimal(c costexplorer.Cents) Cell {
	return Cell{S: c.Dollars(), F: float64(c) / 100}
}

var null = Cell{Null: true}

// IsCredit reports whether an item is a credit: the Credits service, or a
// negative amount or price (a reduction granted after the fact, FOCUS's
// Credit).
func IsCredit(li *costexplorer.LineItem) bool {
	return li.Service == costexplorer.ServiceCredits || li.Amount < 0 || li.UnitPriceNanos < 0
}

// common fills the columns every row of an invoice shares.
func common(r *Row, inv *costexplorer.Invoice, acct Account, orgName string) {
	*r = Row{}
	r[colBillingAccountId] = Cell{S: acct.ID}
	r[colBillingAccountName] = str(acct.Name)
	r[colBillingCurrency] = Cell{S: currencyUSD}
	r[colBillingPeriodStart] = timeCell(inv.StartDate())
	r[colBillingPeriodEnd] = timeCell(inv.EndDate())
	r[colInvoiceId] = Cell{S: inv.ID}
	r[colInvoiceIssuerName] = Cell{S: mongoDB}
	r[colProviderName] = Cell{S: mongoDB}
	r[colPublisherName] = Cell{S: mongoDB}
	r[colServiceProviderName] = Cell{S: mongoDB}
	r[colChargeClass] = null
	r[colContractApplied] = null
	r[colOrganizationId] = Cell{S: inv.OrgID}
	r[colOrganizationName] = Cell{S: orgName}
}

// line maps one line item of inv.
func (m *mapper) line(r *Row, inv *costexplorer.Invoice, acct Account, li *costexplorer.InvoiceLine) {
	common(r, inv, acct, li.OrgName)
	credit := IsCredit(&li.LineItem)
	r[colBilledCost] = centsCell(li.Amount)
	r[colEffectiveCost] = centsCell(li.Amount)
	start := li.Date.Time()
	r[colChargePeriodStart] = timeCell(start)
	r[colChargePeriodEnd] = timeCell(start.AddDate(0, 0, 1))
	r[colChargeDescription] = str(li.Description)
	cat := ServiceCategories[li.Service]
	r[colServiceName] = Cell{S: string(li.Service)}
	r[colServiceCategory] = Cell{S: cat[0]}
	r[colServiceSubcategory] = Cell{S: cat[1]}
	cp := li.CloudProvider()
	r[colHostProviderName] = Cell{S: hostProviders[cp]}
	r[colCloudProvider] = Cell{S: string(cp)}
	r[colRegionId] = str(li.Region)
	r[colRegionName] = str(li.Region)
	if li.ClusterID != "" {
		r[colResourceId] = Cell{S: li.ClusterID}
		r[colResourceName] = str(li.ClusterName)
		r[colResourceType] = Cell{S: "Cluster"}
	} else {
		r[colResourceId], r[colResourceName], r[colResourceType] = null, null, null
	}
	if li.ProjectID != "" {
		r[colSubAccountId] = Cell{S: li.ProjectID}
		r[colSubAccountName] = str(li.ProjectName)
	} else {
		r[colSubAccountId], r[colSubAccountName] = null, null
	}
	r[colSkuId] = str(li.SKU)
	if li.SKU != "" {
		r[colSkuMeter] = str(li.Description)
		if li.Description == "" {
			r[colSkuMeter] = Cell{S: li.SKU}
		}
	} else {
		r[colSkuMeter] = null
	}
	if li.Tags.IsZero() {
		r[colTags] = null
	} else {
		r[colTags] = Cell{S: cached(m.tags, li.Tags, func() string { return tagsCell(li.Tags).S })}
	}
	r[colAtlasUnit] = str(li.Unit)
	if bd := li.Billed(); bd != m.billDay || m.billText == "" {
		m.billDay, m.billText = bd, bd.String()
	}
	r[colBillDate] = Cell{S: m.billText}
	r[colChargeSubType] = null
	r[colConfigServer] = str(li.ConfigServer)
	r[colApplication] = str(li.Application)
	r[colReplicaSet] = str(li.ReplicaSet)
	r[colNote] = str(li.Note)
	r[colLineItemId] = Cell{S: li.ID.String()}
	if li.Discount != 0 || li.DiscountPercent != 0 {
		r[colDiscountCost] = centsCell(li.Discount)
		r[colDiscountPercent] = Cell{F: li.DiscountPercent}
	} else {
		r[colDiscountCost], r[colDiscountPercent] = null, null
	}

	if credit {
		// A standalone credit: FOCUS makes list and contracted cost equal
		// to the billed cost, and lets the pricing columns be null.
		r[colChargeCategory] = Cell{S: ChargeCredit}
		r[colChargeFrequency] = Cell{S: "One-Time"}
		r[colListCost] = centsDecimal(li.Amount)
		r[colContractedCost] = centsDecimal(li.Amount)
		for _, c := range []int{colListUnitPrice, colContractedUnitPrice, colPricingCategory,
			colPricingQuantity, colPricingUnit, colConsumedQuantity, colConsumedUnit, colSkuPriceId} {
			r[c] = null
		}
		return
	}
	r[colChargeCategory] = Cell{S: ChargeUsage}
	r[colChargeFrequency] = Cell{S: "Usage-Based"}
	r[colPricingCategory] = Cell{S: "Standard"}
	unit := m.unit(li.Unit)
	r[colPricingQuantity] = Cell{F: li.Quantity}
	r[colPricingUnit] = Cell{S: unit}
	r[colConsumedQuantity] = Cell{F: li.Quantity}
	r[colConsumedUnit] = Cell{S: unit}

	// List price: the item's unit price; contracted price: less the
	// discount percent. Costs are exact products (FOCUS: ListCost =
	// ListUnitPrice × PricingQuantity), not rounded to the cent.
	list := cached(m.prices, li.UnitPriceNanos, func() string { return decimalText(big.NewInt(li.UnitPriceNanos), 9) })
	r[colListUnitPrice] = Cell{S: list, F: float64(li.UnitPriceNanos) / 1e9}
	r[colSkuPriceId] = Cell{S: cached(m.priceIDs, skuPrice{li.SKU, li.UnitPriceNanos}, func() string { return li.SKU + "@" + list })}
	r[colListCost] = Cell{F: float64(li.UnitPriceNanos) / 1e9 * li.Quantity}
	if li.DiscountPercent == 0 {
		r[colContractedUnitPrice], r[colContractedCost] = r[colListUnitPrice], r[colListCost]
	} else {
		factor := (100 - li.DiscountPercent) / 100
		r[colContractedUnitPrice] = Cell{F: float64(li.UnitPriceNanos) / 1e9 * factor}
		r[colContractedCost] = Cell{F: float64(li.UnitPriceNanos) / 1e9 * factor * li.Quantity}
	}
	if m.decimals {
		m.decimalTexts(r, li)
	}
}

// decimalTexts writes the exact text of the Decimal cells of a usage row
// whose float64s line has written.
func (m *mapper) decimalTexts(r *Row, li *costexplorer.InvoiceLine) {
	qm, qs := parseDecimal(&m.q, strconv.FormatFloat(li.Quantity, 'f', -1, 64))
	m.p.Mul(big.NewInt(li.UnitPriceNanos), qm)
	r[colListCost].S = decimalText(&m.p, 9+qs)
	if li.DiscountPercent == 0 {
		r[colContractedCost].S = r[colListCost].S
		return
	}
	// contracted = nanos × (100 − pct) / 100, pct a decimal of scale ps.
	var pm big.Int
	pct, ps := parseDecimal(&pm, strconv.FormatFloat(li.DiscountPercent, 'f', -1, 64))
	hundred := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(ps+2)), nil)
	m.r.Sub(hundred, pct)
	m.r.Mul(&m.r, big.NewInt(li.UnitPriceNanos))
	cScale := 9 + ps + 2
	r[colContractedUnitPrice].S = decimalText(&m.r, cScale)
	m.r.Mul(&m.r, qm)
	r[colContractedCost].S = decimalText(&m.r, cScale+qs)
}

// invoiceRows maps what an invoice bills beyond its items, so that the
// BilledCost of its rows adds up to its amount billed: its sales tax (a Tax
// row), and the credits beyond its charges, which Atlas does not apply to
// it but carries to later invoices (an Adjustment row that cancels them).
func invoiceRows(inv *costexplorer.Invoice, acct Account, orgName string, fn func(*Row) error) error {
	var r Row
	extra := func(category, subtype, service, desc string, amount costexplorer.Cents) error {
		common(&r, inv, acct, orgName)
		r[colBilledCost] = centsCell(amount)
		r[colEffectiveCost] = centsCell(amount)
		r[colListCost] = centsDecimal(amount)
		r[colContractedCost] = centsDecimal(amount)
		r[colChargeCategory] = Cell{S: category}
		r[colChargeFrequency] = Cell{S: "One-Time"}
		r[colChargeDescription] = Cell{S: desc}
		r[colChargePeriodStart] = r[colBillingPeriodStart]
		r[colChargePeriodEnd] = r[colBillingPeriodEnd]
		r[colChargeSubType] = Cell{S: subtype}
		cat := ServiceCategories[costexplorer.ServiceCredits]
		r[colServiceName] = Cell{S: service}
		r[colServiceCategory] = Cell{S: cat[0]}
		r[colServiceSubcategory] = Cell{S: cat[1]}
		for c := range r {
			if allColumns[c].Nullable && r[c] == (Cell{}) {
				r[c] = null
			}
		}
		return fn(&r)
	}
	if inv.SalesTax != 0 {
		if err := extra(ChargeTax, SubTypeSalesTax, taxService, "Sales tax", inv.SalesTax); err != nil {
			return err
		}
	}
	if over := inv.Amounts.Credits - inv.Amounts.Charges; over > 0 {
		return extra(ChargeAdjustment, SubTypeCarriedCredit, string(costexplorer.ServiceCredits),
			"Credits beyond this invoice's charges, carried to later invoices", over)
	}
	return nil
}

// tagsCell writes tags as a flat JSON object (FOCUS Key-Value format):
// each key with its value, several values of one key (a project and its
// cluster may both carry it) joined by ";" as the Atlas invoice CSV joins
// them; null when the item had no tags.
func tagsCell(t costexplorer.Tags) Cell {
	if t.IsZero() {
		return null
	}
	var b []byte
	b = append(b, '{')
	first := true
	for k, vals := range t.All() {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, strings.Join(vals, costexplorer.TagValueSeparator))
	}
	b = append(b, '}')
	return Cell{S: string(b)}
}

// parseDecimal reads a plain decimal ("12", "-0.25") into m and returns m
// and its scale (digits after the point).
func parseDecimal(m *big.Int, s string) (*big.Int, int) {
	intPart, frac, _ := strings.Cut(s, ".")
	m.SetString(intPart+frac, 10)
	return m, len(frac)
}

// decimalText writes m × 10^-scale exactly, without trailing zeros after
// the point (and without the point for a whole number). It allocates only
// the string it returns when m fits in an int64, as prices × quantities do.
func decimalText(m *big.Int, scale int) string {
	var buf [48]byte
	b := append(buf[:0], '-')
	if m.IsInt64() {
		v := m.Int64()
		u := uint64(v)
		if v < 0 {
			u = -u
		}
		b = strconv.AppendUint(b, u, 10)
	} else {
		b = new(big.Int).Abs(m).Append(b, 10)
	}
	digits := b[1:]
	if scale > 0 {
		if pad := scale - len(digits) + 1; pad > 0 {
			b = append(b, make([]byte, pad)...)
			copy(b[1+pad:], b[1:len(b)-pad])
			for i := 1; i <= pad; i++ {
				b[i] = '0'
			}
			digits = b[1:]
		}
		point := len(digits) - scale
		b = append(b, 0)
		copy(b[1+point+1:], b[1+point:len(b)-1])
		b[1+point] = '.'
		b = bytes.TrimRight(b, "0")
		b = bytes.TrimSuffix(b, []byte("."))
	}
	if m.Sign() < 0 && string(b[1:]) != "0" {
		return string(b)
	}
	return string(b[1:])
}

// appendJSONString appends s as a JSON string (tags are valid UTF-8
// without control characters, but escape them anyway).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
