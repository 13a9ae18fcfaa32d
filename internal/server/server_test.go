package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/internal/server"
	"github.com/costexplorer/costexplorer/internal/servertest"
)

// get fetches url without following redirects.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestComposition(t *testing.T) {
	t.Run("OK_WebUIAndMetricsOnThePublicHandler", func(t *testing.T) {
		s := servertest.New(t, servertest.Options{NoWorkers: true})
		if code, _ := get(t, s.URL+"/"); code != http.StatusSeeOther {
			t.Errorf("GET /: %d, want the web UI's redirect to sign-in", code)
		}
		if code, body := get(t, s.URL+"/metrics"); code != 200 || !strings.Contains(body, "costexplorer_http_requests_total") {
			t.Errorf("GET /metrics: %d", code)
		}
	})
	t.Run("OK_PprofOnMetricsListenerOnly", func(t *testing.T) {
		s := servertest.New(t, servertest.Options{NoWorkers: true, Config: func(c *server.Config) { c.MetricsApart, c.Pprof = true, true }})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.ServeMetrics(ln) }()
		if code, body := get(t, "http://"+ln.Addr().String()+"/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile:") {
			t.Errorf("GET /debug/pprof/goroutine on the metrics listener: %d", code)
		}
		if code, body := get(t, s.URL+"/debug/pprof/goroutine?debug=1"); code == 200 || strings.Contains(body, "goroutine profile:") {
			t.Errorf("public GET /debug/pprof/goroutine: %d, want no profile", code)
		}
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeMetrics after Shutdown: %v", err)
		}
	})
	t.Run("OK_NoWebUI", func(t *testing.T) {
		s := servertest.New(t, servertest.Options{NoWorkers: true, Config: func(c *server.Config) { c.NoWebUI = true }})
		if code, body := get(t, s.URL+"/"); code != http.StatusNotFound || !strings.Contains(body, `"errorCode":"RESOURCE_NOT_FOUND"`) {
			t.Errorf("GET /: %d %s, want the API's 404", code, body)
		}
	})
	t.Run("OK_MetricsApart", func(t *testing.T) {
		s := servertest.New(t, servertest.Options{NoWorkers: true, Config: func(c *server.Config) { c.MetricsApart = true }})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.ServeMetrics(ln) }()
		if code, body := get(t, s.URL+"/metrics"); code != http.StatusNotFound || strings.Contains(body, "costexplorer_http_requests_total") {
			t.Errorf("public GET /metrics: %d, want 404", code)
		}
		if code, body := get(t, "http://"+ln.Addr().String()+"/metrics"); code != 200 || !strings.Contains(body, "costexplorer_http_requests_total") {
			t.Errorf("GET /metrics on its own listener: %d", code)
		}
		if code, _ := get(t, "http://"+ln.Addr().String()+"/healthz"); code != http.StatusNotFound {
			t.Errorf("GET /healthz on the metrics listener: %d, want 404", code)
		}
		if code, _ := get(t, "http://"+ln.Addr().String()+"/debug/pprof/"); code != http.StatusNotFound {
			t.Errorf("GET /debug/pprof/ on the metrics listener without Pprof: %d, want 404", code)
		}
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeMetrics after Shutdown: %v", err)
		}
	})
}

// TestServeAfterShutdownReturnsAtOnce checks that a listener handed to
// Serve after Shutdown is closed, not served forever.
func TestServeAfterShutdownReturnsAtOnce(t *testing.T) {
	s := servertest.New(t, servertest.Options{NoWorkers: true})
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the listener still accepts connections")
	}
}
