package web

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/golden"
)

// goldenRows is the fixed small dataset of the golden chart: grouped by
// services, three months; a credit (negative) in February and, in March,
// more services than the chart shows, so that "Other" appears.
func goldenRows() (costexplorer.GroupBy, []costexplorer.Month, []costexplorer.Row) {
	const org, name = "5f1e4a0b9c8d7e6f5a4b3c2d", "Acme <R&D>"
	months := []costexplorer.Month{costexplorer.MakeMonth(2025, 1), costexplorer.MakeMonth(2025, 2), costexplorer.MakeMonth(2025, 3)}
	row := func(m costexplorer.Month, s costexplorer.Service, cents costexplorer.Cents) costexplorer.Row {
		return costexplorer.Row{UsageDate: m.Date(), OrganizationID: org, OrganizationName: name, Service: s, UsageAmount: cents}
	}
	rows := []costexplorer.Row{
		row(months[0], costexplorer.ServiceClusters, 123456),
		row(months[0], costexplorer.ServiceStorage, 50000),
		row(months[0], costexplorer.ServiceSupport, 10000),
		// A linked organization's Clusters: the same service name, told
		// apart by organization (and names that need escaping).
		{UsageDate: months[0].Date(), OrganizationID: "6a2b3c4d5e6f7a8b9c0d1e2f", OrganizationName: "Beta & Co", Service: costexplorer.ServiceClusters, UsageAmount: 33300},
		row(months[1], costexplorer.ServiceClusters, 150000),
		row(months[1], costexplorer.ServiceStorage, 25025),
		row(months[1], costexplorer.ServiceBackup, 7500),
		row(months[1], costexplorer.ServiceCredits, -20000),
	}
	for i, s := range costexplorer.Services[:21] {
		rows = append(rows, row(months[2], s, costexplorer.Cents(1000*(i+1)+7)))
	}
	return costexplorer.GroupByServices, months, rows
}

// goldenChart is the chart of goldenRows, with its series.
func goldenChart(t *testing.T, title, subject string) (*chartModel, []*series) {
	t.Helper()
	g, months, rows := goldenRows()
	ss, err := groupRows(g, months, rows)
	if err != nil {
		t.Fatal(err)
	}
	return buildChart(title, subject, monthPeriods(months), ss, nil), ss
}

func TestChartGolden(t *testing.T) {
	m, _ := goldenChart(t, "Usage per month, Jan 2025 to Mar 2025, grouped by services", "Jan 2025 to Mar 2025, grouped by services")
	svg, err := renderChart(m)
	if err != nil {
		t.Fatal(err)
	}
	got := []byte(svg)
	golden.Check(t, "chart.golden.svg", got)
	// The golden file is a well-formed XML document (a standalone SVG).
	dec := xml.NewDecoder(bytes.NewReader(got))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
	}
}

func TestChartSegments(t *testing.T) {
	m, ss := goldenChart(t, "t", "")
	totals := monthTotals(ss, len(m.Columns))
	for mi, col := range m.Columns {
		var sum int64
		other := 0
		for _, s := range col.Segments {
			sum += s.Cents
			if s.Key == otherKey {
				other++
			}
		}
		if sum != int64(totals[mi]) || col.TotalCents != int64(totals[mi]) {
			t.Errorf("%s: segments sum to %d, total %d; want %d", col.Month, sum, col.TotalCents, totals[mi])
		}
		wantOther := 0
		if mi == 2 {
			wantOther = 1
		}
		if other != wantOther || len(col.Segments) > maxChartGroups+1 {
			t.Errorf("%s: %d segments, %d Other; want at most %d and %d Other", col.Month, len(col.Segments), other, maxChartGroups+1, wantOther)
		}
	}
	// March's two smallest services (1,007 and 2,007 cents) are Other.
	var otherCents int64
	for _, s := range m.Columns[2].Segments {
		if s.Key == otherKey {
			otherCents = s.Cents
		}
	}
	if otherCents != 1007+2007 {
		t.Errorf("Other in March = %d cents, want %d", otherCents, 1007+2007)
	}
	if got := m.Legend[len(m.Legend)-1].Label; got != "Other" {
		t.Errorf("last legend entry %q, want Other", got)
	}
}

func TestGroupRows(t *testing.T) {
	months := []costexplorer.Month{costexplorer.MakeMonth(2025, 5)}
	d := months[0].Date()
	t.Run("OK_DisambiguatesSameName", func(t *testing.T) {
		rows := []costexplorer.Row{
			{UsageDate: d, OrganizationID: "aaaaaaaaaaaaaaaaaaaaaaaa", OrganizationName: "Paying", Service: "Clusters", UsageAmount: 100},
			{UsageDate: d, OrganizationID: "bbbbbbbbbbbbbbbbbbbbbbbb", OrganizationName: "Linked", Service: "Clusters", UsageAmount: 300},
			{UsageDate: d, OrganizationID: "bbbbbbbbbbbbbbbbbbbbbbbb", OrganizationName: "Linked", Service: "Credits", UsageAmount: -500},
		}
		ss, err := groupRows(costexplorer.GroupByServices, months, rows)
		if err != nil {
			t.Fatal(err)
		}
		var labels []string
		for _, s := range ss {
			labels = append(labels, s.Label)
		}
		want := "Credits|Clusters (Linked)|Clusters (Paying)"
		if got := strings.Join(labels, "|"); got != want {
			t.Errorf("labels in rank order = %s, want %s", got, want)
		}
	})
	t.Run("OK_PartialMatchLabel", func(t *testing.T) {
		rows := []costexplorer.Row{{UsageDate: d, OrganizationID: "aaaaaaaaaaaaaaaaaaaaaaaa", UsageAmount: 5}}
		ss, _ := groupRows(costexplorer.GroupByProjects, months, rows)
		if len(ss) != 1 || ss[0].Label != "(no project)" {
			t.Errorf("partial match group = %+v, want label (no project)", ss)
		}
	})
	t.Run("ErrRowOutsideMonths", func(t *testing.T) {
		rows := []costexplorer.Row{{UsageDate: "2024-01-01", UsageAmount: 5}}
		if _, err := groupRows(costexplorer.GroupByProjects, months, rows); err == nil {
			t.Error("a row outside the months was accepted")
		}
	})
}

func TestFormatCompact(t *testing.T) {
	for _, tc := range []struct {
		c     costexplorer.Cents
		short string
	}{
		{0, "$0"},
		{5, "$0.05"},
		{-50, "-$0.50"},
		{2000, "$20"},
		{123456, "$1.2k"},
		{99949, "$999"},
		{100000000, "$1M"},
		{123456789, "$1.2M"},
		{-987654321, "-$9.9M"},
		{45678900, "$457k"},
	} {
		if got := formatCompact(tc.c); got != tc.short {
			t.Errorf("formatCompact(%d) = %q, want %q", tc.c, got, tc.short)
		}
	}
}

func TestNiceStep(t *testing.T) {
	for _, tc := range []struct{ span, want costexplorer.Cents }{
		{0, 100}, {400, 100}, {501, 100}, {800, 200}, {251100, 50000}, {123456, 20000}, {1000000, 200000}, {2600000, 500000}, {4000000, 1000000},
	} {
		if got := niceStep(tc.span); got != tc.want {
			t.Errorf("niceStep(%d) = %d, want %d", tc.span, got, tc.want)
		}
	}
}

// TestChartForecast checks the forecast drawn over the last month of the
// golden rows and the two months after it: future columns with no
// segments, the value axis reaching the highest bound, exact cents in the
// data attributes, and a well-formed SVG (golden).
func TestChartForecast(t *testing.T) {
	g, months, rows := goldenRows()
	ss, err := groupRows(g, months, rows)
	if err != nil {
		t.Fatal(err)
	}
	fc := []costexplorer.MonthForecast{
		{Month: months[2], Amount: 400000, Lower: 380000, Upper: 430000, ActualToDate: 231007},
		{Month: months[2] + 1, Amount: 410000, Lower: 360000, Upper: 470000},
		{Month: months[2] + 2, Amount: 420000, Lower: 340000, Upper: 520000},
	}
	m := buildChart("Usage per month", "", monthPeriods(months), ss, fc)
	if len(m.Columns) != 5 || m.Columns[2].Future || !m.Columns[3].Future || !m.Columns[4].Future {
		t.Fatalf("%d columns, want the 3 months and 2 future ones", len(m.Columns))
	}
	for i, c := range m.Columns {
		switch {
		case i < 2 && c.Forecast != nil:
			t.Errorf("%s has a forecast", c.Month)
		case i >= 2 && (c.Forecast == nil || c.Forecast.Cents != int64(fc[i-2].Amount) || c.Forecast.HighCents != int64(fc[i-2].Upper)):
			t.Errorf("%s: forecast %+v, want %+v", c.Month, c.Forecast, fc[i-2])
		case i >= 3 && (len(c.Segments) != 0 || c.TotalLabel != ""):
			t.Errorf("future %s has segments or a total", c.Month)
		}
	}
	if top := m.Ticks[len(m.Ticks)-1]; top.Label != formatCompact(600000) {
		t.Errorf("axis top %s, want %s (above the highest bound)", top.Label, formatCompact(600000))
	}
	svg, err := renderChart(m)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "chart-forecast.golden.svg", []byte(svg))
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Errorf("not well-formed: %v", err)
	}
}
