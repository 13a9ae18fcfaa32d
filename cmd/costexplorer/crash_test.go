package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for processStates

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/logtest"
)

// The tests in crash_test.go, shutdown_test.go and soak_test.go run the real
// binary (or the real Main in-process) and inject faults a unit test cannot:
// SIGKILL in the middle of an import or while query processes run, SIGTERM
// under a stream of requests, and sustained mixed load. Every loop is bounded
// in count and time, and every child process is killed on t.Cleanup.

// buildBinary builds cmd/costexplorer into a temporary directory of t and
// returns its path. With a warm build cache this is a link, about a second.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("process test: skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "costexplorer")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a running costexplorer process.
type proc struct {
	cmd    *exec.Cmd
	stdout *logtest.Buffer
	stderr *logtest.Buffer
	done   chan struct{}
	err    error // the Wait error, once done is closed
}

// startProc starts bin with args. The process is killed when the test ends
// if it is still running.
func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	return startProcIn(t, "", bin, args...)
}

// startProcIn is startProc with dir as the working directory (the current
// one when empty). The process's temporary files go to a directory of the
// test's own, which the test removes: a process the test kills (a sync
// mid-download, say) leaves what it had staged there, not in /tmp.
func startProcIn(t *testing.T, dir, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), stdout: &logtest.Buffer{}, stderr: &logtest.Buffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr, p.cmd.Dir = p.stdout, p.stderr, dir
	p.cmd.Env = append(os.Environ(), "COSTEXPLORER_DATA_DIR=", "COSTEXPLORER_DB=", "TMPDIR="+t.TempDir())
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", args, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

var servingURL = regexp.MustCompile(`msg="costexplorer serving" url=(http://[0-9.:]+)`)

// waitServing waits until the process logs that it serves and returns its
// base URL.
func (p *proc) waitServing(t *testing.T, limit time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if m := servingURL.FindStringSubmatch(p.stderr.String()); m != nil {
			return m[1]
		}
		select {
		case <-p.done:
			t.Fatalf("%v exited before serving (%v):\n%s", p.cmd.Args, p.err, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%v did not serve within %s:\n%s", p.cmd.Args, limit, p.stderr.String())
	return ""
}

// signal sends sig to the process.
func (p *proc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// exitCode waits up to limit for the process to exit and returns its exit
// status (-1 when killed by a signal).
func (p *proc) exitCode(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("%v still running after %s:\n%s", p.cmd.Args, limit, p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// running reports whether the process has not exited yet.
func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// runBinIn runs bin to completion (at most two minutes) in dir (the
// current directory when empty) and returns its exit status and output.
func runBinIn(t *testing.T, dir, bin string, args ...string) (int, string, string) {
	t.Helper()
	p := startProcIn(t, dir, bin, args...)
	code := p.exitCode(t, 2*time.Minute)
	return code, p.stdout.String(), p.stderr.String()
}

// writeInvoiceCSV writes an Atlas invoice CSV of n rows (all distinct, over
// three organizations, 60 projects and 300 clusters of June 2025) and returns
// the sum of its amounts.
func writeInvoiceCSV(t *testing.T, path string, n int) costexplorer.Cents {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "Date,Usage Date,Description,Note,Organization Name,Organization ID,Project,Project ID,SKU,Region,Cluster,Replica Set,Config Server,Application,Unit,Unit Price,Quantity,Discount Percent,Amount")
	var total costexplorer.Cents
	for i := 0; i < n; i++ {
		org := i % 3
		proj := i % 60
		cents := costexplorer.Cents(1 + i%99991)
		total += cents
		fmt.Fprintf(w, "06/%02d/2025,06/%02d/2025,Atlas AWS Cluster M30,row %d,Org %d,5f00000000000000000000a%d,proj-%d,64a1b2c3d4e5f607182930%02d,ATLAS_AWS_INSTANCE_M30,US_EAST_1,cluster-%d,,,,server hours,$0.54,%d,,$%s\n",
			1+i%28, 1+i%28, i, org, org, proj, proj, i%300, i%97, cents.Dollars())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return total
}

// crashStore is a store the crash tests run on: the embedded SQLite store
// of a data directory, or a PostgreSQL schema of its own.
type crashStore struct {
	dir   string     // the processes' working directory (and the SQLite data directory)
	sf    storeFlags // what the flags below name
	flags []string   // --data-dir DIR or --db DSN
	// writing reports whether an import has begun writing its transaction
	// (a best guess: it samples the database from outside).
	writing func() bool
	// activity describes what the database's other sessions are doing
	// (PostgreSQL), for a failure's message; nil when there is nothing to
	// ask (SQLite).
	activity func() string
}

// crashStoreKinds are the stores every crash test runs on: SQLite always,
// PostgreSQL when TEST_DATABASE_URL is set.
func crashStoreKinds() []string {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		return []string{"SQLite"}
	}
	return []string{"SQLite", "PostgreSQL"}
}

// onEachCrashStore runs crash, with the binary built once, in a subtest per
// kind of store (crashStoreKinds), each on a new, empty store.
func onEachCrashStore(t *testing.T, crash func(t *testing.T, bin string, cs *crashStore)) {
	bin := buildBinary(t)
	for _, kind := range crashStoreKinds() {
		t.Run(kind, func(t *testing.T) { crash(t, bin, newCrashStore(t, kind)) })
	}
}

// newCrashStore returns a new, empty store of kind for t.
func newCrashStore(t *testing.T, kind string) *crashStore {
	t.Helper()
	dir := t.TempDir()
	if kind == "SQLite" {
		return sqliteCrashStore(dir)
	}
	dsn := pgSchema(t)
	var watch *pgx.Conn // one connection for every sample: samples come a query apart, not a connection's setup
	t.Cleanup(func() {
		if watch != nil {
			watch.Close(context.Background())
		}
	})
	return &crashStore{dir: dir, sf: storeFlags{dsn: dsn}, flags: []string{"--db", dsn}, activity: func() string { return pgActivity(dsn) }, writing: func() bool {
		// An import writes line items, then, at its commit, the rollup,
		// the invoices' amounts and the item counts, in one transaction:
		// a backend whose latest statement is one of those is inside it,
		// before its commit.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if watch == nil {
			c, err := pgx.Connect(ctx, dsn)
			if err != nil {
				return false
			}
			watch = c
		}
		var n int
		err := watch.QueryRow(ctx, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')
			AND (query LIKE 'INSERT INTO rollup%' OR query LIKE 'UPDATE invoices SET charges_cents%' OR query LIKE 'INSERT INTO invoice_item_counts%')`).Scan(&n)
		if err != nil {
			watch.Close(ctx)
			watch = nil
			return false
		}
		return n > 0
	}}
}

// pgActivity lists the sessions of dsn's database that are not idle, other
// than its own: process, state, what it waits for, how long its transaction
// has run, and its statement's start.
func pgActivity(dsn string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err.Error()
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT format('pid %s %s (waits: %s %s) for %s: %s', pid, state, wait_event_type, wait_event,
			now() - xact_start, left(query, 100))
		FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`)
	if err != nil {
		return err.Error()
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err.Error()
	}
	return strings.Join(lines, "\n")
}

// sqliteCrashStore is the SQLite store of the data directory dir.
func sqliteCrashStore(dir string) *crashStore {
	wal := filepath.Join(dir, sqliteFile+"-wal")
	return &crashStore{dir: dir, sf: storeFlags{dataDir: dir}, flags: []string{"--data-dir", dir}, writing: func() bool {
		// The write-ahead log grows past its size before the import
		// (the store is created first) at the first write of the commit.
		fi, err := os.Stat(wal)
		return err == nil && fi.Size() > 1<<20
	}}
}

// args returns args followed by the store's flags.
func (cs *crashStore) args(args ...string) []string { return append(args, cs.flags...) }

// open opens the store (the process that wrote it may be gone).
func (cs *crashStore) open(t *testing.T) costexplorer.Store {
	t.Helper()
	m := NewMain(strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" })
	store, err := m.openStore(context.Background(), &cs.sf)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return store
}

// stats returns the usage statistics of the store.
func (cs *crashStore) stats(t *testing.T) costexplorer.UsageStats {
	t.Helper()
	store := cs.open(t)
	defer store.Close()
	st, err := store.UsageStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// verify runs `costexplorer admin verify` on the store and fails the test
// on any difference between the rollup and the line items.
func (cs *crashStore) verify(t *testing.T, bin string) {
	t.Helper()
	p := startProcIn(t, cs.dir, bin, cs.args("admin", "verify")...)
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		// Most likely waiting for a lock: say who holds the database.
		activity := "(not asked)"
		if cs.activity != nil {
			activity = cs.activity()
		}
		t.Fatalf("admin verify still running after 2m0s:\n%s\nthe database's other sessions:\n%s", p.stderr.String(), activity)
	}
	code, out, errOut := p.cmd.ProcessState.ExitCode(), p.stdout.String(), p.stderr.String()
	if code != 0 || !strings.Contains(out, "is consistent") {
		t.Fatalf("admin verify: exit %d\n%s%s", code, out, errOut)
	}
}

// storeStats opens the SQLite store of dir and returns its usage
// statistics.
func storeStats(t *testing.T, dir string) costexplorer.UsageStats {
	t.Helper()
	return sqliteCrashStore(dir).stats(t)
}

// TestCrashDuringImportKeepsAllOrNothing SIGKILLs `costexplorer import usage`
// at several points while it imports a 300,000-row invoice (while parsing,
// while ingesting, at the first write of the commit). After each kill the
// store holds none of the file or all of it, and `admin verify` finds the
// rollup equal to a recomputation from the line items. Importing the file
// again then completes, and a further import inserts nothing.
func TestCrashDuringImportKeepsAllOrNothing(t *testing.T) {
	bin := buildBinary(t)
	const rows = 300_000
	csvPath := filepath.Join(t.TempDir(), "invoice-2025-06.csv")
	total := writeInvoiceCSV(t, csvPath, rows)
	for _, kind := range crashStoreKinds() {
		t.Run(kind, func(t *testing.T) { crashDuringImport(t, bin, kind, csvPath, rows, total) })
	}
}

func crashDuringImport(t *testing.T, bin, kind, csvPath string, rows int64, total costexplorer.Cents) {
	kills := []struct {
		name string
		// when reports whether to kill now: elapsed time since the start,
		// and whether the import writes its transaction.
		when func(elapsed time.Duration, writing func() bool) bool
	}{
		{"WhileParsing", func(d time.Duration, _ func() bool) bool { return d >= 300*time.Millisecond }},
		{"WhileIngesting", func(d time.Duration, _ func() bool) bool { return d >= 1800*time.Millisecond }},
		{"AtCommit", func(_ time.Duration, writing func() bool) bool { return writing() }},
	}
	for _, k := range kills {
		t.Run(k.name, func(t *testing.T) {
			// Create the store first, so that the import's own writes
			// are what the kill condition sees.
			cs := newCrashStore(t, kind)
			cs.verify(t, bin)
			p := startProcIn(t, cs.dir, bin, cs.args("import", "usage", csvPath)...)
			start := time.Now()
			killed := false
			// The kill point comes within seconds on a quiet machine; the
			// bound is generous because a loaded one (a CI runner, parallel
			// test packages) can be ten times slower, and an import that ends
			// before its kill point fails the test below.
			for deadline := start.Add(3 * time.Minute); time.Now().Before(deadline) && p.running(); time.Sleep(time.Millisecond) {
				if k.when(time.Since(start), cs.writing) {
					p.signal(t, syscall.SIGKILL)
					killed = true
					break
				}
			}
			code := p.exitCode(t, 30*time.Second)
			st := cs.stats(t)
			t.Logf("killed=%v after %s: exit %d, store holds %d line items", killed, time.Since(start).Round(time.Millisecond), code, st.LineItems)
			if !killed && code != 0 {
				t.Fatalf("import exited %d before the kill:\n%s", code, p.stderr.String())
			}
			switch st.LineItems {
			case 0:
			case rows:
				if st.Total != total {
					t.Fatalf("all rows stored but the total is %s, want %s", st.Total.Dollars(), total.Dollars())
				}
			default:
				t.Fatalf("store holds %d of the file's %d rows after the kill", st.LineItems, rows)
			}
			cs.verify(t, bin)
			if t.Failed() || k.name != kills[len(kills)-1].name {
				return
			}
			// Resume on the last crashed store (inside its subtest, which
			// owns it): the import completes, exactly once.
			code, out, errOut := runBinIn(t, cs.dir, bin, cs.args("import", "usage", csvPath)...)
			if code != 0 {
				t.Fatalf("import after the crash: exit %d\n%s%s", code, out, errOut)
			}
			if st := cs.stats(t); st.LineItems != rows || st.Total != total {
				t.Fatalf("after the re-import: %d line items, total %s; want %d, %s", st.LineItems, st.Total.Dollars(), rows, total.Dollars())
			}
			code, out, errOut = runBinIn(t, cs.dir, bin, cs.args("import", "usage", csvPath)...)
			if code != 0 || !strings.Contains(out, fmt.Sprintf("0 inserted, %d duplicates", rows)) {
				t.Fatalf("second import: exit %d\n%s%s", code, out, errOut)
			}
			cs.verify(t, bin)
		})
	}
}

// distinctQueries returns n distinct query bodies inside the 18-month window
// of now: every (start, end) pair, without and with a services group-by.
func distinctQueries(now time.Time, n int) []string {
	cur := costexplorer.MonthOf(now)
	var out []string
	for _, group := range []string{"", `,"groupBy":"services","services":["Clusters","Backup","Data Transfer"]`} {
		for s := cur - 17; s <= cur; s++ {
			for e := s + 1; e <= cur+1; e++ {
				out = append(out, fmt.Sprintf(`{"startDate":"%s","endDate":"%s"%s}`, s.Date(), e.Date(), group))
				if len(out) == n {
					return out
				}
			}
		}
	}
	return out
}

// apiCall sends one Bearer request and returns the status, headers and body.
func apiCall(c *http.Client, method, target, bearer, body string) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.atlas.2023-01-01+json")
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// processStates counts the query processes of the SQLite store in dir by
// state, and those holding a lease.
func processStates(t *testing.T, dir string) (map[string]int, int) {
	t.Helper()
	return sqliteCrashStore(dir).processStates(t)
}

// processStates counts the store's query processes by state, and those
// holding a lease, reading the table directly (no replica is running).
func (cs *crashStore) processStates(t *testing.T) (map[string]int, int) {
	return cs.rowStates(t, "processes", "'done', 'failed'")
}

// rowStates counts the rows of a table of leased work (processes,
// invoice_reports) by state, and those not in an ended state that hold a
// lease.
func (cs *crashStore) rowStates(t *testing.T, table, ended string) (map[string]int, int) {
	t.Helper()
	driver, dsn := "sqlite", filepath.Join(cs.dir, sqliteFile)+"?_pragma=busy_timeout(5000)"
	if cs.sf.dsn != "" {
		driver, dsn = "pgx", cs.sf.dsn
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	states := map[string]int{}
	rows, err := db.Query("SELECT state, COUNT(*) FROM " + table + " GROUP BY state")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		states[s] = n
	}
	var leased int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table + " WHERE lease_owner IS NOT NULL AND state NOT IN (" + ended + ")").Scan(&leased); err != nil {
		t.Fatal(err)
	}
	return states, leased
}

// TestCrashWhileQueriesRunCompletesEveryAcceptedQuery SIGKILLs a server right
// after it accepted a burst of queries (one worker, so most are pending or
// running at the kill), then starts another server on the same store: every
// token the first server accepted becomes ready on the second with a usage
// document, the processes the dead server held are taken over when their
// 2-second lease lapses, and the store still verifies.
func TestCrashWhileQueriesRunCompletesEveryAcceptedQuery(t *testing.T) {
	onEachCrashStore(t, crashWhileQueriesRun)
}

func crashWhileQueriesRun(t *testing.T, bin string, cs *crashStore) {
	first := startProcIn(t, cs.dir, bin, cs.args("demo", "--size", "200000", "--addr", "127.0.0.1:0",
		"--workers", "1", "--lease", "2s", "--min-processing", "1s", "--rate-limit-capacity", "100000")...)
	base := first.waitServing(t, 90*time.Second)
	creds := readCreds(t, cs.dir)
	bearer := bearerToken(t, http.DefaultClient, base, creds)

	bodies := distinctQueries(time.Now(), 150)
	var (
		mu     sync.Mutex
		tokens []string
		wg     sync.WaitGroup
		work   = make(chan string)
	)
	c := &http.Client{Timeout: 30 * time.Second}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range work {
				status, _, b, err := apiCall(c, "POST", base+"/api/atlas/v2/orgs/"+creds.OrgID+"/billing/costExplorer/usage", bearer, body)
				if err != nil || status != http.StatusAccepted {
					t.Errorf("create: %d %v %s", status, err, b)
					continue
				}
				var v struct{ Token string }
				_ = json.Unmarshal(b, &v)
				mu.Lock()
				tokens = append(tokens, v.Token)
				mu.Unlock()
			}
		}()
	}
	for _, b := range bodies {
		work <- b
	}
	close(work)
	wg.Wait()
	first.signal(t, syscall.SIGKILL)
	first.exitCode(t, 30*time.Second)
	if t.Failed() {
		return
	}
	states, leased := cs.processStates(t)
	t.Logf("killed with %d accepted queries: processes by state %v, %d holding a lease", len(tokens), states, leased)

	second := startProcIn(t, cs.dir, bin, cs.args("serve", "--addr", "127.0.0.1:0", "--lease", "2s", "--min-processing", "1s", "--rate-limit-capacity", "100000")...)
	base = second.waitServing(t, 60*time.Second)
	bearer = bearerToken(t, http.DefaultClient, base, creds)
	pending := map[string]bool{}
	for _, tok := range tokens {
		pending[tok] = true
	}
	deadline := time.Now().Add(90 * time.Second)
	for len(pending) > 0 && time.Now().Before(deadline) {
		for tok := range pending {
			status, _, b, err := apiCall(c, "GET", base+"/api/atlas/v2/orgs/"+creds.OrgID+"/billing/costExplorer/usage/"+tok+"?envelope=true", bearer, "")
			if err != nil || status != http.StatusOK {
				t.Fatalf("poll %s after the restart: %d %v %s", tok, status, err, b)
			}
			var env struct {
				Status  int
				Content struct {
					UsageDetails *[]json.RawMessage
				}
			}
			if err := json.Unmarshal(b, &env); err != nil {
				t.Fatalf("poll body %s: %v", b, err)
			}
			switch env.Status {
			case http.StatusProcessing:
			case http.StatusOK:
				if env.Content.UsageDetails == nil {
					t.Fatalf("ready without usageDetails: %s", b)
				}
				delete(pending, tok)
			default:
				t.Fatalf("query %s after the restart: %s", tok, b)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(pending) > 0 {
		t.Fatalf("%d of %d accepted queries never completed after the restart", len(pending), len(tokens))
	}
	second.signal(t, syscall.SIGTERM)
	if code := second.exitCode(t, 30*time.Second); code != 0 {
		t.Fatalf("second server exited %d:\n%s", code, second.stderr.String())
	}
	states, leased = cs.processStates(t)
	if states["done"] != len(tokens) || leased != 0 {
		t.Fatalf("after the second server stopped: states %v, %d leased; want %d done", states, leased, len(tokens))
	}
	cs.verify(t, bin)
	t.Logf("all %d accepted queries completed after the crash", len(tokens))
}
