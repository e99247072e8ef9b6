package flowlog

import (
	"fmt"
	"net/netip"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// fill converts the values of a data line, found by split, into rec. The
// order of the checks decides which error a line with several bad values
// reports.
func (p *Parser) fill(f *Format, line []byte, lineNo int64, rec *flow.Record) (SkipReason, *LineError, error) {
	vals := &p.vals
	raw := func(fld field) []byte { return vals.get(line, fld) }
	fail := func(fld field, err error) (SkipReason, *LineError, error) {
		return ReasonMalformed, fieldError(f, lineNo, fld, raw(fld), err), nil
	}

	if v := raw(fLogStatus); v != nil && !isDash(v) && string(v) != "OK" {
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
	if rec.SrcAddr, lerr = p.addr(f, line, lineNo, fPktSrcAddr, fSrcAddr); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	if rec.DstAddr, lerr = p.addr(f, line, lineNo, fPktDstAddr, fDstAddr); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	if rec.SrcAddr.Is4() != rec.DstAddr.Is4() {
		return ReasonMalformed, &LineError{Line: lineNo, Err: fmt.Errorf("%s and %s: %w",
			rec.SrcAddr, rec.DstAddr, ErrFamilyMismatch)}, nil
	}

	if lerr = vals.numbers(f, line, lineNo); lerr != nil {
		return ReasonMalformed, lerr, nil
	}
	rec.SrcPort, rec.DstPort = uint16(vals.num[fSrcPort]), uint16(vals.num[fDstPort])
	rec.Protocol, rec.TCPFlags = uint8(vals.num[fProtocol]), uint8(vals.num[fTCPFlags])
	rec.TrafficPath = uint8(vals.num[fTrafficPath])
	rec.Packets, rec.Bytes = vals.num[fPackets], vals.num[fBytes]
	if rec.Start, rec.End, lerr = normalizeTimes(f, line, lineNo, vals); lerr != nil {
		return ReasonMalformed, lerr, nil
	}

	switch b := raw(fAction); {
	case b == nil || isDash(b):
	case string(b) == "ACCEPT" || equalFold(b, "ACCEPT"):
		rec.Action = flow.ActionAccept
	case equalFold(b, "REJECT"):
		rec.Action = flow.ActionReject
	default:
		return fail(fAction, ErrInvalidValue)
	}
	switch b := raw(fFlowDirection); {
	case b == nil || isDash(b):
	case equalFold(b, "ingress"):
		rec.Direction = flow.DirectionIngress
	case equalFold(b, "egress"):
		rec.Direction = flow.DirectionEgress
	default:
		return fail(fFlowDirection, ErrInvalidValue)
	}

	if b := raw(fInterfaceID); b != nil && !isDash(b) {
		rec.InterfaceID, rec.IfIndex = p.intern.iface(b)
	} else if b := raw(fTGWAttachmentID); b != nil && !isDash(b) {
		// A Transit Gateway record: the attachment it was recorded on
		// stands for the interface (ingress or egress by flow-direction).
		rec.InterfaceID, rec.IfIndex = p.intern.iface(b)
	}
	if b := raw(fAccountID); b != nil && !isDash(b) && !equalFold(b, "unknown") {
		rec.AccountID = p.intern.str(b)
	}
	if b := raw(fVPCID); b != nil && !isDash(b) {
		rec.VPCID = p.intern.str(b)
	}
	if b := raw(fSubnetID); b != nil && !isDash(b) {
		rec.SubnetID = p.intern.str(b)
	}
	if b := raw(fInstanceID); b != nil && !isDash(b) {
		rec.InstanceID = p.intern.str(b)
	}

	if p.opts.Filter != nil && !p.opts.Filter(rec) {
		return ReasonFiltered, nil, nil
	}
	return ReasonNone, nil, nil
}

// addr returns the source (pkt, iface = fPktSrcAddr, fSrcAddr) or
// destination address of a line according to the address mode.
func (p *Parser) addr(f *Format, line []byte, lineNo int64, pkt, iface field) (netip.Addr, *LineError) {
	raw := func(fld field) []byte { return p.vals.get(line, fld) }
	use := iface
	switch p.opts.AddressMode {
	case AddressPacket:
		use = pkt
	case AddressInterface:
	default:
		if b := raw(pkt); b != nil && !isDash(b) {
			use = pkt
		}
	}
	b := raw(use)
	if b == nil {
		return netip.Addr{}, &LineError{Line: lineNo,
			Err: fmt.Errorf("format has no %s (address mode %s): %w", fields[use].name, p.opts.AddressMode, ErrMissingAddr)}
	}
	if isDash(b) {
		return netip.Addr{}, fieldError(f, lineNo, use, b, ErrMissingAddr)
	}
	a, ok := p.addrs.parse(b)
	if !ok {
		return netip.Addr{}, fieldError(f, lineNo, use, b, ErrInvalidAddr)
	}
	return a, nil
}

// uintField parses the value of numeric field fld: 0 when absent or '-'.
func uintField(f *Format, line []byte, vals *lineValues, lineNo int64, fld field) (uint64, *LineError) {
	b := vals.get(line, fld)
	if b == nil || isDash(b) {
		return 0, nil
	}
	v, err := parseUint(b, maxValue[fld])
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

// normalizeTimes applies the one rule for flow times that every encoder
// shares (flow.NormalizeTimes): a missing start or end takes the other's
// value, end < start becomes end = start, a duration above
// flow.MaxDuration is cut; a time outside 1970-01-01..2106-02-07, or none
// at all, makes the line malformed, naming the field.
func normalizeTimes(f *Format, line []byte, lineNo int64, vals *lineValues) (start, end int64, lerr *LineError) {
	start, end = int64(vals.num[fStart]), int64(vals.num[fEnd])
	s, e, err := flow.NormalizeTimes(start, end)
	if err == nil {
		return s, e, nil
	}
	fld := fStart
	if start >= flow.MinTime && start <= flow.MaxTime {
		fld = fEnd
	}
	if f.col[fld] < 0 {
		if f.col[fStart] < 0 && f.col[fEnd] < 0 {
			// A format without times: the records carry none and every
			// encoder refuses them (Format.CheckConvertible says so
			// before anything is parsed).
			return 0, 0, nil
		}
		fld = fStart + fEnd - fld // the other one is in the format
	}
	return 0, 0, fieldError(f, lineNo, fld, vals.get(line, fld), err)
}
