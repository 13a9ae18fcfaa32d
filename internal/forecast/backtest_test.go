package forecast_test

import (
	"context"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/forecast"
)

// demoConfig is the dataset `costexplorer demo` loads by default (seed 1,
// its default size and months), pinned to a day.
var demoConfig = demo.Config{Seed: 1, Now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}

// demoSeries returns the demo's daily totals: the paying organization's
// (with its linked organizations, as its cost explorer counts them), and
// the same split by service.
func demoSeries(t testing.TB, cfg demo.Config) (total forecast.Series, byService map[costexplorer.Service]forecast.Series) {
	t.Helper()
	l := demo.Describe(cfg)
	scope := map[string]bool{l.PayingOrg.ID: true}
	for _, o := range l.Linked {
		scope[o.ID] = true
	}
	n := int(l.LastDay-l.FirstDay) + 1
	total = forecast.Series{Start: l.FirstDay, Days: make([]costexplorer.Cents, n)}
	byService = map[costexplorer.Service]forecast.Series{}
	err := demo.Generate(context.Background(), cfg, func(b *costexplorer.UsageBatch) error {
		for i := range b.Items {
			li := &b.Items[i]
			if !scope[li.OrgID] {
				continue
			}
			total.Days[li.Date-l.FirstDay] += li.Amount
			s, ok := byService[li.Service]
			if !ok {
				s = forecast.Series{Start: l.FirstDay, Days: make([]costexplorer.Cents, n)}
				byService[li.Service] = s
			}
			s.Days[li.Date-l.FirstDay] += li.Amount
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total, byService
}

// TestBacktestDemo keeps the method's accuracy on the demo history from
// regressing: month-end forecasts made on day 10 of every month with enough
// history. docs/forecast.md quotes the figures it logs (go test -v -run
// TestBacktestDemo ./internal/forecast/).
func TestBacktestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the default demo dataset")
	}
	total, byService := demoSeries(t, demoConfig)
	b := forecast.RunBacktest(total, 10, 0, forecast.Options{})
	for _, m := range b.Months {
		f := m.Forecast
		t.Logf("%s: actual %s, forecast %s [%s, %s] (%.1f %%)", f.Month, m.Total, f.Point, f.Lower, f.Upper, 100*m.APE)
	}
	t.Logf("total: %d months, median APE %.2f %%, 80 %% interval coverage %.0f %%", len(b.Months), 100*b.MedianAPE, 100*b.Coverage)
	if len(b.Months) < 12 {
		t.Errorf("%d months tested, want at least 12 of the demo's 20", len(b.Months))
	}
	if b.MedianAPE > 0.10 {
		t.Errorf("median APE %.3f, want at most 0.10 (the target is 0.05)", b.MedianAPE)
	}
	if b.Coverage < 0.5 || b.Coverage == 1 && len(b.Months) > 20 {
		t.Errorf("80 %% interval coverage %.2f, want between 0.5 and 1", b.Coverage)
	}
	for ahead := 1; ahead <= 3; ahead++ {
		b := forecast.RunBacktest(total, 10, ahead, forecast.Options{})
		t.Logf("total, %d month(s) ahead: %d months, median APE %.2f %%, coverage %.0f %%", ahead, len(b.Months), 100*b.MedianAPE, 100*b.Coverage)
		if b.MedianAPE > 0.15 || len(b.Months) < 10 {
			t.Errorf("%d month(s) ahead: %d months, median APE %.3f, want at most 0.15", ahead, len(b.Months), b.MedianAPE)
		}
	}
	for svc, s := range byService {
		b := forecast.RunBacktest(s, 10, 0, forecast.Options{})
		t.Logf("%s: %d months, median APE %.2f %%, coverage %.0f %%", svc, len(b.Months), 100*b.MedianAPE, 100*b.Coverage)
	}
}
