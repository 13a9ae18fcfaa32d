package costexplorer

import (
	"errors"
	"fmt"
)

// Error codes. Each is the Atlas errorCode a client sees; the HTTP layer owns
// the single table from code to HTTP status. Codes that never reach a client
// as such (ErrConflict, ErrInternal) are mapped there too.
const (
	ErrMalformedJSON         = "MALFORMED_JSON"
	ErrInvalidJSONAttribute  = "INVALID_JSON_ATTRIBUTE"
	ErrInvalidAttribute      = "INVALID_ATTRIBUTE"
	ErrMissingAttribute      = "MISSING_ATTRIBUTE"
	ErrInvalidEnumValue      = "INVALID_ENUM_VALUE"
	ErrInvalidDateFormat     = "INVALID_DATE_FORMAT"
	ErrStartDateAfterEndDate = "START_DATE_AFTER_END_DATE"
	ErrInvalidDateRange      = "INVALID_DATE_RANGE"
	ErrValidation            = "VALIDATION_ERROR"
	ErrInvalidPathParameter  = "INVALID_PATH_PARAMETER"
	ErrInvalidQueryParameter = "INVALID_QUERY_PARAMETER"
	ErrUnauthorized          = "USER_UNAUTHORIZED"
	ErrIPNotOnAccessList     = "IP_ADDRESS_NOT_ON_ACCESS_LIST"
	ErrOrgRequiresAccessList = "ORG_REQUIRES_ACCESS_LIST"
	ErrInvalidSignature      = "INVALID_SIGNATURE" // a signed URL that does not match its signature (403)
	ErrNotFound              = "RESOURCE_NOT_FOUND"
	ErrInvalidVersionDate    = "INVALID_VERSION_DATE"
	ErrBodyTooLarge          = "REQUEST_ENTITY_TOO_LARGE"
	ErrUnsupportedMediaType  = "UNSUPPORTED_MEDIA_TYPE"
	ErrMethodNotAllowed      = "METHOD_NOT_ALLOWED"
	ErrRateLimited           = "RATE_LIMITED"
	ErrUnavailable           = "SERVICE_UNAVAILABLE"
	ErrConflict              = "CONFLICT"
	ErrInternal              = "UNEXPECTED_ERROR"
)

// FieldViolation names one bad element of a request, as in the Atlas
// BadRequestDetail.fields list.
type FieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// Error is the one error type of the domain. Code is an Atlas errorCode (see
// the Err* constants); Detail is the human-readable sentence a client sees;
// Params and Fields carry the structured parts of an Atlas error body. Err, if
// set, is the underlying cause: it is logged, never shown to a client.
type Error struct {
	Code   string
	Detail string
	Params []any
	Fields []FieldViolation
	Err    error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Detail)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted detail.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// FieldError returns an *Error about one request field: the field is named in
// the detail, the parameters and the field violations, as Atlas does.
func FieldError(code, field, description string) *Error {
	return &Error{
		Code:   code,
		Detail: description,
		Params: []any{field},
		Fields: []FieldViolation{{Field: field, Description: description}},
	}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// ErrInternal otherwise. A nil error has no code.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ErrInternal
}

// ErrorDetail returns the client-visible detail of err: the detail of an
// *Error, or a generic sentence for anything else (internal details are only
// ever logged).
func ErrorDetail(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != ErrInternal {
		return e.Detail
	}
	return "Unexpected error."
}

// IsNotFound reports whether err carries ErrNotFound.
func IsNotFound(err error) bool { return ErrorCode(err) == ErrNotFound }
