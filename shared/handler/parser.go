package handler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/emf"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/gzindex"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/pipeline"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

// Parser is the Parse step for one chunk: ranged GETs of the source object
// (pinned to the planned ETag), inflate from the chunk's checkpoint, parse,
// and encode one frame file per receiver into staging. A retry rewrites the
// same staging objects with the same bytes.
type Parser struct {
	S3          awsio.S3API
	Staging     staging.Store
	AddressMode flowlog.AddressMode
	// MaxLineBytes is the maximum line length (FL2NF_MAX_LINE_BYTES);
	// 0 means flowlog.DefaultMaxLineBytes.
	MaxLineBytes int
	Log          *slog.Logger
}

// Handle parses one chunk.
func (p *Parser) Handle(ctx context.Context, in contract.ParseInput) (contract.ParseOutput, error) {
	start := time.Now()
	out, err := p.parse(ctx, in)
	if err != nil {
		return out, failed("Parse", in.Object.URI(), fmt.Errorf("parse chunk %d of %s: %w", in.Chunk.Index, in.Object.URI(), err))
	}
	for _, r := range out.Out {
		emit("parser", in.Object.URI(), []string{emf.DimReceiver, r.Receiver}, func(l *emf.Logger) {
			l.Put(emf.MetricRecords, float64(r.Records), emf.Count)
		})
	}
	for reason, n := range out.Counts.Skipped {
		emit("parser", in.Object.URI(), []string{emf.DimReason, reason}, func(l *emf.Logger) {
			l.Put(emf.MetricSkippedLines, float64(n), emf.Count)
		})
	}
	emit("parser", in.Object.URI(), nil, func(l *emf.Logger) { l.Put(emf.MetricLines, float64(out.Counts.Lines), emf.Count) })
	emitDuration("parser", "parse", in.Object.URI(), start)
	return out, nil
}

func (p *Parser) parse(ctx context.Context, in contract.ParseInput) (contract.ParseOutput, error) {
	out := contract.ParseOutput{Chunk: in.Chunk.Index}
	format, err := flowlog.ParseFormat(in.Format.Fields)
	if err != nil {
		return out, fmt.Errorf("%w: format: %w", errInvalid, err)
	}
	rs := make([]receiver.Receiver, len(in.Receivers))
	for i, r := range in.Receivers {
		if rs[i], err = receiver.Parse(r.URL); err != nil {
			return out, fmt.Errorf("%w: %w", errInvalid, err)
		}
	}
	obj := awsio.Known(p.S3, in.Object.Bucket, in.Object.Key, in.Object.ETag, in.Object.VersionID, in.Object.Size)
	it := chunkItem(in.Chunk, in.Format)
	var index chunk.Source
	if in.Chunk.Kind == contract.ChunkIndexed {
		b, err := p.readIndex(ctx, in.IndexKey)
		if err != nil {
			return out, err
		}
		cp, _, err := gzindex.ReadCheckpoint(bytes.NewReader(b), it.CP)
		if err != nil {
			return out, fmt.Errorf("%w: checkpoint %d: %w", errInvalid, it.CP, err)
		}
		it.Bit, it.Out = cp.Bit, cp.Out
		index = chunk.BytesSource(b)
	}
	popts := flowlog.Options{Format: format, AddressMode: p.AddressMode, MaxLineBytes: p.MaxLineBytes}
	lines, closer, err := pipeline.ChunkLines(ctx, obj, it, index, in.Format.Framing, popts.MaxLine())
	if err != nil {
		return out, err
	}
	defer closer.Close()
	var header []byte
	if in.Chunk.Index == 0 && in.Format.Source == contract.FieldsFromHeader {
		header = []byte(in.Format.Fields)
	}
	res, err := pipeline.Parse(ctx, pipeline.ParseInput{
		Object:    in.Object.URI(),
		Chunk:     in.Chunk.Index,
		Lines:     lines,
		Header:    header,
		Parser:    popts,
		Receivers: rs,
		Staging:   p.Staging,
		KeyPrefix: in.StagingPrefix,
	})
	if err != nil {
		return out, err
	}
	out.Counts = pipeline.ContractCounts(res.Counts)
	if len(res.Errors) > 0 {
		out.FirstMalformed = res.FirstMalformed
		if in.Chunk.Index < contract.FirstErrorChunks && contract.CheckObject(out.Counts, nil) != nil {
			// No valid line in the chunk: the object may fail CheckObject
			// at the Reserve step, whose error quotes this.
			out.FirstError = contract.CutFirstError(strings.TrimPrefix(res.Errors[0], in.Object.URI()+": "))
		}
		log := p.Log
		if log == nil {
			log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
		}
		for _, e := range res.Errors {
			log.Warn("malformed line", "object", in.Object.URI(), "chunk", in.Chunk.Index, "error", e)
		}
	}
	for i, r := range res.Receivers {
		out.Out = append(out.Out, contract.ReceiverOutput{
			Receiver:    in.Receivers[i].ID,
			Frames:      r.Frames.Frames,
			Units:       r.Frames.Units,
			Records:     r.Frames.Records,
			Flows:       r.Flows,
			Bytes:       r.Frames.Bytes,
			Unsupported: r.Unsupported,
		})
	}
	if err := out.Validate(in.Receivers); err != nil {
		return out, err
	}
	return out, nil
}

func (p *Parser) readIndex(ctx context.Context, key string) ([]byte, error) {
	if key == "" {
		return nil, fmt.Errorf("%w: indexed chunk without an index key", errInvalid)
	}
	rc, err := p.Staging.Open(ctx, key)
	if err != nil {
		if errors.Is(err, staging.ErrNotFound) {
			return nil, fmt.Errorf("%w: %w", errInvalid, err)
		}
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read index %s: %w", key, err)
	}
	return b, nil
}
