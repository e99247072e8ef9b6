package pipeline

import (
	"encoding/json"
	"fmt"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/send"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/total"
)

// ReceiverSummary totals one receiver over a run.
type ReceiverSummary struct {
	URL         string    `json:"url"`
	Protocol    string    `json:"protocol"`
	Exporter    string    `json:"exporter"`
	Flows       uint64    `json:"flows"`       // input records exported
	Unsupported uint64    `json:"unsupported"` // input records the protocol cannot carry (IPv6 for v5)
	Records     uint64    `json:"records"`     // wire records (v5 splits counters above 2^32)
	Datagrams   uint64    `json:"datagrams"`
	Units       uint64    `json:"sequence_units"`
	Bytes       total.Sum `json:"bytes"`   // sum of exported flows' bytes, exact beyond 2^64
	Packets     total.Sum `json:"packets"` // sum of exported flows' packets, exact beyond 2^64
	// FirstSequence and LastSequence are the wire sequence numbers (mod
	// 2^32) of the first and last unit sent; absent when nothing was sent.
	FirstSequence *uint32 `json:"first_sequence,omitempty"`
	LastSequence  *uint32 `json:"last_sequence,omitempty"`
	SentBytes     uint64  `json:"sent_bytes"` // UDP payload bytes, templates included
	Templates     uint64  `json:"template_datagrams"`
	// Refused is a lower bound of the datagrams the kernel reported
	// refused (ICMP port unreachable: nothing listens there); any refusal
	// fails the receiver's sends.
	Refused uint64 `json:"refused"`
	// PPS is the pace the receiver was sent at (datagrams per second),
	// 0 when unpaced.
	PPS int `json:"pps"`
}

// Summary totals a run of one or more objects.
type Summary struct {
	// Execution is the run's sequence claim: a run with the same name
	// (--execution) resends the same sequence numbers.
	Execution string            `json:"execution,omitempty"`
	Objects   int               `json:"objects"`
	Chunks    int               `json:"chunks"`
	Counts    flowlog.Counts    `json:"-"` // lines, records, skipped by reason
	Errors    []string          `json:"errors,omitempty"`
	Receivers []ReceiverSummary `json:"receivers"`
	// Failed lists the objects (or inputs) that could not be processed, in
	// the order they failed; the run then exits non-zero. Ignored lists
	// what a directory held that was deliberately not read.
	Failed  []Failure `json:"failed"`
	Ignored []Ignored `json:"ignored"`
	Seconds float64   `json:"seconds"`
}

// Failure is an object that failed. Counted says whether its lines are in
// the totals: an object is counted once it is parsed completely (it then
// failed while reserving or sending, and the receivers' datagrams show
// what was sent); an object that failed earlier adds nothing to them.
type Failure struct {
	Object  string `json:"object"`
	Error   string `json:"error"`
	Counted bool   `json:"counted"`
}

// Ignored is an entry of an input directory that was not read, and why
// (hidden, a second path to a file or directory already read, a symbolic
// link loop).
type Ignored struct {
	Object string `json:"object"`
	Reason string `json:"reason"`
}

// AddFailure records a failed object.
func (s *Summary) AddFailure(object string, err error, counted bool) {
	s.Failed = append(s.Failed, Failure{Object: object, Error: err.Error(), Counted: counted})
}

// NewSummary starts an empty summary for the receivers.
func NewSummary(rs []receiver.Receiver) *Summary {
	s := &Summary{Receivers: make([]ReceiverSummary, len(rs))}
	for i, r := range rs {
		s.Receivers[i] = ReceiverSummary{URL: r.URL, Protocol: r.Protocol.String(), Exporter: r.Exporter(), PPS: r.PPS}
	}
	return s
}

// AddChunk adds a parsed chunk.
func (s *Summary) AddChunk(c ChunkResult) {
	s.Chunks++
	s.Counts.Add(c.Counts)
	if room := flowlog.MaxErrors - len(s.Errors); room > 0 {
		s.Errors = append(s.Errors, c.Errors[:min(room, len(c.Errors))]...)
	}
	for i, r := range c.Receivers {
		rs := &s.Receivers[i]
		rs.Flows += r.Flows
		rs.Unsupported += r.Unsupported
		rs.Records += r.Frames.Records
		rs.Units += r.Frames.Units
		rs.Bytes.AddSum(r.Bytes)
		rs.Packets.AddSum(r.Packets)
	}
}

// AddReserved notes the per-receiver ranges reserved for an object.
func (s *Summary) AddReserved(totals []seq.Range) {
	for i, rng := range totals {
		if rng.Count == 0 {
			continue
		}
		rs := &s.Receivers[i]
		if rs.FirstSequence == nil {
			f := rng.First32()
			rs.FirstSequence = &f
		}
		l := uint32(rng.First + rng.Count - 1)
		rs.LastSequence = &l
	}
}

// AddSent adds one Send step's result for receiver i.
func (s *Summary) AddSent(i int, r send.Result) {
	rs := &s.Receivers[i]
	rs.Datagrams += r.Datagrams
	rs.SentBytes += r.Bytes
	rs.Templates += r.Templates
}

// Check verifies the accounting: every line is a record or a counted skip,
// and for every receiver every record was exported or counted unsupported.
func (s *Summary) Check() error {
	if err := s.Counts.Check(); err != nil {
		return err
	}
	for _, r := range s.Receivers {
		if r.Flows+r.Unsupported != uint64(s.Counts.Records) {
			return fmt.Errorf("receiver %s: %d exported + %d unsupported != %d records", r.URL, r.Flows, r.Unsupported, s.Counts.Records)
		}
	}
	return nil
}

// MarshalJSON writes the summary with lines, records and skipped at the top.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	if s.Failed == nil {
		s.Failed = []Failure{}
	}
	if s.Ignored == nil {
		s.Ignored = []Ignored{}
	}
	skipped := map[string]int64{}
	for r, n := range s.Counts.Skipped {
		if n != 0 {
			skipped[flowlog.SkipReason(r).String()] = n
		}
	}
	return json.Marshal(struct {
		Lines   int64            `json:"lines"`
		Records int64            `json:"records"`
		Skipped map[string]int64 `json:"skipped"`
		plain
	}{s.Counts.Lines, s.Counts.Records, skipped, plain(s)})
}
