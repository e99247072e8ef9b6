// Package flow defines the one normalized flow record that the flow-log
// parser produces and every NetFlow/IPFIX encoder consumes.
package flow

import (
	"hash/fnv"
	"net/netip"
)

// Action is the flow-log action: whether security groups and network ACLs
// allowed the traffic.
type Action uint8

// Actions. ActionUnknown stands for '-' or a missing action field.
const (
	ActionUnknown Action = iota
	ActionAccept
	ActionReject
)

// String returns the flow-log spelling of a.
func (a Action) String() string {
	switch a {
	case ActionAccept:
		return "ACCEPT"
	case ActionReject:
		return "REJECT"
	}
	return "-"
}

// Direction is the flow-log flow-direction relative to the capturing
// network interface.
type Direction uint8

// Directions. DirectionUnknown stands for '-' or a missing field.
const (
	DirectionUnknown Direction = iota
	DirectionIngress
	DirectionEgress
)

// String returns the flow-log spelling of d.
func (d Direction) String() string {
	switch d {
	case DirectionIngress:
		return "ingress"
	case DirectionEgress:
		return "egress"
	}
	return "-"
}

// Record is one flow: one flow-log line with log-status OK.
//
// String fields are interned by the parser: equal values share one string,
// so parsing a line does not allocate once its values have been seen.
type Record struct {
	SrcAddr, DstAddr netip.Addr // IPv4 or IPv6 (never 4in6)
	SrcPort, DstPort uint16
	Protocol         uint8 // IANA protocol number
	TCPFlags         uint8 // flow-log tcp-flags (FIN 1, SYN 2, RST 4, SYN-ACK 18)
	Packets, Bytes   uint64
	Start, End       int64 // Unix seconds, as in the flow log
	Action           Action
	Direction        Direction
	TrafficPath      uint8 // flow-log traffic-path, 0 when absent or '-'

	InterfaceID string // ENI id ("eni-..."), "" when absent or '-'
	IfIndex     uint32 // IfIndex(InterfaceID), 0 when InterfaceID is ""
	AccountID   string // "" when absent, '-' or "unknown"
	VPCID       string
	SubnetID    string
	InstanceID  string

	Line int64 // 1-based line number in the source object
}

// IsIPv6 reports whether the record's addresses are IPv6.
func (r *Record) IsIPv6() bool { return r.SrcAddr.Is6() }

// InputIf and OutputIf give the NetFlow ingress and egress interface
// indexes: an ingress flow entered the ENI (input = ENI, output = 0), an
// egress flow left it (input = 0, output = ENI). Without a flow-direction
// the ENI is reported as the input interface.
func (r *Record) InputIf() uint32 {
	if r.Direction == DirectionEgress {
		return 0
	}
	return r.IfIndex
}

// OutputIf: see InputIf.
func (r *Record) OutputIf() uint32 {
	if r.Direction == DirectionEgress {
		return r.IfIndex
	}
	return 0
}

// IfIndex maps an interface id to a stable, non-zero 32-bit interface index
// (FNV-1a of the id), the same in every process and Lambda invocation, so
// chunks parsed apart agree. It returns 0 for "".
func IfIndex(interfaceID string) uint32 {
	if interfaceID == "" {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(interfaceID))
	v := h.Sum32()
	if v == 0 {
		v = 1
	}
	return v
}

// IfIndex16 folds a 32-bit interface index into NetFlow v5's 16 bits,
// keeping 0 for "no interface" and never producing 0 otherwise.
func IfIndex16(ifIndex uint32) uint16 {
	if ifIndex == 0 {
		return 0
	}
	v := uint16(ifIndex ^ ifIndex>>16)
	if v == 0 {
		v = 1
	}
	return v
}
