package statemachine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/sfnerr"
)

// definition renders the definition with LocalVars and decodes it.
func definition(t *testing.T) map[string]any {
	t.Helper()
	b, err := Render(LocalVars())
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// allStates returns every state by name, Map processors' states included.
func allStates(t *testing.T, d map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		for name, v := range m["States"].(map[string]any) {
			st := v.(map[string]any)
			if _, dup := out[name]; dup {
				t.Fatalf("state name %q is used twice", name)
			}
			out[name] = st
			if p, ok := st["ItemProcessor"].(map[string]any); ok {
				walk(p)
			}
		}
	}
	walk(d)
	return out
}

func TestRender(t *testing.T) {
	if _, err := Render(LocalVars()); err != nil {
		t.Fatalf("Render(LocalVars()) = %v", err)
	}
	vars := LocalVars()
	delete(vars, "sender_arn")
	vars["sender"] = "x"
	_, err := Render(vars)
	if err == nil || !strings.Contains(err.Error(), `missing variable "sender_arn"`) || !strings.Contains(err.Error(), `unknown variable "sender"`) {
		t.Errorf("Render(bad vars) = %v, want missing and unknown variable errors", err)
	}
	vars = LocalVars()
	vars["parse_max_concurrency"] = "four"
	if _, err := Render(vars); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("Render(non-numeric concurrency) = %v, want a JSON error", err)
	}
}

// TestTemplatePlaceholders: the template uses exactly Placeholders and
// nothing else Terraform's templatefile() would interpret.
func TestTemplatePlaceholders(t *testing.T) {
	tmpl := Template()
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([^}]*)\}`).FindAllStringSubmatch(tmpl, -1) {
		used[m[1]] = true
	}
	got := slices.Sorted(maps.Keys(used))
	want := slices.Sorted(slices.Values(Placeholders))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("placeholders in %s (-Placeholders +used):\n%s", File, diff)
	}
	for _, bad := range []string{"$${", "%{"} {
		if strings.Contains(tmpl, bad) {
			t.Errorf("%s contains %q", File, bad)
		}
	}
	// Every ARN placeholder is a Task's whole Resource.
	for name, st := range allStates(t, definition(t)) {
		if st["Type"] != "Task" {
			continue
		}
		fn, ok := TaskStates[name]
		if !ok {
			t.Errorf("Task %s is not in TaskStates", name)
			continue
		}
		if got, want := st["Resource"], LocalVars()[fn+"_arn"]; got != want {
			t.Errorf("Task %s Resource = %v, want ${%s_arn} (%s)", name, got, fn, want)
		}
	}
}

// lambdaErrors are the Lambda service errors AWS recommends retrying
// (docs/aws-facts.md §4.5), the two a VPC function raises before it runs
// while its network interface is (re)created ("The function is inactive
// and its VPC connection is no longer available. Wait for the VPC
// connection to reestablish and try again": Lambda API reference,
// ResourceNotReadyException; ENINotReadyException) and the one for an
// unhandled function error.
var lambdaErrors = []string{
	"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
	"Lambda.TooManyRequestsException", "Lambda.ClientExecutionTimeoutException",
	"Lambda.ResourceNotReadyException", "Lambda.ENINotReadyException", "Lambda.Unknown",
}

var statesErrors = []string{
	"States.ALL", "States.TaskFailed", "States.Timeout", "States.HeartbeatTimeout", "States.Runtime",
	"States.DataLimitExceeded", "States.Permissions", "States.ResultPathMatchFailure",
	"States.ParameterPathFailure", "States.BranchFailed", "States.NoChoiceMatched",
	"States.IntrinsicFailure", "States.ExceedToleratedFailureThreshold", "States.ItemReaderFailed",
	"States.ResultWriterFailed",
}

// TestErrorNames: every ErrorEquals name is a handler error type from
// shared/sfnerr, a States.* name or a Lambda service error, and every sfnerr
// name is handled somewhere.
func TestErrorNames(t *testing.T) {
	seen := map[string]bool{}
	for name, st := range allStates(t, definition(t)) {
		for _, field := range []string{"Retry", "Catch"} {
			list, _ := st[field].([]any)
			for _, r := range list {
				for _, e := range r.(map[string]any)["ErrorEquals"].([]any) {
					e := e.(string)
					seen[e] = true
					if !slices.Contains(sfnerr.Names, e) && !slices.Contains(statesErrors, e) && !slices.Contains(lambdaErrors, e) {
						t.Errorf("%s.%s: unknown error name %q (want one of sfnerr.Names, States.*, Lambda.*)", name, field, e)
					}
				}
			}
		}
	}
	for _, n := range sfnerr.Names {
		if !seen[n] {
			t.Errorf("sfnerr error %q is not named in any Retry or Catch", n)
		}
	}
}

// TestRetryPolicy: every Task never retries InvalidInputError, and retries
// the recommended Lambda service errors and RetryableError with
// exponential backoff and full jitter.
func TestRetryPolicy(t *testing.T) {
	// AWS's recommended Lambda retrier, all but Lambda.Unknown, with
	// throttling in a retrier of its own that waits much longer.
	var recommended []string
	for _, e := range lambdaErrors {
		if e != "Lambda.Unknown" && e != "Lambda.TooManyRequestsException" {
			recommended = append(recommended, e)
		}
	}
	for name, st := range allStates(t, definition(t)) {
		if st["Type"] != "Task" {
			if _, ok := st["Retry"]; ok && st["Type"] != "Map" {
				t.Errorf("%s (%s) has a Retry", name, st["Type"])
			}
			continue
		}
		retry, _ := st["Retry"].([]any)
		var lambdaRetrier, retryable, throttle bool
		for i, r := range retry {
			r := r.(map[string]any)
			var names []string
			for _, e := range r["ErrorEquals"].([]any) {
				names = append(names, e.(string))
			}
			attempts, _ := r["MaxAttempts"].(float64)
			if slices.Contains(names, "States.ALL") {
				t.Errorf("%s: retrier %d retries States.ALL", name, i)
			}
			if slices.Contains(names, "InvalidInputError") {
				if i != 0 || attempts != 0 || len(names) != 1 {
					t.Errorf("%s: InvalidInputError must be alone in the first retrier with MaxAttempts 0, got retrier %d %v", name, i, r)
				}
				continue
			}
			backoff := attempts > 0 && r["BackoffRate"].(float64) > 1 && r["JitterStrategy"] == "FULL" &&
				r["IntervalSeconds"].(float64) > 0 && r["MaxDelaySeconds"].(float64) > 0
			if slices.Equal(names, recommended) && backoff {
				lambdaRetrier = true
			}
			if slices.Equal(names, []string{"RetryableError"}) && backoff {
				retryable = true
			}
			// Throttles wait out a burst: the longest wait sum of the
			// retrier, without jitter, is at least half an hour.
			if slices.Equal(names, []string{"Lambda.TooManyRequestsException"}) && backoff {
				wait, d := 0.0, r["IntervalSeconds"].(float64)
				for range int(attempts) {
					wait += min(d, r["MaxDelaySeconds"].(float64))
					d *= r["BackoffRate"].(float64)
				}
				throttle = wait >= 1800
				if !throttle {
					t.Errorf("%s: throttles are retried for at most %.0f s", name, wait)
				}
			}
		}
		if !lambdaRetrier {
			t.Errorf("%s: no retrier for exactly %v with backoff and full jitter", name, recommended)
		}
		if !retryable {
			t.Errorf("%s: no retrier for RetryableError with backoff and full jitter", name)
		}
		if !throttle {
			t.Errorf("%s: no retrier for Lambda.TooManyRequestsException alone, with backoff", name)
		}
	}
}

// TestFlowWithoutCatch: the main flow is Plan → Parse → Reserve → Send →
// Summary → Done, every state is reachable, and no state catches errors
// or is a Fail state: a failed Task must fail the execution itself, since a
// redrive does not run Pass states and re-enters Fail states ("Restarting
// state machine executions with redrive",
// https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html),
// so a Catch → Pass → Fail path would leave nothing for it to run again.
func TestFlowWithoutCatch(t *testing.T) {
	d := definition(t)
	top := d["States"].(map[string]any)
	flow := []string{"Plan", "CheckDuplicate", "Parse", "Reserve", "Send", "Summary", "Done"}
	if d["StartAt"] != "Route" {
		t.Errorf("StartAt = %v, want Route", d["StartAt"])
	}
	// Route: a small object to Convert, which ends the execution; every
	// other to Plan.
	route := top["Route"].(map[string]any)
	if route["Type"] != "Choice" || route["Default"] != "Plan" || len(route["Choices"].([]any)) != 1 ||
		route["Choices"].([]any)[0].(map[string]any)["Next"] != "Convert" {
		t.Errorf("Route = %v", route)
	}
	if cv := top["Convert"].(map[string]any); cv["Type"] != "Task" || cv["Next"] != "Done" {
		t.Errorf("Convert = %v, want a Task to Done", cv)
	}
	for i, name := range flow[:len(flow)-1] {
		st := top[name].(map[string]any)
		next := st["Next"]
		if st["Type"] == "Choice" {
			next = st["Default"]
		}
		if next != flow[i+1] {
			t.Errorf("%s goes to %v, want %s", name, next, flow[i+1])
		}
	}
	if top["Done"].(map[string]any)["Type"] != "Succeed" {
		t.Error("Done is not a Succeed state")
	}
	// A duplicate ends successfully after Plan.
	choices := top["CheckDuplicate"].(map[string]any)["Choices"].([]any)
	if len(choices) != 1 || choices[0].(map[string]any)["Next"] != "AlreadyProcessed" {
		t.Errorf("CheckDuplicate.Choices = %v, want one rule to AlreadyProcessed", choices)
	}
	if ap := top["AlreadyProcessed"].(map[string]any); ap["Type"] != "Pass" || ap["Next"] != "Done" {
		t.Errorf("AlreadyProcessed = %v, want a Pass to Done", ap)
	}
	reached := map[string]bool{"AlreadyProcessed": true, "Route": true, "Convert": true}
	for _, n := range flow {
		reached[n] = true
	}
	for name := range top {
		if !reached[name] {
			t.Errorf("state %s is not reachable", name)
		}
	}
	for name, st := range allStates(t, d) {
		if _, ok := st["Catch"]; ok {
			t.Errorf("%s has a Catch", name)
		}
		if st["Type"] == "Fail" {
			t.Errorf("%s is a Fail state", name)
		}
	}
}

// TestSendOrder: Send runs one iteration per receiver stream, at most
// ${send_max_concurrency} at once, and each runs its items through the
// SendStream Map one at a time (MaxConcurrency 1: in array order, an item
// only after the previous one succeeded), whose only state is SendChunk.
// This is what keeps every collector's sequence numbers in order.
func TestSendOrder(t *testing.T) {
	st := allStates(t, definition(t))
	send, stream := st["Send"], st["SendStream"]
	if send["Type"] != "Map" || send["ItemsPath"] != "$.streams" {
		t.Errorf("Send = %s over %v, want a Map over $.streams", send["Type"], send["ItemsPath"])
	}
	vars := LocalVars()
	vars["send_max_concurrency"] = "7"
	b, err := Render(vars)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if got := allStates(t, d)["Send"]["MaxConcurrency"]; got != float64(7) {
		t.Errorf("Send.MaxConcurrency = %v with send_max_concurrency 7", got)
	}
	proc := send["ItemProcessor"].(map[string]any)
	if proc["StartAt"] != "SendStream" || len(proc["States"].(map[string]any)) != 1 {
		t.Errorf("Send's processor = %v, want just SendStream", proc)
	}
	if stream["Type"] != "Map" || stream["ItemsPath"] != "$.items" || stream["MaxConcurrency"] != float64(1) || stream["End"] != true {
		t.Errorf("SendStream = %v, want an End Map over $.items with MaxConcurrency 1", stream)
	}
	for _, k := range []string{"MaxConcurrencyPath", "Catch", "Retry", "ResultPath", "ResultSelector", "OutputPath", "InputPath"} {
		if _, ok := stream[k]; ok {
			t.Errorf("SendStream has %s", k)
		}
	}
	inner := stream["ItemProcessor"].(map[string]any)
	if inner["StartAt"] != "SendChunk" || len(inner["States"].(map[string]any)) != 1 || st["SendChunk"]["End"] != true {
		t.Errorf("SendStream's processor = %v, want just SendChunk", inner)
	}
	for _, m := range []map[string]any{send, stream} {
		if mode := m["ItemProcessor"].(map[string]any)["ProcessorConfig"].(map[string]any)["Mode"]; mode != "INLINE" {
			t.Errorf("processor mode %v, want INLINE", mode)
		}
	}
}

// strictEqual decodes got (a JSON-form value) strictly into a T and checks
// it equals want (which must be a T) field for field, and that got has
// exactly want's JSON fields.
func strictEqual[T any](t *testing.T, what string, got any, want T) {
	t.Helper()
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Errorf("%s does not decode into %T: %v\n%s", what, want, err, b)
		return
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
	wantAny, _ := toAny(want)
	if diff := cmp.Diff(wantAny, got); diff != "" {
		t.Errorf("%s JSON mismatch (-want +got):\n%s", what, diff)
	}
}

func mustAny(t *testing.T, v any) any {
	t.Helper()
	a, err := toAny(v)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestDataFlow runs the definition's data flow on the contract samples:
// each Parameters/ItemSelector must build exactly the contract input type
// (every field present, none extra) and each ResultPath must build exactly
// the contract state type. This ties every JSONPath in the ASL to a field
// of a shared/contract type.
func TestDataFlow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input contract.ExecutionInput
		plan  contract.PlanOutput
	}{
		{"eventbridge input, gzip plan", contract.Samples().ExecutionInput, contract.Samples().PlanOutput},
		{"manual input, small plan", contract.Samples().ManualInput, contract.Samples().SmallPlanOutput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataFlow(t, tc.input, tc.plan)
		})
	}
}

func dataFlow(t *testing.T, input contract.ExecutionInput, plan contract.PlanOutput) {
	s := contract.Samples()
	st := allStates(t, definition(t))
	ctx := map[string]any{"Execution": map[string]any{
		"Id": s.ExecutionID, "Name": s.ExecutionName, "Input": mustAny(t, input),
	}}
	state := mustAny(t, input)

	// Plan.
	got, err := payload(st["Plan"]["Parameters"], state, ctx)
	if err != nil {
		t.Fatalf("Plan.Parameters: %v", err)
	}
	strictEqual(t, "Plan input", got, contract.PlanInput{ExecutionID: s.ExecutionID, ExecutionName: s.ExecutionName, Input: input})
	// Convert (a small object) gets the same PlanInput.
	got, err = payload(st["Convert"]["Parameters"], state, ctx)
	if err != nil {
		t.Fatalf("Convert.Parameters: %v", err)
	}
	strictEqual(t, "Convert input", got, contract.PlanInput{ExecutionID: s.ExecutionID, ExecutionName: s.ExecutionName, Input: input})
	state, err = applyResultPath(resultPath(st["Plan"]), state, mustAny(t, plan))
	if err != nil {
		t.Fatal(err)
	}
	afterPlan := contract.StateAfterPlan{ExecutionInput: input, Plan: plan}
	strictEqual(t, "state after Plan", state, afterPlan)
	if next, err := choose(st["CheckDuplicate"], state, ctx); err != nil || next != "Parse" {
		t.Fatalf("CheckDuplicate of a plan goes to %q (%v), want Parse", next, err)
	}

	// Parse: one ParseOutput per chunk, in chunk order.
	items, err := evalPath(st["Parse"]["ItemsPath"].(string), state, ctx)
	if err != nil {
		t.Fatalf("Parse.ItemsPath: %v", err)
	}
	var parsed []contract.ParseOutput
	for i, item := range items.([]any) {
		ctx["Map"] = map[string]any{"Item": map[string]any{"Index": float64(i), "Value": item}}
		got, err := payload(st["Parse"]["ItemSelector"], state, ctx)
		if err != nil {
			t.Fatalf("Parse.ItemSelector: %v", err)
		}
		strictEqual(t, "parse input", got, contract.ParseInput{
			ExecutionName: s.ExecutionName, Object: plan.Object, Format: plan.Format, IndexKey: plan.IndexKey,
			StagingPrefix: plan.StagingPrefix, Receivers: plan.Receivers, Chunk: plan.Chunks[i],
		})
		po := contract.ParseOutput{Chunk: i, Counts: contract.Counts{Lines: 1, Records: 1}}
		for _, r := range plan.Receivers {
			po.Out = append(po.Out, contract.ReceiverOutput{Receiver: r.ID, Frames: 1, Units: 1, Records: 1, Flows: 1, Bytes: 100})
		}
		parsed = append(parsed, po)
	}
	delete(ctx, "Map")
	state, err = applyResultPath(resultPath(st["Parse"]), state, mustAny(t, parsed))
	if err != nil {
		t.Fatal(err)
	}
	strictEqual(t, "state after Parse", state, contract.StateAfterParse{StateAfterPlan: afterPlan, Parsed: parsed})

	// Reserve.
	got, err = payload(st["Reserve"]["Parameters"], state, ctx)
	if err != nil {
		t.Fatalf("Reserve.Parameters: %v", err)
	}
	rin := contract.ReserveInput{ExecutionID: s.ExecutionID, Object: plan.Object, StagingPrefix: plan.StagingPrefix, Receivers: plan.Receivers, Parsed: parsed}
	strictEqual(t, "reserve input", got, rin)
	rout, err := contract.Allocate(rin, func(contract.Receiver, uint64) (uint64, error) { return 77, nil })
	if err != nil {
		t.Fatal(err)
	}
	state, err = applyResultPath(resultPath(st["Reserve"]), state, mustAny(t, rout))
	if err != nil {
		t.Fatal(err)
	}
	strictEqual(t, "state after Reserve", state, rout)

	// Send: one iteration per stream (receiver), whose input is a
	// SendStreamInput; in it the SendStream Map runs one SendChunk per item,
	// and its result (the SendOutputs in item order) is the iteration's
	// output.
	send, stream := st["Send"], st["SendStream"]
	items, err = evalPath(send["ItemsPath"].(string), state, ctx)
	if err != nil {
		t.Fatalf("Send.ItemsPath: %v", err)
	}
	if len(items.([]any)) != len(rout.Streams) {
		t.Fatalf("Send iterates over %d items, want the %d streams", len(items.([]any)), len(rout.Streams))
	}
	var sent [][]contract.SendOutput
	nItems := 0
	for i, item := range items.([]any) {
		ctx["Map"] = map[string]any{"Item": map[string]any{"Index": float64(i), "Value": item}}
		streamIn, err := payload(send["ItemSelector"], state, ctx)
		if err != nil {
			t.Fatalf("Send.ItemSelector: %v", err)
		}
		want := rout.Streams[i]
		strictEqual(t, "send stream input", streamIn, contract.SendStreamInput{
			ExecutionID: s.ExecutionID, Object: plan.Object, StagingPrefix: plan.StagingPrefix, Receivers: plan.Receivers, Items: want.Items,
		})
		chunks, err := evalPath(stream["ItemsPath"].(string), streamIn, ctx)
		if err != nil {
			t.Fatalf("SendStream.ItemsPath: %v", err)
		}
		var out []contract.SendOutput
		for k, chunk := range chunks.([]any) {
			ctx["Map"] = map[string]any{"Item": map[string]any{"Index": float64(k), "Value": chunk}}
			got, err := payload(stream["ItemSelector"], streamIn, ctx)
			if err != nil {
				t.Fatalf("SendStream.ItemSelector: %v", err)
			}
			it := want.Items[k]
			strictEqual(t, "send input", got, contract.SendInput{
				ExecutionID: s.ExecutionID, Object: plan.Object, StagingPrefix: plan.StagingPrefix, Receivers: plan.Receivers, SendItem: it,
			})
			if it.Receiver != want.Receiver || (k > 0 && it.Chunk <= want.Items[k-1].Chunk) {
				t.Errorf("stream %s: item %d is chunk %d for %s, want the stream's chunks in ascending order", want.Receiver, k, it.Chunk, it.Receiver)
			}
			out = append(out, contract.SendOutput{Chunk: it.Chunk, Receiver: it.Receiver, Datagrams: 1})
			nItems++
		}
		iterOut, err := applyResultPath(resultPath(stream), streamIn, mustAny(t, out))
		if err != nil {
			t.Fatal(err)
		}
		strictEqual(t, "send iteration output", iterOut, out)
		sent = append(sent, out)
	}
	if nItems != len(plan.Chunks)*len(plan.Receivers) {
		t.Errorf("%d send items, want %d", nItems, len(plan.Chunks)*len(plan.Receivers))
	}
	delete(ctx, "Map")
	state, err = applyResultPath(resultPath(send), state, mustAny(t, sent))
	if err != nil {
		t.Fatal(err)
	}
	strictEqual(t, "state after Send", state, contract.StateAfterSend{ReserveOutput: rout, Sent: sent})

	// Summary.
	out, err := evalPath(st["Summary"]["InputPath"].(string), state, ctx)
	if err != nil {
		t.Fatalf("Summary.InputPath: %v", err)
	}
	strictEqual(t, "execution output", out, rout.Summary)

}

// TestDuplicate: a plan that reports a duplicate ends the execution with a
// contract.DuplicateOutput.
func TestDuplicate(t *testing.T) {
	s := contract.Samples()
	st := allStates(t, definition(t))
	ctx := map[string]any{"Execution": map[string]any{"Id": s.ExecutionID, "Name": s.ExecutionName, "Input": mustAny(t, s.ExecutionInput)}}
	state, err := applyResultPath(resultPath(st["Plan"]), mustAny(t, s.ExecutionInput), mustAny(t, s.DuplicatePlanOutput))
	if err != nil {
		t.Fatal(err)
	}
	next, err := choose(st["CheckDuplicate"], state, ctx)
	if err != nil || next != "AlreadyProcessed" {
		t.Fatalf("CheckDuplicate of a duplicate goes to %q (%v), want AlreadyProcessed", next, err)
	}
	got, err := payload(st[next]["Parameters"], state, ctx)
	if err != nil {
		t.Fatal(err)
	}
	strictEqual(t, "duplicate output", got, contract.DuplicateOutput{Object: s.DuplicatePlanOutput.Object, Duplicate: s.DuplicatePlanOutput.Duplicate})
}

// choose evaluates a Choice state: rules of Variable + StringEquals,
// optionally under Not.
func choose(st map[string]any, doc, ctx any) (string, error) {
	var match func(r map[string]any) (bool, error)
	match = func(r map[string]any) (bool, error) {
		if not, ok := r["Not"].(map[string]any); ok {
			m, err := match(not)
			return !m, err
		}
		want, ok := r["StringEquals"].(string)
		if !ok {
			return false, fmt.Errorf("unsupported choice rule %v", r)
		}
		v, err := evalPath(r["Variable"].(string), doc, ctx)
		if err != nil {
			return false, err
		}
		got, ok := v.(string)
		return ok && got == want, nil
	}
	for _, c := range st["Choices"].([]any) {
		r := c.(map[string]any)
		m, err := match(r)
		if err != nil {
			return "", err
		}
		if m {
			return r["Next"].(string), nil
		}
	}
	return st["Default"].(string), nil
}

// resultPath returns a state's (or catcher's) ResultPath, "$" by default.
func resultPath(st map[string]any) string {
	if p, ok := st["ResultPath"].(string); ok {
		return p
	}
	return "$"
}

// TestAllPathsEvaluated lists every JSONPath in the definition and checks
// that TestDataFlow's evaluator handles it, so no path escapes the data-flow
// check.
func TestAllPathsEvaluated(t *testing.T) {
	covered := map[string]bool{"ItemsPath": true, "InputPath": true, "ResultPath": true, "ErrorPath": true, "CausePath": true, "Variable": true}
	var paths []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		case string:
			switch {
			case strings.HasSuffix(key, ".$") && strings.HasPrefix(v, "States."):
				if intrinsicPaths(v) == nil {
					t.Errorf("%s: unsupported intrinsic %q", key, v)
				}
				paths = append(paths, intrinsicPaths(v)...)
			case strings.HasSuffix(key, ".$"), covered[key]:
				paths = append(paths, v)
			case strings.HasSuffix(key, "Path"):
				t.Errorf("unchecked path field %s = %q", key, v)
			}
		}
	}
	walk("", definition(t))
	sort.Strings(paths)
	for _, p := range slices.Compact(paths) {
		if !simplePathRe.MatchString(p) {
			t.Errorf("path %q is not a simple $.a.b path", p)
		}
	}
	if len(paths) < 20 {
		t.Errorf("found only %d paths", len(paths))
	}
}
