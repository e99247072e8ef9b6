package pipeline

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/send"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/udp"
)

// Runner runs the four steps in-process for local objects: chunks are
// parsed by goroutines, staging lives in a local directory (or any Store),
// and sequence numbers come from an embedded store. Receivers keep one
// socket each for the whole run.
type Runner struct {
	Receivers   []receiver.Receiver
	Parser      flowlog.Options
	Seq         seq.Store
	Staging     staging.Store
	WriteBuffer int   // socket send buffer, 0 = system default
	Workers     int   // parallel chunk parsers, 0 = 1
	ChunkSize   int64 // uncompressed bytes per chunk
	SmallObject int64 // objects below this (compressed) are one chunk
	MaxChunks   int   // at most this many chunks per object
	// IndexedChunks makes runs with several workers plan chunks with the
	// gzip checkpoint index, as the Lambdas do, instead of streaming.
	IndexedChunks bool
	// PieceSize is the chunk size of a streamed run (Workers > 1); 0 means
	// DefaultPieceSize.
	PieceSize int
	Now       func() time.Time // nil: time.Now
	// Progress, when set, is called with the number of input bytes
	// consumed as parsing advances.
	Progress func(n int64)

	conns   []*udp.Conn
	mu      sync.Mutex
	Summary *Summary
}

// Input is one object to process: Source for objects read by byte ranges
// (files, S3), which are planned into chunks and parsed in parallel, or
// Open for streams (standard input), which are one chunk.
type Input struct {
	Name   string
	Source func() (chunk.Source, io.Closer, error)
	Open   func() (io.ReadCloser, error)
}

func (r *Runner) init(ctx context.Context) error {
	if r.Summary == nil {
		r.Summary = NewSummary(r.Receivers)
	}
	if r.conns != nil {
		return nil
	}
	r.conns = make([]*udp.Conn, len(r.Receivers))
	for i, rc := range r.Receivers {
		c, err := udp.Dial(ctx, rc.Address(), udp.Options{PPS: rc.PPS, WriteBuffer: r.WriteBuffer})
		if err != nil {
			return err
		}
		r.conns[i] = c
	}
	return nil
}

// Start opens the receivers' sockets and the summary before the first
// object, so that a receiver that cannot be reached fails the run before
// anything is read. Run calls it when it was not called.
func (r *Runner) Start(ctx context.Context) error { return r.init(ctx) }

// Run processes one object under the given claim (execution name): Plan,
// Parse, Reserve, Send.
func (r *Runner) Run(ctx context.Context, in Input, claim string) error {
	if err := r.init(ctx); err != nil {
		return err
	}
	if in.Source != nil {
		if r.Workers > 1 && !r.IndexedChunks {
			return r.runStreamed(ctx, in, claim)
		}
		return r.runChunked(ctx, in, claim)
	}
	rc, err := in.Open()
	if err != nil {
		return fmt.Errorf("open %s: %w", in.Name, err)
	}
	defer rc.Close()
	var src io.Reader = rc
	if r.Progress != nil {
		src = &progressReader{r: rc, fn: r.Progress}
	}
	// The same content checks as the Plan step of objects read by range.
	raw, head, whole, content := sniffStream(src)
	framing, err := inspectContent(raw, head, whole, r.Parser.Format)
	if err == nil && framing == contract.FramingParquet {
		err = ErrParquetStream
	}
	if err != nil {
		return fmt.Errorf("plan %s: %w", in.Name, err)
	}
	var lines LineSource = flowlog.NewLineReaderMax(content, r.Parser.MaxLine())
	if framing == contract.FramingCloudWatch {
		lines = flowlog.NewCloudWatchReader(content)
	}
	prefix := fmt.Sprintf("%s/", safeKey(claim))
	res, err := Parse(ctx, ParseInput{
		Object:    in.Name,
		Chunk:     0,
		Lines:     lines,
		Parser:    r.Parser,
		Receivers: r.Receivers,
		Staging:   r.Staging,
		KeyPrefix: prefix,
	})
	if err != nil {
		return err
	}
	chunks := []ChunkResult{res}
	return r.reserveAndSend(ctx, in.Name, claim, chunks)
}

// runChunked plans the object, parses its chunks on Workers goroutines and
// reserves and sends in chunk order.
func (r *Runner) runChunked(ctx context.Context, in Input, claim string) error {
	src, closer, err := in.Source()
	if err != nil {
		return fmt.Errorf("open %s: %w", in.Name, err)
	}
	defer closer.Close()
	popt := PlanOptions{ChunkSize: r.ChunkSize, SmallObject: r.SmallObject, MaxChunks: r.MaxChunks, Format: r.Parser.Format}
	if r.Workers <= 1 {
		// One worker gains nothing from chunks: read the object as one
		// chunk and skip the index pass, which decodes it a second time.
		popt.SmallObject = src.Size() + 1
	}
	plan, err := PlanObject(ctx, in.Name, src, popt)
	if err != nil {
		return err
	}
	var index chunk.Source
	if plan.Index != nil {
		index = chunk.BytesSource(plan.Index)
	}
	popts := r.Parser
	popts.Format = plan.Format
	prefix := safeKey(claim) + "/"
	items := plan.Chunks.Items
	results := make([]ChunkResult, len(items))
	share := src.Size() / int64(len(items))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	errs := make(chan error, len(items))
	var wg sync.WaitGroup
	for range max(r.Workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				err := r.parseChunk(ctx, in.Name, src, plan, index, popts, prefix, i, &results[i])
				if err != nil {
					cancel()
				} else if r.Progress != nil {
					r.Progress(share)
				}
				errs <- err
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range items {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	if err := context.Cause(ctx); err != nil && ctx.Err() != context.Canceled {
		return err
	}
	return r.reserveAndSend(ctx, in.Name, claim, results)
}

func (r *Runner) parseChunk(ctx context.Context, name string, src chunk.Source, plan *ObjectPlan, index chunk.Source, popts flowlog.Options, prefix string, i int, out *ChunkResult) error {
	it := plan.Chunks.Items[i]
	lines, closer, err := ChunkLines(ctx, src, it, index, plan.Framing, popts.MaxLine())
	if err != nil {
		return fmt.Errorf("%s chunk %d: %w", name, i, err)
	}
	defer closer.Close()
	var header []byte
	if i == 0 && plan.FromHeader {
		header = []byte(plan.HeaderLine)
	}
	res, err := Parse(ctx, ParseInput{
		Object: name, Chunk: i, Lines: lines, Header: header, Parser: popts,
		Receivers: r.Receivers, Staging: r.Staging, KeyPrefix: prefix,
	})
	if err != nil {
		return err
	}
	*out = res
	return nil
}

func (r *Runner) reserveAndSend(ctx context.Context, name, claim string, chunks []ChunkResult) error {
	for _, c := range chunks {
		r.Summary.AddChunk(c)
	}
	r.Summary.Objects++
	// Counted above, but nothing is reserved or sent for an object whose
	// every data line is malformed.
	if err := CheckObject(name, chunks); err != nil {
		return err
	}
	ranges, totals, err := Reserve(ctx, r.Seq, claim, r.Receivers, chunks)
	if err != nil {
		return err
	}
	r.Summary.AddReserved(totals)
	// Chunks go out in order, so every collector sees its sequence numbers
	// ascend without gaps; receivers are independent and run side by side.
	errs := make(chan error, len(r.Receivers))
	for i, rc := range r.Receivers {
		go func() {
			for c, ch := range chunks {
				res, err := Send(ctx, SendInput{
					Receiver: rc,
					Key:      ch.Receivers[i].Key,
					Range:    ranges[c][i],
					Staging:  r.Staging,
					Conn:     r.conns[i],
					Now:      r.Now,
				})
				if err != nil {
					errs <- err
					return
				}
				r.addSent(i, res.Result)
			}
			errs <- nil
		}()
	}
	var first error
	for range r.Receivers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close flushes and closes the sockets and records what they counted.
func (r *Runner) Close(ctx context.Context) error {
	var first error
	for i, c := range r.conns {
		if c == nil {
			continue
		}
		if err := c.Close(ctx); err != nil && first == nil {
			first = err
		}
		r.Summary.Receivers[i].Refused = c.Stats().Refused
	}
	r.conns = nil
	return first
}

func (r *Runner) addSent(i int, res send.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Summary.AddSent(i, res)
}

func safeKey(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

type progressReader struct {
	r  io.Reader
	fn func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.fn(int64(n))
	}
	return n, err
}
