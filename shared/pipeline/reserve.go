package pipeline

import (
	"context"
	"fmt"
	"strings"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"

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

// ContractCounts converts parser counts to the contract's form (zero
// reasons omitted).
func ContractCounts(c flowlog.Counts) contract.Counts {
	out := contract.Counts{Lines: c.Lines, Records: c.Records}
	for _, r := range flowlog.SkipReasons() {
		if n := c.Skipped[r]; n > 0 {
			if out.Skipped == nil {
				out.Skipped = map[string]int64{}
			}
			out.Skipped[r.String()] = n
		}
	}
	return out
}

// CheckObject applies contract.CheckObject, the rule the allocator Lambda
// applies too, to the parsed chunks of object name: an object whose every
// data line is malformed fails before anything is reserved or sent.
func CheckObject(name string, chunks []ChunkResult) error {
	var total flowlog.Counts
	var reasons []string
	for _, c := range chunks {
		total.Add(c.Counts)
		for _, e := range c.Errors {
			reasons = append(reasons, strings.TrimPrefix(e, name+": "))
		}
	}
	if err := contract.CheckObject(ContractCounts(total), reasons); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
