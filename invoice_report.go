package costexplorer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ReportState is the state of an invoice report, in the words of the
// invoice reports API (and so of the store).
type ReportState string

// Invoice report states: pending until a worker claims it (running, under a
// lease), then succeeded with its file stored, or failed.
const (
	ReportPending   ReportState = "PENDING"
	ReportRunning   ReportState = "RUNNING"
	ReportSucceeded ReportState = "SUCCEEDED"
	ReportFailed    ReportState = "FAILED"
)

// The report types, formats and format specification versions the invoice
// reports API accepts. A FOCUS CSV report is a gzip-compressed CSV of the
// FOCUS Cost and Usage dataset (internal/focus); LatestReportSpecVersion is
// what Atlas publishes and the default.
const (
	ReportTypeFOCUS         = "FOCUS"
	ReportFormatCSV         = "CSV"
	LatestReportSpecVersion = "1.3"
)

// ReportSpecVersions are the formatSpecVersion values a FOCUS report may
// ask for (internal/focus writes both column sets).
var ReportSpecVersions = []string{"1.3", "1.2"}

// InvoiceReport is a report of one invoice being (or having been) made. It
// is a database row, like a query process: any replica claims it under a
// lease and stores its file, so a report accepted before a crash is still
// made. OrgID is the organization it was requested through (the {orgId} of
// the path: a paying organization may report on a linked organization's
// invoice); reports are listed and read through it alone.
//
// The file is stored with the report, in chunks, when it succeeds: what a
// download serves never changes afterwards, even if the invoice does.
// ExpiresAt is when the report stops being listed and its download URL stops
// working (set at creation for an unfinished report, moved on success).
type InvoiceReport struct {
	ID, OrgID, InvoiceID string
	Type, Format         string
	SpecVersion          string
	State                ReportState
	LeaseOwner           string
	LeaseExpires         time.Time
	Attempts             int
	FailureReason        string
	Size                 int64 // bytes of the file, once succeeded
	CreatedAt            time.Time
	CompletedAt          time.Time
	ExpiresAt            time.Time
}

// InvoiceReportResponse is a report as the invoice reports API shows it
// (InvoiceReportResponse): the server writes it, the client reads it.
// DownloadURL and ExpiresAt are set only on a single succeeded report,
// FailureReason only on a failed one.
type InvoiceReportResponse struct {
	DownloadURL       string    `json:"downloadUrl,omitempty"`
	ExpiresAt         time.Time `json:"expiresAt,omitzero"`
	FailureReason     string    `json:"failureReason,omitempty"`
	FormatSpecVersion string    `json:"formatSpecVersion,omitempty"`
	InvoiceID         string    `json:"invoiceId"`
	ReportFormat      string    `json:"reportFormat"`
	ReportID          string    `json:"reportId"`
	ReportType        string    `json:"reportType"`
	State             string    `json:"state"`
}

// Done reports whether the report has ended (succeeded or failed).
func (r *InvoiceReportResponse) Done() bool {
	return r.State == string(ReportSucceeded) || r.State == string(ReportFailed)
}

// Response returns r as the API shows it, without a download URL.
func (r *InvoiceReport) Response() InvoiceReportResponse {
	v := InvoiceReportResponse{
		FormatSpecVersion: r.SpecVersion, InvoiceID: r.InvoiceID, ReportFormat: r.Format,
		ReportID: r.ID, ReportType: r.Type, State: string(r.State),
	}
	if r.State == ReportFailed {
		v.FailureReason = r.FailureReason
	}
	return v
}

// InvoiceReportRequest is the body of createOrgInvoiceReport, validated.
type InvoiceReportRequest struct {
	Type, Format, SpecVersion string
}

var invoiceReportFields = []string{"formatSpecVersion", "reportFormat", "reportType"}

// ParseInvoiceReportRequest reads an InvoiceReportRequest body: reportType
// FOCUS and reportFormat CSV are required, formatSpecVersion is optional
// (LatestReportSpecVersion) and one of ReportSpecVersions. Unknown members,
// other values and wrong JSON types are 400s naming the field.
func ParseInvoiceReportRequest(body []byte) (*InvoiceReportRequest, error) {
	return parseReportRequest(body, invoiceReportFields, "formatSpecVersion", true)
}

// parseReportRequest reads the body of a report request whose members are
// fields: reportType and reportFormat (required, or FOCUS and CSV when
// absent) and the specification version, named specField.
func parseReportRequest(body []byte, fields []string, specField string, required bool) (*InvoiceReportRequest, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &Error{Code: ErrMalformedJSON, Detail: "Received JSON is malformed: the body is empty."}
	}
	raw, err := decodeStrictObject(body, "", fields)
	if err != nil {
		return nil, err
	}
	req := &InvoiceReportRequest{Type: ReportTypeFOCUS, Format: ReportFormatCSV, SpecVersion: LatestReportSpecVersion}
	for _, f := range []struct {
		name  string
		dst   *string
		value string
	}{{"reportType", &req.Type, ReportTypeFOCUS}, {"reportFormat", &req.Format, ReportFormatCSV}} {
		v, ok := raw[f.name]
		if !ok || isNull(v) {
			if !required {
				continue
			}
			return nil, FieldError(ErrMissingAttribute, f.name, fmt.Sprintf("The required attribute %s was not specified.", f.name))
		}
		if *f.dst, err = enumField(v, f.name, []string{f.value}); err != nil {
			return nil, err
		}
	}
	// The specification types the version as a free string: a version we
	// do not make is a validation error, not an enum one.
	if v, ok := raw[specField]; ok && !isNull(v) {
		if json.Unmarshal(v, &req.SpecVersion) != nil {
			return nil, FieldError(ErrInvalidJSONAttribute, specField, "Invalid JSON attribute "+specField+": expected a string.")
		}
		if !slices.Contains(ReportSpecVersions, req.SpecVersion) {
			return nil, FieldError(ErrValidation, specField, fmt.Sprintf("Unsupported format specification version %q for a FOCUS report: use %s.",
				req.SpecVersion, strings.Join(ReportSpecVersions, " or ")))
		}
	}
	return req, nil
}

// NewReportID returns a new 24-hex report id shaped like an Atlas ObjectId:
// four bytes of the creation time in seconds, then eight random bytes, so
// that ids of reports made in different seconds sort by creation.
func NewReportID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(now.Unix()))
	_, _ = rand.Read(b[4:])
	return hex.EncodeToString(b[:])
}

// InvoiceReportStore keeps invoice reports and their files. Reads take the
// organization the report was requested through and the invoice, and answer
// ErrNotFound for any other organization's or invoice's report exactly as
// for a missing or expired one.
type InvoiceReportStore interface {
	// CreateInvoiceReport stores r (pending, not yet claimed); ErrConflict if
	// its id exists.
	CreateInvoiceReport(ctx context.Context, r *InvoiceReport) error

	// InvoiceReport returns the report id of invoiceID requested through
	// orgID, unless it expired before now; ErrNotFound otherwise.
	InvoiceReport(ctx context.Context, orgID, invoiceID, id string, now time.Time) (*InvoiceReport, error)

	// InvoiceReports returns the page of invoiceID's reports requested
	// through orgID that have not expired at now, newest first (creation
	// time, then id, descending), and how many there are before paging.
	InvoiceReports(ctx context.Context, orgID, invoiceID string, now time.Time, page PageRequest) ([]*InvoiceReport, int, error)

	// ClaimInvoiceReport takes the oldest unexpired pending report, or a
	// running one whose lease has lapsed, for owner until now+lease,
	// incrementing its attempts. Exactly one caller, across all replicas,
	// gets each claim. ErrNotFound when there is nothing to claim.
	ClaimInvoiceReport(ctx context.Context, owner string, now time.Time, lease time.Duration) (*InvoiceReport, error)

	// WriteInvoiceReportChunk stores chunk seq (from 0) of the file that
	// attempt of the report makes. Chunks of different attempts never mix:
	// an owner whose lease was taken over writes chunks nobody will read.
	WriteInvoiceReportChunk(ctx context.Context, id string, attempt, seq int, data []byte) error

	// FinishInvoiceReport marks the report owner holds succeeded with the
	// file of attempt (size bytes), expiring at expires, and drops the
	// chunks of every other attempt. Under the rule of
	// [ProcessStore.FinishProcess]: ErrConflict once another owner claimed
	// it or it is no longer running.
	FinishInvoiceReport(ctx context.Context, id, owner string, attempt int, size int64, now, expires time.Time) error

	// FailInvoiceReport marks the report owner holds failed with reason
	// (shown to the client), under the same rule.
	FailInvoiceReport(ctx context.Context, id, owner, reason string, now time.Time) error

	// ReleaseInvoiceReportLeases returns the running reports of owner to
	// pending (on graceful shutdown).
	ReleaseInvoiceReportLeases(ctx context.Context, owner string) error

	// InvoiceReportFile calls fn with each chunk of the file of the
	// succeeded report id, in order, one chunk in memory at a time.
	// ErrNotFound when the report is missing, not succeeded, or expired at
	// now.
	InvoiceReportFile(ctx context.Context, id string, now time.Time, fn func([]byte) error) error

	// DeleteExpiredInvoiceReports removes the reports (and files) that
	// expired before now and returns how many it removed.
	DeleteExpiredInvoiceReports(ctx context.Context, now time.Time) (int64, error)
}
