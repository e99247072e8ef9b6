package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/parquetlog"
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
	Format     *flowlog.Format
	FromHeader bool
	// Framing is contract.FramingLines, or FramingJSON (Firehose
	// {"message":...} records) or FramingCloudWatch (subscription
	// payloads), both read as one chunk, or FramingParquet (chunks of row
	// groups; Format is the columns').
	Framing      string
	RowGroups    int // of a Parquet object
	Compressed   bool
	HeaderLine   string
	Uncompressed int64 // -1 when unknown
}

// PlanObject is the Plan step: it reads the object's first line (and, for a
// large gzip object, the whole object once to build the checkpoint index)
// and cuts it into chunks. It never writes to the object.
func PlanObject(ctx context.Context, name string, src chunk.Source, opt PlanOptions) (*ObjectPlan, error) {
	framing, err := inspectSource(ctx, src, opt.Format)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", name, err)
	}
	if framing == contract.FramingParquet {
		return planParquet(ctx, name, src, opt)
	}
	copt := chunk.Options{ChunkSize: opt.ChunkSize, MaxChunks: opt.MaxChunks, SmallObject: opt.SmallObject}
	if framing != contract.FramingLines {
		// Firehose records may be concatenated without newlines, and
		// subscription payloads are JSON documents: one chunk.
		copt.MaxChunks = 1
		copt.SmallObject = src.Size() + 1
	} else {
		copt.IsHeader = func(line []byte) bool { return headerFormat(line) != nil }
	}
	cp, idx, err := chunk.NewPlan(ctx, src, copt)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", name, err)
	}
	p := &ObjectPlan{Chunks: cp, Framing: framing, Compressed: cp.Kind == chunk.Gzip, Uncompressed: cp.USize}
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
	// A format NetFlow cannot carry (no addresses, no times) fails here,
	// naming what is missing, rather than as every line malformed. The
	// address mode is the parser's; auto accepts either address pair.
	if err := p.Format.CheckConvertible(flowlog.AddressAuto); err != nil {
		return nil, fmt.Errorf("plan %s: %w", name, err)
	}
	return p, nil
}

// planParquet plans a Parquet object from its footer (one ranged read of
// the tail): chunks of row groups, the field list from the column names
// (a configured format does not apply).
func planParquet(ctx context.Context, name string, src chunk.Source, opt PlanOptions) (*ObjectPlan, error) {
	f, err := parquetlog.Open(ctx, name, src)
	if err != nil {
		return nil, fmt.Errorf("plan %w", err) // err begins with the name
	}
	small := opt.SmallObject
	if small == 0 {
		small = chunk.DefaultSmallObject
	}
	cp := f.Plan(opt.ChunkSize, opt.MaxChunks, small)
	p := &ObjectPlan{Chunks: cp, Framing: contract.FramingParquet, Uncompressed: cp.USize, RowGroups: len(f.Groups)}
	if p.Format, err = flowlog.ParseHeader([]byte(f.Header())); err != nil {
		return nil, fmt.Errorf("plan %s: the Parquet columns: %w", name, err)
	}
	if err := p.Format.CheckConvertible(flowlog.AddressAuto); err != nil {
		return nil, fmt.Errorf("plan %s: the Parquet columns: %w", name, err)
	}
	return p, nil
}

// inspectSource reads the start of src and checks its content
// (inspectContent): it reports the object's framing.
func inspectSource(ctx context.Context, src chunk.Source, format *flowlog.Format) (string, error) {
	raw, head, whole, err := sniffSource(ctx, src)
	if err != nil {
		return contract.FramingLines, fmt.Errorf("read: %w", err)
	}
	return inspectContent(raw, head, whole, format)
}

// ChunkLines opens the lines of one plan item: the chunk reader for text
// and indexed gzip, or for a Firehose object a line reader over the whole
// object (which splits concatenated records; memory is bounded by maxLine,
// the longest record it buffers). index is the stored checkpoint index for
// indexed items. Lines longer than maxLine (0: the default) are cut to
// maxLine+1 bytes, for the parser to count as malformed.
func ChunkLines(ctx context.Context, src chunk.Source, it chunk.Item, index chunk.Source, framing string, maxLine int) (LineSource, io.Closer, error) {
	switch framing {
	case contract.FramingParquet:
		f, err := parquetlog.Open(ctx, "", src)
		if err != nil {
			return nil, nil, err
		}
		l, err := f.Lines(int(it.Start), int(it.End))
		if err != nil {
			return nil, nil, err
		}
		return l, l, nil
	case contract.FramingJSON, contract.FramingCloudWatch:
		rc, err := src.OpenRange(ctx, 0, src.Size())
		if err != nil {
			return nil, nil, err
		}
		if framing == contract.FramingCloudWatch {
			return flowlog.NewCloudWatchReader(decompressed(rc)), rc, nil
		}
		return flowlog.NewLineReaderMax(decompressed(rc), maxLine), rc, nil
	}
	cr, err := chunk.Open(ctx, src, it, index, &chunk.ReaderOptions{MaxLineLen: maxLine})
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
