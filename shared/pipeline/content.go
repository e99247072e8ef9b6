package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/inflate"
)

// Errors for objects whose content is not flow-log text this program
// reads. They are detected from the content (never the name) by
// inspectContent, in the Plan step of both the CLI and the splitter Lambda,
// and on the Lambdas they are invalid input (not retried).
var (
	ErrEmpty      = errors.New("object is empty: no content (after decompression)")
	ErrNestedGzip = errors.New("gzip inside gzip: the decompressed content starts with the gzip magic 1f 8b again (decompress it once)")
	ErrParquet    = errors.New("gzip-compressed Parquet: Parquet objects are read as AWS writes them, with compression inside the file (decompress it)")
	ErrNotFlowLog = errors.New("not a flow log")
	// ErrParquetStream: a Parquet file is read from its footer, at its
	// end, and by row-group ranges, which a stream does not allow.
	ErrParquetStream = errors.New("Parquet from standard input: a Parquet file is read from its footer, at the end of the file; give its path or s3:// URL instead")
	ErrHeader        = errors.New("invalid header line")
)

// headSize is how much decoded content inspectContent looks at.
const headSize = 64 << 10

// headerFormat returns the format of a header line (without its newline,
// a trailing '\r' allowed), nil when line is not a valid header. The Plan
// step (through chunk.Options.IsHeader) and the streamed run use it alike.
func headerFormat(line []byte) *flowlog.Format {
	if len(line) > chunk.MaxHeaderLen {
		return nil
	}
	f, err := flowlog.ParseHeader(line)
	if err != nil {
		return nil
	}
	return f
}

// inspectContent checks what an object's first bytes say it is. raw is
// the first bytes as stored (at least 4 when the object has them), head
// the first decoded bytes (up to headSize), whole whether head is all of
// the content. It reports the object's framing (contract.FramingLines,
// FramingJSON for Firehose {"message":...} records, FramingCloudWatch for
// CloudWatch Logs subscription payloads, FramingParquet), or an error (ErrEmpty,
// ErrParquet, ErrNestedGzip, ErrHeader, ErrNotFlowLog, ErrNoFormat) saying
// why it cannot be read.
func inspectContent(raw, head []byte, whole bool, format *flowlog.Format) (framing string, err error) {
	const lines, firehose = contract.FramingLines, contract.FramingJSON
	par := []byte("PAR1")
	switch {
	case bytes.HasPrefix(raw, par):
		return contract.FramingParquet, nil // the field list is the schema's
	case bytes.HasPrefix(head, par):
		return lines, ErrParquet
	case whole && len(head) == 0:
		return lines, ErrEmpty
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return lines, ErrNestedGzip
	}
	t := bytes.TrimLeft(head, " \t\r\n")
	if len(t) > 0 && t[0] == '{' {
		if flowlog.IsCloudWatch(t) {
			if format == nil {
				return contract.FramingCloudWatch, fmt.Errorf("a CloudWatch Logs subscription payload: %w", ErrNoFormat)
			}
			return contract.FramingCloudWatch, nil
		}
		if n, ok := firstJSON(t); ok && json.Valid(t[:n]) {
			if _, err := flowlog.UnwrapMessage(nil, t[:n]); err != nil {
				return lines, fmt.Errorf("%w: JSON that is neither Firehose {\"message\":...} records nor a CloudWatch Logs payload (%v)", ErrNotFlowLog, err)
			}
		}
		if format == nil {
			return firehose, fmt.Errorf("Firehose {\"message\":...} records: %w", ErrNoFormat)
		}
		return firehose, nil
	}
	line, _, complete := bytes.Cut(head, []byte{'\n'})
	complete = complete || whole
	if binaryPrefix(line) {
		return lines, fmt.Errorf("%w: binary content (first bytes % x)", ErrNotFlowLog, head[:min(len(head), 8)])
	}
	line = bytes.TrimRight(line, "\r")
	switch {
	case len(bytes.TrimSpace(line)) == 0:
		return lines, nil // blank first lines: counted
	case complete && headerFormat(line) != nil:
		return lines, nil
	case complete && flowlog.LooksLikeHeader(line):
		_, err := flowlog.ParseHeader(line)
		return lines, fmt.Errorf("%w: %w", ErrHeader, err)
	case format != nil:
		return lines, nil // data lines of the configured format
	case !complete:
		return lines, fmt.Errorf("%w: the first line is longer than %d bytes", ErrNotFlowLog, len(head))
	case looksLikeRecord(line):
		return lines, ErrNoFormat
	default:
		return lines, fmt.Errorf("%w: the first line is neither a header line (field names such as \"version srcaddr dstaddr\") nor a flow-log record", ErrNotFlowLog)
	}
}

// binaryPrefix reports whether line (the start of the first line) holds
// bytes no flow-log text has: control characters other than tab and
// carriage return, or invalid UTF-8.
func binaryPrefix(line []byte) bool {
	l := line[:min(len(line), 4096)]
	for _, c := range l {
		if c < 0x20 && c != '\t' && c != '\r' || c == 0x7f {
			return true
		}
	}
	return !utf8.Valid(l) && (len(l) == len(line) || !utf8.Valid(l[:max(len(l)-3, 0)]))
}

// looksLikeRecord reports whether line could be a flow-log record of an
// unknown format: at least three fields, the first a number (version).
func looksLikeRecord(line []byte) bool {
	fs := bytes.Fields(line)
	if len(fs) < 3 {
		return false
	}
	for _, c := range fs[0] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// firstJSON returns the length of the first JSON object of b, if complete.
func firstJSON(b []byte) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return 0, false
	}
	return int(dec.InputOffset()), true
}

// sniffSource reads the first bytes of src for inspectContent: raw as
// stored, head decoded (gzip inflated) from at most headSize stored bytes.
// Decoding errors end head early (whole false): the chunk readers report
// them with their offsets.
func sniffSource(ctx context.Context, src chunk.Source) (raw, head []byte, whole bool, err error) {
	size := src.Size()
	if size == 0 {
		return nil, nil, true, nil
	}
	n := min(size, headSize)
	rc, err := src.OpenRange(ctx, 0, n)
	if err != nil {
		return nil, nil, false, err
	}
	defer rc.Close()
	raw, content := openContent(rc, 4096)
	head = make([]byte, headSize)
	k, err := io.ReadFull(content, head)
	whole = n == size && (err == io.EOF || err == io.ErrUnexpectedEOF)
	return raw, head[:k], whole, nil
}

// sniffStream peeks at the start of a stream for inspectContent and
// returns the decoded content to read from.
func sniffStream(r io.Reader) (raw, head []byte, whole bool, content io.Reader) {
	raw, c := openContent(r, 256<<10)
	br := bufio.NewReaderSize(c, headSize)
	head, err := br.Peek(headSize)
	whole = err == io.EOF
	return raw, head, whole, br
}

// openContent returns the first 4 stored bytes of r and its content:
// inflated when it starts with the gzip magic (single or multi-member), as
// is otherwise.
func openContent(r io.Reader, size int) ([]byte, io.Reader) {
	br := bufio.NewReaderSize(r, size)
	m, _ := br.Peek(4)
	raw := append([]byte(nil), m...)
	if len(m) >= 2 && m[0] == 0x1f && m[1] == 0x8b {
		return raw, inflate.NewReader(br, nil)
	}
	return raw, br
}

// decompressed returns the content of r: inflated when it starts with the
// gzip magic (single or multi-member), as is otherwise.
func decompressed(r io.Reader) io.Reader {
	_, c := openContent(r, 256<<10)
	return c
}
