// Package parquetlog reads VPC and Transit Gateway flow logs delivered as
// Apache Parquet (aws_flow_log destination_options file_format = "parquet").
//
// An object is opened from its footer alone: one ranged read of the tail
// (a second one only when the footer is larger than TailSize), no pass over
// the data. Row groups are the chunks: Plan groups consecutive row groups,
// and Lines reads the rows of a range of row groups, fetching each row group
// with one ranged read of its byte range (the union of its column chunks).
//
// Rows come out as flow-log text lines: the column values in schema order,
// separated by spaces, a null as "-", numbers in decimal. The field list is
// the column names (AWS writes them with underscores, "account_id"; the
// flowlog package reads either spelling). So the flowlog parser turns them
// into the same flow.Records, with the same counters and reasons, as the
// text delivery of the same flow log.
//
// Memory is bounded by one row group: its compressed bytes (at most
// MaxRowGroupBytes, checked before the read) plus the pages the Parquet
// library decodes from them, and the footer (at most MaxFooterBytes).
//
// Sources: AWS's column names and types, docs/formats-facts.md.
package parquetlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
)

// Limits.
const (
	// TailSize is how much of the object's end the first read takes; the
	// footer of a flow-log file with a few dozen columns and row groups
	// fits in it.
	TailSize = 64 << 10
	// MaxFooterBytes bounds the footer (file metadata) read into memory.
	MaxFooterBytes = 16 << 20
	// MaxRowGroupBytes bounds the compressed size of one row group, which
	// Lines holds in memory while it decodes the group.
	MaxRowGroupBytes = 256 << 20
	// maxColumns bounds the schema; flow logs have at most a few dozen.
	maxColumns = 256
	rowBatch   = 256
)

// ErrCorrupt marks an object whose Parquet structure cannot be read: bad
// magic, footer, schema or pages. It is not retried.
var ErrCorrupt = errors.New("invalid Parquet flow log")

// Magic is the first and last four bytes of a Parquet file.
const Magic = "PAR1"

// Group is one row group.
type Group struct {
	Index    int
	Rows     int64
	FirstRow int64 // rows in the groups before it
	// From and To are the byte range of its column chunks [From, To).
	From, To int64
	// Bytes is its uncompressed size (as the footer gives it).
	Bytes int64
}

// File is an opened Parquet flow log: its footer, read from the object's
// tail.
type File struct {
	name   string
	src    chunk.Source
	r      *readerAt
	pf     *parquet.File
	fields []string
	Groups []Group
	Rows   int64
}

// Open reads the footer of src (the object name begins its errors; empty,
// they begin "Parquet object"). ctx bounds
// every read Open and the File's Lines make.
func Open(ctx context.Context, name string, src chunk.Source) (*File, error) {
	if name == "" {
		name = "Parquet object" // the caller names the object
	}
	size := src.Size()
	if size < 12 {
		return nil, fmt.Errorf("%s: %d bytes, too small for Parquet: %w", name, size, ErrCorrupt)
	}
	r := &readerAt{ctx: ctx, src: src, size: size}
	tail := min(size, TailSize)
	if err := r.load(&r.tail, size-tail, size); err != nil {
		return nil, fmt.Errorf("%s: read the footer: %w", name, err)
	}
	trailer := r.tail.data[len(r.tail.data)-8:]
	if string(trailer[4:]) != Magic {
		return nil, fmt.Errorf("%s: the file does not end in %q (encrypted or cut short): %w", name, Magic, ErrCorrupt)
	}
	footer := int64(binary.LittleEndian.Uint32(trailer[:4]))
	switch {
	case footer+12 > size:
		return nil, fmt.Errorf("%s: a footer of %d bytes in a file of %d: %w", name, footer, size, ErrCorrupt)
	case footer > MaxFooterBytes:
		return nil, fmt.Errorf("%s: a footer of %d bytes, above the limit of %d: %w", name, footer, MaxFooterBytes, ErrCorrupt)
	case footer+8 > tail:
		if err := r.load(&r.tail, size-footer-8, size); err != nil {
			return nil, fmt.Errorf("%s: read the footer: %w", name, err)
		}
	}
	var pf *parquet.File
	err := guard(func() (err error) {
		pf, err = parquet.OpenFile(r, size, parquet.SkipMagicBytes(true), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
		return err
	})
	if err != nil {
		if r.err != nil {
			return nil, fmt.Errorf("%s: read the footer: %w", name, r.err)
		}
		return nil, fmt.Errorf("%s: %v: %w", name, err, ErrCorrupt)
	}
	f := &File{name: name, src: src, r: r, pf: pf, Rows: pf.NumRows()}
	if err := f.readSchema(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := f.readGroups(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

// readSchema checks that the schema is flat (one column per field, no
// nesting or repetition) and of types a flow log has.
func (f *File) readSchema() error {
	fields := f.pf.Schema().Fields()
	if len(fields) == 0 || len(fields) > maxColumns {
		return fmt.Errorf("%d columns, want 1..%d: %w", len(fields), maxColumns, ErrCorrupt)
	}
	for _, fl := range fields {
		if !fl.Leaf() || fl.Repeated() {
			return fmt.Errorf("column %q is nested or repeated; flow logs have one value per field: %w", fl.Name(), ErrCorrupt)
		}
		switch k := fl.Type().Kind(); k {
		case parquet.Int32, parquet.Int64, parquet.ByteArray, parquet.Boolean, parquet.Float, parquet.Double:
		default:
			return fmt.Errorf("column %q has type %s, not one a flow log has (INT32, INT64, BYTE_ARRAY strings): %w", fl.Name(), k, ErrCorrupt)
		}
		if strings.ContainsAny(fl.Name(), " \t\r\n") {
			return fmt.Errorf("column name %q holds white space: %w", fl.Name(), ErrCorrupt)
		}
		f.fields = append(f.fields, fl.Name())
	}
	return nil
}

func (f *File) readGroups() error {
	md := f.pf.Metadata()
	var first int64
	for i, rg := range md.RowGroups {
		g := Group{Index: i, Rows: rg.NumRows, FirstRow: first, From: -1, Bytes: rg.TotalByteSize}
		if len(rg.Columns) != len(f.fields) {
			return fmt.Errorf("row group %d has %d column chunks for %d columns: %w", i, len(rg.Columns), len(f.fields), ErrCorrupt)
		}
		var usize int64
		for _, c := range rg.Columns {
			m := c.MetaData
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
				start = m.DictionaryPageOffset
			}
			end := start + m.TotalCompressedSize
			if start < 4 || m.TotalCompressedSize < 0 || end > f.src.Size()-8 {
				return fmt.Errorf("row group %d: a column chunk at [%d, %d) outside the data of a %d-byte file: %w", i, start, end, f.src.Size(), ErrCorrupt)
			}
			if g.From < 0 || start < g.From {
				g.From = start
			}
			g.To = max(g.To, end)
			usize += m.TotalUncompressedSize
		}
		if g.From < 0 {
			g.From, g.To = 4, 4
		}
		if g.Bytes <= 0 {
			g.Bytes = usize
		}
		if rg.NumRows < 0 {
			return fmt.Errorf("row group %d: %d rows: %w", i, rg.NumRows, ErrCorrupt)
		}
		first += rg.NumRows
		f.Groups = append(f.Groups, g)
	}
	if first != f.Rows {
		return fmt.Errorf("the row groups hold %d rows, the footer says %d: %w", first, f.Rows, ErrCorrupt)
	}
	return nil
}

// Header returns the field list: the column names separated by spaces, as
// a header line of the text delivery.
func (f *File) Header() string { return strings.Join(f.fields, " ") }

// USize is the uncompressed size of all row groups.
func (f *File) USize() int64 {
	var n int64
	for _, g := range f.Groups {
		n += g.Bytes
	}
	return n
}

// Lines returns the rows of row groups [first, last) as flow-log lines.
// Line numbers are row numbers in the object, from 1.
func (f *File) Lines(first, last int) (*Lines, error) {
	if first < 0 || last > len(f.Groups) || first > last {
		return nil, fmt.Errorf("%s: row groups [%d, %d) of %d: %w", f.name, first, last, len(f.Groups), chunk.ErrRange)
	}
	l := &Lines{f: f, next: first, last: last, buf: make([]parquet.Row, rowBatch)}
	if first < len(f.Groups) {
		l.rowNo = f.Groups[first].FirstRow
	}
	return l, nil
}

// Lines reads rows as lines (the pipeline's LineSource).
type Lines struct {
	f          *File
	next, last int // the next row group to open, the end
	group      int
	rows       parquet.Rows
	left       int64 // rows of the open group not read yet
	buf        []parquet.Row
	n, i       int
	rowNo      int64
	line       []byte
	err        error
}

// Next advances to the next row.
func (l *Lines) Next() bool {
	for l.i >= l.n {
		if l.err != nil {
			return false
		}
		if l.rows == nil || l.left == 0 {
			if !l.open() {
				return false
			}
			continue
		}
		var n int
		err := guard(func() (err error) {
			n, err = l.rows.ReadRows(l.buf[:min(int64(len(l.buf)), l.left)])
			return err
		})
		l.n, l.i = n, 0
		l.left -= int64(n)
		if err != nil && !(errors.Is(err, io.EOF) && l.left == 0) {
			l.fail(err)
			return false
		}
		if n == 0 && err == nil {
			l.fail(errors.New("no rows read"))
			return false
		}
	}
	row := l.buf[l.i]
	l.i++
	l.rowNo++
	l.line = l.line[:0]
	for j, v := range row {
		if j > 0 {
			l.line = append(l.line, ' ')
		}
		l.line = appendValue(l.line, v)
	}
	return true
}

// open closes the current group and opens the next one, reading its bytes.
func (l *Lines) open() bool {
	if l.rows != nil {
		if l.left != 0 {
			l.fail(fmt.Errorf("%d rows missing", l.left))
			return false
		}
		l.rows.Close()
		l.rows = nil
	}
	if l.next >= l.last {
		return false
	}
	g := l.f.Groups[l.next]
	l.group = l.next
	l.next++
	if g.To-g.From > MaxRowGroupBytes {
		l.err = fmt.Errorf("%s: row group %d is %d bytes compressed, above the limit of %d (write smaller row groups): %w", l.f.name, g.Index, g.To-g.From, MaxRowGroupBytes, ErrCorrupt)
		return false
	}
	r := l.f.r
	if err := r.load(&r.group, g.From, g.To); err != nil {
		l.err = fmt.Errorf("%s: row group %d: %w", l.f.name, g.Index, err)
		return false
	}
	if err := guard(func() error { l.rows = l.f.pf.RowGroups()[g.Index].Rows(); return nil }); err != nil {
		l.fail(err)
		return false
	}
	l.left = g.Rows
	l.rowNo = g.FirstRow
	return true
}

func (l *Lines) fail(err error) {
	if r := l.f.r; r.err != nil {
		l.err = fmt.Errorf("%s: row group %d: %w", l.f.name, l.group, r.err)
		return
	}
	l.err = fmt.Errorf("%s: row group %d, after row %d: %v: %w", l.f.name, l.group, l.rowNo, err, ErrCorrupt)
}

// Line is the current row as a line; valid until the next call to Next.
func (l *Lines) Line() []byte { return l.line }

// LineNo is the current row's number in the object, from 1.
func (l *Lines) LineNo() int64 { return l.rowNo }

// Err is the error that ended the rows, nil at the end of the last group.
func (l *Lines) Err() error { return l.err }

// Close releases the open row group.
func (l *Lines) Close() error {
	if l.rows != nil {
		l.rows.Close()
		l.rows = nil
	}
	l.f.r.group = region{}
	return nil
}

// appendValue appends v as flow-log text: "-" for a null (and an empty
// string), decimal numbers.
func appendValue(b []byte, v parquet.Value) []byte {
	if v.IsNull() {
		return append(b, '-')
	}
	switch v.Kind() {
	case parquet.Int32:
		return strconv.AppendInt(b, int64(v.Int32()), 10)
	case parquet.Int64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case parquet.ByteArray:
		s := v.ByteArray()
		if len(s) == 0 {
			return append(b, '-')
		}
		return append(b, s...)
	case parquet.Boolean:
		return strconv.AppendBool(b, v.Boolean())
	case parquet.Float:
		return strconv.AppendFloat(b, float64(v.Float()), 'g', -1, 32)
	case parquet.Double:
		return strconv.AppendFloat(b, v.Double(), 'g', -1, 64)
	}
	return append(b, v.String()...)
}

// region is a byte range of the object held in memory.
type region struct {
	off  int64
	data []byte
}

func (g region) holds(off int64, n int) bool {
	return g.data != nil && off >= g.off && off+int64(n) <= g.off+int64(len(g.data))
}

// readerAt serves the Parquet library's reads from the regions read ahead
// (the tail with the footer, the row group being decoded); anything else is
// one ranged read of exactly what was asked. The first I/O error is kept,
// so that a network error is reported (and retried) as itself rather than
// as a damaged file.
type readerAt struct {
	ctx         context.Context
	src         chunk.Source
	size        int64
	tail, group region
	err         error
	// Reads counts the ranged reads (for tests).
	Reads int
}

func (r *readerAt) load(g *region, from, to int64) error {
	data, err := r.get(from, to)
	if err != nil {
		return err
	}
	*g = region{off: from, data: data}
	return nil
}

func (r *readerAt) get(from, to int64) ([]byte, error) {
	r.Reads++
	rc, err := r.src.OpenRange(r.ctx, from, to)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data := make([]byte, to-from)
	if _, err := io.ReadFull(rc, data); err != nil {
		return nil, fmt.Errorf("read [%d, %d): %w", from, to, err)
	}
	return data, nil
}

func (r *readerAt) ReadAt(p []byte, off int64) (int, error) {
	for _, g := range []region{r.group, r.tail} {
		if g.holds(off, len(p)) {
			return copy(p, g.data[off-g.off:]), nil
		}
	}
	if off < 0 || off >= r.size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), r.size)
	data, err := r.get(off, end)
	if err != nil {
		if r.err == nil {
			r.err = err
		}
		return 0, err
	}
	n := copy(p, data)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// guard runs fn and turns a panic into an error: the Parquet library
// panics on some damaged pages (a slice out of range, a gzip error raised
// as a panic) where it could return an error, and a damaged object must
// fail as invalid input, naming the object, not crash the process.
func guard(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("damaged data (the Parquet reader failed: %v)", p)
		}
	}()
	return fn()
}

// IsParquet reports whether b (an object's first bytes) starts with the
// Parquet magic.
func IsParquet(b []byte) bool { return bytes.HasPrefix(b, []byte(Magic)) }
