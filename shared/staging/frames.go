// Package staging holds encoded datagrams between the Parse and Send steps:
// a small binary container of netflow.Frames (the frame file), and the
// Store interface with a local-directory implementation (S3 lives in
// shared/awsio).
//
// Frame file layout (all integers unsigned varints unless noted):
//
//	"FL2NFSTG" (8 bytes) | version (1 byte, 1) | protocol (1 byte: 5, 9, 10)
//	frame*:  len | units | records | data[len]          (len > 0)
//	trailer: 0   | frames | units | records | crc32c (4 bytes, big endian)
//
// The CRC covers every byte before it. A reader returns an error for a
// truncated or corrupt file instead of a short send.
package staging

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
)

const magic = "FL2NFSTG"
const version = 1

// MaxFrame bounds one datagram (the largest UDP payload).
const MaxFrame = 65507

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Totals counts what a frame file holds.
type Totals struct {
	Frames  uint64 `json:"frames"`
	Units   uint64 `json:"units"`
	Records uint64 `json:"records"`
	Bytes   uint64 `json:"bytes"` // datagram bytes, without templates
}

// Writer writes a frame file.
type Writer struct {
	w      *bufio.Writer
	crc    hash.Hash32
	totals Totals
	buf    [3 * binary.MaxVarintLen64]byte
	err    error
}

// NewWriter starts a frame file for protocol p on w.
func NewWriter(w io.Writer, p netflow.Protocol) *Writer {
	c := crc32.New(castagnoli)
	sw := &Writer{w: bufio.NewWriterSize(io.MultiWriter(w, c), 64<<10), crc: c}
	sw.write(append([]byte(magic), version, byte(p)))
	return sw
}

func (w *Writer) write(b []byte) {
	if w.err == nil {
		_, w.err = w.w.Write(b)
	}
}

// Add appends one frame. Its signature matches netflow.Emit.
func (w *Writer) Add(f netflow.Frame) error {
	if len(f.Data) == 0 || len(f.Data) > MaxFrame {
		return fmt.Errorf("staging: frame of %d bytes", len(f.Data))
	}
	n := binary.PutUvarint(w.buf[:], uint64(len(f.Data)))
	n += binary.PutUvarint(w.buf[n:], uint64(f.Units))
	n += binary.PutUvarint(w.buf[n:], uint64(f.Records))
	w.write(w.buf[:n])
	w.write(f.Data)
	w.totals.Frames++
	w.totals.Units += uint64(f.Units)
	w.totals.Records += uint64(f.Records)
	w.totals.Bytes += uint64(len(f.Data))
	return w.err
}

// Totals returns what has been added so far.
func (w *Writer) Totals() Totals { return w.totals }

// Close writes the trailer and flushes. It does not close the underlying
// writer.
func (w *Writer) Close() error {
	var b [4 * binary.MaxVarintLen64]byte
	n := binary.PutUvarint(b[:], 0)
	n += binary.PutUvarint(b[n:], w.totals.Frames)
	n += binary.PutUvarint(b[n:], w.totals.Units)
	n += binary.PutUvarint(b[n:], w.totals.Records)
	w.write(b[:n])
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if w.err != nil {
		return fmt.Errorf("staging: write frames: %w", w.err)
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], w.crc.Sum32())
	// The CRC is written past the hashed part, straight to the output.
	if _, err := w.w.Write(sum[:]); err != nil {
		return fmt.Errorf("staging: write frames: %w", err)
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("staging: write frames: %w", err)
	}
	return nil
}

// ErrCorrupt marks a frame file that is truncated or damaged.
var ErrCorrupt = errors.New("staging: corrupt frame file")

var errVarint = errors.New("varint overflow")

// readErr is a failure to read what the file should hold: corruption
// (ErrCorrupt) when the file ends early or holds a bad varint, and the
// source's own error otherwise (a dropped GET is not a damaged file: a
// retry can read it).
func readErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errVarint) {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, what, err)
	}
	return fmt.Errorf("staging: read frame file: %s: %w", what, err)
}

// Reader reads a frame file.
type Reader struct {
	r        *bufio.Reader
	crc      hash.Hash32
	protocol netflow.Protocol
	totals   Totals
	buf      []byte
	one      [1]byte
	done     bool
}

// NewReader reads the file header.
func NewReader(r io.Reader) (*Reader, error) {
	sr := &Reader{r: bufio.NewReaderSize(r, 64<<10), crc: crc32.New(castagnoli)}
	head := make([]byte, len(magic)+2)
	if err := sr.full(head); err != nil {
		return nil, readErr("header", err)
	}
	if string(head[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	if head[len(magic)] != version {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrCorrupt, head[len(magic)])
	}
	sr.protocol = netflow.Protocol(head[len(magic)+1])
	switch sr.protocol {
	case netflow.V5, netflow.V9, netflow.IPFIX:
	default:
		return nil, fmt.Errorf("%w: unknown protocol %d", ErrCorrupt, sr.protocol)
	}
	return sr, nil
}

// Protocol is the protocol the frames are encoded in.
func (r *Reader) Protocol() netflow.Protocol { return r.protocol }

func (r *Reader) full(b []byte) error {
	if _, err := io.ReadFull(r.r, b); err != nil {
		return err
	}
	r.crc.Write(b)
	return nil
}

func (r *Reader) uvarint() (uint64, error) {
	var x uint64
	var s uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		c, err := r.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		r.one[0] = c
		r.crc.Write(r.one[:])
		if c < 0x80 {
			return x | uint64(c)<<s, nil
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, errVarint
}

// Next returns the next frame, or io.EOF after the trailer has been read
// and verified. The frame's Data is valid until the next call.
func (r *Reader) Next() (netflow.Frame, error) {
	if r.done {
		return netflow.Frame{}, io.EOF
	}
	n, err := r.uvarint()
	if err != nil {
		return netflow.Frame{}, readErr(fmt.Sprintf("frame %d", r.totals.Frames), err)
	}
	if n == 0 {
		return netflow.Frame{}, r.trailer()
	}
	if n > MaxFrame {
		return netflow.Frame{}, fmt.Errorf("%w: frame %d: length %d", ErrCorrupt, r.totals.Frames, n)
	}
	units, err := r.uvarint()
	if err != nil {
		return netflow.Frame{}, readErr(fmt.Sprintf("frame %d", r.totals.Frames), err)
	}
	recs, err := r.uvarint()
	if err != nil {
		return netflow.Frame{}, readErr(fmt.Sprintf("frame %d", r.totals.Frames), err)
	}
	if units > 1<<32-1 || recs > 1<<32-1 {
		return netflow.Frame{}, fmt.Errorf("%w: frame %d: counts out of range", ErrCorrupt, r.totals.Frames)
	}
	if cap(r.buf) < int(n) {
		r.buf = make([]byte, n, MaxFrame)
	}
	r.buf = r.buf[:n]
	if err := r.full(r.buf); err != nil {
		return netflow.Frame{}, readErr(fmt.Sprintf("frame %d", r.totals.Frames), err)
	}
	r.totals.Frames++
	r.totals.Units += units
	r.totals.Records += recs
	r.totals.Bytes += n
	return netflow.Frame{Data: r.buf, Units: uint32(units), Records: uint32(recs)}, nil
}

func (r *Reader) trailer() error {
	var want Totals
	var err error
	for _, p := range []*uint64{&want.Frames, &want.Units, &want.Records} {
		if *p, err = r.uvarint(); err != nil {
			return readErr("trailer", err)
		}
	}
	sum := r.crc.Sum32()
	var b [4]byte
	if _, err := io.ReadFull(r.r, b[:]); err != nil {
		return readErr("trailer", err)
	}
	if binary.BigEndian.Uint32(b[:]) != sum {
		return fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if want.Frames != r.totals.Frames || want.Units != r.totals.Units || want.Records != r.totals.Records {
		return fmt.Errorf("%w: trailer counts %+v, read %+v", ErrCorrupt, want, r.totals)
	}
	if _, err := r.r.ReadByte(); err != io.EOF {
		return fmt.Errorf("%w: data after trailer", ErrCorrupt)
	}
	r.done = true
	return io.EOF
}

// Totals returns what has been read so far.
func (r *Reader) Totals() Totals { return r.totals }
