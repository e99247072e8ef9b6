package main

import (
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/collectortest"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// tgwDefault is the Transit Gateway flow logs' default format: every field
// of AWS's table, in its order (shared/flowlog/testdata/aws-fields.tsv).
const tgwDefault = "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id " +
	"tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id " +
	"tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type " +
	"packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region " +
	"flow-direction pkt-src-aws-service pkt-dst-aws-service"

type tgwWant struct {
	records, bytes, packets uint64
	in, out                 map[uint32]uint64 // records per input / output interface index
}

// tgwLine is one Transit Gateway record in the default format (as in the
// AWS docs: attachment, VPC and ENI ids, lost-packet counters).
func tgwLine(r *rand.Rand, w *tgwWant) string {
	att := fmt.Sprintf("tgw-attach-0a1b2c3d4e5f6%04d", r.IntN(3))
	pair := fmt.Sprintf("tgw-attach-0f9e8d7c6b5a4%04d", r.IntN(3))
	dir := []string{"ingress", "egress"}[r.IntN(2)]
	pk, by := uint64(1+r.IntN(1000)), uint64(40+r.IntN(1_000_000))
	start := 1700000000 + r.IntN(3600)
	w.records++
	w.bytes += by
	w.packets += pk
	if dir == "ingress" {
		w.in[flow.IfIndex(att)]++
	} else {
		w.out[flow.IfIndex(att)]++
	}
	return fmt.Sprintf("6 TransitGatewayAttachment 123456789012 tgw-0123456789abcdef0 %s 123456789012 210987654321 "+
		"vpc-0a1b2c3d4e5f67890 vpc-0b1c2d3e4f5a67890 subnet-0a1b2c3d4e5f67890 subnet-0b1c2d3e4f5a67890 "+
		"eni-0a1b2c3d4e5f67890 eni-0b1c2d3e4f5a67890 use1-az1 use1-az2 %s 10.%d.%d.%d 10.200.%d.%d %d %d %d %d %d %d %d OK IPv4 %d 0 0 0 %d us-east-1 %s - -",
		att, pair, r.IntN(256), r.IntN(256), 1+r.IntN(254), r.IntN(256), 1+r.IntN(254), 1024+r.IntN(60000), []int{443, 53, 22}[r.IntN(3)],
		[]int{6, 17}[r.IntN(2)], pk, by, start, start+r.IntN(60), r.IntN(3), []int{2, 18, 19}[r.IntN(3)], dir)
}

// TestTransitGateway: Transit Gateway flow logs in their default format,
// and a VPC flow log whose custom format holds VPC and Transit Gateway
// fields with records of both kinds, through nfcapd (NetFlow v9): every
// record, byte and packet counted, 0 sequence failures, and each record's
// interface is its ENI (VPC) or its attachment (Transit Gateway), on the
// input or output side by flow-direction.
func TestTransitGateway(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	dir := t.TempDir()
	nf := collectortest.StartNfcapd(t)

	w := tgwWant{in: map[uint32]uint64{}, out: map[uint32]uint64{}}
	var b strings.Builder
	b.WriteString(tgwDefault + "\n")
	for range 3000 {
		b.WriteString(tgwLine(r, &w) + "\n")
	}
	// Mixed: a VPC custom format with the Transit Gateway attachment and
	// resource type; VPC records have an ENI and an action, Transit Gateway
	// records '-' there.
	b2 := strings.Builder{}
	b2.WriteString("version resource-type account-id interface-id tgw-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction\n")
	for i := range 1000 {
		pk, by := uint64(1+r.IntN(50)), uint64(60+r.IntN(90000))
		w.records++
		w.bytes += by
		w.packets += pk
		start := 1700000000 + i
		if i%2 == 0 {
			eni := fmt.Sprintf("eni-0123456789abc%04d", i%5)
			w.in[flow.IfIndex(eni)]++
			fmt.Fprintf(&b2, "7 - 123456789012 %s - 10.1.0.%d 10.2.0.%d 443 %d 6 %d %d %d %d ACCEPT OK ingress\n", eni, 1+i%250, 1+i%250, 1024+i, pk, by, start, start+5)
		} else {
			att := fmt.Sprintf("tgw-attach-0a1b2c3d4e5f6%04d", i%3)
			w.out[flow.IfIndex(att)]++
			fmt.Fprintf(&b2, "7 TransitGatewayAttachment 123456789012 - %s 10.3.0.%d 10.4.0.%d 53 %d 17 %d %d %d %d - OK egress\n", att, 1+i%250, 1+i%250, 1024+i, pk, by, start, start+5)
		}
	}
	for name, content := range map[string]string{"tgw.log.gz": b.String(), "mixed.log.gz": b2.String()} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		zw := gzip.NewWriter(f)
		zw.Write([]byte(content))
		zw.Close()
		f.Close()
	}
	_, errOut, code := cli(t, "run", "--summary", "none", "--state", filepath.Join(dir, "seq.db"), "--to", "netflow9://"+nf.Addr()+"?source-id=6",
		filepath.Join(dir, "tgw.log.gz"), filepath.Join(dir, "mixed.log.gz"))
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	checkTGW(t, nf, w)
}

// checkTGW stops nf and checks that nfdump decoded exactly w: records,
// bytes, packets, the records per input and output interface, and no
// sequence failure.
func checkTGW(t *testing.T, nf *collectortest.Nfcapd, w tgwWant) {
	t.Helper()
	nf.Stop(t)
	got := tgwWant{in: map[uint32]uint64{}, out: map[uint32]uint64{}}
	collectortest.Records(t, nf.Dir, func(r collectortest.NfRecord) {
		got.records++
		got.bytes += r.Bytes
		got.packets += r.Packets
		if r.In != 0 {
			got.in[r.In]++
		}
		if r.Out != 0 {
			got.out[r.Out]++
		}
	})
	if got.records != w.records || got.bytes != w.bytes || got.packets != w.packets {
		t.Errorf("nfdump: %d records, %d bytes, %d packets; input %d, %d, %d", got.records, got.bytes, got.packets, w.records, w.bytes, w.packets)
	}
	if fmt.Sprint(got.in) != fmt.Sprint(w.in) || fmt.Sprint(got.out) != fmt.Sprint(w.out) {
		t.Errorf("interfaces: input %v output %v; want %v and %v", got.in, got.out, w.in, w.out)
	}
	if f := collectortest.Stats(t, nf.Dir)["Sequence failures"]; f != "0" {
		t.Errorf("sequence failures %q", f)
	}
}
