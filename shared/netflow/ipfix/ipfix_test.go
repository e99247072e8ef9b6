package ipfix

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

// expectFlow is the flow a collector should decode for r.
func expectFlow(r *flow.Record) nftest.Flow {
	w := nftest.ExpectFlow(r)
	w.FwEvt = ie.Firewall(r.Action)
	return w
}

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

// decoder decodes IPFIX messages, checking their version and length.
var decoder = nftest.Decoder[gf.IPFIXPacket]{
	Header: func(t testing.TB, i int, d []byte, _ gf.NFv9Packet, p gf.IPFIXPacket) (gf.IPFIXPacket, []any) {
		t.Helper()
		if p.Version != Version || int(p.Length) != len(d) {
			t.Fatalf("datagram %d: version %d length %d of %d", i, p.Version, p.Length, len(d))
		}
		sets := p.FlowSets
		p.FlowSets = nil
		return p, sets
	},
	OptionsTemplate: gf.IPFIXOptionsTemplateFlowSet{},
	Flow: func(t testing.TB, _ gf.IPFIXPacket, values []gf.DataField) nftest.Flow {
		return flowOf(t, values)
	},
	Iface: func(t testing.TB, r gf.OptionsDataRecord) nftest.Iface {
		return nftest.IfaceOf(t, r, ie.IngressInterface, false)
	},
}

func decode(t testing.TB, datagrams [][]byte) []nftest.Packet[gf.IPFIXPacket] {
	t.Helper()
	return decoder.Decode(t, datagrams)
}

func flowOf(t testing.TB, values []gf.DataField) nftest.Flow {
	t.Helper()
	var w nftest.Flow
	for _, v := range values {
		b := v.Value.([]byte)
		switch {
		case nftest.SetCommon(&w, v.Type, b):
		case v.Type == ie.FlowStartMilliseconds:
			w.StartMs = int64(nftest.Num(b))
		case v.Type == ie.FlowEndMilliseconds:
			w.EndMs = int64(nftest.Num(b))
		case v.Type == ie.FirewallEvent:
			w.FwEvt = uint8(nftest.Num(b))
		default:
			t.Fatalf("unexpected field type %d", v.Type)
		}
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
		{"samples", Config{ObservationDomain: 7, InterfaceNames: true}, samples()},
		{"samples without names", Config{ObservationDomain: 7}, samples()},
		{"many small MTU", Config{ObservationDomain: 1, MTU: MinMTU, InterfaceNames: true}, many(500, t0-3600)},
		{"many default MTU", Config{InterfaceNames: true}, many(2000, t0-3600)},
		{"year old", Config{ObservationDomain: 2}, many(100, t0-365*86400)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := encode(t, tc.cfg, tc.recs)
			got := decode(t, finish(t, frames, 1000, now))
			var want []nftest.Flow
			for i := range tc.recs {
				want = append(want, expectFlow(&tc.recs[i]))
			}
			var wantIfs []nftest.Iface
			if tc.cfg.InterfaceNames {
				wantIfs = nftest.ExpectIfaces(tc.recs)
			}
			gotFlows, gotIfs := nftest.AllFlows(got)
			nftest.CheckFlows(t, want, gotFlows)
			nftest.CheckIfaces(t, wantIfs, gotIfs)
			for i, p := range got {
				if p.Hdr.ObservationDomainId != tc.cfg.ObservationDomain {
					t.Errorf("packet %d: observation domain %d", i, p.Hdr.ObservationDomainId)
				}
			}
		})
	}
}

func TestLengthAndSequence(t *testing.T) {
	recs := many(300, t0-600)
	frames := encode(t, Config{ObservationDomain: 9, InterfaceNames: true}, recs)
	if len(frames) < 3 {
		t.Fatalf("%d frames, want several", len(frames))
	}
	base := uint32(math.MaxUint32 - 30) // wraps during the run
	datagrams := finish(t, frames, base, time.Unix(t0, 0))
	got := decode(t, datagrams)
	total := 0
	seq := base
	for i, p := range got {
		f := frames[i]
		n := uint32(len(p.Flows) + len(p.Ifaces))
		if f.Units != n || f.Records != n {
			t.Errorf("frame %d: Units %d Records %d, want %d data records", i, f.Units, f.Records, n)
		}
		if p.Hdr.SequenceNumber != seq {
			t.Errorf("message %d: sequence %d, want %d", i, p.Hdr.SequenceNumber, seq)
		}
		if p.Hdr.ExportTime != uint32(t0) {
			t.Errorf("message %d: export time %d", i, p.Hdr.ExportTime)
		}
		seq += n
		total += len(p.Flows)
	}
	if total != len(recs) {
		t.Errorf("%d flows decoded, want %d", total, len(recs))
	}
}

func TestNamesOff(t *testing.T) {
	recs := many(300, t0)
	frames := encode(t, Config{}, recs)
	got := decode(t, finish(t, frames, 0, time.Unix(t0, 0)))
	for i, p := range got {
		if len(p.Ifaces) != 0 {
			t.Errorf("message %d: %d interface records", i, len(p.Ifaces))
		}
		if f := frames[i]; f.Units != uint32(len(p.Flows)) || f.Records != f.Units {
			t.Errorf("message %d: Units %d Records %d, want %d flows", i, f.Units, f.Records, len(p.Flows))
		}
	}
}

func TestMTUBudget(t *testing.T) {
	for _, mtu := range []int{MinMTU, 512, 1000, DefaultMTU, 1500 - 48, 9000 - 28, MaxMTU} {
		t.Run(fmt.Sprint(mtu), func(t *testing.T) {
			frames := encode(t, Config{MTU: mtu, InterfaceNames: true}, many(3000, t0-7200))
			full := 0
			for i, f := range frames {
				d, err := Finisher{}.Finish(nil, f, 0, time.Unix(t0, 0), true)
				if err != nil {
					t.Fatal(err)
				}
				if len(d) > mtu {
					t.Errorf("frame %d: %d bytes with templates, budget %d", i, len(d), mtu)
				}
				if len(d) > mtu-RecordLenInterface-RecordLenIPv6-8 {
					full++
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

func TestSets(t *testing.T) {
	frames := encode(t, Config{InterfaceNames: true}, samples()[:2])
	d, err := Finisher{}.Finish(nil, frames[0], 0, time.Unix(t0, 0), true)
	if err != nil {
		t.Fatal(err)
	}
	type set struct{ ID, Len int }
	var sets []set
	for p := d[HeaderLen:]; len(p) > 0; {
		id, n := binary.BigEndian.Uint16(p), int(binary.BigEndian.Uint16(p[2:]))
		if n < 4 || n > len(p) {
			t.Fatalf("set %d: length %d of %d", id, n, len(p))
		}
		sets = append(sets, set{int(id), n})
		p = p[n:]
	}
	want := []set{
		{2, 4 + 2*4 + 4*len(fieldsIPv4) + 4*len(fieldsIPv6)},
		{3, 4 + 6 + 4*len(fieldsInterface)},
		{int(TemplateInterface), 4 + RecordLenInterface},
		{int(TemplateIPv4), 4 + RecordLenIPv4},
		{int(TemplateIPv6), 4 + RecordLenIPv6},
	}
	if diff := cmp.Diff(want, sets); diff != "" {
		t.Errorf("sets (-want +got):\n%s", diff)
	}
}

func TestTimes(t *testing.T) {
	day := int64(86400)
	for _, tc := range []struct {
		name string
		recs []flow.Record
	}{
		{"recent", many(50, t0-3600)},
		{"year old", many(50, t0-365*day)},
		{"future", many(50, t0+3600)},
		{"60-day span", []flow.Record{
			rec("10.0.0.1", "10.0.0.2", t0-60*day, t0-60*day+10, nil),
			rec("10.0.0.1", "10.0.0.3", t0-30*day, t0-30*day+10, nil),
			rec("10.0.0.1", "10.0.0.4", t0-10, t0, nil),
			rec("10.0.0.1", "10.0.0.5", t0-59*day, t0, nil),
		}},
		{"end before start", []flow.Record{rec("10.0.0.1", "10.0.0.2", t0, t0-100, nil)}},
		{"epoch", []flow.Record{rec("10.0.0.1", "10.0.0.2", 1, 1, nil)}},
		{"far future", []flow.Record{rec("10.0.0.1", "10.0.0.2", maxSeconds-5, maxSeconds, nil)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := encode(t, Config{}, tc.recs)
			got := decode(t, finish(t, frames, 0, time.Unix(t0, 0)))
			var want []nftest.Flow
			for i := range tc.recs {
				want = append(want, expectFlow(&tc.recs[i]))
			}
			gotFlows, _ := nftest.AllFlows(got)
			nftest.CheckFlows(t, want, gotFlows)
		})
	}
}

func TestExportNow(t *testing.T) {
	frames := encode(t, Config{}, samples())
	got := decode(t, finish(t, frames, 0, time.Unix(t0, 999_000_000)))
	if got[0].Hdr.ExportTime != uint32(t0) {
		t.Errorf("export time %d, want %d", got[0].Hdr.ExportTime, t0)
	}
}

func TestUnsupported(t *testing.T) {
	nftest.Unsupported(t, newEnc(Config{InterfaceNames: true}), ErrAddress, ErrTimeRange, maxSeconds)
}

func TestFinishErrors(t *testing.T) {
	good := encode(t, Config{}, samples())[0]
	short := bytes.Clone(good.Data)
	short = short[:len(short)-1]
	big := make([]byte, MaxMTU)
	binary.BigEndian.PutUint16(big, Version)
	binary.BigEndian.PutUint16(big[2:], MaxMTU)
	for _, tc := range []struct {
		name string
		d    []byte
		now  time.Time
		tmpl bool
	}{
		{"empty", nil, time.Unix(t0, 0), false},
		{"v9", append([]byte{0, 9}, make([]byte, 18)...), time.Unix(t0, 0), false},
		{"length", short, time.Unix(t0, 0), false},
		{"too big", big, time.Unix(t0, 0), true},
		{"before 1970", good.Data, time.Unix(-1, 0), false},
		{"after 2106", good.Data, time.Unix(1<<32, 0), false},
	} {
		if _, err := (Finisher{}).Finish(nil, netflow.Frame{Data: tc.d}, 0, tc.now, tc.tmpl); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: %v, want ErrFrame", tc.name, err)
		}
	}
}

func TestFinishKeepsFrame(t *testing.T) {
	nftest.FinishKeepsFrame(t, Finisher{}, encode(t, Config{ObservationDomain: 3}, samples())[0], TemplatesLen)
}

func TestDeterministic(t *testing.T) {
	a := encode(t, Config{}, many(500, t0))
	b := encode(t, Config{}, many(500, t0))
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("frames differ (-first +second):\n%s", diff)
	}
}

// TestGolden pins the wire format: samples() staged and finished (sequence
// 100, +Units per message, templates on the first), one hex datagram a line.
func TestGolden(t *testing.T) {
	frames := encode(t, Config{ObservationDomain: 7, InterfaceNames: true}, samples())
	nftest.Golden(t, "samples.golden", finish(t, frames, 100, time.Unix(t0, 0)), *update)
}

func TestAllocs(t *testing.T) {
	recs := many(1000, t0)
	nftest.Allocs(t, newEnc(Config{InterfaceNames: true}), Finisher{}, recs, encode(t, Config{}, recs))
}

func BenchmarkEncode(b *testing.B) {
	recs := many(4096, t0)
	enc, err := NewEncoder(Config{InterfaceNames: true}, func(netflow.Frame) error { return nil })
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
