package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
)

// adminCommand is one leaf of `costexplorer admin`: "org create", "verify", …
type adminCommand struct {
	name     string
	usage    string // after "costexplorer "
	summary  string
	examples []string
	// flags registers the command's own flags (the store flags are added
	// for every command) and returns the function to run after parsing.
	flags func(fs *flag.FlagSet) func(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error
	// args is the number of positional arguments the command takes.
	args int
}

func adminCommands() []adminCommand {
	return []adminCommand{
		{
			name: "org create", args: 0,
			usage:   "admin org create --name NAME [--id HEX] [--paying-org HEX] [--requires-access-list]",
			summary: "create an organization (linked to a paying one with --paying-org)",
			examples: []string{
				`costexplorer admin org create --name "Acme Corp"`,
				`costexplorer admin org create --name "Acme EU" --id 5f1a2b3c4d5e6f7a8b9c0d1e --paying-org 5f00000000000000000000aa`,
				`costexplorer admin org create --name Bank --requires-access-list`,
			},
			flags: orgCreateFlags,
		},
		{
			name: "org list", args: 0,
			usage:    "admin org list",
			summary:  "list organizations with their paying organization",
			examples: []string{"costexplorer admin org list", "costexplorer admin org list --db postgres://costexplorer@db/costexplorer"},
			flags:    func(*flag.FlagSet) adminRun { return runOrgList },
		},
		{
			name: "org link", args: 2,
			usage:    "admin org link PAYING_ORG_ID LINKED_ORG_ID",
			summary:  "link an organization to a paying organization (cross-organization billing)",
			examples: []string{"costexplorer admin org link 5f00000000000000000000aa 5f1a2b3c4d5e6f7a8b9c0d1e"},
			flags:    func(*flag.FlagSet) adminRun { return runOrgLink },
		},
		{
			name: "apikey create", args: 0,
			usage:   "admin apikey create --org ID --role ROLE [--role ROLE…] [--access-list CIDR…] [--description TEXT]",
			summary: "create an API key (HTTP Digest); prints the private key once",
			examples: []string{
				"costexplorer admin apikey create --org 5f00000000000000000000aa --role ORG_BILLING_READ_ONLY",
				`costexplorer admin apikey create --org 5f00000000000000000000aa --role ORG_OWNER --access-list 192.0.2.0/24 --access-list 198.51.100.7 --description "CI pipeline"`,
			},
			flags: apiKeyCreateFlags,
		},
		{
			name: "apikey list", args: 0,
			usage:    "admin apikey list [--org ID]",
			summary:  "list API keys (never their secrets)",
			examples: []string{"costexplorer admin apikey list", "costexplorer admin apikey list --org 5f00000000000000000000aa"},
			flags:    apiKeyListFlags,
		},
		{
			name: "apikey disable", args: 1,
			usage:    "admin apikey disable PUBLIC_KEY",
			summary:  "disable an API key: it stops authenticating at once",
			examples: []string{"costexplorer admin apikey disable abcdefgh"},
			flags:    func(*flag.FlagSet) adminRun { return runAPIKeyDisable },
		},
		{
			name: "serviceaccount create", args: 0,
			usage:   "admin serviceaccount create --org ID --name NAME --role ROLE [--role ROLE…] [--access-list CIDR…] [--description TEXT]",
			summary: "create a service account (OAuth 2.0 client credentials); prints the secret once",
			examples: []string{
				"costexplorer admin serviceaccount create --org 5f00000000000000000000aa --name finops --role ORG_BILLING_READ_ONLY",
				"costexplorer admin serviceaccount create --org 5f00000000000000000000aa --name exporter --role ORG_BILLING_ADMIN --access-list 10.0.0.0/8",
			},
			flags: serviceAccountCreateFlags,
		},
		{
			name: "serviceaccount list", args: 0,
			usage:    "admin serviceaccount list [--org ID]",
			summary:  "list service accounts (never their secrets)",
			examples: []string{"costexplorer admin serviceaccount list --org 5f00000000000000000000aa"},
			flags:    serviceAccountListFlags,
		},
		{
			name: "serviceaccount disable", args: 1,
			usage:    "admin serviceaccount disable CLIENT_ID",
			summary:  "disable a service account: no new tokens, and its live tokens stop working",
			examples: []string{"costexplorer admin serviceaccount disable mdb_sa_id_0123456789abcdef01234567"},
			flags:    func(*flag.FlagSet) adminRun { return runServiceAccountDisable },
		},
		{
			name: "verify", args: 0,
			usage:    "admin verify",
			summary:  "recompute the monthly rollup and check references; exit 1 listing each difference",
			examples: []string{"costexplorer admin verify --data-dir ./costexplorer-data"},
			flags:    func(*flag.FlagSet) adminRun { return runVerify },
		},
		{
			name: "sync status", args: 0,
			usage:    "admin sync status [--source URL]",
			summary:  "show what the syncs from a source brought (one mark per invoice), the sync lease, and the last run",
			examples: []string{"costexplorer admin sync status --source https://cloud.mongodb.com"},
			flags:    syncStatusFlags,
		},
		{
			name: "backup", args: 0,
			usage:    "admin backup --out FILE",
			summary:  "write a consistent copy of the embedded SQLite store while it is in use",
			examples: []string{"costexplorer admin backup --out backups/costexplorer-$(date +%F).db"},
			flags:    backupFlags,
		},
	}
}

// adminRun runs an admin command on an open store with its positional args.
type adminRun = func(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error

func (m *Main) adminUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: costexplorer admin <command> [flags]\n\nCommands:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range adminCommands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nEvery command takes --data-dir DIR or --db DSN (default ./costexplorer-data, or COSTEXPLORER_DATA_DIR / COSTEXPLORER_DB).")
	fmt.Fprintln(w, "Run 'costexplorer admin <command> --help' for its flags and examples.")
}

// runAdmin dispatches `costexplorer admin …` to one of adminCommands, whose
// names are one or two words.
func runAdmin(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 {
		m.adminUsage(m.Stderr)
		return fmt.Errorf("%w: missing command", errUsage)
	}
	if isHelp(args[0]) {
		m.adminUsage(m.Stdout)
		return flag.ErrHelp
	}
	var cmd *adminCommand
	rest := args
	for _, c := range adminCommands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			cmd, rest = &c, args[len(words):]
			break
		}
	}
	if cmd == nil {
		m.adminUsage(m.Stderr)
		return fmt.Errorf("%w: unknown command %q", errUsage, strings.Join(args[:min(2, len(args))], " "))
	}
	fs := m.newFlagSet("admin "+cmd.name, cmd.usage, cmd.examples...)
	var sf storeFlags
	sf.register(fs, m)
	run := cmd.flags(fs)
	positional, err := parseInterleaved(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s: %v", errUsage, cmd.name, err)
	}
	if len(positional) != cmd.args {
		fs.Usage()
		return fmt.Errorf("%w: %s takes %d argument(s), got %d", errUsage, cmd.name, cmd.args, len(positional))
	}
	if err := checkFlags(fs); err != nil {
		return fmt.Errorf("%w: %s: %v", errUsage, cmd.name, err)
	}
	store, err := m.openStore(ctx, &sf)
	if err != nil {
		return err
	}
	defer store.Close()
	return run(ctx, m, store, &sf, positional)
}

// credentialFlags are the flags shared by apikey create and serviceaccount
// create.
type credentialFlags struct {
	org         *string
	roles       []costexplorer.Role
	accessList  costexplorer.AccessList
	description string
}

func (c *credentialFlags) register(fs *flag.FlagSet) {
	c.org = orgIDVar(fs, "org", "organization id", false)
	fs.Var(rolesFlag{&c.roles}, "role", "organization role, repeatable: ORG_OWNER, ORG_BILLING_ADMIN, ORG_BILLING_READ_ONLY may use the cost explorer; ORG_READ_ONLY, ORG_MEMBER, ORG_GROUP_CREATOR may not (required)")
	fs.Var(accessListFlag{&c.accessList}, "access-list", "IP address or CIDR block the credential may be used from, repeatable (default: any address, unless the organization requires a list)")
	fs.StringVar(&c.description, "description", "", "free text shown in listings")
}

// organization returns the organization the credential is for, or a clear
// error if it does not exist.
func (c *credentialFlags) organization(ctx context.Context, store costexplorer.Store) (*costexplorer.Organization, error) {
	org, err := store.Organization(ctx, *c.org)
	if costexplorer.IsNotFound(err) {
		return nil, fmt.Errorf("organization %s does not exist (create it with 'costexplorer admin org create')", *c.org)
	}
	return org, err
}

func orgCreateFlags(fs *flag.FlagSet) adminRun {
	name := requiredString(fs, "name", "organization name")
	id := orgIDVar(fs, "id", "organization id, 24 lower-case hex (default: random)", true)
	paying := orgIDVar(fs, "paying-org", "id of the paying organization this one is linked to", true)
	requiresList := fs.Bool("requires-access-list", false, "refuse credentials of this organization that have no IP access list")
	return func(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error {
		o := &costexplorer.Organization{ID: *id, Name: strings.TrimSpace(*name), PayingOrgID: *paying, RequiresAccessList: *requiresList}
		if o.ID == "" {
			b := make([]byte, 12)
			rand.Read(b)
			o.ID = hex.EncodeToString(b)
		}
		if err := o.Validate(); err != nil {
			return fmt.Errorf("%w: %s", errUsage, costexplorer.ErrorDetail(err))
		}
		if err := store.CreateOrganization(ctx, o); err != nil {
			return storeError(err)
		}
		fmt.Fprintf(m.Stdout, "Created organization %s (%s)\n", o.ID, o.Name)
		if o.PayingOrgID != "" {
			fmt.Fprintf(m.Stdout, "  linked to paying organization %s\n", o.PayingOrgID)
		}
		if o.RequiresAccessList {
			fmt.Fprintln(m.Stdout, "  requires an IP access list on every credential")
		}
		return nil
	}
}

func runOrgList(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error {
	orgs, total, err := store.Organizations(ctx, costexplorer.OrganizationFilter{})
	if err != nil {
		return storeError(err)
	}
	rows := make([][]string, len(orgs))
	for i, o := range orgs {
		rows[i] = []string{o.ID, o.Name, dash(o.PayingOrgID), yesNo(o.RequiresAccessList), formatTime(o.CreatedAt)}
	}
	writeList(m.Stdout, []string{"ID", "NAME", "PAYING ORG", "REQUIRES ACCESS LIST", "CREATED"}, rows, fmt.Sprintf("%d organization(s)", total))
	return nil
}

func runOrgLink(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error {
	paying, linked := args[0], args[1]
	for _, id := range args {
		if !costexplorer.IsID(id) {
			return fmt.Errorf("%w: organization id %q must be 24 lower-case hexadecimal characters", errUsage, id)
		}
	}
	if paying == linked {
		return fmt.Errorf("%w: an organization cannot pay for itself", errUsage)
	}
	if err := store.LinkOrganization(ctx, paying, linked); err != nil {
		return storeError(err)
	}
	fmt.Fprintf(m.Stdout, "Linked organization %s to paying organization %s\n", linked, paying)
	return nil
}

func apiKeyCreateFlags(fs *flag.FlagSet) adminRun {
	var c credentialFlags
	c.register(fs)
	return func(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error {
		org, err := c.organization(ctx, store)
		if err != nil {
			return err
		}
		k, priv, err := auth.NewAPIKey(org.ID, c.description, c.roles, c.accessList)
		if err != nil {
			return fmt.Errorf("%w: %s", errUsage, costexplorer.ErrorDetail(err))
		}
		if err := store.CreateAPIKey(ctx, k); err != nil {
			return storeError(err)
		}
		w := m.Stdout
		fmt.Fprintf(w, "Created API key for organization %s (%s)\n", org.ID, org.Name)
		writeFields(w, "public key", k.PublicKey, "private key", priv, "roles", joinRoles(k.Roles), "access list", describeAccessList(k.AccessList, org))
		fmt.Fprintln(w, "\nStore the private key now: it is shown only this once. The server keeps only its")
		fmt.Fprintln(w, "digest hashes and cannot show it again; if it is lost, disable the key and create another.")
		fmt.Fprintf(w, "\nUse it with HTTP Digest, for example:\n  curl --digest -u '%s:%s' -H 'Accept: application/vnd.atlas.2023-01-01+json' http://127.0.0.1:8080/api/atlas/v2/orgs/%s\n",
			k.PublicKey, priv, org.ID)
		return nil
	}
}

func apiKeyListFlags(fs *flag.FlagSet) adminRun {
	org := orgIDVar(fs, "org", "only the keys of this organization", true)
	return func(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error {
		keys, err := store.APIKeys(ctx, *org)
		if err != nil {
			return storeError(err)
		}
		rows := make([][]string, len(keys))
		for i, k := range keys {
			rows[i] = []string{k.PublicKey, k.OrgID, joinRoles(k.Roles), dash(strings.Join(k.AccessList, ",")), yesNo(k.Enabled), formatTime(k.CreatedAt), k.Description}
		}
		writeList(m.Stdout, []string{"PUBLIC KEY", "ORG", "ROLES", "ACCESS LIST", "ENABLED", "CREATED", "DESCRIPTION"}, rows, fmt.Sprintf("%d API key(s)", len(keys)))
		return nil
	}
}

func runAPIKeyDisable(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error {
	return disable(m, store.SetAPIKeyEnabled(ctx, args[0], false),
		fmt.Sprintf("no API key with public key %q", args[0]),
		fmt.Sprintf("Disabled API key %s: it no longer authenticates.", args[0]))
}

func serviceAccountCreateFlags(fs *flag.FlagSet) adminRun {
	var c credentialFlags
	c.register(fs)
	name := requiredString(fs, "name", "service account name")
	return func(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error {
		org, err := c.organization(ctx, store)
		if err != nil {
			return err
		}
		sa, secret, err := auth.NewServiceAccount(org.ID, strings.TrimSpace(*name), c.roles, c.accessList)
		if err != nil {
			return fmt.Errorf("%w: %s", errUsage, costexplorer.ErrorDetail(err))
		}
		sa.Description = c.description
		if err := store.CreateServiceAccount(ctx, sa); err != nil {
			return storeError(err)
		}
		w := m.Stdout
		fmt.Fprintf(w, "Created service account %q for organization %s (%s)\n", sa.Name, org.ID, org.Name)
		writeFields(w, "client id", sa.ClientID, "client secret", secret, "roles", joinRoles(sa.Roles), "access list", describeAccessList(sa.AccessList, org))
		fmt.Fprintln(w, "\nStore the client secret now: it is shown only this once. The server keeps only a")
		fmt.Fprintln(w, "slow hash of it; if it is lost, disable the account and create another.")
		fmt.Fprintf(w, "\nGet an access token (OAuth 2.0 client credentials), for example:\n  curl -u '%s:%s' -d grant_type=client_credentials http://127.0.0.1:8080/api/oauth/token\n",
			sa.ClientID, secret)
		return nil
	}
}

func serviceAccountListFlags(fs *flag.FlagSet) adminRun {
	org := orgIDVar(fs, "org", "only the accounts of this organization", true)
	return func(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error {
		accounts, err := store.ServiceAccounts(ctx, *org)
		if err != nil {
			return storeError(err)
		}
		rows := make([][]string, len(accounts))
		for i, a := range accounts {
			rows[i] = []string{a.ClientID, a.OrgID, a.Name, joinRoles(a.Roles), dash(strings.Join(a.AccessList, ",")), yesNo(a.Enabled), formatTime(a.CreatedAt)}
		}
		writeList(m.Stdout, []string{"CLIENT ID", "ORG", "NAME", "ROLES", "ACCESS LIST", "ENABLED", "CREATED"}, rows, fmt.Sprintf("%d service account(s)", len(accounts)))
		return nil
	}
}

func runServiceAccountDisable(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error {
	return disable(m, store.SetServiceAccountEnabled(ctx, args[0], false),
		fmt.Sprintf("no service account with client id %q", args[0]),
		fmt.Sprintf("Disabled service account %s: it gets no new tokens and its live tokens stop working.", args[0]))
}

// disable reports the outcome of disabling a credential: err from the
// store, notFound as the error when there is no such credential, done on
// standard output when it worked.
func disable(m *Main, err error, notFound, done string) error {
	if costexplorer.IsNotFound(err) {
		return errors.New(notFound)
	}
	if err != nil {
		return storeError(err)
	}
	fmt.Fprintln(m.Stdout, done)
	return nil
}

func runVerify(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error {
	v, ok := store.(costexplorer.Verifier)
	if !ok {
		return fmt.Errorf("verify is not supported for the store %s", sf.describe())
	}
	diffs, err := v.Verify(ctx)
	if err != nil {
		return storeError(err)
	}
	for _, d := range diffs {
		fmt.Fprintln(m.Stdout, d)
	}
	if len(diffs) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("verify: %d difference(s) in %s", len(diffs), sf.describe())}
	}
	fmt.Fprintf(m.Stdout, "%s is consistent: the rollup matches the line items and every reference resolves.\n", sf.describe())
	return nil
}

// backuper is implemented by stores that can copy themselves while in use
// (internal/sqlite).
type backuper interface {
	Backup(ctx context.Context, path string) error
}

func backupFlags(fs *flag.FlagSet) adminRun {
	out := requiredString(fs, "out", "file to write the copy to; must not exist")
	return func(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error {
		b, ok := store.(backuper)
		if !ok {
			return fmt.Errorf("backup is not supported for the store %s; back up PostgreSQL with pg_dump", sf.describe())
		}
		start := time.Now()
		if err := b.Backup(ctx, *out); err != nil {
			return storeError(err)
		}
		fmt.Fprintf(m.Stdout, "Backed up %s to %s in %s\n", sf.describe(), *out, time.Since(start).Round(time.Millisecond))
		return nil
	}
}

// storeError turns a store error into a message for the operator: the
// detail of a domain error, the cause of anything else.
func storeError(err error) error {
	var e *costexplorer.Error
	if errors.As(err, &e) && e.Code != costexplorer.ErrInternal {
		return errors.New(e.Detail)
	}
	return err
}

// writeList writes a listing: a table under its header, aligned, then a
// line that counts the items.
func writeList(w io.Writer, header []string, rows [][]string, count string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w, count)
}

// writeFields writes the label, value pairs of a new credential, one a line,
// the values aligned two spaces after the longest label.
func writeFields(w io.Writer, labelValues ...string) {
	width := 0
	for i := 0; i < len(labelValues); i += 2 {
		width = max(width, len(labelValues[i])+1)
	}
	for i := 0; i < len(labelValues); i += 2 {
		fmt.Fprintf(w, "  %-*s  %s\n", width, labelValues[i]+":", labelValues[i+1])
	}
}

func joinRoles(roles []costexplorer.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

func describeAccessList(l costexplorer.AccessList, org *costexplorer.Organization) string {
	if len(l) > 0 {
		return strings.Join(l, ", ")
	}
	if org.RequiresAccessList {
		return "none — the organization requires one, so this credential will be refused (403 ORG_REQUIRES_ACCESS_LIST)"
	}
	return "none (any address)"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
