package flowlog

import (
	"encoding/binary"
	"net/netip"
)

// parseAddr parses an IPv4 or IPv6 address without allocating, accepting
// exactly what netip.ParseAddr accepts except zones. An IPv4-mapped IPv6
// address is returned unmapped (as IPv4).
func parseAddr(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	if parseIPv4(b, ip[:]) {
		return netip.AddrFrom4(ip), true
	}
	// Not IPv4: IPv6 if a ':' comes before any '.'.
	for _, c := range b {
		switch c {
		case '.':
			return netip.Addr{}, false
		case ':':
			a, ok := parseIPv6(b)
			return a.Unmap(), ok
		}
	}
	return netip.Addr{}, false
}

// parseIPv4 parses dotted-quad b into ip (4 bytes): four decimal octets
// without leading zeros.
func parseIPv4(b []byte, ip []byte) bool {
	ip = ip[:4]
	i := 0
	for k := range 4 {
		if k > 0 {
			if i >= len(b) || b[i] != '.' {
				return false
			}
			i++
		}
		if i >= len(b) || b[i]-'0' > 9 {
			return false
		}
		v := uint(b[i] - '0')
		i++
		if v != 0 { // else a zero octet: no more digits (no leading zeros)
			for end := min(i+2, len(b)); i < end && b[i]-'0' <= 9; i++ {
				v = v*10 + uint(b[i]-'0')
			}
			if v > 255 {
				return false
			}
		}
		ip[k] = byte(v)
	}
	return i == len(b)
}

// parseIPv6 parses b as an IPv6 address (RFC 4291 text form, with an
// optional embedded IPv4 tail), following net/netip's rules.
func parseIPv6(s []byte) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis = 0
		s = s[2:]
		if len(s) == 0 {
			return netip.IPv6Unspecified(), true
		}
	}
	i := 0
	for i < 16 {
		off := 0
		acc := uint32(0)
		for ; off < len(s); off++ {
			d := hexValue[s[off]]
			if d > 0xf {
				break
			}
			acc = acc<<4 + uint32(d)
			if off > 3 {
				return netip.Addr{}, false
			}
		}
		if off == 0 {
			return netip.Addr{}, false
		}
		if off < len(s) && s[off] == '.' {
			if ellipsis < 0 && i != 12 || i+4 > 16 {
				return netip.Addr{}, false
			}
			if !parseIPv4(s, ip[i:i+4]) {
				return netip.Addr{}, false
			}
			s = nil
			i += 4
			break
		}
		ip[i] = byte(acc >> 8)
		ip[i+1] = byte(acc)
		i += 2
		s = s[off:]
		if len(s) == 0 {
			break
		}
		if s[0] != ':' || len(s) == 1 {
			return netip.Addr{}, false
		}
		s = s[1:]
		if s[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = i
			s = s[1:]
			if len(s) == 0 {
				break
			}
		}
	}
	if len(s) != 0 {
		return netip.Addr{}, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - i
		for j := i - 1; j >= ellipsis; j-- {
			ip[j+n] = ip[j]
		}
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom16(ip), true
}

// hexValue is the value of each hex digit, 0xff for other bytes.
var hexValue = func() (t [256]byte) {
	for c := range t {
		switch {
		case c >= '0' && c <= '9':
			t[c] = byte(c - '0')
		case c >= 'a' && c <= 'f':
			t[c] = byte(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			t[c] = byte(c - 'A' + 10)
		default:
			t[c] = 0xff
		}
	}
	return t
}()

// addrCache remembers the addresses a parser parsed last. Flow logs repeat
// addresses (an interface's own, its frequent peers) much more than they
// introduce new ones; a hit costs two loads, a multiplication and three
// comparisons instead of a parse. Only values of 8 to 16 bytes (IPv4 and
// short IPv6 addresses) are cached, keyed by two words that cover them.
type addrCache [addrCacheSize]struct {
	first, last uint64 // the first and last eight bytes
	n           int    // the length, 0 for an empty entry
	addr        netip.Addr
}

// addrCacheSize is the number of entries of an addrCache, a power of 2.
const addrCacheSize = 256

// parse returns parseAddr(b), from the cache when b was parsed recently.
func (c *addrCache) parse(b []byte) (netip.Addr, bool) {
	n := len(b)
	if n < 8 || n > 16 {
		return parseAddr(b)
	}
	first, last := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:])
	e := &c[((last^uint64(n))*0x9e3779b97f4a7c15+first)>>56%addrCacheSize]
	if e.first == first && e.last == last && e.n == n {
		return e.addr, true
	}
	a, ok := parseAddr(b)
	if ok {
		e.first, e.last, e.n, e.addr = first, last, n, a
	}
	return a, ok
}
