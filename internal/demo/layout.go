package demo

import (
	"strconv"

	"github.com/costexplorer/costexplorer"
)

// qtyModel says how a use's daily quantity evolves.
type qtyModel uint8

const (
	// qtyHours is base (milli-units per hour) × 24 hours, fewer on the day the
	// resource was created or deleted: instance and connector hours.
	qtyHours qtyModel = iota
	// qtyGrowing is base per day growing linearly, with ±10% noise: storage.
	qtyGrowing
	// qtySeasonal is qtyGrowing with weekly seasonality: traffic and requests.
	qtySeasonal
	// qtyFixed is exactly base every day: a flex cluster's day.
	qtyFixed
	// qtyMonthly is exactly base, once on the first day of each month:
	// support plans, premium features, credits.
	qtyMonthly
)

// use is one SKU charged by a resource, with its quantity model.
type use struct {
	sku    int
	model  qtyModel
	base   int64 // milli-units per day (per hour for qtyHours) at the window start
	growth int64 // daily growth of base, in 1/65536ths
}

// span is a half-open range of indexes into a plan's slice.
type span struct{ lo, hi int }

type orgPlan struct {
	org      costexplorer.Organization
	uses     []use
	projects span
	salt     uint64
}

type projectPlan struct {
	project  costexplorer.Project
	org      int
	first    int // first day index with usage
	uses     []use
	clusters span
	salt     uint64
}

type clusterPlan struct {
	cluster costexplorer.Cluster
	org     int
	project int
	first   int  // day index of creation (0: created before the window)
	last    int  // last day index with usage
	deleted bool // deleted on day index last
	uses    []use
	salt    uint64
}

// dayInfo is what the inner loop needs about one day of the window.
type dayInfo struct {
	day    costexplorer.Day
	str    string // the day as YYYY-MM-DD, one of the line-item id parts
	first  bool   // first day of a month
	season int64  // weekly seasonality factor, in 1/65536ths
}

// plan is the whole generated world except the line items themselves: a pure
// function of the Config, so Generate and Describe agree.
type plan struct {
	cfg      Config
	skus     *skuTable
	seed     string
	days     []dayInfo // the window, to Now's day
	planned  int       // days[:planned] end on Anchor's day: the world is laid out over them
	firsts   []int     // firsts[i]: number of month starts among days[0:i]
	orgs     []orgPlan
	projects []projectPlan
	clusters []clusterPlan
	linked   int // orgs[1 : 1+linked] are linked to orgs[0]
}

// Sizing. At the 20 M reference size the plan has about 8,000 clusters, 2,000
// projects and 50 organizations (DESIGN §4).
const (
	itemsPerClusterGuess = 2000
	clustersPerOrg       = 170
	clustersPerProject   = 4
	minClusters          = 6
)

// newPlan builds the plan whose item count as of cfg.Anchor comes closest to
// cfg.LineItems: it builds once at a guessed scale, counts, and rescales
// once; then it runs the world on to cfg.Now.
func newPlan(cfg Config) (*plan, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	skus, err := newSKUTable()
	if err != nil {
		return nil, err
	}
	at := cfg
	at.Now = cfg.Anchor
	n := max(minClusters, cfg.LineItems/itemsPerClusterGuess)
	p := buildPlan(at, skus, n)
	if got := p.count(); got > 0 {
		n2 := max(minClusters, int(int64(n)*int64(cfg.LineItems)/got))
		if n2 != n {
			p = buildPlan(at, skus, n2)
		}
	}
	p.cfg = cfg
	p.runTo(costexplorer.DayOf(cfg.Now))
	return p, nil
}

// runTo extends the window past Anchor's day to last: the organizations,
// the projects and the clusters alive on Anchor's day keep running (a
// cluster deleted before stays deleted; none is created).
func (p *plan) runTo(last costexplorer.Day) {
	end := len(p.days) - 1
	p.appendDays(p.days[end].day+1, last)
	for i := range p.clusters {
		if c := &p.clusters[i]; c.last == end && !c.deleted {
			c.last = len(p.days) - 1
		}
	}
}

// rng is splitmix64: tiny, fast, and fully specified here, so the generated
// data cannot change with the Go release.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix(r.s)
}

// intn returns a number in [0, n); the modulo bias is irrelevant here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int64) int64 { return lo + int64(r.next()%uint64(hi-lo+1)) }

// percent reports true with probability pct/100.
func (r *rng) percent(pct int) bool { return r.intn(100) < pct }

// mix is the splitmix64 finalizer, also used as a stateless hash for the
// daily noise so that any item can be computed without its predecessors.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func buildPlan(cfg Config, skus *skuTable, nClusters int) *plan {
	p := &plan{cfg: cfg, skus: skus, seed: strconv.FormatInt(cfg.Seed, 10)}
	r := &rng{s: uint64(cfg.Seed)*0x2545f4914f6cdd1d + uint64(nClusters)}
	p.buildDays()
	nDays := len(p.days)

	nOrgs := max(4, (nClusters+clustersPerOrg/2)/clustersPerOrg)
	nProjects := max(2*nOrgs, nClusters/clustersPerProject)
	p.linked = max(2, nOrgs/6)

	// Organizations: the first pays for the next p.linked ones; sizes fall off
	// like 1/(i+2) so there is one clearly largest organization.
	names := orgNames(r, nOrgs)
	weights := make([]int64, nOrgs)
	for i := range weights {
		weights[i] = 1_000_000 / int64(i+2)
	}
	perOrg := apportion(nProjects, weights, 2)
	windowStart := p.days[0].day.Time()
	for i := 0; i < nOrgs; i++ {
		o := orgPlan{salt: r.next()}
		o.org = costexplorer.Organization{
			ID:        costexplorer.DeriveID("demo", p.seed, "org", strconv.Itoa(i)),
			Name:      names[i],
			CreatedAt: windowStart.AddDate(0, 0, -30-r.intn(700)).Add(timeOfDay(r)),
		}
		if i >= 1 && i <= p.linked {
			o.org.PayingOrgID = p.orgs[0].org.ID
		}
		o.uses = p.orgUses(r, i)
		p.orgs = append(p.orgs, o)
	}

	// Projects, contiguous per organization.
	for oi := range p.orgs {
		lo := len(p.projects)
		pnames := projectNames(r, perOrg[oi])
		for j := 0; j < perOrg[oi]; j++ {
			pp := projectPlan{org: oi, salt: r.next()}
			pp.project = costexplorer.Project{
				ID:    costexplorer.DeriveID("demo", p.seed, "project", strconv.Itoa(len(p.projects))),
				OrgID: p.orgs[oi].org.ID,
				Name:  pnames[j],
			}
			if j > 0 && !r.percent(70) {
				pp.first = r.intn(max(1, nDays*4/5))
			}
			p.projects = append(p.projects, pp)
		}
		p.orgs[oi].projects = span{lo, len(p.projects)}
	}

	// Clusters: every project but the app-only ones has one, the rest go to
	// projects drawn with skewed weights, so some projects are big.
	counts := make([]int, len(p.projects))
	pw := make([]int64, len(p.projects))
	appOnly := make([]bool, len(p.projects))
	left := nClusters
	for j := range p.projects {
		appOnly[j] = j%11 == 10
		if !appOnly[j] && left > 0 {
			counts[j]++
			left--
		}
		k := r.between(1, 8)
		pw[j] = k * k
		if appOnly[j] {
			pw[j] = 0
		}
	}
	cum := make([]int64, len(pw))
	var total int64
	for j, w := range pw {
		total += w
		cum[j] = total
	}
	for ; left > 0 && total > 0; left-- {
		x := int64(r.next() % uint64(total))
		lo, hi := 0, len(cum)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cum[mid] > x {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		counts[lo]++
	}
	for j := range p.projects {
		pp := &p.projects[j]
		prov := providerFor(r)
		lo := len(p.clusters)
		used := map[string]bool{}
		for k := 0; k < counts[j]; k++ {
			p.clusters = append(p.clusters, p.newCluster(r, j, prov, used))
		}
		pp.clusters = span{lo, len(p.clusters)}
		pp.uses = p.projectUses(r, j, prov, appOnly[j] || counts[j] == 0)
	}
	return p
}

// buildDays lays out the window: cfg.Months whole months ending with the
// month of cfg.Now, cut at Now's day.
func (p *plan) buildDays() {
	last := costexplorer.DayOf(p.cfg.Now)
	start := costexplorer.DayOf((costexplorer.MonthOf(p.cfg.Now) - costexplorer.Month(p.cfg.Months-1)).Start())
	p.firsts = append(p.firsts, 0)
	p.appendDays(start, last)
	p.planned = len(p.days)
}

// appendDays adds the days from start to last to the window.
func (p *plan) appendDays(start, last costexplorer.Day) {
	for d := start; d <= last; d++ {
		t := d.Time()
		season := int64(65536)
		switch t.Weekday() {
		case 6: // Saturday
			season = 65536 * 62 / 100
		case 0: // Sunday
			season = 65536 * 55 / 100
		case 1: // Monday peaks
			season = 65536 * 108 / 100
		}
		di := dayInfo{day: d, str: d.String(), first: t.Day() == 1, season: season}
		p.days = append(p.days, di)
		n := p.firsts[len(p.firsts)-1]
		if di.first {
			n++
		}
		p.firsts = append(p.firsts, n)
	}
}

// tiers are the dedicated tiers with their weight, disk range (GB) and
// typical traffic (GB a day).
var tiers = []struct {
	name             string
	weight           int
	diskLo, diskHi   int64
	trafficLo, trafH int64
}{
	{"M10", 30, 10, 40, 1, 6},
	{"M20", 20, 20, 80, 2, 12},
	{"M30", 20, 40, 200, 5, 40},
	{"M40", 12, 80, 400, 10, 90},
	{"M50", 8, 160, 1000, 20, 200},
	{"M60", 6, 320, 2000, 40, 400},
	{"M80", 4, 750, 4000, 80, 900},
}

func providerFor(r *rng) string {
	switch x := r.intn(100); {
	case x < 60:
		return "AWS"
	case x < 82:
		return "GCP"
	default:
		return "AZURE"
	}
}

func (p *plan) newCluster(r *rng, project int, prov string, used map[string]bool) clusterPlan {
	pp := &p.projects[project]
	k := len(p.clusters)
	nDays := len(p.days)
	if r.percent(15) {
		prov = providerFor(r)
	}
	c := clusterPlan{org: pp.org, project: project, salt: r.next(), last: nDays - 1}
	c.first = pp.first
	if !r.percent(65) {
		c.first = pp.first + r.intn(max(1, nDays-pp.first))
	}
	if (r.percent(10) || k == 3) && c.first+14 < nDays-1 {
		c.last = c.first + 14 + r.intn(nDays-1-c.first-14)
		c.deleted = true
	}

	// Cluster 1 is serverless and cluster 2 flex at every size, so the
	// smallest dataset still shows every kind; beyond that, a few percent each.
	tier := ""
	switch {
	case k == 1 || k%29 == 7:
		tier = "SERVERLESS"
	case k == 2 || k%31 == 11:
		tier = "FLEX"
	default:
		x := r.intn(100)
		for _, t := range tiers {
			if x < t.weight {
				tier = t.name
				break
			}
			x -= t.weight
		}
	}
	c.cluster = costexplorer.Cluster{
		ID:        costexplorer.DeriveID("demo", p.seed, "cluster", strconv.Itoa(k)),
		ProjectID: pp.project.ID,
		Name:      clusterName(r, prov, used),
		Provider:  prov,
		Tier:      tier,
	}
	c.uses = p.clusterUses(r, prov, tier)
	return c
}

func (p *plan) clusterUses(r *rng, prov, tier string) []use {
	s := p.skus
	growth := r.between(0, 120) // up to about +100% over 20 months
	switch tier {
	case "SERVERLESS":
		return []use{
			{s.provider(prov, "SERVERLESS_RPU"), qtySeasonal, r.between(500, 20_000), growth},
			{s.provider(prov, "SERVERLESS_WPU"), qtySeasonal, r.between(50, 2_000), growth},
			{s.provider(prov, "SERVERLESS_STORAGE"), qtyGrowing, r.between(1_000, 50_000), growth},
			{s.provider(prov, "DATA_TRANSFER_INTERNET"), qtySeasonal, r.between(100, 5_000), growth},
		}
	case "FLEX":
		return []use{{s.provider(prov, "FLEX_INSTANCE"), qtyFixed, 1000, 0}}
	}
	ti := 0
	for i, t := range tiers {
		if t.name == tier {
			ti = i
		}
	}
	t := tiers[ti]
	nodes := int64(3)
	if ti >= 3 && r.percent(20) {
		nodes = 5
	}
	disk := r.between(t.diskLo, t.diskHi)
	us := []use{
		{s.provider(prov, "INSTANCE_"+tier), qtyHours, nodes * 1000, 0},
		{s.provider(prov, "STORAGE_STANDARD"), qtyGrowing, disk * nodes * 1000 / 30, growth},
		{s.provider(prov, "DATA_TRANSFER_SAME_REGION"), qtySeasonal, r.between(t.trafficLo, t.trafH) * 1000, growth},
		{s.provider(prov, "DATA_TRANSFER_INTERNET"), qtySeasonal, r.between(t.trafficLo, t.trafH) * 150, growth},
	}
	backup := r.percent(80)
	if backup {
		us = append(us, use{s.provider(prov, "BACKUP_SNAPSHOT_STORAGE"), qtyGrowing, disk * r.between(1000, 3000), growth})
	}
	if backup && ti >= 2 && r.percent(40) {
		us = append(us, use{s.provider(prov, "PIT_RESTORE_STORAGE"), qtyGrowing, disk * r.between(200, 800), growth})
	}
	if r.percent(60) {
		us = append(us, use{s.provider(prov, "DATA_TRANSFER_DIFFERENT_REGION"), qtySeasonal, r.between(t.trafficLo, t.trafH) * 400, growth})
	}
	if ti >= 2 && r.percent(8) {
		us = append(us, use{s.provider(prov, "BI_CONNECTOR"), qtyHours, 1000, 0})
	}
	if prov == "AWS" && ti >= 4 && r.percent(30) {
		us = append(us, use{s.provider(prov, "STORAGE_IOPS"), qtyGrowing, r.between(3, 12) * 1000 * 1000 / 30, 0})
	}
	return us
}

// The first projects show every project-level service at every size.
func (p *plan) projectUses(r *rng, k int, prov string, appOnly bool) []use {
	s := p.skus
	growth := r.between(0, 150)
	var us []use
	if appOnly || r.percent(45) || k == 0 {
		us = append(us,
			use{s.must("REALM_APP_REQUESTS"), qtySeasonal, r.between(100_000, 3_000_000) * 1000, growth},
			use{s.must("REALM_APP_COMPUTE"), qtySeasonal, r.between(5, 200) * 1000, growth},
			use{s.must("REALM_APP_DATA_TRANSFER"), qtySeasonal, r.between(500, 40_000), growth},
		)
	}
	if r.percent(25) || k == 0 {
		us = append(us, use{s.must("CHARTS_DATA_DOWNLOADED"), qtySeasonal, r.between(100, 3_000), growth})
	}
	if r.percent(15) || k == 1 {
		us = append(us,
			use{s.provider(prov, "DATA_FEDERATION_DATA_SCANNED"), qtySeasonal, r.between(10, 500), growth},
			use{s.provider(prov, "DATA_FEDERATION_DATA_RETURNED"), qtySeasonal, r.between(1_000, 50_000), growth},
		)
	}
	if r.percent(10) || k == 2 {
		size := "SP10"
		if r.percent(40) {
			size = "SP30"
		}
		us = append(us,
			use{s.provider(prov, "STREAM_PROCESSING_INSTANCE_"+size), qtyHours, r.between(1, 3) * 1000, 0},
			use{s.provider(prov, "STREAM_PROCESSING_DATA_TRANSFER"), qtySeasonal, r.between(1_000, 30_000), growth},
		)
	}
	if r.percent(10) {
		us = append(us, use{s.must("ATLAS_ADVANCED_SECURITY"), qtyMonthly, 1000, 0})
	}
	if r.percent(5) {
		us = append(us, use{s.must("ATLAS_ENTERPRISE_AUDITING"), qtyMonthly, 1000, 0})
	}
	return us
}

// orgUses are the organization-level charges: a support plan for every
// organization and monthly credits for some. They carry no project or
// cluster, so they are the partial matches of project and cluster filters.
func (p *plan) orgUses(r *rng, i int) []use {
	s := p.skus
	var us []use
	switch {
	case i == 0:
		us = append(us, use{s.must("ATLAS_SUPPORT_ENTERPRISE"), qtyMonthly, 1000, 0})
		us = append(us, use{s.must("CREDIT"), qtyMonthly, r.between(10, 30) * 100 * 1000, 0})
	case i <= p.linked || i%2 == 1:
		us = append(us, use{s.must("ATLAS_SUPPORT_PRO"), qtyMonthly, 1000, 0})
	default:
		us = append(us, use{s.must("ATLAS_SUPPORT_DEVELOPER"), qtyMonthly, 1000, 0})
	}
	if i > 0 && i%4 == 3 {
		us = append(us, use{s.must("ATLAS_PROMOTIONAL_CREDIT"), qtyMonthly, r.between(1, 5) * 100 * 1000, 0})
	}
	return us
}

// count returns the exact number of line items Generate emits for the plan,
// without generating them.
func (p *plan) count() int64 {
	last := len(p.days) - 1
	var n int64
	for i := range p.orgs {
		n += p.countUses(p.orgs[i].uses, 0, last)
	}
	for i := range p.projects {
		n += p.countUses(p.projects[i].uses, p.projects[i].first, last)
	}
	for i := range p.clusters {
		n += p.countUses(p.clusters[i].uses, p.clusters[i].first, p.clusters[i].last)
	}
	return n
}

func (p *plan) countUses(us []use, first, last int) int64 {
	var n int64
	for _, u := range us {
		if u.model == qtyMonthly {
			n += int64(p.firsts[last+1] - p.firsts[first])
		} else {
			n += int64(last - first + 1)
		}
	}
	return n
}

// apportion splits total into len(weights) parts proportional to weights,
// each at least minEach (when total allows), with integer arithmetic.
func apportion(total int, weights []int64, minEach int) []int {
	out := make([]int, len(weights))
	left := total
	for i := range out {
		if left >= minEach {
			out[i] = minEach
			left -= minEach
		}
	}
	var sum int64
	for _, w := range weights {
		sum += w
	}
	given := 0
	for i, w := range weights {
		k := int(int64(left) * w / sum)
		out[i] += k
		given += k
	}
	for i := 0; given < left; i = (i + 1) % len(out) {
		out[i]++
		given++
	}
	return out
}
