package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/pipeline"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/boltseq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/udp"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type sizeFlag struct{ n *int64 }

func (s sizeFlag) String() string {
	if s.n == nil {
		return ""
	}
	return fmt.Sprint(*s.n)
}
func (s sizeFlag) Set(v string) error {
	n, err := config.ParseSize(v)
	if err != nil {
		return err
	}
	*s.n = n
	return nil
}

func newFlagSet(name string, stderr io.Writer, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, help)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usageError{errHelp}
		}
		return usageError{err}
	}
	return nil
}

const runHelp = `Usage: flowlogs2netflow run --to URL [--to URL]... [flags] INPUT...

Converts flow-log objects and sends them to every receiver.
  URL    netflow5://HOST:PORT, netflow9://HOST:PORT or ipfix://HOST:PORT, with
         query options: engine-type, engine-id (v5); source-id (v9); domain
         (IPFIX); pps (all); mtu, template-packets, template-interval (v9, IPFIX)
  INPUT  a gzip or plain file (detected by content), a directory (every file
         below it, in name order, symbolic links followed, hidden files
         ignored), - for standard input, a pipe, s3://bucket/key, or every
         object under s3://bucket/prefix/

Flags:
`

func cmdRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var (
		to          multiFlag
		format      string
		addrMode    string
		statePath   string
		stagingDir  string
		summaryFmt  string
		execution   string
		progress    string
		workers     int
		writeBuffer int64
		chunkSize   int64 = pipeline.DefaultPieceSize
		indexed     bool
		cpuProfile  string
		smallObject int64 = config.DefaultSmallObjectBytes
		maxLine     int64 = config.DefaultMaxLineBytes
	)
	fs := newFlagSet("run", stderr, runHelp)
	fs.Var(&to, "to", "receiver URL (repeatable)")
	fs.StringVar(&format, "format", "", "log format for objects without a header line, in AWS's ${field} syntax")
	fs.StringVar(&addrMode, "address-mode", "auto", "auto (pkt-srcaddr/pkt-dstaddr when present), packet, or interface (srcaddr/dstaddr)")
	fs.StringVar(&statePath, "state", "", "sequence-number store (bbolt file); default $XDG_STATE_HOME/flowlogs2netflow/sequences.db")
	fs.StringVar(&stagingDir, "staging", "", "staging directory for encoded datagrams; default a temporary directory")
	fs.StringVar(&summaryFmt, "summary", "text", "summary on stdout: text, json or none")
	fs.StringVar(&execution, "execution", "", "execution name: the sequence claim; the same name resends the same numbers (default: unique per run)")
	fs.StringVar(&progress, "progress", "auto", "progress bar on stderr: auto (when a terminal), always or never")
	fs.IntVar(&workers, "workers", 2, "chunks parsed in parallel")
	fs.Var(sizeFlag{&chunkSize}, "chunk-size", "uncompressed bytes per chunk (e.g. 4MiB, 64MiB)")
	fs.BoolVar(&indexed, "indexed", false, "plan chunks with the gzip checkpoint index, as the Lambdas do (decodes the object twice)")
	fs.Var(sizeFlag{&smallObject}, "small-object", "objects smaller than this (compressed) are one chunk, without an index pass")
	fs.Var(sizeFlag{&maxLine}, "max-line-bytes", "longest line read (e.g. 64KiB); a longer line is counted malformed and skipped")
	fs.Var(sizeFlag{&writeBuffer}, "write-buffer", "UDP socket send buffer (e.g. 4MiB); 0 keeps the system default")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile to this file (for performance work)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	var problems []error
	rs, err := receiver.ParseAll(to)
	if err != nil {
		problems = append(problems, err)
	} else if err := receiver.CheckSameDestination(ctx, rs, nil); err != nil {
		problems = append(problems, err)
	}
	popts := flowlog.Options{MaxLineBytes: int(maxLine)}
	if err := config.ValidMaxLineBytes(maxLine); err != nil {
		problems = append(problems, fmt.Errorf("--max-line-bytes: %w", err))
	}
	if format != "" {
		f, err := flowlog.ParseFormat(format)
		if err != nil {
			problems = append(problems, fmt.Errorf("--format: %w", err))
		}
		popts.Format = f
	}
	if popts.AddressMode, err = flowlog.ParseAddressMode(addrMode); err != nil {
		problems = append(problems, fmt.Errorf("--address-mode: %w", err))
	}
	switch summaryFmt {
	case "text", "json", "none":
	default:
		problems = append(problems, fmt.Errorf("--summary %q: want text, json or none", summaryFmt))
	}
	switch progress {
	case "auto", "always", "never":
	default:
		problems = append(problems, fmt.Errorf("--progress %q: want auto, always or never", progress))
	}
	if workers < 1 || workers > 256 {
		problems = append(problems, fmt.Errorf("--workers %d: want 1 to 256", workers))
	}
	if chunkSize < 1<<10 {
		problems = append(problems, fmt.Errorf("--chunk-size %d: want at least 1KiB", chunkSize))
	}
	if fs.NArg() == 0 {
		problems = append(problems, errors.New("no INPUT given"))
	}
	set, err := expandInputs(ctx, fs.Args(), stdin)
	if err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return usageError{errors.Join(problems...)}
	}
	inputs := set.inputs

	if statePath == "" {
		if statePath, err = boltseq.DefaultPath(); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(statePath), 0o755); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	store, err := boltseq.Open(statePath, boltseq.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	if stagingDir == "" {
		if stagingDir, err = os.MkdirTemp("", "flowlogs2netflow-staging-"); err != nil {
			return err
		}
		defer os.RemoveAll(stagingDir)
	}
	if execution == "" {
		execution = fmt.Sprintf("local-%s-%d", time.Now().UTC().Format("20060102T150405.000000000Z"), os.Getpid())
	}

	start := time.Now()
	runner := &pipeline.Runner{
		Receivers:     rs,
		Parser:        popts,
		Seq:           store,
		Staging:       staging.Dir{Root: stagingDir},
		WriteBuffer:   int(writeBuffer),
		Workers:       workers,
		ChunkSize:     chunkSize,
		PieceSize:     int(chunkSize),
		IndexedChunks: indexed,
		SmallObject:   smallObject,
		MaxChunks:     contract.ChunkLimit(len(rs)),
	}
	bar := newProgress(progress, stderr, inputs)
	if bar != nil {
		runner.Progress = bar.add
	}
	// Every object is tried, even after one failed; the failures are
	// listed in the summary and the run exits 1. Only an interruption or
	// a damaged sequence store stops the run early.
	runErr := runner.Start(ctx)
	if runErr == nil {
		for _, f := range set.failed {
			runner.Summary.Failed = append(runner.Summary.Failed, f)
			fmt.Fprintf(stderr, "flowlogs2netflow run: %s failed: %s\n", f.Object, f.Error)
		}
		runner.Summary.Ignored = set.ignored
		for _, ig := range set.ignored {
			fmt.Fprintf(stderr, "flowlogs2netflow run: %s ignored: %s\n", ig.Object, ig.Reason)
		}
	}
	for i, in := range inputs {
		if runErr != nil {
			break
		}
		claim := execution
		if len(inputs) > 1 {
			claim = fmt.Sprintf("%s/%d", execution, i)
		}
		counted := runner.Summary.Objects
		err := runner.Run(ctx, in, claim)
		if err == nil {
			continue
		}
		if ctx.Err() != nil || errors.Is(err, boltseq.ErrDamaged) {
			runErr = err
			break
		}
		runner.Summary.AddFailure(in.Name, err, runner.Summary.Objects > counted)
		fmt.Fprintf(stderr, "flowlogs2netflow run: %s failed: %v\n", in.Name, err)
	}
	if cerr := runner.Close(ctx); runErr == nil {
		runErr = cerr
	}
	bar.finish()
	if runner.Summary == nil {
		runner.Summary = pipeline.NewSummary(rs)
	}
	runner.Summary.Execution = execution
	runner.Summary.Seconds = time.Since(start).Seconds()
	if runErr == nil {
		runErr = runner.Summary.Check()
	}
	if refused := refusedReceivers(runner.Summary); len(refused) > 0 {
		// Datagrams went to a port nobody listens on: they are lost, and
		// the run must not pass for a success. The sequence numbers stay
		// claimed under the execution name, so the same name resends them.
		rerr := fmt.Errorf("%s refused datagrams (ICMP port unreachable: is the collector running?); what was sent there is lost: once it listens, resend with --execution %s (the same sequence numbers)",
			strings.Join(refused, ", "), execution)
		if runErr == nil || errors.Is(runErr, udp.ErrRefused) {
			runErr = rerr
		}
	}
	if n := len(runner.Summary.Failed); runErr == nil && n > 0 {
		runErr = fmt.Errorf("%d of %d objects failed (listed above and in the summary)", n, len(inputs)+len(set.failed))
	}
	switch summaryFmt {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(runner.Summary); err != nil && runErr == nil {
			runErr = err
		}
	case "text":
		printSummary(stdout, runner.Summary)
	}
	return runErr
}

func printSummary(w io.Writer, s *pipeline.Summary) {
	fmt.Fprintf(w, "objects %d, chunks %d, lines %d, records %d, skipped %d",
		s.Objects, s.Chunks, s.Counts.Lines, s.Counts.Records, s.Counts.Skipped.Total())

	var parts []string
	for _, r := range flowlog.SkipReasons() {
		if n := s.Counts.Skipped[r]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r, n))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	if len(s.Failed) > 0 {
		fmt.Fprintf(w, ", FAILED %d objects", len(s.Failed))
	}
	fmt.Fprintf(w, ", %.2f s\n", s.Seconds)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "receiver\tflows\tunsupported\trecords\tdatagrams\tbytes\tpackets\tsequence\tpps\t")
	for _, r := range s.Receivers {
		sq := "-"
		if r.FirstSequence != nil {
			sq = fmt.Sprintf("%d..%d", *r.FirstSequence, *r.LastSequence)
		}
		pace := "unpaced"
		if r.PPS > 0 {
			pace = strconv.Itoa(r.PPS)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t\n", r.URL, r.Flows, r.Unsupported, r.Records, r.Datagrams, r.Bytes, r.Packets, sq, pace)
	}
	tw.Flush()
	for _, e := range s.Errors {
		fmt.Fprintln(w, "malformed:", e)
	}
	for _, ig := range s.Ignored {
		fmt.Fprintf(w, "ignored: %s: %s\n", ig.Object, ig.Reason)
	}
	for _, f := range s.Failed {
		counted := "not counted above"
		if f.Counted {
			counted = "its lines are counted above"
		}
		fmt.Fprintf(w, "failed: %s: %s (%s)\n", f.Object, f.Error, counted)
	}
	for _, r := range s.Receivers {
		if r.Refused > 0 {
			fmt.Fprintf(w, "refused: %s: at least %d datagram(s) refused (ICMP port unreachable: is the collector running?); ICMP is rate-limited, so more may be lost; resend with --execution %s\n",
				r.URL, r.Refused, s.Execution)
		}
	}
}

// refusedReceivers lists the receivers that refused datagrams.
func refusedReceivers(s *pipeline.Summary) []string {
	var out []string
	for _, r := range s.Receivers {
		if r.Refused > 0 {
			out = append(out, r.URL)
		}
	}
	return out
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
