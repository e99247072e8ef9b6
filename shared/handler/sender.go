package handler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/emf"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/pipeline"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/progress"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/send"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/sfnerr"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/udp"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/wait"
)

// Sender is the Send step. It keeps one socket per receiver across warm
// invocations (a fixed source port for as long as the execution
// environment lives), and sends templates at the start of every
// invocation's stream, since the next invocation may come from another
// environment and another port.
type Sender struct {
	Staging     staging.Store
	WriteBuffer int
	Now         func() time.Time
	// TemplatePackets and TemplateInterval replace the template refresh
	// defaults for receivers whose URL does not set them (0: keep).
	TemplatePackets  int
	TemplateInterval time.Duration

	// Progress makes sends resumable and idempotent (nil: every attempt
	// sends the whole chunk); CheckpointEvery is how many datagrams go out
	// between two records (0: pipeline.DefaultCheckpointEvery).
	Progress        progress.Store
	CheckpointEvery int
	// StopMargin: a send stops this long before the invocation's deadline
	// (0: DefaultStopMargin).
	StopMargin time.Duration
	// Order, when set, sends each exporter's ranges in the order they were
	// reserved, across executions: a chunk waits (up to MaxWait, then
	// ExporterBusyError, which Step Functions retries) until every earlier
	// range of its exporter was sent, and ranges left unsent for Stall are
	// given up (0: DefaultMaxWait, DefaultStall).
	Order   seq.Order
	MaxWait time.Duration
	Stall   time.Duration

	mu    sync.Mutex
	conns map[string]*udp.Conn
}

func (s *Sender) conn(ctx context.Context, r receiver.Receiver) (*udp.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.conns[r.URL]; ok {
		return c, nil
	}
	c, err := udp.Dial(ctx, r.Address(), udp.Options{PPS: r.PPS, WriteBuffer: s.WriteBuffer})
	if err != nil {
		return nil, err
	}
	if s.conns == nil {
		s.conns = map[string]*udp.Conn{}
	}
	s.conns[r.URL] = c
	return c, nil
}

func (s *Sender) drop(ctx context.Context, r receiver.Receiver) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.conns[r.URL]; ok {
		c.Close(ctx)
		delete(s.conns, r.URL)
	}
}

// DefaultMaxWait is how long a send waits in one invocation for its
// exporter's earlier ranges before it returns ExporterBusyError.
const DefaultMaxWait = 20 * time.Second

// DefaultStall is how long an exporter's watermark may stand still before
// the ranges below a waiting send are given up: longer than a sender
// invocation (900 s at most) plus the retries of a failing chunk, so only
// the ranges of executions that stopped are given up.
const DefaultStall = 20 * time.Minute

// orderPoll is how often a waiting send reads the watermark (1 RCU each).
const orderPoll = 250 * time.Millisecond

// DefaultStopMargin is how long before the Lambda's deadline a send stops,
// records its progress and fails as retryable, so that the retry resumes
// after the last datagram sent instead of Lambda killing the function at
// its timeout with nothing recorded since the last checkpoint.
const DefaultStopMargin = 10 * time.Second

// Handle sends one chunk's frames to one receiver with the reserved
// sequence numbers and deletes the staging object. With Progress set it is
// idempotent and resumable: a chunk recorded done is not sent again, and a
// retry after a partial send goes on after the last datagram recorded.
func (s *Sender) Handle(ctx context.Context, in contract.SendInput) (contract.SendOutput, error) {
	return s.HandleWith(ctx, s.Staging, in)
}

// HandleWith is Handle reading the frames from st (the Convert step's local
// staging) instead of s.Staging.
func (s *Sender) HandleWith(ctx context.Context, st staging.Store, in contract.SendInput) (contract.SendOutput, error) {
	out, err := s.handle(ctx, st, in)
	return out, failed("Send", in.Object.URI(), err)
}

func (s *Sender) handle(ctx context.Context, st staging.Store, in contract.SendInput) (contract.SendOutput, error) {
	start := time.Now()
	out := contract.SendOutput{Chunk: in.Chunk, Receiver: in.Receiver}
	target, err := in.Target()
	if err != nil {
		return out, fmt.Errorf("%w: %w", errInvalid, err)
	}
	rc, err := receiver.Parse(target.URL)
	if err != nil {
		return out, fmt.Errorf("%w: %w", errInvalid, err)
	}
	if s.TemplatePackets > 0 && !strings.Contains(target.URL, "template-packets=") {
		rc.TemplatePackets = s.TemplatePackets
	}
	if s.TemplateInterval > 0 && !strings.Contains(target.URL, "template-interval=") {
		rc.TemplateInterval = s.TemplateInterval
	}
	conn, err := s.conn(ctx, rc)
	if err != nil {
		return out, err
	}
	var stop func() bool
	if dl, ok := ctx.Deadline(); ok {
		at := dl.Add(-s.margin())
		stop = func() bool { return time.Now().After(at) }
	}
	var turn, sentFn func(context.Context) error
	var late bool
	var skipped uint64
	if s.Order != nil {
		exporter := rc.Exporter()
		turn = func(ctx context.Context) error {
			tu, err := s.waitTurn(ctx, exporter, in.First)
			late, skipped = tu.Late, tu.Skipped
			return err
		}
		sentFn = func(ctx context.Context) error { return s.Order.Sent(ctx, exporter, in.First, in.Count) }
	}
	res, err := pipeline.Send(ctx, pipeline.SendInput{
		Receiver:        rc,
		Key:             in.StagingKey(),
		Range:           seq.Range{First: in.First, Count: in.Count},
		Staging:         st,
		Conn:            conn,
		Now:             s.Now,
		Progress:        s.Progress,
		ProgressKey:     progress.Key{Execution: in.ExecutionID, Chunk: in.Chunk, Receiver: in.Receiver},
		CheckpointEvery: s.CheckpointEvery,
		Stop:            stop,
		Turn:            turn,
		Sent:            sentFn,
	})
	if err != nil {
		s.drop(ctx, rc)
		err = fmt.Errorf("send chunk %d of %s to %s: %w", in.Chunk, in.Object.URI(), rc, err)
		switch {
		case errors.Is(err, send.ErrStopped):
			return out, sfnerr.Retryable(fmt.Errorf("%w after %d of the chunk's datagrams, %s before the Lambda timeout; the retry resumes there", err, res.Datagrams, s.margin()))
		case errors.Is(err, pipeline.ErrStagingGone):
			return out, sfnerr.Invalid(err)
		}
		return out, err
	}
	out.Datagrams = res.Datagrams
	out.Bytes = res.Bytes
	out.Late, out.Skipped = late, skipped
	out.DurationMS = time.Since(start).Milliseconds()
	if !res.Recorded {
		emit("sender", in.Object.URI(), []string{emf.DimReceiver, in.Receiver}, func(l *emf.Logger) {
			l.Put(emf.MetricDatagrams, float64(res.Datagrams-res.Resumed), emf.Count)
			l.Put(emf.MetricBytes, float64(res.Bytes), emf.Bytes)
			if skipped > 0 {
				l.Put(emf.MetricSequenceSkipped, float64(skipped), emf.Count)
			}
			if late {
				l.Put(emf.MetricLateSends, 1, emf.Count)
			}
		})
	}
	emitDuration("sender", "send", in.Object.URI(), start)
	return out, nil
}

// waitTurn polls the exporter's send order until the range at first may
// go, for at most MaxWait (and never past the invocation's stop margin).
func (s *Sender) waitTurn(ctx context.Context, exporter string, first uint64) (seq.Turn, error) {
	maxWait, stall := s.MaxWait, s.Stall
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	if stall <= 0 {
		stall = DefaultStall
	}
	until := time.Now().Add(maxWait)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-2*s.margin()).Before(until) {
		until = dl.Add(-2 * s.margin())
	}
	for {
		tu, err := s.Order.Turn(ctx, exporter, first, stall)
		if err != nil || tu.Go {
			return tu, err
		}
		if time.Now().After(until) {
			return tu, &sfnerr.ExporterBusyError{Err: fmt.Errorf("exporter %s has sent up to %d; this chunk starts at %d: waiting for the earlier ranges (reserved by other executions) to be sent", exporter, tu.Next, first)}
		}
		if err := wait.Sleep(ctx, orderPoll); err != nil {
			return tu, err
		}
	}
}

func (s *Sender) margin() time.Duration {
	if s.StopMargin > 0 {
		return s.StopMargin
	}
	return DefaultStopMargin
}
