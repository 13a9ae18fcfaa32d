package servertest_test

import (
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/internal/servertest"
)

func TestClock(t *testing.T) {
	t.Run("OK_PinnedStandsStillUntilAdvanced", func(t *testing.T) {
		c := servertest.NewClock(servertest.T0)
		time.Sleep(2 * time.Millisecond)
		if got := c.Now(); !got.Equal(servertest.T0) {
			t.Fatalf("Now = %v, want %v", got, servertest.T0)
		}
		c.Advance(time.Hour)
		c.Advance(-time.Minute)
		if got, want := c.Now(), servertest.T0.Add(59*time.Minute); !got.Equal(want) {
			t.Errorf("after Advance: %v, want %v", got, want)
		}
	})
	t.Run("OK_RunningMovesWithRealTime", func(t *testing.T) {
		c := servertest.NewRunningClock(servertest.T0)
		time.Sleep(2 * time.Millisecond)
		if got := c.Now(); !got.After(servertest.T0) || got.After(servertest.T0.Add(time.Minute)) {
			t.Fatalf("Now = %v, want just after %v", got, servertest.T0)
		}
		c.Advance(time.Hour)
		if got := c.Now(); got.Before(servertest.T0.Add(time.Hour)) {
			t.Errorf("after Advance: %v, want at least an hour after %v", got, servertest.T0)
		}
	})
}
