// Command gen-invoice-csv writes the demo dataset (internal/demo) of about
// -rows line items as one invoice CSV in the bare layout (header first, the
// demo's tags as columns), row by row in constant memory: the input of
// scripts/import-bench.sh.
//
//	go run ./scripts/gen-invoice-csv -rows 1000000 -out /tmp/invoice-1m.csv
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "approximate number of rows (the demo's line items)")
	out := flag.String("out", "", "output file (default standard output)")
	seed := flag.Int64("seed", 1, "demo seed")
	flag.Parse()
	if err := run(*rows, *seed, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen-invoice-csv:", err)
		os.Exit(1)
	}
}

func run(rows int, seed int64, out string) error {
	f := os.Stdout
	if out != "" {
		var err error
		if f, err = os.Create(out); err != nil {
			return err
		}
		defer f.Close()
	}
	w := bufio.NewWriterSize(f, 1<<20)
	// The demo's tag keys (internal/demo/invoice.go), sorted.
	cw, err := costexplorer.NewInvoiceCSVWriter(w, nil, []string{"cost-center", "environment", "team"})
	if err != nil {
		return err
	}
	orgs, projects, clusters := map[string]string{}, map[string]string{}, map[string]string{}
	n := 0
	// A fixed day, so that the same flags write the same file.
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	err = demo.Generate(context.Background(), demo.Config{Seed: seed, LineItems: rows, Now: now}, func(b *costexplorer.UsageBatch) error {
		for _, o := range b.Organizations {
			orgs[o.ID] = o.Name
		}
		for _, p := range b.Projects {
			projects[p.ID] = p.Name
		}
		for _, c := range b.Clusters {
			clusters[c.ID] = c.Name
		}
		for i := range b.Items {
			li := &b.Items[i]
			l := costexplorer.InvoiceLine{LineItem: *li, OrgName: orgs[li.OrgID], ProjectName: projects[li.ProjectID], ClusterName: clusters[li.ClusterID]}
			if err := cw.Write(&l); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := cw.Flush(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen-invoice-csv: %d rows\n", n)
	return nil
}
