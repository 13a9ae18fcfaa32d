package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/costexplorer/costexplorer"
)

// statusOf is the one table from an Atlas errorCode to its HTTP status. A
// code missing here is a programming error and answers 500 UNEXPECTED_ERROR
// (logged), never something a client could mistake for its own fault.
var statusOf = map[string]int{
	costexplorer.ErrMalformedJSON:         http.StatusBadRequest,
	costexplorer.ErrInvalidJSONAttribute:  http.StatusBadRequest,
	costexplorer.ErrInvalidAttribute:      http.StatusBadRequest,
	costexplorer.ErrMissingAttribute:      http.StatusBadRequest,
	costexplorer.ErrInvalidEnumValue:      http.StatusBadRequest,
	costexplorer.ErrInvalidDateFormat:     http.StatusBadRequest,
	costexplorer.ErrStartDateAfterEndDate: http.StatusBadRequest,
	costexplorer.ErrInvalidDateRange:      http.StatusBadRequest,
	costexplorer.ErrValidation:            http.StatusBadRequest,
	costexplorer.ErrInvalidPathParameter:  http.StatusBadRequest,
	costexplorer.ErrInvalidQueryParameter: http.StatusBadRequest,
	costexplorer.ErrUnauthorized:          http.StatusUnauthorized,
	costexplorer.ErrIPNotOnAccessList:     http.StatusForbidden,
	costexplorer.ErrOrgRequiresAccessList: http.StatusForbidden,
	costexplorer.ErrInvalidSignature:      http.StatusForbidden,
	costexplorer.ErrNotFound:              http.StatusNotFound,
	costexplorer.ErrMethodNotAllowed:      http.StatusMethodNotAllowed,
	costexplorer.ErrInvalidVersionDate:    http.StatusNotAcceptable,
	costexplorer.ErrBodyTooLarge:          http.StatusRequestEntityTooLarge,
	costexplorer.ErrUnsupportedMediaType:  http.StatusUnsupportedMediaType,
	costexplorer.ErrRateLimited:           http.StatusTooManyRequests,
	costexplorer.ErrUnavailable:           http.StatusServiceUnavailable,
	costexplorer.ErrInternal:              http.StatusInternalServerError,
}

// StatusOf returns the HTTP status of an Atlas errorCode: the status a client
// receives when a handler fails with that code. Unknown codes (and
// costexplorer.ErrConflict, which only a race inside the server can produce)
// are 500.
func StatusOf(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// apiError is the Atlas ApiError body.
type apiError struct {
	Detail           string            `json:"detail"`
	Error            int               `json:"error"`
	ErrorCode        string            `json:"errorCode"`
	Parameters       []any             `json:"parameters"`
	Reason           string            `json:"reason"`
	BadRequestDetail *badRequestDetail `json:"badRequestDetail,omitempty"`
}

type badRequestDetail struct {
	Fields []costexplorer.FieldViolation `json:"fields"`
}

// WriteError writes the Atlas error body for err: the status from the one
// code table, errorCode, the HTTP reason phrase, the client-visible detail,
// the parameters and, for field errors, badRequestDetail. Anything that is not
// a *costexplorer.Error with a known code is answered 500 UNEXPECTED_ERROR
// with a generic detail; the cause is logged, never shown. Error bodies are
// always application/json, whatever the Accept header asked for, and ignore
// ?envelope=true so that a Digest client still sees its 401 challenge.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	code := costexplorer.ErrorCode(err)
	status, known := statusOf[code]
	var e *costexplorer.Error
	errors.As(err, &e)
	body := apiError{Parameters: []any{}}
	if !known || status == http.StatusInternalServerError || e == nil {
		status, code = http.StatusInternalServerError, costexplorer.ErrInternal
		body.Detail = "Unexpected error."
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			// The client went away; nobody reads this answer.
			loggerFrom(r.Context()).DebugContext(r.Context(), "request canceled", "method", r.Method, "route", routeOf(r))
		} else {
			loggerFrom(r.Context()).ErrorContext(r.Context(), "unexpected error", "method", r.Method, "route", routeOf(r), "err", err)
		}
	} else {
		body.Detail = e.Detail
		if e.Params != nil {
			body.Parameters = e.Params
		}
		if len(e.Fields) > 0 {
			body.BadRequestDetail = &badRequestDetail{Fields: e.Fields}
		}
		if e.Err != nil {
			loggerFrom(r.Context()).DebugContext(r.Context(), "request refused", "method", r.Method, "route", routeOf(r), "code", code, "err", e.Err)
		}
	}
	body.Error = status
	body.ErrorCode = code
	body.Reason = http.StatusText(status)

	h := w.Header()
	// A success answer may have been prepared (rate-limit headers stay, a
	// success content type must not).
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	writeBody(w, status, body, prettyRequested(r))
}

// loggerKey carries the server's logger in a request context, so that the
// package-level WriteError (also used by internal/auth) logs where the server
// logs. Its lines are logged with the request's context, so they carry the
// request id (LogHandler).
type loggerKey struct{}

func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// Error constructors for the HTTP layer's own refusals.

func errNotFound(detail string) error {
	return costexplorer.Errorf(costexplorer.ErrNotFound, "%s", detail)
}

func errPathParameter(name, value, why string) error {
	return &costexplorer.Error{
		Code:   costexplorer.ErrInvalidPathParameter,
		Detail: "Invalid path parameter " + name + ": " + why,
		Params: []any{name, value},
	}
}

func errQueryParameter(name, value, why string) error {
	return &costexplorer.Error{
		Code:   costexplorer.ErrInvalidQueryParameter,
		Detail: "Invalid query parameter " + name + ": " + why,
		Params: []any{name, value},
	}
}

// detailInvalidVersion is the exact Atlas detail of INVALID_VERSION_DATE.
const detailInvalidVersion = "Invalid accept header or version date."

func errInvalidVersion() error {
	return costexplorer.Errorf(costexplorer.ErrInvalidVersionDate, detailInvalidVersion)
}
