package client_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/internal/httpapi"
	composed "github.com/costexplorer/costexplorer/internal/server"
	"github.com/costexplorer/costexplorer/internal/servertest"
)

// server is a real costexplorer server on 127.0.0.1 (servertest: the
// composition `costexplorer serve` uses) over the pinned demo data. Its
// clock starts at servertest.T0 and then runs in real time, so that
// processing delays pass. Org is the demo paying organization; the
// credentials (an ORG_OWNER API key, an ORG_BILLING_READ_ONLY service
// account) are its.
type server struct {
	*servertest.Server
	Other string // a linked organization of Org
}

// Advance moves the server's clock forward.
func (s *server) Advance(d time.Duration) { s.Clock.Advance(d) }

// serverOptions tune a test server.
type serverOptions struct {
	minProcessing time.Duration
	rateLimit     httpapi.RateLimit
}

// startServer starts a server; Close stops it and removes its files.
func startServer(o serverOptions) (*server, error) {
	ts, err := servertest.Start(servertest.Options{
		Clock: servertest.NewRunningClock(servertest.T0),
		Config: func(c *composed.Config) {
			c.MinProcessing = o.minProcessing
			c.RateLimit = o.rateLimit
		},
	})
	if err != nil {
		return nil, err
	}
	s := &server{Server: ts}
	if len(ts.Layout.Linked) > 0 {
		s.Other = ts.Layout.Linked[0].ID
	}
	return s, nil
}

// newServer starts a server for one test.
func newServer(t *testing.T, o serverOptions) *server {
	t.Helper()
	s, err := startServer(o)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// The connection settings the examples use: those of the shared server.
var baseURL, orgID, publicKey, privateKey, clientID, clientSecret string

// shared is the server of the examples and of the tests that need no
// special options (processing takes 300 ms there).
var shared *server

func TestMain(m *testing.M) {
	var err error
	shared, err = startServer(serverOptions{minProcessing: 300 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start test server:", err)
		os.Exit(1)
	}
	baseURL, orgID = shared.URL, shared.Org
	publicKey, privateKey = shared.PublicKey, shared.PrivateKey
	clientID, clientSecret = shared.ClientID, shared.ClientSecret
	code := m.Run()
	shared.Close()
	os.Exit(code)
}
