package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/inflate"
)

// ErrNoFormat is returned by PlanObject for an object with neither a header
// line nor a configured format.
var ErrNoFormat = errors.New("no header line and no log format configured (FL2NF_FORMAT or --format)")

// PlanOptions configure the Plan step.
type PlanOptions struct {
	ChunkSize   int64           // uncompressed bytes per chunk
	SmallObject int64           // objects below this (compressed) are one chunk without an index pass
	MaxChunks   int             // at most this many chunks (the chunk size grows)
	Format      *flowlog.Format // for objects without a header line
}

// ObjectPlan is the Plan step's result for one object.
type ObjectPlan struct {
	Chunks *chunk.Plan
	// Index is the marshaled gzip checkpoint index the chunk readers need
	// (chunk.Plan.Indexed), nil otherwise. The caller stores it.
	Index []byte
	// Format is the field list: the header line's, else the configured one.
	Format       *flowlog.Format
	FromHeader   bool
	Firehose     bool // {"message":...} records: read as one chunk
	Compressed   bool
	HeaderLine   string
	Uncompressed int64 // -1 when unknown
}

// PlanObject is the Plan step: it reads the object's first line (and, for a
// large gzip object, the whole object once to build the checkpoint index)
// and cuts it into chunks. It never writes to the object.
func PlanObject(ctx context.Context, name string, src chunk.Source, opt PlanOptions) (*ObjectPlan, error) {
	firehose, err := sniffFirehose(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", name, err)
	}
	copt := chunk.Options{ChunkSize: opt.ChunkSize, MaxChunks: opt.MaxChunks, SmallObject: opt.SmallObject}
	if firehose {
		// Firehose records may be concatenated without newlines: one chunk.
		copt.MaxChunks = 1
		copt.SmallObject = src.Size() + 1
	} else {
		copt.IsHeader = func(line []byte) bool {
			_, err := flowlog.ParseHeader(line)
			return err == nil
		}
	}
	cp, idx, err := chunk.NewPlan(ctx, src, copt)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", name, err)
	}
	p := &ObjectPlan{Chunks: cp, Firehose: firehose, Compressed: cp.Kind == chunk.Gzip, Uncompressed: cp.USize}
	if idx != nil {
		if p.Index, err = idx.MarshalBinary(); err != nil {
			return nil, fmt.Errorf("plan %s: index: %w", name, err)
		}
	}
	switch {
	case cp.Header != nil:
		if p.Format, err = flowlog.ParseHeader([]byte(cp.Header.Line)); err != nil {
			return nil, fmt.Errorf("plan %s: header: %w", name, err)
		}
		p.FromHeader = true
		p.HeaderLine = cp.Header.Line
	case opt.Format != nil:
		p.Format = opt.Format
	default:
		return nil, fmt.Errorf("plan %s: %w", name, ErrNoFormat)
	}
	return p, nil
}

// sniffFirehose reports whether the object's content starts with '{'.
func sniffFirehose(ctx context.Context, src chunk.Source) (bool, error) {
	n := min(src.Size(), 64<<10)
	if n == 0 {
		return false, nil
	}
	rc, err := src.OpenRange(ctx, 0, n)
	if err != nil {
		return false, err
	}
	defer rc.Close()
	r := decompressed(rc)
	buf := make([]byte, 512)
	k, err := io.ReadFull(r, buf)
	if err != nil && k == 0 && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		// A damaged or short prefix: let the plan report it.
		return false, nil
	}
	t := bytes.TrimLeft(buf[:k], " \t\r\n")
	return len(t) > 0 && t[0] == '{', nil
}

// ChunkLines opens the lines of one plan item: the chunk reader for text
// and indexed gzip, or for a Firehose object a line reader over the whole
// object (which splits concatenated records). index is the stored
// checkpoint index for indexed items.
func ChunkLines(ctx context.Context, src chunk.Source, it chunk.Item, index chunk.Source, firehose bool) (LineSource, io.Closer, error) {
	if firehose {
		rc, err := src.OpenRange(ctx, 0, src.Size())
		if err != nil {
			return nil, nil, err
		}
		return flowlog.NewLineReader(decompressed(rc)), rc, nil
	}
	cr, err := chunk.Open(ctx, src, it, index, nil)
	if err != nil {
		return nil, nil, err
	}
	return &chunkLines{r: cr}, cr, nil
}

// chunkLines adapts a chunk.Reader to LineSource. Lines whose number is
// unknown (plain-text chunks after the first) are numbered -(offset+1), so
// that reports can name the byte offset instead.
type chunkLines struct {
	r    *chunk.Reader
	line chunk.Line
	err  error
}

func (c *chunkLines) Next() bool {
	l, err := c.r.Next()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			c.err = err
		}
		return false
	}
	c.line = l
	return true
}

func (c *chunkLines) Line() []byte { return c.line.Text }

func (c *chunkLines) LineNo() int64 {
	if c.line.Number > 0 {
		return c.line.Number
	}
	return -(c.line.Offset + 1)
}

func (c *chunkLines) Err() error { return c.err }

// decompressed returns the content of r: inflated when it starts with the
// gzip magic (single or multi-member), as is otherwise.
func decompressed(r io.Reader) io.Reader {
	br := bufio.NewReaderSize(r, 256<<10)
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		return inflate.NewReader(br, nil)
	}
	return br
}
