package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/focus"
)

const exportUsage = `export focus --org ORG --from YYYY-MM --to YYYY-MM [--format csv|parquet] [--spec 1.3|1.2] [--output FILE] [--data-dir DIR | --db DSN]

Exports the invoices of ORG (and of the organizations it pays for) of the
months --from to --to, inclusive, as a FinOps FOCUS Cost and Usage dataset:
one row per line item, plus a row for an invoice's sales tax and one for
credits carried to later invoices. The columns and how each is derived are
in docs/focus.md.

The file is gzip-compressed CSV (the default) or Parquet, written to FILE or
to standard output, at constant memory whatever the period. On a terminal,
progress goes to standard error.`

var exportExamples = []string{
	"costexplorer export focus --org 5f0c... --from 2026-01 --to 2026-06 --output focus-h1.csv.gz",
	"costexplorer export focus --org 5f0c... --from 2026-06 --to 2026-06 --format parquet --output june.parquet",
	"costexplorer export focus --org 5f0c... --from 2025-01 --to 2025-12 --spec 1.2 | gunzip | head",
}

// runExport runs `costexplorer export focus …`.
func runExport(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("export focus", exportUsage, exportExamples...)
	var sf storeFlags
	sf.register(fs, m)
	org := fs.String("org", "", "organization id (24 hexadecimal characters)")
	from := fs.String("from", "", "first month, YYYY-MM")
	to := fs.String("to", "", "last month, YYYY-MM (inclusive)")
	format := fs.String("format", "csv", "file format: csv (gzip-compressed) or parquet")
	spec := fs.String("spec", string(focus.Latest), "FOCUS version: 1.3 or 1.2")
	output := fs.String("output", "", "file to write (default: standard output)")
	rest, err := parseKind(m, fs, args, "export", "focus", "costexplorer export focus …")
	if err != nil {
		return err
	}
	req, err := exportRequest(*org, *from, *to, *format, *spec, rest)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}

	store, err := m.openStore(ctx, &sf)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.Organization(ctx, req.OrgID); err != nil {
		if costexplorer.IsNotFound(err) {
			return fmt.Errorf("no organization %s in %s", req.OrgID, sf.describe())
		}
		return err
	}

	var w io.Writer = m.Stdout
	var file *os.File
	if *output != "" && *output != "-" {
		if file, err = os.Create(*output); err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	req.Progress = m.exportProgress()
	sum, err := focus.Export(ctx, store, req, bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && file != nil {
		err = file.Close()
	}
	if err != nil {
		if file != nil {
			os.Remove(*output)
		}
		return err
	}
	if file != nil {
		fmt.Fprintf(m.Stderr, "%s: %d rows from %d invoices\n", *output, sum.Rows, sum.Invoices)
	}
	return nil
}

// exportRequest checks the flags of an export.
func exportRequest(org, from, to, format, spec string, rest []string) (focus.Request, error) {
	var req focus.Request
	var err error
	switch {
	case len(rest) > 0:
		return req, fmt.Errorf("unexpected argument %q", rest[0])
	case org == "":
		return req, errors.New("--org is required")
	case !costexplorer.IsID(org):
		return req, fmt.Errorf("--org %q: an organization id is 24 lower-case hexadecimal characters", org)
	case from == "" || to == "":
		return req, errors.New("--from and --to are required (YYYY-MM)")
	}
	req.OrgID = org
	if req.From, err = costexplorer.ParseMonth(from); err != nil {
		return req, fmt.Errorf("--from %q: %v", from, err)
	}
	if req.To, err = costexplorer.ParseMonth(to); err != nil {
		return req, fmt.Errorf("--to %q: %v", to, err)
	}
	if req.From > req.To {
		return req, fmt.Errorf("--from %s is after --to %s", from, to)
	}
	if req.Format, err = focus.ParseFormat(format); err != nil {
		return req, fmt.Errorf("--format: %v", err)
	}
	if req.Spec, err = focus.ParseSpec(spec); err != nil {
		return req, fmt.Errorf("--spec: %v", err)
	}
	return req, nil
}

// exportProgress reports rows written on standard error when it is a
// terminal; nil otherwise.
func (m *Main) exportProgress() func(int64, bool) {
	f, ok := m.Stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	start := time.Now()
	return func(rows int64, done bool) {
		secs := time.Since(start).Seconds()
		fmt.Fprintf(f, "\r\033[K%d rows, %.1fs, %.0f rows/s", rows, secs, float64(rows)/max(secs, 1e-9))
		if done {
			fmt.Fprintln(f)
		}
	}
}
