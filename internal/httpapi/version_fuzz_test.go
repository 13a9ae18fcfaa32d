package httpapi

import (
	"slices"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// fuzzVersions are the versions of the fuzzed operation: two, so that the
// resolution down to the newest version not after the asked date is fuzzed
// too.
var fuzzVersions = []string{v20230101, v20240805}

// FuzzNegotiate feeds arbitrary Accept headers to the negotiation: it must
// never panic, must answer 406 INVALID_VERSION_DATE or one of the
// operation's versions, and must never pick CSV where the operation has none.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{
		"", "*/*", "application/json", "application/vnd.atlas.2023-01-01+json",
		"application/vnd.atlas.2025-03-12+csv;q=0.5, application/vnd.atlas.2023-01-01+json;q=0.4",
		"application/vnd.atlas.2023-13-45+json", "application/vnd.atlas.+json", `application/vnd.atlas.2023-01-01+json; q="1"`,
		"application/vnd.atlas.2023-01-01+json;q=NaN", "application/vnd.atlas.2023-01-01+json;q=-1,,,",
		"application/vnd.atlas.preview+json", "application/vnd.atlas.2023-01-01+gzip",
	} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, accept string, csv bool) {
		n, err := negotiate([]string{accept}, fuzzVersions, csv)
		if err != nil {
			if costexplorer.ErrorCode(err) != costexplorer.ErrInvalidVersionDate {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !slices.Contains(fuzzVersions, n.version) {
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
		err := checkRequestContentType(ct, fuzzVersions, v20230101)
		if err == nil && !strings.Contains(strings.ToLower(ct), "json") {
			t.Fatalf("accepted %q", ct)
		}
		if err != nil && costexplorer.ErrorCode(err) != costexplorer.ErrUnsupportedMediaType {
			t.Fatalf("error %v", err)
		}
	})
}

// TestNegotiatePerOperationVersions checks that the version is resolved
// against the operation's own list: a date resolves down to the newest
// version of that operation not after it, and a date before its first
// version is 406.
func TestNegotiatePerOperationVersions(t *testing.T) {
	later := []string{v20240805, v20250312}
	for _, tc := range []struct {
		name     string
		versions []string
		date     string
		want     string // "" for 406
	}{
		{"OK", []string{v20230101}, "2023-01-01", v20230101},
		{"OKLaterDateResolvesDown", []string{v20230101}, "2025-03-12", v20230101},
		{"OKNewestNotAfter", later, "2025-01-01", v20240805},
		{"OKExact", later, "2025-03-12", v20250312},
		{"ErrBeforeFirstVersion", later, "2023-01-01", ""},
		{"OKPreview", []string{v20250312, vPreview}, "preview", vPreview},
		{"OKDateNeverResolvesToPreview", []string{v20250312, vPreview}, "2099-01-01", v20250312},
		{"ErrPreviewOnlyDated", []string{vPreview}, "2099-01-01", ""},
		{"ErrPreviewOfDatedOnly", []string{v20250312}, "preview", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := negotiate([]string{"application/vnd.atlas." + tc.date + "+json"}, tc.versions, false)
			if tc.want == "" {
				if costexplorer.ErrorCode(err) != costexplorer.ErrInvalidVersionDate {
					t.Fatalf("got %+v, %v; want 406", n, err)
				}
				return
			}
			if err != nil || n.version != tc.want {
				t.Fatalf("got %+v, %v; want %s", n, err, tc.want)
			}
		})
	}
}
