// Command focusbench measures `costexplorer export focus` (issue 16) beside
// DuckDB's own COPY … TO of the same rows into the same format, in the same
// run: gzip CSV and Parquet, wall and CPU time, and the exporting process's
// peak resident set (its growth is the peak less that of an export of an
// empty period, the process's floor).
//
//	go run ./cmd/focusbench -work /tmp/fb -data-dir DIR -org ORG -bin /path/to/costexplorer[,/path/to/other]
//
// The store in -data-dir is made by `costexplorer demo --size N`. DuckDB's
// table is loaded from our own Parquet export (so it holds exactly the rows
// we write, with their types) into a DuckDB file in -work; each COPY then
// writes that table as DuckDB writes the format by default (gzip CSV with a
// header; Parquet with zstd, as ours). With several binaries, DuckDB first
// checks that their Parquet files hold the same rows (-compare).
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/costexplorer/costexplorer/bench"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "focusbench:", err)
		os.Exit(1)
	}
}

// sample is one timed run.
type sample struct {
	wall, cpu time.Duration
	maxRSSKiB int64
}

func run(ctx context.Context) error {
	work := flag.String("work", "", "scratch directory (required)")
	dataDir := flag.String("data-dir", "", "the store to export from (costexplorer demo --data-dir)")
	org := flag.String("org", "", "the organization to export (its billing account)")
	bins := flag.String("bin", "", "costexplorer binaries to measure, comma-separated")
	runs := flag.Int("runs", 3, "runs of each measurement")
	formatList := flag.String("formats", "csv,parquet", "formats to measure, comma-separated (without parquet, DuckDB's table is loaded from the Parquet file an earlier run left in -work)")
	compare := flag.Bool("compare", true, "with several binaries, check with DuckDB that their Parquet files hold the same rows")
	flag.Parse()
	formats := strings.Split(*formatList, ",")
	if *work == "" || *dataDir == "" || *org == "" || *bins == "" {
		return fmt.Errorf("-work, -data-dir, -org and -bin are required")
	}
	if err := os.MkdirAll(*work, 0o755); err != nil {
		return err
	}
	export := func(bin, format, to, out string) (sample, error) {
		cmd := exec.CommandContext(ctx, bin, "export", "focus", "--data-dir", *dataDir, "--org", *org,
			"--from", "2000-01", "--to", to, "--format", format, "--output", out)
		cmd.Stderr = os.Stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return sample{}, fmt.Errorf("%s: %w", cmd, err)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		s := sample{time.Since(start), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), ru.Maxrss}
		// Each run as it ends, so that a long run's figures are not lost.
		fmt.Fprintf(os.Stderr, "%s %s to %s: %.2f s wall, %.2f s CPU, peak RSS %d MB\n", filepath.Base(bin), format, to, s.wall.Seconds(), s.cpu.Seconds(), s.maxRSSKiB>>10)
		return s, nil
	}

	bs := strings.Split(*bins, ",")
	ourParquet := filepath.Join(*work, fmt.Sprintf("ours-%s.parquet", filepath.Base(bs[len(bs)-1])))
	results := map[string][]sample{}
	floor := map[string][]sample{}
	for i := 0; i < *runs; i++ {
		for _, bin := range strings.Split(*bins, ",") {
			s, err := export(bin, "csv", "2000-01", filepath.Join(*work, "empty.csv.gz"))
			if err != nil {
				return err
			}
			floor[bin] = append(floor[bin], s)
			for _, format := range formats {
				out := filepath.Join(*work, fmt.Sprintf("ours-%s.%s", filepath.Base(bin), format))
				s, err := export(bin, format, "2099-12", out)
				if err != nil {
					return err
				}
				key := bin + "\x00" + format
				results[key] = append(results[key], s)
				if format != "parquet" {
					os.Remove(out)
				}
			}
		}
	}

	// DuckDB: a table of our rows, then COPY … TO each format.
	duckPath := filepath.Join(*work, "focus.duckdb")
	os.Remove(duckPath)
	os.Remove(duckPath + ".wal")
	db, err := sql.Open("duckdb", duckPath)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE TABLE focus AS SELECT * FROM read_parquet('%s')", ourParquet)); err != nil {
		return err
	}
	if *compare && len(bs) > 1 && slices.Contains(formats, "parquet") {
		if err := sameRows(ctx, db, *work, bs); err != nil {
			return err
		}
	}
	var rows int64
	var threads int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*), current_setting('threads') FROM focus").Scan(&rows, &threads); err != nil {
		return err
	}
	fmt.Printf("| who | format | rows | wall (median) | CPU (median) | peak RSS (median) | RSS growth |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, bin := range strings.Split(*bins, ",") {
		fl := median(floor[bin])
		for _, format := range formats {
			m := median(results[bin+"\x00"+format])
			fmt.Printf("| %s | %s | %d | %.2f s | %.2f s | %d MB | %d MB |\n", filepath.Base(bin), format, rows,
				m.wall.Seconds(), m.cpu.Seconds(), m.maxRSSKiB>>10, (m.maxRSSKiB-fl.maxRSSKiB)>>10)
		}
	}
	copies := map[string]string{
		"csv":     "COPY focus TO '%s' (FORMAT csv, HEADER, COMPRESSION gzip)",
		"parquet": "COPY focus TO '%s' (FORMAT parquet, COMPRESSION zstd)",
	}
	for _, format := range formats {
		var ss []sample
		for i := 0; i < *runs; i++ {
			out := filepath.Join(*work, "duck."+format)
			cpu0, start := bench.CPUTime(), time.Now()
			if _, err := db.ExecContext(ctx, fmt.Sprintf(copies[format], out)); err != nil {
				return err
			}
			ss = append(ss, sample{wall: time.Since(start), cpu: bench.CPUTime() - cpu0})
			fmt.Fprintf(os.Stderr, "DuckDB COPY %s: %.2f s wall, %.2f s CPU\n", format, ss[len(ss)-1].wall.Seconds(), ss[len(ss)-1].cpu.Seconds())
			os.Remove(out)
		}
		m := median(ss)
		fmt.Printf("| DuckDB COPY (%d threads) | %s | %d | %.2f s | %.2f s | | |\n", threads, format, rows, m.wall.Seconds(), m.cpu.Seconds())
	}
	return nil
}

// sameRows checks that the Parquet files each binary wrote in work hold
// the same rows, with the same types, as DuckDB reads them: the number of
// rows and the sum of the rows' hashes.
func sameRows(ctx context.Context, db *sql.DB, work string, bins []string) error {
	var first string
	for _, bin := range bins {
		path := filepath.Join(work, fmt.Sprintf("ours-%s.parquet", filepath.Base(bin)))
		var sum string
		q := fmt.Sprintf("SELECT count(*)::VARCHAR || ' ' || sum(hash(t)::HUGEINT)::VARCHAR FROM read_parquet('%s') t", path)
		if err := db.QueryRowContext(ctx, q).Scan(&sum); err != nil {
			return fmt.Errorf("checksum of %s: %w", path, err)
		}
		fmt.Fprintf(os.Stderr, "%s: %s rows, DuckDB checksum %s\n", filepath.Base(path), strings.Fields(sum)[0], strings.Fields(sum)[1])
		if first == "" {
			first = sum
		} else if sum != first {
			return fmt.Errorf("%s holds other rows than %s's file", path, filepath.Base(bins[0]))
		}
	}
	return nil
}

// median returns the run of median wall time, with the median CPU time and
// peak RSS of the runs.
func median(ss []sample) sample {
	var walls, cpus []time.Duration
	var rss []time.Duration
	for _, s := range ss {
		walls, cpus, rss = append(walls, s.wall), append(cpus, s.cpu), append(rss, time.Duration(s.maxRSSKiB))
	}
	return sample{bench.Summarise(walls).Median, bench.Summarise(cpus).Median, int64(bench.Summarise(rss).Median)}
}
