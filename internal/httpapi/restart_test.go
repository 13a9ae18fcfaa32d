package httpapi_test

import (
	"bytes"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestRestartFinishesAcceptedQuery checks that query processes are durable:
// a query accepted by a server that stops before any worker ran it is
// finished by a new server on the same SQLite file, which serves the result
// under the same token.
func TestRestartFinishesAcceptedQuery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "costexplorer.db")
	var body string
	var tok string
	t.Run("FirstServer", func(t *testing.T) {
		e := newEnv(t, options{path: path, noRunner: true, minProcessing: 10 * time.Minute})
		body = `{"startDate":"2025-01-01","endDate":"2025-07-01","groupBy":"organizations","organizations":["` + e.Org + `"]}`
		tok = e.create(e.Org, body)
		res := e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+tok, ""))
		if len(res.interim) != 1 || res.status != http.StatusOK || len(res.body) != 0 {
			t.Fatalf("before the restart: interim %v, %d %q, want processing", res.interim, res.status, res.body)
		}
		// The cleanups of this subtest stop the server and close the database.
	})
	if tok == "" {
		t.Fatal("no token from the first server")
	}

	e := newEnv(t, options{path: path, noDemo: true, minProcessing: 10 * time.Minute})
	res := e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+tok, ""))
	if len(res.interim) != 1 || len(res.body) != 0 {
		t.Fatalf("after the restart, before ReadyAt: interim %v, %d %q, want processing", res.interim, res.status, res.body)
	}
	if again := e.create(e.Org, body); again != tok {
		t.Errorf("the same query after the restart got token %s, want %s", again, tok)
	}
	e.Clock.Advance(10 * time.Minute)
	e.waitReady(e.Org, tok)
	res = e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+tok, ""))
	if res.status != http.StatusOK || !bytes.HasPrefix(res.body, []byte(`{"usageDetails":[{"usageDate":"2025-01-01"`)) {
		t.Fatalf("after the restart: %d %q", res.status, res.body)
	}
}
