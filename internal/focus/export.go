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
	// Orgs, when not empty, keeps only the invoices of these organizations
	// (among OrgID and its linked ones): what a caller may see, or chose.
	Orgs []string
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
	if req.From > req.To {
		return sum, costexplorer.Errorf(costexplorer.ErrValidation, "the period starts (%s) after it ends (%s)", req.From, req.To)
	}
	org, acct, err := account(ctx, st, req.OrgID)
	if err != nil {
		return sum, err
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

	x, err := newExporter(ctx, st, req, w)
	if err != nil {
		return sum, err
	}
	for _, o := range orgs {
		if len(req.Orgs) > 0 && !slices.Contains(req.Orgs, o.ID) {
			continue
		}
		invs, err := invoicesOf(ctx, st, o.ID, req.From, req.To)
		if err != nil {
			return x.sum, x.fail(err)
		}
		for _, inv := range invs {
			if err := x.invoice(inv, acct, o.Name); err != nil {
				return x.sum, x.fail(err)
			}
		}
	}
	return x.close()
}

// ExportInvoice writes the rows of one invoice alone — its items, then its
// tax and adjustment rows, as Export writes them — in req.Format and
// req.Spec (req's organization and period are not used): the file of an
// invoice report. A paying organization's invoice does not bring its linked
// organizations' invoices along; each is reported on by its own id.
func ExportInvoice(ctx context.Context, st Store, inv *costexplorer.Invoice, req Request, w io.Writer) (Summary, error) {
	org, acct, err := account(ctx, st, inv.OrgID)
	if err != nil {
		return Summary{}, err
	}
	x, err := newExporter(ctx, st, req, w)
	if err != nil {
		return Summary{}, err
	}
	if err := x.invoice(inv, acct, org.Name); err != nil {
		return x.sum, x.fail(err)
	}
	return x.close()
}

// account returns the organization orgID and the billing account its
// invoices belong to: itself, or its paying organization when it is linked.
func account(ctx context.Context, st Store, orgID string) (*costexplorer.Organization, Account, error) {
	org, err := st.Organization(ctx, orgID)
	if err != nil {
		return nil, Account{}, err
	}
	acct := Account{ID: org.ID, Name: org.Name}
	if org.PayingOrgID != "" {
		payer, err := st.Organization(ctx, org.PayingOrgID)
		if err != nil {
			return nil, Account{}, err
		}
		acct = Account{ID: payer.ID, Name: payer.Name}
	}
	return org, acct, nil
}

// exporter writes the rows of invoices to one file.
type exporter struct {
	ctx context.Context
	st  Store
	req Request
	out RowWriter
	m   *mapper
	row Row
	sum Summary
}

func newExporter(ctx context.Context, st Store, req Request, w io.Writer) (*exporter, error) {
	if req.Spec == "" {
		req.Spec = Latest
	}
	if req.Format == "" {
		req.Format = CSV
	}
	out, err := NewWriter(w, req.Format, req.Spec)
	if err != nil {
		return nil, err
	}
	return &exporter{ctx: ctx, st: st, req: req, out: out, m: newMapper(req.Format == CSV)}, nil
}

func (x *exporter) emit(r *Row) error {
	if err := x.out.Write(r); err != nil {
		return err
	}
	x.sum.Rows++
	if x.req.Progress != nil && x.sum.Rows%ProgressEvery == 0 {
		x.req.Progress(x.sum.Rows, false)
	}
	return nil
}

// invoice writes inv's item rows, streamed from the store, then its tax and
// adjustment rows; orgName is the name of inv's organization.
func (x *exporter) invoice(inv *costexplorer.Invoice, acct Account, orgName string) error {
	if err := x.ctx.Err(); err != nil {
		return err
	}
	x.sum.Invoices++
	err := x.st.InvoiceLines(x.ctx, inv.ID, func(li *costexplorer.InvoiceLine) error {
		x.m.line(&x.row, inv, acct, li)
		return x.emit(&x.row)
	})
	if err != nil {
		return err
	}
	return invoiceRows(inv, acct, orgName, x.emit)
}

// fail releases what the writer holds (the Parquet writer's temporary
// files) when the export stops on err, without ending the file.
func (x *exporter) fail(err error) error {
	if d, ok := x.out.(interface{ discard() }); ok {
		d.discard()
	}
	return err
}

// close ends the file.
func (x *exporter) close() (Summary, error) {
	if err := x.out.Close(); err != nil {
		return x.sum, err
	}
	if x.req.Progress != nil {
		x.req.Progress(x.sum.Rows, true)
	}
	return x.sum, nil
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
