package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// FieldViolation names one bad element of a request (Atlas
// badRequestDetail.fields).
type FieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// APIError is an error answer of the server. For Atlas API errors it carries
// the ApiError body; for OAuth token errors ErrorCode is the OAuth error
// ("invalid_client", …) and Detail its description.
type APIError struct {
	// StatusCode is the HTTP status of the answer (or, for an envelope
	// answer, the status inside it).
	StatusCode int
	// ErrorCode is the Atlas errorCode, e.g. "VALIDATION_ERROR".
	ErrorCode string
	// Detail is the human-readable sentence of the server.
	Detail string
	// Reason is the HTTP reason phrase, e.g. "Bad Request".
	Reason string
	// Parameters are the values the detail is about.
	Parameters []any
	// Fields name the offending request fields of a 400.
	Fields []FieldViolation
	// RetryAfter is the server's Retry-After, when it sent one (429).
	RetryAfter time.Duration
	// Body is the error body as received (at most 64 KiB).
	Body []byte
}

// Error implements the error interface: "400 VALIDATION_ERROR: detail".
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if e.ErrorCode != "" {
		b.WriteString(" " + e.ErrorCode)
	} else if e.Reason != "" {
		b.WriteString(" " + e.Reason)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// atlasError is the wire form of an Atlas ApiError; OAuth errors share the
// "error" key with a string value, so it is read raw.
type atlasError struct {
	Error            json.RawMessage `json:"error"`
	ErrorCode        string          `json:"errorCode"`
	Detail           string          `json:"detail"`
	Reason           string          `json:"reason"`
	Parameters       []any           `json:"parameters"`
	BadRequestDetail *struct {
		Fields []FieldViolation `json:"fields"`
	} `json:"badRequestDetail"`
	ErrorDescription string `json:"error_description"`
}

// ParseAPIError reads an error answer (an Atlas ApiError or an OAuth error
// body) into an *APIError. It reads the body but does not close it. Use it
// on answers of [Client.Do] whose status is not 2xx.
func ParseAPIError(resp *http.Response) *APIError { return newAPIError(resp) }

// newAPIError reads an error answer (and leaves the body for the caller to
// close).
func newAPIError(resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := parseAPIError(resp.StatusCode, body)
	e.RetryAfter = retryAfter(resp.Header, time.Now())
	return e
}

// parseAPIError builds an APIError from a status and an error body of either
// form; a body that is neither keeps the status and reason only.
func parseAPIError(status int, body []byte) *APIError {
	e := &APIError{StatusCode: status, Reason: http.StatusText(status), Body: body}
	var a atlasError
	if json.Unmarshal(bytes.TrimSpace(body), &a) != nil {
		if s := strings.TrimSpace(string(body)); s != "" && len(s) < 200 && !strings.ContainsAny(s, "\n<") {
			e.Detail = s
		}
		return e
	}
	var oauthCode string
	if json.Unmarshal(a.Error, &oauthCode) == nil && oauthCode != "" {
		e.ErrorCode, e.Detail = oauthCode, a.ErrorDescription
		return e
	}
	e.ErrorCode, e.Detail, e.Parameters = a.ErrorCode, a.Detail, a.Parameters
	if a.Reason != "" {
		e.Reason = a.Reason
	}
	if a.BadRequestDetail != nil {
		e.Fields = a.BadRequestDetail.Fields
	}
	return e
}
