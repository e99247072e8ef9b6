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
		margin := s.StopMargin
		if margin <= 0 {
			margin = DefaultStopMargin
		}
		at := dl.Add(-margin)
		stop = func() bool { return time.Now().After(at) }
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
	out.DurationMS = time.Since(start).Milliseconds()
	if !res.Recorded {
		emit("sender", in.Object.URI(), []string{emf.DimReceiver, in.Receiver}, func(l *emf.Logger) {
			l.Put(emf.MetricDatagrams, float64(res.Datagrams-res.Resumed), emf.Count)
			l.Put(emf.MetricBytes, float64(res.Bytes), emf.Bytes)
		})
	}
	emitDuration("sender", "send", in.Object.URI(), start)
	return out, nil
}

func (s *Sender) margin() time.Duration {
	if s.StopMargin > 0 {
		return s.StopMargin
	}
	return DefaultStopMargin
}
