package pipeline

import (
	"context"
	"fmt"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
)

// Reserve is the Reserve step: one reservation per receiver for a whole
// object (claim names the execution, so a retry gets the same numbers),
// split into per-chunk ranges in chunk order. chunks must be sorted by
// chunk index and list the receivers in the same order as receivers.
// It returns ranges[chunk][receiver] and the per-receiver totals.
func Reserve(ctx context.Context, store seq.Store, claim string, receivers []receiver.Receiver, chunks []ChunkResult) ([][]seq.Range, []seq.Range, error) {
	totals := make([]seq.Range, len(receivers))
	for i, r := range receivers {
		var n uint64
		for _, c := range chunks {
			if len(c.Receivers) != len(receivers) || c.Receivers[i].Receiver != r.URL {
				return nil, nil, fmt.Errorf("reserve: chunk %d results do not match the receivers", c.Chunk)
			}
			n += c.Receivers[i].Frames.Units
		}
		if n == 0 {
			continue // nothing to send, nothing to reserve
		}
		rng, err := store.Reserve(ctx, r.Exporter(), claim, n)
		if err != nil {
			return nil, nil, fmt.Errorf("reserve %d %s for %s: %w", n, r.Protocol.Unit(), r.Exporter(), err)
		}
		totals[i] = rng
	}
	ranges := make([][]seq.Range, len(chunks))
	next := make([]uint64, len(receivers))
	for i := range receivers {
		next[i] = totals[i].First
	}
	for c, ch := range chunks {
		ranges[c] = make([]seq.Range, len(receivers))
		for i := range receivers {
			n := ch.Receivers[i].Frames.Units
			ranges[c][i] = seq.Range{First: next[i], Count: n}
			next[i] += n
		}
	}
	return ranges, totals, nil
}
