package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
)

// DefaultPieceSize is the uncompressed size of one chunk of a streamed run.
const DefaultPieceSize = 4 << 20

// runStreamed is the local run with several workers: one goroutine
// decompresses the object once and cuts it at line boundaries into chunks
// of about PieceSize bytes, which the workers parse in parallel; then the
// chunks are reserved and sent in order, as in every run. Unlike the
// Lambdas' plan, it needs no checkpoint index (which would decode the
// object twice), because one process sees the whole stream. Memory is
// bounded by a few chunk buffers.
func (r *Runner) runStreamed(ctx context.Context, in Input, claim string) error {
	src, closer, err := in.Source()
	if err != nil {
		return fmt.Errorf("open %s: %w", in.Name, err)
	}
	defer closer.Close()
	// The same content checks as the Plan step.
	framing, err := inspectSource(ctx, src, r.Parser.Format)
	if err != nil {
		return fmt.Errorf("plan %s: %w", in.Name, err)
	}
	if framing != contract.FramingLines {
		// Firehose records may be concatenated without newlines, and
		// subscription payloads are JSON: the planned path reads them as
		// one chunk.
		return r.runChunked(ctx, in, claim)
	}
	rc, err := src.OpenRange(ctx, 0, src.Size())
	if err != nil {
		return fmt.Errorf("read %s: %w", in.Name, err)
	}
	defer rc.Close()
	var body io.Reader = rc
	if r.Progress != nil {
		body = &progressReader{r: rc, fn: r.Progress}
	}
	content := decompressed(body)
	piece := r.PieceSize
	if piece <= 0 {
		piece = DefaultPieceSize
	}
	workers := max(r.Workers, 1)
	free := make(chan []byte, workers+2)
	for range workers + 2 {
		free <- make([]byte, 0, piece+64<<10)
	}
	type job struct {
		n        int
		data     []byte
		lineBase int64 // lines before the chunk
		header   []byte
	}
	jobs := make(chan job, workers)
	var (
		mu      sync.Mutex
		results []ChunkResult
		format  *flowlog.Format
	)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// The cutter: fills buffers, cuts after the last newline, carries the
	// rest over. A line longer than maxLine is cut to maxLine+1 bytes (the
	// parser counts it as malformed) and the rest of it is discarded up to
	// its newline, so no buffer grows beyond about max(piece, maxLine).
	maxLine := r.Parser.MaxLine()
	cutErr := make(chan error, 1)
	go func() {
		defer close(jobs)
		var carry []byte
		var lines int64
		skip := make([]byte, 64<<10)
		n := 0
		eof := false
		for !eof {
			var buf []byte
			select {
			case buf = <-free:
			case <-ctx.Done():
				cutErr <- nil
				return
			}
			buf = append(buf[:0], carry...)
			hasNL := bytes.IndexByte(buf, '\n') >= 0
			for !eof && (len(buf) < piece || !hasNL) {
				if !hasNL && len(buf) > maxLine {
					// buf is one partial line, already too long.
					buf = buf[:maxLine+1]
					for {
						k, err := content.Read(skip)
						if i := bytes.IndexByte(skip[:k], '\n'); i >= 0 {
							buf = append(append(buf, '\n'), skip[i+1:k]...)
							hasNL = true
							break
						}
						if errors.Is(err, io.EOF) {
							eof = true
							break
						} else if err != nil {
							cutErr <- fmt.Errorf("read %s: %w", in.Name, err)
							return
						}
					}
					continue
				}
				if len(buf) == cap(buf) {
					buf = slices.Grow(buf, max(cap(buf)/2, 64<<10))
				}
				k, err := content.Read(buf[len(buf):cap(buf)])
				hasNL = hasNL || bytes.IndexByte(buf[len(buf):len(buf)+k], '\n') >= 0
				buf = buf[:len(buf)+k]
				if errors.Is(err, io.EOF) {
					eof = true
				} else if err != nil {
					cutErr <- fmt.Errorf("read %s: %w", in.Name, err)
					return
				}
			}
			cut := len(buf)
			if !eof {
				cut = bytes.LastIndexByte(buf, '\n') + 1
			}
			carry = append(carry[:0:0], buf[cut:]...)
			data := buf[:cut]
			j := job{n: n, data: data, lineBase: lines}
			if n == 0 {
				// Chunk 0 decides the format: a header line, else the
				// configured one.
				first, _, _ := bytes.Cut(data, []byte{'\n'})
				first = bytes.TrimRight(first, "\r")
				if f := headerFormat(first); f != nil {
					format = f
					j.header = append([]byte(nil), first...)
					j.data = data[min(len(first)+1, len(data)):]
					if len(first) < len(data) && data[len(first)] == '\r' {
						j.data = data[min(len(first)+2, len(data)):]
					}
					j.lineBase = 1
				} else if r.Parser.Format != nil {
					format = r.Parser.Format
				} else {
					cutErr <- fmt.Errorf("plan %s: %w", in.Name, ErrNoFormat)
					return
				}
			}
			lines += int64(bytes.Count(data, []byte{'\n'}))
			select {
			case jobs <- j:
			case <-ctx.Done():
				cutErr <- nil
				return
			}
			n++
		}
		cutErr <- nil
	}()

	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				popts := r.Parser
				popts.Format = format
				res, err := Parse(ctx, ParseInput{
					Object: in.Name, Chunk: j.n, Lines: newBytesLines(j.data, j.lineBase), Header: j.header,
					Parser: popts, Receivers: r.Receivers, Staging: r.Staging, KeyPrefix: safeKey(claim) + "/",
				})
				free <- j.data[:0]
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel(err) })
					continue
				}
				mu.Lock()
				for len(results) <= j.n {
					results = append(results, ChunkResult{})
				}
				results[j.n] = res
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := <-cutErr; err != nil {
		return err
	}
	if firstErr != nil {
		return firstErr
	}
	if len(results) == 0 {
		// An empty object: one empty chunk, so that it is counted.
		res, err := Parse(ctx, ParseInput{Object: in.Name, Lines: newBytesLines(nil, 0), Parser: r.Parser,
			Receivers: r.Receivers, Staging: r.Staging, KeyPrefix: safeKey(claim) + "/"})
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	return r.reserveAndSend(ctx, in.Name, claim, results)
}

// bytesLines yields the lines of a buffer that holds whole lines.
type bytesLines struct {
	data []byte
	line []byte
	no   int64
}

func newBytesLines(data []byte, base int64) *bytesLines { return &bytesLines{data: data, no: base} }

func (b *bytesLines) Next() bool {
	if len(b.data) == 0 {
		return false
	}
	i := bytes.IndexByte(b.data, '\n')
	if i < 0 {
		b.line, b.data = b.data, nil
	} else {
		b.line, b.data = b.data[:i], b.data[i+1:]
	}
	b.no++
	return true
}

func (b *bytesLines) Line() []byte  { return b.line }
func (b *bytesLines) LineNo() int64 { return b.no }
func (b *bytesLines) Err() error    { return nil }
