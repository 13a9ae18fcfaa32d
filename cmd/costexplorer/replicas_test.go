package main

// Process-level tests of several `costexplorer serve` replicas on one
// PostgreSQL database, and of one replica across a database restart. They
// build the binary and run real processes on loopback; they are skipped
// unless TEST_DATABASE_URL names a PostgreSQL database (scripts/test.sh
// starts a throwaway cluster and sets it).

import (
	"bufio"
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/postgres"
	"github.com/costexplorer/costexplorer/internal/postgres/pgtest"
	"github.com/costexplorer/costexplorer/internal/storetest"
)

// replicaRequestTimeout bounds every HTTP request of these tests: a server that
// hangs fails the test instead of stalling it.
const replicaRequestTimeout = 10 * time.Second

// testDatabaseURL returns TEST_DATABASE_URL or skips t.
func testDatabaseURL(t *testing.T) string {
	t.Helper()
	dsn := pgtest.URL(t)
	if testing.Short() {
		t.Skip("process-level replica tests are skipped with -short")
	}
	return dsn
}

// pgSchema returns a DSN on a fresh schema of TEST_DATABASE_URL's database,
// dropped when t ends (pgtest.Schema), or skips t as testDatabaseURL does.
func pgSchema(t *testing.T) string {
	t.Helper()
	testDatabaseURL(t)
	return pgtest.Schema(t)
}

// buildReplicaBinary builds costexplorer into t's temporary directory (the build
// cache makes every build after the first a link).
func buildReplicaBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "costexplorer")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// replicaFixture is the data and credentials every replica test starts from.
type replicaFixture struct {
	dsn        string
	orgID      string
	publicKey  string
	privateKey string
	clientID   string
	secret     string
	start, end costexplorer.Month // the months that hold usage
}

// seedReplicas ingests synthetic usage through the store and creates an API key and
// a service account with `costexplorer admin`, as an operator would.
func seedReplicas(t *testing.T, bin, dsn string) *replicaFixture {
	t.Helper()
	ctx := context.Background()
	today := costexplorer.DayOf(time.Now())
	d := storetest.NewDataset(5, storetest.Shape{Orgs: 2, ProjectsPerOrg: 3, ClustersPerProject: 2, Start: today - 45, Days: 45})
	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	b := d.Dimensions()
	b.Items = d.All()
	if _, err := db.IngestUsage(ctx, b); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	db.Close()
	f := &replicaFixture{dsn: dsn, orgID: d.Orgs[0].ID, start: (today - 45).Month(), end: today.Month() + 1}

	out := runReplicaCLI(t, bin, "admin", "apikey", "create", "--db", dsn, "--org", f.orgID, "--role", "ORG_BILLING_ADMIN")
	f.publicKey, f.privateKey = adminField(t, out, "public key"), adminField(t, out, "private key")
	out = runReplicaCLI(t, bin, "admin", "serviceaccount", "create", "--db", dsn, "--org", f.orgID, "--name", "replicas", "--role", "ORG_BILLING_READ_ONLY")
	f.clientID, f.secret = adminField(t, out, "client id"), adminField(t, out, "client secret")
	return f
}

// runReplicaCLI runs the binary to completion and returns its standard output.
func runReplicaCLI(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("costexplorer %s: %v\n%s%s", strings.Join(args[:min(3, len(args))], " "), err, out, stderr.String())
	}
	return string(out)
}

// adminField returns the value of a "  name:  value" line of admin output.
func adminField(t *testing.T, out, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(name) + `:\s+(\S+)\s*$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q in admin output:\n%s", name, out)
	}
	return m[1]
}

// replicaProc is one running `costexplorer serve` process.
type replicaProc struct {
	name   string
	cmd    *exec.Cmd
	url    string
	owner  string // its lease owner name
	exited chan struct{}

	mu  sync.Mutex
	log strings.Builder
}

var servingLine = regexp.MustCompile(`msg="costexplorer serving" url=(\S+) owner=(\S+)`)

// startReplica starts `costexplorer serve` on a free loopback port and waits
// (bounded) for its "serving" log line, which names its URL and lease owner.
// The process is stopped when t ends.
func startReplica(t *testing.T, bin, name, dsn string, extra ...string) *replicaProc {
	t.Helper()
	args := append([]string{"serve", "--db", dsn, "--addr", "127.0.0.1:0", "--lease", "2s", "--workers", "2",
		"--log-level", "debug", "--rate-limit-capacity", "100000", "--shutdown-grace", "5s"}, extra...)
	r := &replicaProc{name: name, cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stdout = io.Discard
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	ready := make(chan struct{})
	go func() {
		defer close(r.exited)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			r.mu.Lock()
			r.log.WriteString(line + "\n")
			if m := servingLine.FindStringSubmatch(line); m != nil && r.url == "" {
				r.url, r.owner = m[1], m[2]
				close(ready)
			}
			r.mu.Unlock()
		}
		_ = r.cmd.Wait()
	}()
	t.Cleanup(func() { r.stop(t) })
	select {
	case <-ready:
	case <-r.exited:
		t.Fatalf("%s exited before serving:\n%s", name, r.logText())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start serving within 60s:\n%s", name, r.logText())
	}
	return r
}

func (r *replicaProc) logText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// stop ends the process: SIGTERM, then SIGKILL if it has not exited in 10s.
func (r *replicaProc) stop(t *testing.T) {
	select {
	case <-r.exited:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		t.Errorf("%s did not stop within 10s of SIGTERM; killing it", r.name)
		r.kill(t)
	}
}

// kill ends the process with SIGKILL: no shutdown, no lease released.
func (r *replicaProc) kill(t *testing.T) {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s survived SIGKILL for 10s", r.name)
	}
}

// computed returns how many times the replica's log says it finished
// computing the process whose token starts with prefix.
func (r *replicaProc) computed(prefix string) int {
	return strings.Count(r.logText(), `msg="query process done" token=`+prefix)
}

// replicaClient is an HTTP client of the Atlas API with a bounded request time.
type replicaClient struct {
	http   *http.Client
	bearer string
}

func newReplicaClient() *replicaClient {
	return &replicaClient{http: &http.Client{Timeout: replicaRequestTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

const replicaAcceptJSON = "application/vnd.atlas.2023-01-01+json"

// do sends one request and returns the status and body. A transport error,
// a timeout included, is returned as such: the tests fail on it.
func (c *replicaClient) do(method, u string, body any, header http.Header) (int, []byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Accept", replicaAcceptJSON)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header, err
}

// token gets an OAuth access token (client credentials) from base.
func (c *replicaClient) token(t *testing.T, base, clientID, secret string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.SetBasicAuth(clientID, secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("token: status %d, %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

// queryBody returns a distinct valid query for n ≥ 1: the services filter
// is the subset of services whose bits are set in n.
func (f *replicaFixture) queryBody(n int) map[string]any {
	var services []string
	for i, s := range costexplorer.Services {
		if n&(1<<i) != 0 {
			services = append(services, string(s))
		}
	}
	return map[string]any{
		"startDate": f.start.Start().Format(time.DateOnly), "endDate": f.end.Start().Format(time.DateOnly),
		"services": services, "groupBy": "services",
	}
}

func (f *replicaFixture) usageURL(base string) string {
	return base + "/api/atlas/v2/orgs/" + f.orgID + "/billing/costExplorer/usage"
}

// createQuery posts a query and returns its token.
func (c *replicaClient) createQuery(f *replicaFixture, base string, body map[string]any) (string, error) {
	status, b, _, err := c.do("POST", f.usageURL(base), body, nil)
	if err != nil {
		return "", err
	}
	var r struct {
		Token string `json:"token"`
	}
	if status != http.StatusAccepted || json.Unmarshal(b, &r) != nil || r.Token == "" {
		return "", fmt.Errorf("create query: %d %s", status, b)
	}
	return r.Token, nil
}

// await polls the result of token on base (envelope form) until it is ready,
// for at most d, and returns the usage details.
func (c *replicaClient) await(f *replicaFixture, base, token string, d time.Duration) (json.RawMessage, error) {
	deadline := time.Now().Add(d)
	for {
		status, b, _, err := c.do("GET", f.usageURL(base)+"/"+token+"?envelope=true", nil, nil)
		if err != nil {
			return nil, err
		}
		var env struct {
			Status  int             `json:"status"`
			Content json.RawMessage `json:"content"`
		}
		if status != http.StatusOK || json.Unmarshal(b, &env) != nil {
			return nil, fmt.Errorf("poll %s: %d %s", token[:12], status, b)
		}
		if env.Status == http.StatusOK {
			return env.Content, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("query %s not ready after %s", token[:12], d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// processRows reads the state and attempts of the processes with tokens.
func processRows(t *testing.T, dsn string, tokens []string) map[string][2]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT token, state, attempts FROM processes WHERE token = ANY($1)", tokens)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]string{}
	var token, state string
	var attempts int32
	if _, err := pgx.ForEachRow(rows, []any{&token, &state, &attempts}, func() error {
		out[token] = [2]string{state, strconv.Itoa(int(attempts))}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReplicasShareOneDatabase(t *testing.T) {
	dsn := pgSchema(t)
	bin := buildReplicaBinary(t)
	f := seedReplicas(t, bin, dsn)
	a := startReplica(t, bin, "replica A", dsn)
	b := startReplica(t, bin, "replica B", dsn)
	replicas := []*replicaProc{a, b}
	c := newReplicaClient()
	c.bearer = c.token(t, a.url, f.clientID, f.secret)

	t.Run("JWTFromOneIsValidOnTheOther", func(t *testing.T) {
		bc := newReplicaClient()
		bc.bearer = bc.token(t, a.url, f.clientID, f.secret)
		status, body, _, err := bc.do("GET", b.url+"/api/atlas/v2/orgs/"+f.orgID, nil, nil)
		if err != nil || status != http.StatusOK {
			t.Fatalf("token from A used on B: %d %s %v", status, body, err)
		}
	})

	t.Run("QueryCreatedOnOneIsServedByTheOther", func(t *testing.T) {
		token, err := c.createQuery(f, a.url, f.queryBody(1<<23-1))
		if err != nil {
			t.Fatal(err)
		}
		onB, err := c.await(f, b.url, token, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		onA, err := c.await(f, a.url, token, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var res costexplorer.Result
		if err := json.Unmarshal(onB, &res); err != nil || len(res.UsageDetails) == 0 {
			t.Fatalf("result on B: %s (%v), want usage rows", onB, err)
		}
		if string(onA) != string(onB) {
			t.Fatalf("replicas serve different results for one token:\nA: %s\nB: %s", onA, onB)
		}
		again, err := c.createQuery(f, b.url, f.queryBody(1<<23-1))
		if err != nil || again != token {
			t.Fatalf("the same query on B got token %s (%v), want A's %s", again, err, token)
		}
	})

	t.Run("ConcurrentQueriesAreComputedExactlyOnce", func(t *testing.T) {
		// 200 distinct queries, each created on one replica and polled on
		// the other. Computations are counted twice over: by the attempts
		// column (each claim increments it) and by the replicas' own
		// "query process done" log lines.
		const n = 200
		tokens := make([]string, n)
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				on, other := replicas[i%2], replicas[(i+1)%2]
				token, err := c.createQuery(f, on.url, f.queryBody(i+2))
				if err != nil {
					errs <- err
					return
				}
				tokens[i] = token
				if _, err := c.await(f, other.url, token, 60*time.Second); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if distinct := slices.Compact(slices.Sorted(slices.Values(tokens))); len(distinct) != n {
			t.Fatalf("the %d queries got %d distinct tokens", n, len(distinct))
		}
		rows := processRows(t, dsn, tokens)
		byReplica := map[string]int{}
		for _, token := range tokens {
			if got := rows[token]; got != [2]string{"done", "1"} {
				t.Fatalf("process %s: state %s after %s claims, want done after exactly 1", token[:12], got[0], got[1])
			}
			total := 0
			for _, r := range replicas {
				k := r.computed(token[:12])
				total += k
				byReplica[r.name] += k
			}
			if total != 1 {
				t.Fatalf("process %s was computed %d times by the replicas, want exactly once", token[:12], total)
			}
		}
		t.Logf("computations per replica: %v", byReplica)
		for _, r := range replicas {
			if byReplica[r.name] == 0 {
				t.Errorf("%s computed none of the %d queries: the work was not shared", r.name, n)
			}
		}
	})

	t.Run("DigestNonceFromOneIsAcceptedOnceByTheOther", func(t *testing.T) {
		dc := newReplicaClient()
		orgURL := "/api/atlas/v2/orgs/" + f.orgID
		status, _, h, err := dc.do("GET", a.url+orgURL, nil, nil)
		if err != nil || status != http.StatusUnauthorized {
			t.Fatalf("unauthenticated request: %d %v, want 401", status, err)
		}
		m := regexp.MustCompile(`nonce="([^"]+)"`).FindStringSubmatch(h.Get("WWW-Authenticate"))
		if m == nil {
			t.Fatalf("no nonce in %q", h.Get("WWW-Authenticate"))
		}
		auth := http.Header{"Authorization": {digestAuthorization("GET", orgURL, f.publicKey, f.privateKey, m[1], 1)}}
		if status, body, _, err := dc.do("GET", b.url+orgURL, nil, auth); err != nil || status != http.StatusOK {
			t.Fatalf("A's nonce used on B: %d %s %v, want 200", status, body, err)
		}
		if status, _, _, err := dc.do("GET", a.url+orgURL, nil, auth); err != nil || status != http.StatusUnauthorized {
			t.Fatalf("the same nonce and count replayed on A: %d %v, want 401", status, err)
		}
		next := http.Header{"Authorization": {digestAuthorization("GET", orgURL, f.publicKey, f.privateKey, m[1], 2)}}
		if status, _, _, err := dc.do("GET", a.url+orgURL, nil, next); err != nil || status != http.StatusOK {
			t.Fatalf("the nonce with the next count on A: %d %v, want 200", status, err)
		}
	})

	// Last: it kills replica A.
	t.Run("KilledReplicaLeasesAreFinishedByTheOther", func(t *testing.T) {
		ctx := context.Background()
		db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		version, err := db.DataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Hold evaluation up: with usage_state locked, a replica's engine
		// blocks when it next asks for the data version (at most a second
		// after its last check), after it has claimed a process. Each
		// worker then holds one lease.
		lockConn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer lockConn.Close(ctx)
		lock, err := lockConn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Rollback(ctx)
		if _, err := lock.Exec(ctx, "LOCK TABLE usage_state IN ACCESS EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1200 * time.Millisecond) // past the engines' refresh interval (1s)
		const n = 8
		var tokens []string
		now := time.Now()
		for i := range n {
			q, err := costexplorer.ParseQueryRequest(f.orgID, replicaJSON(t, f.queryBody(1000+i)), costexplorer.QueryLimits{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			p, err := db.CreateProcess(ctx, &costexplorer.QueryProcess{Token: q.Token(version), OrgID: f.orgID, Query: *q,
				CreatedAt: now, ReadyAt: now, ExpiresAt: now.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, p.Token)
		}
		held := leasesOf(t, dsn, a.owner, 2, 15*time.Second)
		if len(held) == 0 {
			t.Fatalf("replica A did not claim any process within 15s:\n%s", a.logText())
		}
		a.kill(t)
		if err := lock.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		// B finishes everything, A's processes once their 2 s leases lapse.
		for _, token := range tokens {
			if _, err := c.await(f, b.url, token, 30*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		rows := processRows(t, dsn, held)
		for _, token := range held {
			if got := rows[token]; got != [2]string{"done", "2"} || b.computed(token[:12]) != 1 {
				t.Fatalf("process %s held by the killed replica: state %s after %s claims, computed %d times by B; want done after 2 claims, once by B",
					token[:12], got[0], got[1], b.computed(token[:12]))
			}
		}
		t.Logf("replica A held %d leases when killed; replica B finished all %d processes", len(held), n)
	})
}

func replicaJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// leasesOf waits (at most d) until owner holds want running processes, and
// returns the tokens it holds at the end of the wait.
func leasesOf(t *testing.T, dsn, owner string, want int, d time.Duration) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(d)
	for {
		rows, err := conn.Query(ctx, "SELECT token FROM processes WHERE state = 'running' AND lease_owner = $1", owner)
		if err != nil {
			t.Fatal(err)
		}
		tokens, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if len(tokens) >= want || time.Now().After(deadline) {
			return tokens
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// digestAuthorization returns an RFC 7616 Digest Authorization header (MD5,
// qop=auth) for one request.
func digestAuthorization(method, uri, user, pass, nonce string, nc uint32) string {
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	const realm, cnonce = "MMS Public API", "0a4f113b5c2d"
	count := fmt.Sprintf("%08x", nc)
	response := h(h(user+":"+realm+":"+pass) + ":" + nonce + ":" + count + ":" + cnonce + ":auth:" + h(method+":"+uri))
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s", response="%s"`,
		user, realm, nonce, uri, count, cnonce, response)
}

// pgCluster is a throwaway PostgreSQL cluster of this test alone, so that
// stopping it disturbs no other test using TEST_DATABASE_URL.
type pgCluster struct {
	bin, data, user string
	port            int
}

// startPGCluster initialises and starts a cluster on a free loopback port with
// the binaries of COSTEXPLORER_PG_BIN (or the newest under
// /usr/lib/postgresql), as COSTEXPLORER_PG_USER when running as root.
func startPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	bin := os.Getenv("COSTEXPLORER_PG_BIN")
	if bin == "" {
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		slices.Sort(dirs)
		if len(dirs) > 0 {
			bin = dirs[len(dirs)-1]
		}
	}
	if _, err := os.Stat(filepath.Join(bin, "pg_ctl")); bin == "" || err != nil {
		t.Skip("no PostgreSQL binaries (set COSTEXPLORER_PG_BIN): skipping the database restart test")
	}
	c := &pgCluster{bin: bin, user: os.Getenv("COSTEXPLORER_PG_USER")}
	if c.user == "" && os.Geteuid() == 0 {
		c.user = "postgres"
	}
	dir, err := os.MkdirTemp("", "costexplorer-pgrestart-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup(c.user)
		if err != nil {
			t.Skipf("PostgreSQL user %q: %v", c.user, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	c.data = filepath.Join(dir, "data")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.run(t, fmt.Sprintf("'%s/initdb' -D '%s' -U postgres -A trust --no-sync >/dev/null", bin, c.data))
	c.start(t)
	t.Cleanup(func() { c.pgctl(t, "-m immediate stop", false) })
	return c
}

func (c *pgCluster) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

func (c *pgCluster) start(t *testing.T) {
	t.Helper()
	c.pgctl(t, fmt.Sprintf(`-l '%s/../log' -w -t 60 -o "-c listen_addresses=127.0.0.1 -p %d -k '%s/..' -c fsync=off" start`, c.data, c.port, c.data), true)
}

// stop stops the cluster the way an operator restarts one: fast shutdown,
// every session terminated.
func (c *pgCluster) stop(t *testing.T) { c.pgctl(t, "-w -t 60 -m fast stop", true) }

func (c *pgCluster) pgctl(t *testing.T, args string, must bool) {
	t.Helper()
	cmd := fmt.Sprintf("'%s/pg_ctl' -D '%s' %s >/dev/null", c.bin, c.data, args)
	if must {
		c.run(t, cmd)
		return
	}
	_ = c.command(cmd).Run()
}

func (c *pgCluster) command(script string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("su", "-s", "/bin/sh", c.user, "-c", script)
	}
	return exec.Command("/bin/sh", "-c", script)
}

func (c *pgCluster) run(t *testing.T, script string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := c.command(script)
	cmd = exec.CommandContext(ctx, cmd.Args[0], cmd.Args[1:]...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
}

func TestDatabaseRestart(t *testing.T) {
	testDatabaseURL(t)
	cluster := startPGCluster(t)
	dsn := cluster.dsn()
	bin := buildReplicaBinary(t)
	f := seedReplicas(t, bin, dsn)
	r := startReplica(t, bin, "replica", dsn)
	c := newReplicaClient()
	c.bearer = c.token(t, r.url, f.clientID, f.secret)
	orgURL := r.url + "/api/atlas/v2/orgs/" + f.orgID
	ctx := context.Background()

	if status, body, _, err := c.do("GET", orgURL, nil, nil); err != nil || status != http.StatusOK {
		t.Fatalf("before the restart: %d %s %v", status, body, err)
	}

	// Queries accepted before the outage, some of them claimed and in the
	// middle of evaluation when the database goes: the engine must reload
	// (the data version moves) and the rollup is locked, so evaluation
	// waits on the database, holding its lease, until the restart cuts it.
	lockConn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := lockConn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, "LOCK TABLE rollup IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	bump, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bump.Exec(ctx, "UPDATE usage_state SET data_version = data_version + 1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond) // past the engine's refresh interval (1s)
	const accepted = 10
	var tokens []string
	for i := range accepted {
		token, err := c.createQuery(f, r.url, f.queryBody(3000+i))
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, token)
	}
	// The first claimed query finds the engine's snapshot stale, and the
	// reload waits on the lock: wait for that wait, however slow the
	// machine, so that no query finishes before the outage.
	for deadline := time.Now().Add(30 * time.Second); ; {
		var waiting int
		if err := bump.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE relation = 'rollup'::regclass AND NOT granted").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no reload waited on the locked rollup within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	bump.Close(ctx)
	rows := processRows(t, dsn, tokens)
	notDone := 0
	pending := "" // a query still being evaluated: its answer is the store's to give
	for _, token := range tokens {
		if rows[token][0] != "done" {
			notDone++
			pending = cmp.Or(pending, token)
		}
	}
	t.Logf("%d of %d accepted queries not done when the database stops", notDone, accepted)
	if pending == "" {
		t.Fatal("every accepted query was done before the outage: the test proves nothing")
	}

	cluster.stop(t)
	lockConn.Close(ctx)

	// During the outage every request is answered, 503 SERVICE_UNAVAILABLE,
	// within the client's timeout.
	for _, req := range []struct {
		method, url string
		body        any
	}{
		{"GET", orgURL, nil},
		{"GET", f.usageURL(r.url) + "/" + pending + "?envelope=true", nil},
		{"POST", f.usageURL(r.url), f.queryBody(4000)},
		{"GET", orgURL, nil},
	} {
		start := time.Now()
		status, body, _, err := c.do(req.method, req.url, req.body, nil)
		if err != nil {
			t.Fatalf("%s %s during the outage: %v after %s (want a 503, not a hang)", req.method, req.url, err, time.Since(start))
		}
		var e struct {
			ErrorCode string `json:"errorCode"`
		}
		_ = json.Unmarshal(body, &e)
		if status != http.StatusServiceUnavailable || e.ErrorCode != costexplorer.ErrUnavailable {
			t.Fatalf("%s %s during the outage: %d %s, want 503 %s", req.method, req.url, status, body, costexplorer.ErrUnavailable)
		}
	}

	cluster.start(t)
	// The same server, not restarted, answers again once the database is
	// back, and finishes every query it accepted before the outage.
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body, _, err := c.do("GET", orgURL, nil, nil)
		if err != nil {
			t.Fatalf("after the restart: %v", err)
		}
		if status == http.StatusOK {
			break
		}
		if status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("after the restart: %d %s, want 200 within 30s", status, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, token := range tokens {
		if _, err := c.await(f, r.url, token, 60*time.Second); err != nil {
			t.Fatalf("query accepted before the outage: %v\n%s", err, r.logText())
		}
	}
	select {
	case <-r.exited:
		t.Fatalf("the server exited during the outage:\n%s", r.logText())
	default:
	}
}
