package nfv5_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/netsampler/goflow2/v2/decoders/netflowlegacy"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/nfv5"
)

// encodeAll encodes recs with a fresh Encoder, flushes, and returns copies
// of the staged frames and the error Add returned for each record.
func encodeAll(t testing.TB, cfg nfv5.Config, recs []flow.Record) ([]netflow.Frame, []error) {
	t.Helper()
	var frames []netflow.Frame
	enc := nfv5.NewEncoder(cfg, func(f netflow.Frame) error {
		f.Data = bytes.Clone(f.Data)
		frames = append(frames, f)
		return nil
	})
	errs := make([]error, len(recs))
	for i := range recs {
		errs[i] = enc.Add(&recs[i])
	}
	if err := enc.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return frames, errs
}

// mustEncode is encodeAll failing the test on any Add error.
func mustEncode(t testing.TB, cfg nfv5.Config, recs []flow.Record) []netflow.Frame {
	t.Helper()
	frames, errs := encodeAll(t, cfg, recs)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Add(record %d): %v", i, err)
		}
	}
	return frames
}

// finishAll stamps frames in order from sequence seq0, as a sender does:
// each frame's sequence is the previous one plus the previous frame's Units.
func finishAll(t testing.TB, frames []netflow.Frame, seq0 uint32, now time.Time) [][]byte {
	t.Helper()
	var fin nfv5.Finisher
	out := make([][]byte, len(frames))
	seq := seq0
	for i, f := range frames {
		before := bytes.Clone(f.Data)
		b, err := fin.Finish(nil, f, seq, now, i == 0)
		if err != nil {
			t.Fatalf("Finish(frame %d): %v", i, err)
		}
		if !bytes.Equal(before, f.Data) {
			t.Fatalf("Finish(frame %d) modified f.Data", i)
		}
		out[i] = b
		seq += f.Units
	}
	return out
}

// decode decodes one datagram with goflow2's v5 decoder, checking that its
// size matches its count exactly (no missing or trailing record).
func decode(t testing.TB, b []byte) *netflowlegacy.PacketNetFlowV5 {
	t.Helper()
	var p netflowlegacy.PacketNetFlowV5
	if err := netflowlegacy.DecodeMessageVersion(bytes.NewBuffer(b), &p); err != nil {
		t.Fatalf("goflow2 decode: %v", err)
	}
	if p.Count < 1 || p.Count > nfv5.MaxRecords {
		t.Fatalf("count %d, want 1..30", p.Count)
	}
	if want := nfv5.HeaderLen + int(p.Count)*nfv5.RecordLen; len(b) != want {
		t.Fatalf("datagram of %d bytes with count %d, want %d bytes", len(b), p.Count, want)
	}
	if len(b) > nfv5.MaxDatagram {
		t.Fatalf("datagram of %d bytes > %d", len(b), nfv5.MaxDatagram)
	}
	return &p
}

// nfdumpTimes reconstructs a record's start and end (Unix ms) as nfdump
// 1.7 does (netflow_v5_v7.c): boot = export - SysUptime, start = boot +
// First, with its two wrap heuristics.
func nfdumpTimes(p *netflowlegacy.PacketNetFlowV5, r *netflowlegacy.RecordsNetFlowV5) (startMs, endMs int64) {
	boot := int64(p.UnixSecs)*1000 + int64(p.UnixNSecs)/1_000_000 - int64(p.SysUptime)
	first, last := int64(r.First), int64(r.Last)
	if first > last { // assumes the ms counter wrapped between first and last
		first -= 1 << 32
	}
	if last > int64(p.SysUptime)+100_000 { // assumes it wrapped before export
		first -= 1 << 32
		last -= 1 << 32
	}
	return boot + first, boot + last
}

// goflow2Times reconstructs a record's start and end (Unix ns) with
// goflow2 v2.2.6's formula (producer/proto ConvertNetFlowLegacyRecord,
// which this module cannot import: its protobuf dependency is not in
// go.sum), uint32 subtraction included.
func goflow2Times(p *netflowlegacy.PacketNetFlowV5, r *netflowlegacy.RecordsNetFlowV5) (startNs, endNs uint64) {
	baseTime := uint64(p.UnixSecs)*1000000000 + uint64(p.UnixNSecs)
	uptime := p.SysUptime
	timeDiffFirst := (uptime - r.First)
	timeDiffLast := (uptime - r.Last)
	return baseTime - uint64(timeDiffFirst)*1000000, baseTime - uint64(timeDiffLast)*1000000
}

// addrCmp compares netip.Addr values (unexported fields) with ==.
var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// view is one flow as a collector sees it, or as the input says it should
// be seen. Fields v5 always sends as zero are kept so that a stray byte
// shows up in diffs.
type view struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto, TCPFlags  uint8
	In, Out          uint16
	Packets, Bytes   uint64
	Start, End       int64 // Unix seconds

	NextHop          uint32
	Pad1, Tos        uint8
	SrcAS, DstAS     uint16
	SrcMask, DstMask uint8
	Pad2             uint16
}

// wantView is what a collector should see for rec: v5 cannot carry a
// negative or longer-than-MaxDurationSeconds duration.
// badTime reports whether rec's times break the rule every encoder shares.
func badTime(rec *flow.Record) bool {
	_, _, err := flow.NormalizeTimes(rec.Start, rec.End)
	return err != nil
}

func wantView(rec *flow.Record) view {
	start, end, _ := flow.NormalizeTimes(rec.Start, rec.End)
	return view{
		Src: rec.SrcAddr, Dst: rec.DstAddr,
		SrcPort: rec.SrcPort, DstPort: rec.DstPort,
		Proto: rec.Protocol, TCPFlags: rec.TCPFlags,
		In: flow.IfIndex16(rec.InputIf()), Out: flow.IfIndex16(rec.OutputIf()),
		Packets: rec.Packets, Bytes: rec.Bytes,
		Start: start, End: end,
	}
}

// collected decodes finished datagrams, checks their headers, the time
// invariants and that nfdump's and goflow2's reconstructions agree to the
// millisecond on whole seconds, and returns the flows as views.
func collected(t testing.TB, cfg nfv5.Config, dgrams [][]byte, seq0 uint32) []view {
	t.Helper()
	var out []view
	seq := seq0
	for i, b := range dgrams {
		p := decode(t, b)
		if p.FlowSequence != seq {
			t.Errorf("datagram %d: flow_sequence %d, want %d", i, p.FlowSequence, seq)
		}
		seq += uint32(p.Count)
		if p.EngineType != cfg.EngineType || p.EngineId != cfg.EngineID || p.SamplingInterval != 0 {
			t.Errorf("datagram %d: engine %d/%d sampling %d, want %d/%d 0",
				i, p.EngineType, p.EngineId, p.SamplingInterval, cfg.EngineType, cfg.EngineID)
		}
		for j := range p.Records {
			r := &p.Records[j]
			if r.First > r.Last || r.Last > p.SysUptime {
				t.Errorf("datagram %d record %d: First %d Last %d SysUptime %d, want First <= Last <= SysUptime",
					i, j, r.First, r.Last, p.SysUptime)
			}
			startMs, endMs := nfdumpTimes(p, r)
			startNs, endNs := goflow2Times(p, r)
			if startMs%1000 != 0 || endMs%1000 != 0 {
				t.Errorf("datagram %d record %d: nfdump start %d end %d ms, want whole seconds", i, j, startMs, endMs)
			}
			if int64(startNs) != startMs*1e6 || int64(endNs) != endMs*1e6 {
				t.Errorf("datagram %d record %d: goflow2 start %d end %d ns, nfdump %d %d ms",
					i, j, startNs, endNs, startMs, endMs)
			}
			out = append(out, view{
				Src:      addr(uint32(r.SrcAddr)),
				Dst:      addr(uint32(r.DstAddr)),
				SrcPort:  r.SrcPort,
				DstPort:  r.DstPort,
				Proto:    r.Proto,
				TCPFlags: r.TCPFlags,
				In:       r.Input,
				Out:      r.Output,
				Packets:  uint64(r.DPkts),
				Bytes:    uint64(r.DOctets),
				Start:    startMs / 1000,
				End:      endMs / 1000,
				NextHop:  uint32(r.NextHop),
				Pad1:     r.Pad1,
				Tos:      r.Tos,
				SrcAS:    r.SrcAS,
				DstAS:    r.DstAS,
				SrcMask:  r.SrcMask,
				DstMask:  r.DstMask,
				Pad2:     r.Pad2,
			})
		}
	}
	return out
}

func addr(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// merge sums the counters of consecutive views that differ only in them:
// the pieces of a split record come back as one flow.
func merge(vs []view) []view {
	var out []view
	for _, v := range vs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			a, b := *last, v
			a.Packets, a.Bytes, b.Packets, b.Bytes = 0, 0, 0, 0
			if a == b {
				last.Packets += v.Packets
				last.Bytes += v.Bytes
				continue
			}
		}
		out = append(out, v)
	}
	return out
}

// v4 builds an IPv4 record; the arguments not given are zero.
func v4(src, dst string, sport, dport uint16, proto uint8, pkts, bytes uint64, start, end int64) flow.Record {
	return flow.Record{
		SrcAddr: netip.MustParseAddr(src), DstAddr: netip.MustParseAddr(dst),
		SrcPort: sport, DstPort: dport, Protocol: proto,
		Packets: pkts, Bytes: bytes, Start: start, End: end,
		Action: flow.ActionAccept,
	}
}
