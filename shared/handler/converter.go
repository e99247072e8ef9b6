package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

// Converter is the Convert step: the whole workflow for one small object in
// one invocation of the sender function. Plan, Parse, Reserve and Send run
// in process through the same four handlers, on the same contract
// documents the state machine passes between them (built here as its
// Parameters and ItemSelectors build them; the end-to-end test runs both
// paths on the same stand-ins), with staging in a local directory. The
// state machine routes an object here when its event says it is smaller
// than the small-object threshold (one chunk), so that it costs one Lambda
// invocation and three state transitions instead of at least five
// invocations and a dozen transitions.
//
// A retry or redrive of Convert runs everything again: the plan's
// duplicate claim is the execution's own, the parse rebuilds the local
// staging, the reservation finds its claim, and each send resumes from its
// progress record, so nothing is sent twice.
type Converter struct {
	Splitter  *Splitter
	Parser    *Parser
	Allocator *Allocator
	// Sender sends with Staging (its own Staging is the staging bucket of
	// the large-object path); its sockets are shared with that path.
	Sender  *Sender
	Staging staging.Store
}

// Handle converts one object; the output is the execution's output: a
// contract.Summary, or a contract.DuplicateOutput.
func (c *Converter) Handle(ctx context.Context, in contract.PlanInput) (json.RawMessage, error) {
	plan, err := c.Splitter.Handle(ctx, in)
	if err != nil {
		return nil, err
	}
	if plan.Duplicate != "" {
		return json.Marshal(contract.DuplicateOutput{Object: plan.Object, Duplicate: plan.Duplicate})
	}
	// What this invocation staged is of no use to another environment.
	defer c.clean(ctx, plan.StagingPrefix)
	parsed := make([]contract.ParseOutput, 0, len(plan.Chunks))
	for _, ch := range plan.Chunks {
		out, err := c.Parser.Handle(ctx, contract.ParseInput{
			ExecutionName: in.ExecutionName,
			Object:        plan.Object,
			Format:        plan.Format,
			IndexKey:      plan.IndexKey,
			StagingPrefix: plan.StagingPrefix,
			Receivers:     plan.Receivers,
			Chunk:         ch,
		})
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, out)
	}
	res, err := c.Allocator.Handle(ctx, contract.ReserveInput{
		ExecutionID:   in.ExecutionID,
		Object:        plan.Object,
		StagingPrefix: plan.StagingPrefix,
		Receivers:     plan.Receivers,
		Parsed:        parsed,
	})
	if err != nil {
		return nil, err
	}
	// Receivers in parallel, each receiver's chunks in order (the Send
	// Map and its SendStream Map with MaxConcurrency 1).
	errs := make([]error, len(res.Streams))
	var wg sync.WaitGroup
	for i, st := range res.Streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, item := range st.Items {
				if _, err := c.Sender.HandleWith(ctx, c.Staging, contract.SendInput{
					ExecutionID:   in.ExecutionID,
					Object:        res.Object,
					StagingPrefix: res.StagingPrefix,
					Receivers:     res.Receivers,
					SendItem:      item,
				}); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return json.Marshal(res.Summary)
}

func (c *Converter) clean(ctx context.Context, prefix string) {
	keys, err := c.Staging.List(ctx, prefix)
	if err != nil {
		return
	}
	for _, k := range keys {
		c.Staging.Delete(ctx, k)
	}
}

// SenderFunction is the sender Lambda's handler: a SendChunk input
// (contract.SendInput) is sent, a Convert input (contract.PlanInput, which
// has "input") converted.
type SenderFunction struct {
	Send    *Sender
	Convert *Converter
}

// Handle dispatches on the input's shape.
func (f *SenderFunction) Handle(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var probe struct {
		Input json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, failed("Send", "the input", fmt.Errorf("%w: %w", errInvalid, err))
	}
	if probe.Input != nil {
		if f.Convert == nil {
			return nil, failed("Convert", "the input", fmt.Errorf("%w: this function has no converter", errInvalid))
		}
		var in contract.PlanInput
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, failed("Convert", "the input", fmt.Errorf("%w: %w", errInvalid, err))
		}
		return f.Convert.Handle(ctx, in)
	}
	var in contract.SendInput
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, failed("Send", "the input", fmt.Errorf("%w: %w", errInvalid, err))
	}
	out, err := f.Send.Handle(ctx, in)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}
