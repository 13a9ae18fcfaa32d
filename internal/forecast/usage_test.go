package forecast_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/forecast"
)

// naive answers UsageQueries with the reference evaluation over facts,
// counting the queries and the days they read.
type naive struct {
	scope   []string
	facts   []costexplorer.UsageFact
	queries []costexplorer.UsageQuery
}

func (n *naive) EvaluateUsage(_ context.Context, q *costexplorer.UsageQuery) ([]costexplorer.UsageRow, error) {
	n.queries = append(n.queries, *q)
	if q.OrgID != n.scope[0] {
		return nil, costexplorer.Errorf(costexplorer.ErrNotFound, "no organization %s", q.OrgID)
	}
	return costexplorer.EvaluateUsageNaive(q, n.scope, n.facts, nil), nil
}

func demoFacts(t testing.TB) *naive {
	t.Helper()
	cfg := demo.Config{Seed: 7, LineItems: 20000, Months: 12, Now: time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)}
	l := demo.Describe(cfg)
	n := &naive{scope: []string{l.PayingOrg.ID}}
	for _, o := range l.Linked {
		n.scope = append(n.scope, o.ID)
	}
	err := demo.Generate(context.Background(), cfg, func(b *costexplorer.UsageBatch) error {
		for i := range b.Items {
			n.facts = append(n.facts, costexplorer.FactOf(&b.Items[i]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUsage(t *testing.T) {
	ev := demoFacts(t)
	ctx := context.Background()
	asOf := day(t, "2025-06-15")
	q := &costexplorer.UsageForecastQuery{OrgID: ev.scope[0], AsOf: asOf, Since: day(t, "2024-07-01")}

	total, err := forecast.Usage(ctx, ev, q)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("ReadsOneDailyQueryOfTheHistory", func(t *testing.T) {
		if len(ev.queries) != 1 {
			t.Fatalf("%d queries, want 1", len(ev.queries))
		}
		got := ev.queries[0]
		if got.Granularity != costexplorer.Daily || got.Start != q.Since || got.End != asOf {
			t.Errorf("query %+v, want DAILY from %s to %s", got, q.Since, asOf)
		}
	})
	t.Run("TotalIsTheForecastOfTheDailyTotals", func(t *testing.T) {
		s := forecast.Series{Start: q.Since, Days: make([]costexplorer.Cents, asOf-q.Since)}
		for _, f := range ev.facts {
			if f.Date >= q.Since && f.Date < asOf && slices.Contains(ev.scope, f.OrgID) {
				s.Days[f.Date-q.Since] += f.Amount
			}
		}
		want := forecast.Forecast(s, asOf, forecast.Options{})
		if len(total.Results) != 1 || len(total.Results[0].Groups) != 0 {
			t.Fatalf("results %+v, want one total", total.Results)
		}
		got := total.Results[0].Months
		if len(got) != 1+costexplorer.ForecastMonths {
			t.Fatalf("%d months, want %d", len(got), 1+costexplorer.ForecastMonths)
		}
		for i, m := range want {
			g := got[i]
			if g.Month != m.Month || g.Amount != m.Point || g.Lower != m.Lower || g.Upper != m.Upper || g.ActualToDate != m.Actual {
				t.Errorf("month %d: %+v, want %+v", i, g, m)
			}
		}
		if total.AsOf != asOf || total.Coverage != 0.8 {
			t.Errorf("asOf %s coverage %v, want %s and 0.8", total.AsOf, total.Coverage, asOf)
		}
	})
	t.Run("GroupsSplitTheActualExactly", func(t *testing.T) {
		q := *q
		q.GroupBy = []costexplorer.Dimension{costexplorer.DimServices}
		got, err := forecast.Usage(ctx, ev, &q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Results) < 3 {
			t.Fatalf("%d services, want several", len(got.Results))
		}
		var actual costexplorer.Cents
		var names []string
		for _, r := range got.Results {
			actual += r.Months[0].ActualToDate
			g, ok := r.Groups[costexplorer.DimServices]
			if !ok || g.ID == "" {
				t.Errorf("result without its service: %+v", r.Groups)
			}
			names = append(names, g.Name)
		}
		if want := total.Results[0].Months[0].ActualToDate; actual != want {
			t.Errorf("services' actual to date add up to %d, the total's is %d", actual, want)
		}
		if !slices.IsSorted(names) {
			t.Errorf("services not in name order: %v", names)
		}
	})
	t.Run("FilterIsPassedOn", func(t *testing.T) {
		q := *q
		q.Filter = &costexplorer.Filter{Dimension: costexplorer.DimServices, In: []string{"No such service"}}
		got, err := forecast.Usage(ctx, ev, &q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Results) != 1 || got.Results[0].Months[0] != (costexplorer.MonthForecast{Month: asOf.Month()}) {
			t.Errorf("a filter matching nothing: %+v, want a zero total", got.Results)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		q := *q
		q.OrgID = "000000000000000000000000"
		if _, err := forecast.Usage(ctx, ev, &q); costexplorer.ErrorCode(err) != costexplorer.ErrNotFound {
			t.Errorf("unknown organization: %v, want the evaluator's not found", err)
		}
	})
}
