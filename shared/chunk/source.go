package chunk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
)

// Source is a byte-addressable object: an S3 object (ranged GETs) or a
// local file.
type Source interface {
	// Size is the object size in bytes.
	Size() int64
	// OpenRange returns the bytes [start, end) of the object; end is
	// exclusive and at most Size.
	OpenRange(ctx context.Context, start, end int64) (io.ReadCloser, error)
}

// ReaderAtSource is a Source over an io.ReaderAt of N bytes.
type ReaderAtSource struct {
	R io.ReaderAt
	N int64
}

// Size implements Source.
func (s ReaderAtSource) Size() int64 { return s.N }

// OpenRange implements Source.
func (s ReaderAtSource) OpenRange(ctx context.Context, start, end int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if start < 0 || start > end || end > s.N {
		return nil, fmt.Errorf("open range [%d, %d) of a %d-byte object: %w", start, end, s.N, ErrRange)
	}
	return io.NopCloser(io.NewSectionReader(s.R, start, end-start)), nil
}

// BytesSource is a Source over b.
func BytesSource(b []byte) Source { return ReaderAtSource{R: bytes.NewReader(b), N: int64(len(b))} }

// FileSource is a Source over a local file.
type FileSource struct {
	ReaderAtSource
	f *os.File
}

// OpenFile opens path as a Source. Close it when done.
func OpenFile(path string) (*FileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	return &FileSource{ReaderAtSource: ReaderAtSource{R: f, N: st.Size()}, f: f}, nil
}

// Close closes the file.
func (s *FileSource) Close() error { return s.f.Close() }

// rangeReader reads a Source from start on: first [start, to), then
// further ranges of growing size as the reader asks for more, up to the end
// of the object. It lets a chunk read past its planned range to finish its
// last line without fetching the rest of the object.
type rangeReader struct {
	ctx  context.Context
	src  Source
	next int64 // start of the next range to open
	to   int64 // end of the first range
	ext  int64 // size of the next extension
	body io.ReadCloser
	gets int // ranges opened
}

const firstExtension = 64 << 10

func newRangeReader(ctx context.Context, src Source, start, to int64) *rangeReader {
	to = min(max(to, start), src.Size())
	return &rangeReader{ctx: ctx, src: src, next: start, to: to, ext: firstExtension}
}

func (r *rangeReader) Read(p []byte) (int, error) {
	for {
		if r.body == nil {
			size := r.src.Size()
			if r.next >= size {
				return 0, io.EOF
			}
			end := r.to
			if r.gets > 0 || end <= r.next {
				end = min(size, r.next+r.ext)
				r.ext *= 2
			}
			body, err := r.src.OpenRange(r.ctx, r.next, end)
			if err != nil {
				return 0, err
			}
			r.body = body
			r.gets++
			r.next = end
		}
		n, err := r.body.Read(p)
		if err == io.EOF {
			cerr := r.body.Close()
			r.body = nil
			if cerr != nil {
				return n, cerr
			}
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (r *rangeReader) Close() error {
	if r.body == nil {
		return nil
	}
	err := r.body.Close()
	r.body = nil
	return err
}

// readerAt adapts a Source to io.ReaderAt (for reading one checkpoint of a
// stored index).
type readerAt struct {
	ctx context.Context
	src Source
}

func (r readerAt) ReadAt(p []byte, off int64) (int, error) {
	size := r.src.Size()
	if off < 0 || off > size {
		return 0, fmt.Errorf("read at %d of a %d-byte object: %w", off, size, ErrRange)
	}
	end := min(size, off+int64(len(p)))
	body, err := r.src.OpenRange(r.ctx, off, end)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	n, err := io.ReadFull(body, p[:end-off])
	if err != nil {
		return n, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
