package flowgen

import (
	"net/netip"
	"strconv"
)

// column says what to write in one column of the format.
type column uint8

const (
	colDash column = iota // unknown or not generated: '-'
	colVersion
	colAccount
	colInterface
	colSrcAddr
	colDstAddr
	colSrcPort
	colDstPort
	colProtocol
	colPackets
	colBytes
	colStart
	colEnd
	colAction
	colLogStatus
	colVPC
	colSubnet
	colInstance
	colTCPFlags
	colType
	colPktSrcAddr
	colPktDstAddr
	colRegion
	colAZ
	colPktSrcService
	colPktDstService
	colFlowDirection
	colTrafficPath
	colRejectReason
	colEncryption
)

var columnsByName = map[string]column{
	"version": colVersion, "account-id": colAccount, "interface-id": colInterface,
	"srcaddr": colSrcAddr, "dstaddr": colDstAddr, "srcport": colSrcPort, "dstport": colDstPort,
	"protocol": colProtocol, "packets": colPackets, "bytes": colBytes, "start": colStart, "end": colEnd,
	"action": colAction, "log-status": colLogStatus, "vpc-id": colVPC, "subnet-id": colSubnet,
	"instance-id": colInstance, "tcp-flags": colTCPFlags, "type": colType,
	"pkt-srcaddr": colPktSrcAddr, "pkt-dstaddr": colPktDstAddr, "region": colRegion, "az-id": colAZ,
	"pkt-src-aws-service": colPktSrcService, "pkt-dst-aws-service": colPktDstService,
	"flow-direction": colFlowDirection, "traffic-path": colTrafficPath,
	"reject-reason": colRejectReason, "encryption-status": colEncryption,
}

// appendLine appends the columns of l, without line terminator.
func (g *generator) appendLine(b []byte, l *flowLine) []byte {
	ok := l.status == statusOK
	for i, c := range g.cols {
		if i > 0 {
			b = append(b, ' ')
		}
		if !ok {
			b = g.appendNoData(b, c, l)
			continue
		}
		switch c {
		case colVersion:
			b = append(b, g.version...)
		case colAccount:
			b = appendAccount(b, l)
		case colInterface:
			b = append(b, l.eni.id...)
		case colSrcAddr:
			b = append(b, l.src...)
		case colDstAddr:
			b = append(b, l.dst...)
		case colSrcPort:
			b = appendPort(b, l.srcPort, l.portsDash)
		case colDstPort:
			b = appendPort(b, l.dstPort, l.portsDash)
		case colProtocol:
			b = strconv.AppendUint(b, uint64(l.proto), 10)
		case colPackets:
			b = strconv.AppendUint(b, l.packets, 10)
		case colBytes:
			b = strconv.AppendUint(b, l.bytes, 10)
		case colStart:
			b = strconv.AppendInt(b, l.start, 10)
		case colEnd:
			b = strconv.AppendInt(b, l.end, 10)
		case colAction:
			if l.reject {
				b = append(b, "REJECT"...)
			} else {
				b = append(b, "ACCEPT"...)
			}
		case colLogStatus:
			b = append(b, "OK"...)
		case colVPC:
			b = append(b, l.eni.vpc...)
		case colSubnet:
			b = append(b, l.eni.subnet...)
		case colInstance:
			b = appendInstance(b, l)
		case colTCPFlags:
			if l.flagsDash {
				b = append(b, '-')
			} else {
				b = strconv.AppendUint(b, uint64(l.flags), 10)
			}
		case colType:
			if l.v6 {
				b = append(b, "IPv6"...)
			} else {
				b = append(b, "IPv4"...)
			}
		case colPktSrcAddr:
			b = appendPkt(b, l.pktSrc, l.pktDash)
		case colPktDstAddr:
			b = appendPkt(b, l.pktDst, l.pktDash)
		case colRegion:
			b = append(b, "us-east-1"...)
		case colAZ:
			b = append(b, "use1-az1"...)
		case colPktSrcService:
			b = appendService(b, l.remote, l.ingress)
		case colPktDstService:
			b = appendService(b, l.remote, !l.ingress)
		case colFlowDirection:
			if l.ingress {
				b = append(b, "ingress"...)
			} else {
				b = append(b, "egress"...)
			}
		case colTrafficPath:
			if l.trafficPath == 0 {
				b = append(b, '-')
			} else {
				b = strconv.AppendUint(b, uint64(l.trafficPath), 10)
			}
		case colRejectReason:
			if l.reject && l.ingress && l.encryption == 0 {
				b = append(b, "BPA"...)
			} else {
				b = append(b, '-')
			}
		case colEncryption:
			if l.encryption == 4 {
				b = append(b, '-')
			} else {
				b = append(b, '0'+l.encryption)
			}
		default:
			b = append(b, '-')
		}
	}
	return b
}

// appendNoData writes a column of a NODATA or SKIPDATA line: the interface
// and its ids, the window, the status, '-' elsewhere.
func (g *generator) appendNoData(b []byte, c column, l *flowLine) []byte {
	switch c {
	case colVersion:
		return append(b, g.version...)
	case colAccount:
		return appendAccount(b, l)
	case colInterface:
		return append(b, l.eni.id...)
	case colStart:
		return strconv.AppendInt(b, l.start, 10)
	case colEnd:
		return strconv.AppendInt(b, l.end, 10)
	case colLogStatus:
		if l.status == statusNoData {
			return append(b, "NODATA"...)
		}
		return append(b, "SKIPDATA"...)
	case colVPC:
		return append(b, l.eni.vpc...)
	case colSubnet:
		return append(b, l.eni.subnet...)
	case colInstance:
		return appendInstance(b, l)
	case colRegion:
		return append(b, "us-east-1"...)
	case colAZ:
		return append(b, "use1-az1"...)
	}
	return append(b, '-')
}

func appendAccount(b []byte, l *flowLine) []byte {
	if l.accountUnknown {
		return append(b, "unknown"...)
	}
	return append(b, l.eni.account...)
}

func appendInstance(b []byte, l *flowLine) []byte {
	if l.instanceDash {
		return append(b, '-')
	}
	return append(b, l.eni.instance...)
}

func appendPort(b []byte, p uint16, dash bool) []byte {
	if dash {
		return append(b, '-')
	}
	return strconv.AppendUint(b, uint64(p), 10)
}

func appendPkt(b []byte, a []byte, dash bool) []byte {
	if dash {
		return append(b, '-')
	}
	return append(b, a...)
}

// appendService writes pkt-*-aws-service for the remote end a (when
// isRemote; the ENI's own side is '-'): an AWS service for the AWS prefixes
// remote() uses, '-' otherwise.
func appendService(b []byte, a netip.Addr, isRemote bool) []byte {
	if !isRemote {
		return append(b, '-')
	}
	if a.Is4() {
		switch v := a.As4(); [2]byte{v[0], v[1]} {
		case [2]byte{52, 94}:
			return append(b, "DYNAMODB"...)
		case [2]byte{54, 239}, [2]byte{3, 5}:
			return append(b, "AMAZON"...)
		}
	} else if v := a.As16(); v[0] == 0x26 && v[1] == 0x00 && v[2] == 0x1f && v[3] == 0x18 {
		return append(b, "AMAZON"...)
	}
	return append(b, '-')
}
