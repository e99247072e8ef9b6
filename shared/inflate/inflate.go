// Package inflate decodes DEFLATE (RFC 1951) streams and gzip (RFC 1952)
// files, byte for byte like compress/flate and compress/gzip, and adds what
// the standard library does not offer: it reports every deflate block
// boundary (compressed bit offset and uncompressed offset), and it can resume
// decoding at such a boundary given the 32 KiB window that precedes it. The
// gzip checkpoint index (package gzindex) is built on both.
//
// A Reader decodes gzip members one after the other (multi-member files read
// as the concatenation of their members, as with compress/gzip) and checks
// each member's CRC-32 and ISIZE when it has decoded the member from its
// start. A Reader made by Resume starts in the middle of a member: the CRC of
// that member cannot be checked (its trailer is skipped); the members that
// follow are read whole and checked.
//
// Corrupt or truncated input yields an *Error that names the compressed
// offset (byte and bit) where the problem was found. The Reader never panics
// on bad input.
package inflate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

const (
	// WindowSize is the size of the deflate history window: a resumed
	// decoder needs at most this many bytes of output before its start.
	WindowSize = 32 << 10

	outSize   = 256 << 10 // output area of the window buffer
	fastSlack = 258 + 16  // room for one match plus 8-byte overcopy
	winLen    = WindowSize + outSize + fastSlack
	inSize    = 64 << 10 // input buffer
	maxStr    = 512      // gzip FNAME/FCOMMENT limit, as compress/gzip
	inKeep    = 8        // input bytes kept before pos when compacting
	maxEmpty  = 100      // consecutive (0, nil) reads tolerated
	gzipID1   = 0x1f
	gzipID2   = 0x8b
	gzipCMDef = 8
	flagHCRC  = 1 << 1
	flagExtra = 1 << 2
	flagName  = 1 << 3
	flagComm  = 1 << 4
)

// Sentinel errors, wrapped by *Error. Truncated input wraps
// io.ErrUnexpectedEOF; a failing underlying reader wraps its error.
var (
	ErrCorrupt  = errors.New("corrupt deflate data")
	ErrHeader   = errors.New("invalid gzip header")
	ErrChecksum = errors.New("gzip checksum mismatch")
)

// Error describes bad input and where it was found.
type Error struct {
	Bit int64  // absolute compressed bit offset where the problem was found
	Err error  // ErrCorrupt, ErrHeader, ErrChecksum, io.ErrUnexpectedEOF or a read error
	Msg string // what was wrong
}

func (e *Error) Error() string {
	return fmt.Sprintf("inflate: %v at compressed byte %d (bit %d): %s", e.Err, e.Bit/8, e.Bit, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Boundary describes the start of a deflate block.
type Boundary struct {
	// Bit is the absolute compressed bit offset of the block header.
	Bit int64
	// Out is the absolute uncompressed offset of the block's first byte.
	Out int64
	// Window is the history a decoder needs to resume here: the last up to
	// WindowSize bytes of output of the current gzip member (empty at the
	// first block of a member). It is valid only during the callback.
	Window []byte
	// Prev is the output byte just before Out, across member boundaries,
	// or -1 when there is none or it is unknown (the start of a resumed
	// decode without a window).
	Prev int
}

// Point is where a resumed decode starts: a deflate block boundary.
type Point struct {
	Bit    int64  // absolute compressed bit offset of a block header
	Out    int64  // absolute uncompressed offset there
	Window []byte // the current member's last up to WindowSize bytes before Out
}

// Options configure a Reader. The zero value reads gzip.
type Options struct {
	// Raw reads a bare RFC 1951 stream (no gzip framing); decoding ends at
	// its final block.
	Raw bool
	// OnBlock, when set, is called at every deflate block boundary, before
	// the block header is read. It runs on the decoding goroutine, at most
	// once per block, so it costs nothing per byte.
	OnBlock func(Boundary)
}

type state uint8

const (
	stHeader state = iota
	stBlock
	stStored
	stHuff
	stTrailer
	stDone
)

// Reader decodes a gzip or raw deflate stream read from an io.Reader.
type Reader struct {
	r      io.Reader
	in     []byte
	pos    int
	end    int
	inBase int64
	eof    bool
	rerr   error
	skip   uint

	bits uint64
	nb   uint

	win     []byte
	w       int
	rd      int
	histLow int
	outBase int64

	st      state
	final   bool
	stored  int
	lit     *litTable
	dist    *distTable
	dynLit  litTable
	dynDist distTable

	raw         bool
	started     bool
	verify      bool
	crc         uint32
	crcPos      int
	memberStart int64

	onBlock func(Boundary)
	err     error
}

// NewReader returns a Reader that decodes r from its start: gzip members
// (opt nil or opt.Raw false) or a raw deflate stream. Errors, including an
// invalid gzip header, are reported by Read.
func NewReader(r io.Reader, opt *Options) *Reader {
	z := newReader(r, opt)
	if z.raw {
		z.st = stBlock
	} else {
		z.st = stHeader
	}
	return z
}

// Resume returns a Reader that starts at block boundary at.Bit with the
// history at.Window, reading from r, which must start at byte at.Bit/8 of
// the compressed object (a ranged GET from there works). Output offsets
// (Offset, Boundary.Out) continue from at.Out. In gzip mode the Reader goes
// on past the end of the current member into the following members; the
// current member's CRC-32 and size cannot be checked and are not.
func Resume(r io.Reader, at Point, opt *Options) (*Reader, error) {
	if at.Bit < 0 || at.Out < int64(len(at.Window)) {
		return nil, fmt.Errorf("inflate: resume at bit %d, out %d with %d window bytes: invalid point", at.Bit, at.Out, len(at.Window))
	}
	if len(at.Window) > WindowSize {
		return nil, fmt.Errorf("inflate: resume window of %d bytes exceeds %d", len(at.Window), WindowSize)
	}
	z := newReader(r, opt)
	z.inBase = at.Bit / 8
	z.skip = uint(at.Bit % 8)
	n := copy(z.win, at.Window)
	z.w, z.rd, z.crcPos = n, n, n
	z.outBase = at.Out - int64(n)
	z.st = stBlock
	z.started = true
	return z, nil
}

func newReader(r io.Reader, opt *Options) *Reader {
	z := &Reader{
		in:  make([]byte, inSize),
		win: make([]byte, winLen),
	}
	z.reset(r, opt)
	return z
}

func (z *Reader) reset(r io.Reader, opt *Options) {
	*z = Reader{r: r, in: z.in, win: z.win}
	if opt != nil {
		z.raw = opt.Raw
		z.onBlock = opt.OnBlock
	}
}

// Reset makes z decode r from its start, as NewReader would, reusing its
// buffers.
func (z *Reader) Reset(r io.Reader, opt *Options) {
	z.reset(r, opt)
	if z.raw {
		z.st = stBlock
	} else {
		z.st = stHeader
	}
}

// Offset is the absolute uncompressed offset of the next byte Read returns.
func (z *Reader) Offset() int64 { return z.outBase + int64(z.rd) }

// BitOffset is the absolute compressed bit offset the decoder has reached
// (it runs ahead of Offset by what is decoded but not yet read).
func (z *Reader) BitOffset() int64 { return z.bitPos() }

// Read reads decompressed bytes. It decodes about len(p) bytes at a time.
// At the end of the stream it returns io.EOF.
func (z *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	z.produce(len(p))
	if z.rd == z.w {
		return 0, z.err
	}
	n := copy(p, z.win[z.rd:z.w])
	z.rd += n
	return n, nil
}

// Next returns the next up to max decompressed bytes without copying. The
// slice is valid until the next call of a Reader method. At the end of the
// stream it returns io.EOF.
func (z *Reader) Next(max int) ([]byte, error) {
	if max <= 0 {
		return nil, nil
	}
	z.produce(max)
	if z.rd == z.w {
		return nil, z.err
	}
	n := min(z.w-z.rd, max)
	b := z.win[z.rd : z.rd+n : z.rd+n]
	z.rd += n
	return b, nil
}

// WriteTo writes all remaining decompressed bytes to w.
func (z *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		b, err := z.Next(outSize)
		if len(b) > 0 {
			n, werr := w.Write(b)
			total += int64(n)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// produce makes at least one decoded byte available unless the stream has
// ended or failed, decoding about want bytes.
func (z *Reader) produce(want int) {
	if z.rd < z.w || z.err != nil {
		return
	}
	if z.w+want > len(z.win)-fastSlack && z.w > WindowSize {
		shift := z.w - WindowSize
		copy(z.win, z.win[shift:z.w])
		z.w -= shift
		z.rd -= shift
		z.crcPos -= shift
		z.histLow = max(0, z.histLow-shift)
		z.outBase += int64(shift)
	}
	limit := min(z.w+want, len(z.win)-fastSlack)
	err := z.decode(limit)
	z.sumCRC()
	if err != nil {
		z.err = err
	}
}

func (z *Reader) sumCRC() {
	if z.verify && z.crcPos < z.w {
		z.crc = crc32.Update(z.crc, crc32.IEEETable, z.win[z.crcPos:z.w])
	}
	z.crcPos = z.w
}

// decode runs the state machine until the output reaches limit, the stream
// ends (io.EOF) or fails.
func (z *Reader) decode(limit int) error {
	if z.skip > 0 {
		if !z.need(z.skip) {
			return z.fail(z.bitPos(), io.ErrUnexpectedEOF, "no input at resume point")
		}
		z.consume(z.skip)
		z.skip = 0
	}
	for z.w < limit {
		var err error
		switch z.st {
		case stHeader:
			err = z.readHeader()
		case stBlock:
			err = z.blockHeader()
		case stStored:
			err = z.copyStored(limit)
		case stHuff:
			err = z.huffman(limit)
		case stTrailer:
			err = z.trailer()
		case stDone:
			return io.EOF
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (z *Reader) bitPos() int64 { return (z.inBase+int64(z.pos))*8 - int64(z.nb) }

func (z *Reader) fail(bit int64, kind error, format string, args ...any) error {
	if kind == io.ErrUnexpectedEOF && z.rerr != nil {
		kind = z.rerr
	}
	return &Error{Bit: bit, Err: kind, Msg: fmt.Sprintf(format, args...)}
}

// more reads more input. It reports false when there is none.
func (z *Reader) more() bool {
	if z.eof || z.rerr != nil {
		return false
	}
	if len(z.in)-z.end < len(z.in)/4 && z.pos > inKeep {
		shift := z.pos - inKeep
		copy(z.in, z.in[shift:z.end])
		z.pos -= shift
		z.end -= shift
		z.inBase += int64(shift)
	}
	for range maxEmpty {
		n, err := z.r.Read(z.in[z.end:])
		z.end += n
		if err == io.EOF {
			z.eof = true
			return n > 0
		}
		if err != nil {
			z.rerr = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	z.rerr = io.ErrNoProgress
	return false
}

// need loads at least n ≤ 32 bits into the bit buffer, or reports false.
func (z *Reader) need(n uint) bool {
	for z.nb < n {
		if z.pos == z.end && !z.more() {
			return false
		}
		z.bits |= uint64(z.in[z.pos]) << (z.nb & 63)
		z.pos++
		z.nb += 8
	}
	return true
}

// load loads up to n ≤ 32 bits, fewer at the end of the input.
func (z *Reader) load(n uint) {
	for z.nb < n {
		if z.pos == z.end && !z.more() {
			return
		}
		z.bits |= uint64(z.in[z.pos]) << (z.nb & 63)
		z.pos++
		z.nb += 8
	}
}

func (z *Reader) consume(n uint) {
	z.bits >>= n & 63
	z.nb -= n
}

// alignUnread drops the bits up to the next byte boundary and gives the
// whole bytes left in the bit buffer back to the input buffer.
func (z *Reader) alignUnread() {
	z.pos -= int(z.nb >> 3)
	z.bits, z.nb = 0, 0
}

// readBytes fills b from the byte-aligned input (bit buffer empty).
func (z *Reader) readBytes(b []byte) bool {
	for len(b) > 0 {
		if z.pos == z.end && !z.more() {
			return false
		}
		n := copy(b, z.in[z.pos:z.end])
		z.pos += n
		b = b[n:]
	}
	return true
}

func (z *Reader) readHeader() error {
	start := z.bitPos()
	if z.pos == z.end && !z.more() {
		if z.rerr != nil {
			return z.fail(start, z.rerr, "reading gzip header")
		}
		if !z.started {
			return z.fail(start, io.ErrUnexpectedEOF, "empty input")
		}
		z.st = stDone
		return nil
	}
	var h [10]byte
	if !z.readBytes(h[:]) {
		return z.fail(start, io.ErrUnexpectedEOF, "truncated gzip header")
	}
	if h[0] != gzipID1 || h[1] != gzipID2 {
		return z.fail(start, ErrHeader, "bad magic %#02x %#02x", h[0], h[1])
	}
	if h[2] != gzipCMDef {
		return z.fail(start, ErrHeader, "compression method %d, not deflate", h[2])
	}
	flg := h[3]
	crc := crc32.ChecksumIEEE(h[:])
	if flg&flagExtra != 0 {
		var x [2]byte
		if !z.readBytes(x[:]) {
			return z.fail(z.bitPos(), io.ErrUnexpectedEOF, "truncated gzip extra field length")
		}
		crc = crc32.Update(crc, crc32.IEEETable, x[:])
		for n := int(binary.LittleEndian.Uint16(x[:])); n > 0; {
			if z.pos == z.end && !z.more() {
				return z.fail(z.bitPos(), io.ErrUnexpectedEOF, "truncated gzip extra field")
			}
			k := min(n, z.end-z.pos)
			crc = crc32.Update(crc, crc32.IEEETable, z.in[z.pos:z.pos+k])
			z.pos += k
			n -= k
		}
	}
	for _, f := range []struct {
		flag byte
		name string
	}{{flagName, "file name"}, {flagComm, "comment"}} {
		if flg&f.flag == 0 {
			continue
		}
		for i := 0; ; i++ {
			if i >= maxStr {
				return z.fail(z.bitPos(), ErrHeader, "gzip %s longer than %d bytes", f.name, maxStr-1)
			}
			if z.pos == z.end && !z.more() {
				return z.fail(z.bitPos(), io.ErrUnexpectedEOF, "truncated gzip %s", f.name)
			}
			c := z.in[z.pos]
			z.pos++
			crc = crc32.Update(crc, crc32.IEEETable, []byte{c})
			if c == 0 {
				break
			}
		}
	}
	if flg&flagHCRC != 0 {
		at := z.bitPos()
		var x [2]byte
		if !z.readBytes(x[:]) {
			return z.fail(at, io.ErrUnexpectedEOF, "truncated gzip header CRC")
		}
		if got := binary.LittleEndian.Uint16(x[:]); got != uint16(crc) {
			return z.fail(at, ErrHeader, "header CRC %#04x, computed %#04x", got, uint16(crc))
		}
	}
	z.started = true
	z.verify = true
	z.crc = 0
	z.crcPos = z.w
	z.memberStart = z.outBase + int64(z.w)
	z.histLow = z.w
	z.st = stBlock
	return nil
}

func (z *Reader) trailer() error {
	z.sumCRC()
	z.alignUnread()
	start := z.bitPos()
	var t [8]byte
	if !z.readBytes(t[:]) {
		return z.fail(start, io.ErrUnexpectedEOF, "truncated gzip trailer")
	}
	if z.verify {
		crc := binary.LittleEndian.Uint32(t[:4])
		size := binary.LittleEndian.Uint32(t[4:])
		got := uint32(z.outBase + int64(z.w) - z.memberStart)
		if crc != z.crc {
			return z.fail(start, ErrChecksum, "member CRC-32 %#08x, computed %#08x", crc, z.crc)
		}
		if size != got {
			return z.fail(start, ErrChecksum, "member size %d mod 2^32, decoded %d", size, got)
		}
	}
	z.verify = false
	z.st = stHeader
	return nil
}

func (z *Reader) endBlock() {
	switch {
	case !z.final:
		z.st = stBlock
	case z.raw:
		z.alignUnread()
		z.st = stDone
	default:
		z.st = stTrailer
	}
}

func (z *Reader) blockHeader() error {
	start := z.bitPos()
	if z.onBlock != nil {
		lo := max(z.histLow, z.w-WindowSize)
		prev := -1
		if z.w > 0 {
			prev = int(z.win[z.w-1])
		}
		z.onBlock(Boundary{Bit: start, Out: z.outBase + int64(z.w), Window: z.win[lo:z.w:z.w], Prev: prev})
	}
	if !z.need(3) {
		return z.fail(start, io.ErrUnexpectedEOF, "truncated block header")
	}
	z.final = z.bits&1 != 0
	typ := (z.bits >> 1) & 3
	z.consume(3)
	switch typ {
	case 0:
		z.alignUnread()
		at := z.bitPos()
		var h [4]byte
		if !z.readBytes(h[:]) {
			return z.fail(at, io.ErrUnexpectedEOF, "truncated stored block length")
		}
		n := binary.LittleEndian.Uint16(h[:2])
		nn := binary.LittleEndian.Uint16(h[2:])
		if n != ^nn {
			return z.fail(at, ErrCorrupt, "stored block length %#04x does not match its complement %#04x", n, nn)
		}
		z.stored = int(n)
		z.st = stStored
		if n == 0 {
			z.endBlock()
		}
	case 1:
		z.lit, z.dist = &fixedLit, &fixedDist
		z.st = stHuff
	case 2:
		if err := z.readDynamic(); err != nil {
			return err
		}
		z.lit, z.dist = &z.dynLit, &z.dynDist
		z.st = stHuff
	default:
		return z.fail(start, ErrCorrupt, "invalid block type 3")
	}
	return nil
}

func (z *Reader) readDynamic() error {
	start := z.bitPos()
	if !z.need(14) {
		return z.fail(start, io.ErrUnexpectedEOF, "truncated dynamic block header")
	}
	nlit := int(z.bits&31) + 257
	ndist := int(z.bits>>5&31) + 1
	nclen := int(z.bits>>10&15) + 4
	z.consume(14)
	if nlit > numLitLen {
		return z.fail(start, ErrCorrupt, "%d literal/length codes (max %d)", nlit, numLitLen)
	}
	if ndist > numDist {
		return z.fail(start, ErrCorrupt, "%d distance codes (max %d)", ndist, numDist)
	}
	var cl [numCL]uint8
	for i := range nclen {
		if !z.need(3) {
			return z.fail(z.bitPos(), io.ErrUnexpectedEOF, "truncated code-length code lengths")
		}
		cl[codeOrder[i]] = uint8(z.bits & 7)
		z.consume(3)
	}
	var clt [1 << clBits]uint32
	if !buildTable(clt[:], clBits, cl[:], clTemplate[:]) {
		return z.fail(start, ErrCorrupt, "invalid code-length code")
	}
	var lens [numLitLen + numDist]uint8
	n := nlit + ndist
	for i := 0; i < n; {
		at := z.bitPos()
		z.load(clBits)
		e := clt[z.bits&clMask]
		if e&eExc != 0 {
			return z.fail(at, ErrCorrupt, "invalid code-length symbol")
		}
		if uint(e&31) > z.nb {
			return z.fail(at, io.ErrUnexpectedEOF, "truncated code lengths")
		}
		z.consume(uint(e & 31))
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return z.fail(at, ErrCorrupt, "repeat of previous code length with no previous length")
			}
			if !z.need(2) {
				return z.fail(at, io.ErrUnexpectedEOF, "truncated code lengths")
			}
			rep = 3 + int(z.bits&3)
			z.consume(2)
			val = lens[i-1]
		case 17:
			if !z.need(3) {
				return z.fail(at, io.ErrUnexpectedEOF, "truncated code lengths")
			}
			rep = 3 + int(z.bits&7)
			z.consume(3)
		default:
			if !z.need(7) {
				return z.fail(at, io.ErrUnexpectedEOF, "truncated code lengths")
			}
			rep = 11 + int(z.bits&127)
			z.consume(7)
		}
		if i+rep > n {
			return z.fail(at, ErrCorrupt, "code lengths repeat past the %d codes", n)
		}
		for range rep {
			lens[i] = val
			i++
		}
	}
	if !buildTable(z.dynLit[:], litBits, lens[:nlit], litTemplate[:]) {
		return z.fail(start, ErrCorrupt, "invalid literal/length code lengths")
	}
	if !buildTable(z.dynDist[:], distBits, lens[nlit:n], distTemplate[:]) {
		return z.fail(start, ErrCorrupt, "invalid distance code lengths")
	}
	return nil
}

func (z *Reader) copyStored(limit int) error {
	for z.stored > 0 && z.w < limit {
		if z.pos == z.end && !z.more() {
			return z.fail(z.bitPos(), io.ErrUnexpectedEOF, "truncated stored block (%d bytes missing)", z.stored)
		}
		n := min(z.stored, z.end-z.pos, limit-z.w)
		copy(z.win[z.w:], z.in[z.pos:z.pos+n])
		z.w += n
		z.pos += n
		z.stored -= n
	}
	if z.stored == 0 {
		z.endBlock()
	}
	return nil
}

// copyMatch copies a match of length bytes from dist bytes back; the caller
// has checked dist against the history.
func copyMatch(win []byte, w, dist, length int) {
	src := w - dist
	end := w + length
	switch {
	case dist >= length:
		copy(win[w:end], win[src:src+length])
	case dist == 1:
		b := win[src]
		s := win[w:end]
		for i := range s {
			s[i] = b
		}
	default:
		for w < end {
			w += copy(win[w:end], win[src:w])
		}
	}
}
