// Package nfv9 encodes flow records as NetFlow v9 export packets (RFC 3954).
//
// An Encoder packs records into staged frames at parse time; a Finisher
// stamps them at send time (see package netflow). Each frame is one export
// packet holding up to three Data FlowSets: interface-name options records
// (template 258), IPv4 flows (template 256) and IPv6 flows (template 257),
// in that order, each padded to 4 bytes. Frame.Units is 1: the v9 sequence
// number counts export packets. Frame.Records counts the data records of
// the packet, options data records included.
//
// The header Count is the number of records in the packet, template
// records included (RFC 3954 §5.1): the Finisher adds TemplateRecords when
// it inserts the templates. Count is therefore never below the number of
// FlowSets, which matters because pmacct and goflow2 parse at most Count
// FlowSets.
//
// Flow times are FIRST_SWITCHED/LAST_SWITCHED milliseconds of a virtual
// sysUptime: each packet's virtual boot is one second before the earliest
// start among its flows (so no FIRST_SWITCHED is 0, which tshark 4.0 and,
// for zero-length flows, nfdump 1.7 show as 1970), a packet holds only flows that fit netflow.MaxSpanMillis of it, and
// the Finisher chooses the export time with netflow.ExportClock, so a
// collector computing boot = unix_secs*1000 - sysUptime reconstructs every
// start and end to the second, for flows of any age.
//
// Every finished packet, templates included, is at most Config.MTU bytes.
//
// # Field mapping
//
//	| flow-log field | v9 field (type, length) | note |
//	|---|---|---|
//	| srcaddr / pkt-srcaddr | IPV4_SRC_ADDR (8, 4) or IPV6_SRC_ADDR (27, 16) | template 256 or 257 |
//	| dstaddr / pkt-dstaddr | IPV4_DST_ADDR (12, 4) or IPV6_DST_ADDR (28, 16) | |
//	| srcport | L4_SRC_PORT (7, 2) | |
//	| dstport | L4_DST_PORT (11, 2) | |
//	| protocol | PROTOCOL (4, 1) | |
//	| tcp-flags | TCP_FLAGS (6, 1) | |
//	| bytes | IN_BYTES (1, 8) | 64-bit, never split |
//	| packets | IN_PKTS (2, 8) | 64-bit |
//	| start | FIRST_SWITCHED (22, 4) | ms since virtual boot |
//	| end | LAST_SWITCHED (21, 4) | ms since virtual boot |
//	| interface-id, flow-direction | INPUT_SNMP (10, 4), OUTPUT_SNMP (14, 4) | flow.IfIndex(ENI) as input (ingress or no direction) or output (egress), the other 0 |
//	| flow-direction | DIRECTION (61, 1) | ingress 0, egress 1, '-' 0 |
//	| action | FORWARDING_STATUS (89, 1) | ACCEPT 0x40 forwarded, REJECT 0x81 dropped (ACL deny), '-' 0 unknown |
//	| (none) | SAMPLING_INTERVAL (34, 4) | always 1: flow logs are unsampled |
//	| interface-id | options (template 258): scope Interface (2, 4) and INPUT_SNMP (10, 4) = ifIndex, IF_NAME (82, 32) = ENI id | first time an encoder sees an ENI; NUL-padded, at most 31 bytes |
//	| account-id, vpc-id, subnet-id, instance-id, traffic-path, region, az-id, pkt-src/dst-aws-service, sublocation-*, ecs-*, log-status | not carried | no v9 field type; separate them by receiver Source ID if needed |
//
// Times follow flow.NormalizeTimes, the rule of every encoder: a missing
// start or end takes the other's value, a record with end < start is sent
// with end = start (nfdump would take FIRST > LAST for a counter wrap), one
// longer than MaxDurationSeconds with end = start + MaxDurationSeconds;
// times before 1970 or after 2106 (32-bit unix_secs) are rejected with
// ErrTimeRange.
package nfv9

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/ie"
)

// Wire constants.
const (
	Version   = 9
	HeaderLen = 20

	// Template ids. They never change: collectors key data on them.
	TemplateIPv4      uint16 = 256
	TemplateIPv6      uint16 = 257
	TemplateInterface uint16 = 258 // options: interface names

	// TemplateRecords is the number of template records (two templates and
	// one options template) that the Finisher inserts.
	TemplateRecords = 3

	// DefaultMTU is the default datagram budget: a 1500-byte IPv4 path less
	// 28 bytes of IP and UDP headers.
	DefaultMTU = 1472
	// MaxMTU is the largest UDP payload over IPv4.
	MaxMTU = 65507
)

// Record lengths in bytes.
const (
	RecordLenIPv4      = 52
	RecordLenIPv6      = 76
	RecordLenInterface = 4 + 4 + ie.InterfaceNameLen
)

var (
	fieldsIPv4 = []ie.Field{
		{ID: ie.SourceIPv4Address, Length: 4},
		{ID: ie.DestinationIPv4Address, Length: 4},
		{ID: ie.SourceTransportPort, Length: 2},
		{ID: ie.DestinationTransportPort, Length: 2},
		{ID: ie.ProtocolIdentifier, Length: 1},
		{ID: ie.TCPControlBits, Length: 1},
		{ID: ie.IngressInterface, Length: 4},
		{ID: ie.EgressInterface, Length: 4},
		{ID: ie.OctetDeltaCount, Length: 8},
		{ID: ie.PacketDeltaCount, Length: 8},
		{ID: ie.FlowStartSysUpTime, Length: 4},
		{ID: ie.FlowEndSysUpTime, Length: 4},
		{ID: ie.FlowDirection, Length: 1},
		{ID: ie.ForwardingStatus, Length: 1},
		{ID: ie.SamplingInterval, Length: 4},
	}
	fieldsIPv6 = append([]ie.Field{
		{ID: ie.SourceIPv6Address, Length: 16},
		{ID: ie.DestinationIPv6Address, Length: 16},
	}, fieldsIPv4[2:]...)
	scopeInterface   = []ie.Field{{ID: ie.ScopeInterface, Length: 4}}
	optionsInterface = []ie.Field{
		{ID: ie.IngressInterface, Length: 4}, // INPUT_SNMP, what nfdump keys names on
		{ID: ie.InterfaceName, Length: ie.InterfaceNameLen},
	}

	// templates is the Template FlowSet and the Options Template FlowSet
	// that the Finisher inserts after the header.
	templates = buildTemplates()
)

// TemplatesLen is the size of the template FlowSets that the Finisher
// inserts.
var TemplatesLen = len(templates)

// MinMTU is the smallest budget that holds the templates, an interface
// options record and an IPv6 flow.
var MinMTU = HeaderLen + TemplatesLen + setLen(RecordLenInterface) + setLen(RecordLenIPv6)

func buildTemplates() []byte {
	b := binary.BigEndian
	var t []byte
	// Template FlowSet (id 0) with both data templates.
	t = b.AppendUint16(t, 0)
	t = b.AppendUint16(t, 0) // length, below
	t = ie.AppendTemplate(t, TemplateIPv4, fieldsIPv4)
	t = ie.AppendTemplate(t, TemplateIPv6, fieldsIPv6)
	t = pad(t, 0)
	b.PutUint16(t[2:], uint16(len(t)))
	// Options Template FlowSet (id 1).
	o := len(t)
	t = b.AppendUint16(t, 1)
	t = b.AppendUint16(t, 0)
	t = b.AppendUint16(t, TemplateInterface)
	t = b.AppendUint16(t, uint16(4*len(scopeInterface)))
	t = b.AppendUint16(t, uint16(4*len(optionsInterface)))
	t = ie.AppendFields(t, scopeInterface)
	t = ie.AppendFields(t, optionsInterface)
	t = pad(t, o)
	b.PutUint16(t[o+2:], uint16(len(t)-o))
	return t
}

// pad zero-pads the FlowSet that starts at b[start:] to 4 bytes.
func pad(b []byte, start int) []byte {
	for (len(b)-start)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// setLen is the size of a FlowSet holding n bytes of records, padded.
func setLen(n int) int {
	if n == 0 {
		return 0
	}
	return (4 + n + 3) &^ 3
}

// Config configures an exporter identity.
type Config struct {
	SourceID uint32 // header Source ID (the Observation Domain)
	// MTU is the largest datagram (UDP payload) in bytes, templates
	// included; 0 means DefaultMTU. Valid: MinMTU..MaxMTU.
	MTU int
}

// MaxDatagram is the effective datagram budget.
func (c Config) MaxDatagram() int { return ie.MaxDatagram(c.MTU, DefaultMTU) }

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("invalid netflow v9 config")

// ErrFrame reports a frame that is not a staged NetFlow v9 packet.
var ErrFrame = errors.New("not a staged netflow v9 frame")

// Validate reports the problems of c.
func (c Config) Validate() error {
	return ie.CheckMTU(c.MaxDatagram(), MinMTU, MaxMTU, ErrConfig)
}

// Encoder packs records into staged NetFlow v9 packets. It is not safe for
// concurrent use.
type Encoder struct {
	emit     netflow.Emit
	sourceID uint32
	maxData  int // largest staged frame: budget less templates

	v4, v6, opt []byte // pending records, without FlowSet headers
	minT, maxT  int64  // earliest and latest flow time (Unix s) pending
	ifaces      ie.Interfaces
	out         []byte
}

var _ netflow.Encoder = (*Encoder)(nil)

// NewEncoder returns an Encoder that hands each full packet to emit. The
// first time the Encoder sees an ENI it adds an interface-name options
// record to the packet (v9 sequence numbers count packets, so these cost
// nothing but bytes).
func NewEncoder(cfg Config, emit netflow.Emit) (*Encoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := cfg.MaxDatagram()
	return &Encoder{
		emit:     emit,
		sourceID: cfg.SourceID,
		maxData:  m - TemplatesLen,
		v4:       make([]byte, 0, m),
		v6:       make([]byte, 0, m),
		opt:      make([]byte, 0, m),
		out:      make([]byte, 0, m),
	}, nil
}

// maxSeconds is the latest flow time a packet can carry: unix_secs is 32
// bits.
const maxSeconds = 1<<32 - 1

// MaxDurationSeconds is the longest end - start one record can carry: its
// Last must stay within netflow.MaxSpanMillis of the packet's boot.
const MaxDurationSeconds = flow.MaxDuration

var (
	// ErrTimeRange is returned by Add for a record whose start or end is
	// before 1970 or after 2106. It wraps netflow.ErrUnsupported.
	ErrTimeRange = fmt.Errorf("flow time outside netflow v9 range: %w", netflow.ErrUnsupported)
	// ErrAddress is returned by Add for a record whose addresses are not
	// both IPv4 or both IPv6 (IPv4-mapped IPv6 counts as neither). It
	// wraps netflow.ErrUnsupported.
	ErrAddress = fmt.Errorf("flow addresses not both IPv4 or both IPv6: %w", netflow.ErrUnsupported)
)

// Add encodes rec. It returns ErrAddress or ErrTimeRange (both wrap
// netflow.ErrUnsupported) for a record that v9 cannot carry.
func (e *Encoder) Add(rec *flow.Record) error {
	var recLen int
	switch {
	case rec.SrcAddr.Is4() && rec.DstAddr.Is4():
		recLen = RecordLenIPv4
	case rec.SrcAddr.Is6() && rec.DstAddr.Is6() && !rec.SrcAddr.Is4In6() && !rec.DstAddr.Is4In6():
		recLen = RecordLenIPv6
	default:
		return ErrAddress
	}
	lo, hi, err := flow.NormalizeTimes(rec.Start, rec.End)
	if err != nil {
		return ErrTimeRange
	}
	withIf := e.ifaces.First(rec)

	if pending := len(e.v4) + len(e.v6); pending > 0 {
		fits := netflow.FitsSpan(bootOf(min(lo, e.minT)), max(hi, e.maxT))
		if fits {
			o, l4, l6 := len(e.opt), len(e.v4), len(e.v6)
			if withIf {
				o += RecordLenInterface
			}
			if recLen == RecordLenIPv4 {
				l4 += recLen
			} else {
				l6 += recLen
			}
			fits = HeaderLen+setLen(o)+setLen(l4)+setLen(l6) <= e.maxData
		}
		if !fits {
			if err := e.flush(); err != nil {
				return err
			}
		}
	}
	if len(e.v4)+len(e.v6) == 0 {
		e.minT, e.maxT = lo, hi
	} else {
		e.minT, e.maxT = min(lo, e.minT), max(hi, e.maxT)
	}

	if withIf {
		e.opt = appendInterface(e.opt, rec)
	}
	if recLen == RecordLenIPv4 {
		a, d := rec.SrcAddr.As4(), rec.DstAddr.As4()
		e.v4 = append(e.v4, a[:]...)
		e.v4 = append(e.v4, d[:]...)
		e.v4 = appendCommon(e.v4, rec, lo, hi)
	} else {
		a, d := rec.SrcAddr.As16(), rec.DstAddr.As16()
		e.v6 = append(e.v6, a[:]...)
		e.v6 = append(e.v6, d[:]...)
		e.v6 = appendCommon(e.v6, rec, lo, hi)
	}
	return nil
}

// appendCommon appends the fields after the addresses. FIRST/LAST hold the
// absolute Unix seconds until flush makes them boot-relative.
func appendCommon(b []byte, rec *flow.Record, start, end int64) []byte {
	be := binary.BigEndian
	b = be.AppendUint16(b, rec.SrcPort)
	b = be.AppendUint16(b, rec.DstPort)
	b = append(b, rec.Protocol, rec.TCPFlags)
	b = be.AppendUint32(b, rec.InputIf())
	b = be.AppendUint32(b, rec.OutputIf())
	b = be.AppendUint64(b, rec.Bytes)
	b = be.AppendUint64(b, rec.Packets)
	b = be.AppendUint32(b, uint32(start))
	b = be.AppendUint32(b, uint32(end))
	b = append(b, ie.Direction(rec.Direction), ie.Forwarding(rec.Action))
	return be.AppendUint32(b, ie.SamplingRate)
}

func appendInterface(b []byte, rec *flow.Record) []byte {
	b = binary.BigEndian.AppendUint32(b, rec.IfIndex) // scope
	b = binary.BigEndian.AppendUint32(b, rec.IfIndex) // INPUT_SNMP
	n := len(b)
	b = append(b, make([]byte, ie.InterfaceNameLen)...)
	ie.PutString(b[n:], rec.InterfaceID)
	return b
}

// Flush emits the pending packet, if any.
func (e *Encoder) Flush() error {
	if len(e.v4)+len(e.v6) == 0 {
		return nil
	}
	return e.flush()
}

// Offsets of FIRST_SWITCHED in a record, after the addresses.
const (
	firstOffIPv4 = 38
	firstOffIPv6 = firstOffIPv4 + 24
)

func (e *Encoder) flush() error {
	be := binary.BigEndian
	boot := bootOf(e.minT)
	maxLast := uint32(e.maxT-boot) * 1000
	exportMillis, up := netflow.ExportClock(boot*1000, maxLast, time.Unix(0, 0))
	records := len(e.opt)/RecordLenInterface + len(e.v4)/RecordLenIPv4 + len(e.v6)/RecordLenIPv6

	b := e.out[:0]
	b = be.AppendUint16(b, Version)
	b = be.AppendUint16(b, uint16(records))
	b = be.AppendUint32(b, up)
	b = be.AppendUint32(b, uint32(exportMillis/1000))
	b = be.AppendUint32(b, 0) // sequence, stamped by the Finisher
	b = be.AppendUint32(b, e.sourceID)
	b = appendSet(b, TemplateInterface, e.opt)
	s := len(b) + 4
	b = appendSet(b, TemplateIPv4, e.v4)
	rebase(b[s:s+len(e.v4)], RecordLenIPv4, firstOffIPv4, boot)
	s = len(b) + 4
	b = appendSet(b, TemplateIPv6, e.v6)
	rebase(b[s:s+len(e.v6)], RecordLenIPv6, firstOffIPv6, boot)
	e.out = b

	e.v4, e.v6, e.opt = e.v4[:0], e.v6[:0], e.opt[:0]
	return e.emit(netflow.Frame{Data: b, Units: 1, Records: uint32(records)})
}

// rebase turns the absolute FIRST/LAST seconds of each record into
// milliseconds since boot.
func rebase(recs []byte, recLen, off int, boot int64) {
	be := binary.BigEndian
	for i := 0; i+recLen <= len(recs); i += recLen {
		p := recs[i+off : i+off+8]
		be.PutUint32(p, uint32(int64(be.Uint32(p))-boot)*1000)
		be.PutUint32(p[4:], uint32(int64(be.Uint32(p[4:]))-boot)*1000)
	}
}

func appendSet(b []byte, id uint16, recs []byte) []byte {
	if len(recs) == 0 {
		return b
	}
	n := setLen(len(recs))
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	b = append(b, recs...)
	for range n - 4 - len(recs) {
		b = append(b, 0)
	}
	return b
}

// Finisher completes staged NetFlow v9 frames. The zero value is ready.
type Finisher struct{}

var _ netflow.Finisher = Finisher{}

// Finish appends to dst the packet for f with sequence seq and an export
// time from netflow.ExportClock (now, or the virtual time for flows that
// now cannot carry), inserting the template FlowSets after the header when
// withTemplates is set.
func (Finisher) Finish(dst []byte, f netflow.Frame, seq uint32, now time.Time, withTemplates bool) ([]byte, error) {
	d := f.Data
	be := binary.BigEndian
	if len(d) < HeaderLen || be.Uint16(d) != Version {
		return dst, ErrFrame
	}
	count := int(be.Uint16(d[2:]))
	maxLast := be.Uint32(d[4:])
	boot := int64(be.Uint32(d[8:]))*1000 - int64(maxLast)
	exportMillis, up := netflow.ExportClock(boot, maxLast, now.Truncate(time.Second))
	if exportMillis < 0 || exportMillis/1000 > maxSeconds {
		return dst, fmt.Errorf("netflow v9: export time %v: %w", time.UnixMilli(exportMillis), ErrFrame)
	}
	if withTemplates {
		count += TemplateRecords
		if count > 0xFFFF {
			return dst, fmt.Errorf("netflow v9: %d records: %w", count, ErrFrame)
		}
	}
	dst = be.AppendUint16(dst, Version)
	dst = be.AppendUint16(dst, uint16(count))
	dst = be.AppendUint32(dst, up)
	dst = be.AppendUint32(dst, uint32(exportMillis/1000))
	dst = be.AppendUint32(dst, seq)
	dst = append(dst, d[16:HeaderLen]...) // Source ID
	if withTemplates {
		dst = append(dst, templates...)
	}
	return append(dst, d[HeaderLen:]...), nil
}

// Templates returns the template FlowSets that Finish inserts (a copy).
func Templates() []byte { return append([]byte(nil), templates...) }

// bootOf is the virtual boot (Unix seconds) of a packet whose earliest flow
// starts at minStart: a second earlier, so every FIRST_SWITCHED is at least
// 1000 ms.
func bootOf(minStart int64) int64 { return max(minStart-1, 0) }
