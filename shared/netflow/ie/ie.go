// Package ie holds the information elements that the NetFlow v9 (nfv9) and
// IPFIX (ipfix) encoders share: element ids (IANA "IPFIX Information
// Elements"; ids 1-127 are also the NetFlow v9 field types of RFC 3954 §8),
// how a flow-log record's action and direction map to element values, and
// the template record encoding and datagram budget check that the two
// encoders have in common.
package ie

import (
	"encoding/binary"
	"fmt"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// Element ids. The comment gives the NetFlow v9 name where it differs.
const (
	OctetDeltaCount          uint16 = 1   // IN_BYTES
	PacketDeltaCount         uint16 = 2   // IN_PKTS
	ProtocolIdentifier       uint16 = 4   // PROTOCOL
	TCPControlBits           uint16 = 6   // TCP_FLAGS
	SourceTransportPort      uint16 = 7   // L4_SRC_PORT
	SourceIPv4Address        uint16 = 8   // IPV4_SRC_ADDR
	IngressInterface         uint16 = 10  // INPUT_SNMP
	DestinationTransportPort uint16 = 11  // L4_DST_PORT
	DestinationIPv4Address   uint16 = 12  // IPV4_DST_ADDR
	EgressInterface          uint16 = 14  // OUTPUT_SNMP
	FlowEndSysUpTime         uint16 = 21  // LAST_SWITCHED
	FlowStartSysUpTime       uint16 = 22  // FIRST_SWITCHED
	SourceIPv6Address        uint16 = 27  // IPV6_SRC_ADDR
	DestinationIPv6Address   uint16 = 28  // IPV6_DST_ADDR
	SamplingInterval         uint16 = 34  // SAMPLING_INTERVAL
	FlowDirection            uint16 = 61  // DIRECTION
	InterfaceName            uint16 = 82  // IF_NAME
	InterfaceDescription     uint16 = 83  // IF_DESC
	ForwardingStatus         uint16 = 89  // FORWARDING_STATUS (Cisco)
	FlowStartMilliseconds    uint16 = 152 // IPFIX only here
	FlowEndMilliseconds      uint16 = 153
	FirewallEvent            uint16 = 233
)

// NetFlow v9 options scope field types (RFC 3954 §6.1).
const (
	ScopeSystem    uint16 = 1
	ScopeInterface uint16 = 2
)

// Field is one template field specifier: element id and encoded length.
type Field struct {
	ID, Length uint16
}

// AppendFields appends the field specifiers of fields: element id and
// length, no enterprise number (RFC 3954 §5.2, RFC 7011 §3.2).
func AppendFields(b []byte, fields []Field) []byte {
	for _, f := range fields {
		b = binary.BigEndian.AppendUint16(b, f.ID)
		b = binary.BigEndian.AppendUint16(b, f.Length)
	}
	return b
}

// AppendTemplate appends a template record: template id, field count and
// field specifiers (RFC 3954 §5.2, RFC 7011 §3.4.1).
func AppendTemplate(b []byte, id uint16, fields []Field) []byte {
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, uint16(len(fields)))
	return AppendFields(b, fields)
}

// MaxDatagram is the datagram budget for a configured MTU: mtu, or def
// when mtu is 0.
func MaxDatagram(mtu, def int) int {
	if mtu == 0 {
		return def
	}
	return mtu
}

// CheckMTU reports a datagram budget m outside lo..hi as an error wrapping
// errConfig.
func CheckMTU(m, lo, hi int, errConfig error) error {
	if m < lo || m > hi {
		return fmt.Errorf("mtu %d outside %d..%d: %w", m, lo, hi, errConfig)
	}
	return nil
}

// Values of flowDirection (61).
const (
	DirIngress uint8 = 0
	DirEgress  uint8 = 1
)

// Values of forwardingStatus (89): top two bits are the status (01
// forwarded, 10 dropped), the low six the reason (IANA forwardingStatus
// registry; Wireshark's v9_forwarding_status tables).
const (
	FwdUnknown        uint8 = 0x00 // unknown status, unknown reason
	FwdForwarded      uint8 = 0x40 // forwarded, unknown reason
	FwdDroppedACLDeny uint8 = 0x81 // dropped, ACL deny
)

// Values of firewallEvent (233) (IANA firewallEvent registry).
const (
	FWIgnore  uint8 = 0 // "ignore (invalid)": no event to report
	FWCreated uint8 = 1
	FWDenied  uint8 = 3
)

// SamplingRate is what the encoders put in samplingInterval (34): flow
// logs are not sampled, one packet in one. Collectors that refuse flows
// without a rate (Akvorado) accept them; the others multiply by 1.
const SamplingRate uint32 = 1

// Direction maps a flow-log direction to flowDirection. A missing
// direction is reported as ingress, as flow.Record.InputIf reports the ENI
// as the input interface then.
func Direction(d flow.Direction) uint8 {
	if d == flow.DirectionEgress {
		return DirEgress
	}
	return DirIngress
}

// Forwarding maps a flow-log action to forwardingStatus: ACCEPT is
// forwarded, REJECT (a security group or network ACL said no) is "dropped,
// ACL deny", a missing action is unknown.
func Forwarding(a flow.Action) uint8 {
	switch a {
	case flow.ActionAccept:
		return FwdForwarded
	case flow.ActionReject:
		return FwdDroppedACLDeny
	}
	return FwdUnknown
}

// Firewall maps a flow-log action to firewallEvent: REJECT is "flow
// denied"; ACCEPT and a missing action are "ignore", since a flow-log
// record is an aggregation window of traffic, not the creation of a
// connection (a long connection appears in many records).
func Firewall(a flow.Action) uint8 {
	if a == flow.ActionReject {
		return FWDenied
	}
	return FWIgnore
}

// Interface-name options records (one per ENI, keyed by its ifIndex)
// carry the ENI id as interfaceName: a fixed-length, NUL-padded string.
// Fixed, because nfdump reads option fields at fixed offsets; it also
// overwrites the last byte with a NUL, so a value keeps at most
// InterfaceNameLen-1 bytes. (nfdump 1.7.1 mis-sizes an options record that
// also holds interfaceDescription (83), so none is sent.)
const InterfaceNameLen = 32

// PutString writes s into dst (a fixed-length field), truncated to
// len(dst)-1 bytes without splitting a UTF-8 sequence, and NUL-padded.
func PutString(dst []byte, s string) {
	n := len(s)
	if n > len(dst)-1 {
		n = len(dst) - 1
		for n > 0 && s[n]&0xC0 == 0x80 { // s[n] continues a sequence
			n--
		}
	}
	copy(dst, s[:n])
	clear(dst[n:])
}

// Interfaces remembers which ENIs an encoder has named in an
// interface-name options record, so that it sends one when an ENI first
// appears. The zero value is ready to use.
type Interfaces struct {
	seen map[string]struct{}
	last string // InterfaceID of the previous call, a fast path
}

// First reports whether rec's ENI appears for the first time, and
// remembers it. It is false for a record without an ENI.
func (t *Interfaces) First(rec *flow.Record) bool {
	id := rec.InterfaceID
	if id == "" || id == t.last {
		return false
	}
	t.last = id
	if _, ok := t.seen[id]; ok {
		return false
	}
	if t.seen == nil {
		t.seen = make(map[string]struct{})
	}
	t.seen[id] = struct{}{}
	return true
}
