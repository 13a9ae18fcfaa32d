package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

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

// TestBackupRefusesToOverwrite passes hostile --out arguments to `admin
// backup`: an existing file, a symbolic link to one, a directory and a named
// pipe are refused and left untouched; a relative path that climbs out of
// the working directory writes exactly where it says (the operator's choice,
// like cp).
func TestBackupRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	runAdminIn(t, dir, "org", "create", "--name", "Acme", "--id", "5f00000000000000000000aa").wantCode(t, 0)
	out := t.TempDir()
	precious := filepath.Join(out, "precious.db")
	if err := os.WriteFile(precious, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(out, "link.db")
	if err := os.Symlink(precious, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(out, "pipe.db")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path string }{
		{"ErrExistingFile", precious},
		{"ErrSymlinkToExistingFile", link},
		{"ErrDirectory", out},
		{"ErrNamedPipe", fifo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runAdminIn(t, dir, "backup", "--out", tc.path)
			if r.code == 0 || !strings.Contains(r.stderr, "already exists") {
				t.Fatalf("backup --out %s: exit %d\n%s%s", tc.path, r.code, r.stdout, r.stderr)
			}
			if b, err := os.ReadFile(precious); err != nil || string(b) != "keep me" {
				t.Fatalf("the existing file changed: %q %v", b, err)
			}
		})
	}
	t.Run("OKRelativeClimb", func(t *testing.T) {
		wd, _ := os.Getwd()
		rel, err := filepath.Rel(wd, filepath.Join(out, "nested", "copy.db"))
		if err != nil {
			t.Skip(err)
		}
		runAdminIn(t, dir, "backup", "--out", rel).wantCode(t, 0)
		if _, err := os.Stat(filepath.Join(out, "nested", "copy.db")); err != nil {
			t.Fatalf("backup not where --out %s says: %v", rel, err)
		}
		runAdminIn(t, filepath.Join(out, "nested"), "verify").wantCode(t, 0)
	})
}
