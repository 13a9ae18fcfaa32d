package importer

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/costexplorer/costexplorer"
)

// row turns the current record into a line item and the dimensions it
// mentions.
func (p *parser) row() error {
	p.readVals()
	usage, err := p.date(colUsageDate, true)
	if err != nil {
		return err
	}
	billed, err := p.date(colDate, false)
	if err != nil {
		return err
	}
	if billed == 0 && p.get(colDate) != "" {
		// Day 0 means "billed on the usage day" on a line item.
		return p.fail(colDate, "Date %s is before any billing: want a later date or none", p.get(colDate))
	}

	orgID, orgName := p.get(colOrgID), p.get(colOrgName)
	if err := p.checkID(colOrgID, orgID, "organization", true); err != nil {
		return err
	}
	if err := p.checkName(colOrgName, orgName, "organization", true); err != nil {
		return err
	}
	projectID, projectName := p.get(colProjectID), p.get(colProject)
	if err := p.checkID(colProjectID, projectID, "project", false); err != nil {
		return err
	}
	if projectID == "" && projectName != "" {
		return p.fail(colProjectID, "project %q has no Project ID", projectName)
	}
	if projectID != "" {
		if err := p.checkName(colProject, projectName, "project", true); err != nil {
			return err
		}
	}
	clusterName := p.get(colCluster)
	if err := p.checkName(colCluster, clusterName, "cluster", false); err != nil {
		return err
	}
	if clusterName != "" && projectID == "" {
		return p.fail(colCluster, "cluster %q has no project: a cluster charge needs its Project ID", clusterName)
	}

	skuID := p.get(colSKU)
	if skuID == "" {
		return p.fail(colSKU, "SKU is required")
	}
	sku := p.lastSKU.sku
	if skuID != p.lastSKU.id {
		if sku, err = costexplorer.LookupSKU(skuID); err != nil {
			return p.fail(colSKU, "unknown SKU %q: not in the catalogue and no known service in its name", skuID)
		}
		p.lastSKU.id, p.lastSKU.sku = skuID, sku
	}
	unit := p.get(colUnit)
	if unit == "" {
		unit = sku.Unit
	}
	priceNanos, err := p.unitPrice()
	if err != nil {
		return err
	}
	qty, err := p.quantity()
	if err != nil {
		return err
	}
	pct, err := p.discount()
	if err != nil {
		return err
	}
	amount, err := p.amount()
	if err != nil {
		return err
	}
	month := p.month(usage)
	invoiceID := p.invoiceID(orgID, month)
	if s := p.summary; s != nil {
		switch {
		case orgID != s.orgID:
			return p.fail(colOrgID, "row of organization %s in the invoice of organization %s (summary, line %d)", orgID, s.orgID, s.orgLine)
		case orgName != s.orgName:
			return p.fail(colOrgName, "organization name %q differs from the summary's %q (line %d)", orgName, s.orgName, s.orgLine-1)
		case month != s.month:
			return p.fail(colUsageDate, "usage date %s is outside the billing period %q (summary, line %d)", usage, s.period, s.line)
		}
		invoiceID = s.invoiceID
	}
	tags, err := p.tags()
	if err != nil {
		return err
	}

	knownProject := false
	if projectID != "" {
		other, ok := p.projects[projectID]
		if ok && other != orgID {
			return p.fail(colProjectID, "project %s belongs to organization %s on an earlier line, not %s", projectID, other, orgID)
		}
		knownProject = ok
	}

	// The item is built in its place in the chunk (not copied there), and
	// taken back if the row is deferred or rejected.
	p.batch.Items = append(p.batch.Items, costexplorer.LineItem{
		OrgID:           orgID,
		ProjectID:       projectID,
		Service:         sku.Service,
		SKU:             skuID,
		Date:            usage,
		Quantity:        qty,
		Unit:            unit,
		UnitPriceNanos:  priceNanos,
		Amount:          amount,
		InvoiceID:       invoiceID,
		BillDate:        billed,
		Description:     p.get(colDescription),
		Note:            p.get(colNote),
		Region:          p.get(colRegion),
		ReplicaSet:      p.get(colReplicaSet),
		ConfigServer:    p.get(colConfigServer),
		Application:     p.get(colApplication),
		DiscountPercent: pct,
		Tags:            tags,
	})
	li := &p.batch.Items[len(p.batch.Items)-1]
	if pct > 0 {
		li.Discount = costexplorer.DiscountFrom(priceNanos, qty, amount)
	}

	// The row's occurrence among identical rows (see occur.go): a row that
	// cannot be counted yet is set aside, and comes back once the file is
	// read, with its occurrence in p.occur. With Options.ItemID, ids do not
	// depend on content, and no row is counted.
	k := p.occur
	var content contentHash
	if p.opts.ItemID == nil {
		content = p.identity(li, clusterName)
		if k == 0 {
			if k, err = p.occ.next(content); err != nil {
				return err
			}
			if k == 0 {
				p.batch.Items = p.batch.Items[:len(p.batch.Items)-1]
				return p.occ.(*spillCounter).deferRow(content, p.line, p.rec)
			}
		}
	}

	// Dimensions, in order of first appearance.
	if orgID != p.lastOrg {
		if !p.orgs[orgID] {
			p.orgs[orgID] = true
			p.batch.Organizations = append(p.batch.Organizations, costexplorer.Organization{ID: orgID, Name: orgName})
		}
		p.lastOrg = orgID
	}
	if projectID != "" && !knownProject {
		p.projects[projectID] = orgID
		p.batch.Projects = append(p.batch.Projects, costexplorer.Project{ID: projectID, OrgID: orgID, Name: projectName})
	}
	if clusterName != "" {
		if projectID != p.lastCluster.project || clusterName != p.lastCluster.name {
			p.lastCluster.project, p.lastCluster.name = projectID, clusterName
			p.lastCluster.id = ""
			if p.opts.ClusterID != nil {
				p.lastCluster.id = p.opts.ClusterID(projectID, clusterName)
			}
			if p.lastCluster.id == "" {
				p.lastCluster.id = costexplorer.ClusterIDFor(projectID, clusterName)
			}
		}
		li.ClusterID = p.lastCluster.id
		p.cluster(li.ClusterID, projectID, clusterName, skuID)
	}

	li.ID = p.lineItemID(k, li, content)
	if err := li.Validate(); err != nil {
		p.batch.Items = p.batch.Items[:len(p.batch.Items)-1]
		return p.errAt(p.line, 1, "%v", err)
	}
	p.total += amount
	p.rows++
	if p.chunkRows > 0 && len(p.batch.Items) >= p.chunkRows {
		return p.flush()
	}
	return nil
}

// cluster emits the cluster of a row, or, once emitted, again in the current
// chunk when the row's SKU tells its provider or tier first (a cluster's
// first rows may be of SKUs that name neither).
func (p *parser) cluster(id, projectID, name, skuID string) {
	c, seen := p.clusters[id]
	if !seen {
		c = &clusterSeen{chunk: -1}
		p.clusters[id] = c
	}
	if c.provider != "" && c.tier != "" {
		return
	}
	provider, tier := describeSKU(skuID)
	learnt := false
	if c.provider == "" && provider != "" {
		c.provider, learnt = provider, true
	}
	if c.tier == "" && tier != "" {
		c.tier, learnt = tier, true
	}
	switch {
	case seen && !learnt:
	case c.chunk == p.chunk:
		out := &p.batch.Clusters[c.index]
		out.Provider, out.Tier = c.provider, c.tier
	default:
		c.chunk, c.index = p.chunk, len(p.batch.Clusters)
		p.batch.Clusters = append(p.batch.Clusters, costexplorer.Cluster{ID: id, ProjectID: projectID, Name: name, Provider: c.provider, Tier: c.tier})
	}
}

// identity returns the hash of the row's content, li being its item and
// cluster its cluster's name: the id the row has if it is the first of its
// content in the file (ItemID with k = 1), which identical rows share and
// other rows do not (a 128-bit hash). One SHA-256 a row, then, for most
// rows: a repeat hashes its identity again with its occurrence.
func (p *parser) identity(li *costexplorer.LineItem, cluster string) contentHash {
	p.idBuf = appendIdentity(p.idBuf[:0], li, cluster)
	return contentHash(idOf(p.idBuf, 1))
}

// lineItemID derives the id from the row's identity (kept by identity, with
// content its hash) and its occurrence k among identical rows of this file,
// as ItemID does. With Options.ItemID it is that function's id of the row's
// number and item instead.
func (p *parser) lineItemID(k int, li *costexplorer.LineItem, content contentHash) costexplorer.LineItemID {
	switch {
	case p.opts.ItemID != nil:
		return p.opts.ItemID(p.rows+1, li)
	case k == 1:
		return costexplorer.LineItemID(content)
	}
	return idOf(p.idBuf, k)
}

// dateLayouts are the forms of dates on Atlas invoices, with and without a
// time part. The time of day is ignored: a line item has a day.
var dateLayouts = []string{
	"1/2/2006",
	"2006-01-02",
	"1/2/2006 15:04",
	"1/2/2006 15:04:05",
	"1/2/2006 3:04 PM",
	"1/2/2006 3:04:05 PM",
	"2006-01-02 15:04",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05 -0700",
}

// parseDate parses one of dateLayouts (the US form takes one- or two-digit
// months and days) and returns the calendar day as written, without
// converting zones.
func parseDate(s string) (costexplorer.Day, bool) {
	if d, ok := quickDate(s); ok {
		return d, true
	}
	for _, layout := range dateLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if t.Year() < 1970 {
			return 0, false
		}
		return costexplorer.DayOf(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)), true
	}
	return 0, false
}

// quickDate parses the two forms of dates that invoices mostly have,
// MM/DD/YYYY (months and days of one or two digits) and YYYY-MM-DD, as
// time.Parse does with their layouts, without its generality; ok is false
// for anything else (parseDate then tries every layout) and for days
// before 1970.
func quickDate(s string) (d costexplorer.Day, ok bool) {
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, s != ""
	}
	var y, m, dd int
	var ok1, ok2, ok3 bool
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		y, ok1 = num(s[:4])
		m, ok2 = num(s[5:7])
		dd, ok3 = num(s[8:])
	} else {
		ms, rest, _ := strings.Cut(s, "/")
		ds, ys, _ := strings.Cut(rest, "/")
		if len(ms) > 2 || len(ds) > 2 || len(ys) != 4 {
			return 0, false
		}
		m, ok1 = num(ms)
		dd, ok2 = num(ds)
		y, ok3 = num(ys)
	}
	if !ok1 || !ok2 || !ok3 || y < 1970 || m < 1 || m > 12 || dd < 1 {
		return 0, false
	}
	t := time.Date(y, time.Month(m), dd, 0, 0, 0, 0, time.UTC)
	if t.Day() != dd { // beyond the month's last day
		return 0, false
	}
	return costexplorer.Day(t.Unix() / 86400), true
}

// month returns the month of d, remembering the last: rows come grouped by
// day.
func (p *parser) month(d costexplorer.Day) costexplorer.Month {
	if d != p.lastMonth.day || !p.lastMonth.set {
		p.lastMonth.day, p.lastMonth.month, p.lastMonth.set = d, d.Month(), true
	}
	return p.lastMonth.month
}

func (p *parser) date(c column, required bool) (costexplorer.Day, error) {
	v := p.get(c)
	if v == "" {
		if required {
			return 0, p.fail(c, "%s is required", columnNames[c])
		}
		return 0, nil
	}
	d, ok := parseDate(v)
	if !ok {
		return 0, p.fail(c, "invalid %s %q: want MM/DD/YYYY or YYYY-MM-DD, optionally with a time", columnNames[c], v)
	}
	return d, nil
}

func (p *parser) checkID(c column, v, what string, required bool) error {
	if v != "" && v == p.checked[c] {
		return nil
	}
	switch {
	case v == "" && required:
		return p.fail(c, "%s is required", columnNames[c])
	case v != "" && !costexplorer.IsID(v):
		return p.fail(c, "invalid %s id %q: want 24 lower-case hexadecimal characters", what, v)
	}
	p.checked[c] = v
	return nil
}

func (p *parser) checkName(c column, v, what string, required bool) error {
	if v != "" && v == p.checked[c] {
		return nil
	}
	switch {
	case v == "" && required:
		return p.fail(c, "%s name is required (column %q)", what, columnNames[c])
	case len(v) > MaxNameSize:
		return p.fail(c, "%s name is %d bytes, more than %d", what, len(v), MaxNameSize)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return p.fail(c, "%s name %q contains a control character", what, v)
	}
	p.checked[c] = v
	return nil
}

func (p *parser) amount() (costexplorer.Cents, error) {
	v := p.get(colAmount)
	if v == "" {
		return 0, p.fail(colAmount, "Amount is required")
	}
	a, err := costexplorer.ParseDollars(v)
	if err != nil {
		return 0, p.fail(colAmount, "%v", err)
	}
	if a > MaxAmount || a < -MaxAmount {
		return 0, p.fail(colAmount, "amount %s is beyond the limit of ±$%s a row", v, MaxAmount.Dollars())
	}
	return a, nil
}

func (p *parser) unitPrice() (int64, error) {
	v := p.get(colUnitPrice)
	if v == "" {
		return 0, nil
	}
	n, err := parseNanos(v)
	if err != nil {
		return 0, p.fail(colUnitPrice, "invalid Unit Price %q: %v", v, err)
	}
	return n, nil
}

func (p *parser) quantity() (float64, error) {
	v := p.get(colQuantity)
	if v == "" {
		return 0, nil
	}
	if isDecimal(v) { // the common form, which needs none of the checks below
		if q, err := strconv.ParseFloat(v, 64); err == nil {
			return q, nil
		}
	}
	q, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
	if err != nil || math.IsNaN(q) || math.IsInf(q, 0) || strings.ContainsAny(v, "xXpPnN_") {
		return 0, p.fail(colQuantity, "invalid Quantity %q: want a decimal number", v)
	}
	return q, nil
}

// isDecimal reports whether s has only digits and at most one dot.
func isDecimal(s string) bool {
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.' && !dot:
			dot = true
		case c < '0' || c > '9':
			return false
		}
	}
	return true
}

// discount reads the Discount Percent (0 to 100, with or without "%", at
// most 9 decimals). Amount is already net of it.
func (p *parser) discount() (float64, error) {
	v := p.get(colDiscount)
	if v == "" {
		return 0, nil
	}
	n, err := parseDecimal(strings.TrimSpace(strings.TrimSuffix(v, "%")), 9)
	if err != nil || n < 0 || n > 100_000_000_000 {
		return 0, p.fail(colDiscount, "invalid Discount Percent %q: want a number from 0 to 100", v)
	}
	return float64(n) / 1e9, nil
}

// tags reads the tag columns of the current row: a cell holds a key's
// values joined by ";"; an empty cell means the item lacks the key.
func (p *parser) tags() (costexplorer.Tags, error) {
	for _, i := range p.blankCols {
		if p.field(i) != "" {
			return costexplorer.Tags{}, p.errAt(p.line, i+1, "a value under a column without a name: a tag column needs its key in the header")
		}
	}
	if len(p.tagCols) == 0 {
		return costexplorer.Tags{}, nil
	}
	// The rows of one resource carry the same tag cells: the tags of cells
	// seen lately are kept (a bounded cache), which spares building and
	// validating them again on every row.
	key := p.tagKey[:0]
	for _, tc := range p.tagCols {
		key = append(append(key, p.rec[tc.field]...), 0)
	}
	p.tagKey = key
	if t, ok := p.tagCache[string(key)]; ok {
		return t, nil
	}
	t, err := p.parseTags()
	if err != nil {
		return t, err
	}
	if len(p.tagCache) >= maxCachedTags || p.tagCache == nil {
		p.tagCache = make(map[string]costexplorer.Tags)
	}
	p.tagCache[string(key)] = t
	return t, nil
}

// maxCachedTags bounds the parser's cache of tags by their cells.
const maxCachedTags = 4096

// parseTags reads the tag columns of the current row.
func (p *parser) parseTags() (costexplorer.Tags, error) {
	var m map[string][]string
	for _, tc := range p.tagCols {
		v := p.field(tc.field)
		if v == "" {
			continue
		}
		vals := strings.Split(v, costexplorer.TagValueSeparator)
		for j := range vals {
			vals[j] = strings.TrimSpace(vals[j])
		}
		one := map[string][]string{tc.key: vals}
		if err := costexplorer.ValidateTags(one); err != nil {
			return costexplorer.Tags{}, p.errAt(p.line, tc.field+1, "invalid tag value %q: %v", v, err)
		}
		if m == nil {
			m = map[string][]string{}
		}
		m[tc.key] = vals
	}
	t, err := costexplorer.NewTags(m)
	if err != nil {
		return costexplorer.Tags{}, p.errAt(p.line, 1, "%v", err)
	}
	return t, nil
}

// parseNanos parses an amount of dollars ("$0.08", "-1,000.5", "0.000002")
// into nanodollars exactly.
func parseNanos(s string) (int64, error) {
	neg := false
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = true, s[1:len(s)-1]
	}
	if strings.HasPrefix(s, "-") {
		neg, s = !neg, s[1:]
	} else {
		s = strings.TrimPrefix(s, "+")
	}
	s = strings.TrimPrefix(s, "$")
	n, err := parseDecimal(strings.ReplaceAll(s, ",", ""), 9)
	if err != nil {
		return 0, err
	}
	if neg {
		n = -n
	}
	return n, nil
}

// parseDecimal parses an unsigned decimal number into an integer scaled by
// 10^scale, exactly: digits beyond the scale are accepted only when zero,
// because silently rounding a price would change it.
func parseDecimal(s string, scale int) (int64, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" && (!dot || frac == "") {
		return 0, errNotANumber
	}
	if len(frac) > scale {
		if strings.Trim(frac[scale:], "0") != "" {
			return 0, fmt.Errorf("more than %d decimals", scale)
		}
		frac = frac[:scale]
	}
	// The digits of whole, then of frac padded with zeros to scale.
	var n int64
	for i := range len(whole) + scale {
		c := byte('0')
		switch {
		case i < len(whole):
			c = whole[i]
		case i-len(whole) < len(frac):
			c = frac[i-len(whole)]
		}
		if c < '0' || c > '9' {
			return 0, errNotANumber
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, errTooLargeNumber
		}
		n = n*10 + d
	}
	if len(whole)+scale == 0 {
		return 0, errNotANumber
	}
	return n, nil
}

var (
	errNotANumber     = errors.New("not a number")
	errTooLargeNumber = errors.New("too large")
)

// describeSKU returns the provider and tier a cluster SKU names, for the
// cluster's descriptive fields ("ATLAS_AWS_INSTANCE_M10" → AWS, M10).
func describeSKU(sku string) (provider, tier string) {
	u := strings.ToUpper(sku)
	for _, prov := range []string{"AWS", "GCP", "AZURE"} {
		if strings.Contains(u, "_"+prov+"_") || strings.HasPrefix(u, prov+"_") {
			provider = prov
		}
	}
	switch {
	case strings.Contains(u, "SERVERLESS"):
		tier = "SERVERLESS"
	case strings.Contains(u, "FLEX_INSTANCE"):
		tier = "FLEX"
	default:
		if _, t, ok := strings.Cut(u, "_INSTANCE_"); ok && len(t) >= 2 && len(t) <= 5 && (t[0] == 'M' || t[0] == 'R') {
			tier = t
		}
	}
	return provider, tier
}

// invoiceID returns the derived invoice of an organization and month,
// remembering the last one: rows come grouped by organization and month.
func (p *parser) invoiceID(orgID string, m costexplorer.Month) string {
	if orgID != p.lastInvoice.org || m != p.lastInvoice.month || p.lastInvoice.id == "" {
		p.lastInvoice.org, p.lastInvoice.month, p.lastInvoice.id = orgID, m, costexplorer.InvoiceID(orgID, m)
	}
	return p.lastInvoice.id
}
