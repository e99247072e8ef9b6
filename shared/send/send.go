// Package send is the Send step: it streams a staged frame file, stamps each datagram's sequence number from a reserved range and
// its export time, inserts v9/IPFIX templates at the start of the stream
// and on refresh, and writes the datagrams to a UDP connection.
package send

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/wait"
)

// Conn is where datagrams go (a *udp.Conn).
type Conn interface {
	Send(ctx context.Context, b []byte) error
	Flush(ctx context.Context) error
}

// Options for one stream.
type Options struct {
	TemplatePackets  int           // resend templates after this many datagrams (0: only at start)
	TemplateInterval time.Duration // and after this long (0: never by time)
	Now              func() time.Time
	Protocol         netflow.Protocol // when set, the file must be encoded in it
	// TemplateSettle is how long to wait after the stream's first
	// datagram (the one carrying the templates) before sending the next:
	// a collector decoding with several workers (goflow2's default) may
	// otherwise decode the second datagram before the first registered
	// the templates, and drop it ("template error"). 0 does not wait.
	TemplateSettle time.Duration
	// Sleep waits (tests replace it); nil sleeps for real.
	Sleep func(context.Context, time.Duration) error
}

// DefaultTemplateSettle is the TemplateSettle of the Send step: at 3000
// datagrams/s goflow2 (two workers, the default) lost one datagram of the
// first ~10 in about one run out of three without it, none with it.
const DefaultTemplateSettle = 20 * time.Millisecond

// Result counts one stream.
type Result struct {
	Datagrams uint64 `json:"datagrams"`
	Units     uint64 `json:"units"`
	Records   uint64 `json:"records"`
	Bytes     uint64 `json:"bytes"` // as sent, templates included
	Templates uint64 `json:"templates"`
}

// Stream sends the frame file read from r, frame by frame, so memory stays
// bounded by one datagram whatever the file's size. first is the first
// counter value of the range reserved for it and units the range's size;
// the file must hold exactly that many units. Sequence numbers are the
// counter values mod 2^32: frame i carries first + (units of frames before
// i). No number outside the range is ever sent: a file holding more units
// fails before the first datagram that would leave the range, and a
// damaged or short file fails when its trailer is checked.
func Stream(ctx context.Context, r io.Reader, fin netflow.Finisher, conn Conn, first, units uint64, opt Options) (Result, error) {
	var res Result
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	sleep := opt.Sleep
	if sleep == nil {
		sleep = wait.Sleep
	}
	sr, err := staging.NewReader(r)
	if err != nil {
		return res, err
	}
	if opt.Protocol != 0 && sr.Protocol() != opt.Protocol {
		return res, fmt.Errorf("staged frames are %s, the receiver speaks %s", sr.Protocol(), opt.Protocol)
	}
	var (
		out           []byte
		seq           = first
		sinceTemplate int
		lastTemplate  time.Time
	)
	for {
		f, err := sr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
		if res.Units+uint64(f.Units) > units {
			return res, fmt.Errorf("staged frames hold more than the %d reserved sequence units", units)
		}
		t := now()
		withTemplates := res.Datagrams == 0 ||
			(opt.TemplatePackets > 0 && sinceTemplate >= opt.TemplatePackets) ||
			(opt.TemplateInterval > 0 && t.Sub(lastTemplate) >= opt.TemplateInterval)
		out, err = fin.Finish(out[:0], f, uint32(seq), t, withTemplates)
		if err != nil {
			return res, fmt.Errorf("finish datagram %d: %w", res.Datagrams, err)
		}
		if withTemplates {
			sinceTemplate = 0
			lastTemplate = t
			res.Templates++
		}
		if err := conn.Send(ctx, out); err != nil {
			return res, err
		}
		if res.Datagrams == 0 && withTemplates && opt.TemplateSettle > 0 && sr.Protocol() != netflow.V5 {
			if err := conn.Flush(ctx); err != nil {
				return res, err
			}
			if err := sleep(ctx, opt.TemplateSettle); err != nil {
				return res, err
			}
		}
		sinceTemplate++
		seq += uint64(f.Units)
		res.Datagrams++
		res.Units += uint64(f.Units)
		res.Records += uint64(f.Records)
		res.Bytes += uint64(len(out))
	}
	if res.Units != units {
		return res, fmt.Errorf("staged frames hold %d sequence units, %d were reserved", res.Units, units)
	}
	return res, conn.Flush(ctx)
}
