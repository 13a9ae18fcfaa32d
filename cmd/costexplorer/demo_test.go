package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/logtest"
)

// runningServer is a costexplorer command serving in-process.
type runningServer struct {
	URL    string
	Stdout *logtest.Buffer
	Stderr *logtest.Buffer
	stop   context.CancelFunc
	done   chan int
}

// startCommand runs `costexplorer args…` in-process until it serves, with a
// pinned clock, and stops it when the test ends.
func startCommand(t *testing.T, now time.Time, args ...string) *runningServer {
	t.Helper()
	return startMain(t, func() time.Time { return now }, args...)
}

// startMain runs `costexplorer args…` in-process until it serves, on the
// clock now (the real one when nil), and stops it when the test ends.
func startMain(t *testing.T, now func() time.Time, args ...string) *runningServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &runningServer{Stdout: &logtest.Buffer{}, Stderr: &logtest.Buffer{}, stop: cancel, done: make(chan int, 1)}
	ready := make(chan string, 1)
	m := NewMain(strings.NewReader(""), s.Stdout, s.Stderr, func(string) string { return "" })
	if now != nil {
		m.Now = now
	}
	m.Ready = func(u string) { ready <- u }
	go func() { s.done <- m.Run(ctx, args) }()
	select {
	case s.URL = <-ready:
	case code := <-s.done:
		t.Fatalf("costexplorer %v exited with %d before serving:\n%s", args, code, s.Stderr.String())
	case <-time.After(90 * time.Second):
		cancel()
		t.Fatalf("costexplorer %v did not serve within 90 s:\n%s", args, s.Stderr.String())
	}
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Stop stops the server and checks that it exited cleanly.
func (s *runningServer) Stop(t *testing.T) {
	t.Helper()
	if s.stop == nil {
		return
	}
	s.stop()
	s.stop = nil
	select {
	case code := <-s.done:
		if code != 0 {
			t.Errorf("server exited with %d:\n%s", code, s.Stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Error("server did not stop within 30 s")
	}
}

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestDemoCreatesDataOnceAndPrintsWorkingCredentials(t *testing.T) {
	dir := t.TempDir()
	s := startCommand(t, testNow, "demo", "--addr", "127.0.0.1:0", "--data-dir", dir, "--size", "20000")

	out := s.Stdout.String()
	var creds demo.Credentials
	b, err := os.ReadFile(filepath.Join(dir, demo.CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &creds); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{s.URL, creds.OrgID, creds.PublicKey, creds.PrivateKey, creds.ClientID, creds.ClientSecret, "curl -s --digest", "grant_type=client_credentials", "/billing/costExplorer/usage"} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, demo.CredentialsFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	resp, err := http.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}
	// The web page is mounted: an anonymous visitor is sent to sign in.
	page, err := http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || !strings.Contains(string(html), "<form") || !strings.Contains(strings.ToLower(string(html)), "sign in") {
		t.Errorf("GET / = %d, want the sign-in page:\n%.500s", page.StatusCode, html)
	}
	if !strings.Contains(s.Stderr.String(), "generated and stored") {
		t.Errorf("first start did not generate data:\n%s", s.Stderr.String())
	}
	s.Stop(t)

	// A second start reuses the data and the credentials.
	s2 := startCommand(t, testNow, "demo", "--addr", "127.0.0.1:0", "--data-dir", dir, "--size", "20000")
	if !strings.Contains(s2.Stderr.String(), "reusing") {
		t.Errorf("second start did not reuse the data:\n%s", s2.Stderr.String())
	}
	if !strings.Contains(s2.Stdout.String(), creds.PrivateKey) {
		t.Error("second start printed other credentials")
	}
}

func TestServeRejectsInvalidConfiguration(t *testing.T) {
	var stderr bytes.Buffer
	m := NewMain(strings.NewReader(""), &bytes.Buffer{}, &stderr, func(k string) string {
		if k == "COSTEXPLORER_WORKERS" {
			return "0"
		}
		return ""
	})
	code := m.Run(context.Background(), []string{"serve", "--data-dir", t.TempDir(), "--log-format", "xml"})
	if code != 2 {
		t.Errorf("exit = %d, want 2", code)
	}
	for _, want := range []string{"--log-format", "--workers"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("error does not name %s:\n%s", want, stderr.String())
		}
	}
}

// TestDemoNowGeneratesAndAdvances starts the demo as of a day, then on later
// days: each later start advances the stored data (restating recent days,
// closing the month that ended), a start without --now keeps it, and going
// back is a usage error. The store stays consistent throughout.
func TestDemoNowGeneratesAndAdvances(t *testing.T) {
	dir := t.TempDir()
	start := func(args ...string) string {
		t.Helper()
		s := startCommand(t, testNow, append([]string{"demo", "--addr", "127.0.0.1:0", "--data-dir", dir, "--size", "20000"}, args...)...)
		s.Stop(t)
		return s.Stderr.String()
	}
	if out := start("--now", "2026-11-28"); !strings.Contains(out, "generated and stored") || !strings.Contains(out, "as of 2026-11-28") {
		t.Fatalf("first start as of 2026-11-28:\n%s", out)
	}
	if out := start("--now", "2026-11-29"); !strings.Contains(out, "advanced from 2026-11-28 to 2026-11-29") {
		t.Fatalf("start as of the next day:\n%s", out)
	}
	out := start("--now", "2026-12-02")
	if !strings.Contains(out, "advanced from 2026-11-29 to 2026-12-02") || strings.Contains(out, " 0 removed") {
		t.Fatalf("start across the month end (restating 2026-11-29):\n%s", out)
	}
	if out := start(); !strings.Contains(out, "reusing") || !strings.Contains(out, "as of 2026-12-02") {
		t.Fatalf("start without --now:\n%s", out)
	}
	// The environment sets --now as it sets every flag.
	r := runCLI(t, map[string]string{"COSTEXPLORER_NOW": "2026-11-30"}, "", "demo", "--addr", "127.0.0.1:0", "--data-dir", dir)
	r.wantCode(t, 2)
	if !strings.Contains(r.stderr, "cannot go back") {
		t.Fatalf("going back: %s", r.stderr)
	}
	if r := runAdminIn(t, dir, "verify").wantCode(t, 0); !strings.Contains(r.stdout, "is consistent") {
		t.Fatalf("verify: %s", r.stdout)
	}
	db := openAdminStore(t, dir)
	stats, err := db.UsageStats(t.Context())
	if err != nil || stats.LastDay.String() != "2026-12-02" {
		t.Fatalf("stats %+v, %v; want data as of 2026-12-02", stats, err)
	}
}
