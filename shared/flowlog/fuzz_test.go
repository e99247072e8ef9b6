package flowlog

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// fuzzFormats are the formats FuzzParseLine picks from.
var fuzzFormats = []*Format{
	nil, // header or nothing
	DefaultFormat,
	mustParseFormat(customFormat),
	mustParseFormat("${srcaddr} ${dstaddr}"),
	mustParseFormat("${pkt-srcaddr} ${foo} ${pkt-dstaddr} ${log-status} ${packets} ${bytes}"),
}

func FuzzParseLine(f *testing.F) {
	for _, l := range []string{
		defaultLine, defaultHeader, customLine, "", "\r\n", `{"message":"` + defaultLine + `"}`,
		replaceField(defaultLine, 4, "2600:1f18::1"),
		replaceField(replaceField(defaultLine, 4, "2600:1f18::1"), 5, "::ffff:1.2.3.4"),
		"2 123456789012 eni-1 - - - - - - - 1 2 - NODATA",
		replaceField(defaultLine, 10, "18446744073709551616"),
		"10.0.0.1 10.0.0.2", "::1 x ::2 OK 5 6", "srcaddr dstaddr",
	} {
		for i := range fuzzFormats {
			f.Add([]byte(l), uint8(i), uint8(0))
		}
	}
	f.Add([]byte(customLine), uint8(2), uint8(1))
	f.Add([]byte(customLine), uint8(2), uint8(2))
	f.Fuzz(func(t *testing.T, line []byte, format, mode uint8) {
		opts := Options{Format: fuzzFormats[int(format)%len(fuzzFormats)], AddressMode: AddressMode(mode % 3)}
		p := NewParser(opts)
		orig := bytes.Clone(line)
		var rec flow.Record
		for lineNo := int64(1); lineNo <= 2; lineNo++ { // line 1 may set the format
			r, err := p.ParseLine(line, lineNo, &rec)
			if !bytes.Equal(line, orig) {
				t.Fatal("ParseLine modified its input")
			}
			switch {
			case r == ReasonNone && err != nil:
				if !errors.Is(err, ErrNoFormat) {
					t.Fatalf("fatal error %v is not ErrNoFormat", err)
				}
				continue
			case r == ReasonMalformed:
				var le *LineError
				if !errors.As(err, &le) || le.Line != lineNo || le.Error() == "" {
					t.Fatalf("malformed line: error %v", err)
				}
			case err != nil:
				t.Fatalf("reason %v with error %v", r, err)
			case r == ReasonNone:
				checkRecord(t, &rec, lineNo)
			case r >= numReasons || r == ReasonUnsupported || r == ReasonFiltered:
				t.Fatalf("unexpected reason %v", r)
			}
			// The columns are the space- and tab-separated fields.
			if trimmed := trimLine(line); len(trimmed) > 0 && trimmed[0] != '{' && p.Format() != nil {
				n := len(bytes.FieldsFunc(trimmed, func(r rune) bool { return r == ' ' || r == '\t' }))
				if r == ReasonNone && n != p.Format().Len() || errors.Is(err, ErrFieldCount) && n == p.Format().Len() {
					t.Fatalf("%d fields, format has %d, but reason %v, error %v", n, p.Format().Len(), r, err)
				}
			}
		}
		if c := p.Counts(); c.Check() != nil {
			t.Fatalf("counts %+v", c)
		}
	})
}

// checkRecord asserts the invariants of a parsed record.
func checkRecord(t *testing.T, r *flow.Record, lineNo int64) {
	t.Helper()
	if !r.SrcAddr.IsValid() || !r.DstAddr.IsValid() {
		t.Fatalf("invalid address in %+v", r)
	}
	if r.SrcAddr.Is4() != r.DstAddr.Is4() || r.IsIPv6() != r.DstAddr.Is6() {
		t.Fatalf("mixed families in %+v", r)
	}
	if r.SrcAddr.Is4In6() || r.DstAddr.Is4In6() || r.SrcAddr.Zone() != "" || r.DstAddr.Zone() != "" {
		t.Fatalf("4in6 or zoned address in %+v", r)
	}
	if r.Line != lineNo || r.IfIndex != flow.IfIndex(r.InterfaceID) || r.Start < 0 || r.End < 0 {
		t.Fatalf("bad record %+v", r)
	}
	for _, s := range []string{r.InterfaceID, r.AccountID, r.VPCID, r.SubnetID, r.InstanceID} {
		if s == "-" || strings.ContainsAny(s, " \t") {
			t.Fatalf("bad identifier %q in %+v", s, r)
		}
	}
}

func FuzzLineReader(f *testing.F) {
	for _, s := range []string{
		"", "a\nb", "a\r\nb\r\n\n", "\n\n", defaultHeader + "\n" + defaultLine + "\n",
		`{"message":"a"}{"message":"b"}`, "{\"message\":\"a\"}\n{\"message\":\"b\"}\n",
		`{"message":"a"}junk{"message":"b`, ` {"a":[{"b":"}"}],"message":"x\u0041"}`, "{\n}\n}{",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		read := func(lr *LineReader) (lines []string, firehose bool) {
			for lr.Next() {
				if lr.LineNo() != int64(len(lines)+1) {
					t.Fatalf("LineNo %d after %d lines", lr.LineNo(), len(lines))
				}
				lines = append(lines, string(lr.Line()))
			}
			if err := lr.Err(); err != nil {
				t.Fatal(err)
			}
			return lines, lr.Firehose()
		}
		whole, fh := read(NewLineReader(bytes.NewReader(in)))
		bytewise, fh2 := read(NewLineReader(iotest.OneByteReader(bytes.NewReader(in))))
		if strings.Join(whole, "\x00") != strings.Join(bytewise, "\x00") || len(whole) != len(bytewise) || fh != fh2 && len(whole) > 0 {
			t.Fatalf("reading at once gives %q, byte by byte %q", whole, bytewise)
		}
		if !fh {
			// Text: the lines are those of a plain split.
			want := strings.Split(string(in), "\n")
			if len(want) > 0 && want[len(want)-1] == "" {
				want = want[:len(want)-1]
			}
			for i := range want {
				want[i] = strings.TrimSuffix(want[i], "\r")
			}
			if strings.Join(want, "\x00") != strings.Join(whole, "\x00") || len(want) != len(whole) {
				t.Fatalf("text lines %q, want %q", whole, want)
			}
		}
		// Every line parses without panicking.
		p := NewParser(Options{Format: DefaultFormat})
		var rec flow.Record
		for i, l := range whole {
			if r, _ := p.ParseLine([]byte(l), int64(i+1), &rec); r == ReasonNone {
				checkRecord(t, &rec, int64(i+1))
			}
		}
	})
}

func FuzzUnwrapMessage(f *testing.F) {
	for _, s := range []string{
		`{"message":"` + defaultLine + `"}`, `{"message":"\ud83d\ude00\u0041\n"}`, `{"a":[1,-2.5e3,{"b":null}],"message":"x"}`,
		`{"message":"x","message":"y"}`, `{"message":1}`, `{}`, "{\"message\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkUnwrapAgainstJSON(t, in)
	})
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range addrInputs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkAddr(t, s)
	})
}
