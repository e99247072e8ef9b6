// Package seq reserves flow-sequence numbers. Each exporter identity owns
// one monotonic 64-bit counter; a reservation takes n consecutive values
// from it atomically, at most once per (exporter, claim): repeating a claim
// returns the range it got the first time. Emitted sequence numbers are the
// counter values mod 2^32, so nothing ever resets.
//
// # Guarantees
//
// Every Store gives the same guarantees, under any number of concurrent
// callers:
//
//   - Gap-free and overlap-free: the ranges handed out for one exporter,
//     sorted, tile its counter from Options.Start without holes or overlap.
//   - Idempotent per claim: Reserve(exporter, claim, n) advances the counter
//     at most once; a repeat (a retry after a lost response, a Step Functions
//     redrive) returns the same Range. A repeat with a different n fails
//     with ErrClaimMismatch.
//   - Exporters are independent: each exporter string is its own counter.
//
// # Claim retention
//
// A claim is remembered for at least Options.Retention (14 days by default,
// the Step Functions redrive window) after it was made, and is pruned some
// time after that so that the state stays small. A claim repeated after it
// was pruned is a new claim: it gets new numbers. Callers must not repeat a
// claim later than Retention after its first use.
//
// # Errors
//
// Errors wrap ErrInvalid when the request can never succeed (n = 0,
// n > MaxReserve, an empty or oversized exporter or claim, a claim repeated
// with another n, a counter that would pass 2^64-1); ErrTransient when a
// later retry may succeed (throttling, network, service errors that
// outlasted the store's own retries). Handlers map these to
// sfnerr.InvalidInputError and sfnerr.RetryableError; anything else is
// neither.
package seq

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Range is a reserved block [First, First+Count) of an exporter's 64-bit
// counter.
type Range struct {
	First uint64 `json:"first"`
	Count uint64 `json:"count"`
}

// First32 is the first sequence number as put on the wire.
func (r Range) First32() uint32 { return uint32(r.First) }

// Wraps reports whether the range crosses a multiple of 2^32, so that the
// wire numbers wrap to 0 inside it.
func (r Range) Wraps() bool {
	if r.Count == 0 {
		return false
	}
	return r.First>>32 != (r.First+r.Count-1)>>32
}

// MaxReserve bounds one reservation.
const MaxReserve = 1 << 40

// MaxKeyLen bounds the length in bytes of an exporter or a claim.
const MaxKeyLen = 1024

// DefaultRetention is how long claims are remembered unless Options say
// otherwise: the Step Functions redrive window.
const DefaultRetention = 14 * 24 * time.Hour

// ErrInvalid marks a request that can never succeed (n = 0, n too large,
// empty exporter or claim; see also ErrClaimMismatch and ErrExhausted).
var ErrInvalid = errors.New("invalid reservation request")

// ErrClaimMismatch marks a claim repeated with a different n. It wraps
// ErrInvalid.
var ErrClaimMismatch = fmt.Errorf("claim repeated with a different count: %w", ErrInvalid)

// ErrExhausted marks a reservation that would take the 64-bit counter past
// 2^64-1. It wraps ErrInvalid.
var ErrExhausted = fmt.Errorf("sequence counter exhausted: %w", ErrInvalid)

// ErrTransient marks a failure that a later retry may overcome (throttling,
// network errors, service errors that outlasted the store's own retries).
// Test with IsTransient.
var ErrTransient = errors.New("transient failure")

// Store hands out reservations. Implementations: the embedded bbolt store
// (local runs, package boltseq) and DynamoDB (Lambda, package dynamoseq).
type Store interface {
	// Reserve takes n consecutive numbers of exporter's counter for claim,
	// or returns the range claim already holds (then n must match).
	Reserve(ctx context.Context, exporter, claim string, n uint64) (Range, error)
	Close() error
}

// Inspector is implemented by stores that can describe an exporter's state,
// for tests and operators.
type Inspector interface {
	// Inspect returns exporter's state; a never-used exporter has
	// Exists false.
	Inspect(ctx context.Context, exporter string) (State, error)
}

// State describes one exporter's stored state.
type State struct {
	Exists bool
	// Next is the next value the counter will hand out.
	Next uint64
	// Claims is the number of claims the store currently remembers.
	Claims int
	// Bytes is the stored size of the exporter's state that every
	// reservation rewrites: for DynamoDB the counter item's size by
	// DynamoDB's rules, for bbolt the keys and values.
	Bytes int
}

// Options are the settings every Store shares.
type Options struct {
	// Start is the counter value of an exporter's first reservation (it
	// matters only when a store meets the exporter for the first time).
	// Tests start just below 2^32 to force wrap-around.
	Start uint64
	// Retention is how long a claim is remembered at least; 0 means
	// DefaultRetention.
	Retention time.Duration
	// Now is the clock claims are stamped with; nil means time.Now.
	Now func() time.Time
}

// WithDefaults returns o with zero fields replaced by their defaults.
func (o Options) WithDefaults() Options {
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Validate checks a request's arguments; its errors wrap ErrInvalid.
func Validate(exporter, claim string, n uint64) error {
	var problem string
	switch {
	case exporter == "":
		problem = "empty exporter"
	case claim == "":
		problem = "empty claim"
	case len(exporter) > MaxKeyLen:
		problem = fmt.Sprintf("exporter longer than %d bytes", MaxKeyLen)
	case len(claim) > MaxKeyLen:
		problem = fmt.Sprintf("claim longer than %d bytes", MaxKeyLen)
	case !utf8.ValidString(exporter):
		problem = "exporter is not valid UTF-8"
	case !utf8.ValidString(claim):
		problem = "claim is not valid UTF-8"
	case n == 0:
		problem = "count 0"
	case n > MaxReserve:
		problem = fmt.Sprintf("count %d above the maximum %d", n, uint64(MaxReserve))
	default:
		return nil
	}
	return fmt.Errorf("reserve %q for exporter %q: %s: %w", claim, exporter, problem, ErrInvalid)
}

// Check returns the range a claim holds if it was made with count n, or an
// error wrapping ErrClaimMismatch that names both counts.
func Check(exporter, claim string, held Range, n uint64) (Range, error) {
	if held.Count != n {
		return Range{}, fmt.Errorf("reserve %q for exporter %q: the claim holds %d numbers from %d, the request asks for %d: %w",
			claim, exporter, held.Count, held.First, n, ErrClaimMismatch)
	}
	return held, nil
}

// Transient marks err as transient: errors.Is(err, ErrTransient) holds and
// the message stays err's. nil stays nil.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err}
}

// IsTransient reports whether err is marked transient.
func IsTransient(err error) bool { return errors.Is(err, ErrTransient) }

type transientError struct{ err error }

func (e *transientError) Error() string        { return e.err.Error() }
func (e *transientError) Unwrap() error        { return e.err }
func (e *transientError) Is(target error) bool { return target == ErrTransient }

// Turn says whether the range that starts at a given counter value may be
// sent now (Order.Turn).
type Turn struct {
	// Go: every value below the range's first was sent or given up, none
	// at or above it: sending now keeps the exporter's numbers in order.
	Go bool
	// Next is the first value not yet sent (the exporter's watermark).
	Next uint64
	// Late: Next is already past the range's first (the range was given up
	// as abandoned, or a late retry): sending it now puts its numbers out
	// of order at the collectors, but loses nothing.
	Late bool
	// Skipped counts the values this call gave up: a range reserved but not
	// sent for longer than the stall time (its execution failed). The
	// collectors count them as lost.
	Skipped uint64
}

// Order makes the sends of one exporter follow its reservation order across
// processes: the range that starts at first may go once every value below
// it has been sent. Ranges are reported sent in reservation order, so the
// watermark moves from range to range.
type Order interface {
	// Turn reads the exporter's watermark. When it is below first and has
	// not moved for stall, the values below first are given up and the
	// caller goes.
	Turn(ctx context.Context, exporter string, first uint64, stall time.Duration) (Turn, error)
	// Sent moves the watermark from first to first+n; it does nothing when
	// the watermark is elsewhere (the range was late or given up).
	Sent(ctx context.Context, exporter string, first, n uint64) error
}
