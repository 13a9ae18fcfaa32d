package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// StreamInvoice gets one invoice (getInvoice) and passes each of its line
// items to each as the answer is read, without keeping them: memory stays
// constant whatever the invoice's size. The invoice returned has every other
// field, and its linked invoices without their line items. each may be nil;
// the item passed to it is reused by the next call, so copy it to keep it.
// An error of each stops the download and is returned. Without each, the
// items are scanned past, not decoded (see itemSkipper).
func (c *Client) StreamInvoice(ctx context.Context, orgID, invoiceID string, each func(*LineItem) error) (*Invoice, error) {
	resp, err := c.get(ctx, InvoicesPath(orgID, invoiceID), "")
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	var body io.Reader = resp.Body
	if each == nil {
		body = newItemSkipper(body)
	}
	inv := &Invoice{}
	if err := decodeInvoiceStream(json.NewDecoder(body), inv, each); err != nil {
		return nil, fmt.Errorf("client: decode invoice %s: %w", invoiceID, err)
	}
	return inv, nil
}

// decodeInvoiceStream reads one BillingInvoice object from dec into inv,
// streaming its lineItems to each (or skipping them when each is nil) and
// reading its linked invoices the same way without their items.
func decodeInvoiceStream(dec *json.Decoder, inv *Invoice, each func(*LineItem) error) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	rest := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch key {
		case "lineItems":
			var li LineItem
			var skip json.RawMessage
			err = eachElement(dec, func() error {
				if each == nil { // read past the item without decoding it
					skip = skip[:0]
					return dec.Decode(&skip)
				}
				li = LineItem{}
				if err := dec.Decode(&li); err != nil {
					return err
				}
				return each(&li)
			})
		case "linkedInvoices":
			inv.LinkedInvoices = []Invoice{}
			err = eachElement(dec, func() error {
				var l Invoice
				if err := decodeInvoiceStream(dec, &l, nil); err != nil {
					return err
				}
				inv.LinkedInvoices = append(inv.LinkedInvoices, l)
				return nil
			})
		default:
			var raw json.RawMessage
			err = dec.Decode(&raw)
			rest[key] = raw
		}
		if err != nil {
			return err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return err
	}
	linked := inv.LinkedInvoices
	b, err := json.Marshal(rest)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, inv); err != nil {
		return err
	}
	inv.LinkedInvoices = linked
	return nil
}

// eachElement reads a JSON array from dec, calling fn to read each element.
func eachElement(dec *json.Decoder, fn func() error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // null: no elements
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("want an array, got %v", tok)
	}
	for dec.More() {
		if err := fn(); err != nil {
			return err
		}
	}
	return expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}
