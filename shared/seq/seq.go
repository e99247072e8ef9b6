// Package seq reserves flow-sequence numbers. Each exporter identity owns
// one monotonic 64-bit counter; a reservation takes n consecutive values
// from it atomically, at most once per (exporter, claim): repeating a claim
// returns the range it got the first time. Emitted sequence numbers are the
// counter values mod 2^32, so nothing ever resets.
package seq

import (
	"context"
	"errors"
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

// ErrInvalid marks a request that can never succeed (n = 0, n too large,
// empty exporter or claim).
var ErrInvalid = errors.New("invalid reservation request")

// Store hands out reservations. Implementations: the embedded bbolt store
// (local runs) and DynamoDB (Lambda).
type Store interface {
	// Reserve takes n consecutive numbers of exporter's counter for claim,
	// or returns the range claim already holds (then n must match).
	Reserve(ctx context.Context, exporter, claim string, n uint64) (Range, error)
	Close() error
}
