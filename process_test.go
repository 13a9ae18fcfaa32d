package costexplorer

import (
	"testing"
	"time"
)

func TestQueryProcessStatus(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		state   ProcessState
		readyAt time.Time
		want    QueryStatus
	}{
		{"PendingIsProcessing", ProcessPending, now.Add(-time.Minute), QueryProcessing},
		{"RunningIsProcessing", ProcessRunning, now.Add(-time.Minute), QueryProcessing},
		{"DoneBeforeReadyAtIsProcessing", ProcessDone, now.Add(time.Second), QueryProcessing},
		{"DoneAtReadyAtIsReady", ProcessDone, now, QueryReady},
		{"DoneAfterReadyAtIsReady", ProcessDone, now.Add(-time.Second), QueryReady},
		{"FailedIsFailed", ProcessFailed, now.Add(time.Hour), QueryFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &QueryProcess{State: tc.state, ReadyAt: tc.readyAt}
			if got := p.Status(now); got != tc.want {
				t.Errorf("Status = %s, want %s", got, tc.want)
			}
		})
	}
}
