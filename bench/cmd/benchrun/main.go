// Command benchrun is the driver of scripts/bench.sh: for each dataset size
// it generates the reference dataset, loads it into the embedded store (and
// PostgreSQL when asked) and into DuckDB, times Q1–Q4 on our engine, on
// DuckDB (raw line items and a rollup table) and end to end through a
// costexplorer server running as a child process, measures the server's
// throughput and peak memory, and writes BENCHMARKS.md and a chart.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is the whole configuration of a run.
type config struct {
	Sizes       []int
	Work        string // scratch directory (databases, server logs)
	Bin         string // the costexplorer binary
	Out         string // BENCHMARKS.md
	Chart       string // the PNG
	Results     string // the raw figures as JSON
	PGDSN       string
	PGMax       int // PostgreSQL only at sizes up to this many line items (0: every size)
	EngineRuns  int
	DuckRuns    int
	FormRuns    int
	Wrk, Nginx  string        // the binaries; either empty: GETs measured by the Go load generator
	WrkFor      time.Duration // each wrk run
	DuckOnly    bool
	E2ERuns     int
	GetCount    int
	CreateCount int
	Workers     int
	LoadFor     time.Duration
	Keep        bool
	ProfileDir  string // with the server's profiles of extra, unmeasured runs
	ServerOnly  bool   // measure the server alone, on the store a -keep run left
	E2EOnly     bool   // of the server, end to end and concurrent queries only
	Notes       string // appended to the report
	Render      string // re-render the report from these figures (JSON) instead of measuring
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	cfg := config{}
	fs := flag.NewFlagSet("benchrun", flag.ContinueOnError)
	sizes := fs.String("sizes", "20000000", "dataset sizes in line items, space- or comma-separated")
	fs.StringVar(&cfg.Work, "work", "", "scratch directory (required)")
	fs.StringVar(&cfg.Bin, "bin", "", "the costexplorer binary (required)")
	fs.StringVar(&cfg.Out, "out", "", "write the report here (BENCHMARKS.md); empty: stdout only")
	fs.StringVar(&cfg.Chart, "chart", "", "write the PNG chart here")
	fs.StringVar(&cfg.Results, "results", "", "write the raw figures as JSON here")
	fs.StringVar(&cfg.PGDSN, "pg-dsn", "", "also ingest into this PostgreSQL database (a schema costexplorer_bench is dropped and recreated)")
	fs.IntVar(&cfg.PGMax, "pg-max", 0, "with -pg-dsn, ingest into PostgreSQL only at sizes up to this many line items (0: every size; its target is set at 20 M)")
	fs.IntVar(&cfg.EngineRuns, "engine-runs", 1000, "engine evaluations per query")
	fs.IntVar(&cfg.DuckRuns, "duck-runs", 31, "DuckDB executions per query on the rollup table and in the fastest form over the line items")
	fs.IntVar(&cfg.FormRuns, "form-runs", 7, "DuckDB executions per query in each form tried over the line items")
	fs.StringVar(&cfg.Wrk, "wrk", "", "wrk binary: measure GETs of ready results with it, against our server and nginx (needs -nginx)")
	fs.StringVar(&cfg.Nginx, "nginx", "", "nginx binary: the anchor of the GET throughput test (serves the same bytes, plain and with gzip_static)")
	fs.DurationVar(&cfg.WrkFor, "wrk-for", 5*time.Second, "duration of each wrk run (whole seconds)")
	fs.BoolVar(&cfg.DuckOnly, "duck-only", false, "measure DuckDB and the engine only (no store, no server): the anchor alone")
	fs.IntVar(&cfg.E2ERuns, "e2e-runs", 101, "end-to-end queries per reference query (each a distinct query)")
	fs.IntVar(&cfg.GetCount, "get-count", 20000, "GETs of a ready result per query in the throughput test")
	fs.IntVar(&cfg.CreateCount, "create-count", 2000, "distinct query creations in the throughput test")
	fs.IntVar(&cfg.Workers, "workers", 8, "concurrent connections of the load generator")
	fs.DurationVar(&cfg.LoadFor, "load-for", 10*time.Second, "time bound of each load test")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the databases in the scratch directory")
	fs.BoolVar(&cfg.ServerOnly, "server-only", false, "measure the server alone (end to end, memory, GETs, creations) on the store an earlier -keep run left in -work: the dataset is generated again for its queries only, not stored")
	fs.BoolVar(&cfg.E2EOnly, "e2e-only", false, "of the server's figures, measure end to end and concurrent queries only (no GETs of ready results, no creations)")
	fs.StringVar(&cfg.ProfileDir, "profile", "", "write the server's CPU profiles and execution traces of extra end-to-end runs of each query, and its heap after the concurrent run, to this directory")
	fs.StringVar(&cfg.Notes, "notes", "", "a Markdown file appended to the report (the analysis of missed targets)")
	fs.StringVar(&cfg.Render, "render", "", "write the report and chart from these results JSON files (comma-separated: the runs' sizes in that order, each run's date and commit kept) instead of measuring")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, f := range strings.FieldsFunc(*sizes, func(r rune) bool { return r == ' ' || r == ',' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1000 {
			return fmt.Errorf("-sizes: %q is not a number of line items ≥ 1000", f)
		}
		cfg.Sizes = append(cfg.Sizes, n)
	}
	if cfg.Render != "" {
		rep, err := readResults(strings.Split(cfg.Render, ","))
		if err != nil {
			return err
		}
		if cfg.Results != "" {
			if err := writeJSON(cfg.Results, rep); err != nil {
				return err
			}
		}
		return write(&cfg, rep)
	}
	if len(cfg.Sizes) == 0 || cfg.Work == "" || cfg.Bin == "" && !cfg.DuckOnly {
		return errors.New("-sizes, -work and -bin are required")
	}
	if err := os.MkdirAll(cfg.Work, 0o755); err != nil {
		return err
	}

	rep := &report{Machine: describeMachine(), Started: time.Now().UTC(), Workers: cfg.Workers, LoadFor: cfg.LoadFor}
	if cfg.Wrk != "" && cfg.Nginx != "" {
		rep.WrkFor = cfg.WrkFor
	}
	for _, n := range cfg.Sizes {
		logf("=== %d line items", n)
		r, err := measureSize(ctx, &cfg, n)
		if err != nil {
			return fmt.Errorf("%d line items: %w", n, err)
		}
		rep.Sizes = append(rep.Sizes, r)
		if cfg.Results != "" {
			if err := writeJSON(cfg.Results, rep); err != nil {
				return err
			}
		}
	}
	rep.Took = time.Since(rep.Started)
	if cfg.Results != "" {
		if err := writeJSON(cfg.Results, rep); err != nil {
			return err
		}
	}
	return write(&cfg, rep)
}

// readResults reads the results of one or more runs. Several runs become
// one report: their sizes in the order given, each with the date, duration
// and commit of the run that measured it (Runs).
func readResults(paths []string) (*report, error) {
	var rep *report
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		r := &report{}
		if err := json.Unmarshal(b, r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(r.Runs) == 0 {
			r.Runs = []benchRun{{Started: r.Started, Took: r.Took, Commit: r.Machine.Commit, Sizes: r.sizes()}}
		}
		if rep == nil {
			rep = r
			continue
		}
		rep.Sizes = append(rep.Sizes, r.Sizes...)
		rep.Runs = append(rep.Runs, r.Runs...)
	}
	if len(rep.Runs) == 1 {
		rep.Runs = nil
	}
	return rep, nil
}

// write renders the chart and the report.
func write(cfg *config, rep *report) error {
	if cfg.Chart != "" {
		if err := rep.writeChart(cfg.Chart); err != nil {
			return err
		}
	}
	md := rep.markdown(cfg)
	if cfg.Notes != "" {
		notes, err := os.ReadFile(cfg.Notes)
		if err != nil {
			return err
		}
		md += "\n" + string(notes)
	}
	if cfg.Out != "" {
		if err := os.WriteFile(cfg.Out, []byte(md), 0o644); err != nil {
			return err
		}
		logf("wrote %s", cfg.Out)
	} else {
		fmt.Print(md)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// sizeDir is the scratch directory of one size.
func (c *config) sizeDir(n int) string { return filepath.Join(c.Work, strconv.Itoa(n)) }
