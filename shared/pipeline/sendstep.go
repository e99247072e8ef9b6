package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/progress"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/send"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/udp"
)

// SendInput describes one Send step: one chunk's frame file for one
// receiver and the sequence range reserved for it.
type SendInput struct {
	Receiver receiver.Receiver
	Key      string
	Range    seq.Range
	Staging  staging.Store
	Conn     send.Conn
	Now      func() time.Time // nil: time.Now

	// Progress, when set, makes the send resumable and idempotent: it is
	// read first (a send recorded done returns its result and sends
	// nothing; a partial one resumes after the datagrams recorded), written
	// every CheckpointEvery datagrams and when the send stops early, and
	// marked done at the end, before the staging object is deleted.
	Progress        progress.Store
	ProgressKey     progress.Key
	CheckpointEvery int         // 0: DefaultCheckpointEvery
	Stop            func() bool // asked before each datagram (nil: never)
	// Turn, when set, is called before anything is sent (not for a send
	// recorded done): it returns once the send may go, in the exporter's
	// order. Sent is called once the send is recorded done (also for one
	// found done: an earlier attempt may have stopped before calling it).
	Turn func(context.Context) error
	Sent func(context.Context) error
}

// DefaultCheckpointEvery is how many datagrams go out between two progress
// records: one second at the default pace, so a sender that dies without
// warning resends at most that many on its retry (one write unit each).
const DefaultCheckpointEvery = receiver.DefaultPPS

// SendResult is a Send step's result.
type SendResult struct {
	send.Result
	// Resumed counts the datagrams an earlier attempt had sent; Recorded
	// says the whole send was recorded done before this attempt, which sent
	// nothing.
	Resumed  uint64
	Recorded bool
}

// ErrStagingGone is returned when the staged frames of a send that is not
// recorded done are missing: retrying cannot bring them back.
var ErrStagingGone = errors.New("staged frames are gone and the send is not recorded as done")

// Send is the Send step: it streams the staged frames and sends them with sequence numbers from the range (templates first for v9 and
// IPFIX, since every Send is a new stream), and deletes the staging object
// once everything was handed to the socket.
func Send(ctx context.Context, in SendInput) (SendResult, error) {
	var out SendResult
	fin, err := NewFinisher(in.Receiver.Protocol)
	if err != nil {
		return out, err
	}
	var rec progress.Record
	if in.Progress != nil {
		if rec, err = in.Progress.Get(ctx, in.ProgressKey); err != nil {
			return out, err
		}
		if rec.Done {
			out.Result, out.Resumed, out.Recorded = rec.Sent, rec.Sent.Datagrams, true
			// A retry after the first attempt recorded done but before it
			// moved the send order or deleted: finish those.
			if in.Sent != nil {
				if err := in.Sent(ctx); err != nil {
					return out, err
				}
			}
			return out, in.Staging.Delete(ctx, in.Key)
		}
		out.Resumed = rec.Sent.Datagrams
	}
	if in.Turn != nil {
		if err := in.Turn(ctx); err != nil {
			return out, err
		}
	}
	rc, err := in.Staging.Open(ctx, in.Key)
	if errors.Is(err, staging.ErrNotFound) && in.Progress != nil {
		return out, fmt.Errorf("send %s to %s: %w (%d datagrams recorded sent): reprocess the object", in.Key, in.Receiver, ErrStagingGone, rec.Sent.Datagrams)
	}
	if err != nil {
		return out, err
	}
	defer rc.Close()
	opt := send.Options{
		TemplatePackets:  in.Receiver.TemplatePackets,
		TemplateInterval: in.Receiver.TemplateInterval,
		Now:              in.Now,
		Protocol:         in.Receiver.Protocol,
		TemplateSettle:   send.DefaultTemplateSettle,
		Stop:             in.Stop,
	}
	if in.Progress != nil {
		opt.Resume = rec.Sent
		opt.CheckpointEvery = in.CheckpointEvery
		if opt.CheckpointEvery <= 0 {
			opt.CheckpointEvery = DefaultCheckpointEvery
		}
		opt.Checkpoint = func(ctx context.Context, r send.Result) error {
			rec.Prev, rec.Sent = rec.Sent, r
			return in.Progress.Put(ctx, in.ProgressKey, rec)
		}
	}
	res, err := send.Stream(ctx, rc, fin, in.Conn, in.Range.First, in.Range.Count, opt)
	out.Result = res
	if err != nil {
		if in.Progress != nil && errors.Is(err, udp.ErrRefused) && rec.Sent != rec.Prev {
			// The refusal may cover datagrams of the last checkpoint.
			rec.Sent = rec.Prev
			if perr := in.Progress.Put(ctx, in.ProgressKey, rec); perr != nil {
				err = errors.Join(err, perr)
			}
		}
		return out, fmt.Errorf("send %s to %s: %w", in.Key, in.Receiver, err)
	}
	if in.Progress != nil {
		rec.Prev, rec.Sent, rec.Done = rec.Sent, res, true
		if err := in.Progress.Put(ctx, in.ProgressKey, rec); err != nil {
			return out, err
		}
	}
	if in.Sent != nil {
		if err := in.Sent(ctx); err != nil {
			return out, err
		}
	}
	if err := in.Staging.Delete(ctx, in.Key); err != nil {
		return out, err
	}
	return out, nil
}
