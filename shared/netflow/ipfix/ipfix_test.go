package ipfix

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
	Dir, Fwd, FwEvt  uint8
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
		Dir: ie.Direction(r.Direction), Fwd: ie.Forwarding(r.Action), FwEvt: ie.Firewall(r.Action),
		Sampling: 1,
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
	hdr    gf.IPFIXPacket
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
		if p10.Version != Version || int(p10.Length) != len(d) {
			t.Fatalf("datagram %d: version %d length %d of %d", i, p10.Version, p10.Length, len(d))
		}
		dp := decodedPacket{hdr: p10, sets: len(p10.FlowSets)}
		dp.hdr.FlowSets = nil
		for _, fs := range p10.FlowSets {
			switch fs := fs.(type) {
			case gf.DataFlowSet:
				for _, r := range fs.Records {
					dp.flows = append(dp.flows, flowOf(t, r.Values))
				}
			case gf.OptionsDataFlowSet:
				for _, r := range fs.Records {
					dp.ifaces = append(dp.ifaces, ifaceOf(t, r))
				}
			case gf.TemplateFlowSet, gf.IPFIXOptionsTemplateFlowSet:
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

func flowOf(t testing.TB, values []gf.DataField) wantFlow {
	t.Helper()
	var w wantFlow
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
		case ie.FlowStartMilliseconds:
			w.StartMs = int64(num(b))
		case ie.FlowEndMilliseconds:
			w.EndMs = int64(num(b))
		case ie.FirewallEvent:
			w.FwEvt = uint8(num(b))
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
	return w
}

func ifaceOf(t testing.TB, r gf.OptionsDataRecord) wantIface {
	t.Helper()
	var w wantIface
	for _, v := range r.ScopesValues {
		if v.Type != ie.IngressInterface {
			t.Fatalf("scope type %d", v.Type)
		}
		w.IfIndex = uint32(num(v.Value.([]byte)))
	}
	for _, v := range r.OptionsValues {
		b := v.Value.([]byte)
		if b[len(b)-1] != 0 {
			t.Errorf("option %d not NUL-terminated: %q", v.Type, b)
		}
		s := string(bytes.TrimRight(b, "\x00"))
		switch v.Type {
		case ie.InterfaceName:
			w.Name = s
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
		{"samples", Config{ObservationDomain: 7, InterfaceNames: true}, samples()},
		{"samples without names", Config{ObservationDomain: 7}, samples()},
		{"many small MTU", Config{ObservationDomain: 1, MTU: MinMTU, InterfaceNames: true}, many(500, t0-3600)},
		{"many default MTU", Config{InterfaceNames: true}, many(2000, t0-3600)},
		{"year old", Config{ObservationDomain: 2}, many(100, t0-365*86400)},
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
				if tc.cfg.InterfaceNames && r.InterfaceID != "" && !seen[r.InterfaceID] {
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
				if p.hdr.ObservationDomainId != tc.cfg.ObservationDomain {
					t.Errorf("packet %d: observation domain %d", i, p.hdr.ObservationDomainId)
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
		n := uint32(len(p.flows) + len(p.ifaces))
		if f.Units != n || f.Records != n {
			t.Errorf("frame %d: Units %d Records %d, want %d data records", i, f.Units, f.Records, n)
		}
		if p.hdr.SequenceNumber != seq {
			t.Errorf("message %d: sequence %d, want %d", i, p.hdr.SequenceNumber, seq)
		}
		if p.hdr.ExportTime != uint32(t0) {
			t.Errorf("message %d: export time %d", i, p.hdr.ExportTime)
		}
		seq += n
		total += len(p.flows)
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
		if len(p.ifaces) != 0 {
			t.Errorf("message %d: %d interface records", i, len(p.ifaces))
		}
		if f := frames[i]; f.Units != uint32(len(p.flows)) || f.Records != f.Units {
			t.Errorf("message %d: Units %d Records %d, want %d flows", i, f.Units, f.Records, len(p.flows))
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
		{"epoch", []flow.Record{rec("10.0.0.1", "10.0.0.2", 0, 0, nil)}},
		{"far future", []flow.Record{rec("10.0.0.1", "10.0.0.2", maxSeconds-5, maxSeconds, nil)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := encode(t, Config{}, tc.recs)
			got := decode(t, finish(t, frames, 0, time.Unix(t0, 0)))
			var want []wantFlow
			for i := range tc.recs {
				want = append(want, expectFlow(&tc.recs[i]))
			}
			gotFlows, _ := allFlows(got)
			if diff := cmp.Diff(sortFlows(want), sortFlows(gotFlows)); diff != "" {
				t.Errorf("flows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExportNow(t *testing.T) {
	frames := encode(t, Config{}, samples())
	got := decode(t, finish(t, frames, 0, time.Unix(t0, 999_000_000)))
	if got[0].hdr.ExportTime != uint32(t0) {
		t.Errorf("export time %d, want %d", got[0].hdr.ExportTime, t0)
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
		enc, err := NewEncoder(Config{InterfaceNames: true}, func(netflow.Frame) error { frames++; return nil })
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
	frames := encode(t, Config{ObservationDomain: 3}, samples())
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
// 100, +Units per message, templates on the first), one hex datagram a line.
func TestGolden(t *testing.T) {
	frames := encode(t, Config{ObservationDomain: 7, InterfaceNames: true}, samples())
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
	enc, err := NewEncoder(Config{InterfaceNames: true}, func(netflow.Frame) error { return nil })
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
