package costexplorer

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// Bounds of getOrgAssociatedInvoices's year: the specification's minimum,
// and the last year its four-digit "year" can say.
const (
	MinAssociatedYear = 2000
	MaxAssociatedYear = 9999
)

// AssociatedInvoicesQuery is a validated getOrgAssociatedInvoices request:
// the invoices of OrgID for Month and, with IncludeLinkedOrgs, those of
// the organizations it pays for.
type AssociatedInvoicesQuery struct {
	OrgID             string
	Month             Month
	IncludeLinkedOrgs bool
}

// ParseAssociatedInvoicesQuery reads month (1–12, default now's month),
// year (2000–9999, default now's year; both in UTC) and includeLinkedOrgs
// (true or false, default false). Errors are ErrInvalidQueryParameter
// naming the parameter and its value, worded as the other list parameters
// are; a parameter given twice is an error, unknown ones are ignored.
func ParseAssociatedInvoicesQuery(orgID string, q url.Values, now time.Time) (*AssociatedInvoicesQuery, error) {
	now = now.UTC()
	month, err := intQueryParam(q, "month", int(now.Month()), 1, 12)
	if err != nil {
		return nil, err
	}
	year, err := intQueryParam(q, "year", now.Year(), MinAssociatedYear, MaxAssociatedYear)
	if err != nil {
		return nil, err
	}
	linked, err := boolQueryParam(q, "includeLinkedOrgs", false)
	if err != nil {
		return nil, err
	}
	return &AssociatedInvoicesQuery{OrgID: orgID, Month: MakeMonth(year, time.Month(month)), IncludeLinkedOrgs: linked}, nil
}

// AssociatedInvoice is one invoice of an OrgAssociatedInvoiceResponse.
type AssociatedInvoice struct {
	InvoiceID string `json:"invoiceId"`
	OrgID     string `json:"orgId"`
}

// AssociatedInvoices is OrgAssociatedInvoiceResponse: the invoices of a
// month, the month as two digits and the year as four.
type AssociatedInvoices struct {
	AssociatedInvoices []AssociatedInvoice `json:"associatedInvoices"`
	Month              string              `json:"month"`
	Year               string              `json:"year"`
}

// FindAssociatedInvoices answers q from st: the invoice of q.Month of each
// of orgIDs (q's organization first, then those the caller may see of the
// ones it pays for, as the caller decided), in that order; an organization
// without an invoice that month is left out. Invoices are found by their
// billing period, not by a derived id: an imported or synced invoice keeps
// Atlas's id.
func FindAssociatedInvoices(ctx context.Context, st InvoiceStore, q *AssociatedInvoicesQuery, orgIDs []string) (*AssociatedInvoices, error) {
	out := &AssociatedInvoices{
		AssociatedInvoices: []AssociatedInvoice{},
		Month:              fmt.Sprintf("%02d", int(q.Month.Num())),
		Year:               fmt.Sprintf("%04d", q.Month.Year()),
	}
	from, to := DayOf(q.Month.Start()), DayOf((q.Month + 1).Start())
	for _, org := range orgIDs {
		lq := &InvoiceListQuery{OrgID: org, From: &from, To: &to, SortBy: InvoiceSortStartDate, OrderBy: SortAsc,
			Page: PageRequest{ItemsPerPage: MaxItemsPerPage, PageNum: 1}}
		invs, _, err := st.Invoices(ctx, lq, q.Month.Start())
		if err != nil {
			return nil, fmt.Errorf("invoices of %s: %w", org, err)
		}
		for _, inv := range invs {
			if inv.Month == q.Month {
				out.AssociatedInvoices = append(out.AssociatedInvoices, AssociatedInvoice{InvoiceID: inv.ID, OrgID: inv.OrgID})
			}
		}
	}
	return out, nil
}
