package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// recoverAndLog is the outermost middleware: it puts the logger in the
// request context, logs each request, and turns a panic into 500
// UNEXPECTED_ERROR (logged with its stack), the last resort behind the rule
// that no request may panic.
func (s *Server) recoverAndLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r = r.WithContext(context.WithValue(r.Context(), loggerKey{}, s.cfg.Logger))
		rw := &recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				err := fmt.Errorf("panic: %v\n%s", v, debug.Stack())
				if rw.status == 0 {
					WriteError(rw, r, err)
				} else {
					s.cfg.Logger.Error("panic after the response started", "method", r.Method, "path", r.URL.Path, "err", err)
				}
			}
			s.cfg.Logger.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rw.status,
				"bytes", rw.bytes, "duration", time.Since(start))
		}()
		next.ServeHTTP(rw, r)
	})
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
