package main

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// runAdminIn runs `costexplorer admin args… --data-dir dir` in-process.
func runAdminIn(t *testing.T, dir string, args ...string) cliResult {
	t.Helper()
	return runCLI(t, nil, "", append(append([]string{"admin"}, args...), "--data-dir", dir)...)
}

// openAdminStore opens the data directory's store for checks, closed at
// the end of the test.
func openAdminStore(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, sqliteFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

const (
	payingOrg = "5f00000000000000000000aa"
	linkedOrg = "5f00000000000000000000bb"
	strictOrg = "5f00000000000000000000cc"
)

func TestAdminOrganizations(t *testing.T) {
	dir := t.TempDir()
	runAdminIn(t, dir, "org", "create", "--name", "Acme Paying", "--id", payingOrg).wantCode(t, 0)
	runAdminIn(t, dir, "org", "create", "--name", "Acme EU", "--id", linkedOrg).wantCode(t, 0)
	runAdminIn(t, dir, "org", "create", "--name", "Bank", "--id", strictOrg, "--requires-access-list").wantCode(t, 0)
	r := runAdminIn(t, dir, "org", "create", "--name", "Random Id").wantCode(t, 0)
	if !regexp.MustCompile(`Created organization [0-9a-f]{24} \(Random Id\)`).MatchString(r.stdout) {
		t.Errorf("output %q", r.stdout)
	}
	runAdminIn(t, dir, "org", "link", payingOrg, linkedOrg).wantCode(t, 0)

	list := runAdminIn(t, dir, "org", "list").wantCode(t, 0).stdout
	for _, want := range []string{"Acme EU", linkedOrg + "  Acme EU", payingOrg, "4 organization(s)"} {
		if !strings.Contains(list, want) {
			t.Errorf("org list lacks %q:\n%s", want, list)
		}
	}
	db := openAdminStore(t, dir)
	if ids, err := db.LinkedOrganizations(context.Background(), payingOrg); err != nil || len(ids) != 1 || ids[0] != linkedOrg {
		t.Errorf("linked organizations = %v, %v", ids, err)
	}
	if o, err := db.Organization(context.Background(), strictOrg); err != nil || !o.RequiresAccessList {
		t.Errorf("strict org = %+v, %v", o, err)
	}

	tests := []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"ErrMissingName", []string{"org", "create"}, 2, "--name: is required"},
		{"ErrBadID", []string{"org", "create", "--name", "x", "--id", "XYZ"}, 2, "24 lower-case hexadecimal"},
		{"ErrDuplicateID", []string{"org", "create", "--name", "again", "--id", payingOrg}, 1, "already exists"},
		{"ErrPayingOrgMissing", []string{"org", "create", "--name", "x", "--paying-org", "5f00000000000000000000ff"}, 1, ""},
		{"ErrLinkOneArgument", []string{"org", "link", payingOrg}, 2, "takes 2 argument(s)"},
		{"ErrLinkSelf", []string{"org", "link", payingOrg, payingOrg}, 2, "cannot pay for itself"},
		{"ErrLinkUnknown", []string{"org", "link", payingOrg, "5f00000000000000000000ff"}, 1, ""},
		{"ErrUnknownCommand", []string{"org", "delete"}, 2, `unknown command "org delete"`},
		{"ErrUnknownFlag", []string{"org", "list", "--bogus"}, 2, "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runAdminIn(t, dir, tt.args...).wantCode(t, tt.code)
			if !strings.Contains(r.stderr, tt.message) || r.stderr == "" {
				t.Errorf("stderr %q, want it to say %q", r.stderr, tt.message)
			}
		})
	}
}

func TestAdminAPIKeys(t *testing.T) {
	dir := t.TempDir()
	runAdminIn(t, dir, "org", "create", "--name", "Acme", "--id", payingOrg).wantCode(t, 0)
	r := runAdminIn(t, dir, "apikey", "create", "--org", payingOrg, "--role", "org_billing_read_only", "--role", "ORG_OWNER",
		"--access-list", "127.0.0.1,192.0.2.0/24", "--description", "CI pipeline").wantCode(t, 0)
	pub, priv := r.field(t, "public key"), r.field(t, "private key")
	if !strings.Contains(r.stdout, "Store the private key now") || !strings.Contains(r.stdout, "curl --digest -u '"+pub+":"+priv+"'") {
		t.Errorf("create output lacks the store-it-now note or the curl example:\n%s", r.stdout)
	}

	db := openAdminStore(t, dir)
	authn, err := auth.New(context.Background(), auth.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("PrintedKeyAuthenticates", func(t *testing.T) {
		p, err := authn.CheckAPIKey(context.Background(), pub, priv, netip.MustParseAddr("127.0.0.1"))
		if err != nil {
			t.Fatal(err)
		}
		if p.OrgID != payingOrg || joinRoles(p.Roles) != "ORG_BILLING_READ_ONLY,ORG_OWNER" {
			t.Errorf("principal %+v", p)
		}
	})
	t.Run("ListShowsNoSecret", func(t *testing.T) {
		list := runAdminIn(t, dir, "apikey", "list", "--org", payingOrg).wantCode(t, 0).stdout
		k, err := db.APIKeyByPublicKey(context.Background(), pub)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(list, pub) || !strings.Contains(list, "CI pipeline") || !strings.Contains(list, "127.0.0.1,192.0.2.0/24") {
			t.Errorf("list:\n%s", list)
		}
		for _, secret := range []string{priv, k.HA1MD5, k.HA1SHA256} {
			if strings.Contains(list, secret) {
				t.Errorf("list shows %q", secret)
			}
		}
		if other := runAdminIn(t, dir, "apikey", "list", "--org", linkedOrg).wantCode(t, 0).stdout; strings.Contains(other, pub) {
			t.Errorf("another organization's list shows the key:\n%s", other)
		}
	})
	t.Run("DisableStopsTheKey", func(t *testing.T) {
		runAdminIn(t, dir, "apikey", "disable", pub).wantCode(t, 0)
		if _, err := authn.CheckAPIKey(context.Background(), pub, priv, netip.MustParseAddr("127.0.0.1")); costexplorer.ErrorCode(err) != costexplorer.ErrUnauthorized {
			t.Errorf("disabled key: %v", err)
		}
		if list := runAdminIn(t, dir, "apikey", "list").wantCode(t, 0).stdout; !regexp.MustCompile(pub + `.*\bno\b`).MatchString(list) {
			t.Errorf("list does not show the key disabled:\n%s", list)
		}
	})

	tests := []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"ErrNoRole", []string{"apikey", "create", "--org", payingOrg}, 2, "--role: at least one role is required"},
		{"ErrUnknownRole", []string{"apikey", "create", "--org", payingOrg, "--role", "ORG_GOD"}, 2, `unknown role "ORG_GOD"`},
		{"ErrNoOrg", []string{"apikey", "create", "--role", "ORG_OWNER"}, 2, "--org: is required"},
		{"ErrBadAccessList", []string{"apikey", "create", "--org", payingOrg, "--role", "ORG_OWNER", "--access-list", "10.0.0.0/33"}, 2, "not an IP address or CIDR block"},
		{"ErrOrgDoesNotExist", []string{"apikey", "create", "--org", linkedOrg, "--role", "ORG_OWNER"}, 1, "organization " + linkedOrg + " does not exist"},
		{"ErrDisableUnknown", []string{"apikey", "disable", "zzzzzzzz"}, 1, `no API key with public key "zzzzzzzz"`},
		{"ErrDisableNoArgument", []string{"apikey", "disable"}, 2, "takes 1 argument(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runAdminIn(t, dir, tt.args...).wantCode(t, tt.code)
			if !strings.Contains(r.stderr, tt.message) {
				t.Errorf("stderr %q, want it to say %q", r.stderr, tt.message)
			}
		})
	}
}

func TestAdminServiceAccounts(t *testing.T) {
	dir := t.TempDir()
	runAdminIn(t, dir, "org", "create", "--name", "Acme", "--id", payingOrg).wantCode(t, 0)
	r := runAdminIn(t, dir, "serviceaccount", "create", "--org", payingOrg, "--name", "finops", "--role", "ORG_BILLING_READ_ONLY").wantCode(t, 0)
	id, secret := r.field(t, "client id"), r.field(t, "client secret")
	if !strings.HasPrefix(id, "mdb_sa_id_") || !strings.HasPrefix(secret, "mdb_sa_sk_") || !strings.Contains(r.stdout, "Store the client secret now") {
		t.Fatalf("create output:\n%s", r.stdout)
	}
	db := openAdminStore(t, dir)
	authn, err := auth.New(context.Background(), auth.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	if _, err := authn.CheckServiceAccount(context.Background(), id, secret, ip); err != nil {
		t.Fatalf("printed secret does not authenticate: %v", err)
	}
	list := runAdminIn(t, dir, "serviceaccount", "list").wantCode(t, 0).stdout
	if !strings.Contains(list, id) || !strings.Contains(list, "finops") || strings.Contains(list, secret) || strings.Contains(list, "$2") {
		t.Errorf("list:\n%s", list)
	}
	runAdminIn(t, dir, "serviceaccount", "disable", id).wantCode(t, 0)
	if _, err := authn.CheckServiceAccount(context.Background(), id, secret, ip); costexplorer.ErrorCode(err) != costexplorer.ErrUnauthorized {
		t.Errorf("disabled account: %v", err)
	}
	r = runAdminIn(t, dir, "serviceaccount", "create", "--org", payingOrg, "--role", "ORG_OWNER").wantCode(t, 2)
	if !strings.Contains(r.stderr, "--name: is required") {
		t.Errorf("stderr %q", r.stderr)
	}
	r = runAdminIn(t, dir, "serviceaccount", "disable", "mdb_sa_id_000000000000000000000000").wantCode(t, 1)
	if !strings.Contains(r.stderr, "no service account") {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestAdminVerifyAndBackup(t *testing.T) {
	dir := t.TempDir()
	runAdminIn(t, dir, "org", "create", "--name", "Acme", "--id", payingOrg).wantCode(t, 0)
	if r := runAdminIn(t, dir, "verify").wantCode(t, 0); !strings.Contains(r.stdout, "is consistent") {
		t.Errorf("verify output %q", r.stdout)
	}
	out := filepath.Join(t.TempDir(), "backups", "copy.db")
	runAdminIn(t, dir, "backup", "--out", out).wantCode(t, 0)
	copyDB, err := sqlite.Open(context.Background(), out, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	if o, err := copyDB.Organization(context.Background(), payingOrg); err != nil || o.Name != "Acme" {
		t.Errorf("backup copy: %+v, %v", o, err)
	}
	if r := runAdminIn(t, dir, "backup", "--out", out).wantCode(t, 1); !strings.Contains(r.stderr, "already exists") {
		t.Errorf("second backup to the same file: %q", r.stderr)
	}
	if r := runAdminIn(t, dir, "backup").wantCode(t, 2); !strings.Contains(r.stderr, "--out: is required") {
		t.Errorf("backup without --out: %q", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, sqliteFile)); err != nil {
		t.Errorf("data directory store: %v", err)
	}
}

func TestAdminHelp(t *testing.T) {
	dir := t.TempDir()
	r := runAdminIn(t, dir, "--help").wantCode(t, 0)
	for _, c := range adminCommands() {
		if !strings.Contains(r.stdout, c.name) {
			t.Errorf("admin --help lacks %q", c.name)
		}
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			h := runAdminIn(t, dir, append(strings.Fields(c.name), "--help")...).wantCode(t, 0)
			if !strings.Contains(h.stderr, "Usage: costexplorer "+c.usage) || !strings.Contains(h.stderr, "Examples:\n  costexplorer admin "+strings.Fields(c.name)[0]) {
				t.Errorf("help:\n%s", h.stderr)
			}
		})
	}
	t.Run("ErrNoCommand", func(t *testing.T) {
		runCLI(t, nil, "", "admin").want(t, 2, nil, []string{"missing command"})
	})
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
