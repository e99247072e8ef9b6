package handler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/send"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

// Allocator is the Reserve step: one atomic reservation per receiver for
// the whole object, claimed by the execution id (a retry or a redrive of
// the same execution gets the same numbers; a new execution gets new
// ones), split into per-chunk send items in chunk order.
type Allocator struct {
	Store seq.Store
	// Staging, when set, is where the plan stored the checkpoint index;
	// the allocator deletes it once every chunk has been parsed.
	Staging staging.Store
	// SenderTimeout, when set, is the sender Lambda's timeout: a chunk
	// whose paced send to a receiver would not finish within it (with
	// SendMargin to spare) fails the step as invalid input before
	// anything is reserved, rather than a send cut off half-way.
	SenderTimeout time.Duration
}

// SendMargin is the part of the sender's timeout kept for reading the
// staged frames, dialing and reporting.
const SendMargin = 0.8

// checkSendTime fails when a chunk's datagrams at a receiver's pace take
// longer than the sender may run.
func (a *Allocator) checkSendTime(in contract.ReserveInput) error {
	if a.SenderTimeout <= 0 {
		return nil
	}
	budget := time.Duration(float64(a.SenderTimeout) * SendMargin)
	pace := map[string]int{}
	for _, r := range in.Receivers {
		rc, err := receiver.Parse(r.URL)
		if err != nil {
			return fmt.Errorf("%w: %w", errInvalid, err)
		}
		pace[r.ID] = rc.PPS
	}
	for _, p := range in.Parsed {
		for _, o := range p.Out {
			pps := pace[o.Receiver]
			if pps <= 0 {
				continue
			}
			need := time.Duration(float64(o.Frames)/float64(pps)*float64(time.Second)) + send.DefaultTemplateSettle
			if need > budget {
				return fmt.Errorf("%w: chunk %d holds %d datagrams for receiver %s: at pps=%d they take %s, more than %.0f %% of the sender's %s timeout; lower chunk_size_bytes or raise pps",
					errInvalid, p.Chunk, o.Frames, o.Receiver, pps, need.Round(time.Second), SendMargin*100, a.SenderTimeout)
			}
		}
	}
	return nil
}

// Handle reserves the sequence ranges.
func (a *Allocator) Handle(ctx context.Context, in contract.ReserveInput) (contract.ReserveOutput, error) {
	start := time.Now()
	if err := a.checkSendTime(in); err != nil {
		return contract.ReserveOutput{}, failed("Reserve", in.Object.URI(), err)
	}
	out, err := contract.Allocate(in, func(r contract.Receiver, n uint64) (uint64, error) {
		rc, err := receiver.Parse(r.URL)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", errInvalid, err)
		}
		rng, err := a.Store.Reserve(ctx, rc.Exporter(), in.ExecutionID, n)
		if err != nil {
			return 0, err
		}
		return rng.First, nil
	})
	if errors.Is(err, contract.ErrAllMalformed) {
		err = fmt.Errorf("%w: %w", errInvalid, err)
	}
	if err != nil {
		return out, failed("Reserve", in.Object.URI(), err)
	}
	if a.Staging != nil {
		if err := a.Staging.Delete(ctx, contract.IndexKey(in.StagingPrefix)); err != nil {
			return out, failed("Reserve", in.Object.URI(), err)
		}
	}
	emitDuration("allocator", "reserve", in.Object.URI(), start)
	return out, nil
}
