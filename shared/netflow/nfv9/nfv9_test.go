package nfv9

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	gf "github.com/netsampler/goflow2/v2/decoders/netflow"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/ie"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/internal/nftest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var (
	t0      = nftest.T0
	rec     = nftest.Rec
	samples = nftest.Samples
	many    = nftest.Many
)

func newEnc(cfg Config) nftest.NewEncoder {
	return func(emit netflow.Emit) (netflow.Encoder, error) { return NewEncoder(cfg, emit) }
}

// encode stages recs and returns copies of the frames.
func encode(t testing.TB, cfg Config, recs []flow.Record) []netflow.Frame {
	t.Helper()
	return nftest.Encode(t, newEnc(cfg), recs)
}

// finish stamps frames with consecutive sequence numbers from base
// (+Units each), templates on the first only.
func finish(t testing.TB, frames []netflow.Frame, base uint32, now time.Time) [][]byte {
	t.Helper()
	return nftest.Finish(t, Finisher{}, frames, base, now)
}

// decoder decodes NetFlow v9 packets and computes absolute times as
// goflow2 and nfdump do.
var decoder = nftest.Decoder[gf.NFv9Packet]{
	Header: func(_ testing.TB, _ int, _ []byte, p gf.NFv9Packet, _ gf.IPFIXPacket) (gf.NFv9Packet, []any) {
		sets := p.FlowSets
		p.FlowSets = nil
		return p, sets
	},
	OptionsTemplate: gf.NFv9OptionsTemplateFlowSet{},
	Flow:            flowOf,
	Iface: func(t testing.TB, r gf.OptionsDataRecord) nftest.Iface {
		return nftest.IfaceOf(t, r, ie.ScopeInterface, true)
	},
}

func decode(t testing.TB, datagrams [][]byte) []nftest.Packet[gf.NFv9Packet] {
	t.Helper()
	return decoder.Decode(t, datagrams)
}

func flowOf(t testing.TB, p gf.NFv9Packet, values []gf.DataField) nftest.Flow {
	t.Helper()
	var w nftest.Flow
	var first, last uint32
	for _, v := range values {
		b := v.Value.([]byte)
		switch {
		case nftest.SetCommon(&w, v.Type, b):
		case v.Type == ie.FlowStartSysUpTime:
			first = uint32(nftest.Num(b))
		case v.Type == ie.FlowEndSysUpTime:
			last = uint32(nftest.Num(b))
		default:
			t.Fatalf("unexpected field type %d", v.Type)
		}
	}
	// nfdump: boot = unix_secs*1000 - sysUptime; start = boot + First.
	boot := int64(p.UnixSeconds)*1000 - int64(p.SystemUptime)
	w.StartMs, w.EndMs = boot+int64(first), boot+int64(last)
	// goflow2: start_ns = unix_secs*1e9 - (uptime - First)*1e6, unsigned.
	base := uint64(p.UnixSeconds) * 1e9
	gs := base - (uint64(p.SystemUptime)*1e6 - uint64(first)*1e6)
	ge := base - (uint64(p.SystemUptime)*1e6 - uint64(last)*1e6)
	if int64(gs/1e6) != w.StartMs || int64(ge/1e6) != w.EndMs {
		t.Errorf("goflow2 times %d..%d ns, nfdump %d..%d ms", gs, ge, w.StartMs, w.EndMs)
	}
	if first > p.SystemUptime || last > p.SystemUptime {
		t.Errorf("FIRST %d / LAST %d above sysUptime %d", first, last, p.SystemUptime)
	}
	return w
}

func TestRoundTrip(t *testing.T) {
	now := time.Unix(t0+300, 0)
	for _, tc := range []struct {
		name string
		cfg  Config
		recs []flow.Record
	}{
		{"samples", Config{SourceID: 7}, samples()},
		{"many small MTU", Config{SourceID: 1, MTU: MinMTU}, many(500, t0-3600)},
		{"many default MTU", Config{}, many(2000, t0-3600)},
		{"year old", Config{SourceID: 2}, many(100, t0-365*86400)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := encode(t, tc.cfg, tc.recs)
			got := decode(t, finish(t, frames, 1000, now))
			var want []nftest.Flow
			for i := range tc.recs {
				want = append(want, nftest.ExpectFlow(&tc.recs[i]))
			}
			gotFlows, gotIfs := nftest.AllFlows(got)
			nftest.CheckFlows(t, want, gotFlows)
			nftest.CheckIfaces(t, nftest.ExpectIfaces(tc.recs), gotIfs)
			for i, p := range got {
				if p.Hdr.SourceId != tc.cfg.SourceID {
					t.Errorf("packet %d: source id %d", i, p.Hdr.SourceId)
				}
			}
		})
	}
}

func TestHeaderCountAndSequence(t *testing.T) {
	recs := many(300, t0-600)
	frames := encode(t, Config{SourceID: 9}, recs)
	if len(frames) < 3 {
		t.Fatalf("%d frames, want several", len(frames))
	}
	base := uint32(math.MaxUint32 - 1) // wraps during the run
	datagrams := finish(t, frames, base, time.Unix(t0, 0))
	got := decode(t, datagrams)
	total := 0
	for i, p := range got {
		f := frames[i]
		if f.Units != 1 {
			t.Errorf("frame %d: Units %d, want 1", i, f.Units)
		}
		if want := uint32(len(p.Flows) + len(p.Ifaces)); f.Records != want {
			t.Errorf("frame %d: Records %d, want %d", i, f.Records, want)
		}
		wantCount := len(p.Flows) + len(p.Ifaces)
		if i == 0 {
			wantCount += TemplateRecords
		}
		if int(p.Hdr.Count) != wantCount {
			t.Errorf("packet %d: Count %d, want %d records", i, p.Hdr.Count, wantCount)
		}
		if int(p.Hdr.Count) < p.Sets {
			t.Errorf("packet %d: Count %d below %d flowsets", i, p.Hdr.Count, p.Sets)
		}
		if want := base + uint32(i); p.Hdr.SequenceNumber != want {
			t.Errorf("packet %d: sequence %d, want %d", i, p.Hdr.SequenceNumber, want)
		}
		total += len(p.Flows)
	}
	if total != len(recs) {
		t.Errorf("%d flows decoded, want %d", total, len(recs))
	}
}

func TestMTUBudget(t *testing.T) {
	for _, mtu := range []int{MinMTU, 512, 1000, DefaultMTU, 1500 - 48, 9000 - 28} {
		t.Run(fmt.Sprint(mtu), func(t *testing.T) {
			frames := encode(t, Config{MTU: mtu}, many(3000, t0-7200))
			full := 0
			for i, f := range frames {
				d, err := Finisher{}.Finish(nil, f, 0, time.Unix(t0, 0), true)
				if err != nil {
					t.Fatal(err)
				}
				if len(d) > mtu {
					t.Errorf("frame %d: %d bytes with templates, budget %d", i, len(d), mtu)
				}
				if len(d) > mtu-RecordLenInterface-RecordLenIPv6-12 {
					full++
				}
				if len(f.Data)%4 != 0 {
					t.Errorf("frame %d: %d bytes, not padded to 4", i, len(f.Data))
				}
			}
			if full < len(frames)-1 {
				t.Errorf("only %d of %d frames are full", full, len(frames))
			}
		})
	}
}

func TestConfig(t *testing.T) {
	for _, mtu := range []int{-1, 1, MinMTU - 1, MaxMTU + 1} {
		if _, err := NewEncoder(Config{MTU: mtu}, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("MTU %d: err %v, want ErrConfig", mtu, err)
		}
	}
	if got := (Config{}).MaxDatagram(); got != DefaultMTU {
		t.Errorf("default MaxDatagram %d", got)
	}
}

func TestPadding(t *testing.T) {
	// One IPv4 flow: 52 bytes, no padding; one IPv6 flow: 76. With an
	// interface record of 132 bytes. All FlowSet lengths must be multiples
	// of 4 and pads zero.
	recs := samples()[:2]
	frames := encode(t, Config{}, recs)
	d, err := Finisher{}.Finish(nil, frames[0], 0, time.Unix(t0, 0), true)
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint16
	for p := d[HeaderLen:]; len(p) > 0; {
		id, n := binary.BigEndian.Uint16(p), int(binary.BigEndian.Uint16(p[2:]))
		if n%4 != 0 || n > len(p) {
			t.Fatalf("flowset %d: length %d of %d", id, n, len(p))
		}
		ids = append(ids, id)
		p = p[n:]
	}
	if diff := cmp.Diff([]uint16{0, 1, TemplateInterface, TemplateIPv4, TemplateIPv6}, ids); diff != "" {
		t.Errorf("flowsets (-want +got):\n%s", diff)
	}
	// the options template flowset is 22 bytes + 2 of padding
	if got := Templates()[TemplatesLen-2:]; !bytes.Equal(got, []byte{0, 0}) {
		t.Errorf("options template pad %x", got)
	}
}

func TestTimes(t *testing.T) {
	day := int64(86400)
	for _, tc := range []struct {
		name    string
		recs    []flow.Record
		now     time.Time
		packets int // at least
	}{
		{"recent, now export", many(50, t0-3600), time.Unix(t0, 0), 1},
		{"year old", many(50, t0-365*day), time.Unix(t0, 0), 1},
		{"future", many(50, t0+3600), time.Unix(t0, 0), 1},
		{"60-day span", []flow.Record{
			rec("10.0.0.1", "10.0.0.2", t0-60*day, t0-60*day+10, nil),
			rec("10.0.0.1", "10.0.0.3", t0-30*day, t0-30*day+10, nil),
			rec("10.0.0.1", "10.0.0.4", t0-10, t0, nil),
			rec("10.0.0.1", "10.0.0.5", t0-59*day, t0-59*day+10, nil),
		}, time.Unix(t0, 0), 3},
		{"48-day flow", []flow.Record{rec("10.0.0.1", "10.0.0.2", t0-48*day, t0, nil)}, time.Unix(t0, 0), 1},
		{"epoch", []flow.Record{rec("10.0.0.1", "10.0.0.2", 1, 1, nil), rec("10.0.0.1", "10.0.0.2", 1, 5, nil)}, time.Unix(t0, 0), 1},
		{"2106", []flow.Record{rec("10.0.0.1", "10.0.0.2", maxSeconds-5, maxSeconds, nil)}, time.Unix(t0, 0), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := encode(t, Config{}, tc.recs)
			if len(frames) < tc.packets {
				t.Errorf("%d packets, want at least %d", len(frames), tc.packets)
			}
			got := decode(t, finish(t, frames, 0, tc.now))
			var want []nftest.Flow
			for i := range tc.recs {
				want = append(want, nftest.ExpectFlow(&tc.recs[i]))
			}
			gotFlows, _ := nftest.AllFlows(got)
			nftest.CheckFlows(t, want, gotFlows)
			for i, p := range got {
				if p.Hdr.UnixSeconds == uint32(tc.now.Unix()) {
					continue
				}
				// virtual export: at the latest end of the packet
				var maxEnd int64
				for _, f := range p.Flows {
					maxEnd = max(maxEnd, f.StartMs, f.EndMs)
				}
				if int64(p.Hdr.UnixSeconds)*1000 != maxEnd {
					t.Errorf("packet %d: export %d, neither now nor latest end %d", i, p.Hdr.UnixSeconds, maxEnd)
				}
			}
		})
	}
}

func TestClampedTimes(t *testing.T) {
	day := int64(86400)
	recs := []flow.Record{
		rec("10.0.0.1", "10.0.0.2", t0, t0-100, nil),        // end before start
		rec("10.0.0.1", "10.0.0.3", t0-60*day, t0-day, nil), // longer than MaxDurationSeconds
	}
	got := decode(t, finish(t, encode(t, Config{}, recs), 0, time.Unix(t0, 0)))
	gotFlows, _ := nftest.AllFlows(got)
	want := []nftest.Flow{nftest.ExpectFlow(&recs[0]), nftest.ExpectFlow(&recs[1])}
	want[0].EndMs = want[0].StartMs
	want[1].EndMs = want[1].StartMs + MaxDurationSeconds*1000
	nftest.CheckFlows(t, want, gotFlows)
}

func TestExportNow(t *testing.T) {
	// Recent flows are exported at now (truncated to the second), with
	// sysUptime = now - virtual boot, one second before the earliest start.
	recs := []flow.Record{rec("10.0.0.1", "10.0.0.2", t0-100, t0-50, nil), rec("10.0.0.1", "10.0.0.3", t0-80, t0-10, nil)}
	frames := encode(t, Config{}, recs)
	now := time.Unix(t0, 999_000_000)
	got := decode(t, finish(t, frames, 0, now))
	if got[0].Hdr.UnixSeconds != uint32(t0) || got[0].Hdr.SystemUptime != 101_000 {
		t.Errorf("unix_secs %d sysUptime %d, want %d 101000", got[0].Hdr.UnixSeconds, got[0].Hdr.SystemUptime, t0)
	}
}

func TestUnsupported(t *testing.T) {
	nftest.Unsupported(t, newEnc(Config{}), ErrAddress, ErrTimeRange, maxSeconds)
}

func TestFinishErrors(t *testing.T) {
	for _, d := range [][]byte{nil, make([]byte, 19), append([]byte{0, 10}, make([]byte, 18)...)} {
		if _, err := (Finisher{}).Finish(nil, netflow.Frame{Data: d}, 0, time.Unix(t0, 0), false); !errors.Is(err, ErrFrame) {
			t.Errorf("Finish(%x): %v, want ErrFrame", d, err)
		}
	}
}

func TestFinishKeepsFrame(t *testing.T) {
	nftest.FinishKeepsFrame(t, Finisher{}, encode(t, Config{SourceID: 3}, samples())[0], TemplatesLen)
}

func TestDeterministic(t *testing.T) {
	a := encode(t, Config{}, many(500, t0))
	b := encode(t, Config{}, many(500, t0))
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("frames differ (-first +second):\n%s", diff)
	}
}

// TestGolden pins the wire format: samples() staged and finished (sequence
// 100, +1 per packet, templates on the first), one hex datagram a line.
func TestGolden(t *testing.T) {
	frames := encode(t, Config{SourceID: 7}, samples())
	nftest.Golden(t, "samples.golden", finish(t, frames, 100, time.Unix(t0, 0)), *update)
}

func TestAllocs(t *testing.T) {
	recs := many(1000, t0)
	nftest.Allocs(t, newEnc(Config{}), Finisher{}, recs, encode(t, Config{}, recs))
}

func BenchmarkEncode(b *testing.B) {
	recs := many(4096, t0)
	enc, err := NewEncoder(Config{}, func(netflow.Frame) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		if err := enc.Add(&recs[n%len(recs)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkFinish(b *testing.B) {
	frames := encode(b, Config{}, many(4096, t0))
	var dst []byte
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		dst, _ = Finisher{}.Finish(dst[:0], frames[n%len(frames)], uint32(n), time.Unix(t0, 0), n%20 == 0)
		n++
	}
}

func TestNoZeroFirstSwitched(t *testing.T) {
	// tshark 4.0 shows FIRST_SWITCHED 0 as 1970, and nfdump 1.7 a
	// zero-length flow at the boot instant likewise: no flow may start at
	// the virtual boot.
	recs := []flow.Record{rec("10.0.0.1", "10.0.0.2", t0, t0, nil), rec("10.0.0.1", "10.0.0.3", t0+5, t0+9, nil)}
	ts := gf.CreateTemplateSystem()
	n := 0
	for _, d := range finish(t, encode(t, Config{}, recs), 0, time.Unix(t0+100, 0)) {
		var p9 gf.NFv9Packet
		var p10 gf.IPFIXPacket
		if err := gf.DecodeMessageVersion(bytes.NewBuffer(d), ts, &p9, &p10); err != nil {
			t.Fatal(err)
		}
		for _, fs := range p9.FlowSets {
			ds, ok := fs.(gf.DataFlowSet)
			if !ok || ds.FlowSetHeader.Id < 256 || ds.FlowSetHeader.Id == 258 {
				continue
			}
			for _, r := range ds.Records {
				for _, v := range r.Values {
					if v.Type == gf.NFV9_FIELD_FIRST_SWITCHED {
						n++
						if binary.BigEndian.Uint32(v.Value.([]byte)) == 0 {
							t.Errorf("FIRST_SWITCHED 0 in %v", r)
						}
					}
				}
			}
		}
	}
	if n != 2 {
		t.Errorf("found %d FIRST_SWITCHED values, want 2", n)
	}
}
