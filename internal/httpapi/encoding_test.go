package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// sendRaw sends req with a client that leaves the body as the server sent it
// (net/http's transport would otherwise decompress gzip itself) and returns
// the answer. The identity answers go through e.do, which validates them
// against openapi.yaml; the gzip ones are compared with those.
func sendRaw(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return res, b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}

// Every form of a ready result, asked with Accept-Encoding: gzip, decompresses
// to exactly the bytes of the identity answer, which a request without
// Accept-Encoding gets. The gzip form is built in the background after the
// first ask, so the first answers may still be the identity: that is
// acceptable to every client that asks for gzip (it did not refuse the
// identity), and the test waits (bounded) for the gzip one.
func TestReadyResultGzipIsTheIdentityCompressed(t *testing.T) {
	e := newEnv(t, options{})
	token := e.create(e.Org, goldenQueries(t, e)["none"])
	e.waitReady(e.Org, token)
	path := usagePath(e.Org) + "/" + token
	for _, tc := range []struct{ name, query, accept, ctype string }{
		{"JSON", "", "application/vnd.atlas.2023-01-01+json", "application/vnd.atlas.2023-01-01+json;charset=utf-8"},
		{"CSV", "", "application/vnd.atlas.2023-01-01+csv", "application/vnd.atlas.2023-01-01+csv;charset=utf-8"},
		{"envelope", "?envelope=true", "application/vnd.atlas.2023-01-01+json", "application/vnd.atlas.2023-01-01+json;charset=utf-8"},
		{"pretty", "?pretty=true", "application/vnd.atlas.2023-01-01+json", "application/vnd.atlas.2023-01-01+json;charset=utf-8"},
		{"pretty envelope", "?envelope=true&pretty=true", "application/vnd.atlas.2023-01-01+json", "application/vnd.atlas.2023-01-01+json;charset=utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			get := func(encoding string) *http.Request {
				req := e.apiRequest("GET", path+tc.query, "")
				req.Header.Set("Accept", tc.accept)
				if encoding != "" {
					req.Header.Set("Accept-Encoding", encoding)
				}
				return req
			}
			// The identity: validated, and byte for byte what a client
			// that does not ask for gzip gets, before and after the gzip
			// form exists.
			req := get("")
			req.Header.Del("Accept-Encoding")
			hres, identity := sendRaw(t, req)
			checkIdentity(t, hres, identity, tc.ctype)
			if res := e.do(get("")); !bytes.Equal(res.body, identity) {
				t.Fatalf("identity answers differ")
			}

			deadline := time.Now().Add(20 * time.Second)
			for {
				hres, body := sendRaw(t, get("gzip"))
				if hres.StatusCode != http.StatusOK || hres.Header.Get("Content-Type") != tc.ctype || hres.Header.Get("Vary") != "Accept-Encoding" {
					t.Fatalf("gzip: %d %q Vary %q", hres.StatusCode, hres.Header.Get("Content-Type"), hres.Header.Get("Vary"))
				}
				if hres.ContentLength != int64(len(body)) {
					t.Errorf("Content-Length %d for %d bytes", hres.ContentLength, len(body))
				}
				if hres.Header.Get("Content-Encoding") == "gzip" {
					if got := gunzip(t, body); !bytes.Equal(got, identity) {
						t.Errorf("gzip body decompresses to %d bytes that differ from the identity's %d", len(got), len(identity))
					}
					if len(body) >= len(identity) {
						t.Errorf("gzip body %d bytes, identity %d", len(body), len(identity))
					}
					break
				}
				if hres.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, identity) {
					t.Fatalf("answer to gzip is neither gzip nor the identity: Content-Encoding %q", hres.Header.Get("Content-Encoding"))
				}
				if time.Now().After(deadline) {
					t.Fatal("no gzip answer after 20 s")
				}
				time.Sleep(5 * time.Millisecond)
			}

			// Once it exists, the identity is still what a client without
			// gzip gets, and what one that refuses gzip gets.
			for _, enc := range []string{"", "identity", "gzip;q=0", "br"} {
				req := get(enc)
				if enc == "" {
					req.Header.Del("Accept-Encoding")
				}
				hres, body := sendRaw(t, req)
				if hres.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, identity) {
					t.Errorf("Accept-Encoding %q: Content-Encoding %q, %d bytes; want the identity", enc, hres.Header.Get("Content-Encoding"), len(body))
				}
			}

			// HEAD: the headers of GET, no body.
			head := get("")
			head.Method = "HEAD"
			head.Header.Del("Accept-Encoding")
			hres, body := sendRaw(t, head)
			if hres.StatusCode != http.StatusOK || len(body) != 0 || hres.Header.Get("Content-Length") != strconv.Itoa(len(identity)) {
				t.Errorf("HEAD: %d, %d body bytes, Content-Length %q; want 200, none, %d", hres.StatusCode, len(body), hres.Header.Get("Content-Length"), len(identity))
			}
		})
	}
}

func checkIdentity(t *testing.T, res *http.Response, body []byte, ctype string) {
	t.Helper()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != ctype || res.Header.Get("Content-Encoding") != "" || res.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("identity: %d %q Content-Encoding %q Vary %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
	}
	if res.ContentLength != int64(len(body)) || len(body) == 0 {
		t.Fatalf("identity: Content-Length %d for %d bytes", res.ContentLength, len(body))
	}
}

// A client that refuses the identity gets gzip on its first ask, built
// while it waits.
func TestReadyResultGzipWhenTheIdentityIsRefused(t *testing.T) {
	e := newEnv(t, options{})
	token := e.create(e.Org, goldenQueries(t, e)["organizations"])
	e.waitReady(e.Org, token)
	req := e.apiRequest("GET", usagePath(e.Org)+"/"+token+"?envelope=true&pretty=true", "")
	req.Header.Set("Accept-Encoding", "gzip, identity;q=0")
	hres, body := sendRaw(t, req)
	if hres.StatusCode != http.StatusOK || hres.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("%d Content-Encoding %q, want gzip at once", hres.StatusCode, hres.Header.Get("Content-Encoding"))
	}
	want := e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+token+"?envelope=true&pretty=true", "")).body
	if got := gunzip(t, body); !bytes.Equal(got, want) {
		t.Errorf("gzip body differs from the identity")
	}
}
