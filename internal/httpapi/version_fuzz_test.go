package httpapi

import (
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// FuzzNegotiate feeds arbitrary Accept headers to the negotiation: it must
// never panic, must answer 406 INVALID_VERSION_DATE or a served version, and
// must never pick CSV where the operation has none.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{
		"", "*/*", "application/json", "application/vnd.atlas.2023-01-01+json",
		"application/vnd.atlas.2025-03-12+csv;q=0.5, application/vnd.atlas.2023-01-01+json;q=0.4",
		"application/vnd.atlas.2023-13-45+json", "application/vnd.atlas.+json", `application/vnd.atlas.2023-01-01+json; q="1"`,
		"application/vnd.atlas.2023-01-01+json;q=NaN", "application/vnd.atlas.2023-01-01+json;q=-1,,,",
	} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, accept string, csv bool) {
		n, err := negotiate([]string{accept}, csv)
		if err != nil {
			if costexplorer.ErrorCode(err) != costexplorer.ErrInvalidVersionDate {
				t.Fatalf("error %v", err)
			}
			return
		}
		if n.version != apiVersion {
			t.Fatalf("version %q", n.version)
		}
		if n.format == formatCSV && !csv {
			t.Fatalf("CSV chosen for a JSON-only operation from %q", accept)
		}
		if !strings.Contains(strings.ToLower(accept), "application/vnd.atlas.") {
			t.Fatalf("%q resolved without a versioned media type", accept)
		}
	})
}

// FuzzRequestContentType checks that the request media type check never
// panics and accepts only JSON types.
func FuzzRequestContentType(f *testing.F) {
	for _, s := range []string{"", "application/json", "application/json; charset=utf-8", "application/vnd.atlas.2023-01-01+json", "text/plain", "application/vnd.atlas.2023-01-01+csv"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		err := checkRequestContentType(ct)
		if err == nil && !strings.Contains(strings.ToLower(ct), "json") {
			t.Fatalf("accepted %q", ct)
		}
		if err != nil && costexplorer.ErrorCode(err) != costexplorer.ErrUnsupportedMediaType {
			t.Fatalf("error %v", err)
		}
	})
}
