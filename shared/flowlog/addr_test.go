package flowlog

import (
	"errors"
	"net/netip"
	"testing"
)

// addrInputs exercise every branch of parseAddr.
var addrInputs = []string{
	"10.0.1.5", "0.0.0.0", "255.255.255.255", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", ".1.2.3", "1.2.3.",
	"1.2.3.x", "", "-", "abc", "::", "::1", "1::", "2600:1f18:24a1:c000:1a2b:3c4d:5e6f:7081", "2a05:d018:abc::42",
	"::ffff:10.0.0.1", "::ffff:0a00:0001", "64:ff9b::192.0.2.33", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
	"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
	"1:::2", "1::2::3", "12345::", "fe80::1%eth0", "fe80::1%", ":1", "1:", "1:2:3:4:5:6:7", "g::1", "::1.2.3.4",
	"1::1.2.3.04", "FE80::ABCD", "1.2.3.4:80", "[::1]",
}

func TestParseAddrMatchesNetip(t *testing.T) {
	for _, s := range addrInputs {
		checkAddr(t, s)
	}
}

// checkAddr compares parseAddr with netip.ParseAddr: the same addresses,
// except zones (rejected) and 4in6 (unmapped).
func checkAddr(t *testing.T, s string) {
	t.Helper()
	got, ok := parseAddr([]byte(s))
	want, err := netip.ParseAddr(s)
	if err == nil && want.Zone() != "" {
		err, want = errZone, netip.Addr{} // zones are not flow-log addresses
	}
	want = want.Unmap()
	if ok != (err == nil) || got != want {
		t.Errorf("parseAddr(%q) = %v, %v; netip gives %v, %v", s, got, ok, want, err)
	}
	if ok && got.Is4In6() {
		t.Errorf("parseAddr(%q) = %v, a 4in6 address", s, got)
	}
}

var errZone = errors.New("zone")
