package flowlog

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// TestParseLineAllocs proves the hot path does not allocate once a line's
// identifiers have been seen.
func TestParseLineAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("allocation counts are not meaningful under coverage")
	}
	for _, tc := range []struct {
		name, format, line string
	}{
		{"default", "", defaultLine},
		{"default crlf", "", defaultLine + "\r\n"},
		{"custom", customFormat, customLine},
		{"ipv6", "", replaceField(replaceField(defaultLine, 4, "2600:1f18:24a1:c000::1"), 5, "2a05:d018::42")},
		{"nodata", "", "2 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1700000000 1700000060 - NODATA"},
		{"header", "", defaultHeader},
		{"firehose", "", `{"message":"` + defaultLine + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := DefaultFormat
			if tc.format != "" {
				f = mustFormat(t, tc.format)
			}
			p := NewParser(Options{Format: f})
			line := []byte(tc.line)
			var rec flow.Record
			if allocs := testing.AllocsPerRun(1000, func() { p.ParseLine(line, 2, &rec) }); allocs != 0 {
				t.Errorf("ParseLine allocates %v times per line, want 0", allocs)
			}
		})
	}
}

// TestScanAllocs checks that reading and parsing an object costs a constant
// number of allocations, whatever its number of lines.
func TestScanAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("allocation counts are not meaningful under coverage")
	}
	p := NewParser(Options{})
	allocs := func(lines int) float64 {
		obj := benchObject(defaultHeader, defaultLine, lines)
		return testing.AllocsPerRun(5, func() {
			p.Reset()
			if err := p.Scan(bytes.NewReader(obj), nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(1000), allocs(20_000)
	if large > small+2 { // a per-object constant; per-line allocations would add thousands
		t.Errorf("Scan allocates %v times for 1000 lines, %v for 20000; want a constant", small, large)
	}
}

func TestInterning(t *testing.T) {
	p := NewParser(Options{Format: mustFormat(t, customFormat)})
	var a, b flow.Record
	p.ParseLine([]byte(customLine), 1, &a)
	p.ParseLine([]byte(customLine), 2, &b)
	for _, pair := range [][2]string{
		{a.InterfaceID, b.InterfaceID}, {a.AccountID, b.AccountID}, {a.VPCID, b.VPCID},
		{a.SubnetID, b.SubnetID}, {a.InstanceID, b.InstanceID},
	} {
		if pair[0] != pair[1] || unsafe.StringData(pair[0]) != unsafe.StringData(pair[1]) {
			t.Errorf("%q is not shared between records", pair[0])
		}
	}
	// The same value seen first as another field still gets its IfIndex.
	line := replaceField(customLine, 3, "vpc-0a1b2c3d4e5f60718")
	p.ParseLine([]byte(line), 3, &a)
	if a.IfIndex != flow.IfIndex("vpc-0a1b2c3d4e5f60718") || a.IfIndex == 0 {
		t.Errorf("IfIndex = %d for an id interned before as a vpc-id", a.IfIndex)
	}
}

// TestInternBounded feeds more distinct ids than the table holds: records
// stay correct and the table stops growing.
func TestInternBounded(t *testing.T) {
	p := NewParser(Options{Format: DefaultFormat})
	var rec flow.Record
	long := strings.Repeat("x", 200)
	n := maxInternEntries + 1000
	for i := range n {
		eni := fmt.Sprintf("eni-%017x", i)
		if i%2 == 1 {
			eni += long // also exercise the byte bound
		}
		line := replaceField(defaultLine, 3, eni)
		if r, err := p.ParseLine([]byte(line), int64(i+1), &rec); r != ReasonNone || err != nil {
			t.Fatalf("line %d: %v %v", i+1, r, err)
		}
		if rec.InterfaceID != eni || rec.IfIndex != flow.IfIndex(eni) {
			t.Fatalf("line %d: got %q/%d, want %q", i+1, rec.InterfaceID, rec.IfIndex, eni)
		}
	}
	if len(p.intern.m) > maxInternEntries || p.intern.bytes > maxInternBytes {
		t.Errorf("intern table holds %d entries, %d bytes; bounds %d, %d",
			len(p.intern.m), p.intern.bytes, maxInternEntries, maxInternBytes)
	}
}
