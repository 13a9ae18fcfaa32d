package bench

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const wrkReport = `Running 1s test @ http://127.0.0.1:18089/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.60ms   11.38ms  75.55ms   89.96%
    Req/Sec   342.50    189.23   670.00     50.00%
  Latency Distribution
     50%  679.00us
     75%   11.02ms
     90%   22.06ms
     99%    1.20s
  688 requests in 1.01s, 4.59MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:    680.39
Transfer/sec:      4.54MB
`

func TestParseWrk(t *testing.T) {
	got, err := ParseWrk(wrkReport)
	if err != nil {
		t.Fatal(err)
	}
	want := WrkResult{Requests: 688, PerSecond: 680.39, Latency50: 679 * time.Microsecond, Latency99: 1200 * time.Millisecond, Non2xx: 5, SocketErr: 3}
	if got != want {
		t.Errorf("ParseWrk = %+v, want %+v", got, want)
	}
	if _, err := ParseWrk("unable to connect to 127.0.0.1:1 Connection refused"); err == nil {
		t.Error("a report without a rate parsed")
	}
}

// TestNginxAnchor starts nginx on a generated configuration, serves a body
// plain and through gzip_static, loads it briefly with wrk and stops it. It
// needs Debian's nginx and wrk (scripts/bench.sh installs them).
func TestNginxAnchor(t *testing.T) {
	nginxBin, err1 := exec.LookPath("nginx")
	wrkBin, err2 := exec.LookPath("wrk")
	if err1 != nil || err2 != nil {
		// scripts/test.sh installs them, so in CI their absence is a failure.
		if os.Getenv("CI") == "true" {
			t.Fatal("nginx or wrk is not installed (scripts/test.sh installs them)")
		}
		t.Skip("nginx or wrk is not installed (scripts/bench.sh installs them)")
	}
	ctx := context.Background()
	n, err := StartNginx(ctx, nginxBin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			n.Stop()
		}
	}()
	body := []byte(strings.Repeat(`{"usageDate":"2025-06-01","usageAmount":12.34},`, 200))
	gzLen, err := n.Put("q1.json", body)
	if err != nil {
		t.Fatal(err)
	}
	if gzLen <= 0 || gzLen >= len(body)/5 {
		t.Errorf("gzip of a repetitive %d-byte body is %d bytes", len(body), gzLen)
	}
	status, enc, got, err := Fetch(ctx, n.BaseURL+"/plain/q1.json", map[string]string{"Accept-Encoding": "gzip"})
	if err != nil || status != 200 || enc != "" || !bytes.Equal(got, body) {
		t.Fatalf("plain: %d %q %d bytes, %v; want 200, identity, %d bytes", status, enc, len(got), err, len(body))
	}
	status, enc, got, err = Fetch(ctx, n.BaseURL+"/gz/q1.json", map[string]string{"Accept-Encoding": "gzip"})
	if err != nil || status != 200 || enc != "gzip" || len(got) != gzLen {
		t.Fatalf("gzip_static: %d %q %d bytes, %v; want 200, gzip, %d bytes", status, enc, len(got), err, gzLen)
	}
	if plain, err := Gunzip(got); err != nil || !bytes.Equal(plain, body) {
		t.Fatalf("gzip_static body does not decode to the file: %v", err)
	}
	r, err := Wrk(ctx, wrkBin, n.BaseURL+"/gz/q1.json", 1, 2, 300*time.Millisecond, map[string]string{"Accept-Encoding": "gzip"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.PerSecond <= 0 || r.Non2xx != 0 || r.SocketErr != 0 {
		t.Errorf("wrk against nginx: %+v", r)
	}
	r, err = Wrk(ctx, wrkBin, n.BaseURL+"/plain/missing.json", 1, 2, 200*time.Millisecond, nil)
	if err != nil || r.Non2xx == 0 {
		t.Errorf("wrk on a missing file: %+v, %v; want non-2xx answers counted", r, err)
	}
	if _, err := Wrk(ctx, wrkBin, "http://example.com/", 1, 1, time.Second, nil); err == nil {
		t.Error("wrk ran against a host that is not loopback")
	}
	addr := strings.TrimPrefix(n.BaseURL, "http://")
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if err := n.Stop(); err != nil {
		t.Errorf("a second Stop: %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("nginx still listens on %s after Stop", addr)
	}
}
