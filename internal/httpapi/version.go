package httpapi

import (
	"iter"
	"mime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
)

// format is the representation of a success body.
type format int

const (
	formatJSON format = iota
	formatCSV
	// formatGzip is a gzip file (a FOCUS report's CSV): the only format of
	// generateOrgInvoiceAndDownloadReport.
	formatGzip
)

// Versions of Atlas operations (DESIGN §1.5). Versions are per operation:
// each entry of the route table lists the versions it exists at, oldest
// first, and a client asking for a later date gets the newest of them not
// after it.
const (
	// v20230101 is the version of both cost-explorer operations and of the
	// organization endpoints, and the one the Atlas Go SDK and CLI send.
	v20230101 = "2023-01-01"
	// v20240805 is the version of the invoice line-item search.
	v20240805 = "2024-08-05"
	// v20250312 is the version of the SKU catalogue and invoice reports.
	v20250312 = "2025-03-12"
	// vPreview is Atlas's preview version (application/vnd.atlas.preview+json):
	// not a date, so a dated Accept never resolves to it and it resolves to
	// nothing else. Listed last in an operation's versions (it sorts after
	// every date).
	vPreview = "preview"
)

// previewSunset is the x-sunset of getOrgAssociatedInvoices's preview
// version, sent as the Sunset header (RFC 8594) of its answers.
const previewSunset = "2026-09-16"

// contentType returns the exact success Content-Type of f at version v.
func contentType(v string, f format) string {
	if f == formatGzip {
		return "application/vnd.atlas." + v + "+gzip"
	}
	if f == formatCSV {
		return "application/vnd.atlas." + v + "+csv;charset=utf-8"
	}
	return "application/vnd.atlas." + v + "+json;charset=utf-8"
}

// negotiation is the outcome of reading an Accept header.
type negotiation struct {
	version string
	format  format
}

// negotiate resolves the Accept header against the versions (oldest first)
// and formats an operation serves (DESIGN §1.5). Only versioned Atlas media types count:
// application/vnd.atlas.YYYY-MM-DD+json or +csv, with any parameters
// (charset, q). Several values may be listed; the one with the highest q wins,
// JSON before CSV when q is equal (the richer default for SDKs that list
// both), then the first listed. A missing header, a bare application/json or
// */*, a malformed date, a date before the first version, or only formats the
// operation lacks: 406 INVALID_VERSION_DATE.
func negotiate(accept []string, versions []string, csvAllowed bool) (negotiation, error) {
	return negotiateFormats(accept, versions, func(f format) bool { return f == formatJSON || (f == formatCSV && csvAllowed) })
}

// negotiateFormats is negotiate for an operation whose formats allowed
// says: one may lack JSON (downloadInvoiceCsv answers CSV only, the
// generated invoice report gzip only: a JSON Accept is 406 there).
func negotiateFormats(accept []string, versions []string, allowed func(format) bool) (negotiation, error) {
	best, bestQ, found := negotiation{}, -1.0, false
	for mt, q := range acceptItems(accept) {
		date, f, ok := parseAtlasMediaType(mt)
		if !ok || !allowed(f) {
			continue
		}
		v, ok := resolveVersion(date, versions)
		if !ok {
			continue
		}
		if q > bestQ || (q == bestQ && f == formatJSON && best.format == formatCSV) {
			best, bestQ, found = negotiation{version: v, format: f}, q, true
		}
	}
	if !found {
		return negotiation{}, errInvalidVersion()
	}
	return best, nil
}

// acceptItems yields each media type (lower case, without parameters) of
// the Accept values with its weight q, skipping malformed items, malformed
// weights and q=0.
func acceptItems(accept []string) iter.Seq2[string, float64] {
	return func(yield func(string, float64) bool) {
		for _, header := range accept {
			for item := range strings.SplitSeq(header, ",") {
				mt, params, err := mime.ParseMediaType(strings.TrimSpace(item))
				if err != nil {
					continue
				}
				q := 1.0
				if s, ok := params["q"]; ok {
					if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
						continue
					}
				}
				if q > 0 && !yield(mt, q) {
					return
				}
			}
		}
	}
}

// parseAtlasMediaType splits "application/vnd.atlas.2023-01-01+json" (lower
// case, as mime.ParseMediaType returns it) into its date and format; the
// date may be "preview", and the format +json, +csv or +gzip.
func parseAtlasMediaType(mt string) (date string, f format, ok bool) {
	rest, ok := strings.CutPrefix(mt, "application/vnd.atlas.")
	if !ok {
		return "", 0, false
	}
	switch {
	case strings.HasSuffix(rest, "+json"):
		date, f = strings.TrimSuffix(rest, "+json"), formatJSON
	case strings.HasSuffix(rest, "+csv"):
		date, f = strings.TrimSuffix(rest, "+csv"), formatCSV
	case strings.HasSuffix(rest, "+gzip"):
		date, f = strings.TrimSuffix(rest, "+gzip"), formatGzip
	default:
		return "", 0, false
	}
	if date == vPreview {
		return date, f, true
	}
	if len(date) != len(time.DateOnly) {
		return "", 0, false
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return "", 0, false
	}
	return date, f, true
}

// resolveVersion returns the newest of versions (oldest first) not after
// date (dates in YYYY-MM-DD form compare as strings). The preview resolves
// to itself when the operation has it; a date never resolves to it.
func resolveVersion(date string, versions []string) (string, bool) {
	if date == vPreview {
		return vPreview, slices.Contains(versions, vPreview)
	}
	for i := len(versions) - 1; i >= 0; i-- {
		// "preview" sorts after every date: it is never <= one.
		if versions[i] <= date {
			return versions[i], true
		}
	}
	return "", false
}

// checkRequestContentType accepts the request media types of a JSON body:
// application/json, or a versioned application/vnd.atlas.YYYY-MM-DD+json that
// resolves to one of the operation's versions, with an optional charset that
// must be UTF-8. Anything else, a missing Content-Type included, is 415,
// whose detail names the version negotiated from Accept.
func checkRequestContentType(ct string, versions []string, negotiated string) error {
	if ct == "" {
		return costexplorer.Errorf(costexplorer.ErrUnsupportedMediaType, "Missing Content-Type: send application/vnd.atlas.%s+json.", negotiated)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return costexplorer.Errorf(costexplorer.ErrUnsupportedMediaType, "Malformed Content-Type %q.", ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return costexplorer.Errorf(costexplorer.ErrUnsupportedMediaType, "Unsupported charset %q: request bodies are UTF-8.", cs)
	}
	if mt == "application/json" {
		return nil
	}
	if date, f, ok := parseAtlasMediaType(mt); ok && f == formatJSON {
		if _, ok := resolveVersion(date, versions); ok {
			return nil
		}
	}
	return costexplorer.Errorf(costexplorer.ErrUnsupportedMediaType, "Unsupported Content-Type %q: send application/vnd.atlas.%s+json.", mt, negotiated)
}
