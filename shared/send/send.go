// Package send is the Send step: it streams a staged frame file, stamps each datagram's sequence number from a reserved range and
// its export time, inserts v9/IPFIX templates at the start of the stream
// and on refresh, and writes the datagrams to a UDP connection.
package send

import (
	"context"
	"errors"
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

	// Resume continues a stream that an earlier attempt cut short: its
	// first Resume.Datagrams frames were sent (with the sequence numbers
	// they carry in the file) and are read but not sent again; the first
	// datagram sent carries the templates, as at a stream's start. The
	// Result counts the whole stream, Resume's part included.
	Resume Result
	// Checkpoint, when set, is called with the Result so far each time
	// every datagram counted in it has left through the connection: every
	// CheckpointEvery datagrams (0: only when the stream stops early), and
	// when the stream stops on an error that is not the connection's own
	// (a damaged or unreadable file) or on Stop. An error from it ends the
	// stream.
	Checkpoint      func(context.Context, Result) error
	CheckpointEvery int
	// Stop, when set, is asked before each datagram; true ends the stream
	// with ErrStopped after a checkpoint (a Lambda whose deadline nears).
	Stop func() bool
}

// ErrStopped is returned when Options.Stop ended a stream early.
var ErrStopped = errors.New("send stopped before the end of the stream")

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
	st := &stream{conn: conn, opt: opt}
	res, err := st.run(ctx, r, fin, first, units)
	if err != nil && !st.noFinal && opt.Checkpoint != nil && res.Datagrams > max(opt.Resume.Datagrams, st.checkpointed) {
		// What was handed to the socket before a read, format or Stop
		// error is flushed and recorded, so a retry resumes after it.
		if ferr := conn.Flush(ctx); ferr != nil {
			return res, errors.Join(err, ferr)
		}
		if cerr := opt.Checkpoint(ctx, res); cerr != nil {
			return res, errors.Join(err, cerr)
		}
	}
	return res, err
}

type stream struct {
	conn    Conn
	opt     Options
	noFinal bool // the connection or the checkpoint itself failed: no final checkpoint
	// checkpointed is the datagram count of the last checkpoint.
	checkpointed uint64
}

func (st *stream) send(ctx context.Context, b []byte) error {
	if err := st.conn.Send(ctx, b); err != nil {
		st.noFinal = true
		return err
	}
	return nil
}

func (st *stream) flush(ctx context.Context) error {
	if err := st.conn.Flush(ctx); err != nil {
		st.noFinal = true
		return err
	}
	return nil
}

func (st *stream) run(ctx context.Context, r io.Reader, fin netflow.Finisher, first, units uint64) (Result, error) {
	opt := st.opt
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
		sent          uint64 // datagrams sent by this call
		skip          = opt.Resume.Datagrams
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
		if res.Datagrams < skip {
			seq += uint64(f.Units)
			res.Datagrams++
			res.Units += uint64(f.Units)
			res.Records += uint64(f.Records)
			if res.Datagrams == skip {
				if res.Units != opt.Resume.Units || res.Records != opt.Resume.Records {
					return res, fmt.Errorf("resume after datagram %d: the file holds %d units and %d records up to it, the earlier attempt sent %d and %d",
						skip, res.Units, res.Records, opt.Resume.Units, opt.Resume.Records)
				}
				res.Bytes, res.Templates = opt.Resume.Bytes, opt.Resume.Templates
			}
			continue
		}
		if opt.Stop != nil && opt.Stop() {
			return res, ErrStopped
		}
		t := now()
		withTemplates := sent == 0 ||
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
		if err := st.send(ctx, out); err != nil {
			return res, err
		}
		if sent == 0 && withTemplates && opt.TemplateSettle > 0 && sr.Protocol() != netflow.V5 {
			if err := st.flush(ctx); err != nil {
				return res, err
			}
			if err := sleep(ctx, opt.TemplateSettle); err != nil {
				return res, err
			}
		}
		sinceTemplate++
		sent++
		seq += uint64(f.Units)
		res.Datagrams++
		res.Units += uint64(f.Units)
		res.Records += uint64(f.Records)
		res.Bytes += uint64(len(out))
		if opt.Checkpoint != nil && opt.CheckpointEvery > 0 && sent%uint64(opt.CheckpointEvery) == 0 {
			if err := st.flush(ctx); err != nil {
				return res, err
			}
			if err := opt.Checkpoint(ctx, res); err != nil {
				st.noFinal = true
				return res, err
			}
			st.checkpointed = res.Datagrams
		}
	}
	if res.Datagrams < skip {
		return res, fmt.Errorf("resume after datagram %d: the file holds only %d", skip, res.Datagrams)
	}
	if res.Units != units {
		return res, fmt.Errorf("staged frames hold %d sequence units, %d were reserved", res.Units, units)
	}
	return res, st.flush(ctx)
}
