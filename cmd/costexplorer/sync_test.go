package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
	"github.com/costexplorer/costexplorer/internal/servertest"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// syncEnv is the environment of a sync from src with its owner's API key,
// into dir.
func syncEnv(src *servertest.Server, dir string) map[string]string {
	return map[string]string{
		"COSTEXPLORER_SYNC_SOURCE":      src.URL,
		"MONGODB_ATLAS_PUBLIC_API_KEY":  src.PublicKey,
		"MONGODB_ATLAS_PRIVATE_API_KEY": src.PrivateKey,
		"COSTEXPLORER_DATA_DIR":         dir,
	}
}

// syncMarks reads the sync marks of source in the store of dir.
func syncMarks(t *testing.T, dir, source string) []costexplorer.SyncMark {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, sqliteFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	marks, err := db.SyncMarks(context.Background(), source)
	if err != nil {
		t.Fatal(err)
	}
	return marks
}

// sameAsSource serves the target store of dir and compares its answers with
// the source's.
func sameAsSource(t *testing.T, src *servertest.Server, dir string, queries int) {
	t.Helper()
	dst := servertest.New(t, servertest.Options{Path: filepath.Join(dir, sqliteFile), NoDemo: true, Clock: src.Clock})
	problems, err := dst.DB.Verify(context.Background())
	if err != nil || len(problems) > 0 {
		t.Fatalf("verify the target: %v %v", err, problems)
	}
	want, _ := client.New(src.URL, client.WithDigest(src.PublicKey, src.PrivateKey))
	got, _ := client.New(dst.URL, client.WithDigest(dst.PublicKey, dst.PrivateKey))
	a := &servertest.Answers{Want: want, Got: got, Org: src.Org}
	a.Invoices(t)
	now := costexplorer.MonthOf(src.Clock.Now())
	a.Queries(t, 7, queries, now-costexplorer.Month(servertest.Demo.Months-1), now)
}

func TestSyncCommand(t *testing.T) {
	src := servertest.New(t, servertest.Options{})
	dir := t.TempDir()
	env := syncEnv(src, dir)

	// A dry run on an empty store lists every invoice as new and writes
	// nothing.
	dry := runCLI(t, env, "", "sync", "--dry-run").wantCode(t, 0)
	if !strings.Contains(dry.stdout, "would sync") || strings.Contains(dry.stdout, "would skip") || !strings.Contains(dry.stdout, ", new)") {
		t.Fatalf("dry run on an empty store:\n%s", dry.stdout)
	}
	if marks := syncMarks(t, dir, src.URL); len(marks) != 0 {
		t.Fatalf("a dry run wrote %d marks", len(marks))
	}

	first := runCLI(t, env, "", "sync", "--exact-order").wantCode(t, 0)
	if !strings.Contains(first.stdout, "synced 18 invoices (0 unchanged)") || !strings.Contains(first.stdout, "requests") {
		t.Fatalf("first sync:\n%s\n%s", first.stdout, first.stderr)
	}
	if marks := syncMarks(t, dir, src.URL); len(marks) != 18 {
		t.Fatalf("%d marks after the first sync, want 18", len(marks))
	}
	// Now only the pending invoices would be brought.
	dry = runCLI(t, env, "", "sync", "--dry-run").wantCode(t, 0)
	if strings.Count(dry.stdout, ", pending)") != 3 || strings.Count(dry.stdout, "would skip ") != 15 || !strings.Contains(dry.stdout, "would sync 3 invoices (15 unchanged)") {
		t.Fatalf("dry run after a sync:\n%s", dry.stdout)
	}
	status := runCLI(t, env, "", "admin", "sync", "status").wantCode(t, 0)
	for _, want := range []string{"Lease:    free", "Last run: 2025-06-15", "18 invoice(s)"} {
		if !strings.Contains(status.stdout, want) {
			t.Errorf("admin sync status lacks %q:\n%s", want, status.stdout)
		}
	}
	sameAsSource(t, src, dir, 20)
}

func TestSyncExitStatus(t *testing.T) {
	src := servertest.New(t, servertest.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(src.PrivateKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"OKWithAKeyFileFlag", nil, []string{"--source", src.URL, "--public-key", src.PublicKey, "--private-key-file", keyFile, "--org", src.Org}, 0},
		{"OKWithAServiceAccount", map[string]string{"COSTEXPLORER_CLIENT_ID": src.ClientID, "COSTEXPLORER_CLIENT_SECRET": src.ClientSecret}, []string{"--source", src.URL}, 0},
		{"BadKey", map[string]string{"MONGODB_ATLAS_PUBLIC_API_KEY": src.PublicKey, "MONGODB_ATLAS_PRIVATE_API_KEY": "wrong"}, []string{"--source", src.URL}, exitAuth},
		{"BadSecret", map[string]string{"MONGODB_ATLAS_CLIENT_ID": src.ClientID, "MONGODB_ATLAS_CLIENT_SECRET": "wrong"}, []string{"--source", src.URL}, exitAuth},
		{"NoCredentials", nil, []string{"--source", src.URL}, exitAuth},
		{"Unreachable", map[string]string{"MONGODB_ATLAS_PUBLIC_API_KEY": "k", "MONGODB_ATLAS_PRIVATE_API_KEY": "p"}, []string{"--source", closed}, exitNetwork},
		{"ForeignOrg", map[string]string{"MONGODB_ATLAS_PUBLIC_API_KEY": src.PublicKey, "MONGODB_ATLAS_PRIVATE_API_KEY": src.PrivateKey}, []string{"--source", src.URL, "--org", "0123456789abcdef01234567"}, exitAuth},
		{"BadSource", map[string]string{"MONGODB_ATLAS_PUBLIC_API_KEY": "k", "MONGODB_ATLAS_PRIVATE_API_KEY": "p"}, []string{"--source", "ftp://x"}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"COSTEXPLORER_DATA_DIR": t.TempDir()}
			for k, v := range tc.env {
				env[k] = v
			}
			r := runCLI(t, env, "", append([]string{"sync"}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
		})
	}
}
