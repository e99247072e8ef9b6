package flowlog

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/google/go-cmp/cmp"
)

// The parser was rewritten for speed (split, numbers, the caches). This file
// keeps the straightforward implementation it replaced, as a reference: a
// data line must give the same reason, record and error text with both.

// refParser parses data lines like Parser did before the rewrite.
type refParser struct {
	opts   Options
	intern map[string]string
}

// parseData is the data-line part of Parser.parse: line is trimmed, not
// blank, not a Firehose record and not a header.
func (p *refParser) parseData(f *Format, line []byte, lineNo int64, rec *flow.Record) (SkipReason, *LineError) {
	slots := make([]field, len(f.cols))
	for i, fld := range f.cols {
		if fld < numUsed {
			slots[i] = fld
		}
	}
	var raw [numUsed][]byte
	n, start := 0, 0
	for i := 0; i < len(line); i++ {
		if c := line[i]; c > ' ' || !isSpace(c) {
			continue
		}
		if n < len(slots) {
			raw[slots[n]] = line[start:i]
		}
		n++
		for i+1 < len(line) && isSpace(line[i+1]) {
			i++
		}
		start = i + 1
	}
	if n < len(slots) {
		raw[slots[n]] = line[start:]
	}
	n++
	if n != len(f.cols) {
		return ReasonMalformed, &LineError{Line: lineNo,
			Err: fmt.Errorf("%d fields, format has %d: %w", n, len(f.cols), ErrFieldCount)}
	}
	return p.fill(f, &raw, lineNo, rec)
}

func (p *refParser) fill(f *Format, raw *[numUsed][]byte, lineNo int64, rec *flow.Record) (SkipReason, *LineError) {
	fail := func(fld field, err error) (SkipReason, *LineError) {
		return ReasonMalformed, fieldError(f, lineNo, fld, raw[fld], err)
	}
	if v := raw[fLogStatus]; v != nil && !isDash(v) && string(v) != "OK" {
		switch {
		case equalFold(v, "NODATA"):
			return ReasonNoData, nil
		case equalFold(v, "SKIPDATA"):
			return ReasonSkipData, nil
		case !equalFold(v, "OK"):
			return fail(fLogStatus, ErrInvalidValue)
		}
	}
	*rec = flow.Record{Line: lineNo}
	var lerr *LineError
	if rec.SrcAddr, lerr = p.addr(f, raw, lineNo, fPktSrcAddr, fSrcAddr); lerr != nil {
		return ReasonMalformed, lerr
	}
	if rec.DstAddr, lerr = p.addr(f, raw, lineNo, fPktDstAddr, fDstAddr); lerr != nil {
		return ReasonMalformed, lerr
	}
	if rec.SrcAddr.Is4() != rec.DstAddr.Is4() {
		return ReasonMalformed, &LineError{Line: lineNo, Err: fmt.Errorf("%s and %s: %w",
			rec.SrcAddr, rec.DstAddr, ErrFamilyMismatch)}
	}
	for _, n := range []struct {
		fld field
		max uint64
		set func(uint64)
	}{
		{fSrcPort, 0xffff, func(v uint64) { rec.SrcPort = uint16(v) }},
		{fDstPort, 0xffff, func(v uint64) { rec.DstPort = uint16(v) }},
		{fProtocol, 0xff, func(v uint64) { rec.Protocol = uint8(v) }},
		{fTCPFlags, 0xff, func(v uint64) { rec.TCPFlags = uint8(v) }},
		{fTrafficPath, 0xff, func(v uint64) { rec.TrafficPath = uint8(v) }},
		{fPackets, math.MaxUint64, func(v uint64) { rec.Packets = v }},
		{fBytes, math.MaxUint64, func(v uint64) { rec.Bytes = v }},
		{fStart, math.MaxInt64, func(v uint64) { rec.Start = int64(v) }},
		{fEnd, math.MaxInt64, func(v uint64) { rec.End = int64(v) }},
	} {
		b := raw[n.fld]
		if b == nil || isDash(b) {
			continue
		}
		v, err := parseUint(b, n.max)
		if err != nil {
			return ReasonMalformed, fieldError(f, lineNo, n.fld, b, err)
		}
		n.set(v)
	}
	// The time rule, written out: one missing time takes the other's,
	// end < start becomes start, longer than flow.MaxDuration is cut, and
	// anything outside [1, 2^32-1] is malformed (on the start when the
	// start is bad, else on the end).
	if raw[fStart] != nil || raw[fEnd] != nil {
		s, e := rec.Start, rec.End
		if s == 0 {
			s = e
		}
		if e == 0 {
			e = s
		}
		switch {
		case s < 1 || s > 1<<32-1:
			bad := fStart
			if raw[fStart] == nil {
				bad = fEnd
			}
			return ReasonMalformed, fieldError(f, lineNo, bad, raw[bad], flow.ErrTimeRange)
		case e < 1 || e > 1<<32-1:
			bad := fEnd
			if raw[fEnd] == nil {
				bad = fStart
			}
			return ReasonMalformed, fieldError(f, lineNo, bad, raw[bad], flow.ErrTimeRange)
		}
		if e < s {
			e = s
		}
		rec.Start, rec.End = s, min(e, s+flow.MaxDuration)
	}
	switch b := raw[fAction]; {
	case b == nil || isDash(b):
	case string(b) == "ACCEPT" || equalFold(b, "ACCEPT"):
		rec.Action = flow.ActionAccept
	case equalFold(b, "REJECT"):
		rec.Action = flow.ActionReject
	default:
		return fail(fAction, ErrInvalidValue)
	}
	switch b := raw[fFlowDirection]; {
	case b == nil || isDash(b):
	case equalFold(b, "ingress"):
		rec.Direction = flow.DirectionIngress
	case equalFold(b, "egress"):
		rec.Direction = flow.DirectionEgress
	default:
		return fail(fFlowDirection, ErrInvalidValue)
	}
	if b := raw[fInterfaceID]; b != nil && !isDash(b) {
		rec.InterfaceID = p.str(b)
		rec.IfIndex = flow.IfIndex(rec.InterfaceID)
	}
	if b := raw[fAccountID]; b != nil && !isDash(b) && !equalFold(b, "unknown") {
		rec.AccountID = p.str(b)
	}
	if b := raw[fVPCID]; b != nil && !isDash(b) {
		rec.VPCID = p.str(b)
	}
	if b := raw[fSubnetID]; b != nil && !isDash(b) {
		rec.SubnetID = p.str(b)
	}
	if b := raw[fInstanceID]; b != nil && !isDash(b) {
		rec.InstanceID = p.str(b)
	}
	if p.opts.Filter != nil && !p.opts.Filter(rec) {
		return ReasonFiltered, nil
	}
	return ReasonNone, nil
}

func (p *refParser) str(b []byte) string {
	s, ok := p.intern[string(b)]
	if !ok {
		s = string(b)
		p.intern[s] = s
	}
	return s
}

func (p *refParser) addr(f *Format, raw *[numUsed][]byte, lineNo int64, pkt, iface field) (netip.Addr, *LineError) {
	use := iface
	switch p.opts.AddressMode {
	case AddressPacket:
		use = pkt
	case AddressInterface:
	default:
		if b := raw[pkt]; b != nil && !isDash(b) {
			use = pkt
		}
	}
	b := raw[use]
	if b == nil {
		return netip.Addr{}, &LineError{Line: lineNo,
			Err: fmt.Errorf("format has no %s (address mode %s): %w", fields[use].name, p.opts.AddressMode, ErrMissingAddr)}
	}
	if isDash(b) {
		return netip.Addr{}, fieldError(f, lineNo, use, b, ErrMissingAddr)
	}
	a, ok := refParseAddr(b)
	if !ok {
		return netip.Addr{}, fieldError(f, lineNo, use, b, ErrInvalidAddr)
	}
	return a, nil
}

func refParseAddr(b []byte) (netip.Addr, bool) {
	for _, c := range b {
		switch c {
		case '.':
			var ip [4]byte
			if !refParseIPv4(b, ip[:]) {
				return netip.Addr{}, false
			}
			return netip.AddrFrom4(ip), true
		case ':':
			a, ok := parseIPv6(b)
			return a.Unmap(), ok
		}
	}
	return netip.Addr{}, false
}

func refParseIPv4(b []byte, ip []byte) bool {
	var val, pos, digits int
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && val == 0 {
				return false // leading zero
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return false
			}
		case c == '.':
			if i == 0 || i == len(b)-1 || b[i-1] == '.' || pos == 3 {
				return false
			}
			ip[pos] = byte(val)
			pos++
			val, digits = 0, 0
		default:
			return false
		}
	}
	if pos != 3 {
		return false
	}
	ip[3] = byte(val)
	return true
}

// checkAgainstReference parses line with p (configured with a format) and
// with the reference, and fails on any difference. Lines the rewrite did
// not touch (blank, Firehose, header) are skipped.
func checkAgainstReference(t *testing.T, p *Parser, ref *refParser, line []byte, lineNo int64) {
	t.Helper()
	var got, want flow.Record
	r, err := p.ParseLine(line, lineNo, &got)
	trimmed := trimLine(line)
	if len(trimmed) == 0 || trimmed[0] == '{' || r == ReasonHeader ||
		isLetter(trimmed[0]) && (p.Format().matchesHeader(trimmed) || looksLikeHeader(trimmed)) {
		return
	}
	wantR, wantLerr := ref.parseData(p.Format(), trimmed, lineNo, &want)
	var wantErr error
	if wantLerr != nil {
		wantErr = wantLerr
	}
	errText := func(e error) string {
		if e == nil {
			return ""
		}
		return e.Error()
	}
	if r != wantR || errText(err) != errText(wantErr) {
		t.Fatalf("%q: got %v, %v; reference %v, %v", line, r, err, wantR, wantErr)
	}
	if r == ReasonNone {
		if diff := cmp.Diff(want, got, addrCmp); diff != "" {
			t.Fatalf("%q: record (-reference +got):\n%s", line, diff)
		}
	}
}

// referenceLines returns the data lines of the test inputs, each test line
// with every column replaced in turn by values that exercise the parser.
func referenceLines(t *testing.T) []string {
	t.Helper()
	var lines []string
	logs, _ := filepath.Glob("testdata/*.log")
	for _, name := range logs {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.SplitSeq(string(b), "\n") {
			lines = append(lines, l)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(readFlowgenCorpus(t)))
	for i := 0; sc.Scan(); i++ {
		if i%128 == 0 {
			lines = append(lines, sc.Text())
		}
	}
	values := []string{
		"-", "0", "00", "1", "65535", "65536", "255", "256", "4294967296", "9223372036854775807", "9223372036854775808",
		"18446744073709551615", "18446744073709551616", "0000000000000000000000000001", "12x", "x", "1.2.3.4", "01.2.3.4",
		"1.2.3", "1.2.3.4.5", "256.0.0.1", "::1", "::ffff:1.2.3.4", "2600:1f18::1", "fe80::1%eth0", "ACCEPT", "accept",
		"REJECT", "ALLOW", "OK", "ok", "NODATA", "SKIPDATA", "ingress", "EGRESS", "sideways", "unknown", "UNKNOWN",
		"eni-0a1b2c3d4e5f60718", "vpc-1", "12345678", "1234567890123456", "12345678901234567", strings.Repeat("9", 40),
		"a\tb", "a\rb", "a\x00b", "é", "\xff", "a  b", "a \t b",
	}
	var out []string
	for _, l := range lines {
		out = append(out, l, l+" ", "\t"+l, strings.ReplaceAll(l, " ", "  "), strings.ReplaceAll(l, " ", "\t"))
		cols := strings.Fields(l)
		for i := range cols {
			for _, v := range values {
				c := append([]string(nil), cols...)
				c[i] = v
				out = append(out, strings.Join(c, " "))
			}
			out = append(out, strings.Join(cols[:i], " "), strings.Join(append(append([]string(nil), cols...), "extra"), " "))
		}
	}
	return out
}

var referenceFormats = []string{
	"", // DefaultFormat
	customFormat,
	"${srcaddr} ${dstaddr}",
	"${pkt-srcaddr} ${foo} ${pkt-dstaddr} ${log-status} ${packets} ${bytes}",
	"${interface-id} ${srcaddr} ${dstaddr} ${action} ${log-status} ${flow-direction}",
	"${bytes} ${start} ${end} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${version} ${type} ${region}",
}

// TestParseLineMatchesReference runs the test inputs and many variants of
// their lines through the parser and the reference, in every format and
// address mode.
func TestParseLineMatchesReference(t *testing.T) {
	lines := referenceLines(t)
	if testing.Short() {
		var some []string
		for i := 0; i < len(lines); i += 5 {
			some = append(some, lines[i])
		}
		lines = some
	}
	for _, fs := range referenceFormats {
		f := DefaultFormat
		if fs != "" {
			f = mustFormat(t, fs)
		}
		for mode := range AddressMode(3) {
			opts := Options{Format: f, AddressMode: mode}
			p, ref := NewParser(opts), &refParser{opts: opts, intern: map[string]string{}}
			for i, l := range lines {
				checkAgainstReference(t, p, ref, []byte(l), int64(i+1))
			}
		}
	}
}

func FuzzParseLineMatchesReference(f *testing.F) {
	for _, l := range []string{defaultLine, customLine, replaceField(customLine, 20, "-"), "1.2.3.4 5.6.7.8"} {
		for i := range referenceFormats {
			f.Add([]byte(l), uint8(i), uint8(0))
		}
	}
	f.Fuzz(func(t *testing.T, line []byte, format, mode uint8) {
		fmtIndex := int(format) % len(referenceFormats)
		fm := DefaultFormat
		if fs := referenceFormats[fmtIndex]; fs != "" {
			fm = mustParseFormat(fs)
		}
		opts := Options{Format: fm, AddressMode: AddressMode(mode % 3)}
		p, ref := NewParser(opts), &refParser{opts: opts, intern: map[string]string{}}
		for lineNo := int64(1); lineNo <= 2; lineNo++ { // twice: the caches
			checkAgainstReference(t, p, ref, line, lineNo)
		}
	})
}
