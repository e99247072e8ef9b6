// Package chunk cuts a flow-log object (gzip or plain text) into chunks that
// are parsed independently, and reads the lines of one chunk.
//
// # Line ownership
//
// A chunk owns the uncompressed byte range [Start, End) and every line that
// starts in it (as Hadoop's line reader does): it skips a partial first line
// (the end of a line that starts in an earlier chunk) unless it starts at
// offset 0, and reads past End to finish its last line. So every line of the
// object belongs to exactly one chunk, whatever the chunk size.
//
// # The header line
//
// When Options.IsHeader accepts the object's first line, Plan.Header holds it
// and chunk 0 starts after it (Start = Header.Len+1), so no chunk returns it:
// the caller counts it as one skipped "header" line (line number 1) and gives
// Header.Line to the parser. Without IsHeader, or when it rejects the line,
// Plan.Header is nil and line 1 is an ordinary line of chunk 0. Either way,
// Plan.Lines (when known) = (1 if Header != nil) + lines of all chunks.
//
// # Kinds of plans
//
//   - gzip, large: one streaming pass builds a gzindex.Index; chunks are
//     consecutive checkpoint spans grouped to about ChunkSize uncompressed
//     bytes. The caller stores the index (MarshalBinary) where chunk readers
//     find it (Open's index argument); plan items only name a checkpoint,
//     never carry its window, so they stay tiny.
//   - plain text, large: byte ranges of ChunkSize, no index pass.
//   - small (compressed size below SmallObject): one chunk, no index pass; a
//     gzip object is then decoded from its start and its CRC checked.
//
// The number of chunks is at most MaxChunks: ChunkSize grows when needed
// (Plan.ChunkSize is the size used).
package chunk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/gzindex"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/inflate"
)

// Defaults of Options.
const (
	DefaultChunkSize   = 256 << 20 // uncompressed bytes per chunk
	DefaultMaxChunks   = 500
	DefaultSmallObject = 8 << 20 // compressed bytes
	// MaxHeaderLen bounds a header line; a longer first line is never a header.
	MaxHeaderLen = gzindex.MaxFirstLine
	// getMargin is how far past the next chunk's start a chunk's first GET
	// goes, to finish its last line without a second request.
	getMargin = 16 << 10
)

// Sentinel errors.
var (
	ErrRange = errors.New("range outside the object")
	ErrIndex = errors.New("plan item does not match the index")
)

// Kind is how a chunk's bytes are stored.
type Kind string

// Kinds.
const (
	Gzip Kind = "gzip"
	Text Kind = "text"
	// Parquet items are row groups (shared/parquetlog): Start and End are
	// row-group indexes [Start, End), From and To the bytes they read,
	// Lines the rows before them. chunk.Open does not read them.
	Parquet Kind = "parquet"
)

// Options configure NewPlan.
type Options struct {
	ChunkSize   int64 // uncompressed bytes per chunk (default DefaultChunkSize)
	MaxChunks   int   // at most this many chunks (default DefaultMaxChunks)
	SmallObject int64 // objects smaller than this (compressed) are one chunk without index (default DefaultSmallObject; negative: none)
	// Span is the index checkpoint span (default min(gzindex.DefaultSpan,
	// ChunkSize/2)); chunk boundaries fall on checkpoints.
	Span int64
	// IsHeader reports whether the object's first line (without its
	// newline) is a header line. Nil: there is no header line.
	IsHeader func(line []byte) bool
}

// Header is the object's header line.
type Header struct {
	Line string `json:"line"` // without its newline
	Len  int64  `json:"len"`  // its length in bytes, without the newline
}

// Plan says how to read an object in chunks. It marshals to small JSON.
type Plan struct {
	Kind      Kind    `json:"kind"`
	Size      int64   `json:"size"`              // object size
	USize     int64   `json:"usize"`             // uncompressed size, -1 when unknown (small gzip)
	Lines     int64   `json:"lines"`             // lines in the object, -1 when unknown
	Header    *Header `json:"header,omitempty"`  // nil: no header line
	ChunkSize int64   `json:"chunkSize"`         // chunk size used
	Indexed   bool    `json:"indexed,omitempty"` // gzip items need the stored index
	Items     []Item  `json:"items"`
}

// Item is one chunk: what a parser needs to read its lines, given the object
// and (for indexed gzip) the stored index.
type Item struct {
	N    int  `json:"n"` // chunk number, 0-based
	Kind Kind `json:"kind"`
	// Start and End delimit the owned uncompressed range [Start, End);
	// End -1 means to the end of the object.
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// From and To are the compressed byte range of the first GET; the
	// reader extends it as needed to finish its last line.
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Whole: gzip decoded from the object start, CRC checked (small
	// objects); no index.
	Whole bool `json:"whole,omitempty"`
	// CP, Bit and Out: indexed gzip only: the checkpoint where decoding
	// starts, its compressed bit offset and uncompressed offset.
	CP  int   `json:"cp,omitempty"`
	Bit int64 `json:"bit,omitempty"`
	Out int64 `json:"out,omitempty"`
	// Lines is the number of newlines before the decoding start (Out for
	// gzip, From for text), the base of line numbers; -1 when unknown
	// (plain-text chunks other than chunk 0).
	Lines int64 `json:"lines"`
}

// NewPlan plans how to read src in chunks. For a large gzip object it reads
// the whole object once and returns the index, which the caller must store
// for the chunk readers (nil otherwise).
func NewPlan(ctx context.Context, src Source, opt Options) (*Plan, *gzindex.Index, error) {
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = DefaultChunkSize
	}
	if opt.MaxChunks <= 0 {
		opt.MaxChunks = DefaultMaxChunks
	}
	if opt.SmallObject == 0 {
		opt.SmallObject = DefaultSmallObject
	}
	if opt.Span <= 0 {
		opt.Span = min(gzindex.DefaultSpan, max(opt.ChunkSize/2, 1))
	}
	size := src.Size()
	isGzip, err := sniffGzip(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	kind := Text
	if isGzip {
		kind = Gzip
	}
	if size < opt.SmallObject {
		return smallPlan(ctx, src, kind, opt)
	}
	if kind == Text {
		return textPlan(ctx, src, opt)
	}
	return gzipPlan(ctx, src, opt)
}

func sniffGzip(ctx context.Context, src Source) (bool, error) {
	if src.Size() < 2 {
		return false, nil
	}
	body, err := src.OpenRange(ctx, 0, 2)
	if err != nil {
		return false, fmt.Errorf("read magic: %w", err)
	}
	defer body.Close()
	var m [2]byte
	if _, err := io.ReadFull(body, m[:]); err != nil {
		return false, fmt.Errorf("read magic: %w", err)
	}
	return m[0] == 0x1f && m[1] == 0x8b, nil
}

// header applies IsHeader to a first line of full length n (without its
// newline) of which line holds the first bytes.
func header(opt Options, line []byte, n int64) *Header {
	if opt.IsHeader == nil || n > MaxHeaderLen || int64(len(line)) != n || !opt.IsHeader(line) {
		return nil
	}
	return &Header{Line: string(line), Len: n}
}

func (p *Plan) chunk0Start() int64 {
	if p.Header == nil {
		return 0
	}
	return p.Header.Len + 1
}

// firstLine reads the first line of r, up to MaxHeaderLen+1 bytes.
func firstLine(r io.Reader) ([]byte, int64, error) {
	buf := make([]byte, 0, 4096)
	for len(buf) <= MaxHeaderLen {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		if i := bytes.IndexByte(buf[len(buf):len(buf)+n], '\n'); i >= 0 {
			buf = buf[:len(buf)+i]
			return buf, int64(len(buf)), nil
		}
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, int64(len(buf)), nil
		}
		if err != nil {
			return nil, 0, err
		}
	}
	return buf, int64(len(buf)), nil // too long to be a header
}

func smallPlan(ctx context.Context, src Source, kind Kind, opt Options) (*Plan, *gzindex.Index, error) {
	size := src.Size()
	p := &Plan{Kind: kind, Size: size, USize: -1, Lines: -1, ChunkSize: opt.ChunkSize}
	it := Item{Kind: kind, End: -1, To: size, Lines: 0}
	rr := newRangeReader(ctx, src, 0, size)
	defer rr.Close()
	var r io.Reader = rr
	if kind == Gzip {
		it.Whole = true
		r = inflate.NewReader(rr, nil)
	} else {
		p.USize = size
		it.End = size
	}
	line, n, err := firstLine(r)
	if err != nil {
		return nil, nil, fmt.Errorf("read first line: %w", err)
	}
	p.Header = header(opt, line, n)
	it.Start = p.chunk0Start()
	p.Items = []Item{it}
	return p, nil, nil
}

func textPlan(ctx context.Context, src Source, opt Options) (*Plan, *gzindex.Index, error) {
	size := src.Size()
	p := &Plan{Kind: Text, Size: size, USize: size, Lines: -1}
	rr := newRangeReader(ctx, src, 0, min(size, MaxHeaderLen+1))
	line, n, err := firstLine(rr)
	rr.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("read first line: %w", err)
	}
	p.Header = header(opt, line, n)
	cs := opt.ChunkSize
	for (size+cs-1)/cs > int64(opt.MaxChunks) {
		cs = (size + int64(opt.MaxChunks) - 1) / int64(opt.MaxChunks)
	}
	p.ChunkSize = cs
	for start := int64(0); start < size || start == 0; start += cs {
		end := min(start+cs, size)
		it := Item{N: len(p.Items), Kind: Text, Start: start, End: end, Lines: -1}
		it.From = max(start-1, 0)
		it.To = min(size, end+getMargin)
		if start == 0 {
			it.Start = p.chunk0Start()
			it.Lines = 0
		}
		p.Items = append(p.Items, it)
		if size == 0 {
			break
		}
	}
	return p, nil, nil
}

func gzipPlan(ctx context.Context, src Source, opt Options) (*Plan, *gzindex.Index, error) {
	size := src.Size()
	rr := newRangeReader(ctx, src, 0, size)
	idx, err := gzindex.Build(rr, &gzindex.Options{Span: opt.Span})
	rr.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("index: %w", err)
	}
	p := &Plan{Kind: Gzip, Size: size, USize: idx.Size, Lines: idx.Lines, Indexed: true}
	first := idx.FirstLine
	p.Header = header(opt, first, idx.FirstLineLen)
	cs := opt.ChunkSize
	for {
		p.Items = groupCheckpoints(idx, cs, size)
		if len(p.Items) <= opt.MaxChunks {
			break
		}
		cs = max(cs*2, (idx.Size+int64(opt.MaxChunks)-1)/int64(opt.MaxChunks))
	}
	p.ChunkSize = cs
	p.Items[0].Start = max(p.Items[0].Start, p.chunk0Start())
	return p, idx, nil
}

// groupCheckpoints makes chunks of consecutive checkpoint spans of about cs
// uncompressed bytes.
func groupCheckpoints(idx *gzindex.Index, cs, size int64) []Item {
	cps := idx.Checkpoints
	var starts []int
	for i, c := range cps {
		if i == 0 || c.Out-cps[starts[len(starts)-1]].Out >= cs && c.Out < idx.Size {
			starts = append(starts, i)
		}
	}
	items := make([]Item, len(starts))
	for k, i := range starts {
		c := cps[i]
		it := Item{N: k, Kind: Gzip, Start: c.Out, End: idx.Size, From: c.Bit / 8, To: size, CP: i, Bit: c.Bit, Out: c.Out, Lines: c.Lines}
		if k+1 < len(starts) {
			next := cps[starts[k+1]]
			it.End = next.Out
			it.To = min(size, (next.Bit+7)/8+getMargin)
		}
		items[k] = it
	}
	return items
}
