package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
)

const invoicesHelp = `Usage: costexplorer invoices list|show [flags]

Reads an organization's invoices for people: 'list' prints a table of the invoices (id, billing
month, status, amount billed, amount paid; a paying organization's linked invoices indented under
each), 'show INVOICE' one invoice summarised by service and by project, with its largest line
items and its linked invoices. For the API's own bodies use 'costexplorer api invoices …'.

Examples:
  costexplorer invoices list --org ORG
  costexplorer invoices list --org ORG --status PAID --from 2025-01 --to 2025-06
  costexplorer invoices show --org ORG INVOICE
  costexplorer invoices show --org ORG --top 20 INVOICE

Run 'costexplorer invoices list --help' or 'costexplorer invoices show --help' for the flags.`

func runInvoices(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(m.Stderr, invoicesHelp)
		return usageErrorf("name a sub-command: list or show")
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		fmt.Fprintln(m.Stdout, invoicesHelp)
		return nil
	case "list":
		return runInvoicesList(ctx, m, args[1:])
	case "show":
		return runInvoicesShow(ctx, m, args[1:])
	}
	return usageErrorf("unknown sub-command %q: use list or show", args[0])
}

// invoicesListArgs are the flags of `costexplorer invoices list`.
type invoicesListArgs struct {
	conn     connFlags
	org      string
	statuses stringList
	from, to string
	noLinked bool
}

func runInvoicesList(ctx context.Context, m *Main, args []string) error {
	var a invoicesListArgs
	fs := m.newFlagSet("invoices list", "invoices list --org ORG [--status S] [--from YYYY-MM] [--to YYYY-MM] [--no-linked]",
		"costexplorer invoices list --org ORG",
		"costexplorer invoices list --org ORG --status PAID,INVOICED --from 2025-01 --to 2025-06")
	a.conn.register(fs, "org", &a.org)
	fs.Var(&a.statuses, "status", "only invoices of this status: PENDING, CLOSED, INVOICED, PAID, FREE, FAILED, FORGIVEN, PREPAID (repeatable, or comma-separated)")
	fs.StringVar(&a.from, "from", "", "first billing month YYYY-MM")
	fs.StringVar(&a.to, "to", "", "last billing month YYYY-MM, included")
	fs.BoolVar(&a.noLinked, "no-linked", false, "leave out the linked organizations' invoices")
	conn, err := a.conn.parse(m, args, "")
	if err != nil {
		return err
	}
	if err := checkOrg(a.org); err != nil {
		return err
	}
	opts := client.InvoiceListOptions{HideLinkedInvoices: a.noLinked, ItemsPerPage: costexplorer.MaxItemsPerPage}
	for _, s := range splitList(a.statuses) {
		st, ok := costexplorer.ParseInvoiceStatus(strings.ToUpper(s))
		if !ok {
			return usageErrorf("--status %q is not an invoice status", s)
		}
		opts.StatusNames = append(opts.StatusNames, st)
	}
	for _, f := range []struct {
		name, v string
		dst     *time.Time
		next    bool
	}{{"--from", a.from, &opts.FromDate, false}, {"--to", a.to, &opts.ToDate, true}} {
		if f.v == "" {
			continue
		}
		mo, err := costexplorer.ParseMonth(f.v)
		if err != nil {
			return usageErrorf("%s %q is not a month YYYY-MM", f.name, f.v)
		}
		if f.next {
			mo++ // the invoice of --to ends on the first of the next month
		}
		*f.dst = mo.Start()
	}
	c, err := m.newClient(conn)
	if err != nil {
		return err
	}
	var invs []client.Invoice
	for inv, err := range c.AllInvoices(ctx, a.org, opts) {
		if err != nil {
			return m.clientError(err)
		}
		invs = append(invs, inv)
	}
	return classify(renderInvoiceList(m.Stdout, invs))
}

// renderInvoiceList writes the invoices as a table, each paying
// organization's linked invoices indented under its own, and a total row of
// the amounts of the organization's invoices.
func renderInvoiceList(w io.Writer, invs []client.Invoice) error {
	if len(invs) == 0 {
		_, err := fmt.Fprintln(w, "No invoices.")
		return err
	}
	t := &textTable{right: []bool{false, false, false, true, true}}
	t.row("INVOICE", "PERIOD", "STATUS", "BILLED", "PAID")
	var billed, paid client.Cents
	for _, inv := range invs {
		t.row(inv.ID, inv.Month().String(), string(inv.StatusName), inv.AmountBilled.Grouped(""), inv.AmountPaid.Grouped(""))
		billed += inv.AmountBilled
		paid += inv.AmountPaid
		for _, l := range inv.LinkedInvoices {
			t.row("  ↳ "+l.ID+" (linked)", l.Month().String(), string(l.StatusName), l.AmountBilled.Grouped(""), l.AmountPaid.Grouped(""))
		}
	}
	t.rule()
	t.row(fmt.Sprintf("TOTAL (%d invoices)", len(invs)), "", "", billed.Grouped(""), paid.Grouped(""))
	return t.write(w)
}

// invoicesShowArgs are the flags of `costexplorer invoices show`.
type invoicesShowArgs struct {
	conn connFlags
	org  string
	top  int
}

func runInvoicesShow(ctx context.Context, m *Main, args []string) error {
	var a invoicesShowArgs
	fs := m.newFlagSet("invoices show", "invoices show --org ORG [--top N] INVOICE",
		"costexplorer invoices show --org ORG INVOICE",
		"costexplorer invoices show --org ORG --top 20 INVOICE")
	a.conn.register(fs, "org", &a.org)
	fs.IntVar(&a.top, "top", 10, "how many of the largest line items to show")
	usage := fs.Usage
	fs.Usage = func() { usage(); fmt.Fprintln(fs.Output(), "\n"+exitStatusHelp+"\n\n"+connectionHelp) }
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(rest) != 1 {
		return usageErrorf("name one invoice id (costexplorer invoices show --org ORG INVOICE)")
	}
	conn, err := a.conn.parse(m, nil, "")
	if err != nil {
		return err
	}
	if err := checkOrg(a.org); err != nil {
		return err
	}
	if a.top < 0 || a.top > 1000 {
		return usageErrorf("--top must be from 0 to 1000")
	}
	c, err := m.newClient(conn)
	if err != nil {
		return err
	}
	sum := newInvoiceSummary(a.top)
	inv, err := c.StreamInvoice(ctx, a.org, rest[0], sum.add)
	if err != nil {
		return m.clientError(err)
	}
	return classify(sum.render(m.Stdout, inv))
}

// invoiceSummary adds up an invoice's line items as they stream by service
// and by project and keeps the largest ones: its memory depends on the
// number of services, projects and --top, not on the number of items.
type invoiceSummary struct {
	n         int
	services  map[string]client.Cents
	projects  map[string]*projectSum
	top       []client.LineItem
	keep      int
	discounts client.Cents
}

type projectSum struct {
	name  string
	total client.Cents
}

func newInvoiceSummary(keep int) *invoiceSummary {
	return &invoiceSummary{services: map[string]client.Cents{}, projects: map[string]*projectSum{}, keep: keep}
}

func (s *invoiceSummary) add(li *client.LineItem) error {
	s.n++
	svc := string(li.Service())
	if svc == "" {
		svc = "(" + li.SKU + ")"
	}
	s.services[svc] += li.TotalPrice
	p := s.projects[li.GroupID]
	if p == nil {
		p = &projectSum{name: cmp.Or(li.GroupName, li.GroupID, "(no project)")}
		s.projects[li.GroupID] = p
	}
	p.total += li.TotalPrice
	s.discounts += li.Discount
	if s.keep == 0 {
		return nil
	}
	// Keep the s.keep largest items, largest first; ties keep the first seen.
	i, _ := slices.BinarySearchFunc(s.top, li, func(e client.LineItem, t *client.LineItem) int {
		if e.TotalPrice >= t.TotalPrice {
			return -1
		}
		return 1
	})
	if i < s.keep {
		s.top = slices.Insert(s.top, i, *li)
		if len(s.top) > s.keep {
			s.top = s.top[:s.keep]
		}
	}
	return nil
}

// render writes the invoice: its header, the summaries, the largest items
// and the linked invoices.
func (s *invoiceSummary) render(w io.Writer, inv *client.Invoice) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Invoice        %s\n", inv.ID)
	fmt.Fprintf(&b, "Organization   %s\n", inv.OrgID)
	fmt.Fprintf(&b, "Period         %s to %s\n", inv.StartDate.Format(time.DateOnly), inv.EndDate.Format(time.DateOnly))
	fmt.Fprintf(&b, "Status         %s\n", inv.StatusName)
	head := &textTable{right: []bool{false, true}}
	head.row("Subtotal", inv.Subtotal.Grouped(""))
	head.row("Credits", (-inv.Credits).Grouped(""))
	head.row("Sales tax", inv.SalesTax.Grouped(""))
	head.row("Amount billed", inv.AmountBilled.Grouped(""))
	head.row("Amount paid", inv.AmountPaid.Grouped(""))
	if s.discounts != 0 {
		head.row("Discounts", s.discounts.Grouped(""))
	}
	head.row("Line items", strconv.Itoa(s.n))
	_ = head.write(&b)

	b.WriteString("\n")
	svc := &textTable{right: []bool{false, true}}
	svc.row("SERVICE", "AMOUNT")
	for _, k := range sortedByAmount(s.services, func(k string) string { return k }) {
		svc.row(k, s.services[k].Grouped(""))
	}
	_ = svc.write(&b)

	b.WriteString("\n")
	prj := &textTable{right: []bool{false, true}}
	prj.row("PROJECT", "AMOUNT")
	totals := map[string]client.Cents{}
	for id, p := range s.projects {
		totals[id] = p.total
	}
	for _, id := range sortedByAmount(totals, func(id string) string { return s.projects[id].name }) {
		prj.row(s.projects[id].name, s.projects[id].total.Grouped(""))
	}
	_ = prj.write(&b)

	if len(s.top) > 0 {
		fmt.Fprintf(&b, "\nLARGEST %d LINE ITEMS\n", len(s.top))
		top := &textTable{right: []bool{false, false, false, false, true, true}}
		top.row("DATE", "PROJECT", "CLUSTER", "SKU", "QUANTITY", "AMOUNT")
		for _, li := range s.top {
			top.row(li.StartDate.Format(time.DateOnly), cmp.Or(li.GroupName, "-"), cmp.Or(li.ClusterName, "-"), li.SKU,
				strconv.FormatFloat(li.Quantity, 'f', -1, 64)+" "+li.Unit, li.TotalPrice.Grouped(""))
		}
		_ = top.write(&b)
	}
	if len(inv.LinkedInvoices) > 0 {
		b.WriteString("\nLINKED INVOICES\n")
		lt := &textTable{right: []bool{false, false, false, true, true}}
		lt.row("INVOICE", "ORGANIZATION", "STATUS", "BILLED", "PAID")
		for _, l := range inv.LinkedInvoices {
			lt.row(l.ID, l.OrgID, string(l.StatusName), l.AmountBilled.Grouped(""), l.AmountPaid.Grouped(""))
		}
		_ = lt.write(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sortedByAmount returns the keys of m, largest amount first, then by label.
func sortedByAmount(m map[string]client.Cents, label func(string) string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(label(a), label(b)), cmp.Compare(a, b))
	})
	return keys
}

// textTable lays out rows in columns separated by two spaces; right says
// which columns are right-aligned; a rule is a line of dashes.
type textTable struct {
	right []bool
	rows  [][]string // a nil row is a rule
}

func (t *textTable) row(cells ...string) { t.rows = append(t.rows, cells) }
func (t *textTable) rule()               { t.rows = append(t.rows, nil) }

func (t *textTable) write(w io.Writer) error {
	var width []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		if r == nil {
			for i, wd := range width {
				if i > 0 {
					b.WriteString("  ")
				}
				b.WriteString(strings.Repeat("-", wd))
			}
			b.WriteString("\n")
			continue
		}
		var line strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				line.WriteString("  ")
			}
			if i < len(t.right) && t.right[i] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
