// Package nftest holds the test support that the NetFlow v9 (nfv9) and
// IPFIX (ipfix) test suites share: sample records, the flows a collector
// should decode from them, goflow2 decoding, comparisons, golden files and
// fuzz record construction. Only _test files import it.
package nftest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
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

// T0 is a fixed "recent" time for the samples.
var T0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC).Unix()

// Rec returns a TCP flow from src to dst over [start, end] on an ENI, with
// mod applied; IfIndex follows the (modified) InterfaceID.
func Rec(src, dst string, start, end int64, mod func(*flow.Record)) flow.Record {
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

// Samples covers IPv4 and IPv6, both actions and directions, missing
// fields, 64-bit counters and extreme values.
func Samples() []flow.Record {
	return []flow.Record{
		Rec("10.0.0.1", "10.0.1.2", T0-60, T0-5, nil),
		Rec("2001:db8::1", "2001:db8::2", T0-58, T0-2, func(r *flow.Record) {
			r.Protocol, r.SrcPort, r.DstPort, r.TCPFlags = 17, 53000, 53, 0
			r.Action, r.Direction = flow.ActionReject, flow.DirectionEgress
		}),
		Rec("10.0.0.3", "192.0.2.4", T0-50, T0-50, func(r *flow.Record) {
			r.Bytes, r.Packets = 1<<40+123, 1<<33+7
		}),
		Rec("10.0.0.4", "192.0.2.5", T0-40, T0-1, func(r *flow.Record) {
			r.Action, r.Direction = flow.ActionUnknown, flow.DirectionUnknown
			r.InterfaceID, r.AccountID, r.VPCID, r.SubnetID, r.InstanceID = "", "", "", "", ""
		}),
		Rec("10.0.0.5", "10.0.0.6", T0-30, T0-20, func(r *flow.Record) {
			r.Protocol, r.SrcPort, r.DstPort, r.TCPFlags = 1, 0, 0x0800, 0
			r.InterfaceID, r.InstanceID = "eni-0fedcba9876543210", ""
		}),
		Rec("2001:db8::ffff", "::1", T0-20, T0-10, func(r *flow.Record) {
			r.SrcPort, r.DstPort, r.Protocol, r.TCPFlags = 65535, 65535, 255, 0xFF
			r.Packets, r.Bytes = math.MaxUint64, math.MaxUint64
			r.Action = flow.ActionReject
		}),
		Rec("0.0.0.0", "255.255.255.255", T0-10, T0, func(r *flow.Record) {
			r.Packets, r.Bytes = 0, 0
			r.Direction = flow.DirectionEgress
		}),
	}
}

// Many returns n records from start on, one a second, alternating IPv4 and
// IPv6 and cycling through 5 ENIs.
func Many(n int, start int64) []flow.Record {
	recs := make([]flow.Record, n)
	for i := range recs {
		src, dst := fmt.Sprintf("10.%d.%d.1", i/256%256, i%256), "192.0.2.1"
		if i%3 == 2 {
			src, dst = fmt.Sprintf("2001:db8::%x", i), "2001:db8:ffff::1"
		}
		recs[i] = Rec(src, dst, start+int64(i), start+int64(i)+30, func(r *flow.Record) {
			r.InterfaceID = fmt.Sprintf("eni-%017x", i%5)
			r.SrcPort = uint16(i)
			r.Bytes, r.Packets = uint64(i)*1000+1, uint64(i)+1
			r.Action = flow.Action(i % 3)
			r.Direction = flow.Direction(i % 3)
		})
	}
	return recs
}

// Flow is a flow as a collector decodes it. FwEvt (firewallEvent) is
// IPFIX only: it stays 0 for NetFlow v9.
type Flow struct {
	Src, Dst         string
	SrcPort, DstPort uint16
	Proto, Flags     uint8
	In, Out          uint32
	Bytes, Packets   uint64
	StartMs, EndMs   int64
	Dir, Fwd, FwEvt  uint8
	Sampling         uint32
}

// Iface is an interface-name options record as a collector decodes it.
type Iface struct {
	IfIndex uint32
	Name    string
}

// BadTime reports whether r's times break the shared rule
// (flow.NormalizeTimes), so that every encoder must reject it.
func BadTime(r *flow.Record) bool {
	_, _, err := flow.NormalizeTimes(r.Start, r.End)
	return err != nil
}

// ExpectFlow is the flow a collector should decode for r, FwEvt left 0;
// its times follow flow.NormalizeTimes.
func ExpectFlow(r *flow.Record) Flow {
	start, end, _ := flow.NormalizeTimes(r.Start, r.End)
	return Flow{
		Src: r.SrcAddr.String(), Dst: r.DstAddr.String(),
		SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Protocol, Flags: r.TCPFlags,
		In: r.InputIf(), Out: r.OutputIf(), Bytes: r.Bytes, Packets: r.Packets,
		StartMs: start * 1000, EndMs: end * 1000,
		Dir: ie.Direction(r.Direction), Fwd: ie.Forwarding(r.Action), Sampling: 1,
	}
}

// ExpectIfaces is the interface-name records an encoder should send for
// recs: one per ENI, the first time it appears, the name truncated to
// ie.InterfaceNameLen-1 bytes.
func ExpectIfaces(recs []flow.Record) []Iface {
	var out []Iface
	seen := map[string]bool{}
	for i := range recs {
		r := &recs[i]
		if r.InterfaceID == "" || seen[r.InterfaceID] {
			continue
		}
		seen[r.InterfaceID] = true
		name := r.InterfaceID
		if len(name) > ie.InterfaceNameLen-1 {
			name = name[:ie.InterfaceNameLen-1]
		}
		out = append(out, Iface{IfIndex: r.IfIndex, Name: name})
	}
	return out
}

// NewEncoder returns an encoder that hands its frames to emit.
type NewEncoder func(emit netflow.Emit) (netflow.Encoder, error)

// Recorder keeps copies of the frames an encoder emits.
type Recorder struct {
	Frames []netflow.Frame
}

// Emit is a netflow.Emit that appends a copy of f to r.Frames.
func (r *Recorder) Emit(f netflow.Frame) error {
	f.Data = bytes.Clone(f.Data)
	r.Frames = append(r.Frames, f)
	return nil
}

// Encode stages recs and returns copies of the frames.
func Encode(t testing.TB, newEnc NewEncoder, recs []flow.Record) []netflow.Frame {
	t.Helper()
	var rec Recorder
	enc, err := newEnc(rec.Emit)
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
	return rec.Frames
}

// Finish stamps frames with consecutive sequence numbers from base
// (+Units each), templates on the first only.
func Finish(t testing.TB, fin netflow.Finisher, frames []netflow.Frame, base uint32, now time.Time) [][]byte {
	t.Helper()
	var out [][]byte
	seq := base
	for i, f := range frames {
		d, err := fin.Finish(nil, f, seq, now, i == 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
		seq += f.Units
	}
	return out
}

// Packet is a datagram as goflow2 decodes it: its header H (FlowSets
// cleared), its flows and interface-name records, and its number of
// (Flow)Sets.
type Packet[H any] struct {
	Hdr    H
	Flows  []Flow
	Ifaces []Iface
	Sets   int
}

// Decoder decodes the datagrams of one protocol with goflow2.
type Decoder[H any] struct {
	// Header returns the header of datagram i (d), its FlowSets cleared,
	// and its flow sets, from the packets goflow2 decoded.
	Header func(t testing.TB, i int, d []byte, p9 gf.NFv9Packet, p10 gf.IPFIXPacket) (H, []any)
	// OptionsTemplate is the options template flow set type of the
	// protocol (its zero value).
	OptionsTemplate any
	// Flow decodes a data record of packet h.
	Flow func(t testing.TB, h H, values []gf.DataField) Flow
	// Iface decodes an options data record.
	Iface func(t testing.TB, r gf.OptionsDataRecord) Iface
}

// Decode decodes datagrams with goflow2, in order, with one template
// system.
func (dec Decoder[H]) Decode(t testing.TB, datagrams [][]byte) []Packet[H] {
	t.Helper()
	ts := gf.CreateTemplateSystem()
	optTmpl := reflect.TypeOf(dec.OptionsTemplate)
	var out []Packet[H]
	for i, d := range datagrams {
		var p9 gf.NFv9Packet
		var p10 gf.IPFIXPacket
		if err := gf.DecodeMessageVersion(bytes.NewBuffer(d), ts, &p9, &p10); err != nil {
			t.Fatalf("datagram %d: goflow2: %v", i, err)
		}
		hdr, sets := dec.Header(t, i, d, p9, p10)
		p := Packet[H]{Hdr: hdr, Sets: len(sets)}
		for _, fs := range sets {
			switch fs := fs.(type) {
			case gf.DataFlowSet:
				for _, r := range fs.Records {
					p.Flows = append(p.Flows, dec.Flow(t, hdr, r.Values))
				}
			case gf.OptionsDataFlowSet:
				for _, r := range fs.Records {
					p.Ifaces = append(p.Ifaces, dec.Iface(t, r))
				}
			case gf.TemplateFlowSet:
			default:
				if reflect.TypeOf(fs) != optTmpl {
					t.Fatalf("datagram %d: undecoded flowset %T", i, fs)
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// Num is the big-endian unsigned value of b.
func Num(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// SetCommon sets the field of w that element typ with value b carries, for
// the elements that NetFlow v9 and IPFIX both send with the same meaning
// and encoding. It reports false for any other element.
func SetCommon(w *Flow, typ uint16, b []byte) bool {
	switch typ {
	case ie.SourceIPv4Address, ie.SourceIPv6Address:
		a, _ := netip.AddrFromSlice(b)
		w.Src = a.String()
	case ie.DestinationIPv4Address, ie.DestinationIPv6Address:
		a, _ := netip.AddrFromSlice(b)
		w.Dst = a.String()
	case ie.SourceTransportPort:
		w.SrcPort = uint16(Num(b))
	case ie.DestinationTransportPort:
		w.DstPort = uint16(Num(b))
	case ie.ProtocolIdentifier:
		w.Proto = uint8(Num(b))
	case ie.TCPControlBits:
		w.Flags = uint8(Num(b))
	case ie.IngressInterface:
		w.In = uint32(Num(b))
	case ie.EgressInterface:
		w.Out = uint32(Num(b))
	case ie.OctetDeltaCount:
		w.Bytes = Num(b)
	case ie.PacketDeltaCount:
		w.Packets = Num(b)
	case ie.FlowDirection:
		w.Dir = uint8(Num(b))
	case ie.ForwardingStatus:
		w.Fwd = uint8(Num(b))
	case ie.SamplingInterval:
		w.Sampling = uint32(Num(b))
	default:
		return false
	}
	return true
}

// IfaceOf decodes an interface-name options record whose scope is element
// scope. With inputSNMP the record also carries ingressInterface
// (INPUT_SNMP), which must equal the scope.
func IfaceOf(t testing.TB, r gf.OptionsDataRecord, scope uint16, inputSNMP bool) Iface {
	t.Helper()
	var w Iface
	for _, v := range r.ScopesValues {
		if v.Type != scope {
			t.Fatalf("scope type %d", v.Type)
		}
		w.IfIndex = uint32(Num(v.Value.([]byte)))
	}
	for _, v := range r.OptionsValues {
		b := v.Value.([]byte)
		switch {
		case v.Type == ie.InterfaceName:
			if b[len(b)-1] != 0 {
				t.Errorf("option %d not NUL-terminated: %q", v.Type, b)
			}
			w.Name = string(bytes.TrimRight(b, "\x00"))
		case v.Type == ie.IngressInterface && inputSNMP:
			if n := uint32(Num(b)); n != w.IfIndex {
				t.Errorf("INPUT_SNMP %d, scope %d", n, w.IfIndex)
			}
		default:
			t.Fatalf("option type %d", v.Type)
		}
	}
	return w
}

// SortFlows returns fs sorted by all fields: records of one packet are
// grouped by address family on the wire.
func SortFlows(fs []Flow) []Flow {
	type keyed struct {
		key string
		f   Flow
	}
	ks := make([]keyed, len(fs))
	for i, f := range fs {
		ks[i] = keyed{fmt.Sprint(f), f}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
	out := make([]Flow, len(fs))
	for i, k := range ks {
		out[i] = k.f
	}
	return out
}

// AllFlows gathers the flows and the interface records of ps.
func AllFlows[H any](ps []Packet[H]) (fl []Flow, ifs []Iface) {
	for _, p := range ps {
		fl = append(fl, p.Flows...)
		ifs = append(ifs, p.Ifaces...)
	}
	return fl, ifs
}

// CheckFlows reports the difference between the flows want and got, in
// any order.
func CheckFlows(t testing.TB, want, got []Flow) {
	t.Helper()
	if diff := cmp.Diff(SortFlows(want), SortFlows(got)); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
}

// CheckIfaces reports the difference between the interface records want
// and got, in order.
func CheckIfaces(t testing.TB, want, got []Iface) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("interfaces (-want +got):\n%s", diff)
	}
}

// Golden compares datagrams, one hex datagram a line, with the golden file
// testdata/name, which it rewrites first when update is set.
func Golden(t testing.TB, name string, datagrams [][]byte, update bool) {
	t.Helper()
	var sb strings.Builder
	for _, d := range datagrams {
		sb.WriteString(hex.EncodeToString(d))
		sb.WriteByte('\n')
	}
	path := filepath.Join("testdata", name)
	if update {
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

// Unsupported checks that an encoder refuses, with the wanted error
// (wrapping netflow.ErrUnsupported) and without emitting anything, records
// with mixed or IPv4-mapped addresses (errAddress) and records with a time
// below 0 or above maxSeconds (errTimeRange).
func Unsupported(t *testing.T, newEnc NewEncoder, errAddress, errTimeRange error, maxSeconds int64) {
	t.Helper()
	for _, tc := range []struct {
		r    flow.Record
		want error
	}{
		{Rec("10.0.0.1", "2001:db8::1", T0, T0, nil), errAddress},
		{Rec("::ffff:10.0.0.1", "::ffff:10.0.0.2", T0, T0, nil), errAddress},
		{flow.Record{Start: T0, End: T0}, errAddress},
		{Rec("10.0.0.1", "10.0.0.2", -1, T0, nil), errTimeRange},
		{Rec("10.0.0.1", "10.0.0.2", T0, -1, nil), errTimeRange},
		{Rec("10.0.0.1", "10.0.0.2", T0, maxSeconds+1, nil), errTimeRange},
		{Rec("10.0.0.1", "10.0.0.2", 0, 0, nil), errTimeRange},                           // no time at all
		{Rec("10.0.0.1", "10.0.0.2", 99_999_999_999, 99_999_999_999, nil), errTimeRange}, // year 5138
	} {
		var frames int
		enc, err := newEnc(func(netflow.Frame) error { frames++; return nil })
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

// FinishKeepsFrame checks that fin.Finish with templates appends to dst
// templatesLen bytes more than frame holds, and leaves frame alone.
func FinishKeepsFrame(t *testing.T, fin netflow.Finisher, frame netflow.Frame, templatesLen int) {
	t.Helper()
	orig := bytes.Clone(frame.Data)
	dst := []byte("prefix")
	d, err := fin.Finish(dst, frame, 42, time.Unix(T0, 0), true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(frame.Data, orig) {
		t.Error("Finish modified the frame")
	}
	if !bytes.HasPrefix(d, []byte("prefix")) {
		t.Error("Finish did not append to dst")
	}
	if got, want := len(d)-len("prefix"), len(orig)+templatesLen; got != want {
		t.Errorf("%d bytes, want %d", got, want)
	}
}

// FuzzRecLen is the number of fuzz bytes that make one record.
const FuzzRecLen = 64

// FuzzSeed is a seed of three records for FuzzRecords.
func FuzzSeed() []byte {
	seed := make([]byte, 3*FuzzRecLen)
	for i := range seed {
		seed[i] = byte(i * 7)
	}
	return seed
}

// FuzzRecords turns data into at most 200 records, FuzzRecLen bytes each:
// kind, src[16], dst[16], ports[4], proto, flags, packets[8], bytes[8],
// start[4], duration[4], eni.
func FuzzRecords(data []byte) []flow.Record {
	be := binary.BigEndian
	var recs []flow.Record
	for ; len(data) >= FuzzRecLen && len(recs) < 200; data = data[FuzzRecLen:] {
		b := data[:FuzzRecLen]
		kind := b[0]
		r := flow.Record{
			SrcPort: be.Uint16(b[33:]), DstPort: be.Uint16(b[35:]),
			Protocol: b[37], TCPFlags: b[38],
			Packets: be.Uint64(b[39:]), Bytes: be.Uint64(b[47:]),
			Start:     int64(be.Uint32(b[55:])),
			Action:    flow.Action(kind >> 1 % 4),
			Direction: flow.Direction(kind >> 3 % 4),
			Line:      int64(len(recs) + 1),
		}
		r.End = r.Start + int64(int32(be.Uint32(b[59:])))
		switch kind & 1 {
		case 0:
			r.SrcAddr, r.DstAddr = netip.AddrFrom4([4]byte(b[1:5])), netip.AddrFrom4([4]byte(b[17:21]))
		case 1:
			r.SrcAddr, r.DstAddr = netip.AddrFrom16([16]byte(b[1:17])), netip.AddrFrom16([16]byte(b[17:33]))
		}
		if kind&0x20 != 0 { // mixed families: unsupported
			r.DstAddr = netip.AddrFrom16([16]byte(b[17:33]))
		}
		if kind&0x40 != 0 { // negative times: unsupported
			r.Start = -r.Start
		}
		if e := b[63]; e%4 != 0 {
			r.InterfaceID = fmt.Sprintf("eni-%017x", e)
			if e%4 == 3 {
				r.InterfaceID += strings.Repeat("x", int(e)%40) // long names are truncated
			}
			r.IfIndex = flow.IfIndex(r.InterfaceID)
		}
		recs = append(recs, r)
	}
	return recs
}

// FuzzAdd adds r to enc and reports whether enc took it. It fails t unless
// enc took a record it can carry, or refused one with mixed address
// families with errAddress or one with badTime with errTimeRange.
func FuzzAdd(t *testing.T, enc netflow.Encoder, r flow.Record, badTime bool, errAddress, errTimeRange error) bool {
	t.Helper()
	err := enc.Add(&r)
	mixed := r.SrcAddr.Is4() != r.DstAddr.Is4()
	switch {
	case mixed && errors.Is(err, errAddress), !mixed && badTime && errors.Is(err, errTimeRange):
		return false
	case err != nil || mixed || badTime:
		t.Fatalf("Add(%+v) = %v", r, err)
	}
	return true
}

// Allocs checks that, once warmed up, the encoder from newEnc adds recs and
// flushes, and fin finishes frames (templates included), without
// allocating.
func Allocs(t *testing.T, newEnc NewEncoder, fin netflow.Finisher, recs []flow.Record, frames []netflow.Frame) {
	t.Helper()
	enc, err := newEnc(func(netflow.Frame) error { return nil })
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
		t.Errorf("%v allocations per %d records", allocs, len(recs))
	}
	var dst []byte
	allocs = testing.AllocsPerRun(10, func() {
		for _, f := range frames {
			dst, _ = fin.Finish(dst[:0], f, 1, time.Unix(T0, 0), true)
		}
	})
	if allocs != 0 {
		t.Errorf("Finish: %v allocations", allocs)
	}
}
