// Package contract defines the JSON documents that flow between the steps of
// the flowlogs2netflow state machine (statemachine/flowlogs2netflow.asl.json):
// the execution input, each Lambda's input and output, and the state document
// between steps. The JSON field names are part of the state machine's
// contract: the ASL's JSONPaths, ItemSelectors and Parameters name them, and
// tests in this package and in statemachine keep the three in step.
//
// The workflow and where each document appears:
//
//	ExecutionInput                    execution input (EventBridge rule or manual)
//	 Plan    (Task, splitter)  PlanInput → PlanOutput        state: StateAfterPlan   ($.plan)
//	 (a duplicate plan ends here: output DuplicateOutput)
//	 Parse   (Map, parser)     ParseInput → ParseOutput      state: StateAfterParse  ($.parsed)
//	 Reserve (Task, allocator) ReserveInput → ReserveOutput  state: ReserveOutput    ($, replaced)
//	 Send    (Map over ReserveOutput.Streams: receivers in parallel)
//	                           iteration input: SendStreamInput
//	  SendStream (Map over its items, MaxConcurrency 1: one chunk at a time, in order)
//	   SendChunk (Task, sender) SendInput → SendOutput       state: StateAfterSend   ($.sent)
//	 Summary (Pass)            output: Summary
//
// # Sequence order
//
// Reserve takes one range of sequence numbers per receiver for the whole
// object and splits it into per-chunk ranges in chunk order. A collector
// sees gap-free ascending sequence numbers only if each receiver's chunks
// are sent one after another in that order, so ReserveOutput groups the
// items per receiver (SendStream): Send runs the streams in parallel and
// each stream strictly in order.
//
// # Payload bound
//
// Step Functions limits every state input and output to 256 KiB. The largest
// documents are the Parse results (one per chunk, one entry per receiver in
// each) and the send streams (one item per chunk × receiver in all). So a
// plan holds at most MaxChunks chunks, a deployment at most MaxReceivers
// receivers, and chunks × receivers at most MaxSendItems: ChunkLimit gives
// the chunk cap for a receiver count, and the splitter must raise its chunk
// size until the object fits in it. Per-item documents (ChunkRef,
// ReceiverOutput, SendItem, SendOutput) use short JSON names, documented on
// their fields. Staging keys and receiver URLs are not repeated per item:
// the per-execution StagingPrefix and the receiver list travel once in the
// state, and StagingKey derives each key. TestPayloadBound marshals the
// worst case (maximum-length keys, ARNs and URLs, maximum counters) for
// every receiver count and holds every state under PayloadBudget. (A Catch
// replaces the state with the error instead of adding it, so an error never
// adds its 32 KiB Cause to the largest state.) The same bound keeps an
// execution far below the 25,000-event history limit: about 7 events per
// Map iteration running a Task, and about 6 more per stream for its inner
// Map: 7 × (MaxChunks + MaxSendItems) + 6 × MaxReceivers < 9,100.
package contract

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Bounds on the documents; see the package comment.
const (
	// MaxChunks is the most chunks one plan may hold.
	MaxChunks = 256
	// MaxReceivers is the most receivers (collectors) one deployment may have.
	MaxReceivers = 8
	// MaxSendItems bounds chunks × receivers, i.e. the items of all send
	// streams (SendChunk iterations) and the entries of the Parse results.
	MaxSendItems = 1024
	// MaxReceiverURL is the longest receiver URL accepted.
	MaxReceiverURL = 200
	// MaxStagingPrefix is the longest per-execution staging prefix: the
	// configured prefix (at most 64 bytes) plus an execution name (at most
	// 80 bytes) plus "/".
	MaxStagingPrefix = 64 + 80 + 1
	// StateLimit is Step Functions' limit on a state's input or output.
	StateLimit = 256 * 1024
	// PayloadBudget is what the worst-case state may use: 3/4 of StateLimit,
	// leaving room for a caught error (Cause is at most 32 KiB).
	PayloadBudget = StateLimit * 3 / 4
)

// ChunkLimit returns the most chunks a plan may have when it serves
// receivers receivers: min(MaxChunks, MaxSendItems/receivers).
func ChunkLimit(receivers int) int {
	if receivers < 1 {
		receivers = 1
	}
	return min(MaxChunks, MaxSendItems/receivers)
}

// Execution input sources.
const (
	SourceEventBridge = "eventbridge"
	SourceManual      = "manual"
)

// ExecutionInput starts an execution. It has two shapes:
//
//   - From the EventBridge rule's input transformer (terraform/eventbridge.tf):
//     {"bucket","key","key_encoded":true,"size","etag","sequencer",
//     "event_time","source":"eventbridge"} plus "version_id" when the
//     module is told the bucket is versioned (a path missing from the event
//     would make EventBridge drop the target input).
//   - Manual (reprocessing, tests): {"bucket","key"}, optionally
//     "version_id" and "reprocess": true.
//
// Keys in S3 event notifications are URL-encoded (space as '+', other
// reserved bytes as %XX). Whether the EventBridge "Object Created" event does
// the same is not documented (docs/aws-facts.md §3.2), so the rule marks its
// keys key_encoded and the splitter tries KeyCandidates in order until HEAD
// finds the object. Flow-log keys contain neither '+' nor '%', so for them
// both candidates are the same key.
type ExecutionInput struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// KeyEncoded says Key may be URL-encoded (true for EventBridge input).
	KeyEncoded bool `json:"key_encoded,omitempty"`
	// Size is the object size in bytes from the event (0 when unknown).
	Size int64 `json:"size,omitempty"`
	// ETag is the object's ETag without quotes, from the event.
	ETag string `json:"etag,omitempty"`
	// VersionID pins a version of an object in a versioned bucket.
	VersionID string `json:"version_id,omitempty"`
	// Sequencer orders events for the same key (hex, from the event).
	Sequencer string `json:"sequencer,omitempty"`
	// EventTime is the event's RFC 3339 time.
	EventTime string `json:"event_time,omitempty"`
	// Source is SourceEventBridge, SourceManual or empty (manual).
	Source string `json:"source,omitempty"`
	// Reprocess marks a deliberate re-run of an object already processed:
	// it gets new sequence numbers (a new execution always does) and
	// skips any already-processed guard the splitter applies.
	Reprocess bool `json:"reprocess,omitempty"`
}

// Validate reports what is wrong with the input, all problems at once.
func (in ExecutionInput) Validate() error {
	var errs []error
	if in.Bucket == "" {
		errs = append(errs, errors.New("bucket is empty"))
	}
	if in.Key == "" {
		errs = append(errs, errors.New("key is empty"))
	}
	if len(in.Key) > 3*1024 { // 1,024 bytes, each at most %XX when encoded
		errs = append(errs, fmt.Errorf("key is %d bytes long", len(in.Key)))
	}
	if in.Size < 0 {
		errs = append(errs, fmt.Errorf("size %d is negative", in.Size))
	}
	switch in.Source {
	case "", SourceEventBridge, SourceManual:
	default:
		errs = append(errs, fmt.Errorf("unknown source %q", in.Source))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("execution input: %w", err)
	}
	return nil
}

// DecodedKey returns Key URL-decoded when KeyEncoded is set (as
// url.QueryUnescape does: '+' becomes a space, %XX a byte), else Key.
func (in ExecutionInput) DecodedKey() (string, error) {
	if !in.KeyEncoded {
		return in.Key, nil
	}
	k, err := url.QueryUnescape(in.Key)
	if err != nil {
		return "", fmt.Errorf("decode key %q: %w", in.Key, err)
	}
	return k, nil
}

// KeyCandidates lists the object keys to try, most likely first: for an
// encoded key the decoded key and then the key as given (when they differ
// and the key decodes at all); otherwise just the key.
func (in ExecutionInput) KeyCandidates() []string {
	k, err := in.DecodedKey()
	if err != nil || k == in.Key {
		return []string{in.Key}
	}
	return []string{k, in.Key}
}

// PlanInput is the splitter's input: the execution input plus the
// execution's identity (Parameters of the Plan state).
type PlanInput struct {
	// ExecutionID is the execution ARN ($$.Execution.Id).
	ExecutionID string `json:"execution_id"`
	// ExecutionName is the execution name ($$.Execution.Name); staging keys
	// of this execution live under <FL2NF_STAGING_PREFIX><name>/.
	ExecutionName string         `json:"execution_name"`
	Input         ExecutionInput `json:"input"`
}

// ObjectRef names exactly one object version. Key is the real (decoded) key.
type ObjectRef struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// ETag from HEAD, without quotes; every ranged GET sends If-Match.
	ETag string `json:"etag"`
	// VersionID is empty for an unversioned bucket.
	VersionID string `json:"version_id"`
	Size      int64  `json:"size"`
}

// URI returns s3://bucket/key.
func (o ObjectRef) URI() string { return "s3://" + o.Bucket + "/" + o.Key }

// Compression of the source object.
const (
	CompressionNone = "none"
	CompressionGzip = "gzip"
)

// Where the field list came from.
const (
	FieldsFromHeader = "header" // the object's first line
	FieldsFromConfig = "config" // FL2NF_FORMAT (objects without a header)
	FieldsFromSchema = "schema" // a Parquet object's column names
)

// Line framing of the object.
const (
	FramingLines = "lines" // one record per line (S3 delivery)
	FramingJSON  = "json"  // {"message":"..."} objects (Firehose), maybe unseparated
	// FramingCloudWatch: CloudWatch Logs subscription payloads (through
	// Firehose), {"messageType":...,"logEvents":[{"message":...}]}.
	FramingCloudWatch = "cloudwatch"
	// FramingParquet: Apache Parquet (shared/parquetlog), one row a
	// record, chunks of row groups.
	FramingParquet = "parquet"
)

// Format says how to read the object's records.
type Format struct {
	// Fields are the field names in order, space-separated, as in the
	// header line ("version account-id interface-id ...").
	Fields string `json:"fields"`
	// Source is FieldsFromHeader, FieldsFromConfig or FieldsFromSchema.
	Source string `json:"source"`
	// Framing is FramingLines, FramingJSON, FramingCloudWatch or
	// FramingParquet.
	Framing string `json:"framing"`
	// Compression is CompressionNone or CompressionGzip.
	Compression string `json:"compression"`
}

// Receiver is one collector. The splitter builds the list from
// FL2NF_RECEIVERS; the plan's list is authoritative for the whole execution
// (a redeploy during an execution cannot change it).
type Receiver struct {
	// ID is short and stable within the plan ("r0".."r7": the position
	// in FL2NF_RECEIVERS); it names the receiver in every per-item
	// document and is the "Receiver" dimension of the EMF metrics.
	ID string `json:"id"`
	// URL is netflow5://host:port?..., netflow9://... or ipfix://...
	URL string `json:"url"`
}

// ReceiverID returns the ID of the receiver at position i.
func ReceiverID(i int) string { return fmt.Sprintf("r%d", i) }

var receiverIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,15}$`)

// Protocol returns the URL scheme: "netflow5", "netflow9" or "ipfix" (or
// whatever the URL says; Validate rejects others).
func (r Receiver) Protocol() string {
	s, _, ok := strings.Cut(r.URL, "://")
	if !ok {
		return ""
	}
	return strings.ToLower(s)
}

// Validate checks the ID and the URL's shape (not its parameters).
func (r Receiver) Validate() error {
	if !receiverIDRe.MatchString(r.ID) {
		return fmt.Errorf("receiver id %q: want 1-16 of [a-z0-9-]", r.ID)
	}
	if len(r.URL) > MaxReceiverURL {
		return fmt.Errorf("receiver %s: url is %d bytes, limit %d", r.ID, len(r.URL), MaxReceiverURL)
	}
	switch p := r.Protocol(); p {
	case "netflow5", "netflow9", "ipfix":
	default:
		return fmt.Errorf("receiver %s: unknown protocol %q in %q", r.ID, p, r.URL)
	}
	return nil
}

// Chunk kinds.
const (
	// ChunkWhole is a small object read in one GET, no index.
	ChunkWhole = "whole"
	// ChunkRange is a byte range of an uncompressed object.
	ChunkRange = "range"
	// ChunkIndexed is a range of a gzip object entered at a checkpoint of
	// the index stored at PlanOutput.IndexKey.
	ChunkIndexed = "indexed"
	// ChunkRowGroups is a run of row groups of a Parquet object: UStart
	// and UEnd are row-group indexes [UStart, UEnd), Start and End the
	// bytes they read, LineBase the rows before them.
	ChunkRowGroups = "rowgroups"
)

// ChunkRef is one Parse work item. It stays small: the checkpoint window
// lives in the index object, not here. JSON names are short (i, k, s, e,
// us, ue, cp, lb): there are up to MaxChunks of them in the state.
//
// The splitter fills it from a shared/chunk plan item, and the parser turns
// it back into one: chunk.Item{N: Index, Kind: gzip or text (from
// Format.Compression), Start: UStart, End: UEnd, From: Start, To: End,
// Whole: Kind == ChunkWhole && gzip, CP: Checkpoint, Bit and Out: the
// index's checkpoint CP (the parser loads the index anyway), Lines:
// LineBase}.
type ChunkRef struct {
	// Index is the chunk's position, 0-based, equal to its position in
	// PlanOutput.Chunks.
	Index int `json:"i"`
	// Kind is ChunkWhole, ChunkRange, ChunkIndexed or ChunkRowGroups.
	Kind string `json:"k"`
	// Start and End are the compressed (object) byte range to GET:
	// Start inclusive, End exclusive. The parser may read past End (a
	// further GET) to finish its last line.
	Start int64 `json:"s"`
	End   int64 `json:"e"`
	// UStart and UEnd are the uncompressed range the chunk owns: it
	// parses every line that starts in [UStart, UEnd). UEnd -1: to the end
	// of the object (a small gzip object, whose size is not known).
	UStart int64 `json:"us"`
	UEnd   int64 `json:"ue"`
	// Checkpoint is the index checkpoint to enter at, -1 if none.
	Checkpoint int `json:"cp"`
	// LineBase is the number of lines before UStart when the splitter knows
	// it (-1 if not), so malformed lines are reported by file line number.
	LineBase int64 `json:"lb"`
}

// HTTPRange returns the S3 Range header for [Start, End).
func (c ChunkRef) HTTPRange() string { return fmt.Sprintf("bytes=%d-%d", c.Start, c.End-1) }

// PlanOutput is the splitter's output, kept at $.plan.
//
// A duplicate execution (another execution already claimed the object
// version, shared/dedup) returns only Object and Duplicate; the state
// machine then ends successfully with a DuplicateOutput, without Parse.
type PlanOutput struct {
	Object ObjectRef `json:"object"`
	// Duplicate is empty, or why the execution ends early ("already
	// processed by <execution ARN> (claimed <time>)", dedup.Result.Reason).
	Duplicate string `json:"duplicate"`
	Format    Format `json:"format"`
	// IndexKey is the staging key of the gzip checkpoint index, "" when
	// the plan has no ChunkIndexed chunk.
	IndexKey string `json:"index_key"`
	// StagingPrefix is this execution's staging key prefix,
	// <FL2NF_STAGING_PREFIX><execution name>/ (see StagingKey).
	StagingPrefix string     `json:"staging_prefix"`
	Receivers     []Receiver `json:"receivers"`
	Chunks        []ChunkRef `json:"chunks"`
}

// Validate checks the plan's bounds and shape, all problems at once.
func (p PlanOutput) Validate() error {
	var errs []error
	if p.Object.Bucket == "" || p.Object.Key == "" {
		errs = append(errs, errors.New("object bucket or key is empty"))
	}
	if p.Duplicate != "" {
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("plan for %s: %w", p.Object.URI(), err)
		}
		return nil
	}
	if len(p.StagingPrefix) > MaxStagingPrefix {
		errs = append(errs, fmt.Errorf("staging prefix is %d bytes, limit %d", len(p.StagingPrefix), MaxStagingPrefix))
	}
	if p.StagingPrefix != "" && !strings.HasSuffix(p.StagingPrefix, "/") {
		errs = append(errs, fmt.Errorf("staging prefix %q does not end in /", p.StagingPrefix))
	}
	errs = append(errs, validateReceivers(p.Receivers)...)
	if n, limit := len(p.Chunks), ChunkLimit(len(p.Receivers)); n == 0 || n > limit {
		errs = append(errs, fmt.Errorf("%d chunks for %d receivers, want 1..%d", n, len(p.Receivers), limit))
	}
	indexed := false
	for i, c := range p.Chunks {
		if c.Index != i {
			errs = append(errs, fmt.Errorf("chunk %d has index %d", i, c.Index))
		}
		if c.End < c.Start || (c.UEnd < c.UStart && c.UEnd != -1) {
			errs = append(errs, fmt.Errorf("chunk %d: inverted range", i))
		}
		indexed = indexed || c.Kind == ChunkIndexed
		if (c.Kind == ChunkRowGroups) != (p.Format.Framing == FramingParquet) {
			errs = append(errs, fmt.Errorf("chunk %d: kind %q with framing %q (row groups go with Parquet, only)", i, c.Kind, p.Format.Framing))
		}
	}
	if indexed && p.IndexKey == "" {
		errs = append(errs, errors.New("indexed chunks but no index key"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("plan for %s: %w", p.Object.URI(), err)
	}
	return nil
}

func validateReceivers(rs []Receiver) []error {
	var errs []error
	if len(rs) == 0 || len(rs) > MaxReceivers {
		errs = append(errs, fmt.Errorf("%d receivers, want 1..%d", len(rs), MaxReceivers))
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[r.ID] {
			errs = append(errs, fmt.Errorf("duplicate receiver id %q", r.ID))
		}
		seen[r.ID] = true
	}
	return errs
}

// StagingKey is the key of the staging object holding the frames of chunk
// chunk for receiver receiver: <prefix>c<chunk, 5 digits>/<receiver>.frames.
// Parser (writer) and sender (reader, deleter) both derive it; no document
// carries it, which keeps the per-item documents small.
func StagingKey(prefix string, chunk int, receiver string) string {
	return fmt.Sprintf("%sc%05d/%s.frames", prefix, chunk, receiver)
}

// IndexKey is the staging key of the checkpoint index: <prefix>index.
func IndexKey(prefix string) string { return prefix + "index" }

// ExecutionStagingPrefix returns <configured><execution name>/, the
// per-execution staging prefix the splitter puts in the plan.
func ExecutionStagingPrefix(configured, executionName string) string {
	return configured + executionName + "/"
}
