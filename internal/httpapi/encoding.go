package httpapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/costexplorer/costexplorer"
)

// A ready result is served in whichever form the GET asks for — JSON, JSON
// in its envelope, either indented, or the contract's CSV — and, when the
// request accepts it, gzip-compressed (Go's HTTP client, and so the Atlas
// SDK and CLI, asks for gzip by default). Every form but plain JSON is
// derived from the stored JSON once and then kept beside it in the
// runner's cache (resultForms), so that answering the same result again is
// a lookup and a write, not an encoding.

// resultForms is what a UsageService may offer to keep the bodies derived
// from a done result; internal/jobs' Runner does (see its Form). Without
// it every answer builds its body.
type resultForms interface {
	Form(p *costexplorer.QueryProcess, name string, build func() ([]byte, error), wait bool) (b []byte, ok bool, err error)
}

// resultBody returns the answer to a GET of the ready result of p: its
// form, and its gzip form when the request prefers gzip. A gzip form not
// built yet is built in the background from the second ask on (a result
// read once, as by a client polling until it is ready, is not worth
// compressing) while the answers go out as identity, always acceptable
// unless refused: no request waits for a compression.
func (s *Server) resultBody(c *call, p *costexplorer.QueryProcess) (reply, error) {
	name, ctype := "csv", contentType(c.neg.version, formatCSV)
	if c.neg.format != formatCSV {
		// An envelope is JSON, and so is what ?pretty=true indents.
		name, ctype = "json", contentType(c.neg.version, formatJSON)
		if c.envelope {
			name += "+envelope"
		}
		if c.pretty {
			name += "+pretty"
		}
	}
	var body [][]byte
	switch name {
	// Plain JSON and the envelope are the stored result with a few bytes
	// around it, written as they are: no copy to keep.
	case "json":
		body = [][]byte{p.Result, newline}
	case "json+envelope":
		body = [][]byte{envelopeOK, p.Result, envelopeEnd}
	default:
		b, err := s.form(p, name, func() ([]byte, error) { return buildForm(name, p.Result) }, true)
		if err != nil {
			return nil, &costexplorer.Error{Code: costexplorer.ErrInternal, Detail: "Unexpected error.", Err: err}
		}
		body = [][]byte{b}
	}
	res := resultReply{ctype: ctype, body: body}
	wantGzip, identityOK := negotiateEncoding(c.r.Header.Values("Accept-Encoding"))
	if !wantGzip {
		return res, nil
	}
	gz := func() ([]byte, error) { return gzipBytes(body), nil }
	var z []byte
	if forms, ok := s.cfg.Usage.(resultForms); ok {
		z, ok, _ = forms.Form(p, name+"+gzip", gz, !identityOK)
		if !ok {
			z = nil
		}
	}
	if z == nil && !identityOK {
		// Not kept (a result too large for the cache): compress this once,
		// since the client refuses the identity.
		z, _ = gz()
	}
	if z != nil {
		res.body, res.gzip = [][]byte{z}, true
	}
	return res, nil
}

// form returns the form name of the ready result p, kept by the
// UsageService when it can, built here otherwise.
func (s *Server) form(p *costexplorer.QueryProcess, name string, build func() ([]byte, error), wait bool) ([]byte, error) {
	if forms, ok := s.cfg.Usage.(resultForms); ok {
		if b, ok, err := forms.Form(p, name, build, wait); ok || err != nil {
			return b, err
		}
	}
	return build()
}

// buildForm derives the body name ("csv", or "json" with "+envelope" and
// "+pretty") from the stored JSON result. The bytes are those the generic
// writers (entity, writeBody) produce for the same answer.
func buildForm(name string, result []byte) ([]byte, error) {
	if name == "csv" {
		var res costexplorer.Result
		if err := json.Unmarshal(result, &res); err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		buf.Grow(len(result))
		// The header line is always written, so a ready result is never
		// empty.
		if err := costexplorer.WriteCSV(&buf, res.UsageDetails); err != nil {
			return nil, err
		}
		return bytes.Clone(buf.Bytes()), nil
	}
	rest, ok := strings.CutPrefix(name, "json")
	if !ok {
		return nil, errors.New("unknown result form " + name)
	}
	b := result
	if envelope, ok := strings.CutPrefix(rest, "+envelope"); ok {
		rest = envelope
		b = make([]byte, 0, len(result)+32)
		b = append(b, `{"status":`...)
		b = strconv.AppendInt(b, http.StatusOK, 10)
		b = append(b, `,"content":`...)
		b = append(b, result...)
		b = append(b, '}')
	}
	switch rest {
	case "":
		if len(b) == len(result) {
			b = append(make([]byte, 0, len(b)+1), b...)
		}
		return append(b, '\n'), nil
	case "+pretty":
		var buf bytes.Buffer
		buf.Grow(2 * len(b))
		if json.Indent(&buf, b, "", "  ") != nil {
			buf.Reset()
			buf.Write(b)
		}
		buf.WriteByte('\n')
		return bytes.Clone(buf.Bytes()), nil
	}
	return nil, errors.New("unknown result form " + name)
}

// The pieces around a result in its envelope (as buildForm writes it).
var (
	envelopeOK  = []byte(`{"status":200,"content":`)
	envelopeEnd = []byte("}\n")
)

// gzipBytes compresses the concatenation of body. The default level: a
// form is compressed once and sent many times.
func gzipBytes(body [][]byte) []byte {
	n := 0
	for _, b := range body {
		n += len(b)
	}
	var buf bytes.Buffer
	buf.Grow(n/8 + 64)
	zw := gzip.NewWriter(&buf)
	for _, b := range body {
		_, _ = zw.Write(b) // a bytes.Buffer does not fail
	}
	_ = zw.Close()
	return bytes.Clone(buf.Bytes())
}

// negotiateEncoding reads the Accept-Encoding values of a request (RFC 9110
// §12.5.3) and says whether to answer with gzip and whether the identity
// (no coding) is acceptable. gzip (or its alias x-gzip) is chosen when its
// weight, or that of * when gzip is not listed, is above 0 and not below
// the identity's; the identity when it is not listed weighs the least, as
// the client named what it prefers. The identity is refused only by
// identity;q=0, or *;q=0 without an identity entry. No header, an empty
// one, or only codings this server does not have: the identity. An element
// with a malformed weight is ignored.
func negotiateEncoding(values []string) (wantGzip, identityOK bool) {
	const unlisted = -1.0
	gz, id, star := unlisted, unlisted, unlisted
	for _, v := range values {
		for elem := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(elem, ";")
			q, ok := weight(params)
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gz = q
			case "identity":
				id = q
			case "*":
				star = q
			}
		}
	}
	if gz == unlisted {
		gz = star
	}
	if id == unlisted {
		id = star
	}
	identityOK = id != 0
	return gz > 0 && gz >= id, identityOK
}

// weight parses the parameters of an Accept-Encoding element: its q
// (1 when absent). ok is false for a malformed or out-of-range weight.
func weight(params string) (q float64, ok bool) {
	q = 1
	for p := range strings.SplitSeq(params, ";") {
		k, v, found := strings.Cut(strings.TrimSpace(p), "=")
		if !found || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 1 {
			return 0, false
		}
		q = f
	}
	return q, true
}

// resultReply is a ready result's body, in one or more pieces written in
// order. Every form of the answer carries Vary: Accept-Encoding, as a
// cache between the client and this server must not give one client's
// gzip to another that did not ask for it.
type resultReply struct {
	ctype string
	gzip  bool
	body  [][]byte
}

func (r resultReply) write(w http.ResponseWriter, _ *call) {
	n := 0
	for _, b := range r.body {
		n += len(b)
	}
	h := w.Header()
	h["Content-Type"] = []string{r.ctype}
	h["Vary"] = append(h["Vary"], "Accept-Encoding")
	if r.gzip {
		h["Content-Encoding"] = gzipValue
	}
	h["Content-Length"] = []string{strconv.Itoa(n)}
	w.WriteHeader(http.StatusOK)
	for _, b := range r.body {
		if _, err := w.Write(b); err != nil {
			return
		}
	}
}

// gzipValue is the Content-Encoding of a gzip answer; its capacity is its
// length, so that an append to a response's header never writes into it.
var gzipValue = []string{"gzip"}[:1:1]
