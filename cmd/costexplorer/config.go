package main

import (
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// serverConfig is the whole configuration of a serving process. Defaults come
// from defaultServerConfig; every field is a flag and a COSTEXPLORER_*
// environment variable (flags win), validated as a whole by validate.
type serverConfig struct {
	Addr           string
	Store          storeFlags
	MinProcessing  time.Duration
	ResultTTL      time.Duration
	HistoryMonths  int
	Workers        int
	Lease          time.Duration
	RateCapacity   int
	RateRefill     int
	RatePeriod     time.Duration
	MaxBodyBytes   int64
	NonceTTL       time.Duration
	TokenTTL       time.Duration
	TrustedProxies stringList
	LogFormat      string
	LogLevel       string
	ShutdownGrace  time.Duration
}

func defaultServerConfig() serverConfig {
	return serverConfig{
		Addr:          "127.0.0.1:8080",
		ResultTTL:     24 * time.Hour,
		HistoryMonths: 18,
		Workers:       2,
		Lease:         30 * time.Second,
		RateCapacity:  500,
		RateRefill:    100,
		RatePeriod:    time.Minute,
		MaxBodyBytes:  1 << 20,
		NonceTTL:      5 * time.Minute,
		TokenTTL:      time.Hour,
		LogFormat:     "text",
		LogLevel:      "info",
		ShutdownGrace: 20 * time.Second,
	}
}

// register adds every option to fs.
func (c *serverConfig) register(fs *flag.FlagSet, m *Main) {
	c.Store.register(fs, m)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address HOST:PORT")
	fs.DurationVar(&c.MinProcessing, "min-processing", c.MinProcessing, "keep each query process \"processing\" at least this long (exercise client polling)")
	fs.DurationVar(&c.ResultTTL, "result-ttl", c.ResultTTL, "how long query results are kept")
	fs.IntVar(&c.HistoryMonths, "history-months", c.HistoryMonths, "how many months back a query may start (Atlas: 18)")
	fs.IntVar(&c.Workers, "workers", c.Workers, "query-process workers per server")
	fs.DurationVar(&c.Lease, "lease", c.Lease, "query-process lease; another replica takes over a process whose lease lapsed")
	fs.IntVar(&c.RateCapacity, "rate-limit-capacity", c.RateCapacity, "per-organization token bucket capacity for the Invoices endpoints")
	fs.IntVar(&c.RateRefill, "rate-limit-refill", c.RateRefill, "tokens added to the bucket every --rate-limit-period")
	fs.DurationVar(&c.RatePeriod, "rate-limit-period", c.RatePeriod, "rate-limit refill period")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest accepted request body (413 beyond)")
	fs.DurationVar(&c.NonceTTL, "nonce-ttl", c.NonceTTL, "Digest nonce lifetime (stale=true after it)")
	fs.DurationVar(&c.TokenTTL, "token-ttl", c.TokenTTL, "OAuth access token lifetime")
	fs.Var(&c.TrustedProxies, "trusted-proxy", "CIDR of a proxy whose X-Forwarded-For is trusted (repeatable)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", c.ShutdownGrace, "how long requests in flight may take to finish on shutdown")
}

// applyEnv sets every flag not given on the command line from its
// COSTEXPLORER_* variable (--min-processing ← COSTEXPLORER_MIN_PROCESSING).
func applyEnv(fs *flag.FlagSet, m *Main) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := envName(f.Name)
		v := m.Getenv(name)
		if v == "" {
			return
		}
		if _, repeatable := f.Value.(*stringList); repeatable {
			for _, part := range strings.Split(v, ",") {
				if e := f.Value.Set(strings.TrimSpace(part)); e != nil {
					err = fmt.Errorf("%s: %w", name, e)
				}
			}
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("%s=%q: %w", name, v, e)
		}
	})
	return err
}

func envName(flagName string) string {
	return "COSTEXPLORER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// validate checks the configuration as a whole and names the offending option.
func (c *serverConfig) validate() error {
	var errs []string
	bad := func(flagName, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("--%s: %s", flagName, fmt.Sprintf(format, args...)))
	}
	if _, err := netip.ParseAddrPort(c.Addr); err != nil && !strings.HasPrefix(c.Addr, "localhost:") && !strings.HasPrefix(c.Addr, ":") {
		bad("addr", "%q is not HOST:PORT", c.Addr)
	}
	if c.MinProcessing < 0 {
		bad("min-processing", "must not be negative")
	}
	if c.ResultTTL < time.Minute {
		bad("result-ttl", "must be at least 1m")
	}
	if c.HistoryMonths < 1 || c.HistoryMonths > 600 {
		bad("history-months", "must be between 1 and 600")
	}
	if c.Workers < 1 || c.Workers > 256 {
		bad("workers", "must be between 1 and 256")
	}
	if c.Lease < time.Second {
		bad("lease", "must be at least 1s")
	}
	if c.RateCapacity < 1 {
		bad("rate-limit-capacity", "must be at least 1")
	}
	if c.RateRefill < 1 {
		bad("rate-limit-refill", "must be at least 1")
	}
	if c.RatePeriod <= 0 {
		bad("rate-limit-period", "must be positive")
	}
	if c.MaxBodyBytes < 1024 {
		bad("max-body-bytes", "must be at least 1024")
	}
	if c.NonceTTL < time.Second {
		bad("nonce-ttl", "must be at least 1s")
	}
	if c.TokenTTL < time.Minute {
		bad("token-ttl", "must be at least 1m")
	}
	for _, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			bad("trusted-proxy", "%q is not an IP or CIDR", p)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format", "must be text or json")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "must be debug, info, warn or error")
	}
	if c.ShutdownGrace <= 0 {
		bad("shutdown-grace", "must be positive")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: invalid configuration:\n  %s", errUsage, strings.Join(errs, "\n  "))
	}
	return nil
}

// parsePrefix parses a CIDR, or a single address as a /32 or /128.
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
