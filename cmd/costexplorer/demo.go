package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
	"github.com/costexplorer/costexplorer/internal/demo"
)

func runDemo(ctx context.Context, m *Main, args []string) error {
	cfg, fs := m.newServerFlags("demo",
		"costexplorer demo                       # http://127.0.0.1:8080 with demo data in ./costexplorer-data",
		"costexplorer demo --addr 127.0.0.1:9090 --min-processing 2s",
		"costexplorer demo --size 5000000 --data-dir /tmp/big   # a larger dataset",
		"costexplorer demo --now 2026-12-08      # advance the demo data to that day (restating recent days)")
	size := fs.Int("size", demo.DefaultLineItems, "approximate number of demo line items to generate on first start")
	seed := fs.Int64("seed", 1, "demo data seed (same seed and size, same data)")
	nowFlag := fs.String("now", "", "the day the demo data is as of, YYYY-MM-DD: generated as of it on first start, advanced to it on a later one "+
		"(new days added, recent days restated, a month that ended closed); default: today on first start, the data as it is later")
	if printed, err := cfg.parse(fs, m, args); printed || err != nil {
		return err
	}
	if *size < 1 {
		return fmt.Errorf("%w: --size must be positive", errUsage)
	}
	asOf, advance := m.Now(), *nowFlag != ""
	if advance {
		var err error
		if asOf, err = parseDemoDay(*nowFlag); err != nil {
			return fmt.Errorf("%w: --now: %v", errUsage, err)
		}
	}
	store, err := m.openStore(ctx, &cfg.Store)
	if err != nil {
		return err
	}
	defer store.Close()

	dcfg, err := m.demoPlan(ctx, store, demo.Config{Seed: *seed, LineItems: *size, Now: asOf})
	if err != nil {
		return err
	}
	if !advance && dcfg.Now.Before(dcfg.Anchor) {
		dcfg.Now = dcfg.Anchor // data advanced past the clock, kept as it is
	}
	if err := dcfg.Validate(); err != nil {
		return fmt.Errorf("%w: --now: %v", errUsage, err)
	}
	if err := m.loadDemoData(ctx, store, dcfg, advance); err != nil {
		return err
	}
	creds, err := m.demoCredentials(ctx, store, &cfg.Store, dcfg)
	if err != nil {
		return err
	}
	return m.serve(ctx, cfg, store, func(baseURL string) { printDemoBanner(m.Stdout, baseURL, creds, asOf) })
}

// parseDemoDay reads a --now value: a day (YYYY-MM-DD) or an RFC 3339 time.
func parseDemoDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a day (YYYY-MM-DD) nor an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// demoPlanSecret names the store's record of the demo's world.
const demoPlanSecret = "demo-plan"

// demoPlan is what fixes the demo's world (see demo.Config): recorded in
// the store on first start, so that every later start, and every replica,
// generates or advances the same world whatever its flags.
type demoPlan struct {
	Seed      int64  `json:"seed"`
	LineItems int    `json:"lineItems"`
	Anchor    string `json:"anchor"` // YYYY-MM-DD
}

// demoPlan returns cfg with the world recorded in the store, recording
// cfg's (laid out as of cfg.Now) if none is. A store that holds data from
// before the demo recorded its world is taken to be as the flags say, laid
// out as of its last usage day.
func (m *Main) demoPlan(ctx context.Context, store costexplorer.Store, cfg demo.Config) (demo.Config, error) {
	b, err := store.Secret(ctx, demoPlanSecret, func() ([]byte, error) {
		stats, err := store.UsageStats(ctx)
		if err != nil {
			return nil, err
		}
		anchor := costexplorer.DayOf(cfg.Now)
		if stats.LineItems > 0 {
			anchor = stats.LastDay
		}
		return json.Marshal(demoPlan{Seed: cfg.Seed, LineItems: cfg.LineItems, Anchor: anchor.String()})
	})
	if err != nil {
		return cfg, fmt.Errorf("demo plan: %w", err)
	}
	var p demoPlan
	if err := json.Unmarshal(b, &p); err != nil {
		return cfg, fmt.Errorf("demo plan %s: %w", b, err)
	}
	anchor, err := time.Parse(time.DateOnly, p.Anchor)
	if err != nil {
		return cfg, fmt.Errorf("demo plan %s: %w", b, err)
	}
	cfg.Seed, cfg.LineItems, cfg.Anchor = p.Seed, p.LineItems, anchor
	return cfg, nil
}

// loadDemoData generates and ingests the demo data when the store holds no
// usage; otherwise, with advance, it advances the stored data to the day of
// dcfg.Now, and without, it leaves the data as it is.
func (m *Main) loadDemoData(ctx context.Context, store costexplorer.Store, dcfg demo.Config, advance bool) error {
	stats, err := store.UsageStats(ctx)
	if err != nil {
		return err
	}
	if stats.LineItems > 0 && advance {
		return m.advanceDemo(ctx, store, dcfg)
	}
	if stats.LineItems > 0 {
		fmt.Fprintf(m.Stderr, "demo data: reusing %d line items already in the store, as of %s\n", stats.LineItems, stats.LastDay)
		return nil
	}
	start := time.Now()
	var n int
	err = demo.Generate(ctx, dcfg, func(b *costexplorer.UsageBatch) error {
		res, err := store.IngestUsage(ctx, b)
		n += res.Inserted
		return err
	})
	if err != nil {
		return fmt.Errorf("load demo data: %w", err)
	}
	fmt.Fprintf(m.Stderr, "demo data: generated and stored %d line items as of %s in %s\n", n, costexplorer.DayOf(dcfg.Now), time.Since(start).Round(time.Millisecond))
	return nil
}

// advanceDemo advances the stored demo data to the day of dcfg.Now.
func (m *Main) advanceDemo(ctx context.Context, store costexplorer.Store, dcfg demo.Config) error {
	s, ok := store.(demo.Advancer)
	if !ok {
		return errors.New("demo data: this store cannot advance the demo (it has no ingest sessions)")
	}
	start := time.Now()
	res, err := demo.Advance(ctx, s, dcfg)
	if costexplorer.ErrorCode(err) == costexplorer.ErrValidation {
		return fmt.Errorf("%w: --now: %v", errUsage, err) // a day before the data's
	}
	if err != nil {
		return err
	}
	if res.Inserted == 0 && res.Removed == 0 {
		fmt.Fprintf(m.Stderr, "demo data: already as of %s\n", res.To)
		return nil
	}
	fmt.Fprintf(m.Stderr, "demo data: advanced from %s to %s in %s: %d invoices restated, %d line items stored, %d removed, %d unchanged\n",
		res.From, res.To, time.Since(start).Round(time.Millisecond), res.Invoices, res.Inserted, res.Removed, res.Duplicates)
	return nil
}

// demoCredentials returns the demo credentials, creating them (an owner API
// key and a billing-viewer service account of the paying organization) on
// first start.
func (m *Main) demoCredentials(ctx context.Context, store costexplorer.Store, sf *storeFlags, dcfg demo.Config) (*demo.Credentials, error) {
	path := filepath.Join(m.demoDir(sf), demo.CredentialsFile)
	if b, err := os.ReadFile(path); err == nil {
		var c demo.Credentials
		if err := json.Unmarshal(b, &c); err == nil {
			if _, err := store.APIKeyByPublicKey(ctx, c.PublicKey); err == nil {
				return &c, nil
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	org := demo.Describe(dcfg).PayingOrg
	key, priv, err := auth.NewAPIKey(org.ID, "demo owner key", []costexplorer.Role{costexplorer.RoleOrgOwner}, nil)
	if err != nil {
		return nil, err
	}
	if err := store.CreateAPIKey(ctx, key); err != nil {
		return nil, fmt.Errorf("create demo API key: %w", err)
	}
	sa, secret, err := auth.NewServiceAccount(org.ID, "demo billing viewer", []costexplorer.Role{costexplorer.RoleOrgBillingReadOnly}, nil)
	if err != nil {
		return nil, err
	}
	if err := store.CreateServiceAccount(ctx, sa); err != nil {
		return nil, fmt.Errorf("create demo service account: %w", err)
	}
	c := &demo.Credentials{OrgID: org.ID, OrgName: org.Name, PublicKey: key.PublicKey, PrivateKey: priv, ClientID: sa.ClientID, ClientSecret: secret}
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	return c, nil
}

// demoDir is where demo files live: the data directory, or the current
// directory when the store is a PostgreSQL DSN.
func (m *Main) demoDir(sf *storeFlags) string {
	if sf.dsn != "" && !isSQLiteDSN(sf.dsn) {
		return "."
	}
	return sf.dataDir
}

func printDemoBanner(w io.Writer, base string, c *demo.Credentials, now time.Time) {
	end := costexplorer.MonthOf(now) + 1
	start := end - 6
	body := fmt.Sprintf(`{"startDate":"%s","endDate":"%s","organizations":["%s"],"groupBy":"organizations"}`, start.Date(), end.Date(), c.OrgID)
	accept := `-H "Accept: application/vnd.atlas.2023-01-01+json"`
	fmt.Fprintf(w, `
costexplorer demo is serving at %[1]s
  organization: %[2]s (%[3]s), paying for its linked organizations
  API key (Digest):        public %[4]s  private %[5]s   (role ORG_OWNER)
  service account (OAuth): client id %[6]s  secret %[7]s   (role ORG_BILLING_READ_ONLY)
  web page:                %[1]s/   (sign in with either credential)
  OpenAPI document:        %[1]s/openapi.yaml

Create a query (HTTP Digest), then fetch it with the token it returns:
  curl -s --digest -u '%[4]s:%[5]s' %[8]s -H "Content-Type: application/json" \
    -X POST '%[1]s/api/atlas/v2/orgs/%[3]s/billing/costExplorer/usage' -d '%[9]s'
  curl -s --digest -u '%[4]s:%[5]s' %[8]s '%[1]s/api/atlas/v2/orgs/%[3]s/billing/costExplorer/usage/TOKEN'
  curl -s --digest -u '%[4]s:%[5]s' -H "Accept: application/vnd.atlas.2023-01-01+csv" '%[1]s/api/atlas/v2/orgs/%[3]s/billing/costExplorer/usage/TOKEN'

The same with a service account (OAuth 2.0 client credentials, Bearer token):
  ACCESS_TOKEN=$(curl -s -u '%[6]s:%[7]s' -d grant_type=client_credentials '%[1]s/api/oauth/token' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  curl -s -H "Authorization: Bearer $ACCESS_TOKEN" %[8]s -H "Content-Type: application/json" \
    -X POST '%[1]s/api/atlas/v2/orgs/%[3]s/billing/costExplorer/usage' -d '%[9]s'

Press Ctrl-C to stop.
`, base, c.OrgName, c.OrgID, c.PublicKey, c.PrivateKey, c.ClientID, c.ClientSecret, accept, body)
}
