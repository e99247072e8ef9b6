package flowlog

import (
	"fmt"
	"math"
	"net/netip"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// fill converts the raw values of a data line into rec.
func (p *Parser) fill(f *Format, raw *[numUsed][]byte, lineNo int64, rec *flow.Record) (SkipReason, *LineError, error) {
	fail := func(fld field, err error) (SkipReason, *LineError, error) {
		return ReasonMalformed, fieldError(f, lineNo, fld, raw[fld], err), nil
	}

	if v := raw[fLogStatus]; v != nil && !isDash(v) && string(v) != "OK" {
		switch {
		case equalFold(v, "NODATA"):
			return ReasonNoData, nil, nil
		case equalFold(v, "SKIPDATA"):
			return ReasonSkipData, nil, nil
		case !equalFold(v, "OK"):
			return fail(fLogStatus, ErrInvalidValue)
		}
	}

	*rec = flow.Record{Line: lineNo}
	var lerr *LineError
	if rec.SrcAddr, lerr = p.addr(f, raw, lineNo, fPktSrcAddr, fSrcAddr); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	if rec.DstAddr, lerr = p.addr(f, raw, lineNo, fPktDstAddr, fDstAddr); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	if rec.SrcAddr.Is4() != rec.DstAddr.Is4() {
		return ReasonMalformed, &LineError{Line: lineNo, Err: fmt.Errorf("%s and %s: %w",
			rec.SrcAddr, rec.DstAddr, ErrFamilyMismatch)}, nil
	}

	var v uint64
	if v, lerr = uintField(f, raw, lineNo, fSrcPort, 0xffff); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	rec.SrcPort = uint16(v)
	if v, lerr = uintField(f, raw, lineNo, fDstPort, 0xffff); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	rec.DstPort = uint16(v)
	if v, lerr = uintField(f, raw, lineNo, fProtocol, 0xff); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	rec.Protocol = uint8(v)
	if v, lerr = uintField(f, raw, lineNo, fTCPFlags, 0xff); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	rec.TCPFlags = uint8(v)
	if v, lerr = uintField(f, raw, lineNo, fTrafficPath, 0xff); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	rec.TrafficPath = uint8(v)
	if rec.Packets, lerr = uintField(f, raw, lineNo, fPackets, math.MaxUint64); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	if rec.Bytes, lerr = uintField(f, raw, lineNo, fBytes, math.MaxUint64); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	if v, lerr = uintField(f, raw, lineNo, fStart, math.MaxInt64); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	rec.Start = int64(v)
	if v, lerr = uintField(f, raw, lineNo, fEnd, math.MaxInt64); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	rec.End = int64(v)

	switch b := raw[fAction]; {
	case b == nil || isDash(b):
	case string(b) == "ACCEPT" || equalFold(b, "ACCEPT"):
		rec.Action = flow.ActionAccept
	case equalFold(b, "REJECT"):
		rec.Action = flow.ActionReject
	default:
		return fail(fAction, ErrInvalidValue)
	}
	switch b := raw[fFlowDirection]; {
	case b == nil || isDash(b):
	case equalFold(b, "ingress"):
		rec.Direction = flow.DirectionIngress
	case equalFold(b, "egress"):
		rec.Direction = flow.DirectionEgress
	default:
		return fail(fFlowDirection, ErrInvalidValue)
	}

	if b := raw[fInterfaceID]; b != nil && !isDash(b) {
		rec.InterfaceID, rec.IfIndex = p.intern.iface(b)
	}
	if b := raw[fAccountID]; b != nil && !isDash(b) && !equalFold(b, "unknown") {
		rec.AccountID = p.intern.str(b)
	}
	if b := raw[fVPCID]; b != nil && !isDash(b) {
		rec.VPCID = p.intern.str(b)
	}
	if b := raw[fSubnetID]; b != nil && !isDash(b) {
		rec.SubnetID = p.intern.str(b)
	}
	if b := raw[fInstanceID]; b != nil && !isDash(b) {
		rec.InstanceID = p.intern.str(b)
	}

	if p.opts.Filter != nil && !p.opts.Filter(rec) {
		return ReasonFiltered, nil, nil
	}
	return ReasonNone, nil, nil
}

// addr returns the source (pkt, iface = fPktSrcAddr, fSrcAddr) or
// destination address of a line according to the address mode.
func (p *Parser) addr(f *Format, raw *[numUsed][]byte, lineNo int64, pkt, iface field) (netip.Addr, *LineError) {
	use := iface
	switch p.opts.AddressMode {
	case AddressPacket:
		use = pkt
	case AddressInterface:
	default:
		if b := raw[pkt]; b != nil && !isDash(b) {
			use = pkt
		}
	}
	b := raw[use]
	if b == nil {
		return netip.Addr{}, &LineError{Line: lineNo,
			Err: fmt.Errorf("format has no %s (address mode %s): %w", fields[use].name, p.opts.AddressMode, ErrMissingAddr)}
	}
	if isDash(b) {
		return netip.Addr{}, fieldError(f, lineNo, use, b, ErrMissingAddr)
	}
	a, ok := parseAddr(b)
	if !ok {
		return netip.Addr{}, fieldError(f, lineNo, use, b, ErrInvalidAddr)
	}
	return a, nil
}

// uintField returns the value of numeric field fld, 0 when absent or '-'.
func uintField(f *Format, raw *[numUsed][]byte, lineNo int64, fld field, max uint64) (uint64, *LineError) {
	b := raw[fld]
	if b == nil || isDash(b) {
		return 0, nil
	}
	v, err := parseUint(b, max)
	if err != nil {
		return 0, fieldError(f, lineNo, fld, b, err)
	}
	return v, nil
}

// fieldError describes a bad value v of field fld.
func fieldError(f *Format, lineNo int64, fld field, v []byte, err error) *LineError {
	col := int(f.col[fld])
	return &LineError{Line: lineNo, Field: col + 1, Name: f.names[col], Value: shorten(v), Err: err}
}
