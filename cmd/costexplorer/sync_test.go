package main

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
	"github.com/costexplorer/costexplorer/internal/httpapi"
	"github.com/costexplorer/costexplorer/internal/server"
	"github.com/costexplorer/costexplorer/internal/servertest"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// syncEnv is the environment of a sync from src with its owner's API key,
// into dir.
func syncEnv(src *servertest.Server, dir string) map[string]string {
	return map[string]string{
		"COSTEXPLORER_SYNC_SOURCE":      src.URL,
		"MONGODB_ATLAS_PUBLIC_API_KEY":  src.PublicKey,
		"MONGODB_ATLAS_PRIVATE_API_KEY": src.PrivateKey,
		"COSTEXPLORER_DATA_DIR":         dir,
	}
}

// syncMarks reads the sync marks of source in the store of dir.
func syncMarks(t *testing.T, dir, source string) []costexplorer.SyncMark {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, sqliteFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	marks, err := db.SyncMarks(context.Background(), source)
	if err != nil {
		t.Fatal(err)
	}
	return marks
}

// sameAsSource serves the target store of dir and compares its answers with
// the source's.
func sameAsSource(t *testing.T, src *servertest.Server, dir string, queries int) {
	t.Helper()
	dst := servertest.New(t, servertest.Options{Path: filepath.Join(dir, sqliteFile), NoDemo: true, Clock: src.Clock})
	problems, err := dst.DB.Verify(context.Background())
	if err != nil || len(problems) > 0 {
		t.Fatalf("verify the target: %v %v", err, problems)
	}
	want, _ := client.New(src.URL, client.WithDigest(src.PublicKey, src.PrivateKey))
	got, _ := client.New(dst.URL, client.WithDigest(dst.PublicKey, dst.PrivateKey))
	a := &servertest.Answers{Want: want, Got: got, Org: src.Org}
	a.Invoices(t)
	now := costexplorer.MonthOf(src.Clock.Now())
	a.Queries(t, 7, queries, now-costexplorer.Month(servertest.Demo.Months-1), now)
}

func TestSyncCommand(t *testing.T) {
	src := servertest.New(t, servertest.Options{})
	dir := t.TempDir()
	env := syncEnv(src, dir)

	// A dry run on an empty store lists every invoice as new and writes
	// nothing.
	dry := runCLI(t, env, "", "sync", "--dry-run").wantCode(t, 0)
	if !strings.Contains(dry.stdout, "would sync") || strings.Contains(dry.stdout, "would skip") || !strings.Contains(dry.stdout, ", new)") {
		t.Fatalf("dry run on an empty store:\n%s", dry.stdout)
	}
	if marks := syncMarks(t, dir, src.URL); len(marks) != 0 {
		t.Fatalf("a dry run wrote %d marks", len(marks))
	}

	first := runCLI(t, env, "", "sync", "--exact-order").wantCode(t, 0)
	if !strings.Contains(first.stdout, "synced 18 invoices (0 unchanged)") || !strings.Contains(first.stdout, "requests") {
		t.Fatalf("first sync:\n%s\n%s", first.stdout, first.stderr)
	}
	if marks := syncMarks(t, dir, src.URL); len(marks) != 18 {
		t.Fatalf("%d marks after the first sync, want 18", len(marks))
	}
	// Now only the pending invoices would be brought.
	dry = runCLI(t, env, "", "sync", "--dry-run").wantCode(t, 0)
	if strings.Count(dry.stdout, ", pending)") != 3 || strings.Count(dry.stdout, "would skip ") != 15 || !strings.Contains(dry.stdout, "would sync 3 invoices (15 unchanged)") {
		t.Fatalf("dry run after a sync:\n%s", dry.stdout)
	}
	status := runCLI(t, env, "", "admin", "sync", "status").wantCode(t, 0)
	for _, want := range []string{"Lease:    free", "Last run: 2025-06-15", "18 invoice(s)"} {
		if !strings.Contains(status.stdout, want) {
			t.Errorf("admin sync status lacks %q:\n%s", want, status.stdout)
		}
	}
	sameAsSource(t, src, dir, 20)
}

func TestSyncExitStatus(t *testing.T) {
	src := servertest.New(t, servertest.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(src.PrivateKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"OKWithAKeyFileFlag", nil, []string{"--source", src.URL, "--public-key", src.PublicKey, "--private-key-file", keyFile, "--org", src.Org}, 0},
		{"OKWithAServiceAccount", map[string]string{"COSTEXPLORER_CLIENT_ID": src.ClientID, "COSTEXPLORER_CLIENT_SECRET": src.ClientSecret}, []string{"--source", src.URL}, 0},
		{"BadKey", map[string]string{"MONGODB_ATLAS_PUBLIC_API_KEY": src.PublicKey, "MONGODB_ATLAS_PRIVATE_API_KEY": "wrong"}, []string{"--source", src.URL}, exitAuth},
		{"BadSecret", map[string]string{"MONGODB_ATLAS_CLIENT_ID": src.ClientID, "MONGODB_ATLAS_CLIENT_SECRET": "wrong"}, []string{"--source", src.URL}, exitAuth},
		{"NoCredentials", nil, []string{"--source", src.URL}, exitAuth},
		{"Unreachable", map[string]string{"MONGODB_ATLAS_PUBLIC_API_KEY": "k", "MONGODB_ATLAS_PRIVATE_API_KEY": "p"}, []string{"--source", closed}, exitNetwork},
		{"ForeignOrg", map[string]string{"MONGODB_ATLAS_PUBLIC_API_KEY": src.PublicKey, "MONGODB_ATLAS_PRIVATE_API_KEY": src.PrivateKey}, []string{"--source", src.URL, "--org", "0123456789abcdef01234567"}, exitAuth},
		{"BadSource", map[string]string{"MONGODB_ATLAS_PUBLIC_API_KEY": "k", "MONGODB_ATLAS_PRIVATE_API_KEY": "p"}, []string{"--source", "ftp://x"}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"COSTEXPLORER_DATA_DIR": t.TempDir()}
			for k, v := range tc.env {
				env[k] = v
			}
			r := runCLI(t, env, "", append([]string{"sync"}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestSyncKilledAtRandomPoints SIGKILLs `costexplorer sync` at random points
// of a first sync (listing, downloading, ingesting, committing), several
// times over, each run going on from what the last left: after each kill
// `admin verify` is clean; a last run completes, and the target then holds
// exactly the source's data (for SQLite: answers every invoice and query
// request as the source does). The kill points are drawn from a seed that
// the log shows.
func TestSyncKilledAtRandomPoints(t *testing.T) {
	bin := buildBinary(t)
	cfg := servertest.Demo
	cfg.LineItems = 20_000
	// The source's rate limit is off: the test makes a dozen syncs in a
	// row, which real Atlas would spread over hours (TestSyncRateLimited
	// syncs under it).
	src := servertest.New(t, servertest.Options{Demo: &cfg, Config: func(c *server.Config) { c.RateLimit.Capacity = -1 }})
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(src.PrivateKey), 0o600); err != nil {
		t.Fatal(err)
	}
	// What the credential reaches: the paying organization and its linked
	// ones (the demo has organizations of its own besides).
	reach := map[string]bool{src.Org: true}
	for _, o := range src.Layout.Linked {
		reach[o.ID] = true
	}
	var want costexplorer.UsageStats
	err := src.DB.ScanLineItems(context.Background(), func(li *costexplorer.LineItem) error {
		if reach[li.OrgID] {
			want.LineItems++
			want.Total += li.Amount
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	syncArgs := []string{"sync", "--source", src.URL, "--public-key", src.PublicKey, "--private-key-file", keyFile, "--exact-order"}
	// How long a whole first sync takes here: the kills fall within it.
	ref := t.TempDir()
	start := time.Now()
	if code, out, errOut := runBinIn(t, ref, bin, append(syncArgs, "--data-dir", ref)...); code != 0 {
		t.Fatalf("reference sync: exit %d\n%s%s", code, out, errOut)
	}
	whole := time.Since(start)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	t.Logf("seed %d; a whole first sync takes %s", seed, whole.Round(time.Millisecond))
	for _, kind := range crashStoreKinds() {
		t.Run(kind, func(t *testing.T) {
			cs := newCrashStore(t, kind)
			args := cs.args(syncArgs...)
			killed := 0
			for i := range 4 {
				p := startProcIn(t, cs.dir, bin, args...)
				// The first kill falls early in the first sync; the
				// others anywhere in a run (a later run, which goes on
				// from what the others committed, is shorter).
				at := time.Duration(rng.Int64N(int64(whole) / int64(2-min(i, 1))))
				select {
				case <-p.done:
				case <-time.After(at):
					p.signal(t, syscall.SIGKILL)
					<-p.done
					killed++
				}
				cs.verify(t, bin)
			}
			code, out, errOut := runBinIn(t, cs.dir, bin, args...)
			if code != 0 {
				t.Fatalf("the last sync: exit %d\n%s%s", code, out, errOut)
			}
			t.Logf("%d runs killed; then %s", killed, strings.TrimSpace(out))
			cs.verify(t, bin)
			if got := cs.stats(t); got.LineItems != want.LineItems || got.Total != want.Total {
				t.Fatalf("target holds %d items, %s; the source %d, %s", got.LineItems, got.Total, want.LineItems, want.Total)
			}
			if kind == "SQLite" {
				sameAsSource(t, src, cs.dir, 20)
			}
		})
	}
}

// TestSyncUnderRateLimit syncs from a source whose rate limit is small (30
// requests, then 10 a second): the sync paces its requests once
// RateLimit-Remaining runs low (and would wait out a 429: see
// atlassync's TestSyncWaitsOutRateLimits) and completes exactly.
func TestSyncUnderRateLimit(t *testing.T) {
	// A running clock: the bucket refills with time.
	src := servertest.New(t, servertest.Options{Clock: servertest.NewRunningClock(servertest.T0), Config: func(c *server.Config) {
		c.RateLimit = httpapi.RateLimit{Capacity: 30, Refill: 10, Period: time.Second}
	}})
	dir := t.TempDir()
	r := runCLI(t, syncEnv(src, dir), "", "sync", "--exact-order").wantCode(t, 0)
	rec := httptest.NewRecorder()
	src.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	limited, _ := servertest.MetricValue(t, rec.Body.String(), "costexplorer_http_rate_limited_total")
	t.Logf("%v answers 429; %s", limited, strings.TrimSpace(r.stdout))
	sameAsSource(t, src, dir, 10)
}

// TestServeScheduledSync runs two `serve` replicas on one store, both with
// --sync-source: one of them takes the store's lease and syncs (its
// metrics say so, the other's do not), admin sync status shows the lease
// and the marks, and once both stop the lease is free again.
func TestServeScheduledSync(t *testing.T) {
	src := servertest.New(t, servertest.Options{})
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(src.PrivateKey), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-level", "error",
		"--sync-source", src.URL, "--sync-public-key", src.PublicKey, "--sync-private-key-file", keyFile, "--sync-every", "1h", "--sync-exact-order"}
	now := func() time.Time { return cliNow }
	replicas := []*runningServer{startMain(t, now, args...), startMain(t, now, args...)}
	deadline := time.Now().Add(time.Minute)
	for len(syncMarks(t, dir, src.URL)) < 18 {
		if time.Now().After(deadline) {
			t.Fatalf("no sync within a minute:\n%s\n%s", replicas[0].Stderr, replicas[1].Stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	syncing := 0
	for i, r := range replicas {
		var last float64
		for time.Now().Before(deadline) { // the metrics follow the run's last commit
			body := string((&opsClient{t: t, base: r.URL, c: http.DefaultClient}).do("GET", "/metrics", "", "").body)
			if v, ok := servertest.MetricValue(t, body, "costexplorer_sync_last_success_timestamp_seconds"); ok {
				last = v
				items, _ := servertest.MetricValue(t, body, "costexplorer_sync_items_total")
				if items != 6099 {
					t.Errorf("replica %d: costexplorer_sync_items_total %v, want 6099", i, items)
				}
				break
			}
			if i == 1 && syncing == 1 {
				break // the other replica synced: this one must not
			}
			time.Sleep(100 * time.Millisecond)
		}
		if last > 0 {
			syncing++
		}
	}
	if syncing != 1 {
		t.Fatalf("%d replicas synced, want exactly one", syncing)
	}
	status := runCLI(t, map[string]string{"COSTEXPLORER_SYNC_SOURCE": src.URL}, "", "admin", "sync", "status", "--data-dir", dir).wantCode(t, 0)
	if !strings.Contains(status.stdout, "Lease:    held by ") || !strings.Contains(status.stdout, "18 invoice(s), 6099 item(s)") {
		t.Errorf("admin sync status while serving:\n%s", status.stdout)
	}
	for _, r := range replicas {
		r.Stop(t)
	}
	status = runCLI(t, map[string]string{"COSTEXPLORER_SYNC_SOURCE": src.URL}, "", "admin", "sync", "status", "--data-dir", dir).wantCode(t, 0)
	if !strings.Contains(status.stdout, "Lease:    free") {
		t.Errorf("admin sync status once stopped:\n%s", status.stdout)
	}
	sameAsSource(t, src, dir, 10)
}
