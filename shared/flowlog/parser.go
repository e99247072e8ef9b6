package flowlog

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// Options configure a Parser.
type Options struct {
	// Format is used for objects without a header line (Firehose, byte
	// ranges after the first). A header line on line 1 overrides it.
	Format *Format
	// AddressMode chooses srcaddr/dstaddr or pkt-srcaddr/pkt-dstaddr.
	AddressMode AddressMode
	// Filter, when set, is called for every record; false skips the line
	// as ReasonFiltered.
	Filter func(*flow.Record) bool
	// MaxLineBytes is the maximum length of a line (its bytes before the
	// '\n', a '\r' included); a longer line is malformed (ErrLineTooLong).
	// 0 means DefaultMaxLineBytes. The line readers (LineReader,
	// chunk.Reader, the streamed cutter) cut longer lines to MaxLineBytes+1
	// bytes so that this rule sees them without buffering them whole.
	MaxLineBytes int
}

// MaxLine returns the maximum line length o sets.
func (o Options) MaxLine() int {
	if o.MaxLineBytes > 0 {
		return o.MaxLineBytes
	}
	return DefaultMaxLineBytes
}

// MaxErrors is how many malformed-line errors a Parser keeps for reports.
const MaxErrors = 10

// Parser turns flow-log lines into records and accounts for every line.
// It is not safe for concurrent use; use one per goroutine.
type Parser struct {
	opts   Options
	format *Format // the active format: from the header, else opts.Format
	counts Counts
	errs   []*LineError
	intern interner
	msg    []byte     // scratch for unwrapped Firehose records
	vals   lineValues // the values of the current line
	addrs  addrCache  // recently parsed addresses
}

// NewParser returns a parser for one or more objects.
func NewParser(opts Options) *Parser {
	return &Parser{opts: opts, format: opts.Format}
}

// Reset prepares p for a new object: the format reverts to the configured
// one and counts and errors are cleared. The intern table and the caches of
// recent identifiers and addresses are kept.
func (p *Parser) Reset() {
	p.format = p.opts.Format
	p.counts = Counts{}
	p.errs = nil
}

// Format returns the active format: the last header's, else the configured
// one, else nil.
func (p *Parser) Format() *Format { return p.format }

// Counts returns the accounting of every line parsed since NewParser or
// Reset.
func (p *Parser) Counts() Counts { return p.counts }

// Errors returns the first MaxErrors malformed-line errors.
func (p *Parser) Errors() []*LineError { return append([]*LineError(nil), p.errs...) }

// ParseLine parses one logical line (with or without its "\n" or "\r\n")
// numbered lineNo (1-based) into rec, and counts it. It returns:
//
//   - ReasonNone, nil: rec holds a record;
//   - a skip reason and nil: the line is a header, blank, NODATA, SKIPDATA
//     or filtered (rec is undefined);
//   - ReasonMalformed and a *LineError naming the line and the cause;
//   - ReasonNone and an error wrapping ErrNoFormat for a data line when there
//     is neither a header nor a configured format. Such a line is not
//     counted; the caller should stop.
//
// A header line on line 1, or while no format is known, sets the format; a
// later line equal to the active header (concatenated files) is skipped as
// ReasonHeader, and a later different header is malformed. A Firehose record
// {"message":"..."} is unwrapped first. ParseLine does not allocate for a
// well-formed line whose identifiers have been seen before.
func (p *Parser) ParseLine(line []byte, lineNo int64, rec *flow.Record) (SkipReason, error) {
	r, lerr, err := p.parse(line, lineNo, rec)
	if err != nil {
		return ReasonNone, err
	}
	p.counts.Count(r)
	if lerr != nil {
		if len(p.errs) < MaxErrors {
			p.errs = append(p.errs, lerr)
		}
		return r, lerr
	}
	return r, nil
}

// Scan parses the object read from r (text, Firehose records or a
// CloudWatch Logs subscription payload, see LineReader and
// CloudWatchReader)
// and calls fn for every record. rec is only valid during the call. It
// stops at the first error from r, fn or ErrNoFormat; malformed lines are
// counted (see Counts and Errors), not returned.
func (p *Parser) Scan(r io.Reader, fn func(rec *flow.Record) error) error {
	var lr interface {
		Next() bool
		Line() []byte
		LineNo() int64
		Err() error
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(64 << 10); IsCloudWatch(bytes.TrimLeft(head, " \t\r\n")) {
		lr = NewCloudWatchReader(br)
	} else {
		lr = NewLineReaderMax(br, p.opts.MaxLine())
	}
	var rec flow.Record
	for lr.Next() {
		reason, err := p.ParseLine(lr.Line(), lr.LineNo(), &rec)
		if reason != ReasonNone {
			continue
		}
		if err != nil {
			return err
		}
		if fn != nil {
			if err := fn(&rec); err != nil {
				return err
			}
		}
	}
	return lr.Err()
}

// parse does ParseLine's work without counting. lerr is set for malformed
// lines, err for ErrNoFormat.
func (p *Parser) parse(line []byte, lineNo int64, rec *flow.Record) (r SkipReason, lerr *LineError, err error) {
	if bytes.Equal(line, controlLine) {
		return ReasonControl, nil, nil
	}
	if max := p.opts.MaxLine(); len(line) > max {
		return ReasonMalformed, &LineError{Line: lineNo, Err: fmt.Errorf("longer than %d bytes (the maximum line length): %w", max, ErrLineTooLong)}, nil
	}
	line = trimLine(line)
	if len(line) == 0 {
		return ReasonBlank, nil, nil
	}
	if line[0] == '{' {
		msg, err := UnwrapMessage(p.msg[:0], line)
		p.msg = msg
		if err != nil {
			return ReasonMalformed, &LineError{Line: lineNo, Err: err}, nil
		}
		if line = trimLine(msg); len(line) == 0 {
			return ReasonBlank, nil, nil
		}
	}
	if isLetter(line[0]) {
		if r, lerr, ok := p.header(line, lineNo); ok {
			return r, lerr, nil
		}
	}
	f := p.format
	if f == nil {
		return ReasonNone, nil, fmt.Errorf("line %d: %w", lineNo, ErrNoFormat)
	}

	n := p.vals.split(line, f)
	if n != len(f.cols) {
		return ReasonMalformed, &LineError{Line: lineNo,
			Err: fmt.Errorf("%d fields, format has %d: %w", n, len(f.cols), ErrFieldCount)}, nil
	}
	return p.fill(f, line, lineNo, rec)
}

// header handles a line that starts with a letter and may be a header. ok
// is false when the line is not a header.
func (p *Parser) header(line []byte, lineNo int64) (r SkipReason, lerr *LineError, ok bool) {
	if p.format != nil && p.format.matchesHeader(line) {
		return ReasonHeader, nil, true
	}
	if !looksLikeHeader(line) {
		return ReasonNone, nil, false
	}
	if p.format != nil && lineNo != 1 {
		return ReasonMalformed, &LineError{Line: lineNo, Err: ErrHeaderMismatch}, true
	}
	f, err := ParseHeader(line)
	if err != nil {
		return ReasonMalformed, &LineError{Line: lineNo, Err: err}, true
	}
	p.format = f
	return ReasonHeader, nil, true
}
