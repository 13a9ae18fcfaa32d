package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
	"github.com/costexplorer/costexplorer/internal/focus"
	"github.com/costexplorer/costexplorer/internal/httpapi"
)

// Authenticator checks credentials typed into the sign-in form and the
// sessions they start. *auth.Authenticator satisfies it.
type Authenticator interface {
	// CheckAPIKey authenticates a public and private key pair used from ip.
	CheckAPIKey(ctx context.Context, publicKey, privateKey string, ip netip.Addr) (*costexplorer.Principal, error)
	// CheckServiceAccount authenticates a client id and secret used from ip.
	CheckServiceAccount(ctx context.Context, clientID, secret string, ip netip.Addr) (*costexplorer.Principal, error)
	// ClientIP returns the address of the client of r (forwarded headers
	// only from trusted proxies).
	ClientIP(r *http.Request) netip.Addr
	// Resume checks a session's grant from ip and returns the credential's
	// current principal and organization (see auth.Authenticator.Resume).
	Resume(ctx context.Context, g auth.Grant, ip netip.Addr) (*costexplorer.Principal, *costexplorer.Organization, error)
}

// Store is what the web page reads and writes in the store: the
// organizations and their links, the projects and clusters of the filter
// lists, the invoices (the Invoices view and the FOCUS download, which
// needs focus.Store), the data version its ETags follow, the session key and
// revoked sessions. *sqlite.DB and *postgres.DB satisfy it.
type Store interface {
	focus.Store
	Projects(ctx context.Context) ([]*costexplorer.Project, error)
	Clusters(ctx context.Context) ([]*costexplorer.Cluster, error)
	DataVersion(ctx context.Context) (int64, error)
	Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error)
	RevokeToken(ctx context.Context, jti string, expires time.Time) error
}

// Config holds what a Server needs. Store, Usage, UsageQueries and Auth are required; zero
// values of the others take the defaults given on each field.
type Config struct {
	// Shared holds the query services, the clock, the logger and the query
	// window: the API's own (httpapi.Config.Shared), so that the page
	// answers as the API does.
	httpapi.Shared
	// Store lists organizations, projects and clusters, reads invoices,
	// and keeps the session key and revoked sessions.
	Store Store
	// Auth checks the credentials of the sign-in form.
	Auth Authenticator
	// SessionTTL is how long a sign-in lasts (12 h).
	SessionTTL time.Duration
}

// DefaultSessionTTL is the default lifetime of a session.
const DefaultSessionTTL = 12 * time.Hour

// sessionKeyName is the name of the shared session key in Store.Secret.
const sessionKeyName = "web-session-key"

// Server serves the web UI. It is an http.Handler for every path outside
// /api/ (httpapi.Config.Web).
type Server struct {
	cfg     Config
	store   Store
	log     *slog.Logger
	keys    keys
	pages   *template.Template
	static  map[string]asset
	dims    dimCache
	handler http.Handler
	cop     *http.CrossOriginProtection
}

var _ http.Handler = (*Server)(nil)

// New returns a Server, loading the shared session key from the store (the
// first replica to start creates it).
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Usage == nil || cfg.UsageQueries == nil || cfg.Auth == nil {
		return nil, errors.New("web: Config.Store, Config.Usage, Config.UsageQueries and Config.Auth are required")
	}
	cfg.Shared = cfg.Shared.WithDefaults()
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	key, err := cfg.Store.Secret(ctx, sessionKeyName, auth.RandomSecret(32))
	if err != nil {
		return nil, fmt.Errorf("web: load session key: %w", err)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("web: stored session key is %d bytes, want at least 32", len(key))
	}
	s := &Server{
		cfg:   cfg,
		store: cfg.Store,
		log:   cfg.Logger,
		keys:  newKeys(key),
		cop:   http.NewCrossOriginProtection(),
	}
	if s.static, err = loadStatic(); err != nil {
		return nil, fmt.Errorf("web: static assets: %w", err)
	}
	if s.pages, err = parseTemplates(s); err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP serves the web UI with its security headers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	s.handler.ServeHTTP(w, r)
}

// contentSecurityPolicy allows only this origin's script, style and fetches:
// no inline script or style, no framing, forms only to this origin.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// routes is the route table of the web UI.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.withSession(s.explorer))
	mux.HandleFunc("GET /explorer", s.withSession(s.explorer))
	mux.HandleFunc("GET /usage", s.withSession(s.usage))
	mux.HandleFunc("GET /signin", s.signInForm)
	mux.HandleFunc("POST /signin", s.signIn)
	mux.HandleFunc("POST /signout", s.withSession(s.signOut))
	mux.HandleFunc("GET /status/{token}", s.withSession(s.status))
	mux.HandleFunc("GET /download/{token}/{format}", s.withSession(s.download))
	mux.HandleFunc("GET /invoices", s.withSession(s.invoices))
	mux.HandleFunc("GET /invoices/{id}", s.withSession(s.invoice))
	mux.HandleFunc("GET /invoices/{id}/csv", s.withSession(s.invoiceCSV))
	mux.HandleFunc("GET /focus", s.withSession(s.focusExport))
	mux.HandleFunc("GET /static/{file}", s.serveStatic)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.renderMessage(w, r, http.StatusNotFound, "Page not found", "There is no page at "+r.URL.Path+".", nil)
	})
	return mux
}

// render executes the page template name into a buffer, so that a template
// error becomes a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("render page", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "Unexpected error.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// pageBase is what the layout of every page reads.
type pageBase struct {
	Title          string
	Session        *sessionView // nil when nobody is signed in
	RefreshSeconds int          // > 0: refresh after this many seconds without JavaScript
}

// messagePage is the data of a page that only says something: not found,
// not allowed, unavailable.
type messagePage struct {
	pageBase
	Message string
}

// renderMessage writes a message page.
func (s *Server) renderMessage(w http.ResponseWriter, r *http.Request, status int, title, message string, sv *sessionView) {
	s.render(w, r, status, "message.html", &messagePage{pageBase: pageBase{Title: title, Session: sv}, Message: message})
}

// unexpected logs err and answers 500, or 503 when the store did not answer.
func (s *Server) unexpected(w http.ResponseWriter, r *http.Request, err error, sv *sessionView) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return
	}
	if costexplorer.ErrorCode(err) == costexplorer.ErrUnavailable {
		s.log.Warn("web: store unavailable", "path", r.URL.Path, "err", err)
		s.renderMessage(w, r, http.StatusServiceUnavailable, "Temporarily unavailable", "The server cannot answer right now. Try again in a moment.", sv)
		return
	}
	s.log.Error("web: unexpected error", "method", r.Method, "path", r.URL.Path, "err", err)
	s.renderMessage(w, r, http.StatusInternalServerError, "Unexpected error", "Something went wrong on the server. The error has been logged.", sv)
}
