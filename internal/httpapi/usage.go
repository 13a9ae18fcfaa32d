package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
)

// createQuery serves POST /api/atlas/v2/orgs/{orgId}/billing/costExplorer/usage
// (DESIGN §1.1): 202 {"token": …}.
func (s *Server) createQuery(w http.ResponseWriter, c *call) error {
	orgID, err := s.authorizeOrgPath(c, true)
	if err != nil {
		return err
	}
	if err := s.rateLimit(w, orgID); err != nil {
		return err
	}
	if err := checkRequestContentType(c.r.Header.Get("Content-Type")); err != nil {
		return err
	}
	body, err := readBody(w, c.r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	q, err := costexplorer.ParseQueryRequest(orgID, body, costexplorer.QueryLimits{
		Now:           s.cfg.Now(),
		HistoryMonths: s.cfg.HistoryMonths,
	})
	if err != nil {
		return err
	}
	token, err := s.cfg.Usage.CreateQuery(c.r.Context(), q)
	if err != nil {
		return err
	}
	c.writeEntity(w, http.StatusAccepted, struct {
		Token string `json:"token"`
	}{token})
	return nil
}

// processingEnvelope is the ?envelope=true answer while a query is processing.
type processingEnvelope struct {
	Status  int      `json:"status"`
	Content struct{} `json:"content"`
}

// getUsage serves GET …/costExplorer/usage/{token} (DESIGN §1.2).
//
// A token is checked before the store is asked: anything but 64 lower-case
// hex characters (the only form this server mints) is 400
// INVALID_PATH_PARAMETER, the stricter of the two readings (the spec bounds
// the parameter to 64 characters, so a request outside it is malformed
// rather than about a missing resource). A well-formed token that is unknown,
// expired or another organization's is 404 RESOURCE_NOT_FOUND.
func (s *Server) getUsage(w http.ResponseWriter, c *call) error {
	orgID, err := s.authorizeOrgPath(c, true)
	if err != nil {
		return err
	}
	token := c.r.PathValue("token")
	if !costexplorer.IsToken(token) {
		return errPathParameter("token", token, "a token is 64 lower-case hexadecimal characters.")
	}
	if err := s.rateLimit(w, orgID); err != nil {
		return err
	}
	p, err := s.cfg.Usage.Usage(c.r.Context(), orgID, token)
	if err != nil {
		if costexplorer.IsNotFound(err) {
			return errNotFound("Cannot find a cost explorer query with token " + token + " for organization " + orgID + ".")
		}
		return err
	}
	now := s.cfg.Now()
	switch {
	case p.State == costexplorer.ProcessFailed:
		return &costexplorer.Error{Code: costexplorer.ErrInternal, Detail: "Unexpected error.",
			Err: errors.New("query process " + token[:tokenPrefixLen] + " failed: " + p.Error)}
	case !p.Ready(now):
		s.writeProcessing(w, c, p, now)
		return nil
	}
	if len(bytes.TrimSpace(p.Result)) == 0 {
		return &costexplorer.Error{Code: costexplorer.ErrInternal, Detail: "Unexpected error.",
			Err: errors.New("query process " + token[:tokenPrefixLen] + " is done without a result")}
	}
	if c.neg.format == formatCSV {
		return writeCSVResult(w, c, p.Result)
	}
	c.writeEntity(w, http.StatusOK, json.RawMessage(p.Result))
	return nil
}

// writeProcessing answers a query that is not ready yet. The wire form every
// client family survives (DESIGN §1.2): an interim 102 Processing header
// block carrying Connection: close and Retry-After, then a final 200 with an
// empty body and Connection: close. Go's net/http writes the current header
// map with an interim response and keeps it for the final one. HTTP/1.0
// clients may not receive 1xx answers, so they get only the final 200. With
// ?envelope=true the answer is 200 {"status": 102, "content": {}} instead,
// as JSON whatever format was negotiated: an envelope is JSON.
func (s *Server) writeProcessing(w http.ResponseWriter, c *call, p *costexplorer.QueryProcess, now time.Time) {
	retry := strconv.Itoa(costexplorer.RetryAfterSeconds(p.ReadyAt.Sub(now)))
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

// writeCSVResult renders the stored JSON result as the contract's CSV. The
// header line is always written, so a ready result is never empty.
func writeCSVResult(w http.ResponseWriter, c *call, result []byte) error {
	var res costexplorer.Result
	if err := json.Unmarshal(result, &res); err != nil {
		return &costexplorer.Error{Code: costexplorer.ErrInternal, Detail: "Unexpected error.", Err: err}
	}
	var buf bytes.Buffer
	if err := costexplorer.WriteCSV(&buf, res.UsageDetails); err != nil {
		return &costexplorer.Error{Code: costexplorer.ErrInternal, Detail: "Unexpected error.", Err: err}
	}
	h := w.Header()
	h.Set("Content-Type", contentType(c.neg.version, formatCSV))
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// authorizeOrgPath validates the orgId path parameter (400
// INVALID_PATH_PARAMETER, after authentication) and checks that the caller
// may act on it (401 USER_UNAUTHORIZED, the same whether or not the
// organization exists). billing asks for a role that may use the cost
// explorer.
func (s *Server) authorizeOrgPath(c *call, billing bool) (string, error) {
	orgID := c.r.PathValue("orgId")
	if !costexplorer.IsID(orgID) {
		return "", errPathParameter("orgId", orgID, "an organization id is 24 lower-case hexadecimal characters.")
	}
	if err := auth.AuthorizeOrg(c.principal, orgID, billing); err != nil {
		return "", err
	}
	return orgID, nil
}
