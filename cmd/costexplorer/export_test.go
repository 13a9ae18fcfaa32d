package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

const acmeOrg = "5f0a1b2c3d4e5f6a7b8c9d0e" // the organization of testdata/import

// readGzipCSV decodes a gzip CSV export into its records.
func readGzipCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	recs, err := csv.NewReader(gz).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestExportFocus exports imported invoices as the command line does: gzip
// CSV on standard output by default, Parquet or CSV to a file, 1.2 with
// its column set; June's credits exceed its charges, so June has an
// Adjustment row beside its items.
func TestExportFocus(t *testing.T) {
	dir := t.TempDir()
	runImportIn(t, dir, "", "usage", juneCSV, julyCSV).wantCode(t, 0)
	env := map[string]string{"COSTEXPLORER_DATA_DIR": dir}

	t.Run("CSVToStdout", func(t *testing.T) {
		r := runCLI(t, env, "", "export", "focus", "--org", acmeOrg, "--from", "2024-06", "--to", "2024-07").wantCode(t, 0)
		recs := readGzipCSV(t, []byte(r.stdout))
		if len(recs) != 1+6 {
			t.Fatalf("%d records, want a header and 6 rows", len(recs))
		}
		head := strings.Join(recs[0], ",")
		if !strings.HasPrefix(head, "BilledCost,BillingAccountId,") || !strings.Contains(head, ",ServiceProviderName,") {
			t.Errorf("header %s", head)
		}
		categories := map[string]int{}
		for _, rec := range recs[1:] {
			categories[rec[6]]++ // ChargeCategory
		}
		if categories["Usage"] != 4 || categories["Credit"] != 1 || categories["Adjustment"] != 1 {
			t.Errorf("charge categories %v", categories)
		}
		if r.stderr != "" {
			t.Errorf("stderr %q when not a terminal", r.stderr)
		}
	})
	t.Run("OneMonthSpec12", func(t *testing.T) {
		r := runCLI(t, env, "", "export", "focus", "--org", acmeOrg, "--from", "2024-07", "--to", "2024-07", "--spec", "1.2").wantCode(t, 0)
		recs := readGzipCSV(t, []byte(r.stdout))
		if len(recs) != 1+2 || strings.Contains(strings.Join(recs[0], ","), "ServiceProviderName") {
			t.Errorf("1.2 July export: %d records, header %v", len(recs), recs[0])
		}
	})
	t.Run("ParquetToFile", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "focus.parquet")
		runCLI(t, env, "", "export", "focus", "--org", acmeOrg, "--from", "2024-01", "--to", "2024-12",
			"--format", "parquet", "--output", out).want(t, 0, nil, []string{out + ": 6 rows from 2 invoices"})
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		if f.NumRows() != 6 {
			t.Errorf("%d Parquet rows, want 6", f.NumRows())
		}
		if _, ok := f.Schema().Lookup("Tags"); !ok {
			t.Error("no Tags column")
		}
	})
	t.Run("EmptyPeriod", func(t *testing.T) {
		r := runCLI(t, env, "", "export", "focus", "--org", acmeOrg, "--from", "2030-01", "--to", "2030-02").wantCode(t, 0)
		if recs := readGzipCSV(t, []byte(r.stdout)); len(recs) != 1 {
			t.Errorf("%d records for a period without invoices, want the header alone", len(recs))
		}
	})
	for _, c := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"NoKind", nil, 2, "missing what to export"},
		{"UnknownKind", []string{"usage"}, 2, `cannot export "usage"`},
		{"NoOrg", []string{"focus", "--from", "2024-06", "--to", "2024-06"}, 2, "--org is required"},
		{"BadOrg", []string{"focus", "--org", "acme", "--from", "2024-06", "--to", "2024-06"}, 2, "24 lower-case hexadecimal"},
		{"BadMonth", []string{"focus", "--org", acmeOrg, "--from", "2024-6", "--to", "2024-06"}, 2, `--from "2024-6"`},
		{"Reversed", []string{"focus", "--org", acmeOrg, "--from", "2024-07", "--to", "2024-06"}, 2, "is after --to"},
		{"BadFormat", []string{"focus", "--org", acmeOrg, "--from", "2024-06", "--to", "2024-06", "--format", "xlsx"}, 2, "unsupported format"},
		{"BadSpec", []string{"focus", "--org", acmeOrg, "--from", "2024-06", "--to", "2024-06", "--spec", "1.0"}, 2, "unsupported FOCUS version"},
		{"UnknownOrg", []string{"focus", "--org", "0123456789abcdef01234567", "--from", "2024-06", "--to", "2024-06"}, 1, "no organization 0123456789abcdef01234567"},
		{"UnwritableOutput", []string{"focus", "--org", acmeOrg, "--from", "2024-06", "--to", "2024-06", "--output", filepath.Join(dir, "no", "such", "dir.csv.gz")}, 1, "no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			runCLI(t, env, "", append([]string{"export"}, c.args...)...).want(t, c.code, nil, []string{c.err})
		})
	}
}
