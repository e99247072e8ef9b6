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
	"slices"
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
// function overlap (sfn-local.mjs must serialize them), except sends with
// concurrentSend, where it records how the sends of each receiver
// interleave instead.
type fakeLambdas struct {
	t *testing.T
	s contract.SampleSet

	duplicate      bool   // the splitter reports a duplicate
	parseFailChunk int    // chunk whose parse fails with InvalidInputError (-1: none)
	sendFlaky      string // "c/r" of a send item that fails once with RetryableError
	sendFail       string // "c/r" of a send item that fails with InvalidInputError
	reserveHTTP500 bool   // first Reserve call gets HTTP 500
	// concurrentSend runs SendChunk calls as the Maps issue them
	// (sfn-local.mjs --concurrent SendChunk), each taking sendDelay.
	concurrentSend bool
	sendDelay      func(chunk int) time.Duration
	definition     string                  // rendered definition file; "" renders LocalVars
	input          contract.ExecutionInput // the execution input (set by runLocal)

	mu       sync.Mutex
	calls    map[string]int
	inFlight map[string]int
	// Per receiver: the chunks of every send attempt in the order they
	// started, of every successful send in the order they finished, and
	// the sequence ranges sent ([first, count]); overlaps lists sends that
	// started while another send to the same receiver was running.
	started     map[string][]int
	finished    map[string][]int
	ranges      map[string][][2]uint64
	overlaps    []string
	maxInFlight int // most sends running at once, all receivers
}

func (f *fakeLambdas) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fn, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if rest != "2015-03-31/functions/function/invocations" || r.Method != http.MethodPost {
		http.Error(w, "not an invocation", http.StatusNotFound)
		return
	}
	f.mu.Lock()
	f.inFlight[fn]++
	overlap := f.inFlight[fn] > 1 && !(fn == "send" && f.concurrentSend)
	f.maxInFlight = max(f.maxInFlight, f.inFlight["send"])
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
	case "convert":
		f.count("convert")
		got := decodeStrict[contract.PlanInput](f.t, in)
		want := s.PlanInput
		want.Input = f.input
		if diff := cmp.Diff(want, got); diff != "" {
			f.t.Errorf("convert input mismatch (-want +got):\n%s", diff)
		}
		return s.ReserveOutput.Summary, http.StatusOK
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
		f.mu.Lock()
		f.started[got.Receiver] = append(f.started[got.Receiver], got.Chunk)
		if n := f.inFlight["send/"+got.Receiver]; n > 0 {
			f.overlaps = append(f.overlaps, fmt.Sprintf("chunk %d for %s started while %d other send(s) to it ran", got.Chunk, got.Receiver, n))
		}
		f.inFlight["send/"+got.Receiver]++
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.inFlight["send/"+got.Receiver]--
			f.mu.Unlock()
		}()
		if f.sendDelay != nil {
			time.Sleep(f.sendDelay(got.Chunk))
		}
		if f.count("send/"+key) == 1 && key == f.sendFlaky {
			return fnError("RetryableError", "staging object not visible yet"), http.StatusOK
		}
		if key == f.sendFail {
			return fnError("InvalidInputError", fmt.Sprintf("send chunk %d to %s: corrupt staging object", got.Chunk, got.Receiver)), http.StatusOK
		}
		if _, err := got.Target(); err != nil {
			return fnError("InvalidInputError", err.Error()), http.StatusOK
		}
		f.mu.Lock()
		f.finished[got.Receiver] = append(f.finished[got.Receiver], got.Chunk)
		f.ranges[got.Receiver] = append(f.ranges[got.Receiver], [2]uint64{got.First, got.Count})
		f.mu.Unlock()
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
	f.started, f.finished, f.ranges = map[string][]int{}, map[string][]int{}, map[string][][2]uint64{}
	if ei, ok := input.(contract.ExecutionInput); ok {
		f.input = ei
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	def := f.definition
	if def == "" {
		def = renderedFile(t)
	}
	args := []string{"../scripts/sfn-local.mjs", "--definition", def, "--input", string(in),
		"--execution-name", f.s.ExecutionName}
	if f.concurrentSend {
		args = append(args, "--concurrent", "SendChunk")
	}
	for state, fn := range map[string]string{"Convert": "convert", "Plan": "plan", "ParseChunk": "parse", "Reserve": "reserve", "SendChunk": "send"} {
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

// TestLocalRunSmallObject: an object whose event size is below the
// small-object threshold (LocalVars: 64 KiB) goes to Convert, which gets
// the same PlanInput Plan would, and whose result is the execution output;
// no other step runs. One byte less than the threshold converts, the
// threshold itself and an input without a size take the long path.
func TestLocalRunSmallObject(t *testing.T) {
	s := contract.Samples()
	for _, tc := range []struct {
		size    int64
		convert bool
	}{{65535, true}, {1, true}, {65536, false}, {0, false}} {
		in := s.ExecutionInput
		in.Size = tc.size
		f := &fakeLambdas{t: t, s: s, parseFailChunk: -1}
		s2 := s // size 0 is omitted from the JSON: no size at all
		s2.PlanInput.Input = in
		f.s = s2
		res := runLocal(t, f, in)
		if res.Status != "SUCCEEDED" {
			t.Fatalf("size %d: execution %s: %s: %s", tc.size, res.Status, res.Error, res.Cause)
		}
		var got contract.Summary
		if err := json.Unmarshal(res.Output, &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s.ReserveOutput.Summary, got); diff != "" {
			t.Errorf("size %d: execution output mismatch (-want +got):\n%s", tc.size, diff)
		}
		if c, p := f.calls["convert"], f.calls["plan"]; tc.convert != (c == 1 && p == 0) || !tc.convert && (c != 0 || p != 1) {
			t.Errorf("size %d: Convert ran %d times, Plan %d; want convert=%v", tc.size, c, p, tc.convert)
		}
	}
}

// TestLocalRunInvalidInput: an InvalidInputError is not retried, and the
// execution fails with the Task's error: its name, and the Lambda's error
// body as the cause (the real handlers name the step and the object in it:
// handler TestFailedNamesStepAndObject).
func TestLocalRunInvalidInput(t *testing.T) {
	s := contract.Samples()
	f := &fakeLambdas{t: t, s: s, parseFailChunk: 1}
	res := runLocal(t, f, s.ExecutionInput)
	if res.Status != "FAILED" || res.Error != "InvalidInputError" {
		t.Fatalf("execution %s with error %q, want FAILED with InvalidInputError", res.Status, res.Error)
	}
	wantCause := `{"errorMessage":"chunk 1: corrupt deflate stream","errorType":"InvalidInputError"}`
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

// manyChunks returns the sample execution cut into n chunks: r0 has frames
// in every chunk but the last, r1 in every chunk but the last and chunk 3.
// wantOut is the allocator's output for it (with SampleCounterStarts).
func manyChunks(t *testing.T, n int) (s contract.SampleSet, wantOut contract.ReserveOutput) {
	t.Helper()
	s = contract.Samples()
	size := s.PlanOutput.Object.Size
	s.PlanOutput.Chunks, s.ParseOutputs = nil, nil
	for i := range n {
		s.PlanOutput.Chunks = append(s.PlanOutput.Chunks, contract.ChunkRef{
			Index: i, Kind: contract.ChunkIndexed, Start: size * int64(i) / int64(n), End: size * int64(i+1) / int64(n),
			UStart: int64(i) << 22, UEnd: int64(i+1) << 22, Checkpoint: i, LineBase: -1,
		})
		p := contract.ParseOutput{Chunk: i, Counts: contract.Counts{Lines: 100, Records: 100}}
		for _, r := range s.PlanOutput.Receivers {
			o := contract.ReceiverOutput{Receiver: r.ID, Records: 100, Flows: 100}
			if i < n-1 && !(r.ID == "r1" && i == 3) {
				o.Frames, o.Units, o.Bytes = uint64(i+1), uint64(10*(i+1)), uint64(1000*(i+1))
			}
			p.Out = append(p.Out, o)
		}
		s.ParseOutputs = append(s.ParseOutputs, p)
	}
	if err := s.PlanOutput.Validate(); err != nil {
		t.Fatal(err)
	}
	s.ReserveInput.Parsed = s.ParseOutputs
	out, err := contract.Allocate(s.ReserveInput, func(r contract.Receiver, _ uint64) (uint64, error) {
		return s.SampleCounterStarts[r.ID], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, out
}

// descending makes earlier chunks slower, so that sends of one receiver
// that were not strictly one after another would overlap and finish out of
// order.
func descending(n int) func(int) time.Duration {
	return func(chunk int) time.Duration { return time.Duration(n-chunk) * 20 * time.Millisecond }
}

// TestLocalRunSendOrder runs the definition with SendChunk calls going out
// as the Maps issue them (not serialized by sfn-local.mjs), earlier chunks
// slower than later ones, and a retried chunk in the middle of a stream:
// every receiver gets its chunks strictly one after another in chunk order
// (the retry before the next chunk), its sequence ranges contiguous from
// its reservation, while the receivers are sent in parallel. The control
// run, with the SendStream Map's MaxConcurrency removed, shows that the
// fake does see overlapping sends when the ASL allows them, i.e. that
// aws-local-stepfunctions honours MaxConcurrency 1 and the check has teeth.
func TestLocalRunSendOrder(t *testing.T) {
	const n = 6
	s, wantOut := manyChunks(t, n)
	if len(wantOut.Streams) != 2 {
		t.Fatalf("want 2 streams, got %+v", wantOut.Streams)
	}

	f := &fakeLambdas{t: t, s: s, parseFailChunk: -1, sendFlaky: "1/r1", concurrentSend: true, sendDelay: descending(n)}
	res := runLocal(t, f, s.ExecutionInput)
	if res.Status != "SUCCEEDED" {
		t.Fatalf("execution %s: %s: %s", res.Status, res.Error, res.Cause)
	}
	var got contract.Summary
	if err := json.Unmarshal(res.Output, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantOut.Summary, got); diff != "" {
		t.Errorf("execution output mismatch (-want +got):\n%s", diff)
	}
	if len(f.overlaps) > 0 {
		t.Errorf("sends to one receiver overlapped:\n%s", strings.Join(f.overlaps, "\n"))
	}
	for _, st := range wantOut.Streams {
		var chunks []int
		var ranges [][2]uint64
		for _, it := range st.Items {
			chunks = append(chunks, it.Chunk)
			ranges = append(ranges, [2]uint64{it.First, it.Count})
		}
		started := chunks
		if st.Receiver == "r1" { // chunk 1 fails once and is retried before chunk 2
			started = []int{0, 1, 1, 2, 4}
		}
		if diff := cmp.Diff(started, f.started[st.Receiver]); diff != "" {
			t.Errorf("receiver %s: sends started in order (-want +got):\n%s", st.Receiver, diff)
		}
		if diff := cmp.Diff(chunks, f.finished[st.Receiver]); diff != "" {
			t.Errorf("receiver %s: chunks sent in order (-want +got):\n%s", st.Receiver, diff)
		}
		if diff := cmp.Diff(ranges, f.ranges[st.Receiver]); diff != "" {
			t.Errorf("receiver %s: sequence ranges sent (-want +got):\n%s", st.Receiver, diff)
		}
		next := s.SampleCounterStarts[st.Receiver]
		for _, r := range f.ranges[st.Receiver] {
			if r[0] != next {
				t.Errorf("receiver %s: range starts at %d, want %d (gap or overlap)", st.Receiver, r[0], next)
			}
			next = r[0] + r[1]
		}
	}
	if f.maxInFlight < 2 {
		t.Errorf("at most %d send ran at once; want the 2 receivers sent in parallel (send_max_concurrency 2)", f.maxInFlight)
	}

	t.Run("control without MaxConcurrency 1", func(t *testing.T) {
		b, err := Render(LocalVars())
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		delete(allStates(t, d)["SendStream"], "MaxConcurrency") // 0: no limit
		if b, err = json.Marshal(d); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "unordered.asl.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f := &fakeLambdas{t: t, s: s, parseFailChunk: -1, concurrentSend: true, sendDelay: descending(n), definition: path}
		if res := runLocal(t, f, s.ExecutionInput); res.Status != "SUCCEEDED" {
			t.Fatalf("execution %s: %s: %s", res.Status, res.Error, res.Cause)
		}
		if len(f.overlaps) == 0 || slices.IsSorted(f.finished["r0"]) {
			t.Errorf("without MaxConcurrency 1: no overlap seen (finished %v); the order check would not catch one", f.finished)
		}
	})
}

// TestLocalRunSendFails: a chunk whose send fails (InvalidInputError, not
// retried) stops its receiver's stream, since later chunks would follow a
// gap (sfn-local.mjs makes aws-local-stepfunctions start no iteration after
// a failed one, as Step Functions does); the failure propagates through both
// Maps and fails the execution with the Task's error.
func TestLocalRunSendFails(t *testing.T) {
	const n = 6
	s, _ := manyChunks(t, n)
	f := &fakeLambdas{t: t, s: s, parseFailChunk: -1, sendFail: "1/r0", concurrentSend: true, sendDelay: descending(n)}
	res := runLocal(t, f, s.ExecutionInput)
	if res.Status != "FAILED" || res.Error != "InvalidInputError" {
		t.Fatalf("execution %s with error %q, want FAILED with InvalidInputError", res.Status, res.Error)
	}
	wantCause := `{"errorMessage":"send chunk 1 to r0: corrupt staging object","errorType":"InvalidInputError"}`
	if res.Cause != wantCause {
		t.Errorf("cause = %q\nwant    %q", res.Cause, wantCause)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if diff := cmp.Diff([]int{0, 1}, f.started["r0"]); diff != "" {
		t.Errorf("r0 sends started (-want +got):\n%s", diff)
	}
}
