package handler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dedup"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/emf"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/pipeline"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

// Splitter is the Plan step: HEAD the object (trying the decoded key first
// for URL-encoded event keys), claim it against duplicate events, cut it
// into chunks (building and storing the gzip checkpoint index for large
// objects) and name the receivers for the rest of the execution.
type Splitter struct {
	S3      awsio.S3API
	Staging staging.Store // the staging bucket; keys carry the full prefix
	Dedup   *dedup.Store  // nil: no duplicate protection
	Config  config.Config
	Format  *flowlog.Format // parsed Config.Format, nil when unset
}

// NewSplitter validates what the splitter needs from cfg.
func NewSplitter(s3 awsio.S3API, st staging.Store, dd *dedup.Store, cfg config.Config) (*Splitter, error) {
	s := &Splitter{S3: s3, Staging: st, Dedup: dd, Config: cfg}
	if cfg.Format != "" {
		f, err := flowlog.ParseFormat(cfg.Format)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", config.EnvFormat, err)
		}
		s.Format = f
	}
	if len(cfg.Receivers) == 0 || len(cfg.Receivers) > contract.MaxReceivers {
		return nil, fmt.Errorf("%s: %d receivers, want 1 to %d", config.EnvReceivers, len(cfg.Receivers), contract.MaxReceivers)
	}
	return s, nil
}

// Handle plans one object.
func (s *Splitter) Handle(ctx context.Context, in contract.PlanInput) (contract.PlanOutput, error) {
	start := time.Now()
	out, err := s.plan(ctx, in)
	if err != nil {
		return out, failed("Plan", "s3://"+in.Input.Bucket+"/"+in.Input.Key, err)
	}
	emitDuration("splitter", "plan", out.Object.URI(), start)
	return out, nil
}

func (s *Splitter) plan(ctx context.Context, in contract.PlanInput) (contract.PlanOutput, error) {
	var out contract.PlanOutput
	if err := in.Input.Validate(); err != nil {
		return out, fmt.Errorf("%w: %w", errInvalid, err)
	}
	obj, err := s.head(ctx, in.Input)
	if err != nil {
		return out, err
	}
	out.Object = contract.ObjectRef{Bucket: obj.Bucket, Key: obj.Key, ETag: obj.ETag, VersionID: obj.VersionID, Size: obj.Size()}
	if s.Dedup != nil {
		res, err := s.Dedup.ClaimObject(ctx, in.Input, out.Object, in.ExecutionID)
		if err != nil {
			if errors.Is(err, dedup.ErrInvalid) {
				err = fmt.Errorf("%w: %w", errInvalid, err)
			}
			return out, fmt.Errorf("claim %s: %w", out.Object.URI(), err)
		}
		if res.Duplicate() {
			out.Duplicate = res.Reason()
			emit("splitter", out.Object.URI(), nil, func(l *emf.Logger) { l.Put(emf.MetricDuplicates, 1, emf.Count) })
			return out, nil
		}
	}
	emit("splitter", out.Object.URI(), nil, func(l *emf.Logger) { l.Put(emf.MetricExecutions, 1, emf.Count) })
	for i, r := range s.Config.Receivers {
		out.Receivers = append(out.Receivers, contract.Receiver{ID: contract.ReceiverID(i), URL: r.URL})
	}
	out.StagingPrefix = contract.ExecutionStagingPrefix(s.Config.StagingPrefix, in.ExecutionName)
	maxChunks := contract.ChunkLimit(len(out.Receivers))
	if s.Config.MaxChunks > 0 {
		maxChunks = min(maxChunks, s.Config.MaxChunks)
	}
	plan, err := pipeline.PlanObject(ctx, out.Object.URI(), obj, pipeline.PlanOptions{
		ChunkSize: s.Config.ChunkSize, SmallObject: s.Config.SmallObjectBytes, MaxChunks: maxChunks, Format: s.Format,
	})
	if err != nil {
		if unreadable(err) {
			err = fmt.Errorf("%w: %w", errInvalid, err)
		}
		return out, err // classify marks a corrupt object as invalid input
	}
	if plan.Index != nil {
		out.IndexKey = contract.IndexKey(out.StagingPrefix)
		if err := s.Staging.Put(ctx, out.IndexKey, bytes.NewReader(plan.Index)); err != nil {
			return out, fmt.Errorf("store the checkpoint index: %w", err)
		}
	}
	out.Format = contract.Format{Fields: plan.Format.Header(), Source: contract.FieldsFromConfig, Framing: contract.FramingLines, Compression: contract.CompressionNone}
	switch {
	case plan.FromHeader:
		out.Format.Source = contract.FieldsFromHeader
	case plan.Framing == contract.FramingParquet:
		out.Format.Source = contract.FieldsFromSchema
	}
	if plan.Framing != "" {
		out.Format.Framing = plan.Framing
	}
	if plan.Compressed {
		out.Format.Compression = contract.CompressionGzip
	}
	for _, it := range plan.Chunks.Items {
		out.Chunks = append(out.Chunks, chunkRef(it))
	}
	if err := out.Validate(); err != nil {
		return out, fmt.Errorf("%w: %w", errInvalid, err)
	}
	return out, nil
}

// head finds the object: an EventBridge key may arrive URL-encoded, so the
// decoded key is tried first, then the raw one.
func (s *Splitter) head(ctx context.Context, in contract.ExecutionInput) (*awsio.Object, error) {
	var firstErr error
	for _, key := range in.KeyCandidates() {
		o, err := awsio.Head(ctx, s.S3, in.Bucket, key, in.ETag, in.VersionID)
		if err == nil {
			return o, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if !awsio.IsNotFound(err) {
			break
		}
	}
	return nil, firstErr
}

// chunkRef turns a plan item into its small Step Functions form.
func chunkRef(it chunk.Item) contract.ChunkRef {
	c := contract.ChunkRef{Index: it.N, Start: it.From, End: it.To, UStart: it.Start, UEnd: it.End, Checkpoint: -1, LineBase: it.Lines}
	switch {
	case it.Kind == chunk.Parquet:
		c.Kind = contract.ChunkRowGroups
	case it.Whole:
		c.Kind = contract.ChunkWhole
	case it.Kind == chunk.Gzip:
		c.Kind = contract.ChunkIndexed
		c.Checkpoint = it.CP
	default:
		c.Kind = contract.ChunkRange
	}
	return c
}

// chunkItem turns a ChunkRef back into a plan item; Bit and Out of an
// indexed chunk come from the index (filled by the caller).
func chunkItem(c contract.ChunkRef, f contract.Format) chunk.Item {
	it := chunk.Item{N: c.Index, Kind: chunk.Text, Start: c.UStart, End: c.UEnd, From: c.Start, To: c.End, Lines: c.LineBase}
	if c.Kind == contract.ChunkRowGroups {
		it.Kind = chunk.Parquet
	}
	if f.Compression == contract.CompressionGzip {
		it.Kind = chunk.Gzip
		it.Whole = c.Kind == contract.ChunkWhole
	}
	if c.Kind == contract.ChunkIndexed {
		it.CP = c.Checkpoint
	}
	return it
}

// unreadable reports whether a plan error says the object's content is not
// flow-log text this program reads (retrying cannot change that).
func unreadable(err error) bool {
	for _, e := range []error{pipeline.ErrNoFormat, pipeline.ErrEmpty, pipeline.ErrNestedGzip,
		pipeline.ErrParquet, pipeline.ErrNotFlowLog, pipeline.ErrHeader} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
