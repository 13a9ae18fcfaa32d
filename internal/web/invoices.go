package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/focus"
)

// The Invoices view reads the same store methods as the Invoices API
// (costexplorer.InvoiceStore) with the same scope: the session's
// organization and, for a caller who may see them
// (costexplorer.CanViewLinkedInvoices), its linked organizations. An invoice
// outside that scope is "not found", like one that does not exist.

// lineItemsPerPage is how many line items one page of an invoice shows.
const lineItemsPerPage = 50

// invoicesPerPage is how many invoices one page of the list shows.
const invoicesPerPage = 24

// invoiceRow is one invoice in a list.
type invoiceRow struct {
	ID      string
	URL     string
	Month   string // YYYY-MM
	Period  string // "May 2025"
	Status  string
	OrgName string
	Billed  moneyCell
	Paid    moneyCell
	Linked  []invoiceRow
}

// invoicesPage is the data of the invoices list.
type invoicesPage struct {
	pageBase
	Rows        []invoiceRow
	Total       int
	PageNum     int
	PrevURL     string
	NextURL     string
	ShowsLinked bool
}

// sumRow is one line of a summary: a service or a project and its amount.
type sumRow struct {
	Label  string
	Amount moneyCell
	Share  string // of the invoice's charges, "12.3%"
}

// itemRow is one line item as the invoice page shows it.
type itemRow struct {
	Date     string
	Project  string
	Cluster  string
	SKU      string
	Service  string
	Desc     string
	Quantity string
	Amount   moneyCell
	Discount string
	Tags     string
}

// invoicePage is the data of one invoice.
type invoicePage struct {
	pageBase
	Inv           invoiceRow
	Start, End    string
	Subtotal      moneyCell
	Credits       moneyCell
	SalesTax      moneyCell
	Services      []sumRow
	Projects      []sumRow
	Items         []itemRow
	ItemCount     int
	ItemsFrom     int
	ItemsTo       int
	PrevURL       string
	NextURL       string
	Linked        []invoiceRow
	Payments      []paymentRow
	CSVURL        string
	FOCUSURL      string // this invoice's FOCUS rows (its organization's, its month)
	SummaryURL    string // where the summaries are, on pages without them
	ExplorerURL   string
	APIMethodPath string
}

// paymentRow is one payment of an invoice.
type paymentRow struct {
	Date   string
	Status string
	Amount moneyCell
}

// invoiceScope returns the organizations whose invoices rq's caller may see,
// and whether linked ones are among them.
func (s *Server) invoiceScope(r *http.Request, rq *request) ([]string, bool, error) {
	orgs := []string{rq.p.OrgID}
	if !costexplorer.CanViewLinkedInvoices(rq.p) {
		return orgs, false, nil
	}
	linked, err := s.store.LinkedOrganizations(r.Context(), rq.p.OrgID)
	if err != nil {
		return nil, false, unavailable("list linked organizations", err)
	}
	return append(orgs, linked...), true, nil
}

// billingAllowed answers 403 unless rq's caller has a billing role: the
// page says that it may not see what (of its organization), and which of
// the site's parts needs the role ("The Cost Explorer needs").
func (s *Server) billingAllowed(w http.ResponseWriter, r *http.Request, rq *request, what, needs string) bool {
	if err := costexplorer.AuthorizeOrg(rq.p, rq.p.OrgID, true); err != nil {
		s.renderMessage(w, r, http.StatusForbidden, "Not allowed",
			"Your "+rq.view.Kind+" "+rq.view.Who+" may not see "+what+" of "+rq.org.Name+
				". "+needs+" the Organization Owner, Billing Admin or Billing Viewer role.", rq.view)
		return false
	}
	return true
}

// pageNum reads the page parameter: a positive integer, 1 when absent or
// unreadable (a bad page number in a link is not worth an error page).
func pageNum(q url.Values) int {
	n, err := strconv.Atoi(q.Get("page"))
	if err != nil || n < 1 || n > costexplorer.MaxPageNum {
		return 1
	}
	return n
}

// invoiceRowOf is inv as a list shows it, on date now; names are the
// organizations by id.
func (s *Server) invoiceRowOf(inv *costexplorer.Invoice, now time.Time, names map[string]*costexplorer.Organization) invoiceRow {
	row := invoiceRow{
		ID: inv.ID, URL: "/invoices/" + inv.ID, Month: inv.Month.String(), Period: monthLabel(inv.Month),
		Status: string(inv.StatusAt(now)), Billed: cell(inv.AmountBilled()), Paid: cell(inv.AmountPaid(now)),
		OrgName: inv.OrgID,
	}
	if o := names[inv.OrgID]; o != nil {
		row.OrgName = o.Name
	}
	for _, l := range inv.Linked {
		row.Linked = append(row.Linked, s.invoiceRowOf(l, now, names))
	}
	return row
}

// invoices serves GET /invoices: the organization's invoices, newest first,
// each paying organization's linked invoices under its own. With
// ?month=YYYY-MM (the explorer's link from a month) it leads to the
// organization's invoice of that month.
func (s *Server) invoices(w http.ResponseWriter, r *http.Request, rq *request) {
	if !s.billingAllowed(w, r, rq, "the invoices", "Invoices need") {
		return
	}
	if r.URL.Query().Has("month") {
		s.invoiceOfMonth(w, r, rq)
		return
	}
	ctx := r.Context()
	now := s.cfg.Now()
	linked := costexplorer.CanViewLinkedInvoices(rq.p)
	sc, err := s.loadScope(ctx, rq.org)
	if err != nil {
		s.unexpected(w, r, err, rq.view)
		return
	}
	q := &costexplorer.InvoiceListQuery{
		OrgID: rq.p.OrgID, ViewLinkedInvoices: linked, SortBy: costexplorer.InvoiceSortEndDate, OrderBy: costexplorer.SortDesc,
		Page: costexplorer.PageRequest{ItemsPerPage: invoicesPerPage, PageNum: pageNum(r.URL.Query()), IncludeCount: true},
	}
	invs, total, err := s.store.Invoices(ctx, q, now)
	if err != nil {
		s.unexpected(w, r, unavailable("list invoices", err), rq.view)
		return
	}
	page := &invoicesPage{
		pageBase: pageBase{Title: "Invoices", Session: rq.view},
		Total:    total, PageNum: q.Page.PageNum, ShowsLinked: linked,
	}
	for _, inv := range invs {
		page.Rows = append(page.Rows, s.invoiceRowOf(inv, now, sc.org))
	}
	if q.Page.PageNum > 1 {
		page.PrevURL = "/invoices?page=" + strconv.Itoa(q.Page.PageNum-1)
	}
	if q.Page.Offset()+len(invs) < total {
		page.NextURL = "/invoices?page=" + strconv.Itoa(q.Page.PageNum+1)
	}
	s.render(w, r, http.StatusOK, "invoices.html", page)
}

// invoiceOfMonth redirects GET /invoices?month=YYYY-MM to the
// organization's invoice of that month.
func (s *Server) invoiceOfMonth(w http.ResponseWriter, r *http.Request, rq *request) {
	m, err := costexplorer.ParseMonth(r.URL.Query().Get("month"))
	if err != nil {
		s.renderMessage(w, r, http.StatusNotFound, "Page not found", "A month is written YYYY-MM.", rq.view)
		return
	}
	from, to := costexplorer.DayOf(m.Start()), costexplorer.DayOf((m + 1).Start())
	q := &costexplorer.InvoiceListQuery{
		OrgID: rq.p.OrgID, From: &from, To: &to, SortBy: costexplorer.InvoiceSortEndDate, OrderBy: costexplorer.SortDesc,
		Page: costexplorer.PageRequest{ItemsPerPage: 1, PageNum: 1},
	}
	invs, _, err := s.store.Invoices(r.Context(), q, s.cfg.Now())
	if err != nil {
		s.unexpected(w, r, unavailable("list invoices", err), rq.view)
		return
	}
	if len(invs) == 0 {
		s.renderMessage(w, r, http.StatusNotFound, "No invoice",
			rq.org.Name+" has no invoice for "+monthLabel(m)+": there was no usage that month.", rq.view)
		return
	}
	http.Redirect(w, r, "/invoices/"+invs[0].ID, http.StatusSeeOther)
}

// findInvoice returns the invoice {id} in rq's scope, answering 404 for any
// other id.
func (s *Server) findInvoice(w http.ResponseWriter, r *http.Request, rq *request) (*costexplorer.Invoice, bool) {
	if !s.billingAllowed(w, r, rq, "the invoices", "Invoices need") {
		return nil, false
	}
	orgs, linked, err := s.invoiceScope(r, rq)
	if err != nil {
		s.unexpected(w, r, err, rq.view)
		return nil, false
	}
	id := r.PathValue("id")
	inv, err := s.store.Invoice(r.Context(), orgs, id)
	if costexplorer.IsNotFound(err) {
		s.renderMessage(w, r, http.StatusNotFound, "Invoice not found",
			"There is no invoice "+id+" for "+rq.org.Name+".", rq.view)
		return nil, false
	}
	if err != nil {
		s.unexpected(w, r, unavailable("read invoice", err), rq.view)
		return nil, false
	}
	if !linked {
		inv.Linked = nil
	}
	return inv, true
}

// invoice serves GET /invoices/{id}: the invoice's amounts, its summary by
// service and by project (on the first page, from the sums the store keeps
// by project and service, not from the items), one page of its line items,
// its payments and its linked invoices.
func (s *Server) invoice(w http.ResponseWriter, r *http.Request, rq *request) {
	inv, ok := s.findInvoice(w, r, rq)
	if !ok {
		return
	}
	ctx := r.Context()
	now := s.cfg.Now()
	sc, err := s.loadScope(ctx, rq.org)
	if err != nil {
		s.unexpected(w, r, err, rq.view)
		return
	}
	n := pageNum(r.URL.Query())
	// Only the first page shows the summaries.
	services := map[string]costexplorer.Cents{}
	projects := map[string]costexplorer.Cents{}
	projectName := map[string]string{}
	if n == 1 {
		sums, err := s.store.InvoiceSums(ctx, inv.ID)
		if err != nil {
			s.unexpected(w, r, unavailable("read invoice sums", err), rq.view)
			return
		}
		for _, sum := range sums {
			services[string(sum.Service)] += sum.Amount
			projects[sum.ProjectID] += sum.Amount
			projectName[sum.ProjectID] = cmp.Or(sum.ProjectName, sum.ProjectID, "(no project)")
		}
	}
	search := &costexplorer.LineItemSearch{
		SortField: costexplorer.SortUsageDates, SortOrder: costexplorer.SortAscending, IncludeZeroCents: true,
	}
	lines, count, err := s.store.SearchLineItems(ctx, inv.ID, search,
		costexplorer.PageRequest{ItemsPerPage: lineItemsPerPage, PageNum: n, IncludeCount: true})
	if err != nil {
		s.unexpected(w, r, unavailable("search invoice lines", err), rq.view)
		return
	}
	row := s.invoiceRowOf(inv, now, sc.org)
	page := &invoicePage{
		pageBase:      pageBase{Title: "Invoice " + row.Period, Session: rq.view},
		Inv:           row,
		Start:         inv.StartDate().Format(time.DateOnly),
		End:           inv.EndDate().Format(time.DateOnly),
		Subtotal:      cell(inv.Subtotal()),
		Credits:       cell(-inv.CreditsApplied()),
		SalesTax:      cell(inv.SalesTax),
		Linked:        row.Linked,
		ItemCount:     count,
		CSVURL:        "/invoices/" + inv.ID + "/csv",
		FOCUSURL:      focusURL(inv.Month, inv.Month, []string{inv.OrgID}, focus.CSV),
		SummaryURL:    "/invoices/" + inv.ID + "#by-service",
		APIMethodPath: "GET /api/atlas/v2/orgs/" + inv.OrgID + "/invoices/" + inv.ID,
	}
	if inv.OrgID == rq.p.OrgID {
		page.ExplorerURL = "/explorer?" + url.Values{"from": {inv.Month.String()}, "to": {inv.Month.String()}, "groupBy": {"services"}}.Encode()
	}
	page.Services = summary(services, func(k string) string { return cmp.Or(k, "(no service)") }, inv.Subtotal())
	page.Projects = summary(projects, func(k string) string { return projectName[k] }, inv.Subtotal())
	for _, l := range lines {
		page.Items = append(page.Items, newItemRow(l))
	}
	if len(lines) > 0 {
		off := (n - 1) * lineItemsPerPage
		page.ItemsFrom, page.ItemsTo = off+1, off+len(lines)
	}
	if n > 1 {
		page.PrevURL = "/invoices/" + inv.ID + "?page=" + strconv.Itoa(n-1) + "#line-items"
	}
	if n*lineItemsPerPage < count {
		page.NextURL = "/invoices/" + inv.ID + "?page=" + strconv.Itoa(n+1) + "#line-items"
	}
	for i := range inv.Payments {
		p := &inv.Payments[i]
		page.Payments = append(page.Payments, paymentRow{Date: p.Created.Format(time.DateOnly), Status: string(p.Status), Amount: cell(p.AmountPaid)})
	}
	s.render(w, r, http.StatusOK, "invoice.html", page)
}

// summary returns the amounts of m as rows, largest first, each with its
// share of charges.
func summary(m map[string]costexplorer.Cents, label func(string) string, charges costexplorer.Cents) []sumRow {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(label(a), label(b)), cmp.Compare(a, b))
	})
	rows := make([]sumRow, 0, len(keys))
	for _, k := range keys {
		row := sumRow{Label: label(k), Amount: cell(m[k])}
		if charges > 0 && m[k] > 0 {
			row.Share = strconv.FormatFloat(float64(m[k])*100/float64(charges), 'f', 1, 64) + "%"
		}
		rows = append(rows, row)
	}
	return rows
}

func newItemRow(l *costexplorer.InvoiceLine) itemRow {
	row := itemRow{
		Date: l.Date.String(), Project: l.ProjectName, Cluster: l.ClusterName, SKU: l.SKU,
		Service: string(l.Service), Desc: l.Description,
		Quantity: strconv.FormatFloat(l.Quantity, 'f', -1, 64) + " " + l.Unit,
		Amount:   cell(l.Amount),
	}
	if l.Discount != 0 || l.DiscountPercent != 0 {
		row.Discount = costexplorer.FormatPercent(l.DiscountPercent) + "% (" + l.Discount.Grouped("$") + ")"
	}
	var tags []string
	for k, vals := range l.Tags.All() {
		tags = append(tags, k+"="+strings.Join(vals, ","))
	}
	row.Tags = strings.Join(tags, " ")
	return row
}

// invoiceCSV serves GET /invoices/{id}/csv: the invoice CSV, streamed,
// byte for byte what downloadInvoiceCsv answers.
func (s *Server) invoiceCSV(w http.ResponseWriter, r *http.Request, rq *request) {
	inv, ok := s.findInvoice(w, r, rq)
	if !ok {
		return
	}
	ctx := r.Context()
	org, err := s.store.Organization(ctx, inv.OrgID)
	if err != nil {
		s.unexpected(w, r, unavailable("look up organization", err), rq.view)
		return
	}
	keys, err := s.store.InvoiceTagKeys(ctx, inv.ID)
	if err != nil {
		s.unexpected(w, r, unavailable("read invoice tag keys", err), rq.view)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="invoice-%s-%s.csv"`, inv.Month, inv.ID))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	lines := func(id string, fn func(*costexplorer.InvoiceLine) error) error {
		return s.store.InvoiceLines(ctx, id, fn)
	}
	if err := costexplorer.WriteInvoiceCSV(w, inv, org.Name, keys, lines); err != nil {
		// The status is sent: all that is left is to log and cut the answer.
		s.log.Error("web: stream invoice csv", "invoice", inv.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
}
