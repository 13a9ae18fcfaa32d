package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server is a costexplorer server running as a child process on loopback,
// so that its memory can be read from /proc and nothing of the benchmark
// driver (DuckDB, the dataset) is counted in it.
type Server struct {
	BaseURL string
	cmd     *exec.Cmd
	done    chan error
}

// StartServer runs `bin serve` on dbPath at a free loopback port with the
// given extra flags, and waits until it answers /readyz. Its log goes to
// logPath.
func StartServer(ctx context.Context, bin, dbPath, logPath string, extra ...string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--db", "sqlite://" + dbPath, "--addr", addr}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// The server dies with the benchmark, even killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &Server{BaseURL: "http://" + addr, cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); logf.Close() }()
	ready := func() bool {
		res, err := http.Get(s.BaseURL + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}
	err = awaitReady(ctx, ready, 50*time.Millisecond, 5*time.Minute, // the engine loads the rollup first
		s.done, s.Stop,
		func(err error) error { return fmt.Errorf("server exited: %v (log: %s)", err, logPath) },
		fmt.Errorf("server not ready after 5 minutes (log: %s)", logPath))
	if err != nil {
		return nil, err
	}
	return s, nil
}

// awaitReady polls ready every interval until it reports true. It gives up
// when the child process reports its exit on done (the error exited makes of
// it), when ctx ends, or after timeout (late); in the last two cases it stops
// the child first.
func awaitReady(ctx context.Context, ready func() bool, interval, timeout time.Duration,
	done <-chan error, stop func() error, exited func(error) error, late error) error {
	deadline := time.Now().Add(timeout)
	for !ready() {
		select {
		case err := <-done:
			return exited(err)
		case <-ctx.Done():
			_ = stop()
			return ctx.Err()
		case <-time.After(interval):
		}
		if time.Now().After(deadline) {
			_ = stop()
			return late
		}
	}
	return nil
}

// PID returns the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Memory returns the server's peak and current resident set (VmHWM, VmRSS)
// in bytes, from /proc/PID/status.
func (s *Server) Memory() (peak, current int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.PID()))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmHWM" && k != "VmRSS") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %q", k, v)
		}
		if k == "VmHWM" {
			peak = kb << 10
		} else {
			current = kb << 10
		}
	}
	return peak, current, sc.Err()
}

// Stop interrupts the server and waits for it to exit.
func (s *Server) Stop() error {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		return <-s.done
	}
}

// Client calls the API with a Bearer token over keep-alive connections.
type Client struct {
	BaseURL string
	OrgID   string
	Token   string
	HTTP    *http.Client
}

// NewClient gets an access token for a service account (OAuth 2.0 client
// credentials) and returns a client that keeps up to conns connections
// alive.
func NewClient(ctx context.Context, baseURL, orgID, clientID, secret string, conns int) (*Client, error) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	req, err := http.NewRequestWithContext(ctx, "POST", baseURL+"/api/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(clientID, secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("token: %d %s", res.StatusCode, body)
	}
	return &Client{BaseURL: baseURL, OrgID: orgID, Token: tok.AccessToken, HTTP: hc}, nil
}

const mediaType = "application/vnd.atlas.2023-01-01+json"

func (c *Client) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", mediaType)
	if body != nil {
		req.Header.Set("Content-Type", mediaType)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, data, err
}

func (c *Client) usagePath() string {
	return "/api/atlas/v2/orgs/" + c.OrgID + "/billing/costExplorer/usage"
}

// ResultURL returns the URL of a token's result.
func (c *Client) ResultURL(token string) string { return c.BaseURL + c.usagePath() + "/" + token }

// MediaType is the versioned media type the client sends.
const MediaType = mediaType

// CSVMediaType asks for a result as CSV.
const CSVMediaType = "application/vnd.atlas.2023-01-01+csv"

// Create posts a query body and returns its token.
func (c *Client) Create(ctx context.Context, body []byte) (string, error) {
	status, data, err := c.do(ctx, "POST", c.usagePath(), body)
	if err != nil {
		return "", err
	}
	var tok struct{ Token string }
	if status != http.StatusAccepted || json.Unmarshal(data, &tok) != nil || tok.Token == "" {
		return "", fmt.Errorf("POST: %d %s", status, data)
	}
	return tok.Token, nil
}

// Get fetches a token's result once with ?envelope=true (as the project's
// client polls) and reports whether it was ready; the body is read whole.
func (c *Client) Get(ctx context.Context, token string) (ready bool, body []byte, err error) {
	status, data, err := c.do(ctx, "GET", c.usagePath()+"/"+token+"?envelope=true", nil)
	if err != nil {
		return false, nil, err
	}
	if status != http.StatusOK {
		return false, nil, fmt.Errorf("GET: %d %s", status, data)
	}
	return bytes.HasPrefix(data, []byte(`{"status":200`)), data, nil
}

// WaitDaily asks the project's own API for one day of daily usage, which
// the server answers only once its daily snapshot is built (it builds it in
// the background after /readyz turns 200), and returns when the answer
// comes: the load tests that follow then measure serving, not serving beside
// that build.
func (c *Client) WaitDaily(ctx context.Context, day time.Time) error {
	body := fmt.Sprintf(`{"granularity":"DAILY","timePeriod":{"start":%q,"end":%q},"groupBy":["services"]}`,
		day.Format(time.DateOnly), day.AddDate(0, 0, 1).Format(time.DateOnly))
	ask := func() error {
		req, err := http.NewRequestWithContext(ctx, "POST", c.BaseURL+"/api/costexplorer/v1/orgs/"+c.OrgID+"/usage:query", strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+c.Token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		res, err := c.HTTP.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		data, err := io.ReadAll(res.Body)
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("daily usage query: %d %.200s", res.StatusCode, data)
		}
		return err
	}
	// At 100 M items the build outlasts the server's response timeout
	// (120 s), which closes the connection: ask again, for 30 minutes at most.
	deadline := time.Now().Add(30 * time.Minute)
	for {
		err := ask()
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(time.Second)
	}
}

// pollEvery is the polling interval after the first, immediate, GET.
const pollEvery = 500 * time.Microsecond

// Query posts body and polls until the result is ready, returning the time
// from sending the POST to having read the whole ready body.
func (c *Client) Query(ctx context.Context, body []byte) (time.Duration, []byte, error) {
	start := time.Now()
	token, err := c.Create(ctx, body)
	if err != nil {
		return 0, nil, err
	}
	for {
		ready, data, err := c.Get(ctx, token)
		if err != nil {
			return 0, nil, err
		}
		if ready {
			return time.Since(start), data, nil
		}
		if time.Since(start) > time.Minute {
			return 0, nil, errors.New("query not ready after a minute")
		}
		time.Sleep(pollEvery)
	}
}

// Load is the outcome of a bounded load run.
type Load struct {
	Requests int
	Errors   int
	Elapsed  time.Duration
	FirstErr error
}

// PerSecond returns the rate of successful requests.
func (l Load) PerSecond() float64 { return float64(l.Requests-l.Errors) / l.Elapsed.Seconds() }

// RunLoad calls op from workers goroutines until count calls have been made
// or maxDur has passed, whichever comes first. op gets the call's number.
func RunLoad(ctx context.Context, workers, count int, maxDur time.Duration, op func(ctx context.Context, i int) error) Load {
	ctx, cancel := context.WithTimeout(ctx, maxDur)
	defer cancel()
	var next, errs atomic.Int64
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				if err := op(ctx, i); err != nil {
					if ctx.Err() != nil {
						next.Add(-1) // cut off by the deadline: not counted
						return
					}
					errs.Add(1)
					firstErr.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	wg.Wait()
	l := Load{Requests: int(min(next.Load(), int64(count))), Errors: int(errs.Load()), Elapsed: time.Since(start)}
	if p := firstErr.Load(); p != nil {
		l.FirstErr = *p
	}
	return l
}

// GetPlain fetches a token's result once as the Atlas SDK does (no
// envelope): 200 with the body when ready; the body is read whole.
func (c *Client) GetPlain(ctx context.Context, token string) (ready bool, body []byte, err error) {
	status, data, err := c.do(ctx, "GET", c.usagePath()+"/"+token, nil)
	if err != nil {
		return false, nil, err
	}
	if status != http.StatusOK {
		return false, nil, fmt.Errorf("GET: %d %s", status, data)
	}
	return len(data) > 0, data, nil
}

// CPUTime returns the user and system CPU time the server has used so far,
// from /proc/PID/stat, so that a load test can report CPU per request, which
// other work on a shared machine disturbs far less than a rate.
func (s *Server) CPUTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.PID()))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces), from field 3.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc stat %q", b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc stat %q", b)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond, nil
}
