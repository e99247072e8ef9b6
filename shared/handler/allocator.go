package handler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
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
}

// Handle reserves the sequence ranges.
func (a *Allocator) Handle(ctx context.Context, in contract.ReserveInput) (contract.ReserveOutput, error) {
	start := time.Now()
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
		return out, classify(fmt.Errorf("reserve for %s: %w", in.Object.URI(), err))
	}
	if a.Staging != nil {
		if err := a.Staging.Delete(ctx, contract.IndexKey(in.StagingPrefix)); err != nil {
			return out, classify(err)
		}
	}
	emitDuration("allocator", "reserve", in.Object.URI(), start)
	return out, nil
}
