package chunk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/gzindex"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/inflate"
)

// Line is one line of a chunk.
type Line struct {
	// Text is the line without its '\n'. A '\r' before the newline is kept:
	// trimming is the parser's business. Text is valid until the next call
	// of Next.
	Text []byte
	// Number is the absolute 1-based line number in the object, or 0 when
	// unknown: plain-text objects have no index, so only their chunk 0
	// knows line numbers (use Offset to locate a line).
	Number int64
	// Offset is the absolute uncompressed offset of the line's first byte.
	Offset int64
	// Cut reports a line longer than ReaderOptions.MaxLineLen: Text holds
	// its first MaxLineLen+1 bytes only.
	Cut bool
}

// ReaderOptions configure a chunk Reader.
type ReaderOptions struct {
	// MaxLineLen is the maximum line length (default
	// flowlog.DefaultMaxLineBytes, 64 KiB): a longer line is returned cut
	// to its first MaxLineLen+1 bytes (Line.Cut set), and the rest of it is
	// read and discarded, so memory stays bounded by this and the decoder
	// buffers (about 400 KiB) whatever the object and its lines. The
	// flow-log parser counts such a line as malformed.
	MaxLineLen int
}

const (
	defaultMaxLine = 64 << 10 // = flowlog.DefaultMaxLineBytes (chunk does not import flowlog)
	bigRead        = 256 << 10
	smallRead      = 4 << 10
)

// Reader yields the lines a plan item owns.
type Reader struct {
	ctx     context.Context
	it      Item
	maxLine int
	rr      *rangeReader
	z       *inflate.Reader // gzip
	tbuf    []byte          // text read buffer

	cur     []byte // unconsumed decoded bytes
	off     int64  // offset of cur[0]
	carry   []byte // partial line spanning reads
	lineNo  int64  // number of the next line, 0 if unknown
	started bool
	partial bool // gzip: the chunk starts inside a line
	done    bool
	err     error
	lines   int64
}

// Open prepares to read the lines of it from src. index is the stored
// gzindex of the object (indexed gzip items only; nil otherwise): the
// reader reads the one checkpoint it needs from it.
func Open(ctx context.Context, src Source, it Item, index Source, opt *ReaderOptions) (*Reader, error) {
	r := &Reader{ctx: ctx, it: it, maxLine: defaultMaxLine}
	if opt != nil && opt.MaxLineLen > 0 {
		r.maxLine = opt.MaxLineLen
	}
	if it.Start < 0 || it.End >= 0 && it.End < it.Start && it.N != 0 {
		return nil, fmt.Errorf("chunk %d: owned range [%d, %d): %w", it.N, it.Start, it.End, ErrRange)
	}
	switch {
	case it.Kind == Text:
		if it.From != max(it.Start-1, 0) && !(it.N == 0 && it.From == 0) {
			return nil, fmt.Errorf("chunk %d: text read starts at %d, owned range at %d: %w", it.N, it.From, it.Start, ErrRange)
		}
		r.rr = newRangeReader(ctx, src, it.From, it.To)
		r.tbuf = make([]byte, bigRead)
		r.off = it.From
		if it.Lines >= 0 {
			r.lineNo = it.Lines + 1
		}
	case it.Kind == Gzip && it.Whole:
		r.rr = newRangeReader(ctx, src, 0, it.To)
		r.z = inflate.NewReader(r.rr, nil)
		r.lineNo = 1
	case it.Kind == Gzip:
		if index == nil {
			return nil, fmt.Errorf("chunk %d: gzip chunk without index: %w", it.N, ErrIndex)
		}
		cp, st, err := gzindex.ReadCheckpoint(readerAt{ctx, index}, it.CP)
		if err != nil {
			return nil, fmt.Errorf("chunk %d: read checkpoint %d: %w", it.N, it.CP, err)
		}
		if cp.Bit != it.Bit || cp.Out != it.Out || cp.Lines != it.Lines || st.CompressedSize != src.Size() || it.Start < cp.Out {
			return nil, fmt.Errorf("chunk %d: checkpoint %d (bit %d, out %d, lines %d, object %d bytes) vs item (bit %d, out %d, lines %d, object %d bytes): %w",
				it.N, it.CP, cp.Bit, cp.Out, cp.Lines, st.CompressedSize, it.Bit, it.Out, it.Lines, src.Size(), ErrIndex)
		}
		r.rr = newRangeReader(ctx, src, cp.Bit/8, it.To)
		z, err := inflate.Resume(r.rr, cp.Point(), nil)
		if err != nil {
			return nil, fmt.Errorf("chunk %d: %w", it.N, err)
		}
		r.z = z
		r.off = cp.Out
		r.lineNo = cp.Lines + 1
		r.partial = it.Start == cp.Out && !cp.LineStart
	default:
		return nil, fmt.Errorf("chunk %d: unknown kind %q", it.N, it.Kind)
	}
	return r, nil
}

// Close releases the reader's connection.
func (r *Reader) Close() error { return r.rr.Close() }

// Count is the number of lines returned so far.
func (r *Reader) Count() int64 { return r.lines }

// All iterates over the remaining lines; it stops after the first error.
func (r *Reader) All() iter.Seq2[Line, error] {
	return func(yield func(Line, error) bool) {
		for {
			l, err := r.Next()
			if err == io.EOF {
				return
			}
			if !yield(l, err) || err != nil {
				return
			}
		}
	}
}

// fill reads more decoded bytes into cur. It returns io.EOF at the end of
// the object.
func (r *Reader) fill() error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	want := bigRead
	if r.it.End >= 0 {
		if rem := r.it.End - r.off; rem < int64(want) {
			want = int(max(rem, 0)) + smallRead
		}
	}
	if r.z != nil {
		b, err := r.z.Next(want)
		r.cur = b
		if len(b) > 0 {
			return nil
		}
		return err
	}
	n, err := r.rr.Read(r.tbuf[:want])
	r.cur = r.tbuf[:n]
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// skipTo consumes bytes up to offset target, counting newlines.
func (r *Reader) skipTo(target int64) (newlines int64, err error) {
	for r.off < target {
		if len(r.cur) == 0 {
			if err := r.fill(); err != nil {
				return newlines, err
			}
		}
		n := int(min(int64(len(r.cur)), target-r.off))
		newlines += int64(bytes.Count(r.cur[:n], []byte{'\n'}))
		r.cur = r.cur[n:]
		r.off += int64(n)
	}
	return newlines, nil
}

// skipLine consumes bytes through the next newline. With limit >= 0 it
// stops at offset limit too and reports found false: the line goes on past
// it.
func (r *Reader) skipLine(limit int64) (found bool, err error) {
	for {
		if limit >= 0 && r.off >= limit {
			return false, nil
		}
		if len(r.cur) == 0 {
			if err := r.fill(); err != nil {
				return false, err
			}
		}
		cur := r.cur
		if limit >= 0 {
			cur = cur[:min(int64(len(cur)), limit-r.off)]
		}
		if i := bytes.IndexByte(cur, '\n'); i >= 0 {
			r.cur = r.cur[i+1:]
			r.off += int64(i + 1)
			return true, nil
		}
		r.off += int64(len(cur))
		r.cur = r.cur[len(cur):]
	}
}

// start positions the reader at the first line it owns.
func (r *Reader) start() error {
	it := r.it
	partial := r.partial
	if it.Start > r.off {
		nl, err := r.skipTo(it.Start - 1)
		if err != nil {
			return err
		}
		if len(r.cur) == 0 {
			if err := r.fill(); err != nil {
				return err
			}
		}
		prev := r.cur[0]
		r.cur = r.cur[1:]
		r.off++
		if prev == '\n' {
			nl++
		} else {
			partial = true
		}
		if r.lineNo > 0 {
			r.lineNo += nl
		}
	}
	if partial {
		// The end of a line that starts in an earlier chunk. When it goes
		// on past End (a long line), no line starts in this chunk: stop
		// there rather than read the rest of the line.
		found, err := r.skipLine(r.it.End)
		if err != nil {
			return err
		}
		if !found {
			r.done = true
			return nil
		}
		if r.lineNo > 0 {
			r.lineNo++
		}
	}
	return nil
}

// Next returns the next line the chunk owns, or io.EOF after the last one.
func (r *Reader) Next() (Line, error) {
	if r.err != nil {
		return Line{}, r.err
	}
	if !r.started {
		r.started = true
		if err := r.start(); err != nil {
			return Line{}, r.fail(err)
		}
	}
	if r.done || r.it.End >= 0 && r.off >= r.it.End {
		r.err = io.EOF
		return Line{}, io.EOF
	}
	l := Line{Offset: r.off, Number: r.lineNo}
	r.carry = r.carry[:0]
	for {
		if len(r.cur) == 0 {
			if err := r.fill(); err != nil {
				if err != io.EOF {
					return Line{}, r.fail(err)
				}
				r.done = true
				if r.off == l.Offset {
					r.err = io.EOF
					return Line{}, io.EOF
				}
				l.Text = r.carry
				break
			}
		}
		i := bytes.IndexByte(r.cur, '\n')
		if i < 0 {
			if len(r.carry)+len(r.cur) > r.maxLine {
				// Too long: keep its first maxLine+1 bytes, discard the
				// rest through the next newline.
				r.carry = append(r.carry, r.cur[:r.maxLine+1-len(r.carry)]...)
				l.Text, l.Cut = r.carry, true
				r.off += int64(len(r.cur))
				r.cur = nil
				if _, err := r.skipLine(-1); err != nil {
					if err != io.EOF {
						return Line{}, r.fail(err)
					}
					r.done = true
				}
				break
			}
			r.carry = append(r.carry, r.cur...)
			r.off += int64(len(r.cur))
			r.cur = nil
			continue
		}
		if len(r.carry) == 0 {
			l.Text = r.cur[:i:i]
		} else {
			r.carry = append(r.carry, r.cur[:i]...)
			l.Text = r.carry
		}
		if len(l.Text) > r.maxLine {
			l.Text, l.Cut = l.Text[:r.maxLine+1], true
		}
		r.cur = r.cur[i+1:]
		r.off += int64(i + 1)
		break
	}
	if r.lineNo > 0 {
		r.lineNo++
	}
	r.lines++
	return l, nil
}

func (r *Reader) fail(err error) error {
	if err == io.EOF {
		// The object ended while skipping to the first owned line.
		r.err = io.EOF
		return io.EOF
	}
	r.err = fmt.Errorf("chunk %d: %w", r.it.N, err)
	return r.err
}
