package contract

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Skip reasons: the keys of Counts.Skipped and the "Reason" dimension of
// the SkippedLines metric. They are the names of shared/flowlog's skip
// reasons (flowlog.SkipReason.String), in the same order; a test keeps the
// two lists equal.
const (
	SkipHeader      = "header"      // the header line
	SkipBlank       = "blank"       // an empty line
	SkipNoData      = "nodata"      // log-status NODATA
	SkipSkipData    = "skipdata"    // log-status SKIPDATA
	SkipMalformed   = "malformed"   // unparsable line
	SkipUnsupported = "unsupported" // a record a receiver's protocol cannot carry: IPv6 for NetFlow v5 (per receiver: ReceiverOutput.Unsupported)
	SkipFiltered    = "filtered"    // dropped by a configured filter
	SkipControl     = "control"     // a CloudWatch Logs CONTROL_MESSAGE event
)

// SkipReasons lists every skip reason, in flowlog.SkipReasons order.
var SkipReasons = []string{SkipHeader, SkipBlank, SkipNoData, SkipSkipData, SkipMalformed, SkipUnsupported, SkipFiltered, SkipControl}

// ParseInput is one Parse Map item (the parser's input), built by the Parse
// state's ItemSelector from the plan and one ChunkRef.
type ParseInput struct {
	ExecutionName string     `json:"execution_name"`
	Object        ObjectRef  `json:"object"`
	Format        Format     `json:"format"`
	IndexKey      string     `json:"index_key"`
	StagingPrefix string     `json:"staging_prefix"`
	Receivers     []Receiver `json:"receivers"`
	Chunk         ChunkRef   `json:"chunk"`
}

// StagingKey is where the parser writes the frames for receiver.
func (in ParseInput) StagingKey(receiver string) string {
	return StagingKey(in.StagingPrefix, in.Chunk.Index, receiver)
}

// Counts are line totals for a chunk or a whole object. Accounting:
// Lines = Records + sum(Skipped).
type Counts struct {
	// Lines is every line the chunk owns, the header line included.
	Lines int64 `json:"lines"`
	// Records is the lines that parsed into flow records.
	Records int64 `json:"records"`
	// Skipped counts the other lines by reason (zero reasons omitted).
	// The keys are SkipReasons; SkipUnsupported never appears here (a
	// record one receiver cannot carry is still a record: it is counted
	// per receiver, in ReceiverOutput.Unsupported).
	Skipped map[string]int64 `json:"skipped,omitempty"`
}

// SkippedTotal returns the sum of Skipped.
func (c Counts) SkippedTotal() int64 {
	var n int64
	for _, v := range c.Skipped {
		n += v
	}
	return n
}

// Add adds o into c.
func (c *Counts) Add(o Counts) {
	c.Lines += o.Lines
	c.Records += o.Records
	c.Skipped = addSkipped(c.Skipped, o.Skipped)
}

func addSkipped(into, from map[string]int64) map[string]int64 {
	for k, v := range from {
		if v == 0 {
			continue
		}
		if into == nil {
			into = map[string]int64{}
		}
		into[k] += v
	}
	return into
}

// ReceiverOutput is what one chunk produced for one receiver. Short JSON
// names: there is one per chunk × receiver (see the package comment).
// Per-receiver accounting: Counts.Records = Flows + Unsupported.
type ReceiverOutput struct {
	// Receiver is the Receiver.ID.
	Receiver string `json:"r"`
	// Frames is the number of datagrams staged.
	Frames uint64 `json:"d"`
	// Units is the sequence units they consume (v5: flow records, v9:
	// datagrams, IPFIX: data records).
	Units uint64 `json:"u"`
	// Records is the wire records (a v5 flow with counters above 2^32-1
	// becomes several).
	Records uint64 `json:"n"`
	// Flows is the flow records exported to this receiver.
	Flows uint64 `json:"f"`
	// Bytes is the staged frames' total size.
	Bytes uint64 `json:"b"`
	// Unsupported counts flow records this receiver cannot carry (IPv6
	// for NetFlow v5: skip reason SkipUnsupported). Filters apply to every
	// receiver alike and count in Counts.Skipped[SkipFiltered].
	Unsupported uint64 `json:"x,omitempty"`
}

// ParseOutput is the parser's result for one chunk. The Parse Map collects
// them, in chunk order, at $.parsed.
type ParseOutput struct {
	Chunk  int    `json:"chunk"`
	Counts Counts `json:"counts"`
	// FirstMalformed is the file line number (1-based; chunk-relative and
	// negated when the chunk's LineBase is unknown) of the first malformed
	// line, 0 if none.
	FirstMalformed int64 `json:"first_malformed,omitempty"`
	// FirstError is the first malformed line's report (at most
	// MaxFirstError bytes), set only in the first FirstErrorChunks chunks
	// and only when the chunk has no valid line: what CheckObject's error
	// quotes.
	FirstError string `json:"first_error,omitempty"`
	// Out has one entry per plan receiver, in plan order.
	Out []ReceiverOutput `json:"out"`
}

// Validate checks the output against the plan's receivers.
func (o ParseOutput) Validate(receivers []Receiver) error {
	var errs []error
	if o.Counts.Lines != o.Counts.Records+o.Counts.SkippedTotal() {
		errs = append(errs, fmt.Errorf("lines %d != records %d + skipped %d",
			o.Counts.Lines, o.Counts.Records, o.Counts.SkippedTotal()))
	}
	for _, k := range slices.Sorted(maps.Keys(o.Counts.Skipped)) {
		switch {
		case !slices.Contains(SkipReasons, k):
			errs = append(errs, fmt.Errorf("unknown skip reason %q", k))
		case k == SkipUnsupported && o.Counts.Skipped[k] != 0:
			errs = append(errs, fmt.Errorf("skip reason %q is counted per receiver, not in the chunk's counts", k))
		}
	}
	if len(o.Out) != len(receivers) {
		errs = append(errs, fmt.Errorf("%d receiver outputs for %d receivers", len(o.Out), len(receivers)))
	} else {
		for i, ro := range o.Out {
			if ro.Receiver != receivers[i].ID {
				errs = append(errs, fmt.Errorf("output %d is for receiver %q, want %q", i, ro.Receiver, receivers[i].ID))
			}
			if int64(ro.Flows+ro.Unsupported) != o.Counts.Records {
				errs = append(errs, fmt.Errorf("receiver %s: flows %d + unsupported %d != records %d",
					ro.Receiver, ro.Flows, ro.Unsupported, o.Counts.Records))
			}
			if (ro.Frames == 0) != (ro.Units == 0) {
				errs = append(errs, fmt.Errorf("receiver %s: %d frames carry %d units", ro.Receiver, ro.Frames, ro.Units))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("parse output of chunk %d: %w", o.Chunk, err)
	}
	return nil
}

// ErrAllMalformed is returned by CheckObject for an object none of whose
// data lines is a flow-log line.
var ErrAllMalformed = errors.New("every data line is malformed")

// Bounds of ParseOutput.FirstError.
const (
	// FirstErrorChunks is how many leading chunks report FirstError: an
	// object that fails CheckObject has no valid line in any chunk, so its
	// first chunks name the reason, and the Parse Map output stays bounded.
	FirstErrorChunks = 2
	// MaxFirstError bounds FirstError, in bytes.
	MaxFirstError = 160
)

// CheckObject is the rule every run applies to a whole object once all its
// chunks are parsed, before anything is reserved or sent: an object with
// at least one malformed line and no valid flow-log line (no record, no
// NODATA or SKIPDATA line, nothing filtered; header and blank lines do not
// count) fails, with an error wrapping ErrAllMalformed that gives the
// counts and the first reasons. Such an object is not a flow log of the
// format the run reads (e.g. a header without srcaddr, a binary object read
// with --format), and sending nothing while reporting success would lose it
// silently.
func CheckObject(c Counts, reasons []string) error {
	malformed := c.Skipped[SkipMalformed]
	valid := c.Records + c.Skipped[SkipNoData] + c.Skipped[SkipSkipData] + c.Skipped[SkipFiltered]
	if malformed == 0 || valid > 0 {
		return nil
	}
	msg := fmt.Sprintf("%d of %d lines malformed, no flow-log record", malformed, c.Lines)
	if len(reasons) > 3 {
		reasons = reasons[:3]
	}
	for i, r := range reasons {
		if i == 0 {
			msg += "; first: "
		} else {
			msg += "; "
		}
		msg += r
	}
	return fmt.Errorf("%w: %s", ErrAllMalformed, msg)
}

// CutFirstError shortens a malformed-line report to MaxFirstError bytes.
func CutFirstError(s string) string {
	if len(s) <= MaxFirstError {
		return s
	}
	return s[:MaxFirstError-3] + "..."
}
