// Package handler holds the four Lambda handlers — splitter (Plan), parser
// (Parse), allocator (Reserve) and sender (Send) — as plain Go types over
// the contract types, so that tests call them directly and the mains under
// functions/ only wire clients and call lambda.Start.
//
// Every handler returns either nil or one of the sfnerr types, whose Go
// type names are the errorType values the state machine's Retry and Catch
// match: RetryableError for what a retry can fix, InvalidInputError for
// what it cannot.
package handler

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/gzindex"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/inflate"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/parquetlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/sfnerr"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

// errInvalid marks causes that retrying cannot fix.
var errInvalid = errors.New("invalid input")

// classify converts err into the error type the state machine matches.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var inv *sfnerr.InvalidInputError
	var ret *sfnerr.RetryableError
	var busy *sfnerr.ExporterBusyError
	if errors.As(err, &inv) || errors.As(err, &ret) || errors.As(err, &busy) {
		return err
	}
	switch {
	case errors.Is(err, errInvalid),
		errors.Is(err, seq.ErrInvalid),
		errors.Is(err, contract.ErrAccounting),
		errors.Is(err, staging.ErrCorrupt),
		errors.Is(err, flowlog.ErrNotConvertible),
		errors.Is(err, flowlog.ErrFormat),
		isCorrupt(err),
		awsio.IsPreconditionFailed(err),
		awsio.IsNotFound(err):
		return sfnerr.Invalid(err)
	}
	// Everything else (throttling, network, context cancellation) may pass.
	return sfnerr.Retryable(err)
}

// isCorrupt reports whether err says the object's bytes are damaged (a bad
// gzip stream or index, a damaged Parquet file), as opposed to a failure to read them.
func isCorrupt(err error) bool {
	if errors.Is(err, inflate.ErrCorrupt) || errors.Is(err, inflate.ErrHeader) || errors.Is(err, inflate.ErrChecksum) ||
		errors.Is(err, gzindex.ErrFormat) || errors.Is(err, chunk.ErrIndex) ||
		errors.Is(err, chunk.ErrRange) || errors.Is(err, parquetlog.ErrCorrupt) {
		return true
	}
	// A truncated gzip member inside the object (not a short read: the
	// source reports those with its own error).
	var ie *inflate.Error
	return errors.As(err, &ie) && errors.Is(ie.Err, io.ErrUnexpectedEOF)
}

// failed classifies err and names the step and the object in its message,
// which becomes the execution's cause: the Task fails with it (the state
// machine has no Catch), so that a redrive runs the failed Task again
// (Step Functions "Restarting state machine executions with redrive": a
// Task is scheduled again, a Fail state "Reenters the Fail state and
// fails again",
// https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html).
func failed(step, object string, err error) error {
	if err == nil {
		return nil
	}
	err = classify(err)
	prefix := step + " failed for " + object + ": "
	if strings.Contains(err.Error(), object) {
		prefix = step + " failed: "
	}
	var inv *sfnerr.InvalidInputError
	if errors.As(err, &inv) {
		return &sfnerr.InvalidInputError{Err: fmt.Errorf("%s%w", prefix, err)}
	}
	var busy *sfnerr.ExporterBusyError
	if errors.As(err, &busy) {
		return &sfnerr.ExporterBusyError{Err: fmt.Errorf("%s%w", prefix, err)}
	}
	return &sfnerr.RetryableError{Err: fmt.Errorf("%s%w", prefix, err)}
}
