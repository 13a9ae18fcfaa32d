package client

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
)

// emptyItems is doc decoded with every "lineItems" value that is an array
// emptied, at any depth: what itemSkipper's output must decode to.
func emptyItems(t *testing.T, doc []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if _, ok := x.([]any); ok && k == "lineItems" {
					v[k] = []any{}
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return v
}

// TestItemSkipperEmptiesLineItems checks that an invoice read through the
// skipper, whatever the sizes of the reads, is the invoice with its line
// items (and its linked invoices') emptied and every other byte kept:
// strings with escaped quotes and backslashes, brackets inside strings,
// "lineItems" as a value, keys that start so, and a null lineItems.
func TestItemSkipperEmptiesLineItems(t *testing.T) {
	tricky := []byte(`{"id":"a\"b","note":"lineItems","lineItems" : [{"description":"x\\","q":"]}\"[{","tags":{"k":["v\\\"]"]}},` +
		`{"n":[1,[2,{"a":"\\\\"}]]}],"linkedInvoices":[{"lineItems":[{"x":"}"}],"payments":[{"id":"p"}]},{"lineItems":null}],` +
		`"lineItem\"s":[1],"lineItemsX":[2],"refunds":[],"x":{"lineItems":[{"deep":"]"}]}}`)
	for name, doc := range map[string][]byte{"invoice.json": readWire(t, "invoice.json"), "tricky": tricky} {
		want := emptyItems(t, doc)
		for _, read := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{
			{"whole", func(r io.Reader) io.Reader { return r }},
			{"byte by byte", iotest.OneByteReader},
			{"halves", iotest.HalfReader},
		} {
			out, err := io.ReadAll(newItemSkipper(read.wrap(bytes.NewReader(doc))))
			if err != nil {
				t.Fatalf("%s, %s: %v", name, read.name, err)
			}
			var got any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%s, %s: the output does not decode: %v\n%s", name, read.name, err, out)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s, %s: got\n%s", name, read.name, out)
			}
		}
	}
}

// TestItemSkipperKeepsTruncation checks that an invoice cut short inside
// its line items does not decode once skipped: the skipper does not close
// what the source left open.
func TestItemSkipperKeepsTruncation(t *testing.T) {
	b := readWire(t, "invoice.json")
	i := bytes.Index(b, []byte(`"lineItems"`))
	if i < 0 {
		t.Fatal("no line items in the golden invoice")
	}
	cut := b[:i+40]
	err := decodeInvoiceStream(json.NewDecoder(newItemSkipper(bytes.NewReader(cut))), &Invoice{}, nil)
	if err == nil {
		t.Error("a truncated invoice decoded")
	}
}
