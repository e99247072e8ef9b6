package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
