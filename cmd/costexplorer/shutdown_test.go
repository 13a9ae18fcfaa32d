package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// outcome is what one client request of the shutdown stream saw.
type outcome int

const (
	answered outcome = iota // a complete, valid answer
	refused                 // the connection was refused: the listener was closed
	cut                     // connected, then lost without a complete answer
)

// streamResult is one request of the stream: its outcome, the unique token
// in its path (to find it in the server's request log) and the error.
type streamResult struct {
	outcome outcome
	token   string
	err     error
	// serverUp says whether the process was still running when the
	// connection was refused.
	serverUp bool
}

// TestGracefulShutdownDropsNoAcceptedRequest sends SIGTERM to a real server
// in the middle of a steady stream of requests (six clients, a new
// connection per request) while three query creations are still uploading
// their bodies. It proves:
//
//   - the server stops accepting at once: connections are refused while it
//     is still finishing the requests in flight;
//   - it finishes the requests in flight: the slow uploads get their 202;
//   - no accepted request is dropped: every request of the stream either got
//     a complete, valid answer or never reached the server (refused at
//     connect time, or reset by the kernel while waiting in the listen
//     backlog; such a request is absent from the server's request log);
//   - it releases its leases and exits 0: no unfinished query process holds
//     a lease afterwards, and a new server finishes them all.
func TestGracefulShutdownDropsNoAcceptedRequest(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	srv := startProc(t, bin, "demo", "--size", "200000", "--data-dir", dir, "--addr", "127.0.0.1:0",
		"--log-level", "debug", "--shutdown-grace", "15s", "--workers", "1", "--lease", "1m",
		"--rate-limit-capacity", "100000")
	base := srv.waitServing(t, 90*time.Second)
	creds := readCreds(t, dir)
	bearer := bearerToken(t, http.DefaultClient, base, creds)
	usage := base + "/api/atlas/v2/orgs/" + creds.OrgID + "/billing/costExplorer/usage"
	oneShot := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

	// The stream: each request asks for a token no one created (a complete
	// 404 RESOURCE_NOT_FOUND answer), unique so that the server's request
	// log tells whether it ever reached a handler.
	var (
		mu      sync.Mutex
		results []streamResult
		wg      sync.WaitGroup
		stop    = make(chan struct{})
	)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 5000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				r := streamRequest(oneShot, usage, bearer)
				r.serverUp = srv.running()
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				if r.outcome == refused {
					if !r.serverUp {
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}

	// Queue query processes, so that the worker holds a lease at SIGTERM.
	// They are created from eight clients at once, faster than the one
	// worker finishes them.
	bodies := make(chan string)
	var creators sync.WaitGroup
	for range 8 {
		creators.Add(1)
		go func() {
			defer creators.Done()
			for body := range bodies {
				if status, _, b, err := apiCall(oneShot, "POST", usage, bearer, body); err != nil || status != http.StatusAccepted {
					t.Errorf("create: %d %v %s", status, err, b)
				}
			}
		}()
	}
	for _, body := range distinctQueries(time.Now(), 290) {
		bodies <- body
	}
	close(bodies)
	creators.Wait()
	// The slow uploads, in flight at SIGTERM: each body trickles in over
	// one and a half seconds.
	type slowResult struct {
		status int
		body   []byte
		err    error
	}
	slow := make(chan slowResult, 3)
	for i := range 3 {
		go func() {
			body := distinctQueries(time.Now(), 301+i)[300+i]
			pr, pw := io.Pipe()
			go func() {
				for j := 0; j < len(body); j += 8 {
					_, _ = pw.Write([]byte(body[j:min(j+8, len(body))]))
					time.Sleep(1500 * time.Millisecond / time.Duration(len(body)/8+1))
				}
				pw.Close()
			}()
			req, _ := http.NewRequest("POST", usage, pr)
			req.ContentLength = int64(len(body))
			req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
			req.Header.Set("Content-Type", "application/vnd.atlas.2023-01-01+json")
			req.Header.Set("Authorization", "Bearer "+bearer)
			resp, err := oneShot.Do(req)
			if err != nil {
				slow <- slowResult{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			slow <- slowResult{resp.StatusCode, b, err}
		}()
	}

	time.Sleep(300 * time.Millisecond)
	srv.signal(t, syscall.SIGTERM)
	code := srv.exitCode(t, 30*time.Second)
	time.AfterFunc(300*time.Millisecond, func() { close(stop) })
	wg.Wait()

	if code != 0 {
		t.Fatalf("server exited %d after SIGTERM:\n%s", code, srv.stderr.String())
	}
	for range 3 {
		r := <-slow
		if r.err != nil || r.status != http.StatusAccepted {
			t.Errorf("slow upload in flight at SIGTERM: %d %v %s", r.status, r.err, r.body)
		}
	}
	log := srv.stderr.String()
	if !strings.Contains(log, "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", tail(log, 20))
	}
	var n [3]int
	refusedWhileUp := 0
	for _, r := range results {
		n[r.outcome]++
		switch r.outcome {
		case refused:
			if r.serverUp {
				refusedWhileUp++
			}
		case cut:
			// Reset without an answer: acceptable only if the server
			// never handled it.
			if strings.Contains(log, r.token) {
				t.Errorf("request %s was handled by the server but the client lost the answer: %v", r.token[:12], r.err)
			}
		}
	}
	t.Logf("stream: %d answered, %d refused at connect (%d while the server was still finishing), %d reset in the listen backlog (never handled)",
		n[answered], n[refused], refusedWhileUp, n[cut])
	if n[answered] < 20 || n[refused] == 0 {
		t.Fatalf("the stream did not straddle the shutdown: %v", n)
	}
	if refusedWhileUp == 0 {
		t.Errorf("no connection was refused while the slow uploads were finishing: the server kept accepting")
	}
	states, leased := processStates(t, dir)
	if leased != 0 {
		t.Fatalf("after a graceful stop %d unfinished processes still hold a lease (states %v)", leased, states)
	}
	t.Logf("processes after the stop: %v", states)

	// A new server (whose lease is the same minute) finishes everything
	// at once: nothing waits for a lease to lapse.
	next := startProc(t, bin, "serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--lease", "1m")
	next.waitServing(t, 60*time.Second)
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		if states, _ := processStates(t, dir); states["pending"]+states["running"] == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if states, _ := processStates(t, dir); states["pending"]+states["running"] != 0 {
		t.Fatalf("processes left behind by the graceful stop were not finished: %v", states)
	}
	next.signal(t, syscall.SIGTERM)
	if code := next.exitCode(t, 30*time.Second); code != 0 {
		t.Fatalf("second server exited %d", code)
	}
}

// streamRequest sends one request of the shutdown stream on a new
// connection and classifies what happened.
func streamRequest(c *http.Client, usage, bearer string) streamResult {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	status, h, body, err := apiCall(c, "GET", usage+"/"+tok, bearer, "")
	r := streamResult{token: tok, err: err}
	switch {
	case err != nil && isRefused(err):
		r.outcome = refused
	case err != nil:
		r.outcome = cut
	default:
		var e struct{ ErrorCode string }
		if status != http.StatusNotFound || h.Get("Content-Type") != "application/json" ||
			json.Unmarshal(body, &e) != nil || e.ErrorCode != "RESOURCE_NOT_FOUND" {
			r.outcome, r.err = cut, errors.New("invalid answer "+http.StatusText(status)+": "+string(body))
		}
	}
	return r
}

// isRefused reports whether err is a refused TCP connection.
func isRefused(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &op) && op.Op == "dial"
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
