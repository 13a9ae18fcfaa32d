package client

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"sync"
)

// digestAuth authenticates requests with HTTP Digest (RFC 7616). The first
// request goes without credentials and is answered 401 with a challenge;
// the challenge is then kept and later requests are authorized at once with
// a counted nonce (nc) until the server declares the nonce stale.
type digestAuth struct {
	username, password string
	// preferMD5 picks MD5 even when SHA-256 is offered (tests exercise
	// both algorithms; Atlas offers only MD5).
	preferMD5 bool

	mu sync.Mutex
	ch *digestChallenge // the current challenge, nil before the first 401
	nc uint32           // the last nonce count sent with ch.nonce
}

// digestChallenge is one Digest WWW-Authenticate challenge.
type digestChallenge struct {
	realm, nonce, opaque, algorithm string
	qopAuth                         bool // qop offered and includes "auth"
	stale                           bool
}

// do sends req, answering a Digest challenge once. A 401 after credentials
// computed from the challenge just received is returned as is: the key is
// wrong (or not allowed).
func (d *digestAuth) do(hc *http.Client, req *http.Request) (*http.Response, error) {
	r := req
	if h, ok := d.authorization(req); ok {
		r = req.Clone(req.Context())
		r.Header.Set("Authorization", h)
	}
	resp, err := hc.Do(r)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	ch, ok := pickChallenge(resp.Header.Values("WWW-Authenticate"), d.preferMD5)
	if !ok {
		return resp, nil
	}
	d.mu.Lock()
	d.ch, d.nc = ch, 0
	d.mu.Unlock()
	r2, err := rewind(req)
	if err != nil {
		return resp, nil
	}
	drain(resp)
	h, _ := d.authorization(r2)
	r2.Header.Set("Authorization", h)
	return hc.Do(r2)
}

// authorization returns the Authorization header for req under the current
// challenge, counting the nonce; ok is false before any challenge.
func (d *digestAuth) authorization(req *http.Request) (string, bool) {
	d.mu.Lock()
	ch := d.ch
	if ch == nil {
		d.mu.Unlock()
		return "", false
	}
	d.nc++
	nc := d.nc
	d.mu.Unlock()
	return digestHeader(ch, d.username, d.password, req.Method, req.URL.RequestURI(), nc, newCnonce()), true
}

// digestHeader computes the Authorization header value of RFC 7616 §3.4
// (and of RFC 2069 when the server offers no qop).
func digestHeader(ch *digestChallenge, username, password, method, uri string, nc uint32, cnonce string) string {
	alg := strings.ToUpper(ch.algorithm)
	if alg == "" {
		alg = "MD5"
	}
	newHash := md5.New
	if strings.HasPrefix(alg, "SHA-256") {
		newHash = sha256.New
	}
	h := func(s string) string { return hexHash(newHash(), s) }
	ha1 := h(username + ":" + ch.realm + ":" + password)
	if strings.HasSuffix(alg, "-SESS") {
		ha1 = h(ha1 + ":" + ch.nonce + ":" + cnonce)
	}
	ha2 := h(method + ":" + uri)
	ncs := fmt.Sprintf("%08x", nc)
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username=%s, realm=%s, nonce=%s, uri=%s`, quote(username), quote(ch.realm), quote(ch.nonce), quote(uri))
	if ch.algorithm != "" {
		fmt.Fprintf(&b, `, algorithm=%s`, ch.algorithm)
	}
	if ch.qopAuth {
		resp := h(ha1 + ":" + ch.nonce + ":" + ncs + ":" + cnonce + ":auth:" + ha2)
		fmt.Fprintf(&b, `, qop=auth, nc=%s, cnonce=%s, response=%s`, ncs, quote(cnonce), quote(resp))
	} else {
		fmt.Fprintf(&b, `, response=%s`, quote(h(ha1+":"+ch.nonce+":"+ha2)))
	}
	if ch.opaque != "" {
		fmt.Fprintf(&b, `, opaque=%s`, quote(ch.opaque))
	}
	return b.String()
}

func hexHash(h hash.Hash, s string) string {
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func newCnonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// quote returns s as an RFC 9110 quoted-string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// pickChallenge returns the Digest challenge to answer among the
// WWW-Authenticate header values: SHA-256 when offered (unless preferMD5),
// else MD5. Challenges of other schemes and algorithms are skipped.
func pickChallenge(values []string, preferMD5 bool) (*digestChallenge, bool) {
	var md5c, shac *digestChallenge
	for _, v := range values {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Digest") {
			continue
		}
		p := parseParams(rest)
		ch := &digestChallenge{realm: p["realm"], nonce: p["nonce"], opaque: p["opaque"], algorithm: p["algorithm"],
			stale: strings.EqualFold(p["stale"], "true")}
		if ch.nonce == "" {
			continue
		}
		if q, ok := p["qop"]; ok {
			for _, o := range strings.Split(q, ",") {
				if strings.TrimSpace(o) == "auth" {
					ch.qopAuth = true
				}
			}
			if !ch.qopAuth {
				continue // only auth-int offered: not supported
			}
		}
		switch strings.ToUpper(ch.algorithm) {
		case "", "MD5", "MD5-SESS":
			if md5c == nil {
				md5c = ch
			}
		case "SHA-256", "SHA-256-SESS":
			if shac == nil {
				shac = ch
			}
		}
	}
	switch {
	case shac != nil && (md5c == nil || !preferMD5):
		return shac, true
	case md5c != nil:
		return md5c, true
	}
	return nil, false
}

// parseParams parses auth-params (name=token or name="quoted string",
// comma-separated). Names are lower-cased; malformed parts are skipped.
func parseParams(s string) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ',' || s[i] == ' ' || s[i] == '\t') {
			i++
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ',' {
			i++
		}
		name := strings.ToLower(strings.TrimSpace(s[start:i]))
		if i >= len(s) || s[i] != '=' {
			continue
		}
		i++
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var val strings.Builder
		if i < len(s) && s[i] == '"' {
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
				i++
			}
			i++ // closing quote
		} else {
			for i < len(s) && s[i] != ',' {
				val.WriteByte(s[i])
				i++
			}
		}
		if name != "" {
			out[name] = strings.TrimSpace(val.String())
		}
	}
	return out
}
