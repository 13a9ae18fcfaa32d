package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cliResult is what a command run in-process did.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs `costexplorer args…` in-process with the given environment and
// standard input, on the pinned clock.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	m := NewMain(strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] })
	m.Now = func() time.Time { return cliNow }
	code := m.Run(t.Context(), args)
	return cliResult{code, out.String(), errb.String()}
}

// wantCode fails the test unless the command exited with code.
func (r cliResult) wantCode(t *testing.T, code int) cliResult {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

// want checks the exit status and that standard output and standard error
// contain the given parts.
func (r cliResult) want(t *testing.T, code int, stdout, stderr []string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d", r.code, code)
	}
	for _, s := range stdout {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q", s)
		}
	}
	for _, s := range stderr {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q", s)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}

// field returns the value printed after label ("  public key:   abc").
func (r cliResult) field(t *testing.T, label string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(label) + `:\s+(\S+)`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no %q in output:\n%s", label, r.stdout)
	}
	return m[1]
}

// wantErr checks err against want, a part of the expected message ("" for
// none), and reports whether an error was expected, so that the case ends
// there.
func wantErr(t *testing.T, err error, want string) bool {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("err = %v, want none", err)
		}
		return false
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	return true
}
