package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/fakes3"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/reprocess"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/reprocess/sfntest"
)

// The reprocess command runs against gofakes3 (S3) and sfntest, a loopback
// server that speaks the Step Functions JSON protocol and records every
// StartExecution request: there is no Step Functions API emulator here.

const (
	rpBucket = "flow-logs"
	rpSM     = "arn:aws:states:eu-west-1:123456789012:stateMachine:flowlogs2netflow"
	rpBase   = "AWSLogs/123456789012/vpcflowlogs/eu-west-1/"
)

func rpKey(day, ts string) string {
	return rpBase + day + "/123456789012_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_" + ts + "_0a1b2c3d.log.gz"
}

var rpKeys = []string{
	rpKey("2026/10/31", "20261031T2355Z"),
	rpKey("2026/11/01", "20261101T0000Z"),
	rpKey("2026/11/01", "20261101T1200Z"),
	rpKey("2026/11/01", "20261101T2355Z"),
	rpBase + "2026/11/01/readme.txt",
	rpKey("2026/11/02", "20261102T0000Z"),
}

// rpEnv starts the stand-ins, uploads rpKeys and points the AWS SDK at
// them through the environment.
func rpEnv(t *testing.T) (*fakes3.Server, *sfntest.Server) {
	t.Helper()
	s3srv := fakes3.Start(t, rpBucket)
	for _, k := range rpKeys {
		_, err := s3srv.Client.PutObject(t.Context(), &s3.PutObjectInput{
			Bucket: aws.String(rpBucket), Key: aws.String(k), Body: strings.NewReader("data " + k),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sfnsrv := sfntest.Start(t)
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3":         s3srv.URL,
		"AWS_ENDPOINT_URL_SFN":        sfnsrv.URL,
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		envStateMachine:               "",
	} {
		t.Setenv(k, v)
	}
	return s3srv, sfnsrv
}

func runReprocess(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = cmdReprocess(t.Context(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// outLines splits the command's output into fields.
func outLines(out string) [][]string {
	var ls [][]string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l != "" {
			ls = append(ls, strings.Split(l, "\t"))
		}
	}
	return ls
}

func TestReprocessUsage(t *testing.T) {
	rpEnv(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "nothing to reprocess"},
		{"both", []string{"--state-machine", rpSM, "--bucket", "b", "--from", "2026-11-01", "--to", "2026-11-02", "s3://b/k"}, "not both"},
		{"no bucket", []string{"--state-machine", rpSM, "--from", "2026-11-01", "--to", "2026-11-02"}, "need --bucket"},
		{"only from", []string{"--state-machine", rpSM, "--bucket", "b", "--from", "2026-11-01"}, "both --from and --to"},
		{"bad time", []string{"--state-machine", rpSM, "--bucket", "b", "--from", "yesterday", "--to", "2026-11-02"}, "--from"},
		{"empty window", []string{"--state-machine", rpSM, "--bucket", "b", "--from", "2026-11-02", "--to", "2026-11-01"}, "empty"},
		{"bad layout", []string{"--state-machine", rpSM, "--bucket", "b", "--from", "2026-11-01", "--to", "2026-11-02", "--layout", "weekly"}, "--layout"},
		{"bad account", []string{"--state-machine", rpSM, "--bucket", "b", "--from", "2026-11-01", "--to", "2026-11-02", "--account", "12"}, "--account"},
		{"prefix without window", []string{"--state-machine", rpSM, "--prefix", "p", "s3://b/k"}, "--prefix applies only"},
		{"no state machine", []string{"s3://b/k"}, "--state-machine"},
		{"bad state machine", []string{"--state-machine", "arn:aws:lambda:x", "s3://b/k"}, "--state-machine"},
		{"bad rate", []string{"--state-machine", rpSM, "--rate", "0", "s3://b/k"}, "--rate"},
		{"bad request id", []string{"--state-machine", rpSM, "--request-id", "a/b", "s3://b/k"}, "--request-id"},
		{"bad uri", []string{"--state-machine", rpSM, "b/k"}, "not an s3://"},
		{"bucket without slash", []string{"--state-machine", rpSM, "s3://b"}, "end a bucket with /"},
		{"unknown flag", []string{"--nope"}, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runReprocess(t, tt.args...)
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want a usage error mentioning %q", err, tt.want)
			}
		})
	}
	// -h is a usage error that prints the help.
	_, stderr, err := runReprocess(t, "-h")
	if !errors.Is(err, errHelp) || !strings.Contains(stderr, "Usage: flowlogs2netflow reprocess") {
		t.Errorf("-h: %v, %q", err, stderr)
	}
}

func TestReprocessWindowDryRun(t *testing.T) {
	_, sfnsrv := rpEnv(t)
	t.Setenv(envStateMachine, rpSM)
	stdout, stderr, err := runReprocess(t, "--bucket", rpBucket, "--from", "2026-11-01", "--to", "2026-11-02",
		"--dry-run", "--request-id", "day1")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var got [][]string
	for _, f := range outLines(stdout) {
		got = append(got, []string{f[0], f[2]})
		if !strings.HasPrefix(f[1], "rp-day1-") || reprocess.ValidName(f[1]) != nil {
			t.Errorf("name %q", f[1])
		}
		if want := "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:123456789012:execution:flowlogs2netflow:" + f[1]; f[3] != want {
			t.Errorf("url %q, want %q", f[3], want)
		}
	}
	want := [][]string{
		{"would-start", "s3://" + rpBucket + "/" + rpKeys[1]},
		{"would-start", "s3://" + rpBucket + "/" + rpKeys[2]},
		{"would-start", "s3://" + rpBucket + "/" + rpKeys[3]},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if len(sfnsrv.Requests()) != 0 {
		t.Errorf("dry run sent %d requests", len(sfnsrv.Requests()))
	}
	for _, s := range []string{"request id day1", "3 objects selected", "1 other suffix", "dry run: 3 executions would start"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, stderr)
		}
	}
	// Without a state machine a dry run still lists the names.
	t.Setenv(envStateMachine, "")
	t.Setenv("AWS_REGION", "eu-west-1")
	stdout, _, err = runReprocess(t, "--bucket", rpBucket, "--from", "2026-10-31T23:00", "--to", "2026-11-01T01", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	if ls := outLines(stdout); len(ls) != 2 || ls[0][2] != "s3://"+rpBucket+"/"+rpKeys[0] || ls[1][2] != "s3://"+rpBucket+"/"+rpKeys[1] || ls[0][3] != "" {
		t.Errorf("hour window output %q", stdout)
	}
}

func TestReprocessStart(t *testing.T) {
	_, sfnsrv := rpEnv(t)
	args := []string{"--state-machine", rpSM, "--rate", "1000", "--request-id", "fix-42",
		"s3://" + rpBucket + "/" + rpBase + "2026/11/01/", "s3://" + rpBucket + "/" + rpKeys[4]}
	stdout, stderr, err := runReprocess(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	wantKeys := []string{rpKeys[1], rpKeys[2], rpKeys[3], rpKeys[4]} // the named readme.txt is kept
	reqs := sfnsrv.Requests()
	ls := outLines(stdout)
	if len(reqs) != len(wantKeys) || len(ls) != len(wantKeys) {
		t.Fatalf("%d requests, %d lines, want %d:\n%s", len(reqs), len(ls), len(wantKeys), stdout)
	}
	for i, k := range wantKeys {
		r := reqs[i]
		if r.Method != "POST" || r.Target != "AWSStepFunctions.StartExecution" || r.ContentType != "application/x-amz-json-1.0" || !r.Authorized {
			t.Errorf("request %d: %+v", i, r)
		}
		if r.StateMachineARN != rpSM || !strings.HasPrefix(r.Name, "rp-fix-42-") || reprocess.ValidName(r.Name) != nil {
			t.Errorf("request %d: state machine %q, name %q", i, r.StateMachineARN, r.Name)
		}
		var in contract.ExecutionInput
		if err := json.Unmarshal([]byte(r.Input), &in); err != nil {
			t.Fatal(err)
		}
		want := contract.ExecutionInput{Bucket: rpBucket, Key: k, ETag: in.ETag, Size: int64(len("data " + k)), Source: "manual", Reprocess: true}
		if i == 3 {
			// A named object is HEADed, which reports the version id
			// when there is one (gofakes3 always has one); listings
			// do not.
			want.VersionID = in.VersionID
		}
		if diff := cmp.Diff(want, in); diff != "" || in.ETag == "" || strings.Contains(in.ETag, `"`) {
			t.Errorf("input %d (-want +got):\n%s", i, diff)
		}
		if err := in.Validate(); err != nil {
			t.Errorf("input %d: %v", i, err)
		}
		arn := "arn:aws:states:eu-west-1:123456789012:execution:flowlogs2netflow:" + r.Name
		wantLine := []string{"started", r.Name, "s3://" + rpBucket + "/" + k,
			"https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/" + arn}
		if diff := cmp.Diff(wantLine, ls[i]); diff != "" {
			t.Errorf("line %d (-want +got):\n%s", i, diff)
		}
	}
	if !strings.Contains(stderr, "4 started, 0 already existing") {
		t.Errorf("stderr: %s", stderr)
	}

	// The same request again, after the executions finished: nothing new
	// starts, each is reported as existing.
	sfnsrv.CloseAll()
	stdout, stderr, err = runReprocess(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, l := range outLines(stdout) {
		if l[0] != "exists" {
			t.Errorf("re-run line %q", l)
		}
	}
	if len(sfnsrv.Executions()) != 4 || !strings.Contains(stderr, "0 started, 4 already existing") {
		t.Errorf("re-run: %d executions; stderr %s", len(sfnsrv.Executions()), stderr)
	}
}

func TestReprocessMaxAndErrors(t *testing.T) {
	_, sfnsrv := rpEnv(t)
	// More objects than --max: nothing starts.
	_, _, err := runReprocess(t, "--state-machine", rpSM, "--max", "2", "s3://"+rpBucket+"/")
	var ue usageError
	if !errors.As(err, &ue) || !errors.Is(err, reprocess.ErrTooMany) || len(sfnsrv.Requests()) != 0 {
		t.Errorf("--max: err = %v, %d requests", err, len(sfnsrv.Requests()))
	}
	// A missing object.
	_, _, err = runReprocess(t, "--state-machine", rpSM, "s3://"+rpBucket+"/no/such.log.gz")
	if !errors.Is(err, reprocess.ErrNotFound) || errors.As(err, &ue) {
		t.Errorf("missing object: err = %v", err)
	}
	// StartExecution fails: the command stops and says how to resume.
	sfnsrv.Fail("*", "StateMachineDoesNotExist")
	_, stderr, err := runReprocess(t, "--state-machine", rpSM, "--request-id", "r9", "s3://"+rpBucket+"/"+rpBase)
	if err == nil || errors.As(err, &ue) || !strings.Contains(stderr, "--request-id r9 to continue") {
		t.Errorf("failing start: err = %v, stderr %s", err, stderr)
	}
}
