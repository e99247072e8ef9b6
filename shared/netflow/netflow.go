// Package netflow holds what the NetFlow v5, NetFlow v9 and IPFIX encoders
// (packages nfv5, nfv9 and ipfix below it) share: the protocol names, the
// staged frame, and the two interfaces a pipeline drives.
//
// Encoding happens in two phases so that byte ranges of one object can be
// parsed apart and numbered later in order:
//
//  1. At parse time an Encoder packs records into Frames: complete datagrams
//     whose sequence number is still zero, each with the number of sequence
//     units it consumes (v5: flow records, v9: 1 datagram, IPFIX: data
//     records). Frames are deterministic for the same input.
//  2. At send time a Finisher stamps the sequence number and export time and,
//     for v9 and IPFIX, prepends the templates when the sender asks for them
//     (at the start of every stream and on refresh). Templates never change a
//     frame's units, so reservations made from parse-time counts stay exact.
//
// Packages under netflow import only the standard library and shared/flow.
package netflow

import (
	"errors"
	"fmt"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// Protocol is an export protocol.
type Protocol uint8

// Protocols, numbered as their version fields.
const (
	V5    Protocol = 5
	V9    Protocol = 9
	IPFIX Protocol = 10
)

// String returns the protocol's URL scheme name.
func (p Protocol) String() string {
	switch p {
	case V5:
		return "netflow5"
	case V9:
		return "netflow9"
	case IPFIX:
		return "ipfix"
	}
	return fmt.Sprintf("protocol(%d)", uint8(p))
}

// Unit names what the protocol's sequence number counts.
func (p Protocol) Unit() string {
	switch p {
	case V5:
		return "flows"
	case V9:
		return "datagrams"
	case IPFIX:
		return "data records"
	}
	return "?"
}

// ErrUnsupported is returned by Encoder.Add for a record the protocol cannot
// carry (IPv6 in NetFlow v5). The caller counts it; nothing else happens.
var ErrUnsupported = errors.New("record not supported by protocol")

// Frame is one encoded datagram awaiting its sequence number.
type Frame struct {
	Data  []byte // the whole datagram, header included, sequence zero
	Units uint32 // sequence units this datagram consumes
	// Records is the number of wire records for accounting (v5: equal to
	// Units; v9: data records; IPFIX: data records, options included).
	Records uint32
}

// Emit receives each completed frame. Data is only valid during the call.
type Emit func(Frame) error

// Encoder packs records into frames and hands them to its Emit function.
type Encoder interface {
	// Add encodes rec, emitting a frame whenever a datagram fills up. It
	// returns ErrUnsupported (wrapped or not) for a record the protocol
	// cannot carry.
	Add(rec *flow.Record) error
	// Flush emits the pending partial datagram, if any.
	Flush() error
}

// Finisher completes staged frames at send time.
type Finisher interface {
	// Finish appends to dst the datagram to send for f: header sequence
	// number seq (already reduced mod 2^32) and export time now stamped, and,
	// when withTemplates is true, the template set(s) inserted before the
	// data. It does not modify f.Data.
	Finish(dst []byte, f Frame, seq uint32, now time.Time, withTemplates bool) ([]byte, error)
}
