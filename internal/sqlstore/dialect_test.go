package sqlstore_test

import (
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

func TestRebind(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"NoPlaceholders", "SELECT 1", "SELECT 1"},
		{"InOrder", "UPDATE t SET a = ?, b = ? WHERE c = ?", "UPDATE t SET a = $1, b = $2 WHERE c = $3"},
		{"QuotedLeftAlone", "SELECT '?', \"a?\" FROM t WHERE x = ?", "SELECT '?', \"a?\" FROM t WHERE x = $1"},
		{"DollarUnchanged", "SELECT $1", "SELECT $1"},
		{"TenAndMore", "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := sqlstore.Rebind(c.in); got != c.want {
				t.Fatalf("Rebind(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestTimeScan(t *testing.T) {
	var tm sqlstore.Time
	if err := tm.Scan(nil); err != nil || !tm.IsZero() {
		t.Fatalf("Scan(nil) = %v, %v; want the zero time", tm, err)
	}
	want := time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)
	if err := tm.Scan(want.UnixMicro()); err != nil || !tm.Equal(want) || tm.Location() != time.UTC {
		t.Fatalf("Scan(micros) = %v, %v; want %v", tm, err, want)
	}
	if err := tm.Scan("x"); err == nil {
		t.Fatal("Scan(string) succeeded, want an error")
	}
	if got := sqlstore.Micros(time.Time{}); got != nil {
		t.Fatalf("Micros(zero) = %v, want nil", got)
	}
}

func TestBindFollowsThePlaceholderStyle(t *testing.T) {
	const q = "SELECT a FROM t WHERE b = ? AND c = ?"
	if got := (sqlstore.Dialect{Placeholder: sqlstore.Question}).Bind(q); got != q {
		t.Fatalf("Question: Bind = %q, want the text unchanged", got)
	}
	if got, want := (sqlstore.Dialect{Placeholder: sqlstore.Dollar}).Bind(q), "SELECT a FROM t WHERE b = $1 AND c = $2"; got != want {
		t.Fatalf("Dollar: Bind = %q, want %q", got, want)
	}
}
