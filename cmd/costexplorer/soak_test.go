package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/client"
)

// soakSettings are the bounds of a soak run. CI runs the short defaults;
// scripts/soak.sh sets COSTEXPLORER_SOAK_DURATION (a Go duration) and
// COSTEXPLORER_SOAK_MAX_REQUESTS for the long run.
func soakSettings(t *testing.T) (time.Duration, int64) {
	t.Helper()
	d, max := 8*time.Second, int64(200_000)
	if s := os.Getenv("COSTEXPLORER_SOAK_DURATION"); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil || v <= 0 {
			t.Fatalf("COSTEXPLORER_SOAK_DURATION=%q: %v", s, err)
		}
		d = v
	}
	if s := os.Getenv("COSTEXPLORER_SOAK_MAX_REQUESTS"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 {
			t.Fatalf("COSTEXPLORER_SOAK_MAX_REQUESTS=%q: %v", s, err)
		}
		max = v
	}
	return d, max
}

// startLive runs `costexplorer args…` in-process on the real clock (so that
// leases, processing delays and the rate limiter's refill all run) and stops
// it when the test ends.
func startLive(t *testing.T, args ...string) *runningServer {
	t.Helper()
	return startMain(t, nil, args...)
}

// soakCounts are the answers of a soak run by class.
type soakCounts struct {
	requests, ok, processing, limited, limitedNoRetryAfter, clientErr, serverErr, transportErr atomic.Int64
}

// reset zeroes the counts (after the warm-up).
func (c *soakCounts) reset() {
	for _, n := range []*atomic.Int64{&c.requests, &c.ok, &c.processing, &c.limited, &c.limitedNoRetryAfter, &c.clientErr, &c.serverErr, &c.transportErr} {
		n.Store(0)
	}
}

// resources is a sample of what the process holds.
type resources struct {
	goroutines int
	fds        int    // file descriptors other than the store's
	storeFDs   int    // file descriptors of the SQLite store's files
	heap       uint64 // bytes in use after a GC
	targets    []string
}

// maxStoreFDs bounds the descriptors the SQLite store may hold however busy
// it was: a database and a write-ahead log file per connection of the read
// pool (max(4, GOMAXPROCS) connections, kept idle once opened), of the
// writer, of the ingest connection and of the two direct connections for
// streams, and the shared-memory index once.
func maxStoreFDs() int { return 2*(max(4, runtime.GOMAXPROCS(0))+1+1+2) + 1 }

func sample() resources {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, _ := os.ReadDir("/proc/self/fd")
	r := resources{goroutines: runtime.NumGoroutine(), heap: ms.HeapInuse}
	for _, fd := range fds {
		l, _ := os.Readlink("/proc/self/fd/" + fd.Name())
		r.targets = append(r.targets, l)
		if strings.Contains(filepath.Base(l), sqliteFile) {
			r.storeFDs++
		} else {
			r.fds++
		}
	}
	return r
}

func (r resources) String() string {
	return fmt.Sprintf("%d goroutines, %d fds (and %d of the store), heap %.1f MiB", r.goroutines, r.fds, r.storeFDs, float64(r.heap)/(1<<20))
}

// TestSoakMixedClients is the bounded load test: on 127.0.0.1 only, for a
// fixed duration and at most a fixed number of requests, two HTTP Digest and
// two service-account (Bearer) clients, three workers each, create queries,
// poll them (envelope JSON), fetch them as CSV, list and read organizations,
// and run into the per-organization rate limiter (capacity 40, 40 a second).
// It proves: no answer is a 5xx or a transport error; every 429 carries
// Retry-After; and after the run, once the clients close their idle
// connections, the process is back to its goroutine and file-descriptor
// counts of before the run (small tolerance) and its heap has not grown
// beyond noise.
func TestSoakMixedClients(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: skipped with -short")
	}
	duration, maxRequests := soakSettings(t)
	dir := t.TempDir()
	s := startLive(t, "demo", "--size", "20000", "--data-dir", dir, "--addr", "127.0.0.1:0", "--log-level", "warn",
		"--rate-limit-capacity", "40", "--rate-limit-refill", "40", "--rate-limit-period", "1s",
		"--min-processing", "300ms", "--workers", "2")
	creds := readCreds(t, dir)

	type worker struct {
		name string
		c    *client.Client
		tr   *http.Transport
	}
	var clients []worker
	for i := range 4 {
		tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
		opt := client.WithDigest(creds.PublicKey, creds.PrivateKey)
		name := "digest"
		if i%2 == 1 {
			opt, name = client.WithServiceAccount(creds.ClientID, creds.ClientSecret), "bearer"
		}
		c, err := client.New(s.URL, opt, client.WithRateLimitRetries(0), client.WithHTTPClient(&http.Client{Transport: tr, Timeout: 30 * time.Second}))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, worker{name + strconv.Itoa(i), c, tr})
	}
	bodies := distinctQueries(time.Now(), 342)
	var counts soakCounts
	var failures sync.Map // first few failure descriptions
	var failN atomic.Int64
	fail := func(format string, args ...any) {
		if n := failN.Add(1); n <= 10 {
			failures.Store(n, fmt.Sprintf(format, args...))
		}
	}

	// do sends one request and classifies the answer.
	do := func(ctx context.Context, c *client.Client, method, path, accept string, body []byte) (int, []byte) {
		req, err := c.NewRequest(ctx, method, path, body)
		if err != nil {
			fail("new request: %v", err)
			return 0, nil
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		counts.requests.Add(1)
		resp, err := c.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				counts.transportErr.Add(1)
				fail("%s %s: %v", method, path, err)
			}
			return 0, nil
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil && ctx.Err() == nil {
			counts.transportErr.Add(1)
			fail("%s %s: read: %v", method, path, err)
		}
		switch st := resp.StatusCode; {
		case st >= 500:
			counts.serverErr.Add(1)
			fail("%s %s: %d %s", method, path, st, b)
		case st == http.StatusTooManyRequests:
			counts.limited.Add(1)
			if resp.Header.Get("Retry-After") == "" {
				counts.limitedNoRetryAfter.Add(1)
				fail("429 without Retry-After: %s %s", method, path)
			}
		case st >= 400:
			counts.clientErr.Add(1)
			fail("%s %s: %d %s", method, path, st, b)
		default:
			counts.ok.Add(1)
		}
		return resp.StatusCode, b
	}

	// session is one round of a worker: create, poll until ready (bounded),
	// fetch as CSV, list and read organizations.
	usage := "/api/atlas/v2/orgs/" + creds.OrgID + "/billing/costExplorer/usage"
	session := func(ctx context.Context, c *client.Client, r *rand.Rand) {
		st, b := do(ctx, c, "POST", usage, "", []byte(bodies[r.IntN(len(bodies))]))
		if st == http.StatusAccepted {
			var v struct{ Token string }
			if json.Unmarshal(b, &v) != nil {
				fail("202 body %s", b)
				return
			}
			for i := 0; i < 50 && ctx.Err() == nil; i++ {
				st, b := do(ctx, c, "GET", usage+"/"+v.Token+"?envelope=true", "", nil)
				if st != http.StatusOK {
					break
				}
				if bytes.Contains(b, []byte(`"status":102`)) {
					counts.processing.Add(1)
					time.Sleep(100 * time.Millisecond)
					continue
				}
				if !bytes.Contains(b, []byte(`"usageDetails"`)) {
					fail("ready without usageDetails: %.200s", b)
				}
				st, b = do(ctx, c, "GET", usage+"/"+v.Token, c.MediaType("csv"), nil)
				if st == http.StatusOK && !bytes.HasPrefix(b, []byte("Billed Date,")) {
					fail("CSV without its header: %.200s", b)
				}
				break
			}
		}
		do(ctx, c, "GET", "/api/atlas/v2/orgs?itemsPerPage=10", "", nil)
		do(ctx, c, "GET", "/api/atlas/v2/orgs/"+creds.OrgID, "", nil)
	}

	// Warm up with the run's concurrency for a second, so that what grows
	// once to a bound (the store's pool of read connections, up to four,
	// each holding the database file and its log open; lazily started
	// goroutines) has grown before the baseline.
	// sessions starts three session loops a client, each on its own random
	// source (seeded by the client, the loop and seed), that run while ctx
	// lasts and more holds; the function it returns waits for them.
	sessions := func(ctx context.Context, seed uint64, more func() bool) (wait func()) {
		var wg sync.WaitGroup
		for i, w := range clients {
			for j := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(i), uint64(j)+seed))
					for ctx.Err() == nil && more() {
						session(ctx, w.c, r)
					}
				}()
			}
		}
		return wg.Wait
	}
	warm, warmStop := context.WithTimeout(context.Background(), time.Second)
	sessions(warm, 100, func() bool { return true })()
	warmStop()
	time.Sleep(time.Second)
	counts.reset()
	for _, w := range clients {
		w.tr.CloseIdleConnections()
	}
	time.Sleep(200 * time.Millisecond)
	before := sample()

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	start := time.Now()
	var peak atomic.Uint64
	wait := sessions(ctx, 0, func() bool { return counts.requests.Load() < maxRequests })
	// Report progress every tenth of the run (at least every 10 s on long
	// runs), with the heap, so that a long soak shows its trend.
	every := min(max(duration/10, time.Second), 10*time.Second)
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		last, lastT := int64(0), start
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak.Store(max(peak.Load(), ms.HeapInuse))
				n := counts.requests.Load()
				t.Logf("soak %s: %d requests, %.0f req/s, heap %.1f MiB, %d goroutines", now.Sub(start).Round(time.Second), n,
					float64(n-last)/now.Sub(lastT).Seconds(), float64(ms.HeapInuse)/(1<<20), runtime.NumGoroutine())
				last, lastT = n, now
			}
		}
	}()
	wait()
	cancel()
	elapsed := time.Since(start)

	for _, w := range clients {
		w.tr.CloseIdleConnections()
	}
	var after resources
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		after = sample()
		if after.goroutines <= before.goroutines+5 && after.fds <= before.fds+3 || time.Now().After(deadline) {
			break
		}
	}
	n := counts.requests.Load()
	t.Logf("soak: %d requests in %s = %.0f req/s held for %s; %d ok (%d processing polls), %d rate-limited (all with Retry-After: %v), %d other 4xx, %d 5xx, %d transport errors",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), elapsed.Round(time.Second), counts.ok.Load(), counts.processing.Load(),
		counts.limited.Load(), counts.limitedNoRetryAfter.Load() == 0, counts.clientErr.Load(), counts.serverErr.Load(), counts.transportErr.Load())
	t.Logf("soak: before %s; after %s; peak heap during the run %.1f MiB", before, after, float64(peak.Load())/(1<<20))

	failures.Range(func(_, v any) bool { t.Error(v); return true })
	if counts.serverErr.Load() != 0 || counts.transportErr.Load() != 0 || counts.limitedNoRetryAfter.Load() != 0 || counts.clientErr.Load() != 0 {
		t.Fatalf("soak failed: %d 5xx, %d transport errors, %d 429 without Retry-After, %d unexpected 4xx",
			counts.serverErr.Load(), counts.transportErr.Load(), counts.limitedNoRetryAfter.Load(), counts.clientErr.Load())
	}
	if counts.limited.Load() == 0 {
		t.Errorf("the run never reached the rate limiter")
	}
	if counts.ok.Load() < 100 {
		t.Errorf("only %d successful answers", counts.ok.Load())
	}
	if after.goroutines > before.goroutines+5 {
		t.Errorf("goroutines grew from %d to %d", before.goroutines, after.goroutines)
	}
	if after.fds > before.fds+3 {
		t.Errorf("file descriptors grew from %d to %d:\nbefore %q\nafter %q", before.fds, after.fds, before.targets, after.targets)
	}
	if after.storeFDs > maxStoreFDs() {
		t.Errorf("the store holds %d file descriptors, more than its pools can (%d):\n%q", after.storeFDs, maxStoreFDs(), after.targets)
	}
	if after.heap > 2*before.heap+32<<20 {
		t.Errorf("heap grew from %.1f MiB to %.1f MiB", float64(before.heap)/(1<<20), float64(after.heap)/(1<<20))
	}
}
