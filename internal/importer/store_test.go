package importer

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// openStore opens a fresh SQLite store in a temporary directory and returns
// it with the path of its file.
func openStore(t testing.TB) (*sqlite.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "costexplorer.db")
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// importFile imports file into db, failing the test on an error, and
// returns the summary.
func importFile(ctx context.Context, t testing.TB, db *sqlite.DB, file string) Summary {
	t.Helper()
	sum, err := ImportFile(ctx, db, file)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// dumpTables returns every row of every table of the SQLite file at path, in
// a canonical order (tables by name, rows sorted by all their columns), so two
// dumps are equal exactly when the stored data is.
func dumpTables(t *testing.T, path string) string {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	rows, err := conn.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, table := range tables {
		var ncol int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pragma_table_info(?)", table).Scan(&ncol); err != nil {
			t.Fatal(err)
		}
		order := make([]string, ncol)
		for i := range order {
			order[i] = fmt.Sprint(i + 1)
		}
		rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT * FROM %q ORDER BY %s", table, strings.Join(order, ", ")))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "== %s\n", table)
		vals := make([]any, ncol)
		ptrs := make([]any, ncol)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = "x'" + hex.EncodeToString(bs) + "'"
				}
				fmt.Fprintf(&b, "%T:%v|", v, v)
			}
			b.WriteByte('\n')
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

func stats(t *testing.T, db *sqlite.DB) costexplorer.UsageStats {
	t.Helper()
	s, err := db.UsageStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestImportFile_TwiceIsNoOp(t *testing.T) {
	ctx := context.Background()
	db, path := openStore(t)
	file := filepath.Join("testdata", "invoice.csv")

	first := importFile(ctx, t, db, file)
	want := Summary{File: file, Rows: 14, Inserted: 14, Duplicates: 0, Total: 269844}
	if first != want {
		t.Fatalf("first import %+v, want %+v", first, want)
	}
	before, dump := stats(t, db), dumpTables(t, path)
	if before.LineItems != 14 || before.Total != 269844 || before.Organizations != 2 || before.Projects != 3 || before.Clusters != 4 {
		t.Fatalf("stats after the first import: %+v", before)
	}

	second := importFile(ctx, t, db, file)
	want.Inserted, want.Duplicates = 0, 14
	// The dump must see the data, or comparing dumps would prove nothing.
	if _, items, _ := strings.Cut(dump, "== line_items\n"); strings.Count(strings.SplitN(items, "==", 2)[0], "\n") != 14 {
		t.Fatalf("dump does not show the 14 line items:\n%s", dump)
	}
	if second != want {
		t.Fatalf("second import %+v, want %+v", second, want)
	}
	if after := stats(t, db); after != before {
		t.Errorf("stats changed on re-import:\n%+v\n%+v", before, after)
	}
	if dumpTables(t, path) != dump {
		t.Error("tables changed on re-import")
	}
}

func TestImportFile_GenuineDuplicatesKept(t *testing.T) {
	ctx := context.Background()
	db, _ := openStore(t)
	importFile(ctx, t, db, filepath.Join("testdata", "invoice.csv"))
	var dev int
	var devTotal costexplorer.Cents
	err := db.ScanLineItems(ctx, func(li *costexplorer.LineItem) error {
		if li.SKU == "ATLAS_SUPPORT_DEVELOPER" {
			dev++
			devTotal += li.Amount
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if dev != 2 || devTotal != 9800 {
		t.Errorf("%d developer-support items totalling %s; want the 2 identical rows, $98.00", dev, devTotal)
	}
}

func TestImportFile_RejectedFileLeavesStoreUnchanged(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		file    string
		content string // written to file in a temp dir when set
		wantErr string
		parse   bool // the fault is found by Parse (an *ImportError)
	}{
		{
			name:    "ErrBadRow",
			file:    filepath.Join("testdata", "invoice_bad_row.csv"),
			wantErr: "testdata/invoice_bad_row.csv:11:19: invalid amount \"-$1,500.005\": more than two decimals",
			parse:   true,
		},
		{
			name:    "ErrUnknownSKU",
			file:    filepath.Join("testdata", "invoice_unknown_sku.csv"),
			wantErr: "testdata/invoice_unknown_sku.csv:5:9: unknown SKU \"MYSTERY_WIDGET\"",
			parse:   true,
		},
		{
			// This file parses, but its project is stored under another
			// organization: the store refuses the batch in its transaction.
			name:    "ErrProjectOfAnotherOrg",
			file:    "moved.csv",
			content: testHeader + "\n" + clusterRow(map[column]string{colCluster: "new-cluster"}) + "\n" + clusterRow(map[column]string{colOrgID: orgB, colOrgName: "Other"}) + "\n",
			wantErr: "belongs to organization",
			parse:   true,
		},
		{
			name:    "ErrStoreRejectsMovedProject",
			file:    "moved2.csv",
			content: testHeader + "\n" + clusterRow(map[column]string{colOrgID: orgB, colOrgName: "Other", colProjectID: "64a1b2c3d4e5f60718293a4b", colCluster: "brand-new"}) + "\n",
			wantErr: "ingest",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, path := openStore(t)
			// A store that already holds data, so "unchanged" means something.
			importFile(ctx, t, db, filepath.Join("testdata", "invoice.csv"))
			before := dumpTables(t, path)
			file := tt.file
			if tt.content != "" {
				file = filepath.Join(t.TempDir(), tt.file)
				if err := os.WriteFile(file, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			sum, err := ImportFile(ctx, db, file)
			if err == nil {
				t.Fatalf("import succeeded: %+v", sum)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want %q", err, tt.wantErr)
			}
			var ie *ImportError
			if errors.As(err, &ie) != tt.parse {
				t.Errorf("error %T %v: parse error = %v, want %v", err, err, !tt.parse, tt.parse)
			}
			if after := dumpTables(t, path); after != before {
				t.Errorf("store changed by a rejected file:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

func TestImportFile_OnlyRegularFiles(t *testing.T) {
	ctx := context.Background()
	db, _ := openStore(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"ErrDirectory", dir, "a directory"},
		{"ErrSymlinkToDirectory", link, "a directory"},
		{"ErrDevice", os.DevNull, "a device"},
		{"ErrNamedPipe", fifo, "a named pipe"},
		{"ErrMissing", filepath.Join(dir, "missing.csv"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ImportFile(ctx, db, tt.path)
			var ie *ImportError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), tt.path+": ") {
				t.Fatalf("error %v, want an ImportError %q naming the path", err, tt.want)
			}
		})
	}
	if s := stats(t, db); s.LineItems != 0 {
		t.Errorf("%d line items after rejected paths", s.LineItems)
	}
}
