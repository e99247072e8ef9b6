//go:build unix

package main

// The bad-input corpus test (issue 12, "nothing lost silently"): the real
// CLI against every kind of bad input we know, each row asserting the exit
// code, the words of the message, which objects failed or were ignored,
// that the good objects beside a bad one were still sent (a UDP listener
// on loopback counts the datagrams), and that the JSON summary reconciles.
//
// The corpus is committed under testdata/bad/ (see its README.md);
// `go test ./cmd/flowlogs2netflow -run TestBadInput -update` rewrites it.
// Symbolic links, pipes and directories are made per row from it, in a
// temporary directory.
//
// To add a row: add a badCase to badCases (or s3Cases); put a new corpus
// file in writeCorpus.

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	bolt "go.etcd.io/bbolt"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/fakes3"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowgen"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/boltseq"
)

var update = flag.Bool("update", false, "rewrite the bad-input corpus in testdata/bad/")

const corpusDir = "testdata/bad"

// goodFiles are the flow logs of the corpus: flowgen output, so the test
// knows their records.
var goodFiles = []struct {
	name  string
	lines int64
	seed  int64
	gzip  bool
}{
	{"good-a.log.gz", 200, 1, true},
	{"good-b.log", 120, 2, false},
	{"good-c.log.gz", 80, 3, true},
}

func goodOptions(lines, seed int64) flowgen.Options {
	return flowgen.Options{Lines: lines, Seed: seed, IPv6Fraction: 0.05, NoDataFraction: 0.02, SkipDataFraction: 0.01, Header: true}
}

// goodRecords is the number of records of a good corpus file, from the
// generator; it also checks that the committed file is what the generator
// writes.
func goodRecords(t *testing.T, name string) int64 {
	t.Helper()
	for _, g := range goodFiles {
		if g.name != name {
			continue
		}
		var want bytes.Buffer
		tot, err := flowgen.Write(&want, goodOptions(g.lines, g.seed))
		if err != nil {
			t.Fatal(err)
		}
		got := readCorpus(t, name)
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%s differs from the generator's output: run go test -run TestBadInput -update", name)
		}
		return tot.Records()
	}
	t.Fatalf("%s is not a good corpus file", name)
	return 0
}

// readCorpus returns a corpus file's content, gunzipped.
func readCorpus(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// writeCorpus writes testdata/bad/ (with -update).
func writeCorpus(t *testing.T) {
	t.Helper()
	if err := os.MkdirAll(corpusDir, 0o755); err != nil {
		t.Fatal(err)
	}
	put := func(name string, b []byte, gz bool) {
		if gz {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(b)
			zw.Close()
			b = buf.Bytes()
		}
		if err := os.WriteFile(filepath.Join(corpusDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range goodFiles {
		var b bytes.Buffer
		if _, err := flowgen.Write(&b, goodOptions(g.lines, g.seed)); err != nil {
			t.Fatal(err)
		}
		put(g.name, b.Bytes(), g.gzip)
	}
	put("not-a-flow-log.txt", []byte("Shopping list\n- milk\n- eggs\n"), false)

	// Damaged sequence stores: a healthy store, then damaged three ways.
	path := filepath.Join(t.TempDir(), "sequences.db")
	st, err := boltseq.Open(path, boltseq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		if _, err := st.Reserve(t.Context(), fmt.Sprintf("netflow9|127.0.0.1:%d|source-id=0", 2055+i%3), fmt.Sprintf("local-corpus/%d", i), 7); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	healthy, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(12, 0))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return b
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var used int // bytes of the file the store uses (its high-water mark)
	db.View(func(tx *bolt.Tx) error { used = int(tx.Size()); return nil })
	db.Close()
	put("state-truncated.db.gz", healthy[:used/2], true)
	put("state-random.db.gz", random(16384), true)
	over := bytes.Clone(healthy)
	copy(over[used/2/4096*4096:], random(2*4096))
	put("state-overwritten.db.gz", over, true)

	// Content the plan step refuses (and one over-long line).
	header := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	line := "2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.23 172.31.5.6 443 51234 6 12 3456 1700000000 1700000060 ACCEPT OK\n"
	put("empty.log", nil, false)
	put("duplicated-header-field.log", []byte(strings.Replace(header, "dstport", "srcport", 1)+line), false)
	var inner bytes.Buffer
	zw := gzip.NewWriter(&inner)
	zw.Write([]byte(header + line))
	zw.Close()
	put("nested.log.gz", inner.Bytes(), true)
	put("cloudwatch-logs.json", []byte(`{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"vpc-flow","logStream":"eni-0a1b2c3d4e5f67890-all","logEvents":[{"id":"1","timestamp":1700000000000,"message":"`+strings.TrimSpace(line)+`"}]}`+"\n"), false)
	put("parquet.parquet", append(append([]byte("PAR1"), random(200)...), []byte("PAR1")...), false)
	put("all-malformed.log", []byte(header+strings.Repeat("this is not a flow-log record\n", 20)), false)
	put("over-long-line.log.gz", []byte(header+strings.Repeat("x", 4<<20)+"\n"+line), true)
}

// badCase is one row: a setup that builds the INPUTs (and flags) in dir
// from the corpus, and what the run must do.
type badCase struct {
	name  string
	setup func(t *testing.T, dir string) (args []string)
	// flags are extra run flags; "--state" and "--to" are set unless given.
	flags []string
	env   []string
	code  int
	// want are words of stdout+stderr.
	want []string
	// failed and ignored are the objects (path suffixes) the summary must
	// list; good are the good corpus files whose records must all be
	// counted and sent.
	failed, ignored, good []string
	// extra are records expected beyond the good files' (a bad file's
	// valid lines).
	extra int64
	// noSummary: the run stops before it has a summary (usage errors, a
	// damaged store).
	noSummary bool
	// asNobody runs the CLI as user nobody when the test runs as root
	// (root reads files of any permission).
	asNobody bool
}

// corpusCopy copies corpus files into dir: "path" copies the corpus file
// named by the path's last element, "path=file" the corpus file.
func corpusCopy(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		name, src, _ := strings.Cut(f, "=")
		if src == "" {
			src = filepath.Base(name)
		}
		b, err := os.ReadFile(filepath.Join(corpusDir, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func gunzipTo(t *testing.T, name, dst string) {
	t.Helper()
	if err := os.WriteFile(dst, readCorpus(t, name), 0o600); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// contentRow is a directory holding a good file and one corpus file that
// the plan step refuses: exit 1, the file listed as failed, the output
// naming it and saying why (want).
func contentRow(name, file string, want ...string) badCase {
	return badCase{
		name: name,
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "in/good-a.log.gz", "in/"+file)
			return []string{filepath.Join(dir, "in")}
		},
		code: 1, want: want, failed: []string{file}, good: []string{"good-a.log.gz"},
	}
}

var badCases = []badCase{
	{
		name: "good files only",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "in/good-a.log.gz", "in/good-b.log")
			return []string{filepath.Join(dir, "in")}
		},
		code: 0, good: []string{"good-a.log.gz", "good-b.log"},
	},
	{
		name: "symbolic link to a file in a directory",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "in/good-a.log.gz", "elsewhere/good-b.log")
			symlink(t, "../elsewhere/good-b.log", filepath.Join(dir, "in", "b.log"))
			return []string{filepath.Join(dir, "in")}
		},
		code: 0, good: []string{"good-a.log.gz", "good-b.log"},
	},
	{
		name: "symbolic link to a directory",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "in/good-a.log.gz", "elsewhere/sub/good-c.log.gz")
			symlink(t, "../elsewhere/sub", filepath.Join(dir, "in", "linked"))
			return []string{filepath.Join(dir, "in")}
		},
		code: 0, good: []string{"good-a.log.gz", "good-c.log.gz"},
	},
	{
		name: "symbolic link loop",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "in/good-a.log.gz", "in/sub/good-b.log")
			symlink(t, "..", filepath.Join(dir, "in", "sub", "up"))
			symlink(t, ".", filepath.Join(dir, "in", "self"))
			return []string{filepath.Join(dir, "in")}
		},
		code: 0, want: []string{"symbolic link loop"}, ignored: []string{"in/sub/up", "in/self"},
		good: []string{"good-a.log.gz", "good-b.log"},
	},
	{
		name: "two paths to one file",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "in/good-a.log.gz")
			symlink(t, "good-a.log.gz", filepath.Join(dir, "in", "z-again.log.gz"))
			return []string{filepath.Join(dir, "in"), filepath.Join(dir, "in", "good-a.log.gz")}
		},
		code: 0, want: []string{"the same file"}, ignored: []string{"in/z-again.log.gz", "in/good-a.log.gz"},
		good: []string{"good-a.log.gz"},
	},
	{
		name: "one file that is not a flow log among good ones",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "in/1-good-a.log.gz=good-a.log.gz", "in/2-notes.txt=not-a-flow-log.txt", "in/3-good-b.log=good-b.log")
			return []string{filepath.Join(dir, "in")}
		},
		code: 1, want: []string{"2-notes.txt", "1 of 3 objects failed"}, failed: []string{"2-notes.txt"},
		good: []string{"good-a.log.gz", "good-b.log"},
	},
	{
		name: "several INPUT arguments, the middle one bad",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "good-a.log.gz", "not-a-flow-log.txt", "good-c.log.gz")
			return []string{filepath.Join(dir, "good-a.log.gz"), filepath.Join(dir, "not-a-flow-log.txt"), filepath.Join(dir, "good-c.log.gz")}
		},
		code: 1, want: []string{"not-a-flow-log.txt"}, failed: []string{"not-a-flow-log.txt"},
		good: []string{"good-a.log.gz", "good-c.log.gz"},
	},
	{
		name: "hidden file",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "in/good-a.log.gz", "in/.good-b.log.swp=good-b.log")
			return []string{filepath.Join(dir, "in")}
		},
		code: 0, want: []string{"hidden"}, ignored: []string{".good-b.log.swp"}, good: []string{"good-a.log.gz"},
	},
	{
		name: "broken symbolic link",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "in/good-a.log.gz")
			symlink(t, "gone.log", filepath.Join(dir, "in", "b.log"))
			return []string{filepath.Join(dir, "in")}
		},
		code: 1, want: []string{"broken symbolic link"}, failed: []string{"in/b.log"}, good: []string{"good-a.log.gz"},
	},
	{
		name: "named pipe in a directory",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "in/good-a.log.gz")
			if err := syscall.Mkfifo(filepath.Join(dir, "in", "pipe"), 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{filepath.Join(dir, "in")}
		},
		code: 1, want: []string{"named pipe"}, failed: []string{"in/pipe"}, good: []string{"good-a.log.gz"},
	},
	{
		name: "named pipe as INPUT",
		setup: func(t *testing.T, dir string) []string {
			p := filepath.Join(dir, "pipe")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
			content, err := os.ReadFile(filepath.Join(corpusDir, "good-a.log.gz"))
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				// Opening blocks until the CLI opens the other end.
				if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
					f.Write(content)
					f.Close()
				}
			}()
			return []string{p}
		},
		code: 0, good: []string{"good-a.log.gz"},
	},
	{
		name: "empty directory",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "good-a.log.gz")
			os.Mkdir(filepath.Join(dir, "empty"), 0o755)
			return []string{filepath.Join(dir, "good-a.log.gz"), filepath.Join(dir, "empty")}
		},
		code: 1, want: []string{"no files in directory"}, failed: []string{"empty"}, good: []string{"good-a.log.gz"},
	},
	{
		name: "nonexistent path",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "good-a.log.gz")
			return []string{filepath.Join(dir, "good-a.log.gz"), filepath.Join(dir, "missing.log.gz")}
		},
		code: 2, want: []string{"missing.log.gz", "no such file"}, noSummary: true,
	},
	{
		name:     "unreadable file",
		asNobody: true,
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "in/good-a.log.gz", "in/good-b.log")
			os.Chmod(filepath.Join(dir, "in", "good-b.log"), 0)
			return []string{filepath.Join(dir, "in")}
		},
		code: 1, want: []string{"permission denied"}, failed: []string{"good-b.log"}, good: []string{"good-a.log.gz"},
	},
	{
		name:     "unreadable directory",
		asNobody: true,
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "in/good-a.log.gz", "in/locked/good-b.log")
			locked := filepath.Join(dir, "in", "locked")
			os.Chmod(locked, 0)
			t.Cleanup(func() { os.Chmod(locked, 0o755) })
			return []string{filepath.Join(dir, "in")}
		},
		code: 1, want: []string{"read directory", "permission denied"}, failed: []string{"in/locked"}, good: []string{"good-a.log.gz"},
	},
	{
		name: "same collector twice: localhost and 127.0.0.1",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "good-a.log.gz")
			return []string{filepath.Join(dir, "good-a.log.gz")}
		},
		flags: []string{"--to", "netflow9://localhost:{port}", "--to", "netflow9://127.0.0.1:{port}"},
		code:  2, want: []string{"netflow9://localhost:", "netflow9://127.0.0.1:", "same collector"}, noSummary: true,
	},
	{
		name: "same address, different Source IDs",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "good-a.log.gz")
			return []string{filepath.Join(dir, "good-a.log.gz")}
		},
		flags: []string{"--to", "netflow9://localhost:{port}?source-id=1", "--to", "netflow9://127.0.0.1:{port}?source-id=2"},
		code:  0, good: []string{"good-a.log.gz", "good-a.log.gz"},
	},
	damagedState("truncated state file", "state-truncated.db.gz"),
	damagedState("state file of random bytes", "state-random.db.gz"),
	damagedState("partly overwritten state file", "state-overwritten.db.gz"),
	{
		name: "state file locked by another process",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "good-a.log.gz")
			st, err := boltseq.Open(filepath.Join(dir, "held.db"), boltseq.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return []string{"--state", filepath.Join(dir, "held.db"), filepath.Join(dir, "good-a.log.gz")}
		},
		code: 1, want: []string{"held.db", "locked by another process"}, noSummary: true,
	},

	// Content the plan step recognizes and refuses, naming the object and
	// why; the good file beside it is sent. ----------------------------
	contentRow("empty object", "empty.log", "empty.log", "object is empty"),
	contentRow("duplicated header field", "duplicated-header-field.log", "invalid header line", `field "srcport" in column 7 duplicates column 6`),
	contentRow("gzip inside gzip", "nested.log.gz", "nested.log.gz", "gzip inside gzip", "decompress it once"),
	contentRow("CloudWatch Logs JSON", "cloudwatch-logs.json", "a CloudWatch Logs subscription payload: no header line and no log format configured"),
	contentRow("damaged Parquet", "parquet.parquet", "parquet.parquet", "invalid Parquet flow log"),
	contentRow("every line malformed", "all-malformed.log", "all-malformed.log", "every data line is malformed", "first: line 2: "),
	// A line longer than --max-line-bytes (64 KiB) is one malformed line,
	// counted with its number, and the rest of the object is sent.
	{
		name: "over-long line",
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "in/good-a.log.gz", "in/over-long-line.log.gz")
			return []string{filepath.Join(dir, "in")}
		},
		code: 0, want: []string{`"malformed": 1`, "line 2: ", "line too long"}, good: []string{"good-a.log.gz"},
		extra: 1, // the line after the long one
	},
}

func damagedState(name, file string) badCase {
	return badCase{
		name: name,
		setup: func(t *testing.T, dir string) []string {
			corpusCopy(t, dir, "good-a.log.gz")
			gunzipTo(t, file, filepath.Join(dir, "damaged.db"))
			return []string{"--state", filepath.Join(dir, "damaged.db"), filepath.Join(dir, "good-a.log.gz")}
		},
		code: 1, want: []string{"damaged.db", "damaged", "move it away", "restore a backup"}, noSummary: true,
	}
}

// listener counts the datagrams that reach a UDP port on loopback.
type listener struct {
	port int
	n    atomic.Int64
}

func listen(t *testing.T) *listener {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(8 << 20)
	l := &listener{port: c.LocalAddr().(*net.UDPAddr).Port}
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			l.n.Add(1)
		}
	}()
	t.Cleanup(func() { c.Close() })
	return l
}

// waitFor waits (bounded) until the listener has n datagrams and returns
// what it has.
func (l *listener) waitFor(n int64) int64 {
	for deadline := time.Now().Add(3 * time.Second); l.n.Load() < n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // and nothing more arrives
	return l.n.Load()
}

// badSummary is the part of --summary json the rows check.
type badSummary struct {
	Lines     int64            `json:"lines"`
	Records   int64            `json:"records"`
	Skipped   map[string]int64 `json:"skipped"`
	Objects   int              `json:"objects"`
	Receivers []struct {
		URL         string `json:"url"`
		Flows       int64  `json:"flows"`
		Unsupported int64  `json:"unsupported"`
		Datagrams   int64  `json:"datagrams"`
	} `json:"receivers"`
	Failed []struct {
		Object  string `json:"object"`
		Error   string `json:"error"`
		Counted bool   `json:"counted"`
	} `json:"failed"`
	Ignored []struct {
		Object string `json:"object"`
		Reason string `json:"reason"`
	} `json:"ignored"`
}

// runBad runs the CLI with env added to the environment (and attr, for
// another user).
func runBad(t *testing.T, env []string, attr *syscall.SysProcAttr, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), cliBinary, args...)
	cmd.SysProcAttr = attr
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func TestBadInput(t *testing.T) {
	if *update {
		writeCorpus(t)
	}
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) { checkBad(t, tc) })
	}
}

func checkBad(t *testing.T, tc badCase) {
	dir := t.TempDir()
	l := listen(t)
	args := tc.setup(t, dir)
	run := []string{"run", "--summary", "json", "--progress", "never"}
	hasState, hasTo := false, false
	for _, f := range append(tc.flags, args...) {
		hasState = hasState || f == "--state"
		hasTo = hasTo || f == "--to"
	}
	if !hasState {
		run = append(run, "--state", filepath.Join(dir, "state.db"))
	}
	if !hasTo {
		run = append(run, "--to", fmt.Sprintf("netflow9://127.0.0.1:%d", l.port))
	}
	for _, f := range tc.flags {
		run = append(run, strings.ReplaceAll(f, "{port}", fmt.Sprint(l.port)))
	}
	run = append(run, args...)
	var attr *syscall.SysProcAttr
	if tc.asNobody && os.Geteuid() == 0 {
		// nobody must reach the binary and the row's directory.
		for d, mode := range map[string]os.FileMode{filepath.Dir(cliBinary): 0o755, filepath.Dir(dir): 0o755, dir: 0o777} {
			if err := os.Chmod(d, mode); err != nil {
				t.Fatal(err)
			}
		}
		attr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	stdout, stderr, code := runBad(t, tc.env, attr, run...)
	both := stdout + stderr
	report := fmt.Sprintf("\nstdout: %s\nstderr: %s", stdout, stderr)
	if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic:") {
		t.Fatalf("the CLI panicked%s", report)
	}
	t.Logf("exit %d, stderr:\n%s", code, stderr)
	if code != tc.code {
		t.Errorf("exit %d, want %d%s", code, tc.code, report)
	}
	for _, w := range tc.want {
		if !strings.Contains(both, w) {
			t.Errorf("output does not mention %q%s", w, report)
		}
	}
	if tc.noSummary {
		if n := l.waitFor(0); n != 0 {
			t.Errorf("%d datagrams sent, want none", n)
		}
		return
	}
	var s badSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("no JSON summary: %v%s", err, report)
	}
	checkReconciles(t, s)
	checkListed(t, "failed", tc.failed, func(yield func(string) bool) {
		for _, f := range s.Failed {
			if !yield(f.Object) {
				return
			}
		}
	})
	checkListed(t, "ignored", tc.ignored, func(yield func(string) bool) {
		for _, f := range s.Ignored {
			if !yield(f.Object) {
				return
			}
		}
	})
	if code != 0 && len(s.Failed) == 0 {
		t.Errorf("exit %d with no failed object in the summary", code)
	}
	// Every good file was counted and sent, however the bad ones fared.
	want := tc.extra
	for _, g := range tc.good {
		want += goodRecords(t, g)
	}
	counted := int64(0)
	for _, f := range s.Failed {
		if f.Counted {
			counted++
		}
	}
	if counted == 0 {
		var flows, datagrams int64
		for _, r := range s.Receivers {
			flows += r.Flows + r.Unsupported
			datagrams += r.Datagrams
		}
		if flows != want {
			t.Errorf("receivers got %d records, want %d (the good files' records)%s", flows, want, report)
		}
		if got := l.waitFor(datagrams); got != datagrams {
			t.Errorf("the listener got %d datagrams, the summary says %d were sent", got, datagrams)
		}
		if want > 0 && datagrams == 0 {
			t.Errorf("nothing sent")
		}
	}
}

// checkReconciles: lines = records + skipped; per receiver flows +
// unsupported = records.
func checkReconciles(t *testing.T, s badSummary) {
	t.Helper()
	var skipped int64
	for _, n := range s.Skipped {
		skipped += n
	}
	if s.Lines != s.Records+skipped {
		t.Errorf("lines %d != records %d + skipped %d", s.Lines, s.Records, skipped)
	}
	for _, r := range s.Receivers {
		if r.Flows+r.Unsupported != s.Records {
			t.Errorf("receiver %s: flows %d + unsupported %d != records %d", r.URL, r.Flows, r.Unsupported, s.Records)
		}
	}
}

// checkListed: the listed objects are exactly those ending in want.
func checkListed(t *testing.T, what string, want []string, got func(func(string) bool)) {
	t.Helper()
	var objs []string
	for o := range got {
		objs = append(objs, o)
	}
	if len(objs) != len(want) {
		t.Errorf("%s %q, want %d ending in %q", what, objs, len(want), want)
		return
	}
	for _, w := range want {
		found := false
		for _, o := range objs {
			found = found || strings.HasSuffix(o, w)
		}
		if !found {
			t.Errorf("%s %q: none ends in %q", what, objs, w)
		}
	}
}

// TestBadInputS3: the same over S3 (gofakes3 on loopback, reached through
// AWS_ENDPOINT_URL_S3), with no region configured.
func TestBadInputS3(t *testing.T) {
	var regionHeader atomic.Bool
	srv := fakes3.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// S3 names a bucket's region in every HEAD bucket answer;
			// gofakes3 does not, so this stands in for it (or not).
			if r.Method == http.MethodHead && strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 0 && regionHeader.Load() {
				w.Header().Set("X-Amz-Bucket-Region", "eu-west-3")
			}
			if strings.Contains(r.URL.Path, "/forbidden/") && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusForbidden)
				if r.Method != http.MethodHead {
					io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
				}
				return
			}
			h.ServeHTTP(w, r)
		})
	}, "flowlogs")
	put := func(key, corpusFile string) {
		b, err := os.ReadFile(filepath.Join(corpusDir, corpusFile))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("flowlogs"), Key: aws.String(key), Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
	put("good/a.log.gz", "good-a.log.gz")
	put("mixed/1.log.gz", "good-a.log.gz")
	put("mixed/2.txt", "not-a-flow-log.txt")
	put("mixed/3.log", "good-b.log")
	put("forbidden/a.log.gz", "good-a.log.gz")

	base := []string{
		"AWS_ENDPOINT_URL_S3=" + srv.URL, "AWS_REGION=", "AWS_DEFAULT_REGION=", "AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none"),
		"AWS_EC2_METADATA_DISABLED=true",
	}
	creds := []string{"AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=local-secret"}
	uri := func(key string) func(*testing.T, string) []string {
		return func(*testing.T, string) []string { return []string{"s3://flowlogs/" + key} }
	}
	cases := []struct {
		badCase
		header bool
	}{
		{badCase: badCase{name: "no region, none found", setup: uri("good/a.log.gz"), env: creds,
			code: 1, want: []string{"no AWS region configured", "AWS_REGION"}, failed: []string{"s3://flowlogs/good/a.log.gz"}}},
		{badCase: badCase{name: "no region, the bucket's found", setup: uri("good/a.log.gz"), env: creds,
			code: 0, good: []string{"good-a.log.gz"}}, header: true},
		{badCase: badCase{name: "no such key", setup: uri("good/missing.log.gz"), env: append([]string{"AWS_REGION=us-east-1"}, creds...),
			code: 1, want: []string{"s3://flowlogs/good/missing.log.gz", "no such key good/missing.log.gz"}, failed: []string{"good/missing.log.gz"}}},
		{badCase: badCase{name: "no such bucket", setup: func(*testing.T, string) []string { return []string{"s3://no-such-bucket/a.log.gz"} }, env: append([]string{"AWS_REGION=us-east-1"}, creds...),
			code: 1, want: []string{"no such bucket no-such-bucket"}, failed: []string{"a.log.gz"}}},
		{badCase: badCase{name: "access denied", setup: uri("forbidden/a.log.gz"), env: append([]string{"AWS_REGION=us-east-1"}, creds...),
			code: 1, want: []string{"s3://flowlogs/forbidden/a.log.gz", "access denied"}, failed: []string{"forbidden/a.log.gz"}}},
		{badCase: badCase{name: "no credentials", setup: uri("good/a.log.gz"), env: []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN="},
			code: 1, want: []string{"s3://flowlogs/good/a.log.gz", "no AWS credentials"}, failed: []string{"good/a.log.gz"}}},
		{badCase: badCase{name: "prefix with one bad object", setup: uri("mixed/"), env: creds,
			code: 1, want: []string{"mixed/2.txt"}, failed: []string{"mixed/2.txt"}, good: []string{"good-a.log.gz", "good-b.log"}}, header: true},
		{badCase: badCase{name: "empty prefix", setup: uri("nothing/"), env: creds,
			code: 1, want: []string{"no objects under this prefix"}, failed: []string{"s3://flowlogs/nothing/"}}, header: true},
	}
	for _, tc := range cases {
		tc.env = append(append([]string(nil), base...), tc.env...)
		t.Run(tc.name, func(t *testing.T) {
			regionHeader.Store(tc.header)
			checkBad(t, tc.badCase)
		})
	}
}
