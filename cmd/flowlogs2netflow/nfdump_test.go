package main

import (
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"hash/maphash"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/collectortest"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowgen"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/pipeline"
)

var seed = maphash.MakeSeed()

// flowKey fingerprints what a collector must reproduce of a flow: the
// addresses, ports, protocol and the start and end second.
func flowKey(src, dst netip.Addr, sp, dp uint16, proto uint8, start, end int64) uint64 {
	var b [16 + 16 + 2 + 2 + 1 + 8 + 8]byte
	s16, d16 := src.As16(), dst.As16()
	copy(b[0:], s16[:])
	copy(b[16:], d16[:])
	binary.BigEndian.PutUint16(b[32:], sp)
	binary.BigEndian.PutUint16(b[34:], dp)
	b[36] = proto
	binary.BigEndian.PutUint64(b[37:], uint64(start))
	binary.BigEndian.PutUint64(b[45:], uint64(end))
	return maphash.Bytes(seed, b[:])
}

// expectation is what the input says a v5 collector must see.
type expectation struct {
	records       uint64 // v5 records: IPv4 flows, counters above 2^32-1 split
	bytes, pkts   uint64
	fingerprint   uint64 // sum of flowKey over v5 records
	v4Flows, v6   int64
	minStart, max int64
}

// expectV5 parses the input independently of the pipeline and computes what
// nfdump must show.
func expectV5(t *testing.T, path string) expectation {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var e expectation
	p := flowlog.NewParser(flowlog.Options{})
	err = p.Scan(zr, func(r *flow.Record) error {
		if r.IsIPv6() {
			e.v6++
			return nil
		}
		e.v4Flows++
		k := max(ceilDiv(r.Packets, math.MaxUint32), ceilDiv(r.Bytes, math.MaxUint32), 1)
		e.records += k
		e.bytes += r.Bytes
		e.pkts += r.Packets
		end := max(r.End, r.Start)
		e.fingerprint += k * flowKey(r.SrcAddr, r.DstAddr, r.SrcPort, r.DstPort, r.Protocol, r.Start, end)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ceilDiv(a, b uint64) uint64 { return (a + b - 1) / b }

// TestNfdumpMillionLines is the foundation's acceptance check: a generated
// 1,000,000-line file with IPv6, NODATA/SKIPDATA, '-' fields and counters
// above 2^32, converted to NetFlow v5 and read back by nfdump.
func TestNfdumpMillionLines(t *testing.T) {
	lines := int64(1_000_000)
	if testing.Short() {
		lines = 20_000
	}
	nf := collectortest.StartNfcapd(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "flowlog.log.gz")
	out, errOut, code := cli(t, "generate", "--lines", itoa(lines), "--seed", "7", "--gzip", "-o", input,
		"--ipv6", "0.05", "--nodata", "0.01", "--skipdata", "0.005", "--dash", "0.02", "--big", "0.0005",
		"--span", "1440h", "--totals", filepath.Join(dir, "totals.json"))
	if code != 0 {
		t.Fatalf("generate: exit %d: %s %s", code, out, errOut)
	}
	var truth flowgen.Totals
	readJSON(t, filepath.Join(dir, "totals.json"), &truth)
	want := expectV5(t, input)
	if want.v4Flows != truth.IPv4.Records || want.bytes != truth.IPv4.Bytes || want.pkts != truth.IPv4.Packets {
		t.Fatalf("independent parse disagrees with the generator: %+v vs %+v", want, truth.IPv4)
	}

	out, errOut, code = cli(t, "run", "--state", filepath.Join(dir, "seq.db"), "--summary", "json",
		"--to", "netflow5://"+nf.Addr()+"?engine-id=3&pps=40000", input)
	if code != 0 {
		t.Fatalf("run: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var sum struct {
		Lines     int64            `json:"lines"`
		Records   int64            `json:"records"`
		Skipped   map[string]int64 `json:"skipped"`
		Receivers []pipeline.ReceiverSummary
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	var skipped int64
	for _, n := range sum.Skipped {
		skipped += n
	}
	if sum.Lines != lines+1 || sum.Lines != sum.Records+skipped {
		t.Errorf("summary: lines %d = records %d + skipped %d? (input has %d lines)", sum.Lines, sum.Records, skipped, lines+1)
	}
	if sum.Skipped["nodata"] != truth.NoData || sum.Skipped["skipdata"] != truth.SkipData || sum.Skipped["header"] != 1 {
		t.Errorf("skipped %v, generator wrote %d NODATA and %d SKIPDATA", sum.Skipped, truth.NoData, truth.SkipData)
	}
	rs := sum.Receivers[0]
	if int64(rs.Flows) != truth.IPv4.Records || int64(rs.Unsupported) != truth.IPv6.Records || rs.Records != want.records {
		t.Errorf("receiver summary flows %d unsupported %d records %d; want %d, %d, %d", rs.Flows, rs.Unsupported, rs.Records, truth.IPv4.Records, truth.IPv6.Records, want.records)
	}

	nf.Stop(t)
	var got expectation
	collectortest.Records(t, nf.Dir, func(r collectortest.NfRecord) {
		got.records++
		got.bytes += r.Bytes
		got.pkts += r.Packets
		if r.Start.Nanosecond() != 0 || r.End.Nanosecond() != 0 {
			t.Fatalf("flow %v: times %v..%v are not whole seconds", r.SrcAddr, r.Start, r.End)
		}
		got.fingerprint += flowKey(r.SrcAddr, r.DstAddr, r.SrcPort, r.DstPort, r.Protocol, r.Start.Unix(), r.End.Unix())
	})
	if got.records != want.records {
		t.Errorf("nfdump decoded %d records, want %d (IPv4 flows %d + splits)", got.records, want.records, want.v4Flows)
	}
	if got.bytes != want.bytes || got.pkts != want.pkts {
		t.Errorf("nfdump sums bytes %d packets %d, input IPv4 sums bytes %d packets %d", got.bytes, got.pkts, want.bytes, want.pkts)
	}
	if got.fingerprint != want.fingerprint {
		t.Errorf("the flows nfdump decoded (addresses, ports, protocol, start and end to the second) differ from the input")
	}
	stats := collectortest.Stats(t, nf.Dir)
	if stats["Sequence failures"] != "0" {
		t.Errorf("nfdump -I: Sequence failures %q, want 0", stats["Sequence failures"])
	}
	t.Logf("%d lines -> %d v5 records, %d datagrams, nfdump: %v flows, sequence failures %s",
		sum.Lines, rs.Records, rs.Datagrams, stats["Flows"], stats["Sequence failures"])
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int64) string { return fmtInt(n) }

func fmtInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
