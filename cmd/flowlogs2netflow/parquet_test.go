package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/collectortest"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/fakes3"
)

// pqFormat is a VPC custom format with fields of every Parquet type AWS
// uses (INT_32 ports, tcp-flags, traffic-path; INT_64 counters and times;
// STRING ids and addresses).
const pqFormat = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status " +
	"vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id flow-direction traffic-path"

type pqTotals struct{ records, bytes, packets, nodata uint64 }

// writePqSource writes n lines of pqFormat (every 50th a NODATA record
// with "-" values, which Parquet holds as nulls) and returns what a
// collector must receive.
func writePqSource(t *testing.T, path string, n int, seed uint64) pqTotals {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 14))
	var b strings.Builder
	var w pqTotals
	b.WriteString(pqFormat + "\n")
	for i := range n {
		start := 1700000000 + i/100
		if i%50 == 49 {
			w.nodata++
			fmt.Fprintf(&b, "5 123456789012 eni-0a1b2c3d4e5f6%04d - - - - - - - %d %d - NODATA vpc-0a1b2c3d - - - - - - us-east-1 use1-az1 - -\n", i%7, start, start+60)
			continue
		}
		pk, by := uint64(1+r.IntN(500)), uint64(40+r.IntN(900000))
		w.records++
		w.packets += pk
		w.bytes += by
		inst := "-"
		if i%3 == 0 {
			inst = fmt.Sprintf("i-0a1b2c3d4e5f%05d", i%11)
		}
		fmt.Fprintf(&b, "5 123456789012 eni-0a1b2c3d4e5f6%04d 10.0.%d.%d 10.1.%d.%d %d %d %d %d %d %d %d %s OK vpc-0a1b2c3d subnet-0a1b2c3d %s %d IPv4 10.0.%d.%d 10.1.%d.%d us-east-1 use1-az1 %s %d\n",
			i%7, r.IntN(256), 1+r.IntN(254), r.IntN(256), 1+r.IntN(254), 1024+r.IntN(60000), []int{443, 53, 22}[r.IntN(3)],
			[]int{6, 17, 1}[r.IntN(3)], pk, by, start, start+r.IntN(60), []string{"ACCEPT", "REJECT"}[r.IntN(2)], inst,
			[]int{0, 2, 18, 19}[r.IntN(4)], r.IntN(256), 1+r.IntN(254), r.IntN(256), 1+r.IntN(254),
			[]string{"ingress", "egress"}[r.IntN(2)], 1+r.IntN(8))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// runToNfcapd runs the CLI on files to a fresh nfcapd (at its defaults
// unless rcvbuf) and returns the summary and what nfdump decoded.
func runToNfcapd(t *testing.T, url string, rcvbuf int, flags []string, files ...string) (lineSummary, pqTotals) {
	t.Helper()
	nf := collectortest.StartNfcapdWith(t, collectortest.NfcapdOptions{RcvBuf: rcvbuf})
	args := append([]string{"run", "--summary", "json", "--progress", "never", "--state", filepath.Join(t.TempDir(), "seq.db"),
		"--to", fmt.Sprintf(url, nf.Addr())}, flags...)
	out, errOut, code := cli(t, append(args, files...)...)
	if code != 0 {
		t.Fatalf("run %v: exit %d: %s", flags, code, errOut)
	}
	var s lineSummary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	return s, nfTotals(t, nf)
}

// nfTotals stops nf and returns what nfdump decoded; a sequence failure
// fails the test.
func nfTotals(t *testing.T, nf *collectortest.Nfcapd) pqTotals {
	t.Helper()
	nf.Stop(t)
	var got pqTotals
	collectortest.Records(t, nf.Dir, func(r collectortest.NfRecord) {
		got.records++
		got.bytes += r.Bytes
		got.packets += r.Packets
	})
	if f := collectortest.Stats(t, nf.Dir)["Sequence failures"]; f != "0" {
		t.Errorf("nfdump sequence failures %q", f)
	}
	return got
}

// TestParquet: VPC flow logs as AWS delivers them in Parquet, written by
// parquetjs (not the Go library we read with) with several row groups and
// GZIP pages, converted to NetFlow v5, v9 and IPFIX and sent to nfcapd left
// at its defaults: nfdump's totals equal the source rows exactly, the
// NODATA rows (nulls) are counted as skipped, and the result does not
// depend on how the row groups are cut into chunks.
func TestParquet(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "vpc.log")
	want := writePqSource(t, text, 20000, 1)
	pq := filepath.Join(dir, "vpc.log.parquet") // AWS's suffix; detection is by content
	if rows := collectortest.WriteParquet(t, text, pq, 3000); rows != 20000 {
		t.Fatalf("parquetjs wrote %d rows", rows)
	}
	plan, errOut, code := cli(t, "plan", "--json", "--small-object", "1", "--chunk-size", "64KiB", pq)
	if code != 0 {
		t.Fatalf("plan: %s", errOut)
	}
	var p struct {
		Kind      string            `json:"kind"`
		RowGroups int               `json:"rowGroups"`
		Items     []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(plan), &p); err != nil || p.Kind != "parquet" || p.RowGroups != 7 || len(p.Items) < 2 {
		t.Fatalf("plan: %v: kind %q, %d row groups, %d chunks; want parquet, 7, several\n%s", err, p.Kind, p.RowGroups, len(p.Items), plan)
	}
	for _, tc := range []struct {
		name, url string
		flags     []string
	}{
		{"netflow5", "netflow5://%s", nil},
		{"netflow9 chunks of row groups", "netflow9://%s", []string{"--small-object", "1", "--chunk-size", "64KiB"}},
		{"ipfix one worker", "ipfix://%s", []string{"--workers", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, got := runToNfcapd(t, tc.url, 0, tc.flags, pq)
			if uint64(s.Records) != want.records || uint64(s.Skipped["nodata"]) != want.nodata || s.Lines != 20000 {
				t.Errorf("summary: %d lines, %d records, skipped %v; want 20000, %d, %d nodata", s.Lines, s.Records, s.Skipped, want.records, want.nodata)
			}
			if got.records != want.records || got.bytes != want.bytes || got.packets != want.packets {
				t.Errorf("nfdump: %d records, %d bytes, %d packets; source %d, %d, %d", got.records, got.bytes, got.packets, want.records, want.bytes, want.packets)
			}
		})
	}
}

// TestParquetTransitGateway: Transit Gateway flow logs in Parquet (every
// field of AWS's table, the lost-packet counters INT_64), through nfcapd
// with exact totals and each record's interface its attachment.
func TestParquetTransitGateway(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	dir := t.TempDir()
	w := tgwWant{in: map[uint32]uint64{}, out: map[uint32]uint64{}}
	var b strings.Builder
	b.WriteString(tgwDefault + "\n")
	for range 5000 {
		b.WriteString(tgwLine(r, &w) + "\n")
	}
	text, pq := filepath.Join(dir, "tgw.log"), filepath.Join(dir, "tgw.parquet")
	os.WriteFile(text, []byte(b.String()), 0o644)
	collectortest.WriteParquet(t, text, pq, 1000)
	nf := collectortest.StartNfcapdWith(t, collectortest.NfcapdOptions{})
	_, errOut, code := cli(t, "run", "--summary", "none", "--state", filepath.Join(dir, "seq.db"), "--to", "netflow9://"+nf.Addr()+"?source-id=6", pq)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	checkTGW(t, nf, w)
}

// TestParquetMillionRows: a 1 M-row Parquet object (10 row groups) planned
// into at least 4 chunks gives nfdump the same totals as one chunk, and
// both equal the source. Delivery at collector defaults is TestParquet's;
// here the collector is tuned and the send unpaced-ish, so that the test
// measures chunking, not socket buffers.
func TestParquetMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("1 M rows: not in -short")
	}
	dir := t.TempDir()
	text, pq := filepath.Join(dir, "m.log"), filepath.Join(dir, "m.parquet")
	want := writePqSource(t, text, 1_000_000, 2)
	collectortest.WriteParquet(t, text, pq, 100_000)
	os.Remove(text)
	plan, errOut, code := cli(t, "plan", "--json", "--small-object", "1", "--chunk-size", "6MiB", pq)
	if code != 0 {
		t.Fatalf("plan: %s", errOut)
	}
	var p struct {
		RowGroups int               `json:"rowGroups"`
		Items     []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(plan), &p); err != nil || p.RowGroups != 10 || len(p.Items) < 4 {
		t.Fatalf("plan: %v: %d row groups, %d chunks; want 10 and at least 4\n%s", err, p.RowGroups, len(p.Items), plan)
	}
	url := "ipfix://%s?pps=20000"
	_, many := runToNfcapd(t, url, 16<<20, []string{"--small-object", "1", "--chunk-size", "6MiB"}, pq)
	_, one := runToNfcapd(t, url, 16<<20, []string{"--workers", "1"}, pq)
	src := pqTotals{records: want.records, bytes: want.bytes, packets: want.packets}
	t.Logf("%d rows in %d row groups, %d chunks: %+v; one chunk: %+v", 1_000_000, p.RowGroups, len(p.Items), many, one)
	if many != src || one != src {
		t.Errorf("nfdump totals: %d chunks %+v, one chunk %+v, source %+v", len(p.Items), many, one, src)
	}
}

// TestParquetS3: `run s3://...` on a Parquet object (gofakes3 on
// loopback): the whole object is never fetched; the plan reads the tail
// and each chunk its row groups, by range, and nfcapd gets every record.
func TestParquetS3(t *testing.T) {
	dir := t.TempDir()
	text, pq := filepath.Join(dir, "vpc.log"), filepath.Join(dir, "vpc.parquet")
	want := writePqSource(t, text, 12000, 3)
	collectortest.WriteParquet(t, text, pq, 2000)
	body, err := os.ReadFile(pq)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var gets []string // Range headers of the object's GETs ("" for a whole GET)
	srv := fakes3.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, ".parquet") {
				mu.Lock()
				gets = append(gets, r.Header.Get("Range"))
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	}, "flowlogs")
	key := "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/12/04/123456789012_vpcflowlogs_us-east-1_fl-0a1b_20261204T1200Z_abcd.log.parquet"
	if _, err := srv.Client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("flowlogs"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	nf := collectortest.StartNfcapdWith(t, collectortest.NfcapdOptions{})
	env := []string{"AWS_ENDPOINT_URL_S3=" + srv.URL, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=local-secret",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true"}
	_, errOut, code := runBad(t, env, nil, "run", "--summary", "none", "--progress", "never", "--state", filepath.Join(dir, "seq.db"),
		"--small-object", "1", "--chunk-size", "64KiB", "--to", "netflow9://"+nf.Addr(), "s3://flowlogs/"+key)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	got := nfTotals(t, nf)
	if got.records != want.records || got.bytes != want.bytes || got.packets != want.packets {
		t.Errorf("nfdump: %d records, %d bytes, %d packets; source %d, %d, %d", got.records, got.bytes, got.packets, want.records, want.bytes, want.packets)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("GETs of the object: %q", gets)
	// The content check reads the first bytes, the plan the tail, each of
	// the chunks (at least 2) its footer and its row groups: all ranged.
	if len(gets) < 2+2*2 {
		t.Errorf("%d GETs of the object %q, want at least 6", len(gets), gets)
	}
	for _, g := range gets {
		if !strings.HasPrefix(g, "bytes=") {
			t.Errorf("a GET without a range (%q): the object was fetched whole; GETs %q", g, gets)
		}
	}
}
