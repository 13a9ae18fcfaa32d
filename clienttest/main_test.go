package clienttest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	demodata "github.com/costexplorer/costexplorer/internal/demo"
)

// minProcessing is how long every query stays "processing" on the test
// server: long enough that the first poll right after creating a query
// always sees the interim 102, short enough to keep the suite quick.
const minProcessing = 3 * time.Second

var (
	// binary is the costexplorer command built from the parent module.
	binary string
	// demo is the server every test shares.
	demo *server
	// apiBase is the base URL forEachClient's SDK clients call: demo.base,
	// or a wire-breaking proxy in front of it (CLIENTTEST_WIRE).
	apiBase string
)

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "clienttest:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "clienttest-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	binary = filepath.Join(tmp, "costexplorer")
	build := exec.Command("go", "build", "-o", binary, "./cmd/costexplorer")
	build.Dir = ".." // the parent module, with its own go.mod and go.sum
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build costexplorer: %v\n%s", err, out)
	}
	// The suite's calls (cost explorer, invoices, SKUs) all draw on one
	// organization's bucket of the Invoices endpoint set; a bucket large
	// enough for the whole suite keeps one test's calls from making another
	// test's answer a 429. The rate limit itself is tested on a server of
	// its own (usage_errors_test.go).
	demo, err = startDemo(filepath.Join(tmp, "data"), "--min-processing", minProcessing.String(),
		"--rate-limit-capacity", "100000")
	if err != nil {
		return 0, err
	}
	defer demo.stop()
	// CLIENTTEST_WIRE=final-102 or empty-200 puts a proxy that breaks the
	// wire form of "processing" between every SDK client of forEachClient
	// and the server: TestUsage must then fail (issue 18's proof that the
	// check can fail; TestBrokenWireFormFailsThePoll asserts the same).
	apiBase = demo.base
	if w := os.Getenv("CLIENTTEST_WIRE"); w != "" {
		mode, ok := map[string]wireMode{"final-102": finalProcessing, "empty-200": emptyOK}[w]
		if !ok {
			return 0, fmt.Errorf("CLIENTTEST_WIRE=%q: want final-102 or empty-200", w)
		}
		p := newWireProxy(demo.base, mode)
		defer p.Close()
		apiBase = p.URL
	}
	return m.Run(), nil
}

// credentials are the demo's, as `costexplorer demo` writes them to
// demo-credentials.json in its data directory.
type credentials = demodata.Credentials

// server is a running `costexplorer demo` child process.
type server struct {
	base    string // http://127.0.0.1:PORT, from the banner
	creds   credentials
	dataDir string
	cmd     *exec.Cmd
	done    chan struct{}

	mu     sync.Mutex
	stderr bytes.Buffer
}

// startDemo starts `costexplorer demo` on a free loopback port with a small
// dataset in dataDir, plus extra flags, and waits for its banner.
func startDemo(dataDir string, flags ...string) (*server, error) {
	args := append([]string{"demo", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--size", "20000", "--log-level", "warn"}, flags...)
	s := &server{cmd: exec.Command(binary, args...), done: make(chan struct{}), dataDir: dataDir}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.cmd.Stderr = lockedWriter{&s.mu, &s.stderr}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.done) }()

	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "costexplorer demo is serving at "); ok {
				found <- u
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case s.base = <-found:
	case <-s.done:
		return nil, fmt.Errorf("costexplorer demo exited before serving:\n%s", s.log())
	case <-time.After(2 * time.Minute):
		s.stop()
		return nil, fmt.Errorf("costexplorer demo printed no banner in 2 minutes:\n%s", s.log())
	}
	b, err := os.ReadFile(filepath.Join(dataDir, demodata.CredentialsFile))
	if err == nil {
		err = json.Unmarshal(b, &s.creds)
	}
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("demo credentials: %w", err)
	}
	return s, nil
}

// stop interrupts the server and waits for it to exit (killing it if it
// does not within its shutdown grace).
func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// log returns what the server wrote to stderr so far.
func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
