package contract

import "fmt"

// SampleSet is one consistent execution, document by document: a 3-chunk
// gzip object sent to two receivers. The golden files in testdata/ are its
// JSON; statemachine tests run the ASL's paths against it; handler tests may
// use it as a fixture.
type SampleSet struct {
	ExecutionInput      ExecutionInput
	ManualInput         ExecutionInput
	PlanInput           PlanInput
	PlanOutput          PlanOutput
	SmallPlanOutput     PlanOutput // uncompressed, one chunk, no index, unversioned
	DuplicatePlanOutput PlanOutput // the object version is already claimed
	ParquetPlanOutput   PlanOutput // a Parquet object, chunks of row groups
	ParseInput          ParseInput // chunk 1
	ParseOutputs        []ParseOutput
	ReserveInput        ReserveInput
	ReserveOutput       ReserveOutput
	SendStreamInput     SendStreamInput // Streams[1] (receiver r1)
	SendInput           SendInput       // Streams[1].Items[0]: chunk 0 for r1
	SendOutputs         [][]SendOutput  // per stream
	StateAfterPlan      StateAfterPlan
	StateAfterParse     StateAfterParse
	StateAfterSend      StateAfterSend
	ExecutionID         string
	ExecutionName       string
	SampleCounterStarts map[string]uint64 // first counter value per receiver
}

// Samples returns the sample execution. Each call builds fresh values.
func Samples() SampleSet {
	const (
		bucket = "example-flow-logs"
		key    = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/27/123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261127T1005Z_0a1b2c3d.log.gz"
		name   = "3f1c2b9e-5d7a-4c1e-9b8f-2a6d4e0c7b11"
	)
	var s SampleSet
	s.ExecutionName = name
	s.ExecutionID = "arn:aws:states:us-east-1:123456789012:execution:flowlogs2netflow:" + name
	s.SampleCounterStarts = map[string]uint64{"r0": 1000, "r1": 4294967290}
	s.ExecutionInput = ExecutionInput{
		Bucket: bucket, Key: key, KeyEncoded: true, Size: 1234567,
		ETag: "9b2cf535f27731c974343645a3985328", Sequencer: "0066A1B2C3D4E5F601",
		EventTime: "2026-11-27T10:10:12Z", Source: SourceEventBridge,
	}
	s.ManualInput = ExecutionInput{Bucket: bucket, Key: key, Reprocess: true}
	s.PlanInput = PlanInput{ExecutionID: s.ExecutionID, ExecutionName: name, Input: s.ExecutionInput}
	receivers := []Receiver{
		{ID: "r0", URL: "netflow9://10.0.1.10:2055?source-id=7"},
		{ID: "r1", URL: "netflow5://10.0.1.11:9995?engine-type=1&engine-id=2&pps=5000"},
	}
	prefix := ExecutionStagingPrefix("flowlogs2netflow/", name)
	obj := ObjectRef{Bucket: bucket, Key: key, ETag: s.ExecutionInput.ETag, Size: 1234567}
	s.PlanOutput = PlanOutput{
		Object: obj,
		Format: Format{
			Fields:      "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
			Source:      FieldsFromHeader,
			Framing:     FramingLines,
			Compression: CompressionGzip,
		},
		IndexKey:      IndexKey(prefix),
		StagingPrefix: prefix,
		Receivers:     receivers,
		Chunks: []ChunkRef{
			{Index: 0, Kind: ChunkIndexed, Start: 0, End: 411000, UStart: 133, UEnd: 4194304, Checkpoint: 0, LineBase: 1},
			{Index: 1, Kind: ChunkIndexed, Start: 410870, End: 822500, UStart: 4194304, UEnd: 8388608, Checkpoint: 1, LineBase: -1},
			{Index: 2, Kind: ChunkIndexed, Start: 822301, End: 1234567, UStart: 8388608, UEnd: 12501234, Checkpoint: 2, LineBase: -1},
		},
	}
	s.SmallPlanOutput = PlanOutput{
		Object: ObjectRef{Bucket: bucket, Key: "AWSLogs/small.log", ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 4096},
		Format: Format{
			Fields: "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
			Source: FieldsFromConfig, Framing: FramingJSON, Compression: CompressionNone,
		},
		IndexKey:      "",
		StagingPrefix: prefix,
		Receivers:     receivers[:1],
		Chunks:        []ChunkRef{{Index: 0, Kind: ChunkWhole, Start: 0, End: 4096, UStart: 0, UEnd: 4096, Checkpoint: -1, LineBase: 0}},
	}
	pq := ObjectRef{Bucket: bucket, Key: "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/27/123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261127T1005Z_0a1b2c3d.log.parquet", ETag: "5d41402abc4b2a76b9719d911017c592", Size: 2621440}
	s.ParquetPlanOutput = PlanOutput{
		Object: pq,
		Format: Format{
			Fields: "version account_id interface_id srcaddr dstaddr srcport dstport protocol packets bytes start end action log_status",
			Source: FieldsFromSchema, Framing: FramingParquet, Compression: CompressionNone,
		},
		StagingPrefix: prefix,
		Receivers:     receivers[:1],
		Chunks: []ChunkRef{
			{Index: 0, Kind: ChunkRowGroups, Start: 4, End: 1310000, UStart: 0, UEnd: 2, Checkpoint: -1, LineBase: 0},
			{Index: 1, Kind: ChunkRowGroups, Start: 1310000, End: 2620000, UStart: 2, UEnd: 4, Checkpoint: -1, LineBase: 200000},
		},
	}
	s.DuplicatePlanOutput = PlanOutput{
		Object:    obj,
		Duplicate: "already processed by arn:aws:states:us-east-1:123456789012:execution:flowlogs2netflow:0c9d6e2a-1f4b-4a8e-8d3c-5b7e9f1a2c3d (claimed 2026-11-27T10:10:13Z)",
	}
	s.ParseInput = ParseInput{
		ExecutionName: name, Object: obj, Format: s.PlanOutput.Format, IndexKey: s.PlanOutput.IndexKey,
		StagingPrefix: prefix, Receivers: receivers, Chunk: s.PlanOutput.Chunks[1],
	}
	s.ParseOutputs = []ParseOutput{
		{Chunk: 0, Counts: Counts{Lines: 30001, Records: 29990, Skipped: map[string]int64{SkipHeader: 1, SkipNoData: 10}},
			Out: []ReceiverOutput{
				{Receiver: "r0", Frames: 1154, Units: 1154, Records: 29990, Flows: 29990, Bytes: 1661760},
				{Receiver: "r1", Frames: 1000, Units: 29980, Records: 29980, Flows: 29978, Bytes: 1463040, Unsupported: 12},
			}},
		{Chunk: 1, Counts: Counts{Lines: 30000, Records: 29999, Skipped: map[string]int64{SkipMalformed: 1}}, FirstMalformed: -17,
			Out: []ReceiverOutput{
				{Receiver: "r0", Frames: 1154, Units: 1154, Records: 29999, Flows: 29999, Bytes: 1662012},
				{Receiver: "r1", Frames: 1000, Units: 29999, Records: 29999, Flows: 29999, Bytes: 1463952},
			}},
		{Chunk: 2, Counts: Counts{Lines: 4, Records: 0, Skipped: map[string]int64{SkipSkipData: 4}},
			Out: []ReceiverOutput{{Receiver: "r0"}, {Receiver: "r1"}}},
	}
	s.ReserveInput = ReserveInput{
		ExecutionID: s.ExecutionID, Object: obj, StagingPrefix: prefix, Receivers: receivers, Parsed: s.ParseOutputs,
	}
	out, err := Allocate(s.ReserveInput, func(r Receiver, n uint64) (uint64, error) {
		return s.SampleCounterStarts[r.ID], nil
	})
	if err != nil {
		panic(fmt.Sprintf("contract: sample allocation: %v", err))
	}
	s.ReserveOutput = out
	s.SendStreamInput = SendStreamInput{
		ExecutionID: s.ExecutionID, Object: obj, StagingPrefix: prefix, Receivers: receivers, Items: out.Streams[1].Items,
	}
	s.SendInput = SendInput{
		ExecutionID: s.ExecutionID, Object: obj, StagingPrefix: prefix, Receivers: receivers, SendItem: out.Streams[1].Items[0],
	}
	for _, st := range out.Streams {
		var sent []SendOutput
		for _, it := range st.Items {
			sent = append(sent, SendOutput{
				Chunk: it.Chunk, Receiver: it.Receiver, Datagrams: it.Frames + 2, Bytes: it.Frames * 1400, DurationMS: 250,
			})
		}
		s.SendOutputs = append(s.SendOutputs, sent)
	}
	s.StateAfterPlan = StateAfterPlan{ExecutionInput: s.ExecutionInput, Plan: s.PlanOutput}
	s.StateAfterParse = StateAfterParse{StateAfterPlan: s.StateAfterPlan, Parsed: s.ParseOutputs}
	s.StateAfterSend = StateAfterSend{ReserveOutput: s.ReserveOutput, Sent: s.SendOutputs}
	return s
}
