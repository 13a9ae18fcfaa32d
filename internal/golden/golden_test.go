package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed, fatal bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed, r.fatal = true, true }
func (r *recorder) Fatal(...any)          { r.failed, r.fatal = true, true }

func TestCheck(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.MkdirAll("testdata/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "sub", "a.txt"), []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		file          string
		got           string
		update        bool
		failed, fatal bool
		after         string // the file afterwards
	}{
		{"OK", "sub/a.txt", "same\n", false, false, false, "same\n"},
		{"ErrDiffers", "sub/a.txt", "other\n", false, true, false, "same\n"},
		{"ErrMissing", "none.txt", "x", false, true, true, ""},
		{"UpdateRewrites", "sub/a.txt", "new\n", true, false, false, "new\n"},
		{"UpdateCreates", "new/b.txt", "b", true, false, false, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*update = tt.update
			t.Cleanup(func() { *update = false })
			r := &recorder{TB: t}
			Check(r, tt.file, []byte(tt.got))
			if r.failed != tt.failed || r.fatal != tt.fatal {
				t.Errorf("failed, fatal = %v, %v; want %v, %v", r.failed, r.fatal, tt.failed, tt.fatal)
			}
			b, _ := os.ReadFile(filepath.Join("testdata", tt.file))
			if string(b) != tt.after {
				t.Errorf("file afterwards %q, want %q", b, tt.after)
			}
		})
	}
}
