// Package gzindex builds, stores and reads the checkpoint index of a gzip
// object: at the first deflate block boundary after every Span uncompressed
// bytes it records the compressed bit offset, the uncompressed offset, the
// number of newline bytes before it and the 32 KiB window a decoder needs to
// resume there (inflate.Resume). Chunk readers use it to decode a byte range
// of a gzip object and to number its lines.
//
// The index is built in one streaming pass over the object and stored as a
// small versioned binary object (see MarshalBinary for the layout). One
// checkpoint can be read from a stored index with ReadCheckpoint without
// loading the others.
package gzindex

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/inflate"
)

const (
	// DefaultSpan is the default uncompressed distance between checkpoints.
	DefaultSpan = 64 << 20
	// MaxFirstLine bounds the bytes of the object's first line kept in the
	// index (the header line of a flow log is far shorter).
	MaxFirstLine = 16 << 10

	magic      = "FL2NFIDX"
	version    = 1
	headerSize = 96
	recordSize = 48

	recLineStart  = 1 << 0
	recCompressed = 1 << 1
)

// ErrFormat marks a stored index that is malformed or of another version.
var ErrFormat = errors.New("invalid gzip index")

// Checkpoint is a place where decoding can resume.
type Checkpoint struct {
	Bit   int64 // absolute compressed bit offset of a deflate block header
	Out   int64 // uncompressed offset there
	Lines int64 // newline bytes in [0, Out)
	// LineStart reports whether a line starts at Out: Out is 0 or the byte
	// before it is a newline.
	LineStart bool
	// Window is the decoder history before Out: the last up to 32 KiB of
	// the current gzip member (empty at the start of a member).
	Window []byte
}

// Point is the checkpoint as an inflate resume point.
func (c Checkpoint) Point() inflate.Point {
	return inflate.Point{Bit: c.Bit, Out: c.Out, Window: c.Window}
}

// Index is the checkpoint index of one gzip object.
type Index struct {
	Span           int64 // requested uncompressed distance between checkpoints
	CompressedSize int64 // size of the gzip object
	Size           int64 // uncompressed size
	Newlines       int64 // newline bytes in the object
	// Lines counts lines: Newlines, plus one when the object does not end
	// with a newline (a last unterminated line).
	Lines int64
	// FirstLine holds up to MaxFirstLine bytes of the first line, without
	// its newline; FirstLineLen is its full length.
	FirstLine    []byte
	FirstLineLen int64
	// Checkpoints are in increasing order; the first is at offset 0.
	Checkpoints []Checkpoint
}

// Options configure Build.
type Options struct {
	// Span is the uncompressed distance between checkpoints (default
	// DefaultSpan). A checkpoint is taken at the first block boundary at
	// least Span bytes after the previous one.
	Span int64
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Build reads a whole gzip object from r and returns its index. The gzip
// data is verified (CRC-32 and size of every member).
func Build(r io.Reader, opt *Options) (*Index, error) {
	span := int64(DefaultSpan)
	if opt != nil && opt.Span > 0 {
		span = opt.Span
	}
	x := &Index{Span: span}
	var pending []int // checkpoints whose Lines are not known yet
	last := int64(0)
	cr := &countReader{r: r}
	z := inflate.NewReader(cr, &inflate.Options{OnBlock: func(b inflate.Boundary) {
		if len(x.Checkpoints) > 0 && b.Out-last < span {
			return
		}
		last = b.Out
		x.Checkpoints = append(x.Checkpoints, Checkpoint{
			Bit:       b.Bit,
			Out:       b.Out,
			LineStart: b.Prev < 0 || b.Prev == '\n',
			Window:    bytes.Clone(b.Window),
		})
		pending = append(pending, len(x.Checkpoints)-1)
	}})
	var off, nl int64
	firstDone := false
	var lastByte byte
	for {
		buf, err := z.Next(1 << 20)
		for len(pending) > 0 && x.Checkpoints[pending[0]].Out <= off+int64(len(buf)) {
			c := &x.Checkpoints[pending[0]]
			c.Lines = nl + int64(bytes.Count(buf[:c.Out-off], []byte{'\n'}))
			pending = pending[1:]
		}
		if !firstDone && len(buf) > 0 {
			line := buf
			if i := bytes.IndexByte(buf, '\n'); i >= 0 {
				line = buf[:i]
				firstDone = true
			}
			if room := MaxFirstLine - len(x.FirstLine); room > 0 {
				x.FirstLine = append(x.FirstLine, line[:min(room, len(line))]...)
			}
			x.FirstLineLen += int64(len(line))
		}
		if len(buf) > 0 {
			nl += int64(bytes.Count(buf, []byte{'\n'}))
			off += int64(len(buf))
			lastByte = buf[len(buf)-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("gzindex: build: %w", err)
		}
	}
	if len(pending) > 0 {
		return nil, fmt.Errorf("gzindex: build: internal error: checkpoint beyond the end")
	}
	x.CompressedSize = cr.n
	x.Size = off
	x.Newlines = nl
	x.Lines = nl
	if off > 0 && lastByte != '\n' {
		x.Lines++
	}
	return x, nil
}

// Stored layout, little endian:
//
//	header, 96 bytes:
//	   0  [8]  magic "FL2NFIDX"
//	   8  u8   version (1)
//	   9  [3]  zero
//	  12  u32  CRC-32 of the header with this field zero
//	  16  u64  span
//	  24  u64  compressed size
//	  32  u64  uncompressed size
//	  40  u64  newlines
//	  48  u64  lines
//	  56  u64  first line length
//	  64  u32  first line stored length (≤ MaxFirstLine)
//	  68  u32  number of checkpoints n
//	  72  u64  total length of the stored index
//	  80  u32  CRC-32 of the stored first line
//	  84  [12] zero
//	n records of 48 bytes:
//	   0  u64  bit offset
//	   8  u64  uncompressed offset
//	  16  u64  newlines before it
//	  24  u64  window offset in the stored index
//	  32  u32  window stored length
//	  36  u16  window length (decoded)
//	  38  u8   flags: 1 line start, 2 window deflate-compressed
//	  39  u8   zero
//	  40  u32  CRC-32 of record bytes 0-39 and the decoded window
//	  44  u32  zero
//	first line bytes
//	windows, each raw or raw-deflate compressed (when smaller)

// MarshalBinary encodes the index. Windows are stored deflate-compressed
// when that makes them smaller.
func (x *Index) MarshalBinary() ([]byte, error) {
	if err := x.validate(); err != nil {
		return nil, err
	}
	n := len(x.Checkpoints)
	first := x.FirstLine
	fw, _ := flate.NewWriter(nil, flate.BestSpeed)
	var blobs bytes.Buffer
	type win struct {
		off, stored int
		comp        bool
	}
	wins := make([]win, n)
	base := headerSize + n*recordSize + len(first)
	var cbuf bytes.Buffer
	for i, c := range x.Checkpoints {
		cbuf.Reset()
		fw.Reset(&cbuf)
		fw.Write(c.Window)
		fw.Close()
		w := win{off: base + blobs.Len()}
		if len(c.Window) > 0 && cbuf.Len() < len(c.Window) {
			w.comp = true
			w.stored = cbuf.Len()
			blobs.Write(cbuf.Bytes())
		} else {
			w.stored = len(c.Window)
			blobs.Write(c.Window)
		}
		wins[i] = w
	}
	total := base + blobs.Len()
	b := make([]byte, headerSize+n*recordSize, total)
	le := binary.LittleEndian
	copy(b, magic)
	b[8] = version
	le.PutUint64(b[16:], uint64(x.Span))
	le.PutUint64(b[24:], uint64(x.CompressedSize))
	le.PutUint64(b[32:], uint64(x.Size))
	le.PutUint64(b[40:], uint64(x.Newlines))
	le.PutUint64(b[48:], uint64(x.Lines))
	le.PutUint64(b[56:], uint64(x.FirstLineLen))
	le.PutUint32(b[64:], uint32(len(first)))
	le.PutUint32(b[68:], uint32(n))
	le.PutUint64(b[72:], uint64(total))
	le.PutUint32(b[80:], crc32.ChecksumIEEE(first))
	le.PutUint32(b[12:], crc32.ChecksumIEEE(b[:headerSize]))
	for i, c := range x.Checkpoints {
		r := b[headerSize+i*recordSize : headerSize+(i+1)*recordSize]
		le.PutUint64(r[0:], uint64(c.Bit))
		le.PutUint64(r[8:], uint64(c.Out))
		le.PutUint64(r[16:], uint64(c.Lines))
		le.PutUint64(r[24:], uint64(wins[i].off))
		le.PutUint32(r[32:], uint32(wins[i].stored))
		le.PutUint16(r[36:], uint16(len(c.Window)))
		if c.LineStart {
			r[38] |= recLineStart
		}
		if wins[i].comp {
			r[38] |= recCompressed
		}
		crc := crc32.ChecksumIEEE(r[:40])
		le.PutUint32(r[40:], crc32.Update(crc, crc32.IEEETable, c.Window))
	}
	b = append(b, first...)
	b = append(b, blobs.Bytes()...)
	return b, nil
}

// validate checks the invariants that Unmarshal relies on.
func (x *Index) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("gzindex: %w: %s", ErrFormat, fmt.Sprintf(format, args...))
	}
	if x.Span <= 0 || x.CompressedSize < 0 || x.Size < 0 || x.Newlines < 0 || x.Newlines > x.Size {
		return bad("span %d, compressed size %d, size %d, newlines %d", x.Span, x.CompressedSize, x.Size, x.Newlines)
	}
	if x.Lines != x.Newlines && x.Lines != x.Newlines+1 {
		return bad("%d lines for %d newlines", x.Lines, x.Newlines)
	}
	if int64(len(x.FirstLine)) != min(x.FirstLineLen, MaxFirstLine) || x.FirstLineLen > x.Size {
		return bad("first line of %d bytes stored as %d", x.FirstLineLen, len(x.FirstLine))
	}
	if len(x.Checkpoints) == 0 {
		return bad("no checkpoints")
	}
	if len(x.Checkpoints) > 1<<26 {
		return bad("%d checkpoints", len(x.Checkpoints))
	}
	for i, c := range x.Checkpoints {
		switch {
		case i == 0 && c.Out != 0:
			return bad("checkpoint 0 at offset %d", c.Out)
		case i > 0 && (c.Bit <= x.Checkpoints[i-1].Bit || c.Out <= x.Checkpoints[i-1].Out || c.Lines < x.Checkpoints[i-1].Lines):
			return bad("checkpoint %d (bit %d, out %d) not after checkpoint %d", i, c.Bit, c.Out, i-1)
		case c.Bit < 0 || c.Bit > 8*x.CompressedSize || c.Out > x.Size || c.Lines > c.Out || c.Lines > x.Newlines:
			return bad("checkpoint %d (bit %d, out %d, lines %d) outside the object", i, c.Bit, c.Out, c.Lines)
		case len(c.Window) > inflate.WindowSize || int64(len(c.Window)) > c.Out:
			return bad("checkpoint %d window of %d bytes", i, len(c.Window))
		case c.Out == 0 && !c.LineStart:
			return bad("checkpoint %d at offset 0 is not a line start", i)
		}
	}
	return nil
}

// UnmarshalBinary decodes and validates a stored index.
func (x *Index) UnmarshalBinary(b []byte) error {
	h, err := parseHeader(b)
	if err != nil {
		return err
	}
	if uint64(len(b)) != h.total {
		return fmt.Errorf("gzindex: %w: %d bytes, header says %d", ErrFormat, len(b), h.total)
	}
	recEnd := headerSize + int(h.n)*recordSize
	firstEnd := recEnd + int(h.firstStored)
	if firstEnd > len(b) {
		return fmt.Errorf("gzindex: %w: %d checkpoints and a %d-byte first line do not fit in %d bytes", ErrFormat, h.n, h.firstStored, len(b))
	}
	if got := crc32.ChecksumIEEE(b[recEnd:firstEnd]); got != h.firstCRC {
		return fmt.Errorf("gzindex: %w: first line CRC %#08x, computed %#08x", ErrFormat, h.firstCRC, got)
	}
	y := Index{
		Span:           h.span,
		CompressedSize: h.csize,
		Size:           h.size,
		Newlines:       h.newlines,
		Lines:          h.lines,
		FirstLine:      cloneOrNil(b[recEnd:firstEnd]),
		FirstLineLen:   h.firstLen,
		Checkpoints:    make([]Checkpoint, h.n),
	}
	z := inflate.NewReader(nil, &inflate.Options{Raw: true})
	for i := range y.Checkpoints {
		rec := b[headerSize+i*recordSize : headerSize+(i+1)*recordSize]
		r, err := parseRecord(rec, i)
		if err != nil {
			return err
		}
		if r.winOff < uint64(firstEnd) || r.winOff+uint64(r.winStored) > uint64(len(b)) {
			return fmt.Errorf("gzindex: %w: checkpoint %d window [%d, +%d) outside the blob area", ErrFormat, i, r.winOff, r.winStored)
		}
		c, err := r.checkpoint(b[r.winOff:r.winOff+uint64(r.winStored)], rec, i, z)
		if err != nil {
			return err
		}
		y.Checkpoints[i] = c
	}
	if err := y.validate(); err != nil {
		return err
	}
	*x = y
	return nil
}

type header struct {
	span, csize, size, newlines, lines, firstLen int64
	firstStored, n, firstCRC                     uint32
	total                                        uint64
}

func parseHeader(b []byte) (header, error) {
	if len(b) < headerSize {
		return header{}, fmt.Errorf("gzindex: %w: %d bytes, shorter than the %d-byte header", ErrFormat, len(b), headerSize)
	}
	if string(b[:8]) != magic {
		return header{}, fmt.Errorf("gzindex: %w: bad magic %q", ErrFormat, b[:8])
	}
	if b[8] != version {
		return header{}, fmt.Errorf("gzindex: %w: version %d, want %d", ErrFormat, b[8], version)
	}
	le := binary.LittleEndian
	var hb [headerSize]byte
	copy(hb[:], b)
	want := le.Uint32(hb[12:])
	le.PutUint32(hb[12:], 0)
	if got := crc32.ChecksumIEEE(hb[:]); got != want {
		return header{}, fmt.Errorf("gzindex: %w: header CRC %#08x, computed %#08x", ErrFormat, want, got)
	}
	h := header{
		span:        int64(le.Uint64(b[16:])),
		csize:       int64(le.Uint64(b[24:])),
		size:        int64(le.Uint64(b[32:])),
		newlines:    int64(le.Uint64(b[40:])),
		lines:       int64(le.Uint64(b[48:])),
		firstLen:    int64(le.Uint64(b[56:])),
		firstStored: le.Uint32(b[64:]),
		firstCRC:    le.Uint32(b[80:]),
		n:           le.Uint32(b[68:]),
		total:       le.Uint64(b[72:]),
	}
	if h.firstStored > MaxFirstLine || h.n == 0 || h.n > 1<<26 || h.total > 1<<50 {
		return header{}, fmt.Errorf("gzindex: %w: first line stored %d, %d checkpoints, total %d", ErrFormat, h.firstStored, h.n, h.total)
	}
	return h, nil
}

type record struct {
	bit, out, lines int64
	winOff          uint64
	winStored       uint32
	winLen          int
	flags           byte
	crc             uint32
}

func parseRecord(rec []byte, i int) (record, error) {
	le := binary.LittleEndian
	r := record{
		bit:       int64(le.Uint64(rec[0:])),
		out:       int64(le.Uint64(rec[8:])),
		lines:     int64(le.Uint64(rec[16:])),
		winOff:    le.Uint64(rec[24:]),
		winStored: le.Uint32(rec[32:]),
		winLen:    int(le.Uint16(rec[36:])),
		flags:     rec[38],
		crc:       le.Uint32(rec[40:]),
	}
	if r.flags&^(recLineStart|recCompressed) != 0 || rec[39] != 0 || le.Uint32(rec[44:]) != 0 || r.winLen > inflate.WindowSize || r.winStored > 2*inflate.WindowSize ||
		r.bit < 0 || r.out < 0 || r.lines < 0 || r.winOff > 1<<50 {
		return record{}, fmt.Errorf("gzindex: %w: checkpoint %d record is malformed", ErrFormat, i)
	}
	if r.flags&recCompressed == 0 && int(r.winStored) != r.winLen {
		return record{}, fmt.Errorf("gzindex: %w: checkpoint %d raw window stored as %d bytes, length %d", ErrFormat, i, r.winStored, r.winLen)
	}
	return r, nil
}

// checkpoint decodes the window blob and checks the record CRC. z is a raw
// inflate Reader to reuse.
func (r record) checkpoint(blob, rec []byte, i int, z *inflate.Reader) (Checkpoint, error) {
	win := blob
	if r.flags&recCompressed != 0 {
		z.Reset(bytes.NewReader(blob), &inflate.Options{Raw: true})
		win = make([]byte, r.winLen)
		if _, err := io.ReadFull(z, win); err != nil {
			return Checkpoint{}, fmt.Errorf("gzindex: %w: checkpoint %d window: %v", ErrFormat, i, err)
		}
		if _, err := z.Read(make([]byte, 1)); err != io.EOF {
			return Checkpoint{}, fmt.Errorf("gzindex: %w: checkpoint %d window longer than %d bytes", ErrFormat, i, r.winLen)
		}
	}
	crc := crc32.ChecksumIEEE(rec[:40])
	if got := crc32.Update(crc, crc32.IEEETable, win); got != r.crc {
		return Checkpoint{}, fmt.Errorf("gzindex: %w: checkpoint %d CRC %#08x, computed %#08x", ErrFormat, i, r.crc, got)
	}
	return Checkpoint{
		Bit:       r.bit,
		Out:       r.out,
		Lines:     r.lines,
		LineStart: r.flags&recLineStart != 0,
		Window:    bytes.Clone(win),
	}, nil
}

func cloneOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

// Stat is the object-level part of a stored index.
type Stat struct {
	Span, CompressedSize, Size, Newlines, Lines int64
	Checkpoints                                 int
}

// ReadCheckpoint reads checkpoint i from a stored index through r (three
// small reads: header, record, window) without loading the rest, and
// returns it with the index's object-level figures.
func ReadCheckpoint(r io.ReaderAt, i int) (Checkpoint, Stat, error) {
	hb := make([]byte, headerSize)
	if _, err := r.ReadAt(hb, 0); err != nil {
		return Checkpoint{}, Stat{}, fmt.Errorf("gzindex: read header: %w", err)
	}
	h, err := parseHeader(hb)
	if err != nil {
		return Checkpoint{}, Stat{}, err
	}
	st := Stat{Span: h.span, CompressedSize: h.csize, Size: h.size, Newlines: h.newlines, Lines: h.lines, Checkpoints: int(h.n)}
	if i < 0 || i >= int(h.n) {
		return Checkpoint{}, st, fmt.Errorf("gzindex: checkpoint %d of %d: %w", i, h.n, ErrFormat)
	}
	rec := make([]byte, recordSize)
	if _, err := r.ReadAt(rec, int64(headerSize+i*recordSize)); err != nil {
		return Checkpoint{}, st, fmt.Errorf("gzindex: read checkpoint %d: %w", i, err)
	}
	rc, err := parseRecord(rec, i)
	if err != nil {
		return Checkpoint{}, st, err
	}
	if rc.winOff+uint64(rc.winStored) > h.total {
		return Checkpoint{}, st, fmt.Errorf("gzindex: %w: checkpoint %d window outside the index", ErrFormat, i)
	}
	blob := make([]byte, rc.winStored)
	if len(blob) > 0 {
		if _, err := r.ReadAt(blob, int64(rc.winOff)); err != nil {
			return Checkpoint{}, st, fmt.Errorf("gzindex: read checkpoint %d window: %w", i, err)
		}
	}
	var z *inflate.Reader
	if rc.flags&recCompressed != 0 {
		z = inflate.NewReader(nil, &inflate.Options{Raw: true})
	}
	c, err := rc.checkpoint(blob, rec, i, z)
	if err != nil {
		return Checkpoint{}, st, err
	}
	if c.Lines > c.Out || len(c.Window) > int(min(c.Out, inflate.WindowSize)) || c.Out > h.size {
		return Checkpoint{}, st, fmt.Errorf("gzindex: %w: checkpoint %d is inconsistent", ErrFormat, i)
	}
	return c, st, nil
}
