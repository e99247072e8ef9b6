// Package ipfix encodes flow records as IPFIX messages (RFC 7011, RFC 7012).
//
// An Encoder packs records into staged frames at parse time; a Finisher
// stamps them at send time (see package netflow). Each frame is one message
// holding up to three Data Sets: interface-name options records (template
// 258), IPv4 flows (template 256) and IPv6 flows (template 257), in that
// order, unpadded. The Finisher inserts the Template Set and the Options
// Template Set after the header when asked to.
//
// Sequence numbers count data records (RFC 7011 §3.1), options data
// records included: Frame.Units = Frame.Records = flows + interface-name
// options records of the message. Template records do not count. The
// interface-name records are off by default (see Config.InterfaceNames):
// then Units is the number of flows, which every collector agrees on.
//
// Flow times are absolute flowStartMilliseconds/flowEndMilliseconds
// (152/153); the export time is the send time. Every finished message,
// templates included, is at most Config.MTU bytes.
//
// # Field mapping
//
//	| flow-log field | IPFIX element (id, length) | note |
//	|---|---|---|
//	| srcaddr / pkt-srcaddr | sourceIPv4Address (8, 4) or sourceIPv6Address (27, 16) | template 256 or 257 |
//	| dstaddr / pkt-dstaddr | destinationIPv4Address (12, 4) or destinationIPv6Address (28, 16) | |
//	| srcport | sourceTransportPort (7, 2) | |
//	| dstport | destinationTransportPort (11, 2) | |
//	| protocol | protocolIdentifier (4, 1) | |
//	| tcp-flags | tcpControlBits (6, 1) | reduced-size: what nfdump 1.7 maps |
//	| bytes | octetDeltaCount (1, 8) | |
//	| packets | packetDeltaCount (2, 8) | |
//	| start | flowStartMilliseconds (152, 8) | start × 1000 |
//	| end | flowEndMilliseconds (153, 8) | end × 1000 |
//	| interface-id, flow-direction | ingressInterface (10, 4), egressInterface (14, 4) | flow.IfIndex(ENI) as ingress (ingress or no direction) or egress (egress), the other 0 |
//	| flow-direction | flowDirection (61, 1) | ingress 0, egress 1, '-' 0 |
//	| action | forwardingStatus (89, 1) | ACCEPT 0x40 forwarded, REJECT 0x81 dropped (ACL deny), '-' 0 unknown |
//	| action | firewallEvent (233, 1) | REJECT 3 denied, ACCEPT and '-' 0 ignore |
//	| (none) | samplingInterval (34, 4) | always 1: flow logs are unsampled |
//	| interface-id | options (template 258): scope ingressInterface (10, 4) = ifIndex, interfaceName (82, 32) = ENI id | only with Config.InterfaceNames; first time an encoder sees an ENI; NUL-padded, at most 31 bytes |
//	| account-id, vpc-id, subnet-id, instance-id, traffic-path, region, az-id, pkt-src/dst-aws-service, sublocation-*, ecs-*, log-status | not carried | no standard element; separate them by receiver Observation Domain if needed |
package ipfix

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/ie"
)

// Wire constants.
const (
	Version   = 10
	HeaderLen = 16

	// Template ids. They never change: collectors key data on them.
	TemplateIPv4      uint16 = 256
	TemplateIPv6      uint16 = 257
	TemplateInterface uint16 = 258 // options: interface names

	// DefaultMTU is the default message budget: a 1500-byte IPv4 path less
	// 28 bytes of IP and UDP headers (RFC 7011 §10.3.3).
	DefaultMTU = 1472
	// MaxMTU is the largest IPFIX message (16-bit Length).
	MaxMTU = 65535
)

// Record lengths in bytes.
const (
	RecordLenIPv4      = 61
	RecordLenIPv6      = 85
	RecordLenInterface = 4 + ie.InterfaceNameLen
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
		{ID: ie.FlowStartMilliseconds, Length: 8},
		{ID: ie.FlowEndMilliseconds, Length: 8},
		{ID: ie.FlowDirection, Length: 1},
		{ID: ie.ForwardingStatus, Length: 1},
		{ID: ie.FirewallEvent, Length: 1},
		{ID: ie.SamplingInterval, Length: 4},
	}
	fieldsIPv6 = append([]ie.Field{
		{ID: ie.SourceIPv6Address, Length: 16},
		{ID: ie.DestinationIPv6Address, Length: 16},
	}, fieldsIPv4[2:]...)
	fieldsInterface = []ie.Field{ // the first is the scope
		{ID: ie.IngressInterface, Length: 4},
		{ID: ie.InterfaceName, Length: ie.InterfaceNameLen},
	}

	// templates is the Template Set and the Options Template Set that the
	// Finisher inserts after the header.
	templates = buildTemplates()
)

// TemplatesLen is the size of the template sets that the Finisher inserts.
var TemplatesLen = len(templates)

// MinMTU is the smallest budget that holds the templates, an interface
// options record and an IPv6 flow.
var MinMTU = HeaderLen + TemplatesLen + 4 + RecordLenInterface + 4 + RecordLenIPv6

func buildTemplates() []byte {
	be := binary.BigEndian
	var t []byte
	// Template Set (id 2) with both data templates.
	t = be.AppendUint16(t, 2)
	t = be.AppendUint16(t, 0) // length, below
	t = ie.AppendTemplate(t, TemplateIPv4, fieldsIPv4)
	t = ie.AppendTemplate(t, TemplateIPv6, fieldsIPv6)
	be.PutUint16(t[2:], uint16(len(t)))
	// Options Template Set (id 3).
	o := len(t)
	t = be.AppendUint16(t, 3)
	t = be.AppendUint16(t, 0)
	t = be.AppendUint16(t, TemplateInterface)
	t = be.AppendUint16(t, uint16(len(fieldsInterface)))
	t = be.AppendUint16(t, 1) // scope field count
	t = ie.AppendFields(t, fieldsInterface)
	be.PutUint16(t[o+2:], uint16(len(t)-o))
	return t
}

// Config configures an exporter identity.
type Config struct {
	ObservationDomain uint32
	// InterfaceNames sends an interface-name options record (template
	// 258) the first time the encoder sees an ENI. Off by default: such
	// records count in the sequence number (RFC 7011 §3.1, as pmacct,
	// Wireshark and Akvorado count them), but nfdump 1.7.1 does not count
	// them and reports a sequence failure after each message holding one.
	InterfaceNames bool
	// MTU is the largest message (UDP payload) in bytes, templates
	// included; 0 means DefaultMTU. Valid: MinMTU..MaxMTU.
	MTU int
}

// MaxDatagram is the effective message budget.
func (c Config) MaxDatagram() int { return ie.MaxDatagram(c.MTU, DefaultMTU) }

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("invalid ipfix config")

// ErrFrame reports a frame that is not a staged IPFIX message.
var ErrFrame = errors.New("not a staged ipfix frame")

// Validate reports the problems of c.
func (c Config) Validate() error {
	return ie.CheckMTU(c.MaxDatagram(), MinMTU, MaxMTU, ErrConfig)
}

// Encoder packs records into staged IPFIX messages. It is not safe for
// concurrent use.
type Encoder struct {
	emit    netflow.Emit
	odid    uint32
	names   bool
	maxData int // largest staged frame: budget less templates

	v4, v6, opt []byte // pending records, without set headers
	size        int    // staged size of the pending message
	ifaces      ie.Interfaces
	out         []byte
}

var _ netflow.Encoder = (*Encoder)(nil)

// NewEncoder returns an Encoder that hands each full message to emit.
func NewEncoder(cfg Config, emit netflow.Emit) (*Encoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := cfg.MaxDatagram()
	return &Encoder{
		emit:    emit,
		odid:    cfg.ObservationDomain,
		names:   cfg.InterfaceNames,
		maxData: m - TemplatesLen,
		v4:      make([]byte, 0, m),
		v6:      make([]byte, 0, m),
		opt:     make([]byte, 0, m),
		out:     make([]byte, 0, m),
		size:    HeaderLen,
	}, nil
}

// maxSeconds is the latest flow time: the rule every encoder shares
// (flow.NormalizeTimes) keeps times within the 32-bit export time.
const maxSeconds = flow.MaxTime

var (
	// ErrTimeRange is returned by Add for a record whose start or end is
	// outside 1970-01-01..2106-02-07 (flow.NormalizeTimes). It wraps
	// netflow.ErrUnsupported.
	ErrTimeRange = fmt.Errorf("flow time outside ipfix range: %w", netflow.ErrUnsupported)
	// ErrAddress is returned by Add for a record whose addresses are not
	// both IPv4 or both IPv6 (IPv4-mapped IPv6 counts as neither). It
	// wraps netflow.ErrUnsupported.
	ErrAddress = fmt.Errorf("flow addresses not both IPv4 or both IPv6: %w", netflow.ErrUnsupported)
)

// Add encodes rec. It returns ErrAddress or ErrTimeRange (both wrap
// netflow.ErrUnsupported) for a record that IPFIX cannot carry. Times follow
// flow.NormalizeTimes, as in v5 and v9: a missing start or end takes the
// other's value, end < start is sent as end = start, a duration above
// flow.MaxDuration is cut to it, and times outside 1970-01-01..2106-02-07
// are ErrTimeRange.
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
	start, end, err := flow.NormalizeTimes(rec.Start, rec.End)
	if err != nil {
		return ErrTimeRange
	}
	withIf := e.names && e.ifaces.First(rec)

	grow := recLen
	if recLen == RecordLenIPv4 && len(e.v4) == 0 || recLen == RecordLenIPv6 && len(e.v6) == 0 {
		grow += 4
	}
	if withIf {
		grow += RecordLenInterface
		if len(e.opt) == 0 {
			grow += 4
		}
	}
	if e.size+grow > e.maxData {
		if err := e.flush(); err != nil {
			return err
		}
		grow = 4 + recLen
		if withIf {
			grow += 4 + RecordLenInterface
		}
	}
	e.size += grow

	be := binary.BigEndian
	if withIf {
		e.opt = be.AppendUint32(e.opt, rec.IfIndex)
		n := len(e.opt)
		e.opt = append(e.opt, make([]byte, ie.InterfaceNameLen)...)
		ie.PutString(e.opt[n:], rec.InterfaceID)
	}
	if recLen == RecordLenIPv4 {
		a, d := rec.SrcAddr.As4(), rec.DstAddr.As4()
		e.v4 = append(e.v4, a[:]...)
		e.v4 = append(e.v4, d[:]...)
		e.v4 = appendCommon(e.v4, rec, start, end)
	} else {
		a, d := rec.SrcAddr.As16(), rec.DstAddr.As16()
		e.v6 = append(e.v6, a[:]...)
		e.v6 = append(e.v6, d[:]...)
		e.v6 = appendCommon(e.v6, rec, start, end)
	}
	return nil
}

// appendCommon appends the fields after the addresses.
func appendCommon(b []byte, rec *flow.Record, start, end int64) []byte {
	be := binary.BigEndian
	b = be.AppendUint16(b, rec.SrcPort)
	b = be.AppendUint16(b, rec.DstPort)
	b = append(b, rec.Protocol, rec.TCPFlags)
	b = be.AppendUint32(b, rec.InputIf())
	b = be.AppendUint32(b, rec.OutputIf())
	b = be.AppendUint64(b, rec.Bytes)
	b = be.AppendUint64(b, rec.Packets)
	b = be.AppendUint64(b, uint64(start)*1000)
	b = be.AppendUint64(b, uint64(end)*1000)
	b = append(b, ie.Direction(rec.Direction), ie.Forwarding(rec.Action), ie.Firewall(rec.Action))
	return be.AppendUint32(b, ie.SamplingRate)
}

// Flush emits the pending message, if any.
func (e *Encoder) Flush() error {
	if len(e.v4)+len(e.v6) == 0 {
		return nil
	}
	return e.flush()
}

func (e *Encoder) flush() error {
	be := binary.BigEndian
	records := len(e.opt)/RecordLenInterface + len(e.v4)/RecordLenIPv4 + len(e.v6)/RecordLenIPv6
	b := e.out[:0]
	b = be.AppendUint16(b, Version)
	b = be.AppendUint16(b, uint16(e.size))
	b = be.AppendUint32(b, 0) // export time, stamped by the Finisher
	b = be.AppendUint32(b, 0) // sequence, stamped by the Finisher
	b = be.AppendUint32(b, e.odid)
	b = appendSet(b, TemplateInterface, e.opt)
	b = appendSet(b, TemplateIPv4, e.v4)
	b = appendSet(b, TemplateIPv6, e.v6)
	e.out = b
	e.v4, e.v6, e.opt = e.v4[:0], e.v6[:0], e.opt[:0]
	e.size = HeaderLen
	return e.emit(netflow.Frame{Data: b, Units: uint32(records), Records: uint32(records)})
}

func appendSet(b []byte, id uint16, recs []byte) []byte {
	if len(recs) == 0 {
		return b
	}
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(recs)))
	return append(b, recs...)
}

// Finisher completes staged IPFIX frames. The zero value is ready.
type Finisher struct{}

var _ netflow.Finisher = Finisher{}

// Finish appends to dst the message for f with sequence seq and export
// time now (seconds), inserting the template sets after the header when
// withTemplates is set.
func (Finisher) Finish(dst []byte, f netflow.Frame, seq uint32, now time.Time, withTemplates bool) ([]byte, error) {
	d := f.Data
	be := binary.BigEndian
	if len(d) < HeaderLen || be.Uint16(d) != Version || int(be.Uint16(d[2:])) != len(d) {
		return dst, ErrFrame
	}
	n := len(d)
	if withTemplates {
		n += TemplatesLen
	}
	if n > MaxMTU {
		return dst, fmt.Errorf("ipfix: message of %d bytes: %w", n, ErrFrame)
	}
	t := now.Unix()
	if t < 0 || t > math.MaxUint32 {
		return dst, fmt.Errorf("ipfix: export time %v: %w", now, ErrFrame)
	}
	dst = be.AppendUint16(dst, Version)
	dst = be.AppendUint16(dst, uint16(n))
	dst = be.AppendUint32(dst, uint32(t))
	dst = be.AppendUint32(dst, seq)
	dst = append(dst, d[12:HeaderLen]...) // Observation Domain ID
	if withTemplates {
		dst = append(dst, templates...)
	}
	return append(dst, d[HeaderLen:]...), nil
}

// Templates returns the template sets that Finish inserts (a copy).
func Templates() []byte { return append([]byte(nil), templates...) }
