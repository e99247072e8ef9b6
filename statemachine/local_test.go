package statemachine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
)

// needTool returns path if it exists (or, for a bare name, is on PATH); else
// it skips the test, or fails it when FL2NF_REQUIRE_INTEGRATION=1.
func needTool(t *testing.T, path, why string) string {
	t.Helper()
	var err error
	if strings.ContainsRune(path, os.PathSeparator) {
		_, err = os.Stat(path)
	} else {
		path, err = exec.LookPath(path)
	}
	if err != nil {
		msg := fmt.Sprintf("%s not available (%v); %s", path, err, why)
		if os.Getenv("FL2NF_REQUIRE_INTEGRATION") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

const nodeModules = "../scripts/node/node_modules"

func renderedFile(t *testing.T) string {
	t.Helper()
	b, err := Render(LocalVars())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "flowlogs2netflow.asl.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestASLValidator runs asl-validator 4 (scripts/node) on the rendered
// definition.
func TestASLValidator(t *testing.T) {
	node := needTool(t, "node", "install Node.js")
	bin := needTool(t, filepath.Join(nodeModules, "asl-validator", "dist", "bin", "asl-validator.js"), "run npm ci in scripts/node")
	cmd := exec.CommandContext(t.Context(), node, bin, "--json-path", renderedFile(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("asl-validator: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}

// fakeLambdas answers like the RIE for the four functions, with canned
// contract-shaped outputs built from contract.Samples(), and checks each
// input against the contract. It fails the test if two calls to one
// function overlap (sfn-local.mjs must serialize them).
type fakeLambdas struct {
	t *testing.T
	s contract.SampleSet

	duplicate      bool   // the splitter reports a duplicate
	parseFailChunk int    // chunk whose parse fails with InvalidInputError (-1: none)
	sendFlaky      string // "c/r" of a send item that fails once with RetryableError
	reserveHTTP500 bool   // first Reserve call gets HTTP 500

	mu       sync.Mutex
	calls    map[string]int
	inFlight map[string]int
}

func (f *fakeLambdas) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fn, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if rest != "2015-03-31/functions/function/invocations" || r.Method != http.MethodPost {
		http.Error(w, "not an invocation", http.StatusNotFound)
		return
	}
	f.mu.Lock()
	f.inFlight[fn]++
	overlap := f.inFlight[fn] > 1
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight[fn]--
		f.mu.Unlock()
	}()
	if overlap {
		f.t.Errorf("concurrent invocations of %s", fn)
	}
	time.Sleep(2 * time.Millisecond) // widen the window for overlaps
	var in json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out, status := f.handle(fn, in)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

func (f *fakeLambdas) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[key]++
	return f.calls[key]
}

func fnError(typ, msg string) map[string]string {
	return map[string]string{"errorType": typ, "errorMessage": msg}
}

func decodeStrict[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Errorf("input does not decode into %T: %v\n%s", v, err, b)
	}
	return v
}

func (f *fakeLambdas) handle(fn string, in []byte) (any, int) {
	s := f.s
	switch fn {
	case "plan":
		f.count("plan")
		got := decodeStrict[contract.PlanInput](f.t, in)
		if diff := cmp.Diff(s.PlanInput, got); diff != "" {
			f.t.Errorf("splitter input mismatch (-want +got):\n%s", diff)
		}
		if f.duplicate {
			return s.DuplicatePlanOutput, http.StatusOK
		}
		return s.PlanOutput, http.StatusOK
	case "parse":
		got := decodeStrict[contract.ParseInput](f.t, in)
		i := got.Chunk.Index
		f.count(fmt.Sprintf("parse/%d", i))
		want := s.ParseInput
		want.Chunk = s.PlanOutput.Chunks[i]
		if diff := cmp.Diff(want, got); diff != "" {
			f.t.Errorf("parser input mismatch (-want +got):\n%s", diff)
		}
		if i == f.parseFailChunk {
			return fnError("InvalidInputError", fmt.Sprintf("chunk %d: corrupt deflate stream", i)), http.StatusOK
		}
		return s.ParseOutputs[i], http.StatusOK
	case "reserve":
		if f.count("reserve") == 1 && f.reserveHTTP500 {
			return map[string]string{"message": "service unavailable"}, http.StatusInternalServerError
		}
		got := decodeStrict[contract.ReserveInput](f.t, in)
		out, err := contract.Allocate(got, func(r contract.Receiver, _ uint64) (uint64, error) {
			return s.SampleCounterStarts[r.ID], nil
		})
		if err != nil {
			return fnError("InvalidInputError", err.Error()), http.StatusOK
		}
		return out, http.StatusOK
	case "send":
		got := decodeStrict[contract.SendInput](f.t, in)
		key := fmt.Sprintf("%d/%s", got.Chunk, got.Receiver)
		if f.count("send/"+key) == 1 && key == f.sendFlaky {
			return fnError("RetryableError", "staging object not visible yet"), http.StatusOK
		}
		if _, err := got.Target(); err != nil {
			return fnError("InvalidInputError", err.Error()), http.StatusOK
		}
		return contract.SendOutput{Chunk: got.Chunk, Receiver: got.Receiver, Datagrams: got.Frames, Bytes: got.Frames * 1400, DurationMS: 3}, http.StatusOK
	}
	return map[string]string{"message": "unknown function " + fn}, http.StatusNotFound
}

type sfnResult struct {
	Status string          `json:"status"`
	Output json.RawMessage `json:"output"`
	Error  string          `json:"error"`
	Cause  string          `json:"cause"`
}

// runLocal runs scripts/sfn-local.mjs on the rendered definition with the
// fake functions.
func runLocal(t *testing.T, f *fakeLambdas, input any) sfnResult {
	t.Helper()
	node := needTool(t, "node", "install Node.js")
	needTool(t, filepath.Join(nodeModules, "aws-local-stepfunctions", "package.json"), "run npm ci in scripts/node")
	f.calls, f.inFlight = map[string]int{}, map[string]int{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"../scripts/sfn-local.mjs", "--definition", renderedFile(t), "--input", string(in),
		"--execution-name", f.s.ExecutionName}
	for state, fn := range map[string]string{"Plan": "plan", "ParseChunk": "parse", "Reserve": "reserve", "SendChunk": "send"} {
		args = append(args, "--task", state+"="+srv.URL+"/"+fn)
	}
	cmd := exec.CommandContext(t.Context(), node, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if code := cmd.ProcessState.ExitCode(); code != 0 && code != 1 {
		t.Fatalf("sfn-local.mjs: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), out)
	}
	var res sfnResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("sfn-local.mjs output: %v\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	return res
}

// TestLocalRun executes the rendered definition with aws-local-stepfunctions
// (through scripts/sfn-local.mjs) against fake functions: the data flows
// from step to step as shared/contract says, service errors and
// RetryableError are retried, and the output is the Summary.
func TestLocalRun(t *testing.T) {
	s := contract.Samples()
	f := &fakeLambdas{t: t, s: s, parseFailChunk: -1, sendFlaky: "1/r1", reserveHTTP500: true}
	res := runLocal(t, f, s.ExecutionInput)
	if res.Status != "SUCCEEDED" {
		t.Fatalf("execution %s: %s: %s", res.Status, res.Error, res.Cause)
	}
	var got contract.Summary
	if err := json.Unmarshal(res.Output, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.ReserveOutput.Summary, got); diff != "" {
		t.Errorf("execution output mismatch (-want +got):\n%s", diff)
	}
	want := map[string]int{
		"plan": 1, "parse/0": 1, "parse/1": 1, "parse/2": 1, "reserve": 2,
		"send/0/r0": 1, "send/0/r1": 1, "send/1/r0": 1, "send/1/r1": 2,
	}
	if diff := cmp.Diff(want, f.calls); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
}

// TestLocalRunInvalidInput: an InvalidInputError is not retried, and the
// execution ends in the Fail state with the error's name and a cause that
// names the step and the object.
func TestLocalRunInvalidInput(t *testing.T) {
	s := contract.Samples()
	f := &fakeLambdas{t: t, s: s, parseFailChunk: 1}
	res := runLocal(t, f, s.ExecutionInput)
	if res.Status != "FAILED" || res.Error != "InvalidInputError" {
		t.Fatalf("execution %s with error %q, want FAILED with InvalidInputError", res.Status, res.Error)
	}
	wantCause := "Parse failed for s3://" + s.ExecutionInput.Bucket + "/" + s.ExecutionInput.Key + ": " +
		`{"errorMessage":"chunk 1: corrupt deflate stream","errorType":"InvalidInputError"}`
	if res.Cause != wantCause {
		t.Errorf("cause = %q\nwant    %q", res.Cause, wantCause)
	}
	if n := f.calls["parse/1"]; n != 1 {
		t.Errorf("failing chunk parsed %d times, want 1 (no retry)", n)
	}
	if n := f.calls["reserve"]; n != 0 {
		t.Errorf("Reserve ran %d times after a failed Parse", n)
	}
}

// TestLocalRunDuplicate: a duplicate plan ends the execution successfully
// after Plan, with a contract.DuplicateOutput.
func TestLocalRunDuplicate(t *testing.T) {
	s := contract.Samples()
	f := &fakeLambdas{t: t, s: s, parseFailChunk: -1, duplicate: true}
	res := runLocal(t, f, s.ExecutionInput)
	if res.Status != "SUCCEEDED" {
		t.Fatalf("execution %s: %s: %s", res.Status, res.Error, res.Cause)
	}
	var got contract.DuplicateOutput
	if err := json.Unmarshal(res.Output, &got); err != nil {
		t.Fatal(err)
	}
	want := contract.DuplicateOutput{Object: s.DuplicatePlanOutput.Object, Duplicate: s.DuplicatePlanOutput.Duplicate}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("execution output mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"plan": 1}, f.calls); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
}
