package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// commonParams are the query parameters every Atlas endpoint takes.
type commonParams struct {
	pretty   bool // indent JSON bodies
	envelope bool // wrap the body with its status; the status line is then 200
}

// parseCommonParams reads pretty and envelope. The only accepted values are
// true and false (any case); an empty value, another spelling or a repeated
// parameter is 400 INVALID_QUERY_PARAMETER, because guessing what a client
// meant would hide its bug. Other query parameters are left to the operation.
func parseCommonParams(r *http.Request) (commonParams, error) {
	var p commonParams
	q := r.URL.Query()
	var err error
	if p.pretty, err = boolParam(q, "pretty", false); err != nil {
		return p, err
	}
	if p.envelope, err = boolParam(q, "envelope", false); err != nil {
		return p, err
	}
	return p, nil
}

// boolParam parses an optional boolean query parameter.
func boolParam(q map[string][]string, name string, def bool) (bool, error) {
	vals, ok := q[name]
	if !ok {
		return def, nil
	}
	if len(vals) != 1 {
		return false, errQueryParameter(name, strings.Join(vals, ","), "give it once.")
	}
	switch strings.ToLower(vals[0]) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errQueryParameter(name, vals[0], "use true or false.")
}

// intParam parses an optional integer query parameter within [min, max].
func intParam(q map[string][]string, name string, def, min, max int) (int, error) {
	vals, ok := q[name]
	if !ok {
		return def, nil
	}
	if len(vals) != 1 {
		return 0, errQueryParameter(name, strings.Join(vals, ","), "give it once.")
	}
	n, err := strconv.Atoi(vals[0])
	if err != nil || n < min || n > max {
		return 0, errQueryParameter(name, vals[0], "use an integer from "+strconv.Itoa(min)+" to "+strconv.Itoa(max)+".")
	}
	return n, nil
}

// prettyRequested reports whether the request asked for indented JSON. Used
// by WriteError, which must not fail on a bad value.
func prettyRequested(r *http.Request) bool {
	return r != nil && r.URL != nil && strings.EqualFold(r.URL.Query().Get("pretty"), "true")
}

// marshal encodes v as JSON without HTML escaping (names such as "R&D" stay
// readable; the Content-Type is never HTML).
func marshal(v any) ([]byte, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// writeBody writes v as the JSON body of a response with status; the caller
// has set the Content-Type.
func writeBody(w http.ResponseWriter, status int, v any, pretty bool) {
	b, err := marshal(v)
	if err != nil {
		// Only a programming error gets here; the status line is still ours.
		b = []byte(`{"detail":"Unexpected error.","error":500,"errorCode":"UNEXPECTED_ERROR","parameters":[],"reason":"Internal Server Error"}`)
		status = http.StatusInternalServerError
		w.Header().Set("Content-Type", "application/json")
	}
	if pretty {
		var buf bytes.Buffer
		if json.Indent(&buf, b, "", "  ") == nil {
			b = buf.Bytes()
		}
	}
	// b may be a cached result shared by concurrent requests (marshal
	// returns a json.RawMessage as is): write the newline separately rather
	// than append it into b's spare capacity.
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	if _, err := w.Write(b); err == nil {
		_, _ = w.Write(newline)
	}
}

var newline = []byte{'\n'}

// envelope is the ?envelope=true form of a single entity.
type envelope struct {
	Status  int `json:"status"`
	Content any `json:"content"`
}

// reply is an operation's success answer; the common wrapper writes it.
type reply interface {
	write(w http.ResponseWriter, c *call)
}

// entity is a single entity in the negotiated JSON media type. With
// envelope=true it is wrapped as {"status": N, "content": …} and the status
// line is 200.
type entity struct {
	status int
	v      any
}

func (e entity) write(w http.ResponseWriter, c *call) {
	v, status := e.v, e.status
	if raw, ok := v.(json.RawMessage); ok && c.envelope {
		// A stored result is JSON already: wrap its bytes rather than decode
		// and re-encode them (the client polls this way, and a result can be
		// megabytes).
		b := make([]byte, 0, len(raw)+32)
		b = append(b, `{"status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, `,"content":`...)
		b = append(b, raw...)
		v, status = json.RawMessage(append(b, '}')), http.StatusOK
	} else if c.envelope {
		v, status = envelope{Status: status, Content: v}, http.StatusOK
	}
	w.Header().Set("Content-Type", contentType(c.neg.version, formatJSON))
	writeBody(w, status, v, c.pretty)
}

// listBody is a paginated list body. With envelope=true the list itself is the
// envelope: status is added to it (setStatus sets it in *v, so v must be a
// pointer) and the status line is 200.
type listBody struct {
	status    int
	v         any
	setStatus func(int)
}

func (p listBody) write(w http.ResponseWriter, c *call) {
	status := p.status
	if c.envelope {
		p.setStatus(status)
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", contentType(c.neg.version, formatJSON))
	writeBody(w, status, p.v, c.pretty)
}
