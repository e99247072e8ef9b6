package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOddTimesAndHugeCounters runs lines with odd times and 64-bit counters
// through all three protocols: one time rule for all of them (nothing
// "unsupported" for one protocol only), and exact byte and packet sums
// beyond 2^64 in the summary.
func TestOddTimesAndHugeCounters(t *testing.T) {
	const max64 = "18446744073709551615"
	line := func(pkts, bytes, start, end string) string {
		return fmt.Sprintf("2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.5 10.0.2.9 443 49152 6 %s %s %s %s ACCEPT OK", pkts, bytes, start, end)
	}
	in := strings.Join([]string{
		"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
		line("10", "100", "1700000060", "1700000000"),  // end before start: end = start
		line("10", "100", "-", "1700000000"),           // no start: start = end
		line("10", "100", "0", "1700000000"),           // start 0: likewise
		line("10", "100", "1700000000", "1800000000"),  // three years: cut to 48.7 days
		line("10", "100", "1700000000", "99999999999"), // year 5138: malformed
		line("10", "100", "-", "-"),                    // no time at all: malformed
		line("4000000000", max64, "1700000000", "1700000060"),
		line("4000000000", max64, "1700000000", "1700000060"),
	}, "\n") + "\n"
	path := filepath.Join(t.TempDir(), "odd.log")
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	sink := strings.TrimPrefix(udpSink(t), "netflow5://")
	out, stderr, code := cli(t, "run", "--summary", "json", "--state", filepath.Join(t.TempDir(), "seq.db"),
		"--to", "netflow9://"+sink+"?source-id=1", "--to", "ipfix://"+sink+"?domain=2", "--to", "netflow5://"+sink, path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum struct {
		Lines, Records int64
		Skipped        map[string]int64
		Errors         []string
		Receivers      []struct {
			URL                string
			Flows, Unsupported int64
			Bytes, Packets     json.Number
		}
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(out)))
	dec.UseNumber()
	if err := dec.Decode(&sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	if sum.Lines != 9 || sum.Records != 6 || sum.Skipped["malformed"] != 2 || sum.Skipped["header"] != 1 {
		t.Errorf("lines %d records %d skipped %v; want 9, 6, malformed 2, header 1", sum.Lines, sum.Records, sum.Skipped)
	}
	// 4 records of 100 bytes + 2 × (2^64-1); 4 × 10 packets + 2 × 4e9.
	const wantBytes, wantPackets = "36893488147419103630", "8000000040"
	for _, r := range sum.Receivers {
		switch {
		case strings.HasPrefix(r.URL, "netflow5"):
			// 2^64-1 bytes would need more than 65,536 v5 records: the
			// two huge records are v5's only unsupported ones.
			if r.Flows != 4 || r.Unsupported != 2 || r.Bytes != "400" || r.Packets != "40" {
				t.Errorf("%s: flows %d unsupported %d bytes %s packets %s; want 4, 2, 400, 40", r.URL, r.Flows, r.Unsupported, r.Bytes, r.Packets)
			}
		default:
			if r.Flows != 6 || r.Unsupported != 0 || r.Bytes != wantBytes || r.Packets != wantPackets {
				t.Errorf("%s: flows %d unsupported %d bytes %s packets %s; want 6, 0, %s, %s",
					r.URL, r.Flows, r.Unsupported, r.Bytes, r.Packets, wantBytes, wantPackets)
			}
		}
	}
	for _, want := range []string{`line 6: field 12 (end) "99999999999": flow time outside`, `line 7: field 11 (start) "-": flow time outside`} {
		if !strings.Contains(strings.Join(sum.Errors, "\n"), want) {
			t.Errorf("summary errors lack %q: %q", want, sum.Errors)
		}
	}
	text, _, code := cli(t, "run", "--summary", "text", "--state", filepath.Join(t.TempDir(), "seq.db"),
		"--to", "ipfix://"+sink, path)
	if code != 0 || !strings.Contains(text, wantBytes) || !strings.Contains(text, wantPackets) {
		t.Errorf("text summary (exit %d) lacks %s bytes and %s packets:\n%s", code, wantBytes, wantPackets, text)
	}
}
