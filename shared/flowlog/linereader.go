package flowlog

import (
	"bytes"
	"fmt"
	"io"
)

// DefaultMaxLineBytes is the default maximum length of a line (the bytes
// before its '\n', a '\r' included) or of a Firehose record. Real flow-log
// lines are under 1 KiB even with every field of format version 8, and a
// header line is at most 16 KiB (chunk.MaxHeaderLen): 64 KiB leaves a wide
// margin while a reader never buffers more than about that per line. A
// longer line is counted as malformed (ErrLineTooLong), never buffered
// whole: the readers keep its first MaxLineBytes+1 bytes and discard the
// rest up to the next newline.
const DefaultMaxLineBytes = 64 << 10

// MinMaxLineBytes is the smallest accepted maximum line length: a header
// line must fit.
const MinMaxLineBytes = 16 << 10

// readBufferSize is the smallest read buffer of a LineReader.
const readBufferSize = 256 << 10

// LineReader yields the logical lines of one flow-log object:
//
//   - text: newline-separated lines, "\r\n" accepted; or
//   - Firehose: JSON records {"message":"..."}, concatenated ({...}{...}) or
//     separated by whitespace, each yielded as its decoded message.
//
// The kind is detected from the first non-space byte ('{' means Firehose).
// A Firehose record that cannot be decoded is yielded raw (it starts with
// '{', and Parser.ParseLine reports it as malformed); text between records
// is yielded as a line of its own. LineNo is the 1-based line number, for
// Firehose the record index. Lines are yielded without allocation.
//
// A line (or record) longer than the maximum line length is yielded as its
// first max+1 bytes, which Parser.ParseLine counts as malformed
// (ErrLineTooLong); the rest of it is discarded without being buffered, so
// memory stays bounded whatever the input.
type LineReader struct {
	r          io.Reader
	buf        []byte
	start, end int // pending bytes buf[start:end]
	eof        bool
	err        error // read error (other than io.EOF)
	max        int

	kind   objectKind
	line   []byte
	lineNo int64
	msg    []byte

	skip skipKind // the last line was too long: discard its rest first
	js   jsonScan
}

type objectKind uint8

const (
	kindUnknown objectKind = iota
	kindText
	kindFirehose
)

type skipKind uint8

const (
	skipNone    skipKind = iota
	skipLine             // text: through the next '\n'
	skipRecord           // Firehose record: through its closing '}'
	skipBetween          // Firehose text between records: up to the next '{' or '\n'
)

// NewLineReader returns a LineReader reading r with the default maximum
// line length.
func NewLineReader(r io.Reader) *LineReader { return NewLineReaderMax(r, 0) }

// NewLineReaderMax returns a LineReader reading r whose lines longer than
// maxLine bytes are cut (see LineReader); maxLine <= 0 means
// DefaultMaxLineBytes.
func NewLineReaderMax(r io.Reader, maxLine int) *LineReader {
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	return &LineReader{r: r, max: maxLine, buf: make([]byte, max(readBufferSize, maxLine+2))}
}

// Next advances to the next line and reports whether there is one.
func (lr *LineReader) Next() bool {
	if lr.skip != skipNone {
		lr.discard()
	}
	for {
		atEOF := lr.eof || lr.err != nil
		data := lr.buf[lr.start:lr.end]
		adv, tok := lr.split(data, atEOF)
		lr.start += adv
		if tok != nil {
			lr.yield(tok)
			return true
		}
		if atEOF {
			return false
		}
		if pending := lr.buf[lr.start:lr.end]; lr.kind != kindUnknown && len(pending) > lr.max {
			// Too long: yield its first max+1 bytes, discard the rest
			// on the next call (pending still starts at the line).
			switch {
			case lr.kind == kindText:
				lr.skip = skipLine
			case pending[0] == '{':
				lr.skip, lr.js = skipRecord, jsonScan{}
			default:
				lr.skip = skipBetween
			}
			lr.lineNo++
			lr.line = pending[:lr.max+1]
			return true
		}
		lr.read()
	}
}

// yield makes tok the current line.
func (lr *LineReader) yield(tok []byte) {
	lr.lineNo++
	lr.line = tok
	if len(tok) > lr.max {
		lr.line = tok[:lr.max+1]
		return
	}
	if lr.kind == kindFirehose {
		if msg, err := UnwrapMessage(lr.msg[:0], tok); err == nil {
			lr.msg = msg
			lr.line = msg
		}
	}
}

// read reads more bytes, moving the pending ones to the buffer start.
func (lr *LineReader) read() {
	if lr.start > 0 {
		lr.end = copy(lr.buf, lr.buf[lr.start:lr.end])
		lr.start = 0
	}
	for range 100 {
		n, err := lr.r.Read(lr.buf[lr.end:])
		lr.end += n
		if err == io.EOF {
			lr.eof = true
			return
		}
		if err != nil {
			lr.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	lr.err = io.ErrNoProgress
}

// discard drops the rest of a too-long line.
func (lr *LineReader) discard() {
	for {
		data := lr.buf[lr.start:lr.end]
		n, done := 0, false
		switch lr.skip {
		case skipLine:
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				n, done = i+1, true
			} else {
				n = len(data)
			}
		case skipBetween:
			if i := bytes.IndexAny(data, "{\n"); i >= 0 {
				n, done = i, true
			} else {
				n = len(data)
			}
		case skipRecord:
			n, done = lr.js.feed(data)
		}
		lr.start += n
		if done || lr.eof || lr.err != nil {
			lr.skip = skipNone
			return
		}
		lr.start, lr.end = 0, 0
		lr.read()
	}
}

// Line returns the current line without its terminator. It is valid until
// the next call to Next.
func (lr *LineReader) Line() []byte { return lr.line }

// LineNo returns the 1-based number of the current line (Firehose: record
// index).
func (lr *LineReader) LineNo() int64 { return lr.lineNo }

// Firehose reports whether the object was detected as Firehose records
// (meaningful after the first call to Next).
func (lr *LineReader) Firehose() bool { return lr.kind == kindFirehose }

// Err returns the first read error (nil at io.EOF).
func (lr *LineReader) Err() error {
	if lr.err != nil {
		return fmt.Errorf("read line %d: %w", lr.lineNo+1, lr.err)
	}
	return nil
}

// kindProbe is how much leading white space decides for text.
const kindProbe = 64 << 10

// split returns how many bytes of data to consume and the next token, nil
// when it needs more data.
func (lr *LineReader) split(data []byte, atEOF bool) (int, []byte) {
	if lr.kind == kindUnknown {
		i := skipWS(data, 0)
		switch {
		case i < len(data) && data[i] == '{':
			lr.kind = kindFirehose
		case i < len(data) || atEOF || len(data) >= kindProbe:
			lr.kind = kindText
		default:
			return 0, nil // only white space so far: read more
		}
	}
	if lr.kind == kindText {
		return splitText(data, atEOF, lr.max)
	}
	adv, tok, _ := SplitFirehose(data, atEOF)
	return adv, tok
}

// splitText splits off the next line, dropping one '\r' before the '\n'
// unless the line is longer than max (then the parser counts it).
func splitText(data []byte, atEOF bool, max int) (int, []byte) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, dropCR(data[:i], max)
	}
	if atEOF && len(data) > 0 {
		return len(data), dropCR(data, max)
	}
	return 0, nil
}

func dropCR(b []byte, max int) []byte {
	if n := len(b); n > 0 && n <= max && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// SplitFirehose is a bufio.SplitFunc for Firehose objects: each token is
// one raw JSON record {...} (decode it with UnwrapMessage), or the text
// between records up to the next '{' or newline. White space between
// records is skipped. An unterminated record at EOF is returned as it is.
func SplitFirehose(data []byte, atEOF bool) (advance int, token []byte, err error) {
	i := skipWS(data, 0)
	if i == len(data) {
		return i, nil, nil
	}
	if data[i] == '{' {
		n, ok := objectEnd(data[i:])
		if !ok && !atEOF {
			return i, nil, nil
		}
		return i + n, data[i : i+n], nil
	}
	j := bytes.IndexAny(data[i:], "{\n")
	if j < 0 {
		if !atEOF {
			return i, nil, nil
		}
		j = len(data) - i
	}
	return i + j, trimLine(data[i : i+j]), nil
}

// jsonScan finds the end of a JSON record fed in pieces, as objectEnd does
// for a whole one.
type jsonScan struct {
	depth    int
	inString bool
	escape   bool
}

// feed consumes b up to the end of the record; done reports whether it
// ended.
func (s *jsonScan) feed(b []byte) (n int, done bool) {
	for i, c := range b {
		if s.inString {
			switch {
			case s.escape:
				s.escape = false
			case c == '\\':
				s.escape = true
			case c == '"':
				s.inString = false
			}
			continue
		}
		switch c {
		case '"':
			s.inString = true
		case '{', '[':
			s.depth++
		case '}', ']':
			s.depth--
			if s.depth == 0 {
				return i + 1, true
			}
		}
	}
	return len(b), false
}
