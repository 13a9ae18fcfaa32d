package httpapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/costexplorer/costexplorer"
)

// limits are the bounds every query is validated against: the server's
// clock and how far back a query may reach.
func (s *Server) limits() costexplorer.QueryLimits {
	return costexplorer.QueryLimits{Now: s.cfg.Now(), HistoryMonths: s.cfg.HistoryMonths}
}

// createQuery serves POST /api/atlas/v2/orgs/{orgId}/billing/costExplorer/usage
// (DESIGN §1.1): 202 {"token": …}.
func (s *Server) createQuery(c *call) (reply, error) {
	q, err := costexplorer.ParseQueryRequest(c.orgID, c.body, s.limits())
	if err != nil {
		return nil, err
	}
	token, err := s.cfg.Usage.CreateQuery(c.r.Context(), q)
	if err != nil {
		return nil, err
	}
	return entity{http.StatusAccepted, struct {
		Token string `json:"token"`
	}{token}}, nil
}

// getUsage serves GET …/costExplorer/usage/{token} (DESIGN §1.2).
//
// The route checks the token's form before the store is asked (tokenParam):
// the stricter of the two readings, since the spec bounds the parameter to
// 64 characters, so a request outside it is malformed rather than about a
// missing resource. A well-formed token that is unknown, expired or another
// organization's is 404 RESOURCE_NOT_FOUND.
func (s *Server) getUsage(c *call) (reply, error) {
	token := c.r.PathValue("token")
	p, err := s.cfg.Usage.Usage(c.r.Context(), c.orgID, token)
	if err != nil {
		if costexplorer.IsNotFound(err) {
			return nil, errNotFound("Cannot find a cost explorer query with token " + token + " for organization " + c.orgID + ".")
		}
		return nil, err
	}
	now := s.cfg.Now()
	if p.State == costexplorer.ProcessRunning { // never ready: processing
		// Evaluated on this replica and perhaps about to finish: wait a
		// little for it rather than send the client round again.
		// Should that read fail, the answer stays the one read before:
		// processing (the client's next poll reads again).
		if runs, ok := s.cfg.Usage.(localRuns); ok && runs.AwaitRun(c.r.Context(), c.orgID, token, processingHold) {
			if ended, err := s.cfg.Usage.Usage(c.r.Context(), c.orgID, token); err == nil {
				p, now = ended, s.cfg.Now()
			}
		}
	}
	switch p.Status(now) {
	case costexplorer.QueryFailed:
		return nil, &costexplorer.Error{Code: costexplorer.ErrInternal, Detail: "Unexpected error.",
			Err: errors.New("query process " + token[:tokenPrefixLen] + " failed: " + p.Error)}
	case costexplorer.QueryProcessing:
		return processing{retryAfter: costexplorer.RetryAfterSeconds(p.ReadyAt.Sub(now))}, nil
	}
	if len(bytes.TrimSpace(p.Result)) == 0 {
		return nil, &costexplorer.Error{Code: costexplorer.ErrInternal, Detail: "Unexpected error.",
			Err: errors.New("query process " + token[:tokenPrefixLen] + " is done without a result")}
	}
	return s.resultBody(c, p)
}

// localRuns is what a UsageService may offer to wait for a query it is
// evaluating itself; internal/jobs' Runner does (see its AwaitRun).
type localRuns interface {
	AwaitRun(ctx context.Context, orgID, token string, d time.Duration) bool
}

// processingHold is how long a GET of a query under evaluation on this
// replica waits for its result before answering "processing": a client
// polling often then gets the result as soon as it exists, in one request
// instead of many, and one polling every few seconds (the Atlas SDK and CLI)
// gets a query that takes less than this in its first GET. It stays well
// below any client's timeout.
const processingHold = 100 * time.Millisecond

// processingEnvelope is the ?envelope=true answer while a query is processing.
type processingEnvelope struct {
	Status  int      `json:"status"`
	Content struct{} `json:"content"`
}

// processing is the answer to a query that is not ready yet, retryAfter
// seconds before it may be. The wire form every client family survives
// (DESIGN §1.2): an interim 102 Processing header block carrying
// Connection: close and Retry-After, then a final 200 with an empty body and
// Connection: close. Go's net/http writes the current header map with an
// interim response and keeps it for the final one. HTTP/1.0 clients may not
// receive 1xx answers, so they get only the final 200. With ?envelope=true
// the answer is 200 {"status": 102, "content": {}} instead, as JSON whatever
// format was negotiated: an envelope is JSON.
type processing struct{ retryAfter int }

func (p processing) write(w http.ResponseWriter, c *call) {
	retry := strconv.Itoa(p.retryAfter)
	if c.envelope {
		// Clients that poll with the envelope get the same hint.
		w.Header().Set("Retry-After", retry)
		w.Header().Set("Content-Type", contentType(c.neg.version, formatJSON))
		writeBody(w, http.StatusOK, processingEnvelope{Status: http.StatusProcessing}, c.pretty)
		return
	}
	h := w.Header()
	h.Set("Connection", "close")
	h.Set("Retry-After", retry)
	if c.r.ProtoAtLeast(1, 1) {
		w.WriteHeader(http.StatusProcessing)
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}
