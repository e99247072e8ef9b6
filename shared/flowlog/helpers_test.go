package flowlog

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/google/go-cmp/cmp"
)

// addrCmp compares netip.Addr values for go-cmp.
var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// Sample lines used across tests.
const (
	defaultHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
	defaultLine   = "2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.5 10.0.2.9 443 49152 6 10 8400 1700000000 1700000060 ACCEPT OK"

	customFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} " +
		"${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} " +
		"${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${flow-direction} ${traffic-path}"
	customLine = "5 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.5 10.0.2.9 49152 443 6 10 8400 1700000000 1700000060 " +
		"ACCEPT OK vpc-0a1b2c3d4e5f60718 subnet-0a1b2c3d4e5f60718 i-0a1b2c3d4e5f60718 19 IPv4 192.168.7.7 10.0.2.9 egress 2"
)

// defaultRecord is defaultLine parsed (Line 1).
func defaultRecord() flow.Record {
	return flow.Record{
		SrcAddr: netip.MustParseAddr("10.0.1.5"), DstAddr: netip.MustParseAddr("10.0.2.9"),
		SrcPort: 443, DstPort: 49152, Protocol: 6, Packets: 10, Bytes: 8400,
		Start: 1700000000, End: 1700000060, Action: flow.ActionAccept,
		InterfaceID: "eni-0a1b2c3d4e5f60718", IfIndex: flow.IfIndex("eni-0a1b2c3d4e5f60718"),
		AccountID: "123456789012", Line: 1,
	}
}

// customRecord is customLine parsed in AddressAuto mode (Line 1).
func customRecord() flow.Record {
	r := defaultRecord()
	r.SrcAddr = netip.MustParseAddr("192.168.7.7")
	r.SrcPort, r.DstPort = 49152, 443
	r.TCPFlags = 19
	r.Direction = flow.DirectionEgress
	r.TrafficPath = 2
	r.VPCID, r.SubnetID, r.InstanceID = "vpc-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60718", "i-0a1b2c3d4e5f60718"
	return r
}

func mustFormat(t testing.TB, s string) *Format {
	t.Helper()
	f, err := ParseFormat(s)
	if err != nil {
		t.Fatalf("ParseFormat(%q): %v", s, err)
	}
	return f
}

// scanResult is what parsing a whole object gives.
type scanResult struct {
	Records []flow.Record
	Counts  Counts
	Errors  []string
}

func scanAll(t testing.TB, opts Options, in string) scanResult {
	t.Helper()
	p := NewParser(opts)
	var res scanResult
	err := p.Scan(strings.NewReader(in), func(r *flow.Record) error {
		res.Records = append(res.Records, *r)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	res.Counts = p.Counts()
	for _, e := range p.Errors() {
		res.Errors = append(res.Errors, e.Error())
	}
	return res
}
