package flowlog

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Format is the ordered list of fields of a flow log: one name per column.
// A Format is immutable and safe for concurrent use.
type Format struct {
	names []string // canonical names ('-' spelling, lower case), one per column
	cols  []field  // field per column; fUnknown for unknown names
	col   [numUsed]int16
	// slot[i] is the field the parser reads from column i, fUnknown if
	// none or beyond the format. A line with more than maxColumns columns
	// wraps around (the parser indexes slot with a byte, which needs no
	// bounds check): such a line is malformed, and the values it leaves
	// are overwritten before they are read.
	slot [maxColumns]field
	// numeric lists the numeric fields of the format, in the order of
	// numericFields.
	numeric []field
}

// ErrFormat reports an invalid format string or header line.
var ErrFormat = errors.New("invalid flow-log format")

// DefaultFormat is the version 2 default format of VPC Flow Logs.
var DefaultFormat = mustParseFormat("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} " +
	"${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}")

func mustParseFormat(s string) *Format {
	f, err := ParseFormat(s)
	if err != nil {
		panic(err)
	}
	return f
}

// ParseFormat parses a format in AWS's syntax, "${version} ${account-id}
// ...", the string Terraform gives aws_flow_log.log_format. Plain names
// separated by spaces ("version account-id ...") are accepted too, and so
// are '_' spellings ("account_id") and any letter case. Unknown names are
// kept (their columns are skipped when parsing). It fails on an empty
// format, an invalid or duplicate name, or a format without any known field.
func ParseFormat(s string) (*Format, error) {
	var names [][]byte
	rest := strings.TrimSpace(s)
	for len(rest) > 0 {
		var tok string
		if strings.HasPrefix(rest, "${") {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return nil, fmt.Errorf("parse format: unterminated %q: %w", rest, ErrFormat)
			}
			tok, rest = rest[2:end], rest[end+1:]
		} else {
			end := strings.IndexAny(rest, " \t\r\n$")
			if end == 0 { // a '$' not followed by '{'
				return nil, fmt.Errorf("parse format: unexpected %q: %w", rest, ErrFormat)
			}
			if end < 0 {
				end = len(rest)
			}
			tok, rest = rest[:end], rest[end:]
		}
		names = append(names, []byte(tok))
		rest = strings.TrimLeft(rest, " \t\r\n")
	}
	f, err := newFormat(names)
	if err != nil {
		return nil, fmt.Errorf("parse format: %w", err)
	}
	return f, nil
}

// ParseHeader parses a header line: field names separated by spaces (the
// first line of a flow-log file), with an optional trailing "\r". The error
// wraps ErrFormat when line is not a header.
func ParseHeader(line []byte) (*Format, error) {
	var names [][]byte
	for tok, rest := nextToken(trimLine(line)); len(tok) > 0; tok, rest = nextToken(rest) {
		names = append(names, tok)
	}
	f, err := newFormat(names)
	if err != nil {
		return nil, fmt.Errorf("parse header: %w", err)
	}
	return f, nil
}

func newFormat(toks [][]byte) (*Format, error) {
	if len(toks) == 0 {
		return nil, fmt.Errorf("no fields: %w", ErrFormat)
	}
	if len(toks) > maxColumns {
		return nil, fmt.Errorf("%d fields, at most %d: %w", len(toks), maxColumns, ErrFormat)
	}
	f := &Format{names: make([]string, len(toks)), cols: make([]field, len(toks))}
	for i := range f.col {
		f.col[i] = -1
	}
	seen := make(map[string]int, len(toks))
	known := false
	for i, tok := range toks {
		name, ok := normalizeName(nil, tok)
		if !ok {
			return nil, fmt.Errorf("field %d %q: not a field name: %w", i+1, tok, ErrFormat)
		}
		if j, dup := seen[string(name)]; dup {
			return nil, fmt.Errorf("field %q in column %d duplicates column %d: %w", tok, i+1, j, ErrFormat)
		}
		seen[string(name)] = i + 1
		fld := byName[string(name)]
		f.names[i], f.cols[i] = string(name), fld
		if fld != fUnknown {
			known = true
		}
		if fld != fUnknown && fld < numUsed {
			f.col[fld] = int16(i)
			f.slot[i] = fld
		}
	}
	if !known {
		return nil, fmt.Errorf("no known field in %q: %w", bytes.Join(toks, []byte(" ")), ErrFormat)
	}
	for _, fld := range numericFields {
		if f.col[fld] >= 0 {
			f.numeric = append(f.numeric, fld)
		}
	}
	return f, nil
}

// maxColumns bounds the number of columns of a format.
const maxColumns = 256

// Len returns the number of columns.
func (f *Format) Len() int { return len(f.names) }

// Fields returns the canonical field names, one per column.
func (f *Format) Fields() []string { return append([]string(nil), f.names...) }

// Has reports whether the format has a column named name (any accepted
// spelling).
func (f *Format) Has(name string) bool {
	n, ok := normalizeName(nil, []byte(name))
	if !ok {
		return false
	}
	for _, m := range f.names {
		if m == string(n) {
			return true
		}
	}
	return false
}

// Version returns the value AWS writes in the version field for this
// format: the highest version among its documented fields.
func (f *Format) Version() int {
	v := 2
	for _, c := range f.cols {
		if c != fUnknown && fields[c].version > v {
			v = fields[c].version
		}
	}
	return v
}

// String returns the format in AWS's syntax: "${version} ${account-id} ...".
func (f *Format) String() string {
	var b strings.Builder
	for i, n := range f.names {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("${")
		b.WriteString(n)
		b.WriteByte('}')
	}
	return b.String()
}

// Header returns the header line of the format, without line terminator:
// the names separated by single spaces, as in flow-log files.
func (f *Format) Header() string { return strings.Join(f.names, " ") }

// Equal reports whether f and g have the same columns in the same order.
func (f *Format) Equal(g *Format) bool {
	if f == nil || g == nil {
		return f == g
	}
	if len(f.names) != len(g.names) {
		return false
	}
	for i := range f.names {
		if f.names[i] != g.names[i] {
			return false
		}
	}
	return true
}

// MarshalText returns String(), so that a Format travels in JSON as its
// AWS format string.
func (f *Format) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText parses text with ParseFormat.
func (f *Format) UnmarshalText(text []byte) error {
	g, err := ParseFormat(string(text))
	if err != nil {
		return err
	}
	*f = *g
	return nil
}

// matchesHeader reports whether line (trimmed) is this format's header
// line, in any accepted spelling. It does not allocate.
func (f *Format) matchesHeader(line []byte) bool {
	var buf [maxNameLen]byte
	i := 0
	for tok, rest := nextToken(line); len(tok) > 0; tok, rest = nextToken(rest) {
		if i >= len(f.names) {
			return false
		}
		name, ok := normalizeName(buf[:0], tok)
		if !ok || string(name) != f.names[i] {
			return false
		}
		i++
	}
	return i == len(f.names)
}

// LooksLikeHeader reports whether line could be a header line (only
// field-name tokens, at least one a known field), valid or not: ParseHeader
// says why such a line is not a valid header (e.g. a duplicated field).
func LooksLikeHeader(line []byte) bool { return looksLikeHeader(trimLine(line)) }

// looksLikeHeader reports whether line (trimmed) could be a header: only
// field-name tokens, at least one of them a known field. It does not
// allocate.
func looksLikeHeader(line []byte) bool {
	known := false
	for tok, rest := nextToken(line); len(tok) > 0; tok, rest = nextToken(rest) {
		f, ok := lookupField(tok)
		if !ok {
			return false
		}
		known = known || f != fUnknown
	}
	return known
}

// ErrNotConvertible is wrapped by Format.CheckConvertible.
var ErrNotConvertible = errors.New("format cannot be converted to NetFlow")

// CheckConvertible reports, before any line is parsed, a format whose
// records NetFlow could not carry: one without source or destination
// addresses for the address mode, or without start and end (NetFlow needs
// flow times; a format with only one of them uses it for both). The error
// names what is missing.
func (f *Format) CheckConvertible(mode AddressMode) error {
	var missing []string
	for _, pair := range [][2]field{{fPktSrcAddr, fSrcAddr}, {fPktDstAddr, fDstAddr}} {
		pkt, iface := f.col[pair[0]] >= 0, f.col[pair[1]] >= 0
		switch {
		case mode == AddressPacket && !pkt:
			missing = append(missing, fields[pair[0]].name)
		case mode == AddressInterface && !iface:
			missing = append(missing, fields[pair[1]].name)
		case mode == AddressAuto && !pkt && !iface:
			missing = append(missing, fields[pair[1]].name)
		}
	}
	if f.col[fStart] < 0 && f.col[fEnd] < 0 {
		missing = append(missing, "start or end")
	}
	if len(missing) > 0 {
		return fmt.Errorf("no %s field (address mode %s): %w", strings.Join(missing, ", no "), mode, ErrNotConvertible)
	}
	return nil
}
