package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
)

// signInTTL is how long a sign-in form stays usable.
const signInTTL = time.Hour

// serviceAccountPrefix starts every service account client id; anything else
// typed into the sign-in form is taken as an API public key.
const serviceAccountPrefix = "mdb_sa_id_"

// signInPage is the data of the sign-in page.
type signInPage struct {
	pageBase
	Error  string
	Notice string
	Next   string
	Token  string
	ID     string // the public key or client id typed, echoed back (never the secret)
}

// signInForm serves GET /signin.
func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) {
	page := &signInPage{Next: safeNext(r.URL.Query().Get("next"))}
	switch r.URL.Query().Get("m") {
	case "ended":
		page.Notice = "Your session has ended. Sign in again to continue."
	case "signedout":
		page.Notice = "You have signed out."
	}
	s.renderSignIn(w, r, http.StatusOK, page)
}

// renderSignIn writes the sign-in page with a CSRF token bound to the
// sign-in cookie, setting a fresh cookie unless the request has one.
func (s *Server) renderSignIn(w http.ResponseWriter, r *http.Request, status int, page *signInPage) {
	now := s.cfg.Now()
	nonce := ""
	if c, err := r.Cookie(signInCookie); err == nil && len(c.Value) == 32 {
		nonce = c.Value
	} else {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			s.unexpected(w, r, err, nil)
			return
		}
		nonce = hex.EncodeToString(b)
		setCookie(w, r, signInCookie, nonce, now.Add(signInTTL), now)
	}
	page.Title = "Sign in"
	page.Token = s.keys.signInToken(nonce)
	s.render(w, r, status, "signin.html", page)
}

// signIn serves POST /signin: check the form's CSRF token, then the
// credential with the same rules as the API, then start a session.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	form, ok := s.checkPost(w, r, nil)
	if !ok {
		return
	}
	page := &signInPage{Next: safeNext(form.Get("next")), ID: strings.TrimSpace(form.Get("id"))}
	nonce := ""
	if c, err := r.Cookie(signInCookie); err == nil {
		nonce = c.Value
	}
	if !s.keys.checkSignInToken(nonce, form.Get("csrf")) {
		page.Error = "The sign-in form has expired. Please try again."
		s.renderSignIn(w, r, http.StatusForbidden, page)
		return
	}
	secret := strings.TrimSpace(form.Get("secret"))
	if page.ID == "" || secret == "" {
		page.Error = "Enter a public key and private key, or a client ID and client secret."
		s.renderSignIn(w, r, http.StatusBadRequest, page)
		return
	}
	ip := s.cfg.Auth.ClientIP(r)
	var (
		p   *costexplorer.Principal
		err error
	)
	if strings.HasPrefix(page.ID, serviceAccountPrefix) {
		p, err = s.cfg.Auth.CheckServiceAccount(r.Context(), page.ID, secret, ip)
	} else {
		p, err = s.cfg.Auth.CheckAPIKey(r.Context(), page.ID, secret, ip)
	}
	if err != nil {
		status := http.StatusUnauthorized
		switch costexplorer.ErrorCode(err) {
		case costexplorer.ErrUnauthorized:
			page.Error = "These credentials were not accepted. Check the key pair or the client ID and secret."
		case costexplorer.ErrRateLimited:
			status = http.StatusTooManyRequests
			d, _ := auth.RetryAfter(err)
			secs := costexplorer.RetryAfterSeconds(d)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			page.Error = "Too many failed sign-in attempts. Wait " + strconv.Itoa(secs) + " seconds and try again."
		case costexplorer.ErrIPNotOnAccessList, costexplorer.ErrOrgRequiresAccessList:
			status = http.StatusForbidden
			page.Error = costexplorer.ErrorDetail(err)
		default:
			s.unexpected(w, r, err, nil)
			return
		}
		s.renderSignIn(w, r, status, page)
		return
	}
	now := s.cfg.Now()
	sess, err := newSession(p, now, s.cfg.SessionTTL)
	if err != nil {
		s.unexpected(w, r, err, nil)
		return
	}
	value, err := s.keys.encodeSession(sess)
	if err != nil {
		s.unexpected(w, r, err, nil)
		return
	}
	setCookie(w, r, sessionCookie, value, sess.expiry(), now)
	setCookie(w, r, signInCookie, "", time.Time{}, now)
	next := page.Next
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOut serves POST /signout: the session id is revoked in the store until
// the session would have expired, so its cookie works on no replica any more.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request, rq *request) {
	form, ok := s.checkPost(w, r, rq.view)
	if !ok {
		return
	}
	if !s.keys.checkCSRF(rq.sess.ID, form.Get("csrf")) {
		s.renderMessage(w, r, http.StatusForbidden, "Request refused",
			"The form was missing its security token. Reload the page and try again.", rq.view)
		return
	}
	if err := s.store.RevokeToken(r.Context(), rq.sess.ID, rq.sess.expiry()); err != nil {
		s.unexpected(w, r, unavailable("revoke session", err), rq.view)
		return
	}
	setCookie(w, r, sessionCookie, "", time.Time{}, s.cfg.Now())
	http.Redirect(w, r, "/signin?m=signedout", http.StatusSeeOther)
}

// safeNext returns next if it is a page of this UI (the explorer, with its
// filters, or the invoices), and "" otherwise, so that the sign-in form cannot be used to
// redirect anywhere else.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !isPage(u.Path) {
		return ""
	}
	return u.RequestURI()
}

// isPage reports whether path is a page a sign-in may lead back to.
func isPage(path string) bool {
	return path == "/" || path == "/explorer" || path == "/invoices" || strings.HasPrefix(path, "/invoices/")
}
