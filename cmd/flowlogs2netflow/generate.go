package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowgen"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
)

const generateHelp = `Usage: flowlogs2netflow generate --lines N [flags]

Writes a synthetic VPC flow log (deterministic for a seed) and, with
--totals, the truth a converter must reproduce: records, bytes and packets
per IP version, NODATA/SKIPDATA lines, time range.

Flags:
`

func cmdGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		opts      flowgen.Options
		out       string
		totalsOut string
		format    string
		start     string
		gz        bool
		noHeader  bool
	)
	fs := newFlagSet("generate", stderr, generateHelp)
	fs.Int64Var(&opts.Lines, "lines", 0, "data lines to write (required)")
	fs.Int64Var(&opts.Seed, "seed", 1, "random seed; the same seed gives the same file")
	fs.StringVar(&out, "o", "-", "output file, - for stdout")
	fs.BoolVar(&gz, "gzip", false, "gzip the output")
	fs.StringVar(&totalsOut, "totals", "", "write the generator's totals as JSON to this file")
	fs.StringVar(&format, "format", "", "log format (AWS ${field} syntax); default a v5 custom format with pkt-* addresses and flow-direction")
	fs.StringVar(&start, "start", "", "first flow start, RFC 3339 (default 2025-01-01T00:00:00Z)")
	fs.DurationVar(&opts.Span, "span", 0, "flow starts spread over this duration (default 5m; e.g. 1440h for 60 days)")
	fs.Float64Var(&opts.IPv6Fraction, "ipv6", 0.05, "fraction of IPv6 records")
	fs.Float64Var(&opts.RejectFraction, "reject", 0.1, "fraction of REJECT records")
	fs.Float64Var(&opts.NoDataFraction, "nodata", 0.01, "fraction of NODATA lines")
	fs.Float64Var(&opts.SkipDataFraction, "skipdata", 0.002, "fraction of SKIPDATA lines")
	fs.Float64Var(&opts.DashFraction, "dash", 0.02, "fraction of '-' in each optional field")
	fs.Float64Var(&opts.BigCounterFraction, "big", 0.001, "fraction of records with counters above 2^32")
	fs.IntVar(&opts.Interfaces, "interfaces", 0, "distinct network interfaces (default 8)")
	fs.BoolVar(&noHeader, "no-header", false, "omit the header line (as Firehose delivers)")
	fs.BoolVar(&opts.Firehose, "firehose", false, `write Firehose records {"message":"..."} without newlines (implies --no-header)`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var problems []error
	if opts.Lines <= 0 {
		problems = append(problems, errors.New("--lines must be positive"))
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if format != "" {
		f, err := flowlog.ParseFormat(format)
		if err != nil {
			problems = append(problems, fmt.Errorf("--format: %w", err))
		}
		opts.Format = f
	}
	if start != "" {
		t, err := time.Parse(time.RFC3339, start)
		if err != nil {
			problems = append(problems, fmt.Errorf("--start: %w", err))
		}
		opts.Start = t
	}
	opts.Header = !noHeader && !opts.Firehose
	if len(problems) > 0 {
		return usageError{errors.Join(problems...)}
	}

	var w io.Writer = stdout
	var f *os.File
	if out != "-" {
		var err error
		if f, err = os.Create(out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var zw *gzip.Writer
	dst := io.Writer(bw)
	if gz {
		zw = gzip.NewWriter(bw)
		dst = zw
	}
	totals, err := flowgen.Write(dst, opts)
	if err != nil {
		if errors.Is(err, flowgen.ErrOptions) {
			return usageError{err}
		}
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
	}
	if totalsOut != "" {
		b, err := json.MarshalIndent(totals, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(totalsOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}
