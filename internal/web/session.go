package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
)

// Cookie names. The session cookie carries the signed session; the sign-in
// cookie carries the random value the sign-in form's CSRF token is bound to.
const (
	sessionCookie = "costexplorer_session"
	signInCookie  = "costexplorer_signin"
)

// sessionVersion is the layout version of the session payload; a cookie of
// another version is treated as absent.
const sessionVersion = 1

// keys are the purpose-bound keys derived from the shared session key, so
// that a value signed for one purpose can never pass as another.
type keys struct {
	session, csrf, signIn []byte
}

func newKeys(secret []byte) keys {
	derive := func(purpose string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("costexplorer web " + purpose))
		return m.Sum(nil)
	}
	return keys{session: derive("session"), csrf: derive("csrf"), signIn: derive("sign-in")}
}

func mac(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

var b64 = base64.RawURLEncoding

// session is the signed payload of the session cookie: who signed in, with
// which credential, until when. The roles are the ones at sign-in; every
// request re-reads the credential and uses its current roles.
type session struct {
	Version   int                        `json:"v"`
	ID        string                     `json:"sid"`
	Kind      costexplorer.PrincipalKind `json:"kind"`
	CredID    string                     `json:"id"`
	PublicKey string                     `json:"pk,omitempty"`
	OrgID     string                     `json:"org"`
	Roles     []costexplorer.Role        `json:"roles"`
	Expires   int64                      `json:"exp"`
}

// newSession returns a session for p that ends after ttl.
func newSession(p *costexplorer.Principal, now time.Time, ttl time.Duration) (*session, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	return &session{
		Version:   sessionVersion,
		ID:        hex.EncodeToString(id),
		Kind:      p.Kind,
		CredID:    p.ID,
		PublicKey: p.PublicKey,
		OrgID:     p.OrgID,
		Roles:     p.Roles,
		Expires:   now.Add(ttl).Unix(),
	}, nil
}

// expiry returns the end of the session.
func (s *session) expiry() time.Time { return time.Unix(s.Expires, 0).UTC() }

// encodeSession signs sess: base64url(JSON) "." base64url(HMAC-SHA256).
func (k keys) encodeSession(sess *session) (string, error) {
	payload, err := json.Marshal(sess)
	if err != nil {
		return "", err
	}
	p := b64.EncodeToString(payload)
	return p + "." + b64.EncodeToString(mac(k.session, p)), nil
}

// errNoSession means the request carries no usable session: none, a forged
// or damaged one, an expired one, or one of another layout version.
var errNoSession = errors.New("no valid session")

// decodeSession verifies and decodes a session cookie value.
func (k keys) decodeSession(value string, now time.Time) (*session, error) {
	p, sig, ok := strings.Cut(value, ".")
	if !ok || len(value) > 4096 {
		return nil, errNoSession
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(k.session, p)) {
		return nil, errNoSession
	}
	payload, err := b64.DecodeString(p)
	if err != nil {
		return nil, errNoSession
	}
	var sess session
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if dec.Decode(&sess) != nil || sess.Version != sessionVersion || sess.ID == "" || sess.OrgID == "" {
		return nil, errNoSession
	}
	if !now.Before(sess.expiry()) {
		return nil, errNoSession
	}
	return &sess, nil
}

// csrfToken is the CSRF token of a session: an HMAC of its id, so it needs
// no storage and dies with the session.
func (k keys) csrfToken(sid string) string { return b64.EncodeToString(mac(k.csrf, sid)) }

// checkCSRF reports whether token is the CSRF token of sid.
func (k keys) checkCSRF(sid, token string) bool {
	got, err := b64.DecodeString(token)
	return err == nil && hmac.Equal(got, mac(k.csrf, sid))
}

// signInToken is the CSRF token of the sign-in form, bound to the random
// value of the sign-in cookie (a signed double-submit token): a form posted
// from elsewhere has neither the cookie (SameSite=Strict) nor the token.
func (k keys) signInToken(nonce string) string { return b64.EncodeToString(mac(k.signIn, nonce)) }

func (k keys) checkSignInToken(nonce, token string) bool {
	got, err := b64.DecodeString(token)
	return nonce != "" && err == nil && hmac.Equal(got, mac(k.signIn, nonce))
}

// setCookie sets a cookie with the attributes every cookie of the UI has:
// HttpOnly, SameSite=Strict, Path=/, Secure over TLS.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, expires time.Time, now time.Time) {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
		c.MaxAge = max(1, int(expires.Sub(now).Seconds()))
	}
	http.SetCookie(w, c)
}

// request is a signed-in request: the session, the principal as the store
// has it now, and the principal's organization.
type request struct {
	sess *session
	p    *costexplorer.Principal
	org  *costexplorer.Organization
	view *sessionView
}

// sessionView is what the templates show about the session.
type sessionView struct {
	Who     string // public key or client id
	Kind    string // "API key" or "service account"
	OrgName string
	OrgID   string
	CSRF    string
}

// sessionEnded is why a session that verified cannot be used any more. Its
// message is shown on the sign-in page.
type sessionEnded struct{ reason string }

func (e *sessionEnded) Error() string { return "session ended: " + e.reason }

// withSession runs h for requests with a live session and sends the others
// to the sign-in page (clearing a cookie that is no longer good), keeping the
// address they asked for so that a bookmarked view opens after sign-in.
func (s *Server) withSession(h func(w http.ResponseWriter, r *http.Request, rq *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := s.cfg.Now()
		c, err := r.Cookie(sessionCookie)
		if err != nil {
			s.toSignIn(w, r, "")
			return
		}
		sess, err := s.keys.decodeSession(c.Value, now)
		if err != nil {
			setCookie(w, r, sessionCookie, "", time.Time{}, now)
			s.toSignIn(w, r, "ended")
			return
		}
		rq, err := s.resume(r.Context(), sess, s.cfg.Auth.ClientIP(r))
		var ended *sessionEnded
		if errors.As(err, &ended) {
			setCookie(w, r, sessionCookie, "", time.Time{}, now)
			s.toSignIn(w, r, "ended")
			return
		}
		if err != nil {
			s.unexpected(w, r, err, nil)
			return
		}
		h(w, r, rq)
	}
}

// resume asks the one judge of credential validity (auth's Resume, which
// Bearer tokens go through too) whether sess still holds: not revoked, its
// credential still there, usable (enabled; a service account's secret not
// expired) and of the same organization, and usable from ip. It returns the
// request with the credential's current principal.
func (s *Server) resume(ctx context.Context, sess *session, ip netip.Addr) (*request, error) {
	p, org, err := s.cfg.Auth.Resume(ctx, auth.Grant{
		ID: sess.ID, Kind: sess.Kind, CredentialID: sess.CredID, PublicKey: sess.PublicKey, OrgID: sess.OrgID,
	}, ip)
	if err != nil {
		if costexplorer.ErrorCode(err) == costexplorer.ErrUnavailable {
			return nil, err
		}
		return nil, &sessionEnded{err.Error()}
	}
	who, kind := p.PublicKey, "API key"
	if p.Kind == costexplorer.PrincipalServiceAccount {
		who, kind = p.ID, "service account"
	}
	return &request{
		sess: sess,
		p:    p,
		org:  org,
		view: &sessionView{Who: who, Kind: kind, OrgName: org.Name, OrgID: org.ID, CSRF: s.keys.csrfToken(sess.ID)},
	}, nil
}

// unavailable wraps a store failure as SERVICE_UNAVAILABLE.
func unavailable(what string, err error) error {
	if costexplorer.ErrorCode(err) != costexplorer.ErrInternal {
		return err
	}
	return &costexplorer.Error{Code: costexplorer.ErrUnavailable, Detail: "The store does not answer.", Err: fmt.Errorf("%s: %w", what, err)}
}

// toSignIn redirects to the sign-in page, remembering the page asked for
// (GET pages only; a download or status poll comes back to the explorer).
func (s *Server) toSignIn(w http.ResponseWriter, r *http.Request, reason string) {
	v := url.Values{}
	if r.Method == http.MethodGet && isPage(r.URL.Path) {
		v.Set("next", r.URL.RequestURI())
	}
	if reason != "" {
		v.Set("m", reason)
	}
	target := "/signin"
	if len(v) > 0 {
		target += "?" + v.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// checkPost refuses a state-changing request from another origin (Origin,
// Sec-Fetch-Site) or with an unreadable body, answering it, and otherwise
// returns the form; the caller checks the form's CSRF token.
func (s *Server) checkPost(w http.ResponseWriter, r *http.Request, sv *sessionView) (url.Values, bool) {
	if err := s.cop.Check(r); err != nil {
		s.renderMessage(w, r, http.StatusForbidden, "Request refused",
			"This form was sent from another site. Go back to the Cost Explorer and try again.", sv)
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderMessage(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.", sv)
		return nil, false
	}
	return r.PostForm, true
}
