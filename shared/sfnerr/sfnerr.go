// Package sfnerr defines the few error types that Lambda handlers return.
// aws-lambda-go reports the Go type name of a returned error as the
// errorType that Step Functions Retry and Catch match, so these type names
// are part of the state machine's contract (statemachine/*.asl.json names
// them in ErrorEquals, and a test keeps the two in step).
package sfnerr

import "errors"

// RetryableError is a transient failure (throttling, network, a staging
// object not yet visible). Step Functions retries it with backoff.
type RetryableError struct{ Err error }

func (e *RetryableError) Error() string { return e.Err.Error() }
func (e *RetryableError) Unwrap() error { return e.Err }

// InvalidInputError is a failure that retrying cannot fix: a malformed or
// corrupt object, a bad execution input, a configuration error. The
// execution fails with its message as the cause.
type InvalidInputError struct{ Err error }

func (e *InvalidInputError) Error() string { return e.Err.Error() }
func (e *InvalidInputError) Unwrap() error { return e.Err }

// Names lists the errorType names the handlers can return, for tests that
// check the state machine's ErrorEquals.
var Names = []string{"RetryableError", "InvalidInputError", "ExporterBusyError"}

// ExporterBusyError is a send that must wait for another execution's
// sends to the same exporter (reserved earlier) to finish, so that the
// collector sees the exporter's numbers in order. Step Functions retries
// it for longer than RetryableError.
type ExporterBusyError struct{ Err error }

func (e *ExporterBusyError) Error() string { return e.Err.Error() }
func (e *ExporterBusyError) Unwrap() error { return e.Err }

// Retryable wraps err as a RetryableError (nil stays nil).
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &RetryableError{Err: err}
}

// Invalid wraps err as an InvalidInputError (nil stays nil).
func Invalid(err error) error {
	if err == nil {
		return nil
	}
	return &InvalidInputError{Err: err}
}

// IsRetryable reports whether err is or wraps a RetryableError.
func IsRetryable(err error) bool {
	var r *RetryableError
	return errors.As(err, &r)
}
