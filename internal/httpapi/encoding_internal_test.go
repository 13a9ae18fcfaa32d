package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestNegotiateEncoding(t *testing.T) {
	for _, tc := range []struct {
		header               []string
		wantGzip, identityOK bool
	}{
		{nil, false, true},
		{[]string{""}, false, true},
		{[]string{"gzip"}, true, true},                    // Go's net/http client, and so the Atlas SDK and CLI
		{[]string{"deflate, gzip, br, zstd"}, true, true}, // curl --compressed
		{[]string{"gzip, deflate, br"}, true, true},       // browsers
		{[]string{"GZip"}, true, true},
		{[]string{"x-gzip"}, true, true},
		{[]string{"br", "gzip"}, true, true}, // several header lines
		{[]string{"br, deflate"}, false, true},
		{[]string{"identity"}, false, true},
		{[]string{"gzip;q=0"}, false, true},
		{[]string{"gzip; q=0.000"}, false, true},
		{[]string{"gzip;q=0.5"}, true, true}, // an unlisted identity weighs the least
		{[]string{"gzip;q=0.5, identity"}, false, true},
		{[]string{"gzip;q=0.5, identity;q=0.5"}, true, true},
		{[]string{"gzip, identity;q=0"}, true, false},
		{[]string{"*"}, true, true},
		{[]string{"*;q=0"}, false, false},
		{[]string{"*;q=0, identity"}, false, true},
		{[]string{"*;q=0, gzip"}, true, false},
		{[]string{"gzip;q=0, *"}, false, true},
		{[]string{"gzip;q=2"}, false, true},    // out of range: ignored
		{[]string{"gzip;q=abc"}, false, true},  // malformed: ignored
		{[]string{"gzip;level=1"}, true, true}, // other parameters do not matter
		{[]string{" , gzip ,"}, true, true},
	} {
		gz, id := negotiateEncoding(tc.header)
		if gz != tc.wantGzip || id != tc.identityOK {
			t.Errorf("Accept-Encoding %q: gzip %v, identity acceptable %v; want %v, %v", tc.header, gz, id, tc.wantGzip, tc.identityOK)
		}
	}
}

// The kept forms of a result are byte for byte what the generic writer of
// an entity (which answered before forms were kept) writes for it.
func TestResultFormsAreTheGenericWritersBytes(t *testing.T) {
	results := []string{
		`{"usageDetails":[]}`,
		`{"usageDetails":[{"usageDate":"2025-05-01","organizationId":"0123456789abcdef01234567","organizationName":"R&D <ops>","service":"Clusters","usageAmount":12.5}]}`,
	}
	for _, raw := range results {
		for _, tc := range []struct {
			name             string
			envelope, pretty bool
		}{{"json+envelope", true, false}, {"json+pretty", false, true}, {"json+envelope+pretty", true, true}} {
			c := &call{neg: negotiation{version: v20230101, format: formatJSON}, commonParams: commonParams{envelope: tc.envelope, pretty: tc.pretty}}
			rec := httptest.NewRecorder()
			entity{http.StatusOK, json.RawMessage(raw)}.write(rec, c)
			got, err := buildForm(tc.name, []byte(raw))
			if err != nil || !bytes.Equal(got, rec.Body.Bytes()) {
				t.Errorf("%s of %s:\n got %q, %v\nwant %q", tc.name, raw, got, err, rec.Body.Bytes())
			}
		}
	}
	// The envelope is served as pieces around the result.
	for _, raw := range results {
		want, _ := buildForm("json+envelope", []byte(raw))
		if got := bytes.Join([][]byte{envelopeOK, []byte(raw), envelopeEnd}, nil); !bytes.Equal(got, want) {
			t.Errorf("envelope pieces %q, want %q", got, want)
		}
	}
	if _, err := buildForm("xml", []byte(results[0])); err == nil {
		t.Error("an unknown form was built")
	}
}
