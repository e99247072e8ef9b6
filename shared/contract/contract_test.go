package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json from Samples()")

// golden maps each testdata file to the sample it holds and a fresh value of
// its type to decode into.
func golden() map[string]struct {
	value any
	into  func() any
} {
	s := Samples()
	type g = struct {
		value any
		into  func() any
	}
	return map[string]g{
		"execution-input-eventbridge.json": {s.ExecutionInput, func() any { return new(ExecutionInput) }},
		"execution-input-manual.json":      {s.ManualInput, func() any { return new(ExecutionInput) }},
		"plan-input.json":                  {s.PlanInput, func() any { return new(PlanInput) }},
		"plan-output.json":                 {s.PlanOutput, func() any { return new(PlanOutput) }},
		"plan-output-small.json":           {s.SmallPlanOutput, func() any { return new(PlanOutput) }},
		"plan-output-parquet.json":         {s.ParquetPlanOutput, func() any { return new(PlanOutput) }},
		"plan-output-duplicate.json":       {s.DuplicatePlanOutput, func() any { return new(PlanOutput) }},
		"duplicate-output.json":            {DuplicateOutput{Object: s.DuplicatePlanOutput.Object, Duplicate: s.DuplicatePlanOutput.Duplicate}, func() any { return new(DuplicateOutput) }},
		"parse-input.json":                 {s.ParseInput, func() any { return new(ParseInput) }},
		"parse-output.json":                {s.ParseOutputs[0], func() any { return new(ParseOutput) }},
		"reserve-input.json":               {s.ReserveInput, func() any { return new(ReserveInput) }},
		"reserve-output.json":              {s.ReserveOutput, func() any { return new(ReserveOutput) }},
		"send-stream-input.json":           {s.SendStreamInput, func() any { return new(SendStreamInput) }},
		"send-input.json":                  {s.SendInput, func() any { return new(SendInput) }},
		"send-output.json":                 {s.SendOutputs[1][0], func() any { return new(SendOutput) }},
		"summary.json":                     {s.ReserveOutput.Summary, func() any { return new(Summary) }},
		"state-after-plan.json":            {s.StateAfterPlan, func() any { return new(StateAfterPlan) }},
		"state-after-parse.json":           {s.StateAfterParse, func() any { return new(StateAfterParse) }},
		"state-after-send.json":            {s.StateAfterSend, func() any { return new(StateAfterSend) }},
	}
}

// TestGolden checks each golden file against Samples() and that it
// round-trips through its Go type (strict decoding, JSON equality).
func TestGolden(t *testing.T) {
	for name, g := range golden() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(g.value); err != nil {
				t.Fatal(err)
			}
			want := buf.Bytes()
			if *update {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			file, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./shared/contract -update)", err)
			}
			if diff := cmp.Diff(decodeAny(t, want), decodeAny(t, file)); diff != "" {
				t.Errorf("%s differs from Samples() (-want +got):\n%s", path, diff)
			}
			v := g.into()
			dec := json.NewDecoder(bytes.NewReader(file))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("decode %s: %v", path, err)
			}
			again, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decodeAny(t, file), decodeAny(t, again)); diff != "" {
				t.Errorf("%s does not round-trip (-file +re-encoded):\n%s", path, diff)
			}
		})
	}
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	return v
}

// TestEventBridgeTemplateShape decodes what the rule's input transformer
// produces (terraform/eventbridge.tf) for an unversioned and a versioned
// bucket, with the event's encoded key.
func TestEventBridgeTemplateShape(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want ExecutionInput
	}{
		{
			name: "unversioned",
			in:   `{"bucket":"b","key":"AWSLogs/aws-account-id%3D1/x+y.log.gz","key_encoded":true,"size":12,"etag":"abc","sequencer":"01","event_time":"2026-11-27T10:00:00Z","source":"eventbridge"}`,
			want: ExecutionInput{Bucket: "b", Key: "AWSLogs/aws-account-id%3D1/x+y.log.gz", KeyEncoded: true, Size: 12, ETag: "abc", Sequencer: "01", EventTime: "2026-11-27T10:00:00Z", Source: SourceEventBridge},
		},
		{
			name: "versioned",
			in:   `{"bucket":"b","key":"k.log.gz","key_encoded":true,"size":12,"etag":"abc","sequencer":"01","event_time":"2026-11-27T10:00:00Z","source":"eventbridge","version_id":"v1"}`,
			want: ExecutionInput{Bucket: "b", Key: "k.log.gz", KeyEncoded: true, Size: 12, ETag: "abc", Sequencer: "01", EventTime: "2026-11-27T10:00:00Z", Source: SourceEventBridge, VersionID: "v1"},
		},
		{
			name: "manual",
			in:   `{"bucket":"b","key":"a b.log"}`,
			want: ExecutionInput{Bucket: "b", Key: "a b.log"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got ExecutionInput
			dec := json.NewDecoder(strings.NewReader(tc.in))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decode mismatch (-want +got):\n%s", diff)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

func TestKeyCandidates(t *testing.T) {
	cases := []struct {
		name string
		in   ExecutionInput
		want []string
	}{
		{"manual keeps plus", ExecutionInput{Key: "a+b c.log"}, []string{"a+b c.log"}},
		{"encoded plus and escapes", ExecutionInput{Key: "a+b%3Dc%2B.log", KeyEncoded: true}, []string{"a b=c+.log", "a+b%3Dc%2B.log"}},
		{"encoded but plain", ExecutionInput{Key: "AWSLogs/1/x.log.gz", KeyEncoded: true}, []string{"AWSLogs/1/x.log.gz"}},
		{"bad escape kept as is", ExecutionInput{Key: "100%.log", KeyEncoded: true}, []string{"100%.log"}},
		{"hive key", ExecutionInput{Key: "AWSLogs/aws-account-id%3D123/aws-service%3Dvpcflowlogs/x.log.gz", KeyEncoded: true},
			[]string{"AWSLogs/aws-account-id=123/aws-service=vpcflowlogs/x.log.gz", "AWSLogs/aws-account-id%3D123/aws-service%3Dvpcflowlogs/x.log.gz"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.in.KeyCandidates()); diff != "" {
				t.Errorf("KeyCandidates() mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := (ExecutionInput{Key: "100%.log", KeyEncoded: true}).DecodedKey(); err == nil {
		t.Error("DecodedKey() of a bad escape: want an error")
	}
}

func TestExecutionInputValidate(t *testing.T) {
	err := ExecutionInput{Size: -1, Source: "sqs"}.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	for _, want := range []string{"bucket is empty", "key is empty", "size -1", `unknown source "sqs"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %q, want it to mention %q", err, want)
		}
	}
}

func TestPlanValidate(t *testing.T) {
	s := Samples()
	for _, p := range []PlanOutput{s.PlanOutput, s.SmallPlanOutput, s.ParquetPlanOutput, s.DuplicatePlanOutput} {
		if err := p.Validate(); err != nil {
			t.Errorf("sample plan: %v", err)
		}
	}
	bad := Samples().PlanOutput
	bad.IndexKey = ""
	bad.Chunks[2].Index = 7
	bad.Receivers = append(bad.Receivers, Receiver{ID: "r0", URL: "sflow://x:1"})
	err := bad.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	for _, want := range []string{"chunk 2 has index 7", "no index key", `duplicate receiver id "r0"`, `unknown protocol "sflow"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %q, want it to mention %q", err, want)
		}
	}
	mixed := Samples().ParquetPlanOutput
	mixed.Format.Framing = FramingLines
	if err := mixed.Validate(); err == nil || !strings.Contains(err.Error(), "row groups go with Parquet") {
		t.Errorf("Validate() of row-group chunks of a text object = %v, want a kind/framing error", err)
	}
	many := Samples().PlanOutput
	many.Chunks = make([]ChunkRef, ChunkLimit(2)+1)
	for i := range many.Chunks {
		many.Chunks[i] = ChunkRef{Index: i, Kind: ChunkIndexed, Checkpoint: i}
	}
	if err := many.Validate(); err == nil || !strings.Contains(err.Error(), "257 chunks for 2 receivers") {
		t.Errorf("Validate() of %d chunks = %v, want a chunk-limit error", len(many.Chunks), err)
	}
}

func TestChunkLimit(t *testing.T) {
	for r, want := range map[int]int{0: 256, 1: 256, 2: 256, 3: 256, 4: 256, 5: 204, 8: 128} {
		if got := ChunkLimit(r); got != want {
			t.Errorf("ChunkLimit(%d) = %d, want %d", r, got, want)
		}
		if r > 0 && ChunkLimit(r)*r > MaxSendItems {
			t.Errorf("ChunkLimit(%d)*%d > MaxSendItems", r, r)
		}
	}
}

// TestAllocate checks the sample allocation: per receiver one reservation,
// ranges contiguous in chunk order, empty items left out, totals right.
func TestAllocate(t *testing.T) {
	s := Samples()
	in := s.ReserveInput
	// Shuffle the Map output order: Allocate must sort by chunk.
	in.Parsed = []ParseOutput{s.ParseOutputs[2], s.ParseOutputs[0], s.ParseOutputs[1]}
	var calls []string
	out, err := Allocate(in, func(r Receiver, n uint64) (uint64, error) {
		calls = append(calls, r.ID)
		return s.SampleCounterStarts[r.ID], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"r0", "r1"}, calls); diff != "" {
		t.Errorf("reservations (-want +got):\n%s", diff)
	}
	want := []SendStream{
		{Receiver: "r0", Items: []SendItem{
			{Chunk: 0, Receiver: "r0", First: 1000, Count: 1154, Frames: 1154},
			{Chunk: 1, Receiver: "r0", First: 2154, Count: 1154, Frames: 1154},
		}},
		{Receiver: "r1", Items: []SendItem{
			{Chunk: 0, Receiver: "r1", First: 4294967290, Count: 29980, Frames: 1000},
			{Chunk: 1, Receiver: "r1", First: 4294997270, Count: 29999, Frames: 1000},
		}},
	}
	if diff := cmp.Diff(want, out.Streams); diff != "" {
		t.Errorf("Streams mismatch (-want +got):\n%s", diff)
	}
	if err := out.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
	r1 := out.Summary.Receivers[1]
	if r1.First != 4294967290 || r1.Last != 4294967290+29980+29999-1 || r1.Units != 59979 || r1.Datagrams != 2000 {
		t.Errorf("summary r1 = %+v", r1)
	}
	if r1.Unsupported != 12 || r1.Flows != 29978+29999 {
		t.Errorf("summary r1 unsupported/flows = %d/%d", r1.Unsupported, r1.Flows)
	}
	c := out.Summary.Counts
	if c.Lines != 60005 || c.Records != 59989 || c.Lines != c.Records+c.SkippedTotal() {
		t.Errorf("summary counts = %+v", c)
	}
	if diff := cmp.Diff(s.ReserveOutput, out); diff != "" {
		t.Errorf("Allocate(shuffled) differs from the sample (-want +got):\n%s", diff)
	}
}

// TestAllocateStreams: one stream per receiver with frames, in receiver
// order; each stream's items are its non-empty chunks in ascending order,
// their ranges contiguous (across 2^64 too) and adding up to the
// reservation.
func TestAllocateStreams(t *testing.T) {
	receivers := []Receiver{
		{ID: "r0", URL: "netflow5://10.0.0.1:2055"},
		{ID: "r1", URL: "netflow9://10.0.0.2:2055"},
		{ID: "r2", URL: "ipfix://10.0.0.3:4739"},
	}
	// units[chunk][receiver]; frames = units (0 means nothing to send).
	units := [][]uint64{{5, 7, 0}, {0, 3, 0}, {2, 0, 0}, {4, 1, 0}, {0, 0, 0}}
	var parsed []ParseOutput
	for c := len(units) - 1; c >= 0; c-- { // Map output order need not be chunk order
		p := ParseOutput{Chunk: c, Counts: Counts{Lines: 10, Records: 10}}
		for ri, r := range receivers {
			u := units[c][ri]
			p.Out = append(p.Out, ReceiverOutput{Receiver: r.ID, Frames: u, Units: u, Records: 10, Flows: 10, Bytes: 100 * u})
		}
		parsed = append(parsed, p)
	}
	in := ReserveInput{ExecutionID: "x", Object: ObjectRef{Bucket: "b", Key: "k"}, Receivers: receivers, Parsed: parsed}
	starts := map[string]uint64{"r0": math.MaxUint64 - 6, "r1": 100}
	out, err := Allocate(in, func(r Receiver, n uint64) (uint64, error) { return starts[r.ID], nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []SendStream{
		{Receiver: "r0", Items: []SendItem{
			{Chunk: 0, Receiver: "r0", First: math.MaxUint64 - 6, Count: 5, Frames: 5},
			{Chunk: 2, Receiver: "r0", First: math.MaxUint64 - 1, Count: 2, Frames: 2},
			{Chunk: 3, Receiver: "r0", First: 0, Count: 4, Frames: 4},
		}},
		{Receiver: "r1", Items: []SendItem{
			{Chunk: 0, Receiver: "r1", First: 100, Count: 7, Frames: 7},
			{Chunk: 1, Receiver: "r1", First: 107, Count: 3, Frames: 3},
			{Chunk: 3, Receiver: "r1", First: 110, Count: 1, Frames: 1},
		}},
	}
	if diff := cmp.Diff(want, out.Streams); diff != "" {
		t.Errorf("Streams mismatch (-want +got):\n%s", diff)
	}
	if err := out.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}

	// Nothing to send at all: an empty list, not null (the Send Map's
	// ItemsPath must find an array).
	for i := range in.Parsed {
		for j := range in.Parsed[i].Out {
			in.Parsed[i].Out[j].Frames, in.Parsed[i].Out[j].Units = 0, 0
		}
	}
	out, err = Allocate(in, func(Receiver, uint64) (uint64, error) { t.Error("reserve called without units"); return 0, nil })
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"streams":[]`) {
		t.Errorf("no streams marshal as %s, want \"streams\":[]", b)
	}
	if err := out.Validate(); err != nil {
		t.Errorf("Validate() of no streams = %v", err)
	}
}

// TestReserveOutputValidate: each broken invariant is reported.
func TestReserveOutputValidate(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*ReserveOutput)
		wantMsg string
	}{
		{"items out of order", func(o *ReserveOutput) {
			it := o.Streams[0].Items
			it[0], it[1] = it[1], it[0]
		}, "stream of receiver r0: chunk 0 follows chunk 1"},
		{"gap", func(o *ReserveOutput) { o.Streams[1].Items[1].First++ }, "stream of receiver r1: chunk 1 starts at 4294997271, want 4294997270"},
		{"foreign item", func(o *ReserveOutput) { o.Streams[0].Items[1].Receiver = "r1" }, `stream of receiver r0: item 1 is for receiver "r1"`},
		{"unknown receiver", func(o *ReserveOutput) { o.Streams[1].Receiver = "r7" }, `stream 1: receiver "r7" is not in the receiver list`},
		{"receiver order", func(o *ReserveOutput) { o.Streams[0], o.Streams[1] = o.Streams[1], o.Streams[0] }, "stream 1: receiver r0 out of receiver order or repeated"},
		{"repeated receiver", func(o *ReserveOutput) { o.Streams[1] = o.Streams[0] }, "stream 1: receiver r0 out of receiver order or repeated"},
		{"missing stream", func(o *ReserveOutput) { o.Streams = o.Streams[:1] }, "receiver r1: 59979 units but no stream"},
		{"empty stream", func(o *ReserveOutput) { o.Streams[0].Items = nil }, "stream of receiver r0 has no items"},
		{"empty item", func(o *ReserveOutput) { o.Streams[0].Items[1].Frames = 0 }, "chunk 1: 0 frames carry 1154 units"},
		{"chunk out of range", func(o *ReserveOutput) { o.Streams[0].Items[1].Chunk = 3 }, "chunk 3 not in 0..2"},
		{"totals", func(o *ReserveOutput) { o.Streams[0].Items[1].Count++ }, "receiver r0: stream has 2309 units in 2308 frames, summary 2308 in 2308"},
		{"first", func(o *ReserveOutput) { o.Summary.Receivers[1].First = 7 }, "receiver r1: stream starts at 4294967290, reservation at 7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := Samples().ReserveOutput
			tc.mutate(&o)
			err := o.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Validate() = %v, want it to mention %q", err, tc.wantMsg)
			}
		})
	}
}

// TestSkipReasonsMatchFlowlog: the contract's skip-reason names are
// shared/flowlog's, in the same order.
func TestSkipReasonsMatchFlowlog(t *testing.T) {
	var want []string
	for _, r := range flowlog.SkipReasons() {
		want = append(want, r.String())
	}
	if diff := cmp.Diff(want, SkipReasons); diff != "" {
		t.Errorf("SkipReasons differ from flowlog.SkipReasons() (-flowlog +contract):\n%s", diff)
	}
}

func TestAllocateErrors(t *testing.T) {
	s := Samples()
	boom := errors.New("throttled")
	never := func(Receiver, uint64) (uint64, error) { t.Error("reserve called on bad input"); return 0, nil }
	cases := []struct {
		name    string
		mutate  func(*ReserveInput)
		reserve ReserveFunc
		wantIs  error
		wantMsg string
	}{
		{"missing chunk", func(in *ReserveInput) { in.Parsed = in.Parsed[1:] }, never, ErrAccounting, "chunks are not 0..1"},
		{"lines do not add up", func(in *ReserveInput) { in.Parsed[0].Counts.Lines++ }, never, ErrAccounting, "lines 30002 != records"},
		{"receiver order", func(in *ReserveInput) {
			in.Parsed[1].Out[0], in.Parsed[1].Out[1] = in.Parsed[1].Out[1], in.Parsed[1].Out[0]
		}, never, ErrAccounting, `output 0 is for receiver "r1"`},
		{"old skip reason", func(in *ReserveInput) {
			in.Parsed[0].Counts.Skipped["ipv6"] = 1
			in.Parsed[0].Counts.Lines++
		}, never, ErrAccounting, `unknown skip reason "ipv6"`},
		{"unsupported per chunk", func(in *ReserveInput) {
			in.Parsed[1].Counts.Skipped[SkipUnsupported] = 2
			in.Parsed[1].Counts.Lines += 2
		}, never, ErrAccounting, `skip reason "unsupported" is counted per receiver`},
		{"store error", func(*ReserveInput) {}, func(Receiver, uint64) (uint64, error) { return 0, boom }, boom, "reserve 2308 units for receiver r0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Samples().ReserveInput
			in.Parsed = cloneParsed(s.ParseOutputs)
			tc.mutate(&in)
			_, err := Allocate(in, tc.reserve)
			if !errors.Is(err, tc.wantIs) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Allocate() = %v, want %v containing %q", err, tc.wantIs, tc.wantMsg)
			}
		})
	}
}

func cloneParsed(ps []ParseOutput) []ParseOutput {
	b, _ := json.Marshal(ps)
	var out []ParseOutput
	_ = json.Unmarshal(b, &out)
	return out
}

func TestSendInput(t *testing.T) {
	s := Samples()
	in := s.SendInput
	if got, want := in.StagingKey(), "flowlogs2netflow/"+s.ExecutionName+"/c00000/r1.frames"; got != want {
		t.Errorf("StagingKey() = %q, want %q", got, want)
	}
	if got := s.ParseInput.StagingKey("r1"); got != "flowlogs2netflow/"+s.ExecutionName+"/c00001/r1.frames" {
		t.Errorf("ParseInput.StagingKey() = %q", got)
	}
	r, err := in.Target()
	if err != nil || r.URL != "netflow5://10.0.1.11:9995?engine-type=1&engine-id=2&pps=5000" || r.Protocol() != "netflow5" {
		t.Errorf("Target() = %+v, %v", r, err)
	}
	in.Receiver = "r9"
	if _, err := in.Target(); err == nil {
		t.Error("Target() of an unknown receiver: want an error")
	}
	if got := s.PlanOutput.Chunks[1].HTTPRange(); got != "bytes=410870-822499" {
		t.Errorf("HTTPRange() = %q", got)
	}
}

// TestNoOmitEmptyOnPathFields: the ASL reads these fields with JSONPath; an
// omitted field would fail the execution with States.Runtime, so none of
// them may be omitempty.
func TestNoOmitEmptyOnPathFields(t *testing.T) {
	for _, typ := range []reflect.Type{
		reflect.TypeFor[PlanOutput](), reflect.TypeFor[ObjectRef](), reflect.TypeFor[Format](),
		reflect.TypeFor[Receiver](), reflect.TypeFor[ChunkRef](), reflect.TypeFor[ReserveOutput](),
		reflect.TypeFor[SendItem](), reflect.TypeFor[SendStream](), reflect.TypeFor[SendStreamInput](),
		reflect.TypeFor[Summary](), reflect.TypeFor[DuplicateOutput](),
	} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if strings.Contains(f.Tag.Get("json"), "omitempty") {
				t.Errorf("%s.%s is omitempty", typ.Name(), f.Name)
			}
		}
	}
}

func TestCheckObject(t *testing.T) {
	sk := func(kv ...any) map[string]int64 {
		m := map[string]int64{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = int64(kv[i+1].(int))
		}
		return m
	}
	cases := []struct {
		name string
		c    Counts
		fail bool
	}{
		{"all malformed", Counts{Lines: 3, Skipped: sk(SkipHeader, 1, SkipMalformed, 2)}, true},
		{"malformed and blank", Counts{Lines: 3, Skipped: sk(SkipBlank, 2, SkipMalformed, 1)}, true},
		{"one record", Counts{Lines: 3, Records: 1, Skipped: sk(SkipMalformed, 2)}, false},
		{"nodata is valid", Counts{Lines: 2, Skipped: sk(SkipNoData, 1, SkipMalformed, 1)}, false},
		{"skipdata is valid", Counts{Lines: 2, Skipped: sk(SkipSkipData, 1, SkipMalformed, 1)}, false},
		{"filtered is valid", Counts{Lines: 2, Skipped: sk(SkipFiltered, 1, SkipMalformed, 1)}, false},
		{"only a header", Counts{Lines: 1, Skipped: sk(SkipHeader, 1)}, false},
		{"nothing", Counts{}, false},
	}
	for _, tc := range cases {
		err := CheckObject(tc.c, []string{"line 2: bad", "line 3: bad", "line 4: bad", "line 5: hidden"})
		if (err != nil) != tc.fail || err != nil && !errors.Is(err, ErrAllMalformed) {
			t.Errorf("%s: CheckObject = %v, want failure %v", tc.name, err, tc.fail)
		}
		if err != nil && (!strings.Contains(err.Error(), "first: line 2: bad; line 3: bad; line 4: bad") || strings.Contains(err.Error(), "hidden")) {
			t.Errorf("%s: error %q", tc.name, err)
		}
	}
	if s := CutFirstError(strings.Repeat("x", 500)); len(s) != MaxFirstError {
		t.Errorf("CutFirstError: %d bytes", len(s))
	}
}
