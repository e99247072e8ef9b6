package contract

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ReserveInput is the allocator's input (Parameters of the Reserve state).
type ReserveInput struct {
	// ExecutionID is the execution ARN: the claim of every reservation,
	// so a retried or redriven Reserve gets the same numbers and a new
	// execution of the same object gets new ones.
	ExecutionID   string     `json:"execution_id"`
	Object        ObjectRef  `json:"object"`
	StagingPrefix string     `json:"staging_prefix"`
	Receivers     []Receiver `json:"receivers"`
	// Parsed is the Parse Map's output: one ParseOutput per chunk.
	Parsed []ParseOutput `json:"parsed"`
}

// SendItem is one item of a SendStream: the frames of one chunk for one
// receiver and the sequence numbers they take. Short JSON names: there is
// one per chunk × receiver with frames (see the package comment). The
// staging key is StagingKey(prefix, Chunk, Receiver); the receiver's URL is
// in the execution's receiver list.
type SendItem struct {
	Chunk    int    `json:"c"`
	Receiver string `json:"r"`
	// First is the 64-bit counter value of the chunk's first unit; the
	// wire sequence number is First mod 2^32.
	First uint64 `json:"f"`
	// Count is the sequence units (= ReceiverOutput.Units).
	Count uint64 `json:"n"`
	// Frames is the datagrams to send (= ReceiverOutput.Frames).
	Frames uint64 `json:"d"`
}

// SendStream is everything one receiver is sent for the object: its
// SendItems in chunk order. The Send Map runs the streams in parallel (one
// iteration per receiver) and each stream's items one after another in
// order (the inner SendStream Map, MaxConcurrency 1), so the collector sees
// the receiver's sequence numbers gap-free and ascending.
type SendStream struct {
	// Receiver is the Receiver.ID, the same as every item's.
	Receiver string `json:"r"`
	// Items are the receiver's non-empty chunks in ascending chunk order;
	// their ranges are contiguous and together are the receiver's one
	// reservation.
	Items []SendItem `json:"s"`
}

// ReceiverSummary totals one receiver for the object.
type ReceiverSummary struct {
	ID       string `json:"id"`
	URL      string `json:"url"`
	Protocol string `json:"protocol"`
	// Flows is the flow records exported; Records the wire records.
	Flows   uint64 `json:"flows"`
	Records uint64 `json:"records"`
	// Datagrams and Units sent; Bytes of datagram payload.
	Datagrams uint64 `json:"datagrams"`
	Units     uint64 `json:"units"`
	Bytes     uint64 `json:"bytes"`
	// First and Last are the 64-bit counter values of the first and last
	// unit (both 0 when Units is 0).
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
	// Unsupported counts flow records this receiver could not carry
	// (IPv6 for NetFlow v5).
	Unsupported uint64 `json:"unsupported"`
}

// Summary is the execution's output: totals for the object.
type Summary struct {
	Object    ObjectRef         `json:"object"`
	Chunks    int               `json:"chunks"`
	Counts    Counts            `json:"counts"`
	Receivers []ReceiverSummary `json:"receivers"`
}

// ReserveOutput is the allocator's output. It replaces the state (ResultPath
// "$"), so it carries forward what Send and Summary need.
type ReserveOutput struct {
	Object        ObjectRef  `json:"object"`
	StagingPrefix string     `json:"staging_prefix"`
	Receivers     []Receiver `json:"receivers"`
	// Streams has one entry per receiver with something to send, in
	// receiver order (empty when no receiver has frames).
	Streams []SendStream `json:"streams"`
	Summary Summary      `json:"summary"`
}

// Validate checks the invariants Allocate establishes and Send relies on,
// all problems at once: one stream per receiver with units, in receiver
// order; items of the stream's receiver, non-empty, in ascending chunk
// order, their ranges contiguous from the receiver's First and adding up to
// its Units and Datagrams; at most MaxSendItems items in all.
func (o ReserveOutput) Validate() error {
	errs := validateReceivers(o.Receivers)
	if len(o.Summary.Receivers) != len(o.Receivers) {
		errs = append(errs, fmt.Errorf("%d receiver summaries for %d receivers", len(o.Summary.Receivers), len(o.Receivers)))
	}
	pos := map[string]int{}
	for i, r := range o.Receivers {
		pos[r.ID] = i
	}
	streamOf := map[string]SendStream{}
	last, total := -1, 0
	for si, st := range o.Streams {
		i, ok := pos[st.Receiver]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("stream %d: receiver %q is not in the receiver list", si, st.Receiver))
			continue
		case i <= last:
			errs = append(errs, fmt.Errorf("stream %d: receiver %s out of receiver order or repeated", si, st.Receiver))
		}
		last = i
		streamOf[st.Receiver] = st
		total += len(st.Items)
		if len(st.Items) == 0 {
			errs = append(errs, fmt.Errorf("stream of receiver %s has no items", st.Receiver))
		}
		for k, it := range st.Items {
			if it.Receiver != st.Receiver {
				errs = append(errs, fmt.Errorf("stream of receiver %s: item %d is for receiver %q", st.Receiver, k, it.Receiver))
			}
			if it.Chunk < 0 || it.Chunk >= o.Summary.Chunks {
				errs = append(errs, fmt.Errorf("stream of receiver %s: item %d: chunk %d not in 0..%d", st.Receiver, k, it.Chunk, o.Summary.Chunks-1))
			}
			if it.Frames == 0 || it.Count == 0 {
				errs = append(errs, fmt.Errorf("stream of receiver %s: chunk %d: %d frames carry %d units", st.Receiver, it.Chunk, it.Frames, it.Count))
			}
			if k > 0 {
				prev := st.Items[k-1]
				if it.Chunk <= prev.Chunk {
					errs = append(errs, fmt.Errorf("stream of receiver %s: chunk %d follows chunk %d", st.Receiver, it.Chunk, prev.Chunk))
				}
				if it.First != prev.First+prev.Count { // wraps mod 2^64 like the counter
					errs = append(errs, fmt.Errorf("stream of receiver %s: chunk %d starts at %d, want %d", st.Receiver, it.Chunk, it.First, prev.First+prev.Count))
				}
			}
		}
	}
	if total > MaxSendItems {
		errs = append(errs, fmt.Errorf("%d send items, limit %d", total, MaxSendItems))
	}
	for i, rs := range o.Summary.Receivers {
		if i >= len(o.Receivers) {
			break
		}
		id := o.Receivers[i].ID
		if rs.ID != id {
			errs = append(errs, fmt.Errorf("receiver summary %d is for %q, want %q", i, rs.ID, id))
		}
		st, ok := streamOf[id]
		if !ok {
			if rs.Units != 0 {
				errs = append(errs, fmt.Errorf("receiver %s: %d units but no stream", id, rs.Units))
			}
			continue
		}
		var units, frames uint64
		for _, it := range st.Items {
			units += it.Count
			frames += it.Frames
		}
		if units != rs.Units || frames != rs.Datagrams {
			errs = append(errs, fmt.Errorf("receiver %s: stream has %d units in %d frames, summary %d in %d", id, units, frames, rs.Units, rs.Datagrams))
		}
		if len(st.Items) > 0 && st.Items[0].First != rs.First {
			errs = append(errs, fmt.Errorf("receiver %s: stream starts at %d, reservation at %d", id, st.Items[0].First, rs.First))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("reserve output for %s: %w", o.Object.URI(), err)
	}
	return nil
}

// ErrAccounting marks parse outputs that do not add up.
var ErrAccounting = errors.New("parse outputs do not add up")

// ReserveFunc reserves n (> 0) consecutive counter values for receiver
// (for the claim in.ExecutionID) and returns the first. The allocator backs
// it with shared/seq.Store.Reserve.
type ReserveFunc func(r Receiver, n uint64) (first uint64, err error)

// Allocate checks in, makes one reservation per receiver with units (through
// reserve, in receiver order), splits each into per-chunk ranges in chunk
// order and builds the output: one SendStream per receiver with frames,
// holding its chunks in order. Errors from reserve are returned wrapped;
// accounting problems wrap ErrAccounting; an object that fails CheckObject
// (every data line malformed) gets an error wrapping ErrAllMalformed and
// no reservation.
func Allocate(in ReserveInput, reserve ReserveFunc) (ReserveOutput, error) {
	parsed, err := checkReserveInput(in)
	if err != nil {
		return ReserveOutput{}, err
	}
	out := ReserveOutput{
		Object:        in.Object,
		StagingPrefix: in.StagingPrefix,
		Receivers:     in.Receivers,
		Streams:       []SendStream{},
		Summary: Summary{
			Object:    in.Object,
			Chunks:    len(parsed),
			Receivers: make([]ReceiverSummary, len(in.Receivers)),
		},
	}
	var reasons []string
	for _, p := range parsed {
		out.Summary.Counts.Add(p.Counts)
		if p.FirstError != "" {
			reasons = append(reasons, p.FirstError)
		}
	}
	if err := CheckObject(out.Summary.Counts, reasons); err != nil {
		return ReserveOutput{}, err
	}
	for ri, r := range in.Receivers {
		rs := &out.Summary.Receivers[ri]
		*rs = ReceiverSummary{ID: r.ID, URL: r.URL, Protocol: r.Protocol()}
		for _, p := range parsed {
			o := p.Out[ri]
			rs.Flows += o.Flows
			rs.Records += o.Records
			rs.Datagrams += o.Frames
			rs.Bytes += o.Bytes
			rs.Unsupported += o.Unsupported
			if rs.Units > math.MaxUint64-o.Units {
				return ReserveOutput{}, fmt.Errorf("receiver %s: units overflow: %w", r.ID, ErrAccounting)
			}
			rs.Units += o.Units
		}
		if rs.Units == 0 {
			continue
		}
		first, err := reserve(r, rs.Units)
		if err != nil {
			return ReserveOutput{}, fmt.Errorf("reserve %d units for receiver %s: %w", rs.Units, r.ID, err)
		}
		rs.First, rs.Last = first, first+rs.Units-1 // wraps mod 2^64 like the counter
		st := SendStream{Receiver: r.ID}
		next := first
		for _, p := range parsed {
			o := p.Out[ri]
			if o.Frames == 0 {
				continue
			}
			st.Items = append(st.Items, SendItem{Chunk: p.Chunk, Receiver: r.ID, First: next, Count: o.Units, Frames: o.Frames})
			next += o.Units
		}
		out.Streams = append(out.Streams, st)
	}
	return out, nil
}

// checkReserveInput validates in and returns Parsed sorted by chunk.
func checkReserveInput(in ReserveInput) ([]ParseOutput, error) {
	var errs []error
	errs = append(errs, validateReceivers(in.Receivers)...)
	if in.ExecutionID == "" {
		errs = append(errs, errors.New("execution id is empty"))
	}
	n := len(in.Parsed)
	if n == 0 || n > ChunkLimit(len(in.Receivers)) {
		errs = append(errs, fmt.Errorf("%d chunks for %d receivers, want 1..%d", n, len(in.Receivers), ChunkLimit(len(in.Receivers))))
	}
	parsed := slices.Clone(in.Parsed)
	slices.SortFunc(parsed, func(a, b ParseOutput) int { return a.Chunk - b.Chunk })
	for i, p := range parsed {
		if p.Chunk != i {
			errs = append(errs, fmt.Errorf("chunks are not 0..%d: found %d at position %d", n-1, p.Chunk, i))
			break
		}
	}
	if len(errs) == 0 {
		for _, p := range parsed {
			if err := p.Validate(in.Receivers); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("reserve input for %s: %w: %w", in.Object.URI(), ErrAccounting, err)
	}
	return parsed, nil
}
