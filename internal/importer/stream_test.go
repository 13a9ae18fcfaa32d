package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// repeatsFile returns an invoice CSV of n distinct rows over several
// clusters, days and tag values, in which some rows appear again later in
// the file (twice or three times, never next to each other): genuine
// duplicates, which must all be kept, with the ids Parse gives them.
func repeatsFile(n int) string {
	var b strings.Builder
	b.WriteString(testHeader + ",team\n")
	row := func(i int) string {
		return clusterRow(map[column]string{
			colUsageDate: fmt.Sprintf("06/%02d/2024", 1+i%28),
			colDate:      fmt.Sprintf("06/%02d/2024", 1+i%28),
			colCluster:   fmt.Sprintf("cluster-%d", i%7),
			colQuantity:  fmt.Sprint(1 + i%40),
			colAmount:    fmt.Sprintf("$%d.%02d", i/100, i%100),
		}) + "," + []string{"payments", "search", ""}[i%3] + "\n"
	}
	for i := range n {
		b.WriteString(row(i))
		if i%5 == 2 && i > 10 {
			b.WriteString(row(i - 9)) // a repeat of an earlier row
		}
		if i%17 == 3 && i > 40 {
			b.WriteString(row(i - 37)) // and some a third time
		}
	}
	return b.String()
}

func itemIDs(t *testing.T, db costexplorer.UsageStore) []string {
	t.Helper()
	var ids []string
	if err := db.ScanLineItems(context.Background(), func(li *costexplorer.LineItem) error {
		ids = append(ids, fmt.Sprintf("%s %s %s", li.ID, li.ClusterID, li.Amount))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

func TestImport_StreamedEqualsParsed(t *testing.T) {
	ctx := context.Background()
	data := repeatsFile(3000)
	whole, err := Parse("f.csv", strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[costexplorer.LineItemID]bool{}
	for _, li := range whole.Items {
		ids[li.ID] = true
	}
	if len(ids) != len(whole.Items) || len(whole.Items) < 3500 {
		t.Fatalf("Parse: %d items, %d distinct ids: the file must have repeats, each kept", len(whole.Items), len(ids))
	}
	want, _ := openStore(t)
	if _, err := want.IngestUsage(ctx, whole); err != nil {
		t.Fatal(err)
	}
	wantIDs := itemIDs(t, want)

	// Chunks of 97 rows; a Bloom filter of 64 bytes (512 bits), so that
	// almost every row is deferred and counted from the spill files, and
	// one of 64 KiB, where only the repeats are; deferred rows resolved in
	// passes of 100 and of all at once.
	for _, tc := range []struct{ bloom, perPass int }{{64, 100}, {64, 1 << 20}, {64 << 10, 100}} {
		t.Run(fmt.Sprintf("Bloom%dPass%d", tc.bloom, tc.perPass), func(t *testing.T) {
			db, path := openStore(t)
			old := resolvePass
			resolvePass = int64(tc.perPass)
			defer func() { resolvePass = old }()
			sum, err := importStream(ctx, db, "f.csv", strings.NewReader(data), 97, tc.bloom)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Rows != len(whole.Items) || sum.Inserted != sum.Rows || sum.Duplicates != 0 {
				t.Fatalf("summary %+v, want %d rows all inserted", sum, len(whole.Items))
			}
			if got := itemIDs(t, db); !slices.Equal(got, wantIDs) {
				t.Fatalf("streamed import stored %d items, Parse's batch %d, or other ids", len(got), len(wantIDs))
			}
			before := dumpTables(t, path)
			again, err := importStream(ctx, db, "f.csv", strings.NewReader(data), 97, tc.bloom)
			if err != nil {
				t.Fatal(err)
			}
			if again.Inserted != 0 || again.Duplicates != sum.Rows {
				t.Fatalf("again: %+v, want every row a duplicate", again)
			}
			if dumpTables(t, path) != before {
				t.Fatal("tables changed on re-import")
			}
		})
	}
}

func TestImport_BadRowInALaterChunkLeavesStoreUnchanged(t *testing.T) {
	ctx := context.Background()
	db, path := openStore(t)
	importFile(ctx, t, db, "testdata/invoice.csv")
	before := dumpTables(t, path)
	data := repeatsFile(2000)
	lines := strings.SplitAfter(data, "\n")
	// Line 1500 (after several chunks of 97): an amount with three decimals.
	lines[1499] = clusterRow(map[column]string{colAmount: "1.005"}) + ",search\n"
	_, err := importStream(ctx, db, "big.csv", strings.NewReader(strings.Join(lines, "")), 97, 0)
	var ie *ImportError
	if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), "big.csv:1500:19: ") {
		t.Fatalf("error %v, want big.csv:1500:19", err)
	}
	if dumpTables(t, path) != before {
		t.Fatal("the store changed")
	}
}

func TestParse_RecordTooLong(t *testing.T) {
	// A quote left open makes the rest of the file one field: the reader
	// stops at the record limit instead of reading it all into memory.
	data := testHeader + "\n" + clusterRow(nil) + "\n" + clusterRow(map[column]string{colNote: `"open`}) + "\n" +
		strings.Repeat(clusterRow(nil)+"\n", maxRecordBytes/100)
	_, err := Parse("open.csv", strings.NewReader(data))
	if err == nil || !strings.HasPrefix(err.Error(), "open.csv:3:1: a record of more than 8 MiB") {
		t.Fatalf("error %v", err)
	}
}

func TestImportInto_Options(t *testing.T) {
	ctx := context.Background()
	data := repeatsFile(500)
	db, _ := openStore(t)
	sess, err := db.BeginUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Rollback()
	const cluster3 = "0123456789abcdef01234567"
	var rows []int
	sum, err := ImportInto(ctx, sess, "f.csv", strings.NewReader(data), Options{
		ClusterID: func(projectID, name string) string {
			if name == "cluster-3" {
				return cluster3
			}
			return "" // derived
		},
		ItemID: func(row int, li *costexplorer.LineItem) costexplorer.LineItemID {
			rows = append(rows, row)
			var id costexplorer.LineItemID
			id[14], id[15] = byte(row>>8), byte(row)
			return id
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing is stored until the caller commits.
	if n := len(itemIDs(t, db)); n != 0 {
		t.Fatalf("%d items visible before the commit", n)
	}
	if _, err := sess.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// Every row, repeats too, got the id of its number, in order: no
	// occurrence counting, no deferred rows.
	if len(rows) != sum.Rows || !slices.IsSorted(rows) || rows[0] != 1 || rows[len(rows)-1] != sum.Rows {
		t.Fatalf("ItemID saw rows %v… of %d", rows[:min(5, len(rows))], sum.Rows)
	}
	clusters := map[string]bool{}
	for _, s := range itemIDs(t, db) {
		clusters[strings.Fields(s)[1]] = true
	}
	if !clusters[cluster3] || !clusters[costexplorer.ClusterIDFor(projA, "cluster-4")] {
		t.Errorf("clusters %v: want the given id for cluster-3 and derived ids for the others", clusters)
	}
}

func TestBloomSizeFor(t *testing.T) {
	for _, tt := range []struct {
		size int64
		want int
	}{
		{0, 64 << 10},                       // unknown: the filter grows from 64 KiB
		{1 << 20, 64 << 10},                 // 8,192 rows at most: 37,449 fit
		{230 << 20, 4 << 20},                // 1.9 M rows at most: a 4 MiB filter holds 2.4 M
		{10 << 30, maxBloomBytes},           // beyond the limit: the limit
		{1 << 62, maxBloomBytes},            // no overflow
		{-1, 64 << 10},                      // nonsense
		{64 << 10 * 8 / 14 * 128, 64 << 10}, // exactly full
	} {
		if got := bloomSizeFor(tt.size); got != tt.want {
			t.Errorf("bloomSizeFor(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
}

// TestImportFile_BloomSizedForTheFile: a file counted with a filter sized
// from its size (one filter, no series) imports as a reader does.
func TestImportFile_BloomSizedForTheFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "repeats.csv")
	if err := os.WriteFile(path, []byte(repeatsFile(3000)), 0o644); err != nil {
		t.Fatal(err)
	}
	want, _ := openStore(t)
	if _, err := Import(ctx, want, "f.csv", strings.NewReader(repeatsFile(3000))); err != nil {
		t.Fatal(err)
	}
	got, _ := openStore(t)
	importFile(ctx, t, got, path)
	if !slices.Equal(itemIDs(t, got), itemIDs(t, want)) {
		t.Fatal("the items differ")
	}
}

// cancelAfter cancels a context once n bytes have been read through it.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p[:min(len(p), 4096)])
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestImport_CancelledPartWayLeavesStoreUnchanged(t *testing.T) {
	db, path := openStore(t)
	importFile(context.Background(), t, db, "testdata/invoice.csv")
	before := dumpTables(t, path)
	data := repeatsFile(3000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancelled half-way through the file, after several chunks of 97 rows.
	r := &cancelAfter{r: strings.NewReader(data), n: len(data) / 2, cancel: cancel}
	_, err := importStream(ctx, db, "big.csv", r, 97, 0)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "big.csv: ") {
		t.Fatalf("error %v, want big.csv: … context canceled", err)
	}
	if dumpTables(t, path) != before {
		t.Fatal("the store changed")
	}
}
