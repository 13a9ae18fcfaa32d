package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/importer"
)

const importUsage = `import usage [--data-dir DIR | --db DSN] FILE…

Imports usage from Atlas invoice CSV files (columns Date, Usage Date,
Description, Note, Organization Name, Organization ID, Project, Project ID,
SKU, Region, Cluster, Replica Set, Config Server, Application, Unit,
Unit Price, Quantity, Discount Percent, Amount; in any order, names matched
case-insensitively; Usage Date, Organization Name, Organization ID, SKU and
Amount are required). FILE "-" reads standard input.

Each file is imported on its own and all-or-nothing: a bad row rejects its
whole file with FILE:LINE:COLUMN and the store keeps none of it, while the
other files are still imported (the exit status is then 1). Importing a file
again inserts nothing; identical rows within one file are all kept.

A file of any size is read and stored as it is read, in one transaction, in
bounded memory (under 256 MB); a few bytes a row go to a temporary
file (TMPDIR) to count repeated rows.`

var importExamples = []string{
	"costexplorer import usage invoice-2024-06.csv",
	"costexplorer import usage --data-dir /var/lib/costexplorer invoices/*.csv",
	"costexplorer import usage --db postgres://costexplorer@db/costexplorer june.csv july.csv",
	"gunzip -c invoice.csv.gz | costexplorer import usage -",
}

// importMemoryLimit is the soft limit of the Go heap while importing.
const importMemoryLimit = 128 << 20

// runImport runs `costexplorer import usage FILE…`: one line per file on
// standard output, one error per rejected file on standard error.
func runImport(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("import usage", importUsage, importExamples...)
	var sf storeFlags
	sf.register(fs, m)
	files, err := parseKind(m, fs, args, "import", "usage", "costexplorer import usage FILE…")
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: no FILE to import", errUsage)
	}
	// The importer's memory is bounded (chunks, a filter, the store's page
	// cache), but the collector lets the heap grow to twice what is live
	// between cycles; a soft limit keeps the peak near the live size. The
	// environment's GOMEMLIMIT, if any, is the user's to set.
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(importMemoryLimit))
	}
	// A CPU profile of the import, open to close, for measuring it
	// (scripts/import-bench.sh): not a flag, it is not for its users.
	stop, err := startCPUProfile(m.Getenv("COSTEXPLORER_IMPORT_CPUPROFILE"))
	if err != nil {
		return err
	}
	defer stop()
	store, err := m.openStore(ctx, &sf)
	if err != nil {
		return err
	}
	defer store.Close()

	var all importer.Summary
	failed := 0
	stdinUsed := false
	for _, file := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		var sum importer.Summary
		var err error
		switch {
		case file == "-" && stdinUsed:
			err = fmt.Errorf("-: standard input can be imported once")
		case file == "-":
			stdinUsed = true
			sum, err = importer.Import(ctx, store, "-", m.Stdin)
		default:
			sum, err = importer.ImportFile(ctx, store, file)
		}
		if err != nil {
			failed++
			fmt.Fprintln(m.Stderr, err)
			continue
		}
		printSummary(m.Stdout, sum)
		all.Rows += sum.Rows
		all.Inserted += sum.Inserted
		all.Duplicates += sum.Duplicates
		all.Total += sum.Total
	}
	if len(files) > 1 {
		all.File = fmt.Sprintf("%d of %d files imported", len(files)-failed, len(files))
		printSummary(m.Stdout, all)
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d files rejected; the store holds none of their rows", failed, len(files))}
	}
	return nil
}

func printSummary(w io.Writer, s importer.Summary) {
	fmt.Fprintf(w, "%s: %d rows, %d inserted, %d duplicates, total %s\n", s.File, s.Rows, s.Inserted, s.Duplicates, dollars(s.Total))
}

// dollars writes c as "$1234.56" or "-$12.00".
func dollars(c costexplorer.Cents) string {
	if c < 0 {
		return "-$" + (-c).Dollars()
	}
	return "$" + c.Dollars()
}
