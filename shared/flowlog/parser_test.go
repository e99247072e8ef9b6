package flowlog

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/google/go-cmp/cmp"
)

// replaceField returns line with its i-th (1-based) space-separated value
// replaced by v.
func replaceField(line string, i int, v string) string {
	f := strings.Fields(line)
	f[i-1] = v
	return strings.Join(f, " ")
}

func TestParseLine(t *testing.T) {
	v6 := func(r *flow.Record) {
		r.SrcAddr = netip.MustParseAddr("2600:1f18:24a1:c000:1a2b:3c4d:5e6f:7081")
		r.DstAddr = netip.MustParseAddr("2a05:d018:abc::42")
	}
	tests := []struct {
		name   string
		format string // "" = DefaultFormat
		mode   AddressMode
		line   string
		reason SkipReason
		edit   func(*flow.Record) // applied to defaultRecord (customRecord with format)
		err    error              // errors.Is target for malformed lines
		msg    string             // exact error text, when set
	}{
		{name: "ipv4", line: defaultLine},
		{name: "crlf", line: defaultLine + "\r\n"},
		{name: "lf", line: defaultLine + "\n"},
		{name: "padding tabs and runs of spaces", line: " \t" + strings.ReplaceAll(defaultLine, " ", " \t ") + " \t"},
		{name: "ipv6", line: replaceField(replaceField(defaultLine, 4, "2600:1f18:24a1:c000:1a2b:3c4d:5e6f:7081"), 5, "2a05:d018:abc::42"), edit: v6},
		{name: "4in6 is unmapped", line: replaceField(defaultLine, 4, "::ffff:10.0.1.5")},
		{name: "reject", line: replaceField(defaultLine, 13, "REJECT"), edit: func(r *flow.Record) { r.Action = flow.ActionReject }},
		{name: "lower-case accept", line: replaceField(defaultLine, 13, "accept")},
		{name: "dash action", line: replaceField(defaultLine, 13, "-"), edit: func(r *flow.Record) { r.Action = flow.ActionUnknown }},
		{name: "icmp with dash ports", line: replaceField(replaceField(replaceField(defaultLine, 6, "-"), 7, "-"), 8, "1"),
			edit: func(r *flow.Record) { r.SrcPort, r.DstPort, r.Protocol = 0, 0, 1 }},
		{name: "dash protocol and counters", line: replaceField(replaceField(replaceField(defaultLine, 8, "-"), 9, "-"), 10, "-"),
			edit: func(r *flow.Record) { r.Protocol, r.Packets, r.Bytes = 0, 0, 0 }},
		{name: "dash log-status is OK", line: replaceField(defaultLine, 14, "-")},
		{name: "account unknown", line: replaceField(defaultLine, 2, "unknown"), edit: func(r *flow.Record) { r.AccountID = "" }},
		{name: "account dash", line: replaceField(defaultLine, 2, "-"), edit: func(r *flow.Record) { r.AccountID = "" }},
		{name: "interface dash", line: replaceField(defaultLine, 3, "-"), edit: func(r *flow.Record) { r.InterfaceID, r.IfIndex = "", 0 }},
		{name: "counters above 2^32", line: replaceField(replaceField(defaultLine, 9, "4294967297"), 10, "18446744073709551615"),
			edit: func(r *flow.Record) { r.Packets, r.Bytes = 1<<32+1, 1<<64-1 }},
		{name: "leading zeros", line: replaceField(defaultLine, 9, "000000000000000000000010")},
		{name: "ports at maximum", line: replaceField(replaceField(defaultLine, 6, "65535"), 7, "0"),
			edit: func(r *flow.Record) { r.SrcPort, r.DstPort = 65535, 0 }},
		{name: "firehose wrapped", line: `{"message":"` + defaultLine + `"}`},
		{name: "firehose wrapped with escapes", line: `  {"message" : "` + strings.ReplaceAll(defaultLine, " ", `\u0020`) + `\r\n", "x":[1,{"y":null}]} `},

		{name: "blank", line: "", reason: ReasonBlank},
		{name: "spaces", line: " \t \r\n", reason: ReasonBlank},
		{name: "firehose empty message", line: `{"message":""}`, reason: ReasonBlank},
		{name: "nodata", line: "2 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1700000000 1700000060 - NODATA", reason: ReasonNoData},
		{name: "skipdata", line: "2 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1700000000 1700000060 - SKIPDATA", reason: ReasonSkipData},
		{name: "lower-case nodata", line: replaceField(defaultLine, 14, "nodata"), reason: ReasonNoData},
		{name: "header repeated", line: defaultHeader, reason: ReasonHeader},
		{name: "header repeated other spelling", line: strings.ToUpper(strings.ReplaceAll(defaultHeader, "-", "_")) + "\r", reason: ReasonHeader},

		{name: "bad dstaddr", line: replaceField(defaultLine, 5, "10.0.0.x"), reason: ReasonMalformed, err: ErrInvalidAddr,
			msg: `line 17: field 5 (dstaddr) "10.0.0.x": invalid IP address`},
		{name: "zone", line: replaceField(defaultLine, 4, "fe80::1%eth0"), reason: ReasonMalformed, err: ErrInvalidAddr},
		{name: "dash srcaddr on OK line", line: replaceField(defaultLine, 4, "-"), reason: ReasonMalformed, err: ErrMissingAddr,
			msg: `line 17: field 4 (srcaddr) "-": missing address`},
		{name: "mixed families", line: replaceField(defaultLine, 5, "::1"), reason: ReasonMalformed, err: ErrFamilyMismatch,
			msg: `line 17: 10.0.1.5 and ::1: source and destination are of different IP versions`},
		{name: "bytes overflow", line: replaceField(defaultLine, 10, "18446744073709551616"), reason: ReasonMalformed, err: ErrOutOfRange,
			msg: `line 17: field 10 (bytes) "18446744073709551616": value out of range`},
		{name: "long value shortened", line: replaceField(defaultLine, 5, strings.Repeat("x", 100)), reason: ReasonMalformed, err: ErrInvalidAddr,
			msg: `line 17: field 5 (dstaddr) "` + strings.Repeat("x", 64) + `...": invalid IP address`},
		{name: "huge packets", line: replaceField(defaultLine, 9, strings.Repeat("9", 40)), reason: ReasonMalformed, err: ErrOutOfRange},
		{name: "packets not a number", line: replaceField(defaultLine, 9, "12x"), reason: ReasonMalformed, err: ErrInvalidNumber},
		{name: "long packets not a number", line: replaceField(defaultLine, 9, strings.Repeat("9", 30)+"x"), reason: ReasonMalformed, err: ErrInvalidNumber},
		{name: "negative start", line: replaceField(defaultLine, 11, "-5"), reason: ReasonMalformed, err: ErrInvalidNumber},
		{name: "start beyond int64", line: replaceField(defaultLine, 11, "9223372036854775808"), reason: ReasonMalformed, err: ErrOutOfRange},
		{name: "port 65536", line: replaceField(defaultLine, 6, "65536"), reason: ReasonMalformed, err: ErrOutOfRange},
		{name: "protocol 256", line: replaceField(defaultLine, 8, "256"), reason: ReasonMalformed, err: ErrOutOfRange},
		{name: "bad action", line: replaceField(defaultLine, 13, "ALLOW"), reason: ReasonMalformed, err: ErrInvalidValue,
			msg: `line 17: field 13 (action) "ALLOW": invalid value`},
		{name: "bad log-status", line: replaceField(defaultLine, 14, "FINE"), reason: ReasonMalformed, err: ErrInvalidValue},
		{name: "truncated", line: defaultLine[:len(defaultLine)-1], reason: ReasonMalformed, err: ErrInvalidValue},
		{name: "truncated at a field boundary", line: defaultLine[:len(defaultLine)-3], reason: ReasonMalformed, err: ErrFieldCount},
		{name: "too few fields", line: defaultLine[:strings.LastIndexByte(defaultLine, ' ')], reason: ReasonMalformed, err: ErrFieldCount,
			msg: `line 17: 13 fields, format has 14: wrong number of fields`},
		{name: "too many fields", line: defaultLine + " extra", reason: ReasonMalformed, err: ErrFieldCount},
		{name: "bad firehose", line: `{"message":"2 1 eni`, reason: ReasonMalformed, err: ErrFirehose},
		{name: "firehose without message", line: `{"msg":"x"}`, reason: ReasonMalformed, err: ErrFirehose},
		{name: "other header", line: "version srcaddr dstaddr", reason: ReasonMalformed, err: ErrHeaderMismatch,
			msg: "line 17: header line differs from the object's format"},
		{name: "header-like line", line: "srcaddr srcaddr", reason: ReasonMalformed, err: ErrHeaderMismatch},

		// The custom v5-style format.
		{name: "custom auto uses pkt addresses", format: customFormat, line: customLine},
		{name: "custom interface mode", format: customFormat, mode: AddressInterface, line: customLine,
			edit: func(r *flow.Record) { r.SrcAddr = netip.MustParseAddr("10.0.1.5") }},
		{name: "custom packet mode", format: customFormat, mode: AddressPacket, line: customLine},
		{name: "custom auto falls back on dash pkt", format: customFormat, line: replaceField(customLine, 20, "-"),
			edit: func(r *flow.Record) { r.SrcAddr = netip.MustParseAddr("10.0.1.5") }},
		{name: "custom auto dash srcaddr with pkt", format: customFormat, line: replaceField(replaceField(customLine, 4, "-"), 5, "-")},
		{name: "custom packet mode dash pkt", format: customFormat, mode: AddressPacket, line: replaceField(customLine, 21, "-"),
			reason: ReasonMalformed, err: ErrMissingAddr, msg: `line 17: field 21 (pkt-dstaddr) "-": missing address`},
		{name: "custom interface mode dash srcaddr", format: customFormat, mode: AddressInterface, line: replaceField(customLine, 4, "-"),
			reason: ReasonMalformed, err: ErrMissingAddr},
		{name: "custom auto all addresses dash", format: customFormat, line: replaceField(replaceField(customLine, 4, "-"), 20, "-"),
			reason: ReasonMalformed, err: ErrMissingAddr},
		{name: "packet mode without pkt fields", mode: AddressPacket, line: defaultLine, reason: ReasonMalformed, err: ErrMissingAddr,
			msg: "line 17: format has no pkt-srcaddr (address mode packet): missing address"},
		{name: "custom ingress", format: customFormat, line: replaceField(replaceField(customLine, 22, "ingress"), 23, "-"),
			edit: func(r *flow.Record) { r.Direction, r.TrafficPath = flow.DirectionIngress, 0 }},
		{name: "custom dash direction", format: customFormat, line: replaceField(customLine, 22, "-"),
			edit: func(r *flow.Record) { r.Direction = flow.DirectionUnknown }},
		{name: "custom bad direction", format: customFormat, line: replaceField(customLine, 22, "sideways"), reason: ReasonMalformed, err: ErrInvalidValue},
		{name: "custom dash tcp-flags", format: customFormat, line: replaceField(customLine, 18, "-"), edit: func(r *flow.Record) { r.TCPFlags = 0 }},
		{name: "custom tcp-flags 256", format: customFormat, line: replaceField(customLine, 18, "256"), reason: ReasonMalformed, err: ErrOutOfRange},
		{name: "custom traffic-path 8", format: customFormat, line: replaceField(customLine, 23, "8"), edit: func(r *flow.Record) { r.TrafficPath = 8 }},
		{name: "custom dash ids", format: customFormat, line: replaceField(replaceField(replaceField(customLine, 15, "-"), 16, "-"), 17, "-"),
			edit: func(r *flow.Record) { r.VPCID, r.SubnetID, r.InstanceID = "", "", "" }},
		{name: "custom type is ignored", format: customFormat, line: replaceField(customLine, 19, "EFA")},
		{name: "custom ipv6 pkt with ipv4 srcaddr", format: customFormat,
			line: replaceField(replaceField(customLine, 20, "2600:1f18::1"), 21, "2600:1f18::2"),
			edit: func(r *flow.Record) {
				r.SrcAddr, r.DstAddr = netip.MustParseAddr("2600:1f18::1"), netip.MustParseAddr("2600:1f18::2")
			}},
		{name: "custom nodata", format: customFormat,
			line: "5 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1700000000 1700000060 - NODATA vpc-1 subnet-1 i-1 - - - - - -", reason: ReasonNoData},
		{name: "unknown columns skipped", format: "${foo} ${srcaddr} ${next_hop} ${dstaddr}", line: "x 10.0.1.5 ??? 10.0.2.9",
			edit: func(r *flow.Record) {
				*r = flow.Record{SrcAddr: netip.MustParseAddr("10.0.1.5"), DstAddr: r.DstAddr, Line: 17}
			}},
		{name: "data line starting with a letter", format: "${interface-id} ${action} ${srcaddr} ${dstaddr}",
			line: "eni-0a1b2c3d4e5f60718 ACCEPT 10.0.1.5 10.0.2.9",
			edit: func(r *flow.Record) {
				*r = flow.Record{SrcAddr: netip.MustParseAddr("10.0.1.5"), DstAddr: r.DstAddr, Action: r.Action, InterfaceID: r.InterfaceID, IfIndex: r.IfIndex, Line: 17}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, want := DefaultFormat, defaultRecord()
			if tc.format != "" {
				f, want = mustFormat(t, tc.format), customRecord()
			}
			p := NewParser(Options{Format: f, AddressMode: tc.mode})
			var got flow.Record
			reason, err := p.ParseLine([]byte(tc.line), 17, &got)
			if reason != tc.reason {
				t.Fatalf("ParseLine(%q) reason = %v (%v), want %v", tc.line, reason, err, tc.reason)
			}
			c := p.Counts()
			if c.Lines != 1 || c.Check() != nil {
				t.Errorf("counts %+v after one line", c)
			}
			if tc.reason == ReasonMalformed {
				var le *LineError
				if !errors.As(err, &le) || le.Line != 17 || !errors.Is(err, tc.err) {
					t.Errorf("error = %v, want a *LineError for line 17 wrapping %v", err, tc.err)
				}
				if tc.msg != "" && err.Error() != tc.msg {
					t.Errorf("error text:\n got %s\nwant %s", err, tc.msg)
				}
				if errs := p.Errors(); len(errs) != 1 || errs[0] != le {
					t.Errorf("Errors() = %v, want [%v]", errs, le)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tc.reason != ReasonNone {
				return
			}
			want.Line = 17
			if tc.edit != nil {
				tc.edit(&want)
			}
			if diff := cmp.Diff(want, got, addrCmp); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseLineHeaders follows the header rules across the lines of objects.
func TestParseLineHeaders(t *testing.T) {
	other := mustFormat(t, "srcaddr dstaddr action")
	tests := []struct {
		name    string
		format  *Format // configured
		lines   []string
		reasons []SkipReason
		final   *Format // active format at the end
	}{
		{"header sets format", nil, []string{defaultHeader, defaultLine}, []SkipReason{ReasonHeader, ReasonNone}, DefaultFormat},
		{"crlf header", nil, []string{defaultHeader + "\r\n", defaultLine + "\r\n"}, []SkipReason{ReasonHeader, ReasonNone}, DefaultFormat},
		{"header on line 1 overrides configured", other, []string{defaultHeader, defaultLine}, []SkipReason{ReasonHeader, ReasonNone}, DefaultFormat},
		{"configured without header", DefaultFormat, []string{defaultLine, defaultLine}, []SkipReason{ReasonNone, ReasonNone}, DefaultFormat},
		{"concatenated files", nil, []string{defaultHeader, defaultLine, defaultHeader, defaultLine},
			[]SkipReason{ReasonHeader, ReasonNone, ReasonHeader, ReasonNone}, DefaultFormat},
		{"later different header", nil, []string{defaultHeader, defaultLine, "srcaddr dstaddr action", "10.0.0.1 10.0.0.2 ACCEPT"},
			[]SkipReason{ReasonHeader, ReasonNone, ReasonMalformed, ReasonMalformed}, DefaultFormat},
		{"blank line before header", nil, []string{"", defaultHeader, defaultLine}, []SkipReason{ReasonBlank, ReasonHeader, ReasonNone}, DefaultFormat},
		{"header with a duplicate", DefaultFormat, []string{"srcaddr srcaddr", defaultLine}, []SkipReason{ReasonMalformed, ReasonNone}, DefaultFormat},
		{"underscore upper-case header", nil, []string{strings.ToUpper(strings.ReplaceAll(defaultHeader, "-", "_")), defaultLine},
			[]SkipReason{ReasonHeader, ReasonNone}, DefaultFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser(Options{Format: tc.format})
			var rec flow.Record
			var got []SkipReason
			for i, l := range tc.lines {
				r, err := p.ParseLine([]byte(l), int64(i+1), &rec)
				if r == ReasonNone && err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				got = append(got, r)
			}
			if diff := cmp.Diff(tc.reasons, got); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if !p.Format().Equal(tc.final) {
				t.Errorf("Format() = %v, want %v", p.Format(), tc.final)
			}
			if c := p.Counts(); c.Lines != int64(len(tc.lines)) || c.Check() != nil {
				t.Errorf("counts %+v", c)
			}
		})
	}
}

func TestParseLineNoFormat(t *testing.T) {
	p := NewParser(Options{})
	var rec flow.Record
	r, err := p.ParseLine([]byte(defaultLine), 1, &rec)
	if r != ReasonNone || !errors.Is(err, ErrNoFormat) {
		t.Fatalf("ParseLine = %v, %v; want ErrNoFormat", r, err)
	}
	if c := p.Counts(); c.Lines != 0 {
		t.Errorf("a fatal line was counted: %+v", c)
	}
	// Blank lines need no format.
	if r, err := p.ParseLine(nil, 2, &rec); r != ReasonBlank || err != nil {
		t.Errorf("blank line: %v, %v", r, err)
	}
	err = p.Scan(strings.NewReader("\n"+defaultLine+"\n"), nil)
	if !errors.Is(err, ErrNoFormat) || !strings.Contains(err.Error(), "line 2:") {
		t.Errorf("Scan = %v, want ErrNoFormat on line 2", err)
	}
}

func TestParserFilterAndErrors(t *testing.T) {
	p := NewParser(Options{Format: DefaultFormat, Filter: func(r *flow.Record) bool { return r.Action == flow.ActionAccept }})
	var in strings.Builder
	for range 3 {
		in.WriteString(defaultLine + "\n" + replaceField(defaultLine, 13, "REJECT") + "\n")
	}
	for range 15 {
		in.WriteString("garbage\n")
	}
	var recs int
	if err := p.Scan(strings.NewReader(in.String()), func(*flow.Record) error { recs++; return nil }); err != nil {
		t.Fatal(err)
	}
	want := Counts{Lines: 21, Records: 3}
	want.Skipped[ReasonFiltered], want.Skipped[ReasonMalformed] = 3, 15
	if diff := cmp.Diff(want, p.Counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if recs != 3 {
		t.Errorf("fn called %d times, want 3", recs)
	}
	errs := p.Errors()
	if len(errs) != MaxErrors || errs[0].Line != 7 || errs[MaxErrors-1].Line != 16 {
		t.Errorf("Errors() = %v", errs)
	}
	p.Reset()
	if c, e := p.Counts(), p.Errors(); c.Lines != 0 || len(e) != 0 {
		t.Errorf("after Reset: %+v %v", c, e)
	}
	stop := errors.New("stop")
	if err := p.Scan(strings.NewReader(defaultLine), func(*flow.Record) error { return stop }); err != stop {
		t.Errorf("Scan returned %v, want the callback's error", err)
	}
}

func TestAddressMode(t *testing.T) {
	for _, m := range []AddressMode{AddressAuto, AddressPacket, AddressInterface} {
		got, err := ParseAddressMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseAddressMode(%q) = %v, %v", m, got, err)
		}
	}
	if m, err := ParseAddressMode(""); m != AddressAuto || err != nil {
		t.Errorf(`ParseAddressMode("") = %v, %v`, m, err)
	}
	if _, err := ParseAddressMode("pkt"); err == nil {
		t.Error("ParseAddressMode(pkt) succeeded")
	}
}

// TestTimeRule checks the one rule for odd flow times (flow.NormalizeTimes)
// on parsed lines: what every encoder then carries alike.
func TestTimeRule(t *testing.T) {
	at := func(start, end string) string { return replaceField(replaceField(defaultLine, 11, start), 12, end) }
	tests := []struct {
		name       string
		line       string
		start, end int64  // for records
		msg        string // for malformed lines
	}{
		{name: "ordinary", line: at("1700000000", "1700000060"), start: 1700000000, end: 1700000060},
		{name: "end before start", line: at("1700000060", "1700000000"), start: 1700000060, end: 1700000060},
		{name: "dash start", line: at("-", "1700000060"), start: 1700000060, end: 1700000060},
		{name: "zero start", line: at("0", "1700000060"), start: 1700000060, end: 1700000060},
		{name: "dash end", line: at("1700000000", "-"), start: 1700000000, end: 1700000000},
		{name: "a year long", line: at("1700000000", "1731536000"), start: 1700000000, end: 1700000000 + flow.MaxDuration},
		{name: "no times", line: at("-", "-"),
			msg: `line 17: field 11 (start) "-": flow time outside 1970-01-01..2106-02-07`},
		{name: "end in year 5138", line: at("1700000000", "99999999999"),
			msg: `line 17: field 12 (end) "99999999999": flow time outside 1970-01-01..2106-02-07`},
		{name: "start after 2106", line: at("4294967296", "4294967296"),
			msg: `line 17: field 11 (start) "4294967296": flow time outside 1970-01-01..2106-02-07`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser(Options{Format: DefaultFormat})
			var rec flow.Record
			r, err := p.ParseLine([]byte(tc.line), 17, &rec)
			if tc.msg != "" {
				if r != ReasonMalformed || err == nil || err.Error() != tc.msg || !errors.Is(err, flow.ErrTimeRange) {
					t.Fatalf("ParseLine = %v, %v; want malformed %q", r, err, tc.msg)
				}
				return
			}
			if r != ReasonNone || err != nil {
				t.Fatalf("ParseLine = %v, %v; want a record", r, err)
			}
			if rec.Start != tc.start || rec.End != tc.end {
				t.Errorf("times %d..%d, want %d..%d", rec.Start, rec.End, tc.start, tc.end)
			}
		})
	}
}

// TestParseLineTooLong: a line longer than MaxLineBytes (a '\r' counted)
// is malformed with ErrLineTooLong; one at the limit is parsed.
func TestParseLineTooLong(t *testing.T) {
	const max = MinMaxLineBytes
	p := NewParser(Options{Format: DefaultFormat, MaxLineBytes: max})
	var rec flow.Record
	at := defaultLine + strings.Repeat(" ", max-len(defaultLine))
	if r, err := p.ParseLine([]byte(at), 1, &rec); r != ReasonNone || err != nil {
		t.Errorf("line of %d bytes: %v, %v", len(at), r, err)
	}
	for _, long := range []string{at + " ", at + "\r", strings.Repeat("x", 10*max)} {
		r, err := p.ParseLine([]byte(long), 2, &rec)
		if r != ReasonMalformed || !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), "line 2: longer than 16384 bytes") {
			t.Errorf("line of %d bytes: %v, %v", len(long), r, err)
		}
	}
	if c := p.Counts(); c.Records != 1 || c.Skipped[ReasonMalformed] != 3 {
		t.Errorf("counts %+v", c)
	}
}
