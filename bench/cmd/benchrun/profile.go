package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// profiler fetches Go's profiles from the server's metrics listener (serve
// --metrics-addr … --pprof) into a directory, one file per phase. It is set
// only with -profile: profiled phases are extra runs after the measured
// ones, so that no reported figure carries a profiler's cost.
type profiler struct {
	base string // http://127.0.0.1:PORT
	dir  string
	size int
}

// profilerFlags picks a free loopback port for the metrics listener and
// returns the server flags that open it with the profiles.
func profilerFlags(cfg *config, size int) (*profiler, []string, error) {
	if cfg.ProfileDir == "" {
		return nil, nil, nil
	}
	if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	return &profiler{base: "http://" + addr, dir: cfg.ProfileDir, size: size}, []string{"--metrics-addr", addr, "--pprof"}, nil
}

// during runs op over and over while the server records a CPU profile for
// cpuFor and then an execution trace for traceFor (both 0: skipped), and
// writes them as <size>-<name>.cpu.pprof and <size>-<name>.trace.
func (p *profiler) during(ctx context.Context, name string, cpuFor, traceFor time.Duration, op func(ctx context.Context) error) error {
	if p == nil {
		return nil
	}
	for _, ph := range []struct {
		path, ext string
		d         time.Duration
	}{{"profile", "cpu.pprof", cpuFor}, {"trace", "trace", traceFor}} {
		if ph.d <= 0 {
			continue
		}
		fetched := make(chan error, 1)
		go func() {
			fetched <- p.fetch(ctx, fmt.Sprintf("/debug/pprof/%s?seconds=%d", ph.path, int(ph.d.Seconds())), name+"."+ph.ext)
		}()
		var opErr error
	loop:
		for {
			select {
			case err := <-fetched:
				if err != nil {
					return fmt.Errorf("%s %s: %w", name, ph.path, err)
				}
				break loop
			default:
			}
			if opErr == nil {
				opErr = op(ctx)
			} else {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if opErr != nil {
			return fmt.Errorf("%s under the profiler: %w", name, opErr)
		}
	}
	logf("%s: profiles in %s", name, p.dir)
	return nil
}

// snapshot writes one of the server's point-in-time profiles (heap,
// goroutine) as <size>-<name>.pprof.
func (p *profiler) snapshot(ctx context.Context, profile, name string) error {
	if p == nil {
		return nil
	}
	return p.fetch(ctx, "/debug/pprof/"+profile, name+".pprof")
}

// metrics writes the server's /metrics (the Go runtime's memory classes
// beside the engine's) as <size>-<name>.txt.
func (p *profiler) metrics(ctx context.Context, name string) error {
	if p == nil {
		return nil
	}
	return p.fetch(ctx, "/metrics", name+".txt")
}

func (p *profiler) fetch(ctx context.Context, path, file string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", p.base+path, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("GET %s: %d %s", path, res.StatusCode, b)
	}
	f, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("%d-%s", p.size, file)))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
