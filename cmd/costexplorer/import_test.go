package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// runImportIn runs `costexplorer import args…` in-process on the data
// directory dir, with stdin as standard input.
func runImportIn(t *testing.T, dir, stdin string, args ...string) cliResult {
	t.Helper()
	return runCLI(t, map[string]string{"COSTEXPLORER_DATA_DIR": dir}, stdin, append([]string{"import"}, args...)...)
}

func usageStats(t *testing.T, dir string) costexplorer.UsageStats {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, sqliteFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.UsageStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	juneCSV = filepath.Join("testdata", "import", "june.csv")
	julyCSV = filepath.Join("testdata", "import", "july.csv")
	badCSV  = filepath.Join("testdata", "import", "bad.csv")
)

func TestImportUsage(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		runImportIn(t, dir, "", "usage", juneCSV, julyCSV).want(t, 0, []string{
			juneCSV + ": 3 rows, 3 inserted, 0 duplicates, total -$162.12\n",
			julyCSV + ": 2 rows, 2 inserted, 0 duplicates, total $77.76\n",
			"2 of 2 files imported: 5 rows, 5 inserted, 0 duplicates, total -$84.36\n",
		}, nil)
		if s := usageStats(t, dir); s.LineItems != 5 || s.Total != -8436 {
			t.Errorf("store holds %d items, total %s; want 5, -84.36", s.LineItems, s.Total)
		}
	})
	t.Run("ReimportInsertsNothing", func(t *testing.T) {
		dir := t.TempDir()
		runImportIn(t, dir, "", "usage", juneCSV).want(t, 0, nil, nil)
		runImportIn(t, dir, "", "usage", "--data-dir", dir, juneCSV).want(t, 0, []string{
			juneCSV + ": 3 rows, 0 inserted, 3 duplicates, total -$162.12\n",
		}, nil)
		if s := usageStats(t, dir); s.LineItems != 3 {
			t.Errorf("store holds %d items after a re-import, want 3", s.LineItems)
		}
	})
	t.Run("ErrBadFileDoesNotStopOthers", func(t *testing.T) {
		dir := t.TempDir()
		r := runImportIn(t, dir, "", "usage", juneCSV, badCSV, julyCSV, dir)
		r.want(t, 1, []string{
			juneCSV + ": 3 rows",
			julyCSV + ": 2 rows",
			"2 of 4 files imported: 5 rows, 5 inserted",
		}, []string{
			badCSV + `:3:9: unknown SKU "ACME_WIDGET"`,
			dir + ": a directory, not a CSV file",
			"costexplorer import: 2 of 4 files rejected",
		})
		if strings.Contains(r.stdout, badCSV) {
			t.Errorf("stdout reports the rejected file:\n%s", r.stdout)
		}
		if s := usageStats(t, dir); s.LineItems != 5 {
			t.Errorf("store holds %d items, want the 5 of the good files (none of the bad one)", s.LineItems)
		}
	})
	t.Run("StandardInput", func(t *testing.T) {
		dir := t.TempDir()
		data := "Usage Date,Organization ID,Organization Name,SKU,Amount\n2024-06-01,5f0a1b2c3d4e5f6a7b8c9d0e,Acme,CREDIT,-5\n"
		runImportIn(t, dir, data, "usage", "-").want(t, 0, []string{"-: 1 rows, 1 inserted, 0 duplicates, total -$5.00\n"}, nil)
		runImportIn(t, dir, data, "usage", "-", "-").want(t, 1, nil, []string{"standard input can be imported once"})
	})
	t.Run("ErrUsage", func(t *testing.T) {
		dir := t.TempDir()
		runImportIn(t, dir, "").want(t, 2, []string{"Usage: costexplorer import usage"}, []string{"missing what to import"})
		runImportIn(t, dir, "", "invoices", juneCSV).want(t, 2, nil, []string{`cannot import "invoices"`})
		runImportIn(t, dir, "", "usage").want(t, 2, nil, []string{"no FILE to import"})
		runImportIn(t, dir, "", "usage", "--bogus", juneCSV).want(t, 2, nil, []string{"flag provided but not defined: -bogus"})
	})
	t.Run("Help", func(t *testing.T) {
		dir := t.TempDir()
		for _, args := range [][]string{{"--help"}, {"usage", "--help"}} {
			r := runImportIn(t, dir, "", args...)
			if r.code != 0 {
				t.Errorf("%v: exit %d", args, r.code)
			}
			help := r.stdout + r.stderr
			for _, want := range []string{"Usage: costexplorer import usage", "Examples:", "costexplorer import usage invoice-2024-06.csv", "-data-dir", "all-or-nothing"} {
				if !strings.Contains(help, want) {
					t.Errorf("%v: help lacks %q:\n%s", args, want, help)
				}
			}
		}
	})
}

// TestImportRefusesWhatIsNotAnInvoice passes hostile file arguments to
// `import usage`: paths that climb out of the working directory to system
// files, devices, directories, a named pipe (which must not block the
// command) and a symbolic link to a device. Each is refused with exit 1,
// without echoing the file's content, and the store gains nothing.
func TestImportRefusesWhatIsNotAnInvoice(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(t.TempDir(), "pipe.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "zero.csv")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	climb := strings.Repeat("../", 40) + "etc/passwd"
	for _, tc := range []struct {
		name, path, want string
	}{
		{"ErrTraversalToPasswd", climb, "header lacks the required column"},
		{"ErrDevice", "/dev/zero", "a device"},
		{"ErrSymlinkToDevice", link, "a device"},
		{"ErrDirectory", "/", "a directory"},
		{"ErrNamedPipe", fifo, "a named pipe"},
		{"ErrMissing", strings.Repeat("../", 40) + "no/such/invoice.csv", "no such file"},
		{"ErrProcFile", "/proc/self/environ", "field contains a NUL byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.path); err != nil && tc.name != "ErrMissing" {
				t.Skipf("%s: %v", tc.path, err)
			}
			done := make(chan cliResult, 1)
			go func() { done <- runImportIn(t, dir, "", "usage", tc.path) }()
			var r cliResult
			select {
			case r = <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("import usage %s did not return", tc.path)
			}
			r.want(t, 1, nil, []string{tc.want})
			if strings.Contains(r.stderr, "root:") || strings.Contains(r.stderr, "PATH=") {
				t.Errorf("the error echoes the file's content:\n%s", r.stderr)
			}
			if s := usageStats(t, dir); s.LineItems != 0 {
				t.Errorf("store gained %d line items", s.LineItems)
			}
		})
	}
}
