package clienttest

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"testing"
)

// wireMode is how a wireProxy passes a "processing" answer (an interim
// 102 Processing, then an empty 200) on to the client.
type wireMode int

const (
	// passThrough forwards it as it is: the control.
	passThrough wireMode = iota
	// finalProcessing answers a bare final 102 Processing instead, then
	// closes the connection: what a server that takes 102 for a final
	// status would send.
	finalProcessing
	// emptyOK drops the interim 102 and forwards only the empty 200: to a
	// caller, an empty result.
	emptyOK
)

func (m wireMode) String() string {
	return [...]string{"PassThrough", "FinalProcessing", "EmptyOKWithoutInterim"}[m]
}

// startWireProxy starts a reverse proxy to upstream that changes the wire
// form of "processing" as mode says, and returns its base URL. Everything
// else (the Digest challenge, the OAuth token, ready answers) passes as is.
func startWireProxy(t *testing.T, upstream string, mode wireMode) string {
	t.Helper()
	p := newWireProxy(upstream, mode)
	t.Cleanup(p.Close)
	return p.URL
}

func newWireProxy(upstream string, mode wireMode) *httptest.Server {
	hc := &http.Client{
		Transport:     &http.Transport{},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var interim bool
		out, err := http.NewRequestWithContext(httptrace.WithClientTrace(r.Context(), &httptrace.ClientTrace{
			Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
				interim = interim || code == http.StatusProcessing
				if mode == passThrough {
					for k, v := range h {
						w.Header()[k] = v
					}
					w.WriteHeader(code)
					clear(w.Header())
				}
				return nil
			},
		}), r.Method, upstream+r.URL.RequestURI(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		out.ContentLength = r.ContentLength
		resp, err := hc.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if interim && resp.StatusCode == http.StatusOK && len(body) == 0 && mode == finalProcessing {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				http.Error(w, "proxy: hijack: "+err.Error(), http.StatusBadGateway)
				return
			}
			defer conn.Close()
			writeFinal102(buf.Writer)
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}))
}

func writeFinal102(w *bufio.Writer) {
	w.WriteString("HTTP/1.1 102 Processing\r\nRetry-After: 1\r\nConnection: close\r\n\r\n")
	w.Flush()
}

// The poll check of TestUsage must be able to fail: through a proxy that
// breaks the wire form of "processing", the SDK's poll must fail, while the
// same proxy passing the form through must not. For the closing note of
// issue 18: a bare final 102 makes the SDK's get call fail (Go's net/http
// takes every 1xx as interim and then finds the connection closed), and an
// empty 200 without the 102 before it is, to the SDK, a nil result with a
// 200: an empty result.
func TestBrokenWireFormFailsThePoll(t *testing.T) {
	for _, mode := range []wireMode{passThrough, finalProcessing, emptyOK} {
		base := startWireProxy(t, demo.base, mode)
		for _, v := range sdkVersions {
			for _, a := range authMethods {
				c := newSDKClient(t, v, a, clientConfig{base: base, creds: demo.creds})
				t.Run(mode.String()+"/"+c.String(), func(t *testing.T) {
					t.Parallel()
					ctx := t.Context()
					token := c.createToken(t, ctx, freshQuery())
					p, err := c.pollUsage(ctx, demo.creds.OrgID, token)
					switch mode {
					case passThrough:
						if err != nil {
							t.Fatalf("through a pass-through proxy: %v", err)
						}
						if p.processing == 0 {
							t.Error("through a pass-through proxy: never processing")
						}
					case finalProcessing:
						if err == nil {
							t.Fatalf("a bare final 102: the poll succeeded (%d processing answers)", p.processing)
						}
						if p.processing != 0 {
							t.Errorf("a bare final 102 was read as processing %d times before failing", p.processing)
						}
						if errors.Is(err, errEmptyResult) {
							t.Errorf("a bare final 102 failed as an empty result, want a transport error: %v", err)
						}
						t.Logf("a bare final 102: %v", err)
					case emptyOK:
						if !errors.Is(err, errEmptyResult) {
							t.Fatalf("an empty 200 without the interim 102: %v, want %v", err, errEmptyResult)
						}
					}
				})
			}
		}
	}
}
