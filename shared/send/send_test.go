package send

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/ipfix"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

// stageIPFIX encodes n records into an IPFIX frame file.
func stageIPFIX(t *testing.T, n int) ([]byte, staging.Totals) {
	t.Helper()
	var buf bytes.Buffer
	w := staging.NewWriter(&buf, netflow.IPFIX)
	enc, err := ipfix.NewEncoder(ipfix.Config{ObservationDomain: 1}, w.Add)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		rec := flow.Record{
			SrcAddr: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), DstAddr: netip.MustParseAddr("10.1.0.1"),
			SrcPort: 1000, DstPort: 443, Protocol: 6, Packets: 1, Bytes: 100, Start: 1700000000, End: 1700000010,
		}
		if err := enc.Add(&rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.Totals()
}

type capture struct{ sent [][]byte }

func (c *capture) Send(_ context.Context, b []byte) error {
	c.sent = append(c.sent, append([]byte(nil), b...))
	return nil
}
func (c *capture) Flush(context.Context) error { return nil }

// hasTemplates reports whether an IPFIX message carries a Template Set
// (Set ID 2) right after its header.
func hasTemplates(m []byte) bool { return binary.BigEndian.Uint16(m[16:18]) == 2 }

func TestStreamSequenceAndTemplateCadence(t *testing.T) {
	data, totals := stageIPFIX(t, 1000)
	if totals.Frames < 30 {
		t.Fatalf("only %d frames; the test wants many", totals.Frames)
	}
	now := time.Unix(1800000000, 0)
	clock := func() time.Time { now = now.Add(100 * time.Millisecond); return now }
	var c capture
	first := uint64(1<<32 - 500) // the wire numbers wrap inside this stream
	res, err := Stream(t.Context(), bytes.NewReader(data), ipfix.Finisher{}, &c, first, totals.Units,
		Options{TemplatePackets: 10, TemplateInterval: 2 * time.Second, Now: clock, Protocol: netflow.IPFIX})
	if err != nil {
		t.Fatal(err)
	}
	if res.Datagrams != totals.Frames || res.Units != totals.Units || uint64(len(c.sent)) != totals.Frames {
		t.Fatalf("result %+v, file %+v, %d sent", res, totals, len(c.sent))
	}
	want := first
	since := 0
	for i, m := range c.sent {
		if got := binary.BigEndian.Uint32(m[8:12]); got != uint32(want) {
			t.Fatalf("message %d: sequence %d, want %d", i, got, uint32(want))
		}
		// Templates at the start and then every 10 datagrams (the 2 s
		// interval, 20 datagrams at 100 ms each, never comes first).
		if tpl := hasTemplates(m); tpl != (i == 0 || since == 10) {
			t.Fatalf("message %d: templates %v, %d datagrams since the last", i, tpl, since)
		} else if tpl {
			since = 0
		}
		since++
		if len(m) > 1472 {
			t.Fatalf("message %d is %d bytes", i, len(m))
		}
		// Data records in this message: the sequence advances by them.
		want += uint64(countDataRecords(m))
	}
	if want != first+totals.Units {
		t.Errorf("sequence advanced by %d, want %d", want-first, totals.Units)
	}

	// Time-based refresh: with 1 s between datagrams and a 2 s interval,
	// every second datagram carries templates.
	c = capture{}
	slow := func() time.Time { now = now.Add(time.Second); return now }
	if _, err := Stream(t.Context(), bytes.NewReader(data), ipfix.Finisher{}, &c, 0, totals.Units, Options{TemplateInterval: 2 * time.Second, Now: slow}); err != nil {
		t.Fatal(err)
	}
	for i, m := range c.sent[:10] {
		if hasTemplates(m) != (i%2 == 0) {
			t.Errorf("time refresh: message %d templates %v", i, hasTemplates(m))
		}
	}
}

func countDataRecords(m []byte) int {
	n := 0
	for off := 16; off+4 <= len(m); {
		id := binary.BigEndian.Uint16(m[off:])
		l := int(binary.BigEndian.Uint16(m[off+2:]))
		if l < 4 {
			break
		}
		if id == 256 {
			n += (l - 4) / 61
		} else if id == 257 {
			n += (l - 4) / 85
		}
		off += l
	}
	return n
}

func TestStreamRefusesWrongRanges(t *testing.T) {
	data, totals := stageIPFIX(t, 300)
	var c capture
	_, err := Stream(t.Context(), bytes.NewReader(data), ipfix.Finisher{}, &c, 0, totals.Units-1, Options{})
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("range one short: %v", err)
	}
	for _, m := range c.sent {
		seqNo := binary.BigEndian.Uint32(m[8:12])
		if uint64(seqNo)+uint64(countDataRecords(m)) > totals.Units-1 {
			t.Errorf("a datagram left the reserved range: seq %d", seqNo)
		}
	}
	c = capture{}
	if _, err := Stream(t.Context(), bytes.NewReader(data), ipfix.Finisher{}, &c, 0, totals.Units+5, Options{}); err == nil {
		t.Error("range larger than the file accepted")
	}
	if _, err := Stream(t.Context(), bytes.NewReader(data), ipfix.Finisher{}, &c, 0, totals.Units, Options{Protocol: netflow.V5}); err == nil {
		t.Error("IPFIX frames accepted for a v5 receiver")
	}
	if _, err := Stream(t.Context(), bytes.NewReader(data[:len(data)-3]), ipfix.Finisher{}, &c, 0, totals.Units, Options{}); err == nil {
		t.Error("truncated file accepted")
	}
}

// flushLog records the order of sends and flushes.
type flushLog struct{ events []string }

func (f *flushLog) Send(context.Context, []byte) error {
	f.events = append(f.events, "send")
	return nil
}
func (f *flushLog) Flush(context.Context) error { f.events = append(f.events, "flush"); return nil }

// TestStreamTemplateSettle: the first datagram (with the templates) is
// flushed and followed by one pause before the rest, and only then.
func TestStreamTemplateSettle(t *testing.T) {
	data, totals := stageIPFIX(t, 300)
	var c flushLog
	var slept []time.Duration
	sleep := func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		c.events = append(c.events, "sleep")
		return nil
	}
	if _, err := Stream(t.Context(), bytes.NewReader(data), ipfix.Finisher{}, &c, 0, totals.Units,
		Options{TemplatePackets: 2, TemplateSettle: 20 * time.Millisecond, Sleep: sleep}); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 1 || slept[0] != 20*time.Millisecond {
		t.Fatalf("slept %v, want one 20ms pause (template refreshes need none)", slept)
	}
	if got := strings.Join(c.events[:4], " "); got != "send flush sleep send" {
		t.Errorf("events %q, want the first datagram flushed, then the pause, then the next", got)
	}
	slept = nil
	if _, err := Stream(t.Context(), bytes.NewReader(data), ipfix.Finisher{}, &flushLog{}, 0, totals.Units, Options{Sleep: sleep}); err != nil || len(slept) != 0 {
		t.Errorf("TemplateSettle 0: slept %v, %v", slept, err)
	}
}
