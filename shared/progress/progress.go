// Package progress records how far each send of one chunk to one receiver
// got, so that a retried or redriven Send step finishes what is left with
// the same sequence numbers and never resends what already went out.
//
// Step Functions may run a Send task again after it ran: a Retry of a
// Lambda service error ("Your function's code might have run completely,
// partially, or not at all. If you retry, ensure that your function's code
// can handle the same event multiple times", Lambda "Understanding retry
// behavior", https://docs.aws.amazon.com/lambda/latest/dg/invocation-retries),
// a RetryableError, or a redrive, which "Schedules and starts the Task state
// again" for the iterations that failed (Step Functions "Restarting state
// machine executions with redrive",
// https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html).
// The sender reads the record first: a done send returns its result
// without sending; a partial one resumes after the last datagram recorded.
package progress

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/send"
)

// Key names one send: one chunk of one execution to one receiver.
type Key struct {
	Execution string // the execution id (ARN on AWS, the run name locally)
	Chunk     int
	Receiver  string // receiver id
}

func (k Key) String() string { return fmt.Sprintf("%s/c%05d/%s", k.Execution, k.Chunk, k.Receiver) }

// Record is what a Store keeps per Key.
type Record struct {
	// Sent counts the datagrams (and their units, records, bytes,
	// templates) that left through the socket, from the stream's start.
	Sent send.Result
	// Prev is the checkpoint before Sent. A refusal (ICMP port
	// unreachable) is reported some time after the datagrams it refused
	// left, so a refused send resumes from Prev, not Sent: what the
	// collector missed just before the refusal is sent again.
	Prev send.Result
	// Done: every datagram of the chunk was sent.
	Done bool
}

// ErrDone is returned by Put when the record is already done (another
// attempt finished the send).
var ErrDone = errors.New("send already recorded as done")

// Store keeps the records.
type Store interface {
	// Get returns the record of k, the zero Record if there is none.
	Get(ctx context.Context, k Key) (Record, error)
	// Put replaces the record of k unless it is done (ErrDone).
	Put(ctx context.Context, k Key, r Record) error
}

// Memory is a Store in memory (tests, and local runs that keep no record
// across processes).
type Memory struct {
	mu sync.Mutex
	m  map[Key]Record
}

var _ Store = (*Memory)(nil)

// Get implements Store.
func (m *Memory) Get(_ context.Context, k Key) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m[k], nil
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, k Key, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[Key]Record{}
	}
	if m.m[k].Done {
		return ErrDone
	}
	m.m[k] = r
	return nil
}
