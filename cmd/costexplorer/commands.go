package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Main is the program: its standard streams, its environment and its clock,
// so that tests can drive every command in-process exactly as a user would.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Now    func() time.Time

	// Ready, if set, is called by serving commands with the server's base URL
	// once it accepts connections (tests use it to find a :0 port).
	Ready func(baseURL string)

	// CertReloaded, if set, is called after each SIGHUP reload of the TLS
	// certificate with its outcome.
	CertReloaded func(error)
}

// NewMain returns a Main on the given streams and environment.
func NewMain(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *Main {
	return &Main{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv, Now: time.Now}
}

// command is one sub-command of the binary.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, m *Main, args []string) error
}

// commands lists every sub-command, in the order --help shows them.
func commands() []command {
	return []command{
		{"demo", "start the server with demo data on the embedded store (creates it on first start)", runDemo},
		{"serve", "start the server on an existing data directory or database", runServe},
		{"import", "import usage data: costexplorer import usage FILE…", runImport},
		{"sync", "fill the store from Atlas's Invoices API (or another costexplorer), restating pending invoices", runSync},
		{"export", "export FOCUS cost and usage data: costexplorer export focus --org ORG --from YYYY-MM --to YYYY-MM", runExport},
		{"admin", "manage organizations, API keys, service accounts; verify and back up the store", runAdmin},
		{"api", "call the Atlas-compatible API like the Atlas CLI: costexplorer api invoices …", runAPI},
		{"query", "run a cost-explorer query and print a table, JSON or CSV", runQuery},
		{"forecast", "forecast the month end and the next three months, in total or per group", runForecast},
		{"invoices", "list an organization's invoices, or show one by service and project: costexplorer invoices list|show", runInvoices},
		{"completion", "print a shell completion script: costexplorer completion bash|zsh", runCompletion},
		{"version", "print the version", runVersion},
	}
}

// errUsage marks a command-line usage error (exit status 2).
var errUsage = errors.New("usage error")

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Run runs the command named by args[0] and returns the process exit status.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		m.usage(m.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "__complete" {
		_ = runComplete(ctx, m, args[1:])
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, m, args[1:])
		var ee *exitError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ee):
			if ee.err != nil && ee.err.Error() != "" {
				fmt.Fprintf(m.Stderr, "costexplorer %s: %v\n", c.name, ee.err)
			}
			return ee.code
		case errors.Is(err, errUsage):
			fmt.Fprintf(m.Stderr, "costexplorer %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(m.Stderr, "costexplorer %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(m.Stderr, "costexplorer: unknown command %q\n\n", args[0])
	m.usage(m.Stderr)
	return 2
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprintln(w, "costexplorer — a self-hosted Atlas-compatible billing Cost Explorer")
	fmt.Fprintln(w, "\nUsage: costexplorer <command> [flags]\n\nCommands:")
	cs := commands()
	width := 0
	for _, c := range cs {
		width = max(width, len(c.name))
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'costexplorer <command> --help' for the flags and examples of a command.")
}

// newFlagSet returns a flag set that writes its usage (with examples) to
// m.Stderr and returns errors instead of exiting.
func (m *Main) newFlagSet(name, usage string, examples ...string) *flag.FlagSet {
	fs := flag.NewFlagSet("costexplorer "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: costexplorer %s\n", usage)
		if len(examples) > 0 {
			fmt.Fprintf(fs.Output(), "\nExamples:\n")
			for _, e := range examples {
				fmt.Fprintf(fs.Output(), "  %s\n", e)
			}
		}
		fmt.Fprintf(fs.Output(), "\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// envOr returns the first non-empty environment variable among names, or def.
func (m *Main) envOr(def string, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(m.Getenv(n)); v != "" {
			return v
		}
	}
	return def
}

var version = "dev"

func runVersion(ctx context.Context, m *Main, args []string) error {
	fmt.Fprintln(m.Stdout, "costexplorer", version)
	return nil
}
