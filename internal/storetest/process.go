package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// newProcess returns a pending process of orgID created at created, with a
// token derived from n.
func newProcess(orgID string, n int, created time.Time) *costexplorer.QueryProcess {
	q := costexplorer.Query{
		OrgID: orgID, Start: costexplorer.MonthOf(t0) - 3, End: costexplorer.MonthOf(t0),
		Services: []costexplorer.Service{costexplorer.ServiceClusters}, GroupBy: costexplorer.GroupByServices,
	}
	return &costexplorer.QueryProcess{
		Token:     q.Token(int64(n)),
		OrgID:     orgID,
		Query:     q,
		State:     costexplorer.ProcessPending,
		CreatedAt: created,
		ReadyAt:   created.Add(2 * time.Second),
		ExpiresAt: created.Add(24 * time.Hour),
	}
}

func createProcess(t *testing.T, s costexplorer.Store, p *costexplorer.QueryProcess) *costexplorer.QueryProcess {
	t.Helper()
	got, err := s.CreateProcess(t.Context(), p)
	must(t, err)
	return got
}

func claim(t *testing.T, s costexplorer.Store, owner string, now time.Time) *costexplorer.QueryProcess {
	t.Helper()
	p, err := s.ClaimProcess(t.Context(), owner, now, 30*time.Second)
	if err != nil {
		t.Fatalf("ClaimProcess(%s, %s): %v", owner, now, err)
	}
	return p
}

func sameQuery(a, b *costexplorer.Query) bool {
	x, _ := a.MarshalJSON()
	y, _ := b.MarshalJSON()
	return bytes.Equal(x, y)
}

func testProcesses(t *testing.T, open Opener) {
	org, other := orgID(0), orgID(1)

	t.Run("CreateThenGetReturnsIt", func(t *testing.T) {
		s := open(t)
		p := newProcess(org, 1, t0)
		got := createProcess(t, s, p)
		for _, g := range []*costexplorer.QueryProcess{got, func() *costexplorer.QueryProcess {
			g, err := s.Process(t.Context(), org, p.Token, t0)
			must(t, err)
			return g
		}()} {
			if g.Token != p.Token || g.OrgID != org || g.State != costexplorer.ProcessPending || !sameQuery(&g.Query, &p.Query) ||
				!g.CreatedAt.Equal(t0.Truncate(time.Microsecond)) || !g.ReadyAt.Equal(p.ReadyAt.Truncate(time.Microsecond)) ||
				!g.ExpiresAt.Equal(p.ExpiresAt.Truncate(time.Microsecond)) || g.Attempts != 0 || g.LeaseOwner != "" {
				t.Fatalf("process = %+v, want %+v", g, p)
			}
		}
	})

	t.Run("SameTokenReturnsTheLiveProcess", func(t *testing.T) {
		s := open(t)
		p := newProcess(org, 1, t0)
		createProcess(t, s, p)
		again := newProcess(org, 1, t0.Add(time.Minute))
		got := createProcess(t, s, again)
		if !got.CreatedAt.Equal(t0.Truncate(time.Microsecond)) {
			t.Fatalf("second create returned a process created at %s, want the first (%s)", got.CreatedAt, t0)
		}
		counts, err := s.ProcessCounts(t.Context())
		must(t, err)
		if counts[costexplorer.ProcessPending] != 1 {
			t.Fatalf("counts %v, want one pending", counts)
		}
	})

	t.Run("SameTokenReplacesExpiredOrFailed", func(t *testing.T) {
		s := open(t)
		p := newProcess(org, 1, t0)
		createProcess(t, s, p)
		later := newProcess(org, 1, t0.Add(25*time.Hour)) // after p expired
		if got := createProcess(t, s, later); !got.CreatedAt.Equal(later.CreatedAt.Truncate(time.Microsecond)) || got.State != costexplorer.ProcessPending {
			t.Fatalf("create over an expired process returned %+v, want the new one", got)
		}
		now := later.CreatedAt
		c := claim(t, s, "w1", now)
		must(t, s.FailProcess(t.Context(), c.Token, "w1", "boom", now))
		again := newProcess(org, 1, now.Add(time.Second))
		if got := createProcess(t, s, again); got.State != costexplorer.ProcessPending || got.Attempts != 0 {
			t.Fatalf("create over a failed process returned %+v, want a fresh pending one", got)
		}
	})

	t.Run("ForeignExpiredOrUnknownIsNotFound", func(t *testing.T) {
		s := open(t)
		p := createProcess(t, s, newProcess(org, 1, t0))
		_, err := s.Process(t.Context(), other, p.Token, t0)
		wantCode(t, err, costexplorer.ErrNotFound)
		_, err = s.Process(t.Context(), org, p.Token, t0.Add(25*time.Hour))
		wantCode(t, err, costexplorer.ErrNotFound)
		_, err = s.Process(t.Context(), org, newProcess(org, 2, t0).Token, t0)
		wantCode(t, err, costexplorer.ErrNotFound)
	})

	t.Run("NothingToClaimIsNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.ClaimProcess(t.Context(), "w1", t0, time.Minute)
		wantCode(t, err, costexplorer.ErrNotFound)
	})

	t.Run("ClaimTakesOldestFirst", func(t *testing.T) {
		s := open(t)
		newer := createProcess(t, s, newProcess(org, 1, t0.Add(time.Second)))
		older := createProcess(t, s, newProcess(org, 2, t0))
		now := t0.Add(time.Minute)
		if got := claim(t, s, "w1", now); got.Token != older.Token {
			t.Fatalf("first claim took %s, want the older %s", got.Token, older.Token)
		}
		got := claim(t, s, "w1", now)
		if got.Token != newer.Token || got.State != costexplorer.ProcessRunning || got.LeaseOwner != "w1" ||
			got.Attempts != 1 || !got.LeaseExpires.Equal(now.Add(30*time.Second).Truncate(time.Microsecond)) {
			t.Fatalf("second claim = %+v", got)
		}
	})

	t.Run("EachProcessIsClaimedOnceUnderConcurrency", func(t *testing.T) {
		s := open(t)
		const processes, claimers = 40, 20
		for i := range processes {
			createProcess(t, s, newProcess(org, i, t0.Add(time.Duration(i)*time.Millisecond)))
		}
		now := t0.Add(time.Minute)
		var claims Claims
		AtOnce(t, claimers, "ClaimProcess", func(c int) error {
			return Drain(&claims, fmt.Sprintf("w%d", c), func(owner string) (*costexplorer.QueryProcess, error) {
				return s.ClaimProcess(t.Context(), owner, now, time.Minute)
			}, func(p *costexplorer.QueryProcess) string { return p.Token })
		})
		claims.Check(t, "process", processes)
		counts, err := s.ProcessCounts(t.Context())
		must(t, err)
		if counts[costexplorer.ProcessRunning] != processes || counts[costexplorer.ProcessPending] != 0 {
			t.Fatalf("counts %v, want %d running", counts, processes)
		}
	})

	t.Run("LapsedLeaseIsReclaimedAndTheLoserConflicts", func(t *testing.T) {
		s := open(t)
		p := createProcess(t, s, newProcess(org, 1, t0))
		a := claim(t, s, "a", t0)
		if _, err := s.ClaimProcess(t.Context(), "b", t0.Add(29*time.Second), 30*time.Second); !costexplorer.IsNotFound(err) {
			t.Fatalf("claim under a live lease: %v, want not found", err)
		}
		b := claim(t, s, "b", t0.Add(31*time.Second))
		if b.Token != a.Token || b.Attempts != 2 || b.LeaseOwner != "b" {
			t.Fatalf("reclaim = %+v, want %s by b with 2 attempts", b, a.Token)
		}
		done := t0.Add(40 * time.Second)
		wantCode(t, s.FinishProcess(t.Context(), p.Token, "a", []byte(`{"usageDetails":[]}`), done), costexplorer.ErrConflict)
		wantCode(t, s.FailProcess(t.Context(), p.Token, "a", "late", done), costexplorer.ErrConflict)
		result := []byte(`{"usageDetails":[{"usageDate":"2025-01-01","usageAmount":1.00}]}`)
		must(t, s.FinishProcess(t.Context(), p.Token, "b", result, done))
		got, err := s.Process(t.Context(), org, p.Token, done)
		must(t, err)
		if got.State != costexplorer.ProcessDone || !bytes.Equal(got.Result, result) || !got.CompletedAt.Equal(done) || got.LeaseOwner != "" {
			t.Fatalf("finished process = %+v", got)
		}
		wantCode(t, s.FinishProcess(t.Context(), p.Token, "b", result, done), costexplorer.ErrConflict)
		if _, err := s.ClaimProcess(t.Context(), "c", done.Add(time.Hour), time.Minute); !costexplorer.IsNotFound(err) {
			t.Fatalf("claim of a done process: %v, want not found", err)
		}
	})

	t.Run("ResultsOfEverySizeComeBackAsStored", func(t *testing.T) {
		// Large results are stored compressed (sqlstore); what comes back
		// is the bytes given, around the size where that starts.
		s := open(t)
		for i, n := range []int{0, 1, 64<<10 - 1, 64 << 10, 64<<10 + 1, 3 << 20} {
			p := createProcess(t, s, newProcess(org, 100+i, t0))
			claimed := claim(t, s, "a", t0)
			if claimed.Token != p.Token {
				t.Fatalf("claimed %s, want %s", claimed.Token, p.Token)
			}
			result := make([]byte, 0, n)
			for j := 0; len(result) < n; j++ {
				result = fmt.Appendf(result, `{"usageDate":"2025-%02d-01","usageAmount":%d.%02d},`, 1+j%12, j*7919%100000, j%100)
			}
			result = result[:n]
			must(t, s.FinishProcess(t.Context(), p.Token, "a", result, t0.Add(time.Second)))
			got, err := s.Process(t.Context(), org, p.Token, t0.Add(2*time.Second))
			must(t, err)
			if got.State != costexplorer.ProcessDone || !bytes.Equal(got.Result, result) {
				t.Fatalf("result of %d bytes came back as %d bytes (state %s)", n, len(got.Result), got.State)
			}
		}
	})

	t.Run("FailedProcessIsReturnedWithItsMessage", func(t *testing.T) {
		s := open(t)
		p := createProcess(t, s, newProcess(org, 1, t0))
		claim(t, s, "a", t0)
		must(t, s.FailProcess(t.Context(), p.Token, "a", "evaluator exploded", t0.Add(time.Second)))
		got, err := s.Process(t.Context(), org, p.Token, t0.Add(2*time.Second))
		must(t, err)
		if got.State != costexplorer.ProcessFailed || got.Error != "evaluator exploded" {
			t.Fatalf("failed process = %+v", got)
		}
		if _, err := s.ClaimProcess(t.Context(), "b", t0.Add(time.Hour), time.Minute); !costexplorer.IsNotFound(err) {
			t.Fatalf("claim of a failed process: %v, want not found", err)
		}
	})

	t.Run("ReleasedLeasesAreClaimableAtOnce", func(t *testing.T) {
		s := open(t)
		for i := range 3 {
			createProcess(t, s, newProcess(org, i, t0.Add(time.Duration(i)*time.Second)))
		}
		mine := []string{claim(t, s, "a", t0).Token, claim(t, s, "a", t0).Token}
		theirs := claim(t, s, "b", t0).Token
		must(t, s.ReleaseLeases(t.Context(), "a"))
		var reclaimed []string
		for range 2 {
			p := claim(t, s, "c", t0.Add(time.Second))
			if p.Attempts != 2 {
				t.Fatalf("reclaimed process has %d attempts, want 2", p.Attempts)
			}
			reclaimed = append(reclaimed, p.Token)
		}
		slices.Sort(mine)
		slices.Sort(reclaimed)
		if !slices.Equal(mine, reclaimed) {
			t.Fatalf("reclaimed %v, want the released %v", reclaimed, mine)
		}
		must(t, s.FinishProcess(t.Context(), theirs, "b", []byte("{}"), t0.Add(2*time.Second)))
	})

	t.Run("ExpiredProcessesAreDeleted", func(t *testing.T) {
		s := open(t)
		for i := range 3 {
			p := newProcess(org, i, t0)
			p.ExpiresAt = t0.Add(time.Duration(i+1) * time.Hour)
			createProcess(t, s, p)
		}
		n, err := s.DeleteExpiredProcesses(t.Context(), t0.Add(150*time.Minute))
		must(t, err)
		if n != 2 {
			t.Fatalf("deleted %d, want 2", n)
		}
		counts, err := s.ProcessCounts(t.Context())
		must(t, err)
		if counts[costexplorer.ProcessPending] != 1 {
			t.Fatalf("counts after deletion %v, want one pending", counts)
		}
		if _, err := s.ClaimProcess(t.Context(), "a", t0.Add(4*time.Hour), time.Minute); !costexplorer.IsNotFound(err) {
			t.Fatalf("claim of an expired process: %v, want not found", err)
		}
	})
}
