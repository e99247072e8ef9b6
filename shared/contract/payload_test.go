package contract

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

// worstCase builds the largest documents the bounds allow for nr receivers:
// maximum-length bucket, key (1,024 bytes; 3,072 URL-encoded in the
// execution input), ETag, version ID, execution ARN, staging prefix and
// receiver URLs; ChunkLimit(nr) chunks; every counter near its plausible
// maximum and every skip reason a chunk may count present (all but
// SkipUnsupported, which ParseOutput.Validate keeps out of a chunk's counts).
// Keys are taken as ASCII that JSON does not escape.
func worstCase(nr int) SampleSet {
	pad := func(prefix string, n int) string { return prefix + strings.Repeat("x", n-len(prefix)) }
	name := pad("exec-", 80)
	var s SampleSet
	s.ExecutionName = name
	s.ExecutionID = "arn:aws:states:ap-southeast-2:123456789012:execution:" + pad("sm-", 80) + ":" + name
	obj := ObjectRef{
		Bucket: pad("bucket-", 63), Key: pad("AWSLogs/", 1024),
		ETag: pad("", 32) + "-10000", VersionID: pad("", 32), Size: 99_999_999_999,
	}
	s.ExecutionInput = ExecutionInput{
		Bucket: obj.Bucket, Key: pad("AWSLogs%2F", 3*1024), KeyEncoded: true, Size: obj.Size, ETag: obj.ETag,
		VersionID: obj.VersionID, Sequencer: pad("", 32), EventTime: "2026-11-27T10:10:12.123Z",
		Source: SourceEventBridge, Reprocess: true,
	}
	prefix := pad("p/", MaxStagingPrefix-1) + "/"
	receivers := make([]Receiver, nr)
	for i := range receivers {
		receivers[i] = Receiver{ID: ReceiverID(i), URL: pad("netflow9://", MaxReceiverURL)}
	}
	nc := ChunkLimit(nr)
	plan := PlanOutput{
		Object:        obj,
		Format:        Format{Fields: pad("version ", 1024), Source: FieldsFromConfig, Framing: FramingLines, Compression: CompressionGzip},
		IndexKey:      IndexKey(prefix),
		StagingPrefix: prefix,
		Receivers:     receivers,
	}
	allSkips := func(v int64) map[string]int64 {
		m := map[string]int64{}
		for _, r := range SkipReasons {
			// Unsupported is counted per receiver (ReceiverOutput.Unsupported);
			// control events only come in CloudWatch Logs payloads, which
			// are planned as one chunk (FramingCloudWatch).
			if r != SkipUnsupported && r != SkipControl {
				m[r] = v
			}
		}
		return m
	}
	for i := range nc {
		plan.Chunks = append(plan.Chunks, ChunkRef{
			Index: i, Kind: ChunkIndexed, Start: 99_999_999_999, End: 99_999_999_999,
			UStart: 999_999_999_999, UEnd: 999_999_999_999, Checkpoint: 99_999, LineBase: 9_999_999_999,
		})
		p := ParseOutput{Chunk: i, FirstMalformed: -999_999_999}
		if i < FirstErrorChunks {
			p.FirstError = strings.Repeat("<", MaxFirstError) // 6 bytes each in JSON (\u003c)
		}
		p.Counts = Counts{Records: 999_999_999, Skipped: allSkips(999_999_999)}
		p.Counts.Lines = p.Counts.Records + p.Counts.SkippedTotal()
		for _, r := range receivers {
			p.Out = append(p.Out, ReceiverOutput{
				Receiver: r.ID, Frames: 99_999_999, Units: 999_999_999, Records: 999_999_999,
				Flows: 999_999_999 - 99_999_999, Bytes: 99_999_999_999, Unsupported: 99_999_999,
			})
		}
		s.ParseOutputs = append(s.ParseOutputs, p)
	}
	s.PlanOutput = plan
	s.ReserveInput = ReserveInput{ExecutionID: s.ExecutionID, Object: obj, StagingPrefix: prefix, Receivers: receivers, Parsed: s.ParseOutputs}
	out, err := Allocate(s.ReserveInput, func(Receiver, uint64) (uint64, error) {
		return math.MaxUint64 - 1_000_000_000_000, nil // 20-digit counter values
	})
	if err != nil {
		panic(err)
	}
	s.ReserveOutput = out
	s.ParseInput = ParseInput{ExecutionName: name, Object: obj, Format: plan.Format, IndexKey: plan.IndexKey, StagingPrefix: prefix, Receivers: receivers, Chunk: plan.Chunks[0]}
	s.SendStreamInput = SendStreamInput{ExecutionID: s.ExecutionID, Object: obj, StagingPrefix: prefix, Receivers: receivers, Items: out.Streams[0].Items}
	s.SendInput = SendInput{ExecutionID: s.ExecutionID, Object: obj, StagingPrefix: prefix, Receivers: receivers, SendItem: out.Streams[0].Items[0]}
	for _, st := range out.Streams {
		var sent []SendOutput
		for _, it := range st.Items {
			sent = append(sent, SendOutput{Chunk: it.Chunk, Receiver: it.Receiver, Datagrams: 99_999_999, Bytes: 99_999_999_999, DurationMS: 900_000})
		}
		s.SendOutputs = append(s.SendOutputs, sent)
	}
	s.StateAfterPlan = StateAfterPlan{ExecutionInput: s.ExecutionInput, Plan: plan}
	s.StateAfterParse = StateAfterParse{StateAfterPlan: s.StateAfterPlan, Parsed: s.ParseOutputs}
	s.StateAfterSend = StateAfterSend{ReserveOutput: out, Sent: s.SendOutputs}
	return s
}

// TestPayloadBound marshals every document and state of the worst case for
// 1..MaxReceivers receivers and holds each under PayloadBudget (3/4 of the
// 256 KiB Step Functions limit). The sizes are logged (go test -v).
func TestPayloadBound(t *testing.T) {
	largest := map[string]int{}
	for nr := 1; nr <= MaxReceivers; nr++ {
		w := worstCase(nr)
		if err := w.PlanOutput.Validate(); err != nil {
			t.Fatalf("worst-case plan for %d receivers is invalid: %v", nr, err)
		}
		if err := w.ReserveOutput.Validate(); err != nil {
			t.Fatalf("worst-case reserve output for %d receivers is invalid: %v", nr, err)
		}
		if n := len(w.ReserveOutput.Streams); n != nr {
			t.Fatalf("worst case for %d receivers has %d streams", nr, n)
		}
		docs := []struct {
			name string
			v    any
		}{
			{"execution input", w.ExecutionInput},
			{"state after Plan", w.StateAfterPlan},
			{"parse input", w.ParseInput},
			{"state after Parse", w.StateAfterParse},
			{"reserve input", w.ReserveInput},
			{"reserve output", w.ReserveOutput},
			{"send stream input", w.SendStreamInput},
			{"send input", w.SendInput},
			{"state after Send", w.StateAfterSend},
			{"summary", w.ReserveOutput.Summary},
		}
		for _, d := range docs {
			b, err := json.Marshal(d.v)
			if err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("%-26s", d.name)
			if len(b) > largest[key] {
				largest[key] = len(b)
			}
			if len(b) > PayloadBudget {
				t.Errorf("%d receivers × %d chunks: %s is %d bytes, budget %d (limit %d)",
					nr, ChunkLimit(nr), d.name, len(b), PayloadBudget, StateLimit)
			}
		}
	}
	for k, v := range largest {
		t.Logf("%s largest %7d bytes (%4.1f%% of 256 KiB)", k, v, 100*float64(v)/StateLimit)
	}
}
