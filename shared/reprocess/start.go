package reprocess

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/wait"
)

// SFNAPI is the part of *sfn.Client the Starter uses.
type SFNAPI interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

var _ SFNAPI = (*sfn.Client)(nil)

// ExecutionInput is the manual execution input that reprocesses o:
// {bucket, key, etag, size, version_id, source: "manual", reprocess: true}.
func ExecutionInput(o Object) contract.ExecutionInput {
	return contract.ExecutionInput{
		Bucket:    o.Bucket,
		Key:       o.Key,
		ETag:      o.ETag,
		Size:      o.Size,
		VersionID: o.VersionID,
		Source:    contract.SourceManual,
		Reprocess: true,
	}
}

// StateMachine is a parsed state machine ARN,
// arn:<partition>:states:<region>:<account>:stateMachine:<name>.
type StateMachine struct {
	ARN, Partition, Region, Account, Name string
}

// ParseStateMachineARN parses and checks a state machine ARN.
func ParseStateMachineARN(arn string) (StateMachine, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "stateMachine" ||
		parts[1] == "" || parts[3] == "" || parts[4] == "" || parts[6] == "" {
		return StateMachine{}, fmt.Errorf("state machine ARN %q: want arn:aws:states:REGION:ACCOUNT:stateMachine:NAME", arn)
	}
	return StateMachine{ARN: arn, Partition: parts[1], Region: parts[3], Account: parts[4], Name: parts[6]}, nil
}

// ExecutionARN is the ARN of the execution name of this state machine
// (the ARN StartExecution returns for it).
func (sm StateMachine) ExecutionARN(name string) string {
	return "arn:" + sm.Partition + ":states:" + sm.Region + ":" + sm.Account + ":execution:" + sm.Name + ":" + name
}

// ConsoleURL is the Step Functions console page of an execution:
// https://<region>.console.aws.amazon.com/states/home?region=<region>#/v2/executions/details/<executionArn>
// (the console domain of the ARN's partition for China and GovCloud).
func ConsoleURL(executionARN string) (string, error) {
	parts := strings.SplitN(executionARN, ":", 8)
	if len(parts) < 8 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "execution" || parts[3] == "" {
		return "", fmt.Errorf("execution ARN %q: want arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME", executionARN)
	}
	region := parts[3]
	domain := "console.aws.amazon.com"
	switch parts[1] {
	case "aws-cn":
		domain = "console.amazonaws.cn"
	case "aws-us-gov":
		domain = "console.amazonaws-us-gov.com"
	}
	return "https://" + region + "." + domain + "/states/home?region=" + url.QueryEscape(region) +
		"#/v2/executions/details/" + executionARN, nil
}

// DefaultRequestID is the request id of a reprocess run started at t:
// its UTC time to the second, "20261127T105012Z".
func DefaultRequestID(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// Outcome is what happened to one object.
type Outcome int

// Outcomes.
const (
	// Started: StartExecution succeeded. For a name already running with
	// identical input Step Functions returns that execution (a re-run of
	// the same request id while it runs), which is reported the same way.
	Started Outcome = iota
	// Exists: an execution of this name exists and is closed, or runs
	// with a different input (ExecutionAlreadyExists). With the same
	// request id this is a re-run skipping what the earlier run started.
	Exists
	// DryRun: nothing was started.
	DryRun
)

func (o Outcome) String() string {
	switch o {
	case Started:
		return "started"
	case Exists:
		return "exists"
	case DryRun:
		return "would-start"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Result reports one object.
type Result struct {
	Object       Object
	Name         string
	ExecutionARN string
	// URL is the execution's console page ("" in a dry run without a
	// state machine).
	URL     string
	Outcome Outcome
	// Message is the service's message for Exists.
	Message string
}

// Summary totals a run.
type Summary struct {
	Started, Exists, DryRun int
	// Duplicates is objects given more than once (started once).
	Duplicates int
}

// Starter starts one reprocess execution per object, paced by a token
// bucket.
type Starter struct {
	Client SFNAPI
	// StateMachineARN is required unless DryRun.
	StateMachineARN string
	// RequestID goes into every name (see ReprocessName); the same
	// request id for the same objects gives the same names, so a re-run
	// is idempotent.
	RequestID string
	// Rate is executions started per second (<= 0: unpaced); Burst is the
	// bucket size (default 1: evenly spaced starts).
	Rate  float64
	Burst int
	// DryRun lists what would start and starts nothing.
	DryRun bool

	// now and sleep are the clock (tests replace them).
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// Run starts an execution for each object, in order, calling report for
// each (report may be nil). It stops at the first error other than
// ExecutionAlreadyExists, returning what it did so far: a re-run with the
// same RequestID then skips the executions already started.
func (s *Starter) Run(ctx context.Context, objs []Object, report func(Result)) (Summary, error) {
	var sum Summary
	if err := ValidRequestID(s.RequestID); err != nil {
		return sum, err
	}
	var sm StateMachine
	if s.StateMachineARN != "" || !s.DryRun {
		var err error
		if sm, err = ParseStateMachineARN(s.StateMachineARN); err != nil {
			return sum, err
		}
		if s.Client == nil && !s.DryRun {
			return sum, errors.New("reprocess: no Step Functions client")
		}
	}
	tb := newTokenBucket(s.Rate, s.Burst, s.now, s.sleep)
	seen := make(map[string]bool, len(objs))
	for _, o := range objs {
		name, err := ReprocessName(s.RequestID, o)
		if err != nil {
			return sum, err
		}
		if seen[name] {
			sum.Duplicates++
			continue
		}
		seen[name] = true
		res := Result{Object: o, Name: name}
		if sm.ARN != "" {
			res.ExecutionARN = sm.ExecutionARN(name)
			res.URL, _ = ConsoleURL(res.ExecutionARN)
		}
		if s.DryRun {
			res.Outcome = DryRun
			sum.DryRun++
			if report != nil {
				report(res)
			}
			continue
		}
		input, err := json.Marshal(ExecutionInput(o))
		if err != nil {
			return sum, fmt.Errorf("execution input for %s: %w", o.URI(), err)
		}
		if err := tb.wait(ctx); err != nil {
			return sum, err
		}
		out, err := s.Client.StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(sm.ARN),
			Name:            aws.String(name),
			Input:           aws.String(string(input)),
		})
		var exists *types.ExecutionAlreadyExists
		switch {
		case errors.As(err, &exists):
			res.Outcome = Exists
			res.Message = aws.ToString(exists.Message)
			sum.Exists++
		case err != nil:
			return sum, fmt.Errorf("start execution %s for %s: %w", name, o.URI(), err)
		default:
			res.Outcome = Started
			if arn := aws.ToString(out.ExecutionArn); arn != "" {
				res.ExecutionARN = arn
				res.URL, _ = ConsoleURL(arn)
			}
			sum.Started++
		}
		if report != nil {
			report(res)
		}
	}
	return sum, nil
}

// tokenBucket paces calls: it holds up to burst tokens, refilled at rate
// per second; each call takes one, waiting for it if none is left.
type tokenBucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
}

func newTokenBucket(rate float64, burst int, now func() time.Time, sleep func(context.Context, time.Duration) error) *tokenBucket {
	if burst < 1 {
		burst = 1
	}
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = wait.Sleep
	}
	return &tokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst), now: now, sleep: sleep}
}

func (b *tokenBucket) wait(ctx context.Context) error {
	if b.rate <= 0 {
		return ctx.Err()
	}
	for {
		now := b.now()
		if !b.last.IsZero() {
			b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		}
		b.last = now
		if b.tokens >= 1-1e-9 { // allow for float rounding after a sleep
			b.tokens = max(0, b.tokens-1)
			return ctx.Err()
		}
		need := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
		if err := b.sleep(ctx, max(need, time.Millisecond)); err != nil {
			return err
		}
	}
}
