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
}

// The state document between steps. The ASL's ResultPaths build it:
// Plan "$.plan", Parse "$.parsed", Reserve "$" (replaces the state),
// Send "$.sent". A Catch replaces the state with the caught error
// (CaughtError, ResultPath "$"), so a failing step never adds 32 KiB to the
// largest state; the error builder names the object from
// $$.Execution.Input.

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

// CaughtError is the state a Catch leaves (ResultPath "$").
type CaughtError struct {
	Error string `json:"Error"`
	// Cause is the Lambda error as a JSON string
	// ({"errorMessage":...,"errorType":...}), at most 32,768 characters.
	Cause string `json:"Cause"`
}

// MaxCause is the longest Cause Step Functions keeps.
const MaxCause = 32768

// Failure is the document the error builders hand to the Fail state: Error
// is the caught error name, Cause "<step> failed for s3://<bucket>/<key>:
// <caught cause>" (bucket and key as in the execution input).
type Failure struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}
