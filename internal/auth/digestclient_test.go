package auth

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
)

// This file is a stock net/http RFC 7616 client, written the way the Atlas
// Go SDK's digest transport (github.com/mongodb-forks/digest) works, with
// the same strictness: it reads only the FIRST WWW-Authenticate header,
// splits its parameters on exactly ", ", rejects any key other than realm,
// domain, nonce, opaque, stale, algorithm and qop, and signs with
// nc=00000001 and the request URI including the query string.

var errBadChallenge = errors.New("digest: challenge is bad")

// parseChallengeLikeSDK parses a Digest challenge as the SDK does.
func parseChallengeLikeSDK(input string) (map[string]string, error) {
	const ws = " \n\r\t"
	s := strings.Trim(input, ws)
	if !strings.HasPrefix(s, "Digest ") {
		return nil, errBadChallenge
	}
	s = strings.Trim(s[7:], ws)
	c := map[string]string{"algorithm": "MD5"}
	for _, part := range strings.Split(s, ", ") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, errBadChallenge
		}
		switch k {
		case "realm", "domain", "nonce", "opaque", "stale", "algorithm", "qop":
			c[k] = strings.Trim(v, `"`)
		default:
			return nil, fmt.Errorf("%w: unknown key %q", errBadChallenge, k)
		}
	}
	return c, nil
}

// digestParams is what the client signs and sends.
type digestParams struct {
	Username, Realm, Nonce, URI, Algorithm, Qop, NC, Cnonce, Opaque, Method string
	// HashRealm, when set, is hashed into HA1 instead of Realm (a client
	// configured for another realm).
	HashRealm string
}

// header computes the response and formats the Authorization value exactly
// as the SDK does (algorithm quoted, qop and nc bare).
func (p *digestParams) header(password string) string {
	var h func() hash.Hash = md5.New
	if p.Algorithm == "SHA-256" {
		h = sha256.New
	}
	hx := func(s string) string {
		d := h()
		d.Write([]byte(s))
		return hex.EncodeToString(d.Sum(nil))
	}
	realm := p.Realm
	if p.HashRealm != "" {
		realm = p.HashRealm
	}
	ha1 := hx(p.Username + ":" + realm + ":" + password)
	ha2 := hx(p.Method + ":" + p.URI)
	resp := hx(ha1 + ":" + p.Nonce + ":" + p.NC + ":" + p.Cnonce + ":" + p.Qop + ":" + ha2)
	sl := []string{
		fmt.Sprintf(`username="%s"`, p.Username),
		fmt.Sprintf(`realm="%s"`, p.Realm),
		fmt.Sprintf(`nonce="%s"`, p.Nonce),
		fmt.Sprintf(`uri="%s"`, p.URI),
		fmt.Sprintf(`response="%s"`, resp),
		fmt.Sprintf(`algorithm="%s"`, p.Algorithm),
	}
	if p.Opaque != "" {
		sl = append(sl, fmt.Sprintf(`opaque="%s"`, p.Opaque))
	}
	sl = append(sl, "qop="+p.Qop, "nc="+p.NC, fmt.Sprintf(`cnonce="%s"`, p.Cnonce))
	return "Digest " + strings.Join(sl, ", ")
}

// digestTransport is the client's http.RoundTripper.
type digestTransport struct {
	Username, Password string
	// SHA256 picks the SHA-256 challenge (strictly parsed too) instead of
	// the first one.
	SHA256 bool
	// Sign, if set, edits the parameters before they are signed.
	Sign func(p *digestParams)
	// Tamper, if set, edits the signed request in transit.
	Tamper func(r *http.Request)
	// Sent, if set, sees every authorized request as sent.
	Sent func(r *http.Request)
	Base http.RoundTripper
}

func (t *digestTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	withBody := func(r *http.Request) *http.Request {
		r = r.Clone(r.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		return r
	}
	resp, err := t.Base.RoundTrip(withBody(req))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	p, err := t.params(req, resp.Header.Values("WWW-Authenticate"))
	if err != nil {
		return nil, err
	}
	r2 := withBody(req)
	r2.Header.Set("Authorization", p.header(t.Password))
	if t.Tamper != nil {
		t.Tamper(r2)
	}
	if t.Sent != nil {
		t.Sent(r2)
	}
	return t.Base.RoundTrip(r2)
}

// params builds the signed parameters from a 401's challenges.
func (t *digestTransport) params(req *http.Request, challenges []string) (*digestParams, error) {
	if len(challenges) == 0 {
		return nil, errors.New("digest: 401 without WWW-Authenticate")
	}
	c, err := parseChallengeLikeSDK(challenges[0])
	if err != nil {
		return nil, err
	}
	if t.SHA256 {
		c = nil
		for _, v := range challenges {
			if cc, err := parseChallengeLikeSDK(v); err == nil && cc["algorithm"] == "SHA-256" {
				c = cc
				break
			}
		}
		if c == nil {
			return nil, errors.New("digest: no SHA-256 challenge")
		}
	}
	if c["algorithm"] != "MD5" && c["algorithm"] != "SHA-256" {
		return nil, errors.New("digest: algorithm not implemented")
	}
	if c["qop"] != "auth" {
		return nil, errors.New("digest: qop not supported")
	}
	cnonce := make([]byte, 8)
	rand.Read(cnonce)
	p := &digestParams{
		Username:  t.Username,
		Realm:     c["realm"],
		Nonce:     c["nonce"],
		URI:       req.URL.RequestURI(),
		Algorithm: c["algorithm"],
		Qop:       c["qop"],
		NC:        "00000001",
		Cnonce:    hex.EncodeToString(cnonce),
		Opaque:    c["opaque"],
		Method:    req.Method,
	}
	if t.Sign != nil {
		t.Sign(p)
	}
	return p, nil
}
