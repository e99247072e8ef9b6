package flowlog

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Buffer sizes of a LineReader. A logical line must be shorter than
// MaxLineSize (real flow-log lines are well under 4 KiB).
const (
	readBufferSize = 1 << 20
	MaxLineSize    = 1 << 20
)

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
type LineReader struct {
	sc     *bufio.Scanner
	kind   objectKind
	line   []byte
	lineNo int64
	msg    []byte
}

type objectKind uint8

const (
	kindUnknown objectKind = iota
	kindText
	kindFirehose
)

// NewLineReader returns a LineReader reading r.
func NewLineReader(r io.Reader) *LineReader {
	lr := &LineReader{}
	lr.sc = bufio.NewScanner(r)
	lr.sc.Buffer(make([]byte, readBufferSize), MaxLineSize)
	lr.sc.Split(lr.split)
	return lr
}

// Next advances to the next line and reports whether there is one.
func (lr *LineReader) Next() bool {
	if !lr.sc.Scan() {
		return false
	}
	lr.lineNo++
	lr.line = lr.sc.Bytes()
	if lr.kind == kindFirehose {
		if msg, err := UnwrapMessage(lr.msg[:0], lr.line); err == nil {
			lr.msg = msg
			lr.line = msg
		}
	}
	return true
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

// Err returns the first read error (nil at io.EOF), e.g. a line longer than
// MaxLineSize (bufio.ErrTooLong).
func (lr *LineReader) Err() error {
	if err := lr.sc.Err(); err != nil {
		return fmt.Errorf("read line %d: %w", lr.lineNo+1, err)
	}
	return nil
}

// kindProbe is how much leading white space decides for text.
const kindProbe = 64 << 10

func (lr *LineReader) split(data []byte, atEOF bool) (int, []byte, error) {
	if lr.kind == kindUnknown {
		i := skipWS(data, 0)
		switch {
		case i < len(data) && data[i] == '{':
			lr.kind = kindFirehose
		case i < len(data) || atEOF || len(data) >= kindProbe:
			lr.kind = kindText
		default:
			return 0, nil, nil // only white space so far: read more
		}
	}
	if lr.kind == kindText {
		return bufio.ScanLines(data, atEOF)
	}
	return SplitFirehose(data, atEOF)
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
