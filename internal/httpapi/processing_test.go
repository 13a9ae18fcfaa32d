package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// processingEnv returns an environment whose queries stay processing for
// 10 minutes of its clock, and the token of a query just created there.
func processingEnv(t *testing.T) (*env, string) {
	t.Helper()
	e := newEnv(t, options{minProcessing: 10 * time.Minute})
	tok := e.create(e.Org, `{"startDate":"2025-01-01","endDate":"2025-07-01","groupBy":"organizations","organizations":["`+e.Org+`"]}`)
	return e, tok
}

// TestProcessingGoClient proves the processing wire form with a stock Go
// net/http client (what the Atlas Go SDK and CLI use): the client sees an
// interim 102 through httptrace, then a final 200 with an empty body; once
// the process is ready, the same request gets the result.
func TestProcessingGoClient(t *testing.T) {
	e, tok := processingEnv(t)
	path := usagePath(e.Org) + "/" + tok

	res := e.do(e.apiRequest("GET", path, ""))
	if len(res.interim) != 1 || res.interim[0] != http.StatusProcessing {
		t.Fatalf("interim answers = %v, want one 102", res.interim)
	}
	// Go's client consumes "Connection: close" (it sets Response.Close), so
	// the raw-socket test checks that header byte for byte.
	if got := res.interimHeader[0].Get("Retry-After"); got != "600" {
		t.Errorf("102 Retry-After = %q, want 600 (the 10 minutes left)", got)
	}
	if res.status != http.StatusOK || len(res.body) != 0 {
		t.Fatalf("final answer = %d %q, want 200 with an empty body", res.status, res.body)
	}
	if res.header.Get("Content-Type") != "" {
		t.Errorf("final processing answer has Content-Type %q", res.header.Get("Content-Type"))
	}

	e.Clock.Advance(10 * time.Minute)
	e.waitReady(e.Org, tok)
	res = e.do(e.apiRequest("GET", path, ""))
	if len(res.interim) != 0 {
		t.Errorf("ready answer had interim answers %v", res.interim)
	}
	if res.status != http.StatusOK || !bytes.HasPrefix(res.body, []byte(`{"usageDetails":[{`)) {
		t.Fatalf("ready answer = %d %q", res.status, res.body)
	}
}

// TestProcessingEnvelope checks the envelope form, which every client can
// read: 200 {"status": 102, "content": {}} while processing, then the result
// wrapped with status 200.
func TestProcessingEnvelope(t *testing.T) {
	e, tok := processingEnv(t)
	path := usagePath(e.Org) + "/" + tok + "?envelope=true"
	for _, accept := range []string{"application/vnd.atlas.2023-01-01+json", "application/vnd.atlas.2023-01-01+csv"} {
		req := e.apiRequest("GET", path, "")
		req.Header.Set("Accept", accept)
		res := e.do(req)
		if res.status != http.StatusOK || string(res.body) != "{\"status\":102,\"content\":{}}\n" || len(res.interim) != 0 {
			t.Errorf("Accept %s: processing envelope = %d %q (interim %v)", accept, res.status, res.body, res.interim)
		}
		if ra := res.header.Get("Retry-After"); ra == "" {
			t.Errorf("Accept %s: the processing envelope carries no Retry-After", accept)
		}
	}
	e.Clock.Advance(10 * time.Minute)
	res := e.waitReady(e.Org, tok)
	if !bytes.HasPrefix(res.body, []byte(`{"status":200,"content":{"usageDetails":[`)) {
		t.Errorf("ready envelope = %q", res.body)
	}
	plain := e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+tok, ""))
	want := append(append([]byte(`{"status":200,"content":`), bytes.TrimSuffix(plain.body, []byte("\n"))...), "}\n"...)
	if !bytes.Equal(res.body, want) {
		t.Errorf("the ready envelope does not wrap the plain result byte for byte:\n%.200s\n%.200s", res.body, want)
	}
	var pretty struct {
		Status  int
		Content costexplorer.Result
	}
	pres := e.do(e.apiRequest("GET", path+"&pretty=true", ""))
	if err := json.Unmarshal(pres.body, &pretty); err != nil || pretty.Status != 200 || len(pretty.Content.UsageDetails) == 0 || !bytes.Contains(pres.body, []byte("\n  \"content\": {")) {
		t.Errorf("pretty ready envelope = %v %.200s", err, pres.body)
	}
}

// rawGet sends a GET on a raw connection and returns every byte the server
// wrote until it closed the connection.
func rawGet(t *testing.T, e *env, path, proto string) string {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	req := "GET " + path + " " + proto + "\r\nHost: " + strings.TrimPrefix(e.URL, "http://") +
		"\r\nAccept: application/vnd.atlas.2023-01-01+json\r\nAuthorization: Bearer " + e.bearer + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("read until close: %v", err)
	}
	return string(b)
}

// TestProcessingRawSocket checks the exact bytes: an interim 102 header block
// carrying Connection: close and Retry-After, then a final 200 with
// Content-Length: 0 and Connection: close, after which the server closes the
// connection. The final answer is validated against openapi.yaml too.
func TestProcessingRawSocket(t *testing.T) {
	e, tok := processingEnv(t)
	path := usagePath(e.Org) + "/" + tok
	raw := rawGet(t, e, path, "HTTP/1.1")

	t.Logf("raw:\n%s", raw)
	interim, final, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		t.Fatalf("no header block in %q", raw)
	}
	lines := strings.Split(interim, "\r\n")
	if lines[0] != "HTTP/1.1 102 Processing" {
		t.Fatalf("first status line = %q, want HTTP/1.1 102 Processing; raw:\n%s", lines[0], raw)
	}
	headers := map[string]string{}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ": ")
		headers[k] = v
	}
	if headers["Connection"] != "close" {
		t.Errorf("102 header block lacks Connection: close:\n%s", interim)
	}
	if headers["Retry-After"] != "600" {
		t.Errorf("102 Retry-After = %q, want 600:\n%s", headers["Retry-After"], interim)
	}
	if !strings.HasPrefix(final, "HTTP/1.1 200 OK\r\n") {
		t.Fatalf("final answer does not start with HTTP/1.1 200 OK:\n%s", final)
	}
	if !strings.Contains(final, "\r\nConnection: close\r\n") {
		t.Errorf("final answer lacks Connection: close:\n%s", final)
	}
	if !strings.HasSuffix(final, "\r\n\r\n") {
		t.Errorf("final answer has a body or trailing bytes:\n%q", final)
	}
	req := e.apiRequest("GET", path, "")
	hres, err := http.ReadResponse(bufio.NewReader(strings.NewReader(final)), req)
	if err != nil {
		t.Fatalf("parse final answer: %v", err)
	}
	body, _ := io.ReadAll(hres.Body)
	if !hres.Close {
		t.Errorf("final answer does not close the connection: %v", hres.Header)
	}
	if hres.Header.Get("Content-Length") != "0" || len(body) != 0 {
		t.Errorf("final answer Content-Length %q body %q, want 0 and empty", hres.Header.Get("Content-Length"), body)
	}
	for _, err := range e.validate(req, &response{status: hres.StatusCode, header: hres.Header, body: body}) {
		t.Error(err)
	}
}

// TestProcessingHTTP10 checks that an HTTP/1.0 client, which may not receive
// 1xx answers, gets only the final empty 200.
func TestProcessingHTTP10(t *testing.T) {
	e, tok := processingEnv(t)
	raw := rawGet(t, e, usagePath(e.Org)+"/"+tok, "HTTP/1.0")
	if strings.Contains(raw, " 102 ") {
		t.Fatalf("HTTP/1.0 client got a 102:\n%s", raw)
	}
	if !strings.HasPrefix(raw, "HTTP/1.0 200 OK\r\n") || !strings.Contains(raw, "Content-Length: 0\r\n") {
		t.Errorf("HTTP/1.0 answer:\n%s", raw)
	}
}

// heldFinishStore holds each FinishProcess (the end of an evaluation on the
// replica) until release sends.
type heldFinishStore struct {
	costexplorer.Store
	entered chan struct{}
	release chan struct{}
}

func (s *heldFinishStore) FinishProcess(ctx context.Context, token, owner string, result []byte, now time.Time) error {
	s.entered <- struct{}{}
	<-s.release
	return s.Store.FinishProcess(ctx, token, owner, result, now)
}

// TestGetWaitsBrieflyForAQueryRunningHere: a GET of a query this server is
// evaluating waits a little for it: one that finishes meanwhile is answered
// with its result, one that does not with "processing" after the hold.
func TestGetWaitsBrieflyForAQueryRunningHere(t *testing.T) {
	held := &heldFinishStore{entered: make(chan struct{}, 1), release: make(chan struct{})}
	e := newEnv(t, options{store: func(s costexplorer.Store) costexplorer.Store { held.Store = s; return held }})
	for i, finishes := range []bool{true, false} {
		tok := e.create(e.Org, fmt.Sprintf(`{"startDate":"2025-0%d-01","endDate":"2025-07-01","groupBy":"organizations","organizations":[%q]}`, 1+i, e.Org))
		<-held.entered // evaluated; its result not stored yet
		got := make(chan *response, 1)
		go func() { got <- e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+tok+"?envelope=true", "")) }()
		var res *response
		if finishes {
			time.Sleep(20 * time.Millisecond) // the GET is (most likely) waiting by now
			held.release <- struct{}{}
			res = <-got
		} else {
			res = <-got
			held.release <- struct{}{}
		}
		var v struct{ Status int }
		res.json(t, &v)
		if want := map[bool]int{true: http.StatusOK, false: http.StatusProcessing}[finishes]; v.Status != want {
			t.Errorf("finishes during the GET %v: envelope status %d, want %d", finishes, v.Status, want)
		}
		e.waitReady(e.Org, tok)
	}
}
