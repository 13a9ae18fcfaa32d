package focus

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/costexplorer/costexplorer"
)

// Store is what an export reads: organizations and their links, invoices
// and their line items.
type Store interface {
	Organization(ctx context.Context, id string) (*costexplorer.Organization, error)
	LinkedOrganizations(ctx context.Context, payingID string) ([]string, error)
	costexplorer.InvoiceStore
}

// Request is one export: the invoices of months From to To (inclusive) of
// OrgID and, when it pays for others, of its linked organizations — the
// whole billing account, as FOCUS asks that every cost invoiced to a billing
// account be in its dataset.
type Request struct {
	OrgID    string
	From, To costexplorer.Month
	Spec     Spec
	Format   Format
	// Progress, if set, is called after every ProgressEvery rows and at the
	// end with the number of rows written so far.
	Progress func(rows int64, done bool)
}

// ProgressEvery is how many rows pass between calls of Request.Progress.
const ProgressEvery = 100_000

// Summary tells what an export wrote.
type Summary struct {
	Invoices int
	Rows     int64
}

// Export writes the rows of req to w, invoice by invoice (organization id
// order, then month), each invoice's items in the store's stable order,
// then its tax and adjustment rows. Memory stays bounded whatever the
// period: items stream from the store one at a time.
func Export(ctx context.Context, st Store, req Request, w io.Writer) (Summary, error) {
	var sum Summary
	if req.Spec == "" {
		req.Spec = Latest
	}
	if req.Format == "" {
		req.Format = CSV
	}
	if req.From > req.To {
		return sum, costexplorer.Errorf(costexplorer.ErrValidation, "the period starts (%s) after it ends (%s)", req.From, req.To)
	}
	org, err := st.Organization(ctx, req.OrgID)
	if err != nil {
		return sum, err
	}
	acct := Account{ID: org.ID, Name: org.Name}
	if org.PayingOrgID != "" {
		payer, err := st.Organization(ctx, org.PayingOrgID)
		if err != nil {
			return sum, err
		}
		acct = Account{ID: payer.ID, Name: payer.Name}
	}
	orgs := []*costexplorer.Organization{org}
	linked, err := st.LinkedOrganizations(ctx, org.ID)
	if err != nil {
		return sum, err
	}
	for _, id := range linked {
		o, err := st.Organization(ctx, id)
		if err != nil {
			return sum, err
		}
		orgs = append(orgs, o)
	}
	slices.SortFunc(orgs, func(a, b *costexplorer.Organization) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})

	out, err := NewWriter(w, req.Format, req.Spec)
	if err != nil {
		return sum, err
	}
	m := newMapper()
	var row Row
	emit := func(r *Row) error {
		if err := out.Write(r); err != nil {
			return err
		}
		sum.Rows++
		if req.Progress != nil && sum.Rows%ProgressEvery == 0 {
			req.Progress(sum.Rows, false)
		}
		return nil
	}
	for _, o := range orgs {
		invs, err := invoicesOf(ctx, st, o.ID, req.From, req.To)
		if err != nil {
			return sum, err
		}
		for _, inv := range invs {
			if err := ctx.Err(); err != nil {
				return sum, err
			}
			sum.Invoices++
			err := st.InvoiceLines(ctx, inv.ID, func(li *costexplorer.InvoiceLine) error {
				m.line(&row, inv, acct, li)
				return emit(&row)
			})
			if err != nil {
				return sum, err
			}
			if err := invoiceRows(inv, acct, o.Name, emit); err != nil {
				return sum, err
			}
		}
	}
	if err := out.Close(); err != nil {
		return sum, err
	}
	if req.Progress != nil {
		req.Progress(sum.Rows, true)
	}
	return sum, nil
}

// invoicesOf returns orgID's invoices of months from to to, by month.
func invoicesOf(ctx context.Context, st Store, orgID string, from, to costexplorer.Month) ([]*costexplorer.Invoice, error) {
	var out []*costexplorer.Invoice
	page := costexplorer.PageRequest{ItemsPerPage: costexplorer.MaxItemsPerPage, PageNum: 1}
	// The status filter and "now" play no part: no statuses are asked for.
	now := time.Now()
	for {
		invs, _, err := st.Invoices(ctx, &costexplorer.InvoiceListQuery{OrgID: orgID, Page: page}, now)
		if err != nil {
			return nil, fmt.Errorf("invoices of %s: %w", orgID, err)
		}
		for _, inv := range invs {
			if inv.Month >= from && inv.Month <= to {
				out = append(out, inv)
			}
		}
		if len(invs) < page.ItemsPerPage {
			break
		}
		page.PageNum++
	}
	slices.SortFunc(out, func(a, b *costexplorer.Invoice) int { return int(a.Month - b.Month) })
	return out, nil
}
