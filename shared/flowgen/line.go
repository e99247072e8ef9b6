package flowgen

import (
	"math/rand/v2"
	"net/netip"
)

// status is a line's log-status.
type status uint8

const (
	statusOK status = iota
	statusNoData
	statusSkipData
)

// flowLine holds the values of one generated line.
type flowLine struct {
	status           status
	eni              *eni
	v6               bool
	src, dst         []byte // addresses as text
	pktSrc, pktDst   []byte
	remote           netip.Addr // the other end, for pkt-*-aws-service
	remoteText       [64]byte   // backing store of the other end's text
	pktDash          bool
	srcPort, dstPort uint16
	portsDash        bool
	proto            uint8
	packets, bytes   uint64
	start, end       int64
	reject           bool
	flags            uint8
	flagsDash        bool
	ingress          bool
	trafficPath      uint8 // 0: '-'
	accountUnknown   bool
	instanceDash     bool
	encryption       uint8 // 0..3; 4: '-'
}

var (
	tcpServerPorts = []uint16{443, 443, 443, 80, 22, 3306, 5432, 6379, 8080, 8443, 9092, 27017, 3389, 25, 2049}
	udpServerPorts = []uint16{53, 53, 123, 443, 514, 161, 4789, 51820}
	tcpFlagSets    = []uint8{3, 3, 19, 19, 0, 0, 2, 18, 1, 4, 5, 22} // OR of FIN 1, SYN 2, RST 4, SYN-ACK 18
	otherProtocols = []uint8{47, 50}                                 // GRE, ESP
	trafficPaths   = []uint8{1, 1, 1, 2, 2, 2, 3, 4, 5, 7, 8}
	packetScales   = []int{10, 10, 100, 100, 1000, 10000}
	v6Prefixes     = [][4]byte{{0x26, 0x00, 0x1f, 0x18}, {0x2a, 0x00, 0x14, 0x50}, {0x26, 0x06, 0x47, 0x00}, {0x24, 0x00, 0xcb, 0x00}}
	v4Prefixes     = [][2]byte{{52, 94}, {54, 239}, {3, 5}, {172, 217}, {104, 16}, {151, 101}, {203, 0}, {198, 51}}
)

// remote returns the address of the other end of a flow of local: another
// interface (east-west traffic) or an Internet host.
func remote(r *rand.Rand, v6 bool, enis []eni, local *eni) netip.Addr {
	if r.IntN(4) == 0 { // east-west traffic
		if e := &enis[r.IntN(len(enis))]; e != local {
			if v6 {
				return e.v6
			}
			return e.v4
		}
	}
	if v6 {
		p := v6Prefixes[r.IntN(len(v6Prefixes))]
		var a [16]byte
		copy(a[:], p[:])
		for j := 4; j < 16; j++ {
			a[j] = byte(r.Uint32())
		}
		return netip.AddrFrom16(a)
	}
	p := v4Prefixes[r.IntN(len(v4Prefixes))]
	return netip.AddrFrom4([4]byte{p[0], p[1], byte(r.Uint32()), byte(1 + r.IntN(254))})
}

// chance reports true with probability p, drawing no number for 0 and 1.
func chance(r *rand.Rand, p float64) bool {
	switch {
	case p <= 0:
		return false
	case p >= 1:
		return true
	}
	return r.Float64() < p
}

// next fills l with a new random line whose start time is near base.
func (g *generator) next(l *flowLine, base int64) {
	r, o := g.r, &g.opts
	*l = flowLine{eni: &g.enis[r.IntN(len(g.enis))], remoteText: l.remoteText}
	l.accountUnknown = chance(r, o.DashFraction)
	l.instanceDash = chance(r, o.DashFraction)

	if o.NoDataFraction+o.SkipDataFraction > 0 {
		switch u := r.Float64(); {
		case u < o.NoDataFraction:
			l.status = statusNoData
		case u < o.NoDataFraction+o.SkipDataFraction:
			l.status = statusSkipData
		}
	}
	if l.status != statusOK {
		l.start = base
		l.end = base + 60 + int64(r.IntN(541))
		return
	}

	l.v6 = chance(r, o.IPv6Fraction)
	l.reject = chance(r, o.RejectFraction)
	l.ingress = r.IntN(2) == 0

	switch p := r.IntN(100); {
	case p < 75:
		l.proto = 6
	case p < 95:
		l.proto = 17
	case p < 99:
		l.proto = 1
		if l.v6 {
			l.proto = 58
		}
	default:
		l.proto = otherProtocols[r.IntN(len(otherProtocols))]
	}

	// Addresses: the ENI's own (or, in pkt-*, sometimes a secondary address
	// or a NAT translation) and the other end's.
	l.remote = remote(r, l.v6, g.enis, l.eni)
	other := l.remote.AppendTo(l.remoteText[:0])
	local, localPkt := l.eni.v4Text, l.eni.v4Text
	if l.v6 {
		local, localPkt = l.eni.v6Text, l.eni.v6Text
	}
	if r.IntN(10) == 0 {
		localPkt = l.eni.v4SecondaryText
		if l.v6 {
			localPkt = l.eni.v6SecondaryText
		}
	}

	// Ports: the ENI is the server or the client.
	var localPort, otherPort uint16
	switch l.proto {
	case 6, 17:
		server := tcpServerPorts[r.IntN(len(tcpServerPorts))]
		if l.proto == 17 {
			server = udpServerPorts[r.IntN(len(udpServerPorts))]
		}
		ephemeral := uint16(32768 + r.IntN(28232))
		if r.IntN(2) == 0 {
			localPort, otherPort = server, ephemeral
		} else {
			localPort, otherPort = ephemeral, server
		}
	default:
		l.portsDash = chance(r, o.DashFraction)
	}
	if l.ingress {
		l.src, l.dst, l.pktSrc, l.pktDst = other, local, other, localPkt
		l.srcPort, l.dstPort = otherPort, localPort
	} else {
		l.src, l.dst, l.pktSrc, l.pktDst = local, other, localPkt, other
		l.srcPort, l.dstPort = localPort, otherPort
		l.trafficPath = trafficPaths[r.IntN(len(trafficPaths))]
	}
	l.pktDash = g.hasIfaceAddrs && chance(r, o.DashFraction)

	// Counters.
	switch {
	case l.reject:
		l.packets = 1 + uint64(r.IntN(3))
		l.bytes = l.packets * uint64(40+r.IntN(21))
	case chance(r, o.BigCounterFraction):
		if r.IntN(2) == 0 {
			l.packets = 1<<32 + uint64(r.Int64N(1<<30))
			l.bytes = l.packets * uint64(64+r.IntN(1437))
		} else {
			l.bytes = 1<<32 + uint64(r.Int64N(1<<36))
			l.packets = l.bytes / uint64(1000+r.IntN(501))
		}
	default:
		mag := packetScales[r.IntN(len(packetScales))]
		l.packets = 1 + uint64(r.IntN(mag))
		size := uint64(40 + r.IntN(1461))
		if l.proto == 1 || l.proto == 58 {
			size = 84
		}
		l.bytes = l.packets * size
	}

	if l.proto == 6 {
		if l.reject {
			l.flags = 2
		} else {
			l.flags = tcpFlagSets[r.IntN(len(tcpFlagSets))]
		}
		l.flagsDash = chance(r, o.DashFraction)
	}

	// Times: most flows are short; a few last the whole 10-minute window.
	l.start = base + int64(r.IntN(60))
	if r.IntN(10) == 0 {
		l.end = l.start + int64(r.IntN(601))
	} else {
		l.end = l.start + int64(r.IntN(61))
	}
	l.encryption = uint8(r.IntN(5))
}
