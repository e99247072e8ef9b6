package contract

import "fmt"

// SendStreamInput is the input of one Send Map iteration (the inner
// SendStream Map's input), built by the Send state's ItemSelector from the
// state and one SendStream: what every item's SendInput needs plus the
// stream's items in chunk order.
type SendStreamInput struct {
	ExecutionID   string     `json:"execution_id"`
	Object        ObjectRef  `json:"object"`
	StagingPrefix string     `json:"staging_prefix"`
	Receivers     []Receiver `json:"receivers"`
	// Items are SendStream.Items.
	Items []SendItem `json:"items"`
}

// SendInput is one chunk for one receiver (the sender's input), built by
// the SendStream state's ItemSelector from the SendStreamInput and one of
// its items, whose fields it carries inline (c, r, f, n, d).
type SendInput struct {
	ExecutionID   string     `json:"execution_id"`
	Object        ObjectRef  `json:"object"`
	StagingPrefix string     `json:"staging_prefix"`
	Receivers     []Receiver `json:"receivers"`
	SendItem
}

// StagingKey is the staging object to stream (and delete when sent).
func (in SendInput) StagingKey() string {
	return StagingKey(in.StagingPrefix, in.Chunk, in.Receiver)
}

// Target returns the receiver the item is for.
func (in SendInput) Target() (Receiver, error) {
	for _, r := range in.Receivers {
		if r.ID == in.Receiver {
			return r, nil
		}
	}
	return Receiver{}, fmt.Errorf("send chunk %d: receiver %q is not in the receiver list", in.Chunk, in.Receiver)
}

// SendOutput is the sender's result for one item. Short JSON names: there is
// one per SendItem, collected at $.sent (one list per stream).
type SendOutput struct {
	Chunk    int    `json:"c"`
	Receiver string `json:"r"`
	// Datagrams sent (data frames plus any template-only datagrams).
	Datagrams uint64 `json:"d"`
	// Bytes of UDP payload sent.
	Bytes uint64 `json:"b"`
	// DurationMS is the wall time of the send, pacing included.
	DurationMS int64 `json:"ms"`
	// Late: the exporter had already sent past this chunk's numbers (its
	// range was given up, or a redrive came late): they went out of order.
	Late bool `json:"late,omitempty"`
	// Skipped counts the exporter's values this send gave up before it
	// went: ranges of other executions left unsent for the stall time.
	Skipped uint64 `json:"skipped,omitempty"`
}

// The state document between steps. The ASL's ResultPaths build it:
// Plan "$.plan", Parse "$.parsed", Reserve "$" (replaces the state),
// Send "$.sent". No state catches errors: a failing Task fails the
// execution with the Lambda's error, whose message names the step and the
// object (handler.failed), so that a redrive runs the failed Task again.

// StateAfterPlan is the state after Plan.
type StateAfterPlan struct {
	ExecutionInput
	Plan PlanOutput `json:"plan"`
}

// StateAfterParse is the state after Parse.
type StateAfterParse struct {
	StateAfterPlan
	Parsed []ParseOutput `json:"parsed"`
}

// StateAfterSend is the state after Send; the Summary state outputs its
// Summary.
type StateAfterSend struct {
	ReserveOutput
	// Sent is the Send Map's output: per stream (in Streams order) the
	// SendStream Map's output, one SendOutput per item in chunk order.
	Sent [][]SendOutput `json:"sent"`
}

// DuplicateOutput is the output of an execution that ended early because
// another execution owns the object version (PlanOutput.Duplicate).
type DuplicateOutput struct {
	Object    ObjectRef `json:"object"`
	Duplicate string    `json:"duplicate"`
}
