package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/atlassync"
	"github.com/costexplorer/costexplorer/internal/metrics"
	"github.com/costexplorer/costexplorer/internal/server"
)

// serveSync configures the scheduled sync of serve. Secrets come from files
// or the environment, never from flags: COSTEXPLORER_SYNC_PRIVATE_KEY,
// COSTEXPLORER_SYNC_CLIENT_SECRET, or the Atlas CLI's
// MONGODB_ATLAS_PRIVATE_API_KEY and MONGODB_ATLAS_CLIENT_SECRET (with their
// public parts).
type serveSync struct {
	Source           string
	Every            time.Duration
	Orgs             stringList
	PublicKey        string
	PrivateKeyFile   string
	ClientID         string
	ClientSecretFile string
	ExactOrder       bool
}

func (s *serveSync) register(fs *flag.FlagSet) {
	fs.StringVar(&s.Source, "sync-source", "", "sync from this Atlas-compatible base URL (e.g. https://cloud.mongodb.com) on one replica at a time; off when empty")
	fs.DurationVar(&s.Every, "sync-every", 6*time.Hour, "time between the starts of two scheduled syncs")
	fs.Var(&s.Orgs, "sync-org", "organization to sync (repeatable; default: every organization the credential lists)")
	fs.StringVar(&s.PublicKey, "sync-public-key", "", "API key public part for the sync (or MONGODB_ATLAS_PUBLIC_API_KEY)")
	fs.StringVar(&s.PrivateKeyFile, "sync-private-key-file", "", "file holding the sync's API key private part (or COSTEXPLORER_SYNC_PRIVATE_KEY, MONGODB_ATLAS_PRIVATE_API_KEY)")
	fs.StringVar(&s.ClientID, "sync-client-id", "", "service account client id for the sync (or MONGODB_ATLAS_CLIENT_ID)")
	fs.BoolVar(&s.ExactOrder, "sync-exact-order", false, "also read each synced invoice's line-item search, so that searches order ties as the source does (a request per 500 items)")
	fs.StringVar(&s.ClientSecretFile, "sync-client-secret-file", "", "file holding the sync's service account secret (or COSTEXPLORER_SYNC_CLIENT_SECRET, MONGODB_ATLAS_CLIENT_SECRET)")
}

func (s *serveSync) validate(bad func(flagName, format string, args ...any)) {
	if s.Source == "" {
		return
	}
	if u, err := url.Parse(s.Source); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("sync-source", "%q is not an http(s) URL", s.Source)
	}
	if s.Every < time.Minute {
		bad("sync-every", "must be at least 1m")
	}
}

// connection resolves the sync's credentials: flags and files first, then
// the environment.
func (s *serveSync) connection(m *Main) (*connection, error) {
	c := &connection{BaseURL: s.Source, PublicKey: s.PublicKey, ClientID: s.ClientID}
	read := func(file string) (string, error) {
		if file == "" {
			return "", nil
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usageErrorf("sync credentials: %v", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	var err error
	if c.PrivateKey, err = read(s.PrivateKeyFile); err != nil {
		return nil, err
	}
	if c.ClientSecret, err = read(s.ClientSecretFile); err != nil {
		return nil, err
	}
	fill := func(v *string, env ...string) {
		if *v == "" {
			*v = m.envOr("", env...)
		}
	}
	fill(&c.PublicKey, "MONGODB_ATLAS_PUBLIC_API_KEY")
	fill(&c.PrivateKey, "COSTEXPLORER_SYNC_PRIVATE_KEY", "MONGODB_ATLAS_PRIVATE_API_KEY")
	fill(&c.ClientID, "MONGODB_ATLAS_CLIENT_ID")
	fill(&c.ClientSecret, "COSTEXPLORER_SYNC_CLIENT_SECRET", "MONGODB_ATLAS_CLIENT_SECRET")
	return c, nil
}

// startSync starts the scheduled sync when --sync-source is set (nil
// otherwise): into the store itself (the server's engine sees the changes
// as it sees another replica's), with the server's metrics.
func (m *Main) startSync(ctx context.Context, cfg *serveSync, srv *server.Server, store costexplorer.Store, log *slog.Logger) (*atlassync.Scheduler, error) {
	if cfg.Source == "" {
		return nil, nil
	}
	target, ok := store.(atlassync.Store)
	if !ok {
		return nil, fmt.Errorf("--sync-source: the store cannot take a sync (no ingest sessions)")
	}
	conn, err := cfg.connection(m)
	if err != nil {
		return nil, err
	}
	counter := &atlassync.RequestCounter{}
	c, err := m.newClient(conn, syncClientOptions(counter)...)
	if err != nil {
		return nil, fmt.Errorf("--sync-source: %w", err)
	}
	sched := &atlassync.Scheduler{
		Config: atlassync.Config{Client: c, Store: target, Orgs: cfg.Orgs, ExactOrder: cfg.ExactOrder, Now: m.Now, Requests: counter, Logger: log},
		Leases: store,
		Holder: srv.Runner.Owner(),
		Every:  cfg.Every,
		Observe: func(rep *atlassync.Report, err error) {
			srv.Metrics.ObserveSync(metrics.SyncRun{Items: rep.Items, Restated: rep.Restated, Duration: rep.Duration, Err: err, End: time.Now()})
		},
	}
	sched.Start(ctx)
	log.Info("sync scheduled", "source", cfg.Source, "every", cfg.Every)
	return sched, nil
}
