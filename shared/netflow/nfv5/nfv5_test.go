package nfv5_test

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/nfv5"
)

// t0 is 2026-01-01T00:00:00Z, the "present" of most tests.
const t0 = 1767225600

const day = 24 * 3600

var testCfg = nfv5.Config{EngineType: 1, EngineID: 7}

// roundTrip encodes recs, finishes the frames from seq0 at now, decodes
// them with goflow2 and compares every field with the input.
func roundTrip(t *testing.T, recs []flow.Record, seq0 uint32, now time.Time) {
	t.Helper()
	frames := mustEncode(t, testCfg, recs)
	got := merge(collected(t, testCfg, finishAll(t, frames, seq0, now), seq0))
	var want []view
	for i := range recs {
		want = append(want, wantView(&recs[i]))
	}
	if diff := cmp.Diff(merge(want), got, addrCmp); diff != "" {
		t.Errorf("collected flows (-want +got):\n%s", diff)
	}
}

func TestRoundTrip(t *testing.T) {
	eni := func(r flow.Record, dir flow.Direction, id string) flow.Record {
		r.Direction, r.InterfaceID, r.IfIndex = dir, id, flow.IfIndex(id)
		return r
	}
	flags := func(r flow.Record, f uint8) flow.Record { r.TCPFlags = f; return r }
	tests := []struct {
		name string
		recs []flow.Record
		now  time.Time
	}{
		{
			name: "one tcp flow exported five minutes later",
			recs: []flow.Record{flags(v4("10.0.0.1", "10.0.0.2", 443, 50000, 6, 10, 8400, t0, t0+60), 19)},
			now:  time.Unix(t0+360, 123_456_789),
		},
		{
			name: "ingress egress and no direction",
			recs: []flow.Record{
				eni(v4("10.0.0.1", "10.0.0.2", 1, 2, 17, 1, 100, t0, t0+1), flow.DirectionIngress, "eni-0123456789abcdef0"),
				eni(v4("10.0.0.2", "10.0.0.1", 2, 1, 17, 1, 100, t0, t0+1), flow.DirectionEgress, "eni-0123456789abcdef0"),
				eni(v4("10.0.0.3", "10.0.0.1", 2, 1, 17, 1, 100, t0, t0+1), flow.DirectionUnknown, "eni-0fedcba9876543210"),
				v4("10.0.0.4", "10.0.0.1", 2, 1, 17, 1, 100, t0, t0+1),
			},
			now: time.Unix(t0+600, 0),
		},
		{
			name: "extreme field values",
			recs: []flow.Record{
				flags(v4("255.255.255.255", "0.0.0.0", 65535, 0, 255, math.MaxUint32, math.MaxUint32, t0, t0+600), 255),
				v4("0.0.0.0", "255.255.255.255", 0, 65535, 0, 0, 0, t0, t0),
				v4("1.2.3.4", "5.6.7.8", 0, 0, 1, 1, 84, 1, 1), // the first second after the epoch (0 is "no time")
				v4("1.2.3.4", "5.6.7.8", 0, 0, 1, 1, 84, math.MaxUint32, math.MaxUint32),
			},
			now: time.Unix(t0, 0),
		},
		{
			name: "counters above 2^32 split",
			recs: []flow.Record{
				v4("10.1.0.1", "10.1.0.2", 1000, 2000, 6, 5_000_000_000, 7_000_000_000_000, t0, t0+600),
				v4("10.1.0.3", "10.1.0.4", 1000, 2000, 6, 1<<32, 1<<32, t0, t0+600),
				v4("10.1.0.5", "10.1.0.6", 1000, 2000, 6, 1, 10_000_000_000, t0, t0+600),
				v4("10.1.0.7", "10.1.0.8", 1000, 2000, 6, 3*math.MaxUint32-1, 2, t0, t0+600),
			},
			now: time.Unix(t0+900, 0),
		},
		{
			name: "end before start and longer than the span",
			recs: []flow.Record{
				v4("10.2.0.1", "10.2.0.2", 1, 2, 6, 1, 40, t0, t0-30),
				v4("10.2.0.3", "10.2.0.4", 1, 2, 6, 1, 40, t0-100*day, t0),
			},
			now: time.Unix(t0+60, 0),
		},
		{
			name: "61 records in three datagrams",
			recs: func() []flow.Record {
				var rs []flow.Record
				for i := range 61 {
					rs = append(rs, v4("10.3.0.1", "10.3.0.2", uint16(i), 80, 6, uint64(i+1), uint64(40*(i+1)), t0+int64(i), t0+int64(2*i)))
				}
				return rs
			}(),
			now: time.Unix(t0+3600, 500_000_000),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roundTrip(t, tt.recs, 1000, tt.now)
		})
	}
}

// TestRoundTripRandom round-trips random records of all ages and sizes.
func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 50 {
		n := 1 + rng.IntN(200)
		recs := make([]flow.Record, n)
		base := int64(t0) - rng.Int64N(400*day) + rng.Int64N(2*day)
		for i := range recs {
			recs[i] = randomRecord(rng, base)
		}
		now := time.UnixMilli(int64(t0)*1000 + rng.Int64N(10*day*1000))
		roundTrip(t, recs, rng.Uint32(), now)
		if t.Failed() {
			t.Fatalf("iteration %d failed", iter)
		}
	}
}

func randomRecord(rng *rand.Rand, base int64) flow.Record {
	var src, dst [4]byte
	binary.BigEndian.PutUint32(src[:], rng.Uint32())
	binary.BigEndian.PutUint32(dst[:], rng.Uint32())
	start := base + rng.Int64N(3*day)
	r := flow.Record{
		SrcAddr: netip.AddrFrom4(src), DstAddr: netip.AddrFrom4(dst),
		SrcPort: uint16(rng.Uint32()), DstPort: uint16(rng.Uint32()),
		Protocol: uint8(rng.Uint32()), TCPFlags: uint8(rng.Uint32()),
		Packets: rng.Uint64N(1 << 20), Bytes: rng.Uint64N(1 << 30),
		Start: start, End: start + rng.Int64N(601),
		Direction: flow.Direction(rng.IntN(3)),
	}
	if rng.IntN(10) == 0 {
		r.Packets = rng.Uint64N(1 << 36)
		r.Bytes = rng.Uint64N(1 << 44)
	}
	if rng.IntN(4) != 0 {
		r.InterfaceID = "eni-" + string(rune('a'+rng.IntN(26)))
		r.IfIndex = flow.IfIndex(r.InterfaceID)
	}
	return r
}

// TestHeader checks the constant header fields of a staged frame and that
// the same input gives the same bytes.
func TestHeader(t *testing.T) {
	recs := []flow.Record{v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 3, 120, t0+5, t0+9), v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 3, 120, t0+2, t0+4)}
	frames := mustEncode(t, testCfg, recs)
	again := mustEncode(t, testCfg, recs)
	if diff := cmp.Diff(again, frames); diff != "" {
		t.Fatalf("encoding is not deterministic (-first +second):\n%s", diff)
	}
	if len(frames) != 1 {
		t.Fatalf("%d frames, want 1", len(frames))
	}
	p := decode(t, frames[0].Data)
	type header struct {
		Version, Count             uint16
		SysUptime, UnixSecs, NSecs uint32
		FlowSequence               uint32
		EngineType, EngineID       uint8
		SamplingInterval           uint16
		Units, Records             uint32
	}
	want := header{
		Version: 5, Count: 2,
		// virtual boot = t0+2 (earliest start), latest Last = 7000 ms
		SysUptime: 7000, UnixSecs: t0 + 9, NSecs: 0,
		FlowSequence: 0,
		EngineType:   1, EngineID: 7, SamplingInterval: 0,
		Units: 2, Records: 2,
	}
	got := header{p.Version, p.Count, p.SysUptime, p.UnixSecs, p.UnixNSecs, p.FlowSequence,
		p.EngineType, p.EngineId, p.SamplingInterval, frames[0].Units, frames[0].Records}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("staged header (-want +got):\n%s", diff)
	}
}

// TestNoUptimeOverflow fails on the proof of concept's defect: sys_uptime
// overflowed 32 bits (and crashed) for every file after ~49 days. Flows of
// any age, and files spanning more than 49.7 days, must finish with every
// First/Last <= sys_uptime < 2^32 and times reconstructed to the second.
func TestNoUptimeOverflow(t *testing.T) {
	series := func(from int64, n int, step int64) []flow.Record {
		var rs []flow.Record
		for i := range n {
			s := from + int64(i)*step
			rs = append(rs, v4("10.9.0.1", "10.9.0.2", uint16(i), 443, 6, 5, 500, s, s+59))
		}
		return rs
	}
	now := time.Unix(t0, 250_000_000)
	tests := []struct {
		name  string
		recs  []flow.Record
		now   time.Time
		atNow bool // every datagram can be stamped with now itself
	}{
		{"recent flows", series(t0-600, 45, 10), now, true},
		{"49.7 days old", series(t0-50*day, 10, 60), now, false},
		{"one year old", series(t0-365*day, 40, 60), now, false},
		{"20 years old", series(t0-20*365*day, 3, 60), now, false},
		{"60-day span in one file", series(t0-60*day, 61, day), now, false},
		{"60-day span interleaved", append(series(t0-60*day, 5, 1), series(t0-600, 5, 1)...), now, false},
		{"in the future", series(t0+day, 5, 60), now, false},
		{"export 49 days after boot", series(t0-49*day, 3, 60), now, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames := mustEncode(t, testCfg, tt.recs)
			dgrams := finishAll(t, frames, 1, tt.now)
			got := collected(t, testCfg, dgrams, 1) // checks First/Last <= SysUptime
			var want []view
			for i := range tt.recs {
				want = append(want, wantView(&tt.recs[i]))
			}
			if diff := cmp.Diff(want, got, addrCmp); diff != "" {
				t.Errorf("collected flows (-want +got):\n%s", diff)
			}
			for i, b := range dgrams {
				p := decode(t, b)
				export := time.Unix(int64(p.UnixSecs), int64(p.UnixNSecs))
				if tt.atNow && !export.Equal(tt.now) {
					t.Errorf("datagram %d: export time %v, want now %v", i, export.UTC(), tt.now.UTC())
				}
				if p.SysUptime > netflow.MaxUptimeMillis {
					t.Errorf("datagram %d: sys_uptime %d", i, p.SysUptime)
				}
			}
		})
	}
}

// TestFullDatagramCarries30 fails on the proof of concept's defect: every
// full packet said 30 records but carried 29, losing every 30th flow.
func TestFullDatagramCarries30(t *testing.T) {
	for _, n := range []int{29, 30, 31, 59, 60, 61, 90, 300} {
		var recs []flow.Record
		for i := range n {
			recs = append(recs, v4("10.4.0.1", "10.4.0.2", uint16(i), 53, 17, 1, 70, t0, t0+1))
		}
		frames := mustEncode(t, testCfg, recs)
		if want := (n + 29) / 30; len(frames) != want {
			t.Errorf("%d records: %d frames, want %d", n, len(frames), want)
		}
		seen := make(map[uint16]int)
		for i, f := range frames {
			p := decode(t, f.Data) // checks len == 24 + 48*count
			wantCount := min(30, n-30*i)
			if int(p.Count) != wantCount || f.Units != uint32(wantCount) || f.Records != uint32(wantCount) {
				t.Errorf("%d records, frame %d: count %d units %d records %d, want %d",
					n, i, p.Count, f.Units, f.Records, wantCount)
			}
			for _, r := range p.Records {
				seen[r.SrcPort]++
			}
		}
		for i := range n {
			if seen[uint16(i)] != 1 {
				t.Errorf("%d records: flow %d decoded %d times, want 1", n, i, seen[uint16(i)])
			}
		}
	}
}

// TestFirstLastAreUptimeMillis fails on the proof of concept's defect:
// First/Last held Unix seconds instead of sysUptime milliseconds.
func TestFirstLastAreUptimeMillis(t *testing.T) {
	recs := []flow.Record{
		v4("10.5.0.1", "10.5.0.2", 1, 2, 6, 1, 40, t0+3, t0+10),
		v4("10.5.0.1", "10.5.0.2", 1, 2, 6, 1, 40, t0, t0+7),
	}
	frames := mustEncode(t, testCfg, recs)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"staged", frames[0].Data},
		{"finished", finishAll(t, frames, 0, time.Unix(t0+3600, 0))[0]},
	} {
		p := decode(t, tc.data)
		type fl struct{ First, Last uint32 }
		got := []fl{{p.Records[0].First, p.Records[0].Last}, {p.Records[1].First, p.Records[1].Last}}
		want := []fl{{3000, 10000}, {0, 7000}} // ms since the virtual boot t0
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s First/Last (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestFlowSequence fails on the proof of concept's defect: flow_sequence
// was always 1. The Finisher stamps the given sequence, and a run of
// frames stamped in order advances by each frame's count, across 2^32.
func TestFlowSequence(t *testing.T) {
	var recs []flow.Record
	for i := range 100 {
		recs = append(recs, v4("10.6.0.1", "10.6.0.2", uint16(i), 80, 6, 1, 40, t0, t0+1))
	}
	recs = append(recs, v4("10.6.0.3", "10.6.0.4", 1, 80, 6, 20_000_000_000, 1<<40, t0, t0+1))
	frames := mustEncode(t, testCfg, recs)
	var units uint32
	for _, f := range frames {
		units += f.Units
	}
	wantUnits := uint32(100) + uint32((uint64(1<<40)+math.MaxUint32-1)/math.MaxUint32)
	if units != wantUnits {
		t.Errorf("total units %d, want %d", units, wantUnits)
	}
	for _, seq0 := range []uint32{0, 1, 12345, math.MaxUint32 - 40} {
		dgrams := finishAll(t, frames, seq0, time.Unix(t0+60, 0))
		var got, want []uint32
		seq := seq0
		for i, b := range dgrams {
			p := decode(t, b)
			got = append(got, p.FlowSequence)
			want = append(want, seq)
			seq += uint32(p.Count)
			if uint32(p.Count) != frames[i].Units {
				t.Errorf("frame %d: count %d, units %d", i, p.Count, frames[i].Units)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("from %d: flow_sequence (-want +got):\n%s", seq0, diff)
		}
	}
	// Finishing one frame twice with different sequence numbers only
	// changes the header: a resend gets the sequence it is given.
	var fin nfv5.Finisher
	a, err := fin.Finish(nil, frames[0], 7, time.Unix(t0+60, 0), false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fin.Finish([]byte("prefix"), frames[0], 8, time.Unix(t0+60, 0), false)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:6]) != "prefix" || binary.BigEndian.Uint32(b[6+16:]) != 8 || binary.BigEndian.Uint32(a[16:]) != 7 {
		t.Errorf("Finish does not append to dst with the given sequence")
	}
}

// TestCountersAbove32Bits fails on the proof of concept's defect: counters
// above 2^32 crashed it or were truncated. They are split into records
// whose sums are exact and whose values each fit 32 bits.
func TestCountersAbove32Bits(t *testing.T) {
	const m = math.MaxUint32
	tests := []struct {
		pkts, bytes uint64
		want        [][2]uint32 // {packets, bytes} per piece
	}{
		{m, m, [][2]uint32{{m, m}}},
		{1, m + 1, [][2]uint32{{0, m/2 + 1}, {1, m/2 + 1}}},
		{m + 1, 2*m + 1, [][2]uint32{{m / 3, m * 2 / 3}, {m / 3, m * 2 / 3}, {m/3 + 1, m*2/3 + 1}}},
		// remainder 2 on a quotient of m-1: spread over the last two pieces,
		// not put on the last one (which would exceed 2^32-1)
		{3*m - 1, 3, [][2]uint32{{m - 1, 1}, {m, 1}, {m, 1}}},
		{1 << 40, 1 << 46, nil}, // checked by sums and bounds only
		{math.MaxUint32 * nfv5.MaxSplit, 100, nil},
	}
	for _, tt := range tests {
		rec := v4("10.7.0.1", "10.7.0.2", 9, 9, 17, tt.pkts, tt.bytes, t0, t0+600)
		frames := mustEncode(t, testCfg, []flow.Record{rec})
		var got [][2]uint32
		var sumP, sumB uint64
		for _, b := range finishAll(t, frames, 0, time.Unix(t0+700, 0)) {
			p := decode(t, b)
			for _, r := range p.Records {
				got = append(got, [2]uint32{r.DPkts, r.DOctets})
				sumP += uint64(r.DPkts)
				sumB += uint64(r.DOctets)
				want := wantView(&rec)
				if r.SrcPort != 9 || r.Last-r.First != 600_000 || addr(uint32(r.SrcAddr)) != want.Src {
					t.Errorf("%d/%d: piece %+v does not keep the key and times", tt.pkts, tt.bytes, r)
				}
			}
		}
		k := (max(tt.pkts, tt.bytes) + m - 1) / m
		if uint64(len(got)) != k || sumP != tt.pkts || sumB != tt.bytes {
			t.Errorf("%d/%d: %d pieces summing to %d/%d, want %d pieces", tt.pkts, tt.bytes, len(got), sumP, sumB, k)
		}
		if tt.pkts >= k {
			for i, g := range got {
				if g[0] == 0 {
					t.Errorf("%d/%d: piece %d has 0 packets", tt.pkts, tt.bytes, i)
				}
			}
		}
		if tt.want != nil {
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%d/%d pieces (-want +got):\n%s", tt.pkts, tt.bytes, diff)
			}
		}
	}

	// Beyond MaxSplit pieces: rejected, nothing emitted.
	rec := v4("10.7.0.1", "10.7.0.2", 9, 9, 17, 1, math.MaxUint64, t0, t0+600)
	frames, errs := encodeAll(t, testCfg, []flow.Record{rec})
	if !errors.Is(errs[0], nfv5.ErrCounterRange) || !errors.Is(errs[0], netflow.ErrUnsupported) || len(frames) != 0 {
		t.Errorf("Add(2^64-1 bytes) = %v with %d frames, want ErrCounterRange and none", errs[0], len(frames))
	}
}

// TestSplitStraddlesDatagrams: the pieces of a split record continue in
// the next datagram and keep their key.
func TestSplitStraddlesDatagrams(t *testing.T) {
	var recs []flow.Record
	for i := range 28 {
		recs = append(recs, v4("10.8.0.1", "10.8.0.2", uint16(i), 1, 6, 1, 40, t0, t0+1))
	}
	recs = append(recs, v4("10.8.0.3", "10.8.0.4", 7, 7, 6, 5*math.MaxUint32, 5*math.MaxUint32, t0, t0+1))
	frames := mustEncode(t, testCfg, recs)
	if len(frames) != 2 || frames[0].Units != 30 || frames[1].Units != 3 {
		t.Fatalf("frames %d units %v, want 30 and 3", len(frames), func() (u []uint32) {
			for _, f := range frames {
				u = append(u, f.Units)
			}
			return
		}())
	}
	roundTrip(t, recs, 5, time.Unix(t0+60, 0))
}

// TestIPv6Unsupported fails on the proof of concept's defect: IPv6 crashed
// it. Add returns netflow.ErrUnsupported, emits nothing for the record,
// and the IPv4 records around it are encoded as if it were absent.
func TestIPv6Unsupported(t *testing.T) {
	v6 := v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0, t0+1)
	v6.SrcAddr, v6.DstAddr = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	mixed := v6
	mixed.SrcAddr = netip.MustParseAddr("10.0.0.1")
	mapped := v6
	mapped.SrcAddr, mapped.DstAddr = netip.MustParseAddr("::ffff:10.0.0.1"), netip.MustParseAddr("::ffff:10.0.0.2")

	frames, errs := encodeAll(t, testCfg, []flow.Record{v6, mixed, mapped})
	for i, err := range errs {
		if err != netflow.ErrUnsupported {
			t.Errorf("Add(record %d) = %v, want netflow.ErrUnsupported", i, err)
		}
	}
	if len(frames) != 0 {
		t.Errorf("IPv6 records emitted %d frames", len(frames))
	}

	ip4a := v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0, t0+1)
	ip4b := v4("10.0.0.3", "10.0.0.4", 1, 2, 6, 1, 60, t0+5, t0+9)
	withV6, _ := encodeAll(t, testCfg, []flow.Record{ip4a, v6, ip4b, mapped})
	without := mustEncode(t, testCfg, []flow.Record{ip4a, ip4b})
	if diff := cmp.Diff(without, withV6); diff != "" {
		t.Errorf("frames with IPv6 records skipped differ (-without +with):\n%s", diff)
	}
}

// TestTimeRange: times unix_secs cannot express are rejected.
func TestTimeRange(t *testing.T) {
	for _, r := range []flow.Record{
		v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, -1, 5),
		v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, math.MaxUint32-1, math.MaxUint32+1),
		v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, math.MaxInt64, math.MaxInt64),
		v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, math.MinInt64, math.MinInt64),
	} {
		frames, errs := encodeAll(t, testCfg, []flow.Record{r})
		if !errors.Is(errs[0], nfv5.ErrTimeRange) || !errors.Is(errs[0], netflow.ErrUnsupported) || len(frames) != 0 {
			t.Errorf("Add(start %d end %d) = %v with %d frames, want ErrTimeRange and none", r.Start, r.End, errs[0], len(frames))
		}
	}
}

// TestSpanSplitsDatagram: a record that would stretch the datagram beyond
// netflow.MaxSpanMillis starts a new one, whichever side it extends.
func TestSpanSplitsDatagram(t *testing.T) {
	span := int64(netflow.MaxSpanMillis / 1000)
	tests := []struct {
		name       string
		recs       []flow.Record
		wantCounts []uint32
	}{
		{"just fits", []flow.Record{
			v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0, t0+1),
			v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0+span-5, t0+span),
		}, []uint32{2}},
		{"later end", []flow.Record{
			v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0, t0+1),
			v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0+span-5, t0+span+1),
		}, []uint32{1, 1}},
		{"earlier start", []flow.Record{
			v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0, t0+1),
			v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0-span, t0-span+5),
			v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0-span+1, t0-span+5),
		}, []uint32{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames := mustEncode(t, testCfg, tt.recs)
			var got []uint32
			for _, f := range frames {
				got = append(got, f.Units)
			}
			if diff := cmp.Diff(tt.wantCounts, got); diff != "" {
				t.Errorf("frame units (-want +got):\n%s", diff)
			}
			roundTrip(t, tt.recs, 0, time.Unix(t0, 0))
		})
	}
}

// TestFinishIdempotent: finishing a finished frame again at the same time
// gives the same bytes (the boot is recovered from any header), and a
// different now only moves the export clock, not the flows.
func TestFinishIdempotent(t *testing.T) {
	recs := []flow.Record{v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0, t0+30)}
	frames := mustEncode(t, testCfg, recs)
	now := time.Unix(t0+100, 999_000_000)
	var fin nfv5.Finisher
	a, err := fin.Finish(nil, frames[0], 42, now, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fin.Finish(nil, netflow.Frame{Data: a, Units: 1, Records: 1}, 42, now, false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("finish twice (-once +twice):\n%s", diff)
	}
	c, err := fin.Finish(nil, netflow.Frame{Data: a, Units: 1, Records: 1}, 42, now.Add(time.Hour), false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(collected(t, testCfg, [][]byte{a}, 42), collected(t, testCfg, [][]byte{c}, 42), addrCmp); diff != "" {
		t.Errorf("flows finished an hour apart (-first +second):\n%s", diff)
	}
}

func TestFinishRejectsMalformed(t *testing.T) {
	good := mustEncode(t, testCfg, []flow.Record{v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0, t0+30)})[0]
	mutate := func(f func([]byte) []byte) netflow.Frame {
		d := f(append([]byte(nil), good.Data...))
		return netflow.Frame{Data: d, Units: 1, Records: 1}
	}
	tests := map[string]netflow.Frame{
		"empty":        {},
		"short header": mutate(func(b []byte) []byte { return b[:20] }),
		"version 9":    mutate(func(b []byte) []byte { b[1] = 9; return b }),
		"count 0":      mutate(func(b []byte) []byte { b[3] = 0; return b }),
		"count 2":      mutate(func(b []byte) []byte { b[3] = 2; return b }),
		"truncated":    mutate(func(b []byte) []byte { return b[:len(b)-1] }),
		"units 2":      {Data: good.Data, Units: 2, Records: 2},
	}
	var fin nfv5.Finisher
	for name, f := range tests {
		dst := []byte("keep")
		got, err := fin.Finish(dst, f, 1, time.Unix(t0, 0), false)
		if !errors.Is(err, nfv5.ErrMalformed) || string(got) != "keep" {
			t.Errorf("%s: Finish = %q, %v; want dst unchanged and ErrMalformed", name, got, err)
		}
	}
}

// TestEmitError: an error from emit is returned by Add and Flush.
func TestEmitError(t *testing.T) {
	boom := errors.New("boom")
	enc := nfv5.NewEncoder(testCfg, func(netflow.Frame) error { return boom })
	r := v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0, t0+30)
	for i := range 29 {
		if err := enc.Add(&r); err != nil {
			t.Fatalf("Add %d: %v", i, err)
		}
	}
	if err := enc.Add(&r); !errors.Is(err, boom) {
		t.Errorf("Add of the 30th record = %v, want boom", err)
	}
	if err := enc.Add(&r); err != nil {
		t.Errorf("Add after a failed emit = %v", err)
	}
	if err := enc.Flush(); !errors.Is(err, boom) {
		t.Errorf("Flush = %v, want boom", err)
	}
	if err := enc.Flush(); err != nil {
		t.Errorf("Flush with nothing pending = %v", err)
	}
}

// TestAddAllocs: the hot path allocates nothing per record, flushes
// included.
func TestAddAllocs(t *testing.T) {
	recs := []flow.Record{
		v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0, t0+30),
		v4("10.0.0.3", "10.0.0.4", 1, 2, 6, 10_000_000_000, 1<<40, t0+1, t0+31),
	}
	enc := nfv5.NewEncoder(testCfg, func(netflow.Frame) error { return nil })
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		if err := enc.Add(&recs[i%2]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("Add allocates %v times per record, want 0", allocs)
	}
	frame := mustEncode(t, testCfg, recs[:1])[0]
	var fin nfv5.Finisher
	buf := make([]byte, 0, nfv5.MaxDatagram)
	now := time.Unix(t0+60, 0)
	allocs = testing.AllocsPerRun(1000, func() {
		var err error
		if buf, err = fin.Finish(buf[:0], frame, 1, now, true); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Finish allocates %v times, want 0", allocs)
	}
}
