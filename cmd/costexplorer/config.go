package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer/internal/server"
)

// serverConfig is the whole configuration of a serving process. Defaults come
// from defaultServerConfig (the composition's, server.DefaultConfig); every field is a flag and a COSTEXPLORER_*
// environment variable (flags win), validated as a whole by validate.
type serverConfig struct {
	Addr           string
	MetricsAddr    string
	Pprof          bool
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
	TLSCert        string
	TLSKey         string
	ConfigFile     string
	PrintConfig    bool
	Sync           serveSync
}

func defaultServerConfig() serverConfig {
	d := server.DefaultConfig()
	return serverConfig{
		Addr:          "127.0.0.1:8080",
		ResultTTL:     d.ResultTTL,
		HistoryMonths: d.HistoryMonths,
		Workers:       d.Workers,
		Lease:         d.Lease,
		RateCapacity:  d.RateLimit.Capacity,
		RateRefill:    d.RateLimit.Refill,
		RatePeriod:    d.RateLimit.Period,
		MaxBodyBytes:  d.MaxBodyBytes,
		NonceTTL:      d.NonceTTL,
		TokenTTL:      d.TokenTTL,
		LogFormat:     "text",
		LogLevel:      "info",
		ShutdownGrace: 20 * time.Second,
	}
}

// register adds every option to fs.
func (c *serverConfig) register(fs *flag.FlagSet, m *Main) {
	c.Store.register(fs, m)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address HOST:PORT")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "serve /metrics on this address HOST:PORT alone, and not on --addr")
	fs.BoolVar(&c.Pprof, "pprof", c.Pprof, "also serve Go's profiles (/debug/pprof/) on --metrics-addr")
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
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate file (PEM); serves HTTPS and HTTP/2, reloaded on SIGHUP")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key file (PEM), with --tls-cert")
	fs.StringVar(&c.ConfigFile, "config", "", "configuration file: one \"option = value\" per line, option names as the flags'")
	fs.BoolVar(&c.PrintConfig, "print-config", false, "print the effective configuration (secrets masked) and exit")
	c.Sync.register(fs)
}

// parse reads the command line args into the options registered on fs,
// fills the others from the environment and the configuration file, and
// validates the whole. With --print-config it prints the effective
// configuration and reports printed: the command is then done.
func (c *serverConfig) parse(fs *flag.FlagSet, m *Main, args []string) (printed bool, err error) {
	if err := parseFlags(fs, args); err != nil {
		return false, err
	}
	source, err := applyEnv(fs, m)
	if err != nil {
		return false, fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := c.validate(); err != nil {
		return false, err
	}
	if c.PrintConfig {
		printConfig(m.Stdout, fs, source)
		return true, nil
	}
	return false, nil
}

// applyEnv fills every option not given on the command line, first from its
// COSTEXPLORER_* variable (--min-processing ← COSTEXPLORER_MIN_PROCESSING),
// then from the configuration file named by --config or COSTEXPLORER_CONFIG.
// It returns where each option's value came from.
func applyEnv(fs *flag.FlagSet, m *Main) (map[string]string, error) {
	source := map[string]string{}
	fs.Visit(func(f *flag.Flag) { source[f.Name] = "flag" })
	var errs []string
	fs.VisitAll(func(f *flag.Flag) {
		if source[f.Name] != "" {
			return
		}
		name := envName(f.Name)
		v := m.Getenv(name)
		if v == "" {
			return
		}
		if err := setOption(fs, f, v); err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q: %v", name, v, err))
			return
		}
		source[f.Name] = "env " + name
	})
	if cf := fs.Lookup("config"); cf != nil && cf.Value.String() != "" {
		values, err := readConfigFile(cf.Value.String())
		if err != nil {
			errs = append(errs, err.Error())
		}
		for _, name := range sortedNames(values) {
			f := fs.Lookup(name)
			switch {
			case f == nil || name == "config" || name == "print-config":
				errs = append(errs, fmt.Sprintf("%s:%d: unknown option %q", cf.Value.String(), values[name].line, name))
			case source[name] != "":
				// A flag or the environment wins over the file.
			default:
				if err := setOption(fs, f, values[name].value); err != nil {
					errs = append(errs, fmt.Sprintf("%s:%d: %s = %q: %v", cf.Value.String(), values[name].line, name, values[name].value, err))
					continue
				}
				source[name] = "file " + cf.Value.String()
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return source, nil
}

// setOption sets a flag from a string; repeatable flags take a comma list.
func setOption(fs *flag.FlagSet, f *flag.Flag, v string) error {
	if _, repeatable := f.Value.(*stringList); repeatable {
		for _, part := range strings.Split(v, ",") {
			if err := f.Value.Set(strings.TrimSpace(part)); err != nil {
				return err
			}
		}
		return nil
	}
	return fs.Set(f.Name, v)
}

type configValue struct {
	value string
	line  int
}

// readConfigFile reads "option = value" lines; blank lines and lines starting
// with # are ignored, and values may be double-quoted.
func readConfigFile(path string) (map[string]configValue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	out := map[string]configValue{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want \"option = value\"", path, n)
		}
		k = strings.TrimPrefix(strings.TrimSpace(k), "--")
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		out[k] = configValue{v, n}
	}
	return out, sc.Err()
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// printConfig writes the effective configuration, one option a line with
// where its value came from; secrets (the DSN's password) are masked.
func printConfig(w io.Writer, fs *flag.FlagSet, source map[string]string) {
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "print-config" || f.Name == "config" && f.Value.String() == "" {
			return
		}
		v := f.Value.String()
		if f.Name == "db" {
			v = redactDSN(v)
		}
		from := source[f.Name]
		if from == "" {
			from = "default"
		}
		fmt.Fprintf(w, "%-20s = %-40q # %s\n", f.Name, v, from)
	})
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
	if !validListenAddr(c.Addr) {
		bad("addr", "%q is not HOST:PORT", c.Addr)
	}
	if c.MetricsAddr != "" && !validListenAddr(c.MetricsAddr) {
		bad("metrics-addr", "%q is not HOST:PORT", c.MetricsAddr)
	}
	if c.Pprof && c.MetricsAddr == "" {
		bad("pprof", "needs --metrics-addr: the profiles are never served on the public listener")
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
	c.Sync.validate(bad)
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
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls-cert", "--tls-cert and --tls-key go together")
	} else if c.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey); err != nil {
			bad("tls-cert", "cannot load the key pair: %v", err)
		}
	}
	if c.Store.dsn != "" && !isSQLiteDSN(c.Store.dsn) && !isPostgresDSN(c.Store.dsn) {
		bad("db", "%q: use sqlite://PATH or postgres://…", redactDSN(c.Store.dsn))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: invalid configuration:\n  %s", errUsage, strings.Join(errs, "\n  "))
	}
	return nil
}

// validListenAddr reports whether addr is IP:PORT, localhost:PORT or :PORT.
func validListenAddr(addr string) bool {
	_, err := netip.ParseAddrPort(addr)
	return err == nil || strings.HasPrefix(addr, "localhost:") || strings.HasPrefix(addr, ":")
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
