package clienttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sort"
	"strings"
	"testing"
	"time"

	admin001 "go.mongodb.org/atlas-sdk/v20250312001/admin"
)

// rawAnswer is an answer as a raw request got it: what the server sent,
// before any SDK model.
type rawAnswer struct {
	status int
	header http.Header
	body   []byte
	// interim lists the 1xx status codes received before the final answer.
	interim []int
}

// rawCall sends a request with the project's own client (the same
// credentials as the SDK client, Accept at version 2023-01-01 unless header
// says otherwise) and reads the whole answer.
func (c *sdkClient) rawCall(t testing.TB, ctx context.Context, method, path string, body []byte, header http.Header) rawAnswer {
	t.Helper()
	var a rawAnswer
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
			a.interim = append(a.interim, code)
			return nil
		},
	})
	req, err := c.raw.NewRequest(ctx, method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.raw.Do(req)
	if err != nil {
		t.Fatalf("raw %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	a.status, a.header = resp.StatusCode, resp.Header
	if a.body, err = io.ReadAll(resp.Body); err != nil {
		t.Fatalf("raw %s %s: read the body: %v", method, path, err)
	}
	return a
}

// sameJSON fails the test when what the SDK decoded (sdkValue, marshalled
// back to JSON) differs from the raw JSON body: a field the SDK dropped or
// could not represent, a value it changed, or a field it made up. Numbers
// are compared by value, exactly.
func sameJSON(t testing.TB, what string, sdkValue any, raw []byte) {
	t.Helper()
	if diffs := jsonDiff(sdkValue, raw); len(diffs) > 0 {
		t.Errorf("%s: the SDK's decoded value differs from the raw answer:\n  %s\nraw: %s", what, strings.Join(diffs, "\n  "), clip(raw))
	}
}

// jsonDiff returns the differences between sdkValue marshalled to JSON and
// raw, one line each (at most 20).
func jsonDiff(sdkValue any, raw []byte) []string {
	b, err := json.Marshal(sdkValue)
	if err != nil {
		return []string{fmt.Sprintf("the SDK's value does not marshal: %v", err)}
	}
	got, err := decodeJSON(b)
	if err != nil {
		return []string{fmt.Sprintf("the SDK's value marshals to invalid JSON: %v", err)}
	}
	want, err := decodeJSON(raw)
	if err != nil {
		return []string{fmt.Sprintf("the raw answer is not JSON: %v", err)}
	}
	var diffs []string
	walkDiff("$", want, got, &diffs)
	return diffs
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// walkDiff appends to diffs where want (the raw answer) and got (the SDK's)
// differ below path.
func walkDiff(path string, want, got any, diffs *[]string) {
	if len(*diffs) >= 20 {
		return
	}
	add := func(format string, args ...any) { *diffs = append(*diffs, path+": "+fmt.Sprintf(format, args...)) }
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			add("raw has an object, the SDK %s", show(got))
			return
		}
		for _, k := range sortedKeys(w) {
			if _, ok := g[k]; !ok {
				add("the SDK dropped field %q (raw: %s)", k, show(w[k]))
				continue
			}
			walkDiff(path+"."+k, w[k], g[k], diffs)
		}
		for _, k := range sortedKeys(g) {
			if _, ok := w[k]; !ok {
				add("the SDK has field %q the server did not send (%s)", k, show(g[k]))
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			add("raw has an array, the SDK %s", show(got))
			return
		}
		if len(g) != len(w) {
			add("raw has %d elements, the SDK %d", len(w), len(g))
			return
		}
		for i := range w {
			walkDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], diffs)
		}
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			add("raw has the number %s, the SDK %s", w, show(got))
			return
		}
		rw, ok1 := new(big.Rat).SetString(string(w))
		rg, ok2 := new(big.Rat).SetString(string(g))
		if !ok1 || !ok2 || rw.Cmp(rg) != 0 {
			add("raw has the number %s, the SDK %s", w, g)
		}
	case string:
		// An SDK model holds date-times as time.Time, which marshals back
		// in its own RFC 3339 rendering: the same instant is the same value.
		if g, ok := got.(string); ok && sameInstant(w, g) {
			return
		}
		if want != got {
			add("raw has %s, the SDK %s", show(want), show(got))
		}
	default:
		if want != got {
			add("raw has %s, the SDK %s", show(want), show(got))
		}
	}
}

// sameInstant reports whether a and b are RFC 3339 date-times of the same
// instant.
func sameInstant(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func show(v any) string {
	if v == nil {
		return "null"
	}
	b, _ := json.Marshal(v)
	return clip(b)
}

func clip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// The comparison itself must be able to fail: a field an SDK model has no
// place for, a number it rounds, a field it invents.
func TestJSONDiffCatchesWhatTheSDKLoses(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
		into func([]byte) (any, error)
	}{
		{"FieldTheModelLacks", `{"id":"0123456789abcdef01234567","name":"A","isDeleted":false,"region":"EU"}`, decodeOrg},
		{"NullTheModelTurnsIntoZero", `{"name":null}`, decodeOrg},
		{"MissingRequiredField", `{"id":"0123456789abcdef01234567"}`, decodeOrg},
		{"NumberRoundedByFloat64", `{"usageAmount":90071992547409.93}`, decodeAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.into([]byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if diffs := jsonDiff(v, []byte(tc.raw)); len(diffs) == 0 {
				t.Errorf("no difference found between %s and the SDK's %s", tc.raw, show(v))
			}
		})
	}
	t.Run("DifferentInstant", func(t *testing.T) {
		raw := `{"created":"2024-06-01T00:00:00Z"}`
		sdk := struct {
			Created time.Time `json:"created"`
		}{time.Date(2024, 6, 1, 0, 0, 1, 0, time.UTC)}
		if diffs := jsonDiff(sdk, []byte(raw)); len(diffs) == 0 {
			t.Errorf("no difference between %s and %s", raw, show(sdk))
		}
	})
	t.Run("SameInstantOtherRendering", func(t *testing.T) {
		raw := `{"created":"2024-06-01T00:00:00.000Z"}`
		var sdk struct {
			Created time.Time `json:"created"`
		}
		json.Unmarshal([]byte(raw), &sdk)
		if diffs := jsonDiff(sdk, []byte(raw)); len(diffs) > 0 {
			t.Errorf("differences in the same instant: %v", diffs)
		}
	})
	t.Run("Same", func(t *testing.T) {
		raw := `{"id":"0123456789abcdef01234567","name":"A","isDeleted":false,"links":[{"href":"http://x","rel":"self"}]}`
		v, _ := decodeOrg([]byte(raw))
		if diffs := jsonDiff(v, []byte(raw)); len(diffs) > 0 {
			t.Errorf("differences in an identical document: %v", diffs)
		}
	})
}

func decodeOrg(b []byte) (any, error) {
	var o admin001.AtlasOrganization
	return &o, json.Unmarshal(b, &o)
}

// decodeAny decodes as v20250312001's GetCostExplorerQueryProcess does (into
// any, numbers as float64).
func decodeAny(b []byte) (any, error) {
	var v any
	return v, json.Unmarshal(b, &v)
}
