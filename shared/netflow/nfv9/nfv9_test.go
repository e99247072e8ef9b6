package nfv9

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	gf "github.com/netsampler/goflow2/v2/decoders/netflow"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/ie"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// t0 is a fixed "recent" time for the samples.
var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC).Unix()

func rec(src, dst string, start, end int64, mod func(*flow.Record)) flow.Record {
	r := flow.Record{
		SrcAddr: netip.MustParseAddr(src), DstAddr: netip.MustParseAddr(dst),
		SrcPort: 40000, DstPort: 443, Protocol: 6, TCPFlags: 0x13,
		Packets: 10, Bytes: 1500, Start: start, End: end,
		Action: flow.ActionAccept, Direction: flow.DirectionIngress,
		InterfaceID: "eni-0123456789abcdef0", AccountID: "123456789012",
		VPCID: "vpc-0a1b2c3d4e5f60718", SubnetID: "subnet-0f1e2d3c4b5a69788", InstanceID: "i-0abcdef1234567890",
	}
	if mod != nil {
		mod(&r)
	}
	r.IfIndex = flow.IfIndex(r.InterfaceID)
	return r
}

// samples covers IPv4 and IPv6, both actions and directions, missing
// fields, 64-bit counters and extreme values.
func samples() []flow.Record {
	return []flow.Record{
		rec("10.0.0.1", "10.0.1.2", t0-60, t0-5, nil),
		rec("2001:db8::1", "2001:db8::2", t0-58, t0-2, func(r *flow.Record) {
			r.Protocol, r.SrcPort, r.DstPort, r.TCPFlags = 17, 53000, 53, 0
			r.Action, r.Direction = flow.ActionReject, flow.DirectionEgress
		}),
		rec("10.0.0.3", "192.0.2.4", t0-50, t0-50, func(r *flow.Record) {
			r.Bytes, r.Packets = 1<<40+123, 1<<33+7
		}),
		rec("10.0.0.4", "192.0.2.5", t0-40, t0-1, func(r *flow.Record) {
			r.Action, r.Direction = flow.ActionUnknown, flow.DirectionUnknown
			r.InterfaceID, r.AccountID, r.VPCID, r.SubnetID, r.InstanceID = "", "", "", "", ""
		}),
		rec("10.0.0.5", "10.0.0.6", t0-30, t0-20, func(r *flow.Record) {
			r.Protocol, r.SrcPort, r.DstPort, r.TCPFlags = 1, 0, 0x0800, 0
			r.InterfaceID, r.InstanceID = "eni-0fedcba9876543210", ""
		}),
		rec("2001:db8::ffff", "::1", t0-20, t0-10, func(r *flow.Record) {
			r.SrcPort, r.DstPort, r.Protocol, r.TCPFlags = 65535, 65535, 255, 0xFF
			r.Packets, r.Bytes = math.MaxUint64, math.MaxUint64
			r.Action = flow.ActionReject
		}),
		rec("0.0.0.0", "255.255.255.255", t0-10, t0, func(r *flow.Record) {
			r.Packets, r.Bytes = 0, 0
			r.Direction = flow.DirectionEgress
		}),
	}
}

// wantFlow is a flow as a collector decodes it.
type wantFlow struct {
	Src, Dst         string
	SrcPort, DstPort uint16
	Proto, Flags     uint8
	In, Out          uint32
	Bytes, Packets   uint64
	StartMs, EndMs   int64
	Dir, Fwd         uint8
	Sampling         uint32
}

type wantIface struct {
	IfIndex uint32
	Name    string
}

func expectFlow(r *flow.Record) wantFlow {
	return wantFlow{
		Src: r.SrcAddr.String(), Dst: r.DstAddr.String(),
		SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Protocol, Flags: r.TCPFlags,
		In: r.InputIf(), Out: r.OutputIf(), Bytes: r.Bytes, Packets: r.Packets,
		StartMs: r.Start * 1000, EndMs: r.End * 1000,
		Dir: ie.Direction(r.Direction), Fwd: ie.Forwarding(r.Action), Sampling: 1,
	}
}

func expectIface(r *flow.Record) wantIface {
	return wantIface{IfIndex: r.IfIndex, Name: r.InterfaceID}
}

// encode stages recs and returns copies of the frames.
func encode(t testing.TB, cfg Config, recs []flow.Record) []netflow.Frame {
	t.Helper()
	var frames []netflow.Frame
	enc, err := NewEncoder(cfg, func(f netflow.Frame) error {
		f.Data = bytes.Clone(f.Data)
		frames = append(frames, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := enc.Add(&recs[i]); err != nil {
			t.Fatalf("Add(%+v): %v", recs[i], err)
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	return frames
}

// finish stamps frames with consecutive sequence numbers from base
// (+Units each), templates on the first only.
func finish(t testing.TB, frames []netflow.Frame, base uint32, now time.Time) [][]byte {
	t.Helper()
	var out [][]byte
	seq := base
	for i, f := range frames {
		d, err := Finisher{}.Finish(nil, f, seq, now, i == 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
		seq += f.Units
	}
	return out
}

type decodedPacket struct {
	hdr    gf.NFv9Packet
	flows  []wantFlow
	ifaces []wantIface
	sets   int
}

// decode decodes datagrams with goflow2, in order, with one template
// system, and computes absolute times as goflow2 and nfdump do.
func decode(t testing.TB, datagrams [][]byte) []decodedPacket {
	t.Helper()
	ts := gf.CreateTemplateSystem()
	var out []decodedPacket
	for i, d := range datagrams {
		var p9 gf.NFv9Packet
		var p10 gf.IPFIXPacket
		if err := gf.DecodeMessageVersion(bytes.NewBuffer(d), ts, &p9, &p10); err != nil {
			t.Fatalf("datagram %d: goflow2: %v", i, err)
		}
		dp := decodedPacket{hdr: p9, sets: len(p9.FlowSets)}
		dp.hdr.FlowSets = nil
		for _, fs := range p9.FlowSets {
			switch fs := fs.(type) {
			case gf.DataFlowSet:
				for _, r := range fs.Records {
					dp.flows = append(dp.flows, flowOf(t, p9, r.Values))
				}
			case gf.OptionsDataFlowSet:
				for _, r := range fs.Records {
					dp.ifaces = append(dp.ifaces, ifaceOf(t, r))
				}
			case gf.TemplateFlowSet, gf.NFv9OptionsTemplateFlowSet:
			default:
				t.Fatalf("datagram %d: undecoded flowset %T", i, fs)
			}
		}
		out = append(out, dp)
	}
	return out
}

func num(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

func flowOf(t testing.TB, p gf.NFv9Packet, values []gf.DataField) wantFlow {
	t.Helper()
	var w wantFlow
	var first, last uint32
	for _, v := range values {
		b := v.Value.([]byte)
		switch v.Type {
		case ie.SourceIPv4Address, ie.SourceIPv6Address:
			a, _ := netip.AddrFromSlice(b)
			w.Src = a.String()
		case ie.DestinationIPv4Address, ie.DestinationIPv6Address:
			a, _ := netip.AddrFromSlice(b)
			w.Dst = a.String()
		case ie.SourceTransportPort:
			w.SrcPort = uint16(num(b))
		case ie.DestinationTransportPort:
			w.DstPort = uint16(num(b))
		case ie.ProtocolIdentifier:
			w.Proto = uint8(num(b))
		case ie.TCPControlBits:
			w.Flags = uint8(num(b))
		case ie.IngressInterface:
			w.In = uint32(num(b))
		case ie.EgressInterface:
			w.Out = uint32(num(b))
		case ie.OctetDeltaCount:
			w.Bytes = num(b)
		case ie.PacketDeltaCount:
			w.Packets = num(b)
		case ie.FlowStartSysUpTime:
			first = uint32(num(b))
		case ie.FlowEndSysUpTime:
			last = uint32(num(b))
		case ie.FlowDirection:
			w.Dir = uint8(num(b))
		case ie.ForwardingStatus:
			w.Fwd = uint8(num(b))
		case ie.SamplingInterval:
			w.Sampling = uint32(num(b))
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

func ifaceOf(t testing.TB, r gf.OptionsDataRecord) wantIface {
	t.Helper()
	var w wantIface
	for _, v := range r.ScopesValues {
		if v.Type != ie.ScopeInterface {
			t.Fatalf("scope type %d", v.Type)
		}
		w.IfIndex = uint32(num(v.Value.([]byte)))
	}
	for _, v := range r.OptionsValues {
		b := v.Value.([]byte)
		if v.Type == ie.InterfaceName && b[len(b)-1] != 0 {
			t.Errorf("option %d not NUL-terminated: %q", v.Type, b)
		}
		s := string(bytes.TrimRight(b, "\x00"))
		switch v.Type {
		case ie.InterfaceName:
			w.Name = s
		case ie.IngressInterface:
			if n := uint32(num(b)); n != w.IfIndex {
				t.Errorf("INPUT_SNMP %d, scope %d", n, w.IfIndex)
			}
		default:
			t.Fatalf("option type %d", v.Type)
		}
	}
	return w
}

// sortFlows returns fs sorted by all fields: records of one packet are
// grouped by address family on the wire.
func sortFlows(fs []wantFlow) []wantFlow {
	type keyed struct {
		key string
		f   wantFlow
	}
	ks := make([]keyed, len(fs))
	for i, f := range fs {
		ks[i] = keyed{fmt.Sprint(f), f}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
	out := make([]wantFlow, len(fs))
	for i, k := range ks {
		out[i] = k.f
	}
	return out
}

func allFlows(ps []decodedPacket) (fl []wantFlow, ifs []wantIface) {
	for _, p := range ps {
		fl = append(fl, p.flows...)
		ifs = append(ifs, p.ifaces...)
	}
	return fl, ifs
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
			var want []wantFlow
			var wantIfs []wantIface
			seen := map[string]bool{}
			for i := range tc.recs {
				want = append(want, expectFlow(&tc.recs[i]))
				r := &tc.recs[i]
				if r.InterfaceID != "" && !seen[r.InterfaceID] {
					seen[r.InterfaceID] = true
					wantIfs = append(wantIfs, expectIface(r))
				}
			}
			gotFlows, gotIfs := allFlows(got)
			if diff := cmp.Diff(sortFlows(want), sortFlows(gotFlows)); diff != "" {
				t.Errorf("flows (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantIfs, gotIfs); diff != "" {
				t.Errorf("interfaces (-want +got):\n%s", diff)
			}
			for i, p := range got {
				if p.hdr.SourceId != tc.cfg.SourceID {
					t.Errorf("packet %d: source id %d", i, p.hdr.SourceId)
				}
			}
		})
	}
}

// many returns n records from start on, one a second, alternating IPv4 and
// IPv6 and cycling through 5 ENIs.
func many(n int, start int64) []flow.Record {
	recs := make([]flow.Record, n)
	for i := range recs {
		src, dst := fmt.Sprintf("10.%d.%d.1", i/256%256, i%256), "192.0.2.1"
		if i%3 == 2 {
			src, dst = fmt.Sprintf("2001:db8::%x", i), "2001:db8:ffff::1"
		}
		recs[i] = rec(src, dst, start+int64(i), start+int64(i)+30, func(r *flow.Record) {
			r.InterfaceID = fmt.Sprintf("eni-%017x", i%5)
			r.SrcPort = uint16(i)
			r.Bytes, r.Packets = uint64(i)*1000+1, uint64(i)+1
			r.Action = flow.Action(i % 3)
			r.Direction = flow.Direction(i % 3)
		})
	}
	return recs
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
		if want := uint32(len(p.flows) + len(p.ifaces)); f.Records != want {
			t.Errorf("frame %d: Records %d, want %d", i, f.Records, want)
		}
		wantCount := len(p.flows) + len(p.ifaces)
		if i == 0 {
			wantCount += TemplateRecords
		}
		if int(p.hdr.Count) != wantCount {
			t.Errorf("packet %d: Count %d, want %d records", i, p.hdr.Count, wantCount)
		}
		if int(p.hdr.Count) < p.sets {
			t.Errorf("packet %d: Count %d below %d flowsets", i, p.hdr.Count, p.sets)
		}
		if want := base + uint32(i); p.hdr.SequenceNumber != want {
			t.Errorf("packet %d: sequence %d, want %d", i, p.hdr.SequenceNumber, want)
		}
		total += len(p.flows)
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
		{"epoch", []flow.Record{rec("10.0.0.1", "10.0.0.2", 0, 0, nil), rec("10.0.0.1", "10.0.0.2", 0, 5, nil)}, time.Unix(t0, 0), 1},
		{"2106", []flow.Record{rec("10.0.0.1", "10.0.0.2", maxSeconds-5, maxSeconds, nil)}, time.Unix(t0, 0), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := encode(t, Config{}, tc.recs)
			if len(frames) < tc.packets {
				t.Errorf("%d packets, want at least %d", len(frames), tc.packets)
			}
			got := decode(t, finish(t, frames, 0, tc.now))
			var want []wantFlow
			for i := range tc.recs {
				want = append(want, expectFlow(&tc.recs[i]))
			}
			gotFlows, _ := allFlows(got)
			if diff := cmp.Diff(sortFlows(want), sortFlows(gotFlows)); diff != "" {
				t.Errorf("flows (-want +got):\n%s", diff)
			}
			for i, p := range got {
				if p.hdr.UnixSeconds == uint32(tc.now.Unix()) {
					continue
				}
				// virtual export: at the latest end of the packet
				var maxEnd int64
				for _, f := range p.flows {
					maxEnd = max(maxEnd, f.StartMs, f.EndMs)
				}
				if int64(p.hdr.UnixSeconds)*1000 != maxEnd {
					t.Errorf("packet %d: export %d, neither now nor latest end %d", i, p.hdr.UnixSeconds, maxEnd)
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
	gotFlows, _ := allFlows(got)
	want := []wantFlow{expectFlow(&recs[0]), expectFlow(&recs[1])}
	want[0].EndMs = want[0].StartMs
	want[1].EndMs = want[1].StartMs + MaxDurationSeconds*1000
	if diff := cmp.Diff(sortFlows(want), sortFlows(gotFlows)); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
}

func TestExportNow(t *testing.T) {
	// Recent flows are exported at now (truncated to the second), with
	// sysUptime = now - virtual boot, one second before the earliest start.
	recs := []flow.Record{rec("10.0.0.1", "10.0.0.2", t0-100, t0-50, nil), rec("10.0.0.1", "10.0.0.3", t0-80, t0-10, nil)}
	frames := encode(t, Config{}, recs)
	now := time.Unix(t0, 999_000_000)
	got := decode(t, finish(t, frames, 0, now))
	if got[0].hdr.UnixSeconds != uint32(t0) || got[0].hdr.SystemUptime != 101_000 {
		t.Errorf("unix_secs %d sysUptime %d, want %d 101000", got[0].hdr.UnixSeconds, got[0].hdr.SystemUptime, t0)
	}
}

func TestUnsupported(t *testing.T) {
	for _, tc := range []struct {
		r    flow.Record
		want error
	}{
		{rec("10.0.0.1", "2001:db8::1", t0, t0, nil), ErrAddress},
		{rec("::ffff:10.0.0.1", "::ffff:10.0.0.2", t0, t0, nil), ErrAddress},
		{flow.Record{Start: t0, End: t0}, ErrAddress},
		{rec("10.0.0.1", "10.0.0.2", -1, t0, nil), ErrTimeRange},
		{rec("10.0.0.1", "10.0.0.2", t0, -1, nil), ErrTimeRange},
		{rec("10.0.0.1", "10.0.0.2", t0, maxSeconds+1, nil), ErrTimeRange},
	} {
		var frames int
		enc, err := NewEncoder(Config{}, func(netflow.Frame) error { frames++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		err = enc.Add(&tc.r)
		if !errors.Is(err, tc.want) || !errors.Is(err, netflow.ErrUnsupported) {
			t.Errorf("Add(%v..%v %d..%d): %v, want %v", tc.r.SrcAddr, tc.r.DstAddr, tc.r.Start, tc.r.End, err, tc.want)
		}
		if err := enc.Flush(); err != nil || frames != 0 {
			t.Errorf("Flush after unsupported record: %v, %d frames", err, frames)
		}
	}
}

func TestFinishErrors(t *testing.T) {
	for _, d := range [][]byte{nil, make([]byte, 19), append([]byte{0, 10}, make([]byte, 18)...)} {
		if _, err := (Finisher{}).Finish(nil, netflow.Frame{Data: d}, 0, time.Unix(t0, 0), false); !errors.Is(err, ErrFrame) {
			t.Errorf("Finish(%x): %v, want ErrFrame", d, err)
		}
	}
}

func TestFinishKeepsFrame(t *testing.T) {
	frames := encode(t, Config{SourceID: 3}, samples())
	orig := bytes.Clone(frames[0].Data)
	dst := []byte("prefix")
	d, err := Finisher{}.Finish(dst, frames[0], 42, time.Unix(t0, 0), true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(frames[0].Data, orig) {
		t.Error("Finish modified the frame")
	}
	if !bytes.HasPrefix(d, []byte("prefix")) {
		t.Error("Finish did not append to dst")
	}
	if got, want := len(d)-len("prefix"), len(orig)+TemplatesLen; got != want {
		t.Errorf("%d bytes, want %d", got, want)
	}
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
	var sb strings.Builder
	for _, d := range finish(t, frames, 100, time.Unix(t0, 0)) {
		sb.WriteString(hex.EncodeToString(d))
		sb.WriteByte('\n')
	}
	path := filepath.Join("testdata", "samples.golden")
	if *update {
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), sb.String()); diff != "" {
		t.Errorf("datagrams (-want +got):\n%s", diff)
	}
}

func TestAllocs(t *testing.T) {
	recs := many(1000, t0)
	enc, err := NewEncoder(Config{}, func(netflow.Frame) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs { // warm up: ENIs seen, buffers grown
		_ = enc.Add(&recs[i])
	}
	allocs := testing.AllocsPerRun(10, func() {
		for i := range recs {
			if err := enc.Add(&recs[i]); err != nil {
				t.Fatal(err)
			}
		}
		_ = enc.Flush()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 1000 records", allocs)
	}
	var dst []byte
	frames := encode(t, Config{}, recs)
	allocs = testing.AllocsPerRun(10, func() {
		for _, f := range frames {
			dst, _ = Finisher{}.Finish(dst[:0], f, 1, time.Unix(t0, 0), true)
		}
	})
	if allocs != 0 {
		t.Errorf("Finish: %v allocations", allocs)
	}
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
