// Package nfv5 encodes flow records as Cisco NetFlow v5 datagrams.
//
// A datagram is a 24-byte header followed by 1 to 30 records of 48 bytes
// (at most 1464 bytes); the header count is the number of records carried.
// Encoding follows the two-phase contract of package netflow: an Encoder
// packs records into staged frames (flow_sequence 0, deterministic bytes),
// and a Finisher stamps the sequence number and export time at send time.
// The sequence number counts flows, so a frame's Units and Records are both
// its record count.
//
// # Field mapping
//
//	v5 field           source (flow.Record)
//	-----------------  -----------------------------------------------------
//	header version     5
//	header count       records in the datagram (1..30)
//	header sys_uptime  virtual uptime (see Times), stamped by the Finisher
//	header unix_secs   export time, stamped by the Finisher
//	header unix_nsecs  export time, stamped by the Finisher
//	flow_sequence      0 when staged; the reserved sequence when finished
//	engine_type        Config.EngineType
//	engine_id          Config.EngineID
//	sampling_interval  0 (flow logs are unsampled)
//	srcaddr            SrcAddr (IPv4 only; pkt-srcaddr or srcaddr upstream)
//	dstaddr            DstAddr
//	nexthop            0
//	input              flow.IfIndex16(rec.InputIf())  (ENI for ingress)
//	output             flow.IfIndex16(rec.OutputIf()) (ENI for egress)
//	dPkts              Packets (split, see Counters)
//	dOctets            Bytes   (split, see Counters)
//	First              (Start - boot) in ms
//	Last               (End - boot) in ms
//	srcport            SrcPort
//	dstport            DstPort
//	pad1               0
//	tcp_flags          TCPFlags
//	prot               Protocol
//	tos                0
//	src_as, dst_as     0
//	src_mask, dst_mask 0
//	pad2               0
//
// Action, traffic path, account, VPC, subnet and instance ids have no v5
// field and are not exported.
//
// # Times
//
// Each datagram has its own virtual boot time: the earliest Start among its
// records (whole seconds). First and Last are milliseconds since that boot,
// and a record whose End would put Last more than netflow.MaxSpanMillis
// after the boot (netflow.FitsSpan) starts a new datagram. The staged frame
// carries the virtual export time boot + max(Last) with sys_uptime =
// max(Last), so it is self-contained and the same input gives the same
// bytes. The Finisher recovers the boot from the header
// (unix_secs*1000 + unix_nsecs/1e6 - sys_uptime) and the largest Last from
// the records, and stamps netflow.ExportClock(boot, maxLast, now). A
// collector computing boot = export - sys_uptime and start = boot + First
// (nfdump, goflow2, pmacct) reconstructs every start and end exactly, and
// every First/Last <= sys_uptime < 2^32.
//
// Times follow flow.NormalizeTimes, the rule every encoder shares: a
// missing Start or End takes the other's value, End < Start is encoded with
// End = Start, a record longer than MaxDurationSeconds (about 48.7 days;
// flow logs aggregate over at most 10 minutes) with End = Start +
// MaxDurationSeconds, and times outside 1970-01-01..2106-02-07 (v5's 32-bit
// unix_secs) are rejected with ErrTimeRange.
//
// # Counters
//
// dPkts and dOctets are 32 bits. A record with Packets or Bytes above
// 2^32-1 is split into k = ceil(max(Packets, Bytes) / (2^32-1)) v5 records
// with the same addresses, ports, protocol, flags, interfaces and times.
// Each counter c is spread as evenly as possible: every piece gets c/k and
// the remainder c%k is spread one unit each over the last c%k pieces, so
// the pieces sum exactly to c and none exceeds 2^32-1. A piece carries zero
// packets only when Packets < k, i.e. more than 4 GiB per packet, which a
// real flow cannot have; its bytes are still exported so totals are exact
// (likewise zero bytes when Bytes < k). Pieces of one record may straddle
// datagrams and each consumes one sequence unit. A record that would need
// more than MaxSplit pieces is rejected with ErrCounterRange.
//
// # Unsupported records
//
// v5 addresses are IPv4: Add returns netflow.ErrUnsupported itself for an
// IPv6 record (the caller counts it) and emits nothing for it. ErrTimeRange
// and ErrCounterRange also wrap netflow.ErrUnsupported. A zero (invalid)
// netip.Addr is encoded as 0.0.0.0.
package nfv5

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
)

// Wire sizes and limits.
const (
	Version       = 5                                // header version field
	HeaderLen     = 24                               // header bytes
	RecordLen     = 48                               // bytes per flow record
	MaxRecords    = 30                               // records per datagram
	MaxDatagram   = HeaderLen + MaxRecords*RecordLen // 1464 bytes
	MaxCounter    = math.MaxUint32                   // largest dPkts/dOctets
	MaxSplit      = 1 << 16                          // most v5 records one flow record may become
	maxUnixSecond = math.MaxUint32                   // largest unix_secs
)

// MaxDurationSeconds is the longest End - Start one record can carry: its
// Last must stay within netflow.MaxSpanMillis of its own First.
const MaxDurationSeconds = flow.MaxDuration

var (
	// ErrTimeRange is returned by Add for a record whose Start or End
	// lies outside what unix_secs can express (1970 to 2106). It wraps
	// netflow.ErrUnsupported.
	ErrTimeRange = fmt.Errorf("flow time outside netflow v5 range: %w", netflow.ErrUnsupported)
	// ErrCounterRange is returned by Add for a record whose packets or
	// bytes would need more than MaxSplit v5 records. It wraps
	// netflow.ErrUnsupported.
	ErrCounterRange = fmt.Errorf("flow counters too large for netflow v5: %w", netflow.ErrUnsupported)
)

// Config identifies the exporter in the header.
type Config struct {
	EngineType uint8 // header engine_type
	EngineID   uint8 // header engine_id
}

// Encoder packs flow records into NetFlow v5 frames. It implements
// netflow.Encoder. It is not safe for concurrent use. The zero value is not
// usable; call NewEncoder.
type Encoder struct {
	cfg  Config
	emit netflow.Emit

	n          int   // records buffered
	minStart   int64 // earliest Start buffered (Unix seconds): the boot
	maxEnd     int64 // latest End buffered (Unix seconds)
	start, end [MaxRecords]int64
	buf        [MaxDatagram]byte
}

var _ netflow.Encoder = (*Encoder)(nil)

// NewEncoder returns an Encoder that hands every completed datagram to emit.
func NewEncoder(cfg Config, emit netflow.Emit) *Encoder {
	return &Encoder{cfg: cfg, emit: emit}
}

// Add encodes rec, emitting a frame whenever a datagram fills up (30
// records) or rec's times cannot share the pending datagram. It returns
// netflow.ErrUnsupported for IPv6, ErrTimeRange or ErrCounterRange for a
// record v5 cannot carry (nothing is emitted for it), or the error of emit.
func (e *Encoder) Add(rec *flow.Record) error {
	if rec.SrcAddr.Is6() || rec.DstAddr.Is6() {
		return netflow.ErrUnsupported
	}
	start, end, err := flow.NormalizeTimes(rec.Start, rec.End)
	if err != nil {
		return ErrTimeRange
	}
	pkts, octets := rec.Packets, rec.Bytes
	if pkts <= MaxCounter && octets <= MaxCounter {
		return e.add(rec, start, end, uint32(pkts), uint32(octets))
	}
	m := max(pkts, octets)
	k := m / MaxCounter
	if m%MaxCounter != 0 {
		k++
	}
	if k > MaxSplit {
		return ErrCounterRange
	}
	pq, pRem := pkts/k, pkts%k
	oq, oRem := octets/k, octets%k
	for i := uint64(0); i < k; i++ {
		// The last r pieces get one unit more: sums are exact and no
		// piece exceeds MaxCounter (q == MaxCounter implies r == 0).
		p, o := pq, oq
		if i >= k-pRem {
			p++
		}
		if i >= k-oRem {
			o++
		}
		if err := e.add(rec, start, end, uint32(p), uint32(o)); err != nil {
			return err
		}
	}
	return nil
}

// add appends one v5 record, flushing first if its times do not fit the
// pending datagram and after if the datagram is full.
func (e *Encoder) add(rec *flow.Record, start, end int64, pkts, octets uint32) error {
	if e.n > 0 && !netflow.FitsSpan(min(e.minStart, start), max(e.maxEnd, end)) {
		if err := e.Flush(); err != nil {
			return err
		}
	}
	if e.n == 0 {
		e.minStart, e.maxEnd = start, end
	} else {
		e.minStart, e.maxEnd = min(e.minStart, start), max(e.maxEnd, end)
	}
	e.start[e.n], e.end[e.n] = start, end

	r := e.buf[HeaderLen+e.n*RecordLen : HeaderLen+(e.n+1)*RecordLen : HeaderLen+(e.n+1)*RecordLen]
	be := binary.BigEndian
	be.PutUint32(r[0:], addr4(rec.SrcAddr))
	be.PutUint32(r[4:], addr4(rec.DstAddr))
	be.PutUint32(r[8:], 0) // nexthop
	be.PutUint16(r[12:], flow.IfIndex16(rec.InputIf()))
	be.PutUint16(r[14:], flow.IfIndex16(rec.OutputIf()))
	be.PutUint32(r[16:], pkts)
	be.PutUint32(r[20:], octets)
	be.PutUint64(r[24:], 0) // First, Last: written by Flush once the boot is known
	be.PutUint16(r[32:], rec.SrcPort)
	be.PutUint16(r[34:], rec.DstPort)
	r[36] = 0 // pad1
	r[37] = rec.TCPFlags
	r[38] = rec.Protocol
	r[39] = 0               // tos
	be.PutUint64(r[40:], 0) // src_as, dst_as, src_mask, dst_mask, pad2
	e.n++

	if e.n == MaxRecords {
		return e.Flush()
	}
	return nil
}

// addr4 returns an IPv4 address as an integer, 0 for the zero netip.Addr.
func addr4(a netip.Addr) uint32 {
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// Flush emits the pending partial datagram, if any.
func (e *Encoder) Flush() error {
	if e.n == 0 {
		return nil
	}
	n := e.n
	e.n = 0
	be := binary.BigEndian
	var maxLast uint32
	for i := range n {
		r := e.buf[HeaderLen+i*RecordLen:]
		first := uint32((e.start[i] - e.minStart) * 1000)
		last := uint32((e.end[i] - e.minStart) * 1000)
		be.PutUint32(r[24:], first)
		be.PutUint32(r[28:], last)
		maxLast = max(maxLast, last)
	}
	// now = the epoch forces ExportClock's virtual branch (export = boot +
	// maxLast), so the staged frame depends on its records only.
	exportMillis, uptime := netflow.ExportClock(e.minStart*1000, maxLast, time.Unix(0, 0))
	h := e.buf[:HeaderLen]
	be.PutUint16(h[0:], Version)
	be.PutUint16(h[2:], uint16(n))
	putTimes(h, exportMillis, uptime)
	be.PutUint32(h[16:], 0) // flow_sequence: stamped by the Finisher
	h[20] = e.cfg.EngineType
	h[21] = e.cfg.EngineID
	be.PutUint16(h[22:], 0) // sampling_interval
	return e.emit(netflow.Frame{
		Data:    e.buf[:HeaderLen+n*RecordLen],
		Units:   uint32(n),
		Records: uint32(n),
	})
}

// putTimes writes sys_uptime, unix_secs and unix_nsecs into header h.
func putTimes(h []byte, exportMillis int64, uptime uint32) {
	be := binary.BigEndian
	be.PutUint32(h[4:], uptime)
	be.PutUint32(h[8:], uint32(exportMillis/1000))
	be.PutUint32(h[12:], uint32(exportMillis%1000)*1_000_000)
}

// Finisher completes staged v5 frames at send time. It implements
// netflow.Finisher; the zero value is ready to use and it is safe for
// concurrent use.
type Finisher struct{}

var _ netflow.Finisher = Finisher{}

// NewFinisher returns a Finisher.
func NewFinisher() *Finisher { return &Finisher{} }

// ErrMalformed is returned by Finish for data that is not a NetFlow v5
// datagram of 1 to 30 records.
var ErrMalformed = errors.New("malformed netflow v5 frame")

// Finish appends f.Data to dst with flow_sequence seq and the export time
// for now stamped in the header: sys_uptime = now - boot when that keeps
// every Last <= sys_uptime < 2^32 ms, else the virtual export time boot +
// max(Last) (netflow.ExportClock). v5 has no templates: withTemplates is
// ignored. f.Data is not modified; Finish also accepts an already finished
// frame, since the boot is recovered from the header.
func (Finisher) Finish(dst []byte, f netflow.Frame, seq uint32, now time.Time, withTemplates bool) ([]byte, error) {
	d := f.Data
	if len(d) < HeaderLen {
		return dst, fmt.Errorf("finish netflow v5 frame of %d bytes: %w", len(d), ErrMalformed)
	}
	be := binary.BigEndian
	count := int(be.Uint16(d[2:]))
	switch {
	case be.Uint16(d[0:]) != Version:
		return dst, fmt.Errorf("finish netflow v5 frame: version %d: %w", be.Uint16(d[0:]), ErrMalformed)
	case count < 1 || count > MaxRecords || len(d) != HeaderLen+count*RecordLen:
		return dst, fmt.Errorf("finish netflow v5 frame: count %d in %d bytes: %w", count, len(d), ErrMalformed)
	case f.Units != 0 && f.Units != uint32(count):
		return dst, fmt.Errorf("finish netflow v5 frame: count %d but %d units: %w", count, f.Units, ErrMalformed)
	}
	bootMillis := int64(be.Uint32(d[8:]))*1000 + int64(be.Uint32(d[12:]))/1_000_000 - int64(be.Uint32(d[4:]))
	var maxLast uint32
	for i := range count {
		maxLast = max(maxLast, be.Uint32(d[HeaderLen+i*RecordLen+28:]))
	}
	exportMillis, uptime := netflow.ExportClock(bootMillis, maxLast, now)
	if exportMillis < 0 || exportMillis/1000 > maxUnixSecond {
		// now itself is outside unix_secs: use the virtual time.
		exportMillis, uptime = netflow.ExportClock(bootMillis, maxLast, time.Unix(0, 0))
	}
	n := len(dst)
	dst = append(dst, d...)
	h := dst[n : n+HeaderLen]
	putTimes(h, exportMillis, uptime)
	be.PutUint32(h[16:], seq)
	return dst, nil
}
