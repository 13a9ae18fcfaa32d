package httpapi

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"

	"github.com/costexplorer/costexplorer"
)

// RequestIDHeader carries the request id: taken from the request when a
// client or proxy sent a sane one, minted otherwise, and always returned in
// the response, so that a client reporting a problem can name the log line.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds an incoming request id.
const maxRequestIDLen = 64

// validRequestID reports whether an incoming request id may be reused: 1–64
// characters from a set that cannot break a log line or a header (letters,
// digits and - _ . : + / =, which covers UUIDs, ULIDs and base64 ids).
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}

// requestIDOf returns the request's id: the incoming X-Request-Id when there
// is exactly one and it is valid, else a new random one (128 bits, base32).
func requestIDOf(r *http.Request) string {
	if v := r.Header.Values(RequestIDHeader); len(v) == 1 && validRequestID(v[0]) {
		return v[0]
	}
	return rand.Text()
}

// requestInfo is what the outer middleware learns about a request while it
// is served: the handlers fill in the principal once authenticated.
type requestInfo struct {
	id        string
	principal *costexplorer.Principal
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	i, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return i
}

// RequestID returns the id of the request ctx belongs to, or "" outside a
// request served by a Server.
func RequestID(ctx context.Context) string {
	if i := infoFrom(ctx); i != nil {
		return i.id
	}
	return ""
}

// LogHandler returns a handler that adds request_id to every record logged
// with the context of a request served by a Server (Logger.InfoContext,
// LogAttrs with the request's context). Give the loggers of the components
// that log inside a request (internal/auth) a logger on it, so that their
// lines carry the id of the request line. The Server wraps its own
// Config.Logger this way; wrapping twice adds the id once.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{h}
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	id := RequestID(ctx)
	if id == "" {
		return h.Handler.Handle(ctx, r)
	}
	// The id goes first, where a reader looks for it.
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(slog.String("request_id", id))
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
