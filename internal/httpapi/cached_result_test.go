package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"
)

// A done result is served from the runner's cache, shared by every request
// for its token: answering must not write into its bytes, not even into the
// spare capacity behind them (concurrent answers would race there, and a
// result backed by a larger buffer would be corrupted).
func TestUsageDoesNotWriteIntoCachedResult(t *testing.T) {
	e := newEnv(t, options{})
	token := e.create(e.Org, `{"startDate":"2025-01-01","endDate":"2025-06-01","groupBy":"organizations","organizations":["`+e.Org+`"]}`)
	e.waitReady(e.Org, token)

	p, err := e.Runner.Usage(context.Background(), e.Org, token)
	if err != nil {
		t.Fatalf("usage: %v", err)
	}
	// Give the cached result spare capacity filled with a sentinel, so that
	// a write past its length shows.
	full := make([]byte, len(p.Result), len(p.Result)+64)
	copy(full, p.Result)
	for i := len(full); i < cap(full); i++ {
		full[:cap(full)][i] = 'x'
	}
	p.Result = full
	want := bytes.Clone(full[:cap(full)])

	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+token, ""))
			if res.status != http.StatusOK {
				t.Errorf("get: %d %s", res.status, res.body)
			}
		}()
	}
	wg.Wait()
	if got := full[:cap(full)]; !bytes.Equal(got, want) {
		t.Errorf("serving the result wrote into the cached process's bytes: tail %q, want %q", got[len(full):], want[len(full):])
	}
}
