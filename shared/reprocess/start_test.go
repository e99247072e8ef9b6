package reprocess

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/reprocess/sfntest"
)

// These tests run StartExecution against sfntest, a loopback server that
// speaks the Step Functions JSON protocol and records each request: there
// is no Step Functions API emulator here (see package sfntest).

const smARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:flowlogs2netflow"

func objects() []Object {
	return []Object{
		{Bucket: "flow-logs", Key: flowLogKey, ETag: "9b2cf535f27731c974343645a3985328", Size: 1234567},
		{Bucket: "flow-logs", Key: "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/27/other.log.gz", ETag: "aaaa-2", Size: 10},
		{Bucket: "flow-logs", Key: "weird key/with:colons=and spaces.log.gz", ETag: "bbbb", Size: 0, VersionID: "3HL4kqtJlcpXroDTDmJ"},
	}
}

// fakeClock is a clock whose sleeps advance it.
type fakeClock struct {
	t      time.Time
	slept  time.Duration
	sleeps int
}

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	c.slept += d
	c.sleeps++
	return nil
}

func newStarter(srv *sfntest.Server, id string, clock *fakeClock) *Starter {
	return &Starter{Client: srv.Client("eu-west-1"), StateMachineARN: smARN, RequestID: id, Rate: 1000, now: clock.now, sleep: clock.sleep}
}

func TestStarterRequests(t *testing.T) {
	srv := sfntest.Start(t)
	clock := &fakeClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	s := newStarter(srv, "req1", clock)
	var results []Result
	sum, err := s.Run(t.Context(), objects(), func(r Result) { results = append(results, r) })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Summary{Started: 3}, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 || len(results) != 3 {
		t.Fatalf("%d requests, %d results, want 3", len(reqs), len(results))
	}
	for i, o := range objects() {
		name, _ := ReprocessName("req1", o)
		in, _ := json.Marshal(contract.ExecutionInput{
			Bucket: o.Bucket, Key: o.Key, ETag: o.ETag, Size: o.Size, VersionID: o.VersionID,
			Source: "manual", Reprocess: true,
		})
		want := sfntest.Request{
			Method: "POST", Target: "AWSStepFunctions.StartExecution", ContentType: "application/x-amz-json-1.0",
			Authorized: true, StateMachineARN: smARN, Name: name, Input: string(in),
		}
		if diff := cmp.Diff(want, reqs[i]); diff != "" {
			t.Errorf("request %d (-want +got):\n%s", i, diff)
		}
		arn := "arn:aws:states:eu-west-1:123456789012:execution:flowlogs2netflow:" + name
		wantRes := Result{
			Object: o, Name: name, ExecutionARN: arn, Outcome: Started,
			URL: "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/" + arn,
		}
		if diff := cmp.Diff(wantRes, results[i]); diff != "" {
			t.Errorf("result %d (-want +got):\n%s", i, diff)
		}
	}
	// The input is exactly the manual ExecutionInput, field for field.
	var got map[string]any
	if err := json.Unmarshal([]byte(reqs[0].Input), &got); err != nil {
		t.Fatal(err)
	}
	wantIn := map[string]any{"bucket": "flow-logs", "key": flowLogKey, "etag": "9b2cf535f27731c974343645a3985328",
		"size": 1234567.0, "source": "manual", "reprocess": true}
	if diff := cmp.Diff(wantIn, got); diff != "" {
		t.Errorf("input JSON (-want +got):\n%s", diff)
	}
}

func TestStarterRerun(t *testing.T) {
	srv := sfntest.Start(t)
	clock := &fakeClock{t: time.Now()}
	run := func(id string) (Summary, []Result) {
		t.Helper()
		var rs []Result
		sum, err := newStarter(srv, id, clock).Run(t.Context(), objects(), func(r Result) { rs = append(rs, r) })
		if err != nil {
			t.Fatalf("run %s: %v", id, err)
		}
		return sum, rs
	}
	first, _ := run("r1")
	// Same request id while the executions run: Step Functions returns
	// the running executions; nothing new starts.
	again, _ := run("r1")
	if len(srv.Executions()) != 3 || first.Started != 3 || again.Started != 3 {
		t.Errorf("running re-run: %d executions, summaries %+v %+v", len(srv.Executions()), first, again)
	}
	// Same request id after they closed: ExecutionAlreadyExists, skipped.
	srv.CloseAll()
	closed, rs := run("r1")
	if diff := cmp.Diff(Summary{Exists: 3}, closed); diff != "" {
		t.Errorf("closed re-run summary (-want +got):\n%s", diff)
	}
	for _, r := range rs {
		if r.Outcome != Exists || !strings.Contains(r.Message, "Already Exists") || !strings.HasSuffix(r.ExecutionARN, ":"+r.Name) {
			t.Errorf("closed re-run result %+v", r)
		}
	}
	// A new request id reprocesses again.
	if sum, _ := run("r2"); sum.Started != 3 || len(srv.Executions()) != 6 {
		t.Errorf("new request: %+v, %d executions", sum, len(srv.Executions()))
	}
	if got := len(srv.Requests()); got != 12 {
		t.Errorf("%d requests, want 12", got)
	}
}

func TestStarterDryRunAndDuplicates(t *testing.T) {
	srv := sfntest.Start(t)
	objs := objects()
	objs = append(objs, objs[0])
	var rs []Result
	s := &Starter{Client: srv.Client("eu-west-1"), StateMachineARN: smARN, RequestID: "dry", DryRun: true}
	sum, err := s.Run(t.Context(), objs, func(r Result) { rs = append(rs, r) })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Summary{DryRun: 3, Duplicates: 1}, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if len(srv.Requests()) != 0 {
		t.Errorf("dry run sent %d requests", len(srv.Requests()))
	}
	if len(rs) != 3 || rs[0].Outcome != DryRun || !strings.HasPrefix(rs[0].URL, "https://eu-west-1.console.aws.amazon.com/") {
		t.Errorf("results %+v", rs)
	}
	// A dry run needs no state machine.
	s = &Starter{RequestID: "dry", DryRun: true}
	if sum, err := s.Run(t.Context(), objects(), nil); err != nil || sum.DryRun != 3 {
		t.Errorf("dry run without a state machine: %+v, %v", sum, err)
	}
}

func TestStarterStopsOnError(t *testing.T) {
	srv := sfntest.Start(t)
	objs := objects()
	name1, _ := ReprocessName("req", objs[1])
	srv.Fail(name1, "StateMachineDoesNotExist")
	clock := &fakeClock{t: time.Now()}
	sum, err := newStarter(srv, "req", clock).Run(t.Context(), objs, nil)
	var dne *types.StateMachineDoesNotExist
	if !errors.As(err, &dne) || !strings.Contains(err.Error(), objs[1].URI()) {
		t.Errorf("err = %v, want StateMachineDoesNotExist naming %s", err, objs[1].URI())
	}
	if sum.Started != 1 || len(srv.Requests()) != 2 {
		t.Errorf("summary %+v after %d requests, want 1 started of 2", sum, len(srv.Requests()))
	}
}

func TestStarterConfigErrors(t *testing.T) {
	srv := sfntest.Start(t)
	for _, s := range []*Starter{
		{Client: srv.Client("eu-west-1"), StateMachineARN: smARN, RequestID: "bad/id"},
		{Client: srv.Client("eu-west-1"), StateMachineARN: "arn:aws:states:eu-west-1:1:execution:x:y", RequestID: "r"},
		{Client: srv.Client("eu-west-1"), RequestID: "r"},
		{StateMachineARN: smARN, RequestID: "r"},
	} {
		if _, err := s.Run(t.Context(), objects(), nil); err == nil {
			t.Errorf("Run with %+v succeeded", s)
		}
	}
	if len(srv.Requests()) != 0 {
		t.Errorf("%d requests sent", len(srv.Requests()))
	}
}

func TestStarterPacing(t *testing.T) {
	srv := sfntest.Start(t)
	var objs []Object
	for i := range 11 {
		objs = append(objs, Object{Bucket: "b", Key: "k" + string(rune('a'+i)), ETag: "e"})
	}
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := &Starter{Client: srv.Client("eu-west-1"), StateMachineARN: smARN, RequestID: "pace", Rate: 5, now: clock.now, sleep: clock.sleep}
	if _, err := s.Run(t.Context(), objs, nil); err != nil {
		t.Fatal(err)
	}
	// 11 starts at 5/s with a bucket of 1: the first at once, then one
	// every 200 ms: 2 s of (virtual) waiting.
	if d := clock.slept - 2*time.Second; d < 0 || d > 20*time.Millisecond {
		t.Errorf("slept %v, want 2s", clock.slept)
	}
}

func TestTokenBucket(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		burst int
		calls int
		gap   time.Duration // real time between calls
		want  time.Duration // total sleep
	}{
		{"unpaced", 0, 0, 100, 0, 0},
		{"1/s", 1, 1, 4, 0, 3 * time.Second},
		{"burst 5 then paced", 10, 5, 15, 0, time.Second},
		{"slow caller never waits", 2, 1, 5, time.Second, 0},
		{"half the gap", 2, 1, 3, 250 * time.Millisecond, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		b := newTokenBucket(tt.rate, tt.burst, clock.now, clock.sleep)
		for i := range tt.calls {
			if i > 0 {
				clock.t = clock.t.Add(tt.gap)
			}
			if err := b.wait(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if d := clock.slept - tt.want; d < 0 || d > 10*time.Millisecond {
			t.Errorf("%s: slept %v, want %v", tt.name, clock.slept, tt.want)
		}
	}
	// A cancelled context stops the wait.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	b := newTokenBucket(1, 1, nil, nil)
	_ = b.wait(t.Context())
	if err := b.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("wait after cancel = %v", err)
	}
}

func TestConsoleURL(t *testing.T) {
	tests := []struct{ arn, want string }{
		{"arn:aws:states:us-east-1:123456789012:execution:sm:rp-1-x-abc",
			"https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/arn:aws:states:us-east-1:123456789012:execution:sm:rp-1-x-abc"},
		{"arn:aws-cn:states:cn-north-1:123456789012:execution:sm:n",
			"https://cn-north-1.console.amazonaws.cn/states/home?region=cn-north-1#/v2/executions/details/arn:aws-cn:states:cn-north-1:123456789012:execution:sm:n"},
	}
	for _, tt := range tests {
		got, err := ConsoleURL(tt.arn)
		if err != nil || got != tt.want {
			t.Errorf("ConsoleURL(%q) = %q, %v, want %q", tt.arn, got, err, tt.want)
		}
	}
	if _, err := ConsoleURL(smARN); err == nil {
		t.Error("ConsoleURL of a state machine ARN succeeded")
	}
	sm, err := ParseStateMachineARN(smARN)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(StateMachine{ARN: smARN, Partition: "aws", Region: "eu-west-1", Account: "123456789012", Name: "flowlogs2netflow"}, sm); diff != "" {
		t.Errorf("ParseStateMachineARN (-want +got):\n%s", diff)
	}
}
