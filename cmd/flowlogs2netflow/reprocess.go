package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/reprocess"
)

// envStateMachine is the default of --state-machine.
const envStateMachine = "FL2NF_STATE_MACHINE_ARN"

const reprocessHelp = `Usage: flowlogs2netflow reprocess [flags] s3://BUCKET/KEY | s3://BUCKET/PREFIX/ ...
       flowlogs2netflow reprocess [flags] --bucket BUCKET --from TIME --to TIME
                                  [--prefix P] [--account ID,...] [--region R,...] [--layout L]

Starts one Step Functions execution per flow-log object with the input
{"bucket","key","etag","size","source":"manual","reprocess":true}: the object
is converted and sent again, with new sequence numbers, even if an earlier
execution processed it.
  s3://BUCKET/KEY      one object (whatever its suffix)
  s3://BUCKET/PREFIX/  every object under the prefix that ends in --suffix
  --from, --to         the window [FROM, TO) of the flow log's date folders
                       (--layout), TIME as RFC 3339 or YYYY-MM-DD[THH[:MM]] UTC;
                       "--from 2026-11-01 --to 2026-11-02" is one day. In a
                       folder only partly inside the window, only files whose
                       name time (_YYYYMMDDTHHmmZ_) is inside it are kept.
                       Without --account/--region, every account and region
                       folder found is used.
Executions are named rp-<request id>-<key fragment>-<hash>. Running again with
the same --request-id is idempotent: executions already started are skipped
("exists"), so an interrupted run can be resumed. Try --dry-run first.

Output: one line per object, tab-separated: outcome (started, exists,
would-start), execution name, s3 URI, console URL.

Environment: FL2NF_STATE_MACHINE_ARN (default of --state-machine); AWS
credentials as for the AWS CLI (the Region is the state machine's);
AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SFN override the endpoints.

Flags:
`

var accountFlagRe = regexp.MustCompile(`^\d{12}$`)

func cmdReprocess(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		stateMachine = os.Getenv(envStateMachine)
		bucket       string
		prefix       string
		accounts     string
		regions      string
		layoutName   = string(reprocess.LayoutDefault)
		from, to     string
		suffix       = ".log.gz"
		rate         = 5.0
		maxObjects   = 10000
		dryRun       bool
		requestID    string
	)
	fs := newFlagSet("reprocess", stderr, reprocessHelp)
	fs.StringVar(&stateMachine, "state-machine", stateMachine, "state machine ARN (env "+envStateMachine+"); optional with --dry-run")
	fs.StringVar(&bucket, "bucket", "", "bucket of the flow logs, for --from/--to")
	fs.StringVar(&prefix, "prefix", "", "the flow log's S3 prefix (the folder holding AWSLogs/), for --from/--to")
	fs.StringVar(&accounts, "account", "", "account id(s), comma-separated, for --from/--to (default: every account folder)")
	fs.StringVar(&regions, "region", "", "flow-log Region(s), comma-separated, for --from/--to (default: every Region folder)")
	fs.StringVar(&layoutName, "layout", layoutName, "key layout for --from/--to: default, hourly, hive or hive-hourly")
	fs.StringVar(&from, "from", "", "window start (inclusive): RFC 3339 or YYYY-MM-DD[THH[:MM]] UTC")
	fs.StringVar(&to, "to", "", "window end (exclusive)")
	fs.StringVar(&suffix, "suffix", suffix, `keep only keys ending in this ("" keeps all); not applied to s3://BUCKET/KEY`)
	fs.Float64Var(&rate, "rate", rate, "executions started per second")
	fs.IntVar(&maxObjects, "max", maxObjects, "refuse to start anything if more objects than this are selected (0: no limit)")
	fs.BoolVar(&dryRun, "dry-run", false, "list the executions that would start; start nothing")
	fs.StringVar(&requestID, "request-id", "", "request id in every execution name (default: the current UTC time, 20261127T105012Z); reuse it to resume")
	if err := parseFlags(fs, args); err != nil {
		return err
	}

	// Validate everything, reporting every problem at once.
	var problems []error
	uris := fs.Args()
	window := from != "" || to != ""
	var (
		w      reprocess.Window
		loc    reprocess.Location
		layout reprocess.Layout
		err    error
	)
	switch {
	case len(uris) > 0 && (window || bucket != ""):
		problems = append(problems, errors.New("give s3:// URIs or --bucket with --from/--to, not both"))
	case len(uris) == 0 && !window:
		problems = append(problems, errors.New("nothing to reprocess: give s3://BUCKET/KEY, s3://BUCKET/PREFIX/ or --bucket with --from and --to"))
	}
	type target struct {
		bucket, key string
		isPrefix    bool
	}
	var targets []target
	for _, u := range uris {
		b, k, err := parseS3URI(u)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		targets = append(targets, target{b, k, k == "" || strings.HasSuffix(k, "/")})
	}
	if window {
		if bucket == "" {
			problems = append(problems, errors.New("--from/--to need --bucket"))
		}
		if from == "" || to == "" {
			problems = append(problems, errors.New("give both --from and --to"))
		} else {
			if w.From, err = reprocess.ParseTime(from); err != nil {
				problems = append(problems, fmt.Errorf("--from: %w", err))
			}
			if w.To, err = reprocess.ParseTime(to); err != nil {
				problems = append(problems, fmt.Errorf("--to: %w", err))
			}
			if !w.From.IsZero() && !w.To.IsZero() {
				if err := w.Validate(); err != nil {
					problems = append(problems, err)
				}
			}
		}
		if layout, err = reprocess.ParseLayout(layoutName); err != nil {
			problems = append(problems, fmt.Errorf("--layout: %w", err))
		}
		loc = reprocess.Location{Prefix: prefix, Layout: layout, Accounts: splitList(accounts), Regions: splitList(regions)}
		for _, a := range loc.Accounts {
			if !accountFlagRe.MatchString(a) {
				problems = append(problems, fmt.Errorf("--account %q: want a 12-digit account id", a))
			}
		}
		for _, r := range loc.Regions {
			if strings.ContainsAny(r, "/= ") {
				problems = append(problems, fmt.Errorf("--region %q: want a Region name such as us-east-1", r))
			}
		}
	} else {
		for _, f := range [][2]string{{"--prefix", prefix}, {"--account", accounts}, {"--region", regions}} {
			if f[1] != "" {
				problems = append(problems, fmt.Errorf("%s applies only with --from/--to", f[0]))
			}
		}
	}
	var sm reprocess.StateMachine
	switch {
	case stateMachine != "":
		if sm, err = reprocess.ParseStateMachineARN(stateMachine); err != nil {
			problems = append(problems, fmt.Errorf("--state-machine: %w", err))
		}
	case !dryRun:
		problems = append(problems, fmt.Errorf("--state-machine (or %s) is required", envStateMachine))
	}
	if !(rate > 0 && rate <= 1000) {
		problems = append(problems, fmt.Errorf("--rate %v: want more than 0 and at most 1000 per second", rate))
	}
	if maxObjects < 0 {
		problems = append(problems, fmt.Errorf("--max %d is negative", maxObjects))
	}
	if requestID == "" {
		requestID = reprocess.DefaultRequestID(time.Now())
	} else if err := reprocess.ValidRequestID(requestID); err != nil {
		problems = append(problems, fmt.Errorf("--request-id: %w", err))
	}
	if err := errors.Join(problems...); err != nil {
		return usageError{err}
	}

	// Clients: the state machine's Region for both (S3 events reach
	// EventBridge, and so the state machine, in the bucket's Region).
	cfg, err := awsio.LoadConfig(ctx, sm.Region)
	if err != nil {
		return err
	}
	s3c := awsio.NewS3(cfg, os.Getenv("AWS_ENDPOINT_URL_S3"))
	sfnc := sfn.NewFromConfig(cfg, func(o *sfn.Options) {
		if ep := os.Getenv("AWS_ENDPOINT_URL_SFN"); ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
		o.RetryMaxAttempts = 8 // StartExecution throttles at a few hundred per second
	})

	// Select.
	lister := &reprocess.Lister{Client: s3c, Suffix: suffix, Max: maxObjects}
	var objs []reprocess.Object
	selectErr := func() error {
		if window {
			found, err := lister.Window(ctx, bucket, loc, w)
			objs = append(objs, found...)
			return err
		}
		for _, t := range targets {
			if t.isPrefix {
				found, err := lister.Prefix(ctx, t.bucket, t.key)
				objs = append(objs, found...)
				if err != nil {
					return err
				}
				continue
			}
			o, err := lister.Object(ctx, t.bucket, t.key)
			if err != nil {
				return err
			}
			objs = append(objs, o)
		}
		return nil
	}()
	st := lister.Stats
	fmt.Fprintf(stderr, "reprocess: request id %s; %d objects selected", requestID, st.Selected)
	if window {
		fmt.Fprintf(stderr, " from %d folders in %s", st.Partitions, w)
	}
	fmt.Fprintf(stderr, " (listed %d; skipped: %d other suffix, %d outside the window, %d without a file-name time)\n",
		st.Listed, st.SkippedSuffix, st.SkippedWindow, st.SkippedNoTime)
	if selectErr != nil {
		if errors.Is(selectErr, reprocess.ErrTooMany) {
			return usageError{fmt.Errorf("%w; nothing was started", selectErr)}
		}
		return fmt.Errorf("%w; nothing was started", selectErr)
	}
	if len(objs) == 0 {
		fmt.Fprintln(stderr, "reprocess: nothing to start")
		return nil
	}

	// Start.
	starter := &reprocess.Starter{Client: sfnc, StateMachineARN: sm.ARN, RequestID: requestID, Rate: rate, DryRun: dryRun}
	sum, err := starter.Run(ctx, objs, func(r reprocess.Result) {
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", r.Outcome, r.Name, r.Object.URI(), r.URL)
	})
	dups := ""
	if sum.Duplicates > 0 {
		dups = fmt.Sprintf(" (%d objects given twice)", sum.Duplicates)
	}
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "reprocess: stopped after %d started, %d already existing%s; run again with --request-id %s to continue (executions already started are skipped)\n",
			sum.Started, sum.Exists, dups, requestID)
		return err
	case dryRun:
		fmt.Fprintf(stderr, "reprocess: dry run: %d executions would start%s; nothing was started (use --request-id %s to start exactly these names)\n",
			sum.DryRun, dups, requestID)
	default:
		fmt.Fprintf(stderr, "reprocess: %d started, %d already existing (skipped)%s; request id %s\n", sum.Started, sum.Exists, dups, requestID)
	}
	return nil
}

// parseS3URI splits s3://bucket/key-or-prefix; "s3://bucket/" is the whole
// bucket (prefix "").
func parseS3URI(s string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3://BUCKET/KEY or s3://BUCKET/PREFIX/ URI", s)
	}
	bucket, key, ok = strings.Cut(rest, "/")
	if !ok || bucket == "" {
		return "", "", fmt.Errorf("%q is not an s3://BUCKET/KEY or s3://BUCKET/PREFIX/ URI (end a bucket with /)", s)
	}
	return bucket, key, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
