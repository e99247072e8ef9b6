package flowlog

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// cwDoc builds one subscription document with the given messages.
func cwDoc(typ string, msgs ...string) string {
	var ev []string
	for i, m := range msgs {
		ev = append(ev, fmt.Sprintf(`{"id":"3737%d","timestamp":1700000000%03d,"message":%q}`, i, i, m))
	}
	return `{"messageType":"` + typ + `","owner":"123456789012","logGroup":"vpc-flow","logStream":"eni-0a1b2c3d4e5f60789-all",` +
		`"subscriptionFilters":["to-firehose"],"logEvents":[` + strings.Join(ev, ",") + `]}`
}

// TestCloudWatchScan: documents concatenated without separators, a
// control document among them; every data event is a record, every
// control event counted as "control", an event whose message is not a
// flow-log record counted malformed with its event index.
func TestCloudWatchScan(t *testing.T) {
	line := "2 123456789012 eni-0a1b2c3d4e5f60789 10.0.0.1 10.0.0.2 443 49152 6 10 5000 1700000000 1700000060 ACCEPT OK"
	in := cwDoc("CONTROL_MESSAGE", "CWL CONTROL MESSAGE: Checking health of destination Firehose.") +
		cwDoc("DATA_MESSAGE", line, line) + "\n" +
		cwDoc("DATA_MESSAGE", "not a record", line)
	if !IsCloudWatch([]byte(in)) {
		t.Fatal("IsCloudWatch is false")
	}
	for _, r := range []struct {
		name string
		in   []byte
	}{{"whole", []byte(in)}} {
		p := NewParser(Options{Format: DefaultFormat})
		var n int
		var bytesSum uint64
		if err := p.Scan(iotest.OneByteReader(bytes.NewReader(r.in)), func(rec *flow.Record) error {
			n++
			bytesSum += rec.Bytes
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		c := p.Counts()
		if n != 3 || bytesSum != 15000 || c.Lines != 5 || c.Records != 3 || c.Skipped[ReasonControl] != 1 || c.Skipped[ReasonMalformed] != 1 {
			t.Errorf("%s: %d records, %d bytes, counts %+v", r.name, n, bytesSum, c)
		}
		if errs := p.Errors(); len(errs) != 1 || errs[0].Line != 4 {
			t.Errorf("%s: errors %v, want one on event 4", r.name, errs)
		}
	}
}

// TestCloudWatchBadPayloads: a truncated document, an unknown message
// type, a document too large to hold: each a clear error after the events
// before it, never a silent end.
func TestCloudWatchBadPayloads(t *testing.T) {
	line := "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1700000000 1700000060 ACCEPT OK"
	good := cwDoc("DATA_MESSAGE", line)
	for _, tc := range []struct {
		name, in, want string
		events         int
	}{
		{"truncated", good + good[:40], "document 2 (after event 1)", 1},
		{"unknown type", good + strings.Replace(good, "DATA_MESSAGE", "OTHER", 1), `messageType "OTHER"`, 1},
		{"not JSON after", good + "garbage", "document 2", 1},
	} {
		r := NewCloudWatchReader(strings.NewReader(tc.in))
		n := 0
		for r.Next() {
			n++
		}
		if err := r.Err(); !errors.Is(err, ErrCloudWatch) || !strings.Contains(err.Error(), tc.want) || n != tc.events {
			t.Errorf("%s: %d events, error %v; want %d events and %q", tc.name, n, err, tc.events, tc.want)
		}
	}
	huge := `{"messageType":"DATA_MESSAGE","logEvents":[{"message":"` + strings.Repeat("x", MaxCloudWatchDocument+1<<20) + `"}]}`
	r := NewCloudWatchReader(strings.NewReader(huge))
	for r.Next() {
	}
	if err := r.Err(); !errors.Is(err, ErrCloudWatch) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a document over the bound: %v", err)
	}
}

func FuzzCloudWatchReader(f *testing.F) {
	line := "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1700000000 1700000060 ACCEPT OK"
	for _, s := range []string{
		cwDoc("DATA_MESSAGE", line, line), cwDoc("CONTROL_MESSAGE", "CWL CONTROL MESSAGE: x") + cwDoc("DATA_MESSAGE", line),
		`{"messageType":"DATA_MESSAGE","logEvents":[{}]}`, `{"messageType":"DATA_MESSAGE","logEvents":null}`, `{}`, `[`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		read := func(r *CloudWatchReader) []string {
			var lines []string
			for r.Next() {
				if r.LineNo() != int64(len(lines)+1) {
					t.Fatalf("LineNo %d after %d events", r.LineNo(), len(lines))
				}
				lines = append(lines, string(r.Line()))
			}
			if err := r.Err(); err != nil && !errors.Is(err, ErrCloudWatch) {
				t.Fatalf("error %v does not wrap ErrCloudWatch", err)
			}
			return lines
		}
		a := read(NewCloudWatchReader(bytes.NewReader(in)))
		b := read(NewCloudWatchReader(iotest.OneByteReader(bytes.NewReader(in))))
		if strings.Join(a, "\x01") != strings.Join(b, "\x01") || len(a) != len(b) {
			t.Fatalf("at once %q, byte by byte %q", a, b)
		}
		p := NewParser(Options{Format: DefaultFormat})
		var rec flow.Record
		for i, l := range a {
			if r, _ := p.ParseLine([]byte(l), int64(i+1), &rec); r == ReasonNone {
				checkRecord(t, &rec, int64(i+1))
			}
		}
		if c := p.Counts(); c.Lines != int64(len(a)) {
			t.Fatalf("counts %+v for %d events", c, len(a))
		}
	})
}
