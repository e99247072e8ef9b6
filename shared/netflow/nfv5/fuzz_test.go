package nfv5_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/nfv5"
)

// fuzzRecordLen is the number of fuzz bytes one record consumes.
const fuzzRecordLen = 32

// fuzzRecords builds records from fuzz bytes: 6 bytes of export time
// (Unix seconds and ms), then 32 bytes per record. Counters reach 2^39 (up
// to 128 pieces), times cover 1970..2106 and beyond, durations reach years
// and may be negative.
func fuzzRecords(data []byte) (now time.Time, recs []flow.Record) {
	if len(data) < 6 {
		return time.Unix(0, 0), nil
	}
	be := binary.BigEndian
	now = time.UnixMilli(int64(be.Uint32(data))*1000 + int64(be.Uint16(data[4:]))%1000)
	data = data[6:]
	for len(data) >= fuzzRecordLen {
		b := data[:fuzzRecordLen]
		data = data[fuzzRecordLen:]
		ctl := b[0]
		r := flow.Record{
			SrcAddr:   netip.AddrFrom4([4]byte(b[1:5])),
			DstAddr:   netip.AddrFrom4([4]byte(b[5:9])),
			SrcPort:   be.Uint16(b[9:]),
			DstPort:   be.Uint16(b[11:]),
			Protocol:  b[13],
			TCPFlags:  b[14],
			Packets:   uint64(be.Uint32(b[15:])) << (b[19] & 7),
			Bytes:     uint64(be.Uint32(b[20:])) << (b[19] >> 3 & 7),
			Start:     int64(be.Uint32(b[24:])),
			Direction: flow.Direction((ctl >> 1 & 3) % 3),
		}
		dur := int64(be.Uint16(b[28:]))
		if ctl&8 != 0 {
			dur *= 3600
		}
		if ctl&16 != 0 {
			dur = -dur
		}
		r.End = r.Start + dur
		if ctl&32 != 0 {
			r.Start -= 1 << 32 // before 1970
		}
		if ctl&64 != 0 {
			r.InterfaceID = "eni-" + string(rune('a'+b[30]%26))
			r.IfIndex = flow.IfIndex(r.InterfaceID)
		}
		if ctl&1 != 0 {
			a16 := [16]byte{0x20, 0x01, 0x0d, 0xb8}
			copy(a16[12:], b[1:5])
			r.SrcAddr = netip.AddrFrom16(a16)
			if b[31]&1 != 0 {
				r.DstAddr = netip.AddrFrom16(a16)
			}
		}
		recs = append(recs, r)
	}
	return now, recs
}

// keyOf is what sums are grouped by: everything but the counters.
func keyOf(v view) view {
	v.Packets, v.Bytes = 0, 0
	return v
}

// FuzzEncodeRoundTrip encodes and finishes records built from fuzz bytes,
// decodes every datagram with goflow2, and checks sizes, the time
// invariants, the sequence run, and that packets and bytes summed per key
// equal the input's.
func FuzzEncodeRoundTrip(f *testing.F) {
	seed := func(nowSec uint32, recs ...[fuzzRecordLen]byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, nowSec)
		b = append(b, 0, 250)
		for _, r := range recs {
			b = append(b, r[:]...)
		}
		return b
	}
	rec := func(ctl byte, pkts, bytes uint32, shifts byte, start uint32, dur uint16) [fuzzRecordLen]byte {
		var r [fuzzRecordLen]byte
		r[0] = ctl
		copy(r[1:9], []byte{10, 0, 0, 1, 10, 0, 0, 2})
		binary.BigEndian.PutUint16(r[9:], 443)
		binary.BigEndian.PutUint16(r[11:], 51000)
		r[13], r[14] = 6, 19
		binary.BigEndian.PutUint32(r[15:], pkts)
		r[19] = shifts
		binary.BigEndian.PutUint32(r[20:], bytes)
		binary.BigEndian.PutUint32(r[24:], start)
		binary.BigEndian.PutUint16(r[28:], dur)
		return r
	}
	f.Add(seed(t0, rec(0, 10, 4000, 0, t0-600, 60)))
	f.Add(seed(t0, rec(2, 0xffffffff, 0xffffffff, 0x3f, t0-600, 60), rec(64, 1, 60, 0, t0-365*day, 1)))
	f.Add(seed(t0, rec(1, 1, 60, 0, t0, 1), rec(0, 1, 60, 0, t0, 1)))
	f.Add(seed(t0, rec(8, 1, 60, 0, t0-60*day, 1500), rec(16, 1, 60, 0, t0, 30)))
	f.Add(seed(0, rec(32, 1, 60, 0, 5, 5), rec(0, 1, 60, 0, 0xffffffff, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		now, recs := fuzzRecords(data)
		frames, errs := encodeAll(t, testCfg, recs)
		want := make(map[view][2]uint64)
		for i := range recs {
			r := &recs[i]
			err := errs[i]
			switch {
			case r.SrcAddr.Is6() || r.DstAddr.Is6():
				if err != netflow.ErrUnsupported {
					t.Fatalf("record %d (IPv6): Add = %v, want netflow.ErrUnsupported", i, err)
				}
				continue
			case badTime(r):
				if !errors.Is(err, nfv5.ErrTimeRange) {
					t.Fatalf("record %d (start %d end %d): Add = %v, want ErrTimeRange", i, r.Start, r.End, err)
				}
				continue
			case err != nil:
				t.Fatalf("record %d: Add = %v", i, err)
			}
			v := wantView(r)
			s := want[keyOf(v)]
			want[keyOf(v)] = [2]uint64{s[0] + r.Packets, s[1] + r.Bytes}
		}
		var units uint32
		for _, fr := range frames {
			if fr.Units != fr.Records || len(fr.Data) > nfv5.MaxDatagram {
				t.Fatalf("frame units %d records %d bytes %d", fr.Units, fr.Records, len(fr.Data))
			}
			units += fr.Units
		}
		const seq0 = 1<<32 - 100
		got := make(map[view][2]uint64)
		var n uint32
		for _, v := range collected(t, testCfg, finishAll(t, frames, seq0, now), seq0) {
			s := got[keyOf(v)]
			got[keyOf(v)] = [2]uint64{s[0] + v.Packets, s[1] + v.Bytes}
			n++
		}
		if n != units {
			t.Fatalf("decoded %d records, frames claim %d units", n, units)
		}
		if len(got) != len(want) {
			t.Fatalf("decoded %d keys, want %d", len(got), len(want))
		}
		for k, w := range want {
			if got[k] != w {
				t.Fatalf("key %+v: decoded packets/bytes %v, want %v", k, got[k], w)
			}
		}
	})
}
