package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/pipeline"
)

const planHelp = `Usage: flowlogs2netflow plan [flags] FILE

Prints how the Plan step cuts FILE into chunks: the kind (gzip, text or
parquet), sizes, the header line, and per chunk the compressed byte range a
parser GETs, the uncompressed range it owns and where its line numbers
start; for a large gzip file, the size of the checkpoint index; for a
Parquet file, the row groups each chunk reads (planned from the footer).
Nothing is sent.

Flags:
`

func cmdPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		chunkSize   int64 = config.DefaultChunkSize
		smallObject int64 = config.DefaultSmallObjectBytes
		maxChunks         = contract.MaxChunks
		format      string
		asJSON      bool
	)
	fs := newFlagSet("plan", stderr, planHelp)
	fs.Var(sizeFlag{&chunkSize}, "chunk-size", "uncompressed bytes per chunk (e.g. 64MiB)")
	fs.Var(sizeFlag{&smallObject}, "small-object", "objects smaller than this (compressed) are one chunk, without an index pass")
	fs.IntVar(&maxChunks, "max-chunks", maxChunks, "at most this many chunks (the chunk size grows)")
	fs.StringVar(&format, "format", "", "log format for objects without a header line")
	fs.BoolVar(&asJSON, "json", false, "print the plan as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("plan takes exactly one FILE")}
	}
	opt := pipeline.PlanOptions{ChunkSize: chunkSize, SmallObject: smallObject, MaxChunks: maxChunks}
	if format != "" {
		f, err := flowlog.ParseFormat(format)
		if err != nil {
			return usageError{fmt.Errorf("--format: %w", err)}
		}
		opt.Format = f
	}
	name := fs.Arg(0)
	src, err := chunk.OpenFile(name)
	if err != nil {
		return usageError{err}
	}
	defer src.Close()
	p, err := pipeline.PlanObject(ctx, name, src, opt)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			*chunk.Plan
			IndexBytes int  `json:"indexBytes"`
			Firehose   bool `json:"firehose,omitempty"`
			RowGroups  int  `json:"rowGroups,omitempty"`
		}{p.Chunks, len(p.Index), p.Framing == contract.FramingJSON, p.RowGroups})
	}
	c := p.Chunks
	fmt.Fprintf(stdout, "%s: %s, %d bytes", name, c.Kind, c.Size)
	if c.USize >= 0 {
		fmt.Fprintf(stdout, ", %d uncompressed", c.USize)
	}
	if c.Lines >= 0 {
		fmt.Fprintf(stdout, ", %d lines", c.Lines)
	}
	from := map[bool]string{true: "header line", false: "configured"}[p.FromHeader]
	if p.Framing == contract.FramingParquet {
		from = "Parquet columns"
	}
	fmt.Fprintf(stdout, "\nformat: %s (%s)\n", p.Format.Header(), from)
	if p.Framing == contract.FramingParquet {
		fmt.Fprintf(stdout, "framing: Parquet, %d row groups; a chunk reads whole row groups, one ranged read each\n", p.RowGroups)
	}
	if p.Framing == contract.FramingJSON {
		fmt.Fprintln(stdout, "framing: Firehose {\"message\":...} records, read as one chunk")
	}
	if p.Framing == contract.FramingCloudWatch {
		fmt.Fprintln(stdout, "framing: CloudWatch Logs subscription payloads, one event per record, read as one chunk")
	}
	fmt.Fprintf(stdout, "chunks: %d of about %d uncompressed bytes", len(c.Items), c.ChunkSize)
	if p.Index != nil {
		fmt.Fprintf(stdout, "; checkpoint index %d bytes", len(p.Index))
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', tabwriter.AlignRight)
	if c.Kind == chunk.Parquet {
		fmt.Fprintln(tw, "chunk\tGET from\tto\trow groups from\tto\trows before\t")
		for _, it := range c.Items {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t\n", it.N, it.From, it.To, it.Start, it.End, it.Lines)
		}
		return tw.Flush()
	}
	fmt.Fprintln(tw, "chunk\tGET from\tto\towns from\tto\tcheckpoint\tlines before\t")
	for _, it := range c.Items {
		end, lines, cp := fmt.Sprint(it.End), fmt.Sprint(it.Lines), "-"
		if it.End < 0 {
			end = "end"
		}
		if it.Lines < 0 {
			lines = "?"
		}
		if c.Indexed {
			cp = fmt.Sprint(it.CP)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n", it.N, it.From, it.To, it.Start, end, cp, lines)
	}
	return tw.Flush()
}
