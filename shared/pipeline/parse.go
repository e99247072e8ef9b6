// Package pipeline implements the four steps every flow-log object goes
// through — Plan, Parse, Reserve, Send — once, for both the Lambdas and
// the local CLI run, plus the local orchestration of the four.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/total"
)

// LineSource yields the lines of one chunk (flowlog.LineReader and the
// chunk reader implement it).
type LineSource interface {
	Next() bool
	Line() []byte
	LineNo() int64
	Err() error
}

// ReceiverResult is what one chunk produced for one receiver.
type ReceiverResult struct {
	Receiver    string         `json:"receiver"`    // canonical URL
	Key         string         `json:"key"`         // staging key of the frame file
	Frames      staging.Totals `json:"frames"`      // datagrams, units, wire records, bytes
	Flows       uint64         `json:"flows"`       // input records exported
	Unsupported uint64         `json:"unsupported"` // input records the protocol cannot carry
	Bytes       total.Sum      `json:"bytes"`       // sum of exported flows' bytes, exact
	Packets     total.Sum      `json:"packets"`     // sum of exported flows' packets, exact
}

// ChunkResult is the Parse step's result for one chunk.
type ChunkResult struct {
	Chunk  int            `json:"chunk"`
	Counts flowlog.Counts `json:"counts"`
	Errors []string       `json:"errors,omitempty"` // first malformed lines, with object and line
	// FirstMalformed is the line number of the first malformed line
	// (negative: -(byte offset+1) when unknown), 0 if none.
	FirstMalformed int64            `json:"first_malformed,omitempty"`
	Receivers      []ReceiverResult `json:"receivers"`
}

// ParseInput describes one Parse step.
type ParseInput struct {
	Object string // display name (path or s3:// URI) for errors
	Chunk  int
	Lines  LineSource
	// Header is the object's header line when this is chunk 0 of an object
	// that has one: the chunk reader does not return it, so Parse counts it
	// (as line 1, skipped "header").
	Header    []byte
	Parser    flowlog.Options
	Receivers []receiver.Receiver
	Staging   staging.Store
	KeyPrefix string // staging keys are contract.StagingKey(KeyPrefix, chunk, receiver id)
}

// StagingKey names the frame file of chunk c for receiver index i.
func StagingKey(prefix string, chunk, i int) string {
	return contract.StagingKey(prefix, chunk, contract.ReceiverID(i))
}

type receiverParse struct {
	enc  netflow.Encoder
	w    *staging.Writer
	pw   *io.PipeWriter
	done chan error
	res  ReceiverResult
}

// Parse reads a chunk's lines, parses them and encodes a frame file per
// receiver into the staging store. Every line is accounted for in the
// result's Counts; records a receiver's protocol cannot carry are counted
// per receiver as Unsupported. The staging objects are written whole or
// not at all, so a retried Parse produces identical staging.
func Parse(ctx context.Context, in ParseInput) (res ChunkResult, err error) {
	res.Chunk = in.Chunk
	p := flowlog.NewParser(in.Parser)
	rs := make([]*receiverParse, len(in.Receivers))
	defer func() {
		// On failure, abort the uploads still in progress.
		for _, r := range rs {
			if r != nil && r.pw != nil {
				r.pw.CloseWithError(fmt.Errorf("parse aborted: %w", err))
				<-r.done
			}
		}
	}()
	for i, rc := range in.Receivers {
		r := &receiverParse{done: make(chan error, 1)}
		r.res = ReceiverResult{Receiver: rc.URL, Key: StagingKey(in.KeyPrefix, in.Chunk, i)}
		pr, pw := io.Pipe()
		r.pw = pw
		go func(key string) {
			err := in.Staging.Put(ctx, key, pr)
			pr.CloseWithError(err)
			r.done <- err
		}(r.res.Key)
		r.w = staging.NewWriter(pw, rc.Protocol)
		if r.enc, err = NewEncoder(rc, r.w.Add); err != nil {
			return res, err
		}
		rs[i] = r
	}
	var rec flow.Record
	if in.Header != nil {
		p.ParseLine(in.Header, 1, &rec)
	}
	for in.Lines.Next() {
		reason, perr := p.ParseLine(in.Lines.Line(), in.Lines.LineNo(), &rec)
		if reason != flowlog.ReasonNone {
			continue // counted by the parser, malformed ones kept in p.Errors
		}
		if perr != nil {
			return res, fmt.Errorf("%s: %w", in.Object, perr)
		}
		for _, r := range rs {
			if err := r.enc.Add(&rec); err != nil {
				if errors.Is(err, netflow.ErrUnsupported) {
					r.res.Unsupported++
					continue
				}
				return res, fmt.Errorf("%s line %d: encode for %s: %w", in.Object, rec.Line, r.res.Receiver, err)
			}
			r.res.Flows++
			r.res.Bytes.Add(rec.Bytes)
			r.res.Packets.Add(rec.Packets)
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	if err := in.Lines.Err(); err != nil {
		return res, fmt.Errorf("read %s: %w", in.Object, err)
	}
	for _, r := range rs {
		if err := r.enc.Flush(); err != nil {
			return res, fmt.Errorf("%s: encode for %s: %w", in.Object, r.res.Receiver, err)
		}
		if err := r.w.Close(); err != nil {
			return res, fmt.Errorf("%s: stage for %s: %w", in.Object, r.res.Receiver, err)
		}
		r.pw.Close()
		r.pw = nil
		if err := <-r.done; err != nil {
			return res, err
		}
		r.res.Frames = r.w.Totals()
		res.Receivers = append(res.Receivers, r.res)
	}
	res.Counts = p.Counts()
	for i, e := range p.Errors() {
		if i == 0 {
			res.FirstMalformed = e.Line
		}
		res.Errors = append(res.Errors, LineErrorString(in.Object, e))
	}
	return res, nil
}

// LineErrorString names the object and the line of a malformed line, or its
// uncompressed byte offset when the line number is unknown (plain-text
// chunks after the first, numbered -(offset+1) by ChunkLines).
func LineErrorString(object string, e *flowlog.LineError) string {
	if e.Line >= 0 {
		return fmt.Sprintf("%s: %v", object, e)
	}
	c := *e
	c.Line = 0
	return fmt.Sprintf("%s: at byte offset %d: %s", object, -e.Line-1, strings.TrimPrefix(c.Error(), "line 0: "))
}
