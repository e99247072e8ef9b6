package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// udpSink listens on loopback and discards what it receives, so that runs
// reach a collector.
func udpSink(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return "netflow5://" + c.LocalAddr().String()
}

const linesHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

func flowLine(i int) string {
	return fmt.Sprintf("2 123456789012 eni-0a1b2c3d4e5f67890 10.0.%d.%d 172.31.5.6 443 %d 6 12 3456 1700000000 1700000060 ACCEPT OK", i/256%256, i%256, 1024+i)
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

type lineSummary struct {
	Lines   int64            `json:"lines"`
	Records int64            `json:"records"`
	Skipped map[string]int64 `json:"skipped"`
	Errors  []string         `json:"errors"`
}

// runModes are the ways the CLI reads an object: streamed with 2 workers
// (the default), streamed with pieces smaller than the maximum line, one
// worker, the Lambdas' indexed chunks, and standard input.
var runModes = []struct {
	name  string
	args  []string
	stdin bool
}{
	{"streamed", nil, false},
	{"streamed small pieces", []string{"--chunk-size", "4KiB"}, false},
	{"one worker", []string{"--workers", "1"}, false},
	{"indexed", []string{"--indexed", "--small-object", "1KiB", "--chunk-size", "256KiB"}, false},
	{"stdin", nil, true},
}

// runObject runs the CLI on path in one mode and returns the summary, the
// exit code and the child's peak RSS in KiB (sampled: a lower bound). wrap prefixes the command
// (e.g. prlimit).
func runObject(t *testing.T, path string, mode int, extra []string, wrap ...string) (lineSummary, string, int, int64) {
	t.Helper()
	m := runModes[mode]
	args := []string{"run", "--state", filepath.Join(t.TempDir(), "s.db"), "--summary", "json", "--to", udpSink(t)}
	args = append(append(args, m.args...), extra...)
	if m.stdin {
		args = append(args, "-")
	} else {
		args = append(args, path)
	}
	argv := append(append([]string(nil), wrap...), cliBinary)
	cmd := exec.CommandContext(t.Context(), argv[0], append(argv[1:], args...)...)
	cmd.Env = append(os.Environ(), "MALLOC_ARENA_MAX=1")
	if m.stdin {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdin = f
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	// The peak RSS (VmHWM) of the child's own memory, sampled until it
	// exits: the kernel's rusage of the child would include the test
	// process's at fork (vfork shares its memory until exec).
	done := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var hwm int64
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		for {
			if b, err := os.ReadFile(status); err == nil {
				for _, l := range strings.Split(string(b), "\n") {
					var kib int64
					if _, err := fmt.Sscanf(l, "VmHWM: %d kB", &kib); err == nil && kib > hwm {
						hwm = kib
					}
				}
			}
			select {
			case <-done:
				peak <- hwm
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	rss := <-peak
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	var s lineSummary
	if code == 0 {
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatalf("%s: summary: %v\n%s\nstderr: %s", m.name, err, out.String(), errb.String())
		}
	}
	// Errors name the object as given: the same line in every mode.
	for i, e := range s.Errors {
		s.Errors[i] = strings.TrimPrefix(strings.TrimPrefix(e, path+": "), "stdin: ")
	}
	return s, errb.String(), code, rss
}

// paddedLog is a small log, then n NUL bytes without a newline (they and
// the next line make one long line 52), then more lines.
func paddedLog(n int) []byte {
	var b bytes.Buffer
	b.WriteString(linesHeader + "\n")
	for i := range 50 {
		b.WriteString(flowLine(i) + "\n")
	}
	b.Write(make([]byte, n))
	for i := 50; i < 100; i++ {
		b.WriteString(flowLine(i) + "\n")
	}
	return b.Bytes()
}

// TestLongLineEveryMode: a line longer than the maximum (NUL padding, the
// case of issue 12) is counted as one malformed line with its number, the
// lines after it keep theirs, and the counts are the same in every mode.
func TestLongLineEveryMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "padded.log.gz")
	if err := os.WriteFile(path, gzipped(t, paddedLog(5<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	want := lineSummary{Lines: 101, Records: 99, Skipped: map[string]int64{"header": 1, "malformed": 1},
		Errors: []string{"line 52: longer than 65536 bytes (the maximum line length): line too long"}}
	for i, m := range runModes {
		t.Run(m.name, func(t *testing.T) {
			got, errOut, code, rss := runObject(t, path, i, nil)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			t.Logf("peak RSS %d KiB", rss)
		})
	}
}

// TestLongLineMemoryBound: 512 MiB of NUL bytes in one line (2.5 MiB
// gzipped) under a 1 GiB address-space limit: the run finishes with the
// line counted, and its peak RSS stays far below the line's size.
func TestLongLineMemoryBound(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		if os.Getenv("FL2NF_REQUIRE_INTEGRATION") == "1" {
			t.Fatal("prlimit (util-linux) not found")
		}
		t.Skip("prlimit (util-linux) not found")
	}
	// Written in pieces, so that the test process stays small: the peak
	// RSS the kernel reports for the child includes the parent's at fork
	// (vfork shares its memory until exec).
	path := filepath.Join(t.TempDir(), "huge.log.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// A multi-member gzip: the NUL run is one 1 MiB member written 512
	// times (compressed once, so the test stays fast under -race).
	log := paddedLog(0)
	cut := bytes.Index(log, []byte(flowLine(50)))
	zeros := gzipped(t, make([]byte, 1<<20))
	f.Write(gzipped(t, log[:cut]))
	for range 512 {
		f.Write(zeros)
	}
	if _, err := f.Write(gzipped(t, log[cut:])); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []int{0, 2, 4} { // streamed, one worker, stdin
		t.Run(runModes[mode].name, func(t *testing.T) {
			got, errOut, code, rss := runObject(t, path, mode, nil, prlimit, "--as=1073741824")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if got.Lines != 101 || got.Records != 99 || got.Skipped["malformed"] != 1 {
				t.Errorf("summary %+v", got)
			}
			t.Logf("peak RSS %d KiB", rss)
			if rss > 128<<10 {
				t.Errorf("peak RSS %d KiB, want < 128 MiB for a 512 MiB line", rss)
			}
		})
	}
}

// TestLinesOfMegabytes: with --max-line-bytes 1MiB, a record padded with
// spaces to exactly 1 MiB is read, one byte more and lines of 2-4 MiB are
// malformed: the same rule and the same counts and errors in every mode.
func TestLinesOfMegabytes(t *testing.T) {
	const mib = 1 << 20
	var b bytes.Buffer
	b.WriteString(linesHeader + "\n")
	pad := func(s string, n int) string { return s + strings.Repeat(" ", n-len(s)) }
	for i, n := range []int{0, mib, 0, mib + 1, 2 * mib, 0, 3 * mib, 4 * mib, 0} {
		if n == 0 {
			b.WriteString(flowLine(i) + "\n")
		} else {
			b.WriteString(pad(flowLine(i), n) + "\n")
		}
	}
	path := filepath.Join(t.TempDir(), "megabytes.log.gz")
	if err := os.WriteFile(path, gzipped(t, b.Bytes()), 0o644); err != nil {
		t.Fatal(err)
	}
	var errs []string
	for _, line := range []int{5, 6, 8, 9} {
		errs = append(errs, fmt.Sprintf("line %d: longer than 1048576 bytes (the maximum line length): line too long", line))
	}
	want := lineSummary{Lines: 10, Records: 5, Skipped: map[string]int64{"header": 1, "malformed": 4}, Errors: errs}
	for i, m := range runModes {
		t.Run(m.name, func(t *testing.T) {
			got, errOut, code, _ := runObject(t, path, i, []string{"--max-line-bytes", "1MiB"})
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnreadableObjects: objects that are not flow-log text fail with an
// error that names the object and says why, detected from the content, the
// same in every mode (exit 1); an object whose every data line is
// malformed fails too, and nothing is sent for it.
func TestUnreadableObjects(t *testing.T) {
	dir := t.TempDir()
	fmtDefault := "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
	good := linesHeader + "\n" + flowLine(1) + "\n"
	cloudwatch := `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"vpc-flow","logStream":"eni-1-all",` +
		`"subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1700000000000,"message":"` + flowLine(1) + `"}]}`
	firehose := `{"message":"` + flowLine(1) + `"}{"message":"` + flowLine(2) + `"}`
	cases := []struct {
		name   string
		data   []byte
		format bool
		code   int
		want   string
	}{
		{"empty", nil, false, 1, "is empty"},
		{"empty with format", nil, true, 1, "is empty"},
		{"gzip of nothing", gzipped(t, nil), false, 1, "is empty"},
		{"duplicated field", []byte("version srcaddr dstaddr srcport srcaddr\n2 1 2 3 4\n"), false, 1, `field "srcaddr" in column 5 duplicates column 2`},
		{"gzip inside gzip", gzipped(t, gzipped(t, []byte(good))), false, 1, "gzip inside gzip"},
		{"gzip inside gzip with format", gzipped(t, gzipped(t, []byte(good))), true, 1, "gzip inside gzip"},
		{"cloudwatch without format", gzipped(t, []byte(cloudwatch+cloudwatch)), false, 1, "a CloudWatch Logs subscription payload: no header line and no log format configured"},
		{"cloudwatch with format", gzipped(t, []byte(cloudwatch+cloudwatch)), true, 0, ""},
		{"cloudwatch, a document cut short", gzipped(t, []byte(cloudwatch+cloudwatch[:60])), true, 1, "invalid CloudWatch Logs subscription payload"},
		{"parquet", append([]byte("PAR1\x15\x04\x15\x10"), "...PAR1"...), false, 1, "invalid Parquet flow log"}, // from stdin: "Parquet from standard input"
		{"binary", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), true, 1, "not a flow log: binary content"},
		{"text", []byte("hello world\nthis is not a flow log\n"), false, 1, "not a flow log: the first line"},
		{"json without message", []byte(`{"records":[1,2]}`), true, 1, "not a flow log: JSON"},
		{"firehose without format", []byte(firehose), false, 1, "no header line and no log format configured"},
		{"every line malformed: bad addresses", []byte("version srcaddr dstaddr start end\n2 x 10.0.0.1 1700000000 1700000001\n2 y 10.0.0.1 1700000000 1700000001\n"), false, 1, "every data line is malformed: 2 of 3 lines malformed"},
		{"every line malformed: text with format", []byte("hello world\nthis is not a flow log\n"), true, 1, "every data line is malformed"},
		{"firehose with format", []byte(firehose), true, 0, ""},
		{"only a header", []byte(linesHeader + "\n"), false, 0, ""},
	}
	for _, tc := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".log")
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		var extra []string
		if tc.format {
			extra = []string{"--format", fmtDefault}
		}
		for _, mode := range []int{0, 2, 3, 4} {
			t.Run(tc.name+"/"+runModes[mode].name, func(t *testing.T) {
				_, errOut, code, _ := runObject(t, path, mode, extra)
				if code != tc.code {
					t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut)
				}
				if tc.code == 0 {
					return
				}
				name := path
				if runModes[mode].stdin {
					name = "stdin"
				}
				want := tc.want
				if tc.name == "parquet" && runModes[mode].stdin {
					want = "Parquet from standard input"
				}
				if !strings.Contains(errOut, want) || !strings.Contains(errOut, name) {
					t.Errorf("error does not say %q about %s:\n%s", want, name, errOut)
				}
			})
		}
	}
}
