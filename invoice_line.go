package costexplorer

import (
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CloudProvider is the cloudProvider of an invoice line item: the cloud the
// usage is attributed to, or ATLAS for usage tied to none.
type CloudProvider string

// The cloud providers of the Atlas Invoices API.
const (
	CloudAWS   CloudProvider = "AWS"
	CloudGCP   CloudProvider = "GCP"
	CloudAzure CloudProvider = "AZURE"
	CloudAtlas CloudProvider = "ATLAS"
)

// CloudProviderOf derives the cloud provider from a SKU id: the provider
// its name carries as a word ("ATLAS_AWS_INSTANCE_M10", "AZURE_…",
// "ATLAS_DATA_LAKE_GCP_…"), else ATLAS (support, credits, App Services, …).
func CloudProviderOf(sku string) CloudProvider {
	for word := range strings.SplitSeq(sku, "_") {
		for _, p := range []CloudProvider{CloudAWS, CloudGCP, CloudAzure} {
			if strings.EqualFold(word, string(p)) {
				return p
			}
		}
	}
	return CloudAtlas
}

// Tags are the resource tags of a line item, as they were on its usage day:
// each key maps to its values (a project and its cluster may both carry a
// key). On the wire they are an object of arrays ({"team": ["payments"]}),
// which is what the Atlas Go SDK decodes.
//
// A Tags value is immutable and comparable (so line items compare with ==),
// and valid by construction: [NewTags] and [ParseTags] check every rule of
// [ValidateTags]. The zero value holds no tags. Keys are kept in byte order,
// each key's values in the order given.
type Tags struct{ enc string }

// Separators of the encoded form: control characters, which no valid key or
// value contains.
const (
	tagKeySep   = "\x1e"
	tagValueSep = "\x1f"
)

// Limits of tags. Atlas bounds keys and values to 255 characters.
const (
	MaxTagLength = 255
	MaxTagKeys   = 50
)

// TagValueSeparator joins the values of one key in an invoice CSV cell.
// Values may not contain it (Atlas tag values cannot either).
const TagValueSeparator = ";"

// NewTags returns the tags of m, or an error naming the rule m breaks (see
// [ValidateTags]).
func NewTags(m map[string][]string) (Tags, error) {
	if err := ValidateTags(m); err != nil {
		return Tags{}, err
	}
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteString(tagKeySep)
		}
		b.WriteString(k)
		for _, v := range m[k] {
			b.WriteString(tagValueSep)
			b.WriteString(v)
		}
	}
	return Tags{b.String()}, nil
}

// MustTags is NewTags for literals known to be valid; it panics otherwise.
func MustTags(m map[string][]string) Tags {
	t, err := NewTags(m)
	if err != nil {
		panic(err)
	}
	return t
}

// ValidateTags checks the rules that make tags survive every wire format: at
// most MaxTagKeys keys; keys and values non-empty, at most MaxTagLength
// bytes, valid UTF-8 without control characters or surrounding spaces;
// every key with at least one value; no value containing
// [TagValueSeparator]; no key that is a column name of the invoice CSV
// (compared as the importer does, without regard to case), since a tag
// becomes a column there.
func ValidateTags(m map[string][]string) error {
	if len(m) > MaxTagKeys {
		return fmt.Errorf("%d tag keys, more than %d", len(m), MaxTagKeys)
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := checkTagText("tag key", k); err != nil {
			return err
		}
		if IsInvoiceCSVColumn(k) {
			return fmt.Errorf("tag key %q is a column of the invoice CSV", k)
		}
		vals := m[k]
		if len(vals) == 0 {
			return fmt.Errorf("tag %q has no value", k)
		}
		for _, v := range vals {
			if err := checkTagText("tag "+k+" value", v); err != nil {
				return err
			}
			if strings.Contains(v, TagValueSeparator) {
				return fmt.Errorf("tag %q value %q contains %q", k, v, TagValueSeparator)
			}
		}
	}
	return nil
}

// IsZero reports whether t holds no tags.
func (t Tags) IsZero() bool { return t.enc == "" }

// All yields each key with its values, keys in byte order.
func (t Tags) All() iter.Seq2[string, []string] {
	return func(yield func(string, []string) bool) {
		if t.enc == "" {
			return
		}
		for kv := range strings.SplitSeq(t.enc, tagKeySep) {
			parts := strings.Split(kv, tagValueSep)
			if !yield(parts[0], parts[1:]) {
				return
			}
		}
	}
}

// Keys returns the keys in byte order.
func (t Tags) Keys() []string {
	var keys []string
	for k := range t.All() {
		keys = append(keys, k)
	}
	return keys
}

// Values returns the values of key (nil if t lacks it).
func (t Tags) Values(key string) []string {
	for k, v := range t.All() {
		if k == key {
			return v
		}
	}
	return nil
}

// Map returns the tags as a map of key to values (nil when there are none).
func (t Tags) Map() map[string][]string {
	if t.IsZero() {
		return nil
	}
	m := map[string][]string{}
	for k, v := range t.All() {
		m[k] = v
	}
	return m
}

// MarshalJSON writes the tags as Atlas does: an object of arrays of strings.
func (t Tags) MarshalJSON() ([]byte, error) { return t.appendJSON(nil), nil }

// appendJSON appends the tags' JSON object, keys in byte order, as
// encoding/json writes a map[string][]string.
func (t Tags) appendJSON(b []byte) []byte {
	b = append(b, '{')
	rest := t.enc
	for first := true; rest != ""; first = false {
		var kv string
		kv, rest, _ = strings.Cut(rest, tagKeySep)
		if !first {
			b = append(b, ',')
		}
		k, vals, _ := strings.Cut(kv, tagValueSep)
		b = appendJSONString(b, k)
		b = append(b, ':', '[')
		for i := 0; ; i++ {
			var v string
			v, vals, _ = strings.Cut(vals, tagValueSep)
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v)
			if vals == "" {
				break
			}
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// UnmarshalJSON reads an object of arrays of strings and checks it as
// NewTags does; null and {} are no tags.
func (t *Tags) UnmarshalJSON(b []byte) error {
	var m map[string][]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	v, err := NewTags(m)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// String returns the tags as their JSON object, the form a store keeps.
func (t Tags) String() string {
	b, _ := t.MarshalJSON()
	return string(b)
}

// ParseTags reads what String writes.
func ParseTags(s string) (Tags, error) {
	var t Tags
	err := t.UnmarshalJSON([]byte(s))
	return t, err
}

func checkTagText(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("empty %s", what)
	case len(s) > MaxTagLength:
		return fmt.Errorf("%s is %d bytes, more than %d", what, len(s), MaxTagLength)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", what)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fmt.Errorf("%s %q contains a control character", what, s)
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("%s %q has surrounding spaces", what, s)
	}
	return nil
}

// Invoice returns the id of the item's invoice: InvoiceID, or the derived
// invoice of its organization and month.
func (li *LineItem) Invoice() string {
	if li.InvoiceID != "" {
		return li.InvoiceID
	}
	return InvoiceID(li.OrgID, li.Month())
}

// Billed returns the day the item was billed: BillDate, or the usage day.
func (li *LineItem) Billed() Day {
	if li.BillDate != 0 {
		return li.BillDate
	}
	return li.Date
}

// CloudProvider returns the provider the item's SKU names.
func (li *LineItem) CloudProvider() CloudProvider { return CloudProviderOf(li.SKU) }

// InvoiceLine is a line item with the names the invoice formats show beside
// its ids: the organization, project (groupName) and cluster names. A store
// reads them with the item when it streams an invoice.
type InvoiceLine struct {
	LineItem
	OrgName     string
	ProjectName string
	ClusterName string
}

// InvoiceLines streams the lines of one invoice, in the order they are to be
// written, to fn; it stops at and returns the first error of fn. A store
// implements it over its line items so that an invoice of millions of items
// is written in constant memory.
type InvoiceLines func(invoiceID string, fn func(*InvoiceLine) error) error

// DiscountFrom derives discountCents for a discounted item whose Amount is
// net of the discount: the gross charge (unit price × quantity, rounded to
// the cent) less the amount; 0 when that is not positive or the item is a
// credit. Sources that carry discountCents (sync) keep theirs.
func DiscountFrom(unitPriceNanos int64, quantity float64, amount Cents) Cents {
	if amount <= 0 {
		return 0
	}
	gross := math.Round(float64(unitPriceNanos) * quantity / 1e7)
	if !(gross > float64(amount)) || gross > 1e17 {
		return 0
	}
	return Cents(gross) - amount
}
