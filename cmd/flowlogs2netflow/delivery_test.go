package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/collectortest"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/pipeline"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/total"
)

// deliveryLines is the size of the default-settings delivery test:
// 200,000 lines in CI, FL2NF_BIG=1 for the 2,000,000 of the report that
// found the loss (issue 12).
func deliveryLines() int64 {
	if os.Getenv("FL2NF_BIG") != "" {
		return 2_000_000
	}
	if testing.Short() {
		return 20_000
	}
	return 200_000
}

// TestDefaultsLoseNothing is the user's first run: collectors started with
// their own defaults (nfcapd without -B, nfacctd without pipe sizes,
// goflow2 with its default workers and buffer), flowlogs2netflow with no
// option but --to. Every collector must count every record we sent, with
// no sequence failure and no datagram dropped by its socket (WaitDrained
// reads the socket's drop counter).
//
// The collectors need CPU to spare, as on a collector host: on this 2-core
// machine, beside other test packages running with -race, nfacctd's plugin
// pipe and goflow2's socket drop datagrams at any pace (goflow2 formats
// JSON at about 1000 datagrams/s per core). make test therefore runs this
// test on its own, after the rest of the suite.
func TestDefaultsLoseNothing(t *testing.T) {
	lines := deliveryLines()
	in := generateInput(t, lines, 12)
	cases := []struct {
		name   string
		scheme string
		start  func(t *testing.T) (addr string, check func(t *testing.T, sent pipeline.ReceiverSummary))
	}{
		{"nfcapd/v5", "netflow5", startNfcapdDefaults},
		{"nfcapd/v9", "netflow9", startNfcapdDefaults},
		{"nfcapd/ipfix", "ipfix", startNfcapdDefaults},
		{"nfacctd/v9", "netflow9", startNfacctdDefaults},
		{"nfacctd/ipfix", "ipfix", startNfacctdDefaults},
		{"goflow2/v9", "netflow9", startGoflow2Defaults},
		{"goflow2/ipfix", "ipfix", startGoflow2Defaults},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr, check := c.start(t)
			start := time.Now()
			res := <-startCLI(t, "run", "--state", filepath.Join(t.TempDir(), "seq.db"), "--summary", "json",
				"--to", c.scheme+"://"+addr, in.path)
			sum := parseSummary(t, res)
			r := sum.Receivers[0]
			if r.PPS != receiver.DefaultPPS || r.Refused != 0 {
				t.Errorf("summary: pps %d refused %d; want the default pace %d and nothing refused", r.PPS, r.Refused, receiver.DefaultPPS)
			}
			want := in.records()
			if c.scheme == "netflow5" {
				want = uint64(in.truth.IPv4.Records)
			}
			if r.Flows != want {
				t.Errorf("summary: %d flows exported, want %d", r.Flows, want)
			}
			elapsed := time.Since(start)
			check(t, r)
			t.Logf("%d lines, %d records in %d datagrams at the default %d pps: sent in %.1f s",
				lines, r.Records, r.Datagrams, r.PPS, elapsed.Seconds())
		})
	}
}

func startNfcapdDefaults(t *testing.T) (string, func(*testing.T, pipeline.ReceiverSummary)) {
	nf := collectortest.StartNfcapdWith(t, collectortest.NfcapdOptions{})
	return nf.Addr(), func(t *testing.T, sent pipeline.ReceiverSummary) {
		nf.Stop(t) // fails on socket drops
		st := collectortest.Stats(t, nf.Dir)
		if st["Flows"] != strconv.FormatUint(flowRecords(sent), 10) || st["Sequence failures"] != "0" {
			t.Errorf("nfdump -I: flows %s, sequence failures %s; sent %d flow records", st["Flows"], st["Sequence failures"], flowRecords(sent))
		}
		if st["Bytes"] != sent.Bytes.String() || st["Packets"] != sent.Packets.String() {
			t.Errorf("nfdump -I: bytes %s packets %s; sent %s and %s", st["Bytes"], st["Packets"], sent.Bytes, sent.Packets)
		}
	}
}

func startNfacctdDefaults(t *testing.T) (string, func(*testing.T, pipeline.ReceiverSummary)) {
	pm := collectortest.StartNfacctdWith(t, collectortest.NfacctdOptions{})
	return pm.Addr(), func(t *testing.T, sent pipeline.ReceiverSummary) {
		pm.Stop(t) // fails on socket drops
		// The print plugin may merge identical flows of one datagram:
		// compare the sums, which merging keeps.
		var bytes, packets total.Sum
		pm.Records(t, func(r collectortest.PmRecord) {
			bytes.Add(r.Bytes)
			packets.Add(r.Packets)
		})
		if bytes != sent.Bytes || packets != sent.Packets {
			t.Errorf("nfacctd: bytes %s packets %s; sent %s and %s", bytes, packets, sent.Bytes, sent.Packets)
		}
		if e := pm.SequenceErrors(t); len(e) > 0 {
			t.Errorf("nfacctd: %d sequence errors, first %s", len(e), e[0])
		}
		if p := pm.Problems(t); len(p) > 0 {
			t.Errorf("nfacctd log: %s", strings.Join(p, "\n"))
		}
	}
}

func startGoflow2Defaults(t *testing.T) (string, func(*testing.T, pipeline.ReceiverSummary)) {
	gf := collectortest.StartGoflow2With(t, collectortest.Goflow2Options{})
	return gf.Addr(), func(t *testing.T, sent pipeline.ReceiverSummary) {
		// goflow2 formats JSON slowly (about 2 ms per datagram here) and
		// queues what it read: wait until it decoded everything, or made
		// no progress for 10 s (something was lost: the checks below say
		// what).
		decoded := func() float64 {
			return collectortest.MetricSum(gf.Metrics(t), "goflow2_flow_decoding_time_seconds_count", `name="netflow"`)
		}
		for last, still := decoded(), time.Now(); last < float64(sent.Datagrams) && time.Since(still) < 10*time.Second; {
			time.Sleep(200 * time.Millisecond)
			if n := decoded(); n != last {
				last, still = n, time.Now()
			}
		}
		m := gf.Metrics(t)
		for _, name := range []string{"goflow2_flow_dropped_packets_total", "goflow2_flow_decoder_error_total", "goflow2_flow_process_nf_errors_total"} {
			if v := collectortest.MetricSum(m, name); v != 0 {
				t.Errorf("goflow2: %s = %v", name, v)
			}
		}
		if got := collectortest.MetricSum(m, "goflow2_flow_traffic_packets_total"); got != float64(sent.Datagrams) {
			t.Errorf("goflow2 received %v datagrams, we sent %d", got, sent.Datagrams)
		}
		gf.Stop(t) // fails on socket drops
		var n uint64
		var bytes, packets total.Sum
		gf.Records(t, func(r collectortest.GfRecord) {
			n++
			bytes.Add(r.Bytes)
			packets.Add(r.Packets)
		})
		if n != flowRecords(sent) || bytes != sent.Bytes || packets != sent.Packets {
			t.Errorf("goflow2: %d flows, bytes %s packets %s; sent %d, %s and %s", n, bytes, packets, flowRecords(sent), sent.Bytes, sent.Packets)
		}
	}
}

// TestNothingListening: a run whose collector is down exits 1 with a
// message saying so and how to resend; resending under the execution
// name, once the collector listens, delivers every record with the same
// sequence numbers and no sequence failure.
func TestNothingListening(t *testing.T) {
	in := generateInput(t, 20_000, 13)
	port := collectortest.FreeUDPPort(t)
	state := filepath.Join(t.TempDir(), "seq.db")
	to := fmt.Sprintf("netflow9://127.0.0.1:%d", port)
	stdout, stderr, code := cli(t, "run", "--state", state, "--execution", "first-try", "--to", to, in.path)
	if code != 1 {
		t.Fatalf("nothing listening: exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"refused", "is the collector running?", "--execution first-try", "rate-limited"} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, stdout, stderr)
		}
	}
	nf := collectortest.StartNfcapdWith(t, collectortest.NfcapdOptions{Port: port})
	res := <-startCLI(t, "run", "--state", state, "--execution", "first-try", "--summary", "json", "--to", to, in.path)
	sum := parseSummary(t, res)
	r := sum.Receivers[0]
	if r.FirstSequence == nil || *r.FirstSequence != 0 {
		t.Errorf("resend: first sequence %v, want 0 (the numbers of the failed run)", r.FirstSequence)
	}
	nf.Stop(t)
	st := collectortest.Stats(t, nf.Dir)
	if st["Flows"] != strconv.FormatUint(flowRecords(r), 10) || st["Sequence failures"] != "0" {
		t.Errorf("nfdump -I after the resend: flows %s, sequence failures %s; sent %d flow records", st["Flows"], st["Sequence failures"], flowRecords(r))
	}
}

// flowRecords is how many flow records a collector should count: v5
// splits a flow whose counters pass 2^32 into several records; v9 and
// IPFIX carry each flow in one record (Records also counts v9's
// interface-name options records, which collectors do not count as flows).
func flowRecords(r pipeline.ReceiverSummary) uint64 {
	if r.Protocol == "netflow5" || strings.HasPrefix(r.URL, "netflow5:") {
		return r.Records
	}
	return r.Flows
}
