package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/collectortest"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
)

// binary is the CLI built once for the tests that run it as a process
// (without -race, so million-line runs stay fast under go test -race).
var cliBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fl2nf-cli-")
	if err != nil {
		panic(err)
	}
	cliBinary = filepath.Join(dir, "flowlogs2netflow")
	cmd := exec.Command("go", "build", "-o", cliBinary, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		panic("build CLI: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the built binary and returns stdout, stderr and the exit code.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runBad(t, nil, nil, args...)
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.log")
	os.WriteFile(bad, []byte("2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "Usage"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"no receiver", []string{"run", bad}, 2, "no receiver"},
		{"bad receiver", []string{"run", "--to", "http://x", bad}, 2, "unknown scheme"},
		{"every problem at once", []string{"run", "--to", "netflow5://h:0", "--address-mode", "x", "--workers", "0", "missing.log"}, 2, "invalid port"},
		{"missing input", []string{"run", "--to", "netflow5://127.0.0.1:9", filepath.Join(dir, "nope.log")}, 2, "nope.log"},
		{"no header and no format", []string{"run", "--state", filepath.Join(dir, "s.db"), "--to", "netflow5://127.0.0.1:9", bad}, 1, "bad.log"},
		{"help", []string{"run", "-h"}, 2, "Usage: flowlogs2netflow run"},
		{"generate without lines", []string{"generate"}, 2, "--lines"},
		{"version", []string{"version"}, 0, "flowlogs2netflow"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cli(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if !strings.Contains(out+errOut, tc.want) {
				t.Errorf("output does not mention %q:\nstdout: %s\nstderr: %s", tc.want, out, errOut)
			}
		})
	}
	// The problems of one invocation are reported together.
	_, errOut, _ := cli(t, "run", "--to", "netflow5://h:0", "--address-mode", "x", "--workers", "0", "missing.log")
	for _, want := range []string{"invalid port", "address-mode", "--workers", "missing.log"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("usage error does not mention %q: %s", want, errOut)
		}
	}
}

func TestRunInProcess(t *testing.T) {
	// run() is what main calls; exercising it in-process covers it under -race.
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"version"}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), version) {
		t.Errorf("version: code %d, %q %q", code, out.String(), errb.String())
	}
}

func TestPlanCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "f.log.gz")
	if _, errOut, code := cli(t, "generate", "--lines", "50000", "--gzip", "-o", in); code != 0 {
		t.Fatalf("generate: %s", errOut)
	}
	out, errOut, code := cli(t, "plan", "--chunk-size", "1MiB", "--small-object", "64KiB", in)
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"gzip", "50001 lines", "(header line)", "checkpoint index"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = cli(t, "plan", "--json", "--chunk-size", "1MiB", "--small-object", "64KiB", in)
	var p struct {
		Lines int64 `json:"lines"`
		Items []struct {
			Start int64 `json:"start"`
			End   int64 `json:"end"`
		} `json:"items"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &p) != nil || p.Lines != 50001 || len(p.Items) < 5 {
		t.Fatalf("plan --json: exit %d, %+v\n%s", code, p, out)
	}
	for i := 1; i < len(p.Items); i++ {
		if p.Items[i].Start != p.Items[i-1].End {
			t.Errorf("chunk %d starts at %d, chunk %d ends at %d", i, p.Items[i].Start, i-1, p.Items[i-1].End)
		}
	}
	if _, _, code := cli(t, "plan"); code != 2 {
		t.Errorf("plan without FILE: exit %d, want 2", code)
	}
}

// TestStdin: "-" reads the object from standard input, gzip or plain.
func TestStdin(t *testing.T) {
	log := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.23 172.31.5.6 443 51234 6 12 3456 1700000000 1700000060 ACCEPT OK\n" +
		"2 123456789012 eni-0a1b2c3d4e5f67890 - - - - - - - 1700000000 1700000060 - NODATA\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(log))
	zw.Close()
	for name, in := range map[string][]byte{"plain": []byte(log), "gzip": gz.Bytes()} {
		cmd := exec.Command(cliBinary, "run", "--state", filepath.Join(t.TempDir(), "s.db"), "--summary", "json",
			"--to", udpSink(t), "-")
		cmd.Stdin = bytes.NewReader(in)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var s struct {
			Lines, Records int64
		}
		if err := json.Unmarshal(out, &s); err != nil || s.Lines != 3 || s.Records != 1 {
			t.Errorf("%s: summary %+v, %v\n%s", name, s, err, out)
		}
	}
}

// TestGuarded: a panic in a command (a bug) is an error, exit 1, with a
// message asking for a report, never Go's crash with exit 2.
func TestGuarded(t *testing.T) {
	var stderr bytes.Buffer
	err := guarded(func() error {
		var m map[string]int
		m["x"] = 1 // panics
		return nil
	}, &stderr)
	if err == nil || !strings.Contains(err.Error(), "internal error") || !strings.Contains(err.Error(), "please report") {
		t.Errorf("guarded = %v, want an internal error", err)
	}
	if !strings.Contains(stderr.String(), "goroutine") {
		t.Errorf("no stack on stderr: %q", stderr.String())
	}
	if err := guarded(func() error { return usagef("bad") }, &stderr); !errors.As(err, new(usageError)) {
		t.Errorf("guarded changed a usage error: %v", err)
	}
}

// TestCloudWatchPayload: a CloudWatch Logs subscription object as Firehose
// writes it to S3 (one gzip member per record, JSON documents, a
// CONTROL_MESSAGE among them) runs with the log group's format given by
// --format: every event is exported (nfdump counts them), the control
// event is counted as "control", and plan shows the framing.
func TestCloudWatchPayload(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "text.log")
	if _, errOut, code := cli(t, "generate", "--lines", "3000", "--seed", "5", "--format", flowlog.DefaultFormat.Header(), "-o", text); code != 0 {
		t.Fatalf("generate: %s", errOut)
	}
	b, err := os.ReadFile(text)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")[1:]
	var obj bytes.Buffer
	member := func(doc string) {
		zw := gzip.NewWriter(&obj)
		zw.Write([]byte(doc))
		zw.Close()
	}
	for i := 0; i < len(lines); i += 1000 {
		if i == 1000 {
			member(`{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`)
		}
		var ev []string
		for j, l := range lines[i:min(i+1000, len(lines))] {
			m, _ := json.Marshal(l)
			ev = append(ev, fmt.Sprintf(`{"id":"%d","timestamp":1700000000000,"message":%s}`, i+j, m))
		}
		member(`{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"flow","logStream":"eni-1-all","subscriptionFilters":["f"],"logEvents":[` + strings.Join(ev, ",") + `]}`)
	}
	in := filepath.Join(dir, "fl2nf-cw-2025-01-01-00-00-00")
	if err := os.WriteFile(in, obj.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var want struct{ records, bytes, packets uint64 }
	var all int64
	flowlog.NewParser(flowlog.Options{}).Scan(bytes.NewReader(b), func(r *flow.Record) error {
		all++
		if !r.IsIPv6() {
			want.records++
			want.bytes += r.Bytes
			want.packets += r.Packets
		}
		return nil
	})

	out, _, code := cli(t, "plan", "--format", flowlog.DefaultFormat.Header(), in)
	if code != 0 || !strings.Contains(out, "CloudWatch Logs subscription") {
		t.Errorf("plan: exit %d\n%s", code, out)
	}
	nf := collectortest.StartNfcapd(t)
	out, errOut, code := cli(t, "run", "--summary", "json", "--format", flowlog.DefaultFormat.Header(),
		"--state", filepath.Join(dir, "seq.db"), "--to", "netflow9://"+nf.Addr(), in)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	var sum struct {
		Records int64            `json:"records"`
		Skipped map[string]int64 `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Records != all || sum.Skipped["control"] != 1 {
		t.Errorf("summary %+v (%v), want %d records and 1 control event\n%s", sum, err, all, out)
	}
	nf.Stop(t)
	var got struct{ records, bytes, packets uint64 }
	collectortest.Records(t, nf.Dir, func(r collectortest.NfRecord) {
		if r.SrcAddr.Is4() {
			got.records++
			got.bytes += r.Bytes
			got.packets += r.Packets
		}
	})
	if got != want {
		t.Errorf("nfdump %+v, input %+v", got, want)
	}
	if f := collectortest.Stats(t, nf.Dir)["Sequence failures"]; f != "0" {
		t.Errorf("sequence failures %q", f)
	}
}
