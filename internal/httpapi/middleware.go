package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/costexplorer/costexplorer"
)

// recorder remembers the final status of a response (interim 1xx answers
// pass through) so that the request can be logged and a panic answered
// only when nothing was written yet.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (rw *recorder) WriteHeader(code int) {
	if code >= 200 && rw.status == 0 {
		rw.status = code
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recorder) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	n, err := rw.ResponseWriter.Write(b)
	rw.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// recoverAndLog is the outermost middleware: it gives the request its id
// (X-Request-Id), puts the logger and the request's details in its context,
// logs one line per request, tells the Observer, and turns a panic into 500
// UNEXPECTED_ERROR (logged with its stack), the last resort behind the rule
// that no request may panic.
func (s *Server) recoverAndLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: requestIDOf(r)}
		w.Header().Set(RequestIDHeader, info.id)
		ctx := context.WithValue(r.Context(), loggerKey{}, s.cfg.Logger)
		r = r.WithContext(context.WithValue(ctx, requestInfoKey{}, info))
		rw := &recorder{ResponseWriter: w}
		defer func() {
			v := recover()
			if v != nil && v != http.ErrAbortHandler {
				err := fmt.Errorf("panic: %v\n%s", v, debug.Stack())
				if rw.status == 0 {
					WriteError(rw, r, err)
				} else {
					s.cfg.Logger.ErrorContext(r.Context(), "panic after the response started", "method", r.Method, "route", routeOf(r), "err", err)
				}
			}
			s.finish(r, info, rw, time.Since(start))
			if v == http.ErrAbortHandler {
				panic(v)
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// routeOf returns the route pattern that served r (the ServeMux sets it on
// the request it was given): a bounded label, unlike the raw path, which
// carries ids and query tokens.
func routeOf(r *http.Request) string {
	if r.Pattern == "" {
		return "unmatched"
	}
	return r.Pattern
}

// quietRoutes are logged at DEBUG while they succeed: probes and scrapes
// every few seconds would drown the request log.
var quietRoutes = map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /metrics": true}

// tokenPrefixLen is how much of a query token the request log shows: enough
// to find the process in the log of the worker that ran it (internal/jobs
// logs the same prefix), not the token.
const tokenPrefixLen = 12

// finish logs the request line and tells the Observer. It names the
// caller by organization and credential id (an API key's public key or a
// service account's client id), never by anything secret, and a query
// token by its prefix only.
func (s *Server) finish(r *http.Request, info *requestInfo, rw *recorder, d time.Duration) {
	status := rw.status
	if status == 0 {
		status = http.StatusOK // net/http answers 200 to a handler that wrote nothing
	}
	route := routeOf(r)
	if s.cfg.Observer != nil {
		s.cfg.Observer.ObserveRequest(route, status, d)
	}
	level := slog.LevelInfo
	if quietRoutes[route] && status < 400 {
		level = slog.LevelDebug
	}
	if !s.cfg.Logger.Enabled(r.Context(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs,
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("duration", d),
		slog.Int64("bytes", rw.bytes))
	org := r.PathValue("orgId")
	if !costexplorer.IsID(org) {
		org = ""
	}
	if p := info.principal; p != nil {
		if org == "" {
			org = p.OrgID
		}
		cred := p.ID
		if p.Kind == costexplorer.PrincipalAPIKey {
			cred = p.PublicKey
		}
		attrs = append(attrs, slog.String("org", org), slog.String("credential", cred), slog.String("credential_kind", string(p.Kind)))
	} else if org != "" {
		attrs = append(attrs, slog.String("org", org))
	}
	if tok := r.PathValue("token"); costexplorer.IsToken(tok) {
		attrs = append(attrs, slog.String("token", tok[:tokenPrefixLen]))
	}
	s.cfg.Logger.LogAttrs(r.Context(), level, "request", attrs...)
}

// readBody reads a request body of at most max bytes: 413 beyond it (told
// by Content-Length before reading, or found while reading).
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	tooLarge := costexplorer.Errorf(costexplorer.ErrBodyTooLarge, "The request body is larger than %d bytes.", max)
	if r.ContentLength > max {
		return nil, tooLarge
	}
	body := http.MaxBytesReader(w, r.Body, max)
	b, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, costexplorer.Errorf(costexplorer.ErrMalformedJSON, "The request body could not be read.")
	}
	return b, nil
}
