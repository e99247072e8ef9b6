package flowlog

import (
	"errors"
	"strconv"
)

// Errors wrapped by LineError and by the functions of this package.
var (
	// ErrNoFormat is returned (not counted) by Parser.ParseLine for a data
	// line when the object has no header line and no format is configured.
	ErrNoFormat = errors.New("no header line and no configured format")

	ErrFieldCount     = errors.New("wrong number of fields")
	ErrInvalidAddr    = errors.New("invalid IP address")
	ErrMissingAddr    = errors.New("missing address")
	ErrFamilyMismatch = errors.New("source and destination are of different IP versions")
	ErrInvalidNumber  = errors.New("invalid number")
	ErrOutOfRange     = errors.New("value out of range")
	ErrInvalidValue   = errors.New("invalid value")
	ErrHeaderMismatch = errors.New("header line differs from the object's format")
	ErrFirehose       = errors.New("invalid firehose record")
	ErrLineTooLong    = errors.New("line too long")
)

// LineError describes a malformed line. Callers add the object name:
// fmt.Errorf("s3://%s/%s: %w", bucket, key, err).
type LineError struct {
	Line  int64  // 1-based line number (Firehose: record index)
	Field int    // 1-based column of the offending value; 0 for the whole line
	Name  string // field name of that column
	Value string // the offending value, shortened to maxErrValue bytes
	Err   error  // the cause, wrapping one of the Err* sentinels
}

// maxErrValue bounds LineError.Value.
const maxErrValue = 64

// Error returns e.g. `line 17: field 5 (dstaddr) "10.0.0.x": invalid IP address`.
func (e *LineError) Error() string {
	b := make([]byte, 0, 96)
	b = append(b, "line "...)
	b = strconv.AppendInt(b, e.Line, 10)
	b = append(b, ": "...)
	if e.Field > 0 {
		b = append(b, "field "...)
		b = strconv.AppendInt(b, int64(e.Field), 10)
		b = append(b, " ("...)
		b = append(b, e.Name...)
		b = append(b, ") "...)
		b = strconv.AppendQuote(b, e.Value)
		b = append(b, ": "...)
	}
	b = append(b, e.Err.Error()...)
	return string(b)
}

// Unwrap returns the cause.
func (e *LineError) Unwrap() error { return e.Err }

// shorten copies v for an error message, cut to maxErrValue bytes.
func shorten(v []byte) string {
	if len(v) > maxErrValue {
		return string(v[:maxErrValue]) + "..."
	}
	return string(v)
}
