package emf

// Dimension names of flowlogs2netflow's metrics.
const (
	// DimFunction is the Lambda that emits: "splitter", "parser",
	// "allocator", "sender" (the CLI emits none). Every metric has it.
	DimFunction = "Function"
	// DimReceiver is the receiver's plan ID ("r0".."r7", the position in
	// FL2NF_RECEIVERS; contract.Receiver.ID).
	DimReceiver = "Receiver"
	// DimReason is why a line was skipped: a key of the summary's
	// counts.skipped, contract.SkipReasons ("header", "nodata",
	// "skipdata", "malformed", "ipv6", "filtered").
	DimReason = "Reason"
	// DimStep is the state machine step: "Plan", "Parse", "Reserve",
	// "Send".
	DimStep = "Step"
)

// Metric names.
const (
	// MetricExecutions counts executions that passed the duplicate check
	// in Plan (reprocess executions included). Count; Function.
	MetricExecutions = "Executions"
	// MetricDuplicates counts executions that ended early because another
	// execution had claimed the object version. Count; Function.
	MetricDuplicates = "Duplicates"
	// MetricLines counts lines read (header and skipped lines included).
	// Count; Function.
	MetricLines = "Lines"
	// MetricRecords counts flow records exported to a receiver. Count;
	// Function, Receiver.
	MetricRecords = "Records"
	// MetricSkippedLines counts lines not exported, by reason. Count;
	// Function, Reason.
	MetricSkippedLines = "SkippedLines"
	// MetricDatagrams counts datagrams encoded (parser) or sent (sender)
	// for a receiver. Count; Function, Receiver.
	MetricDatagrams = "Datagrams"
	// MetricBytes counts datagram payload bytes, as Datagrams. Bytes;
	// Function, Receiver.
	MetricBytes = "Bytes"
	// MetricDurationMs is the wall time of one step invocation.
	// Milliseconds; Function, Step.
	MetricDurationMs = "DurationMs"
	// MetricSequenceSkipped counts sequence numbers given up for a
	// receiver: ranges of stopped executions that the exporter's later
	// sends went past (the collector counts them lost). Count; Function,
	// Receiver.
	MetricSequenceSkipped = "SequenceSkipped"
	// MetricLateSends counts chunks sent after their exporter had already
	// gone past their numbers (out of order at the collector). Count;
	// Function, Receiver.
	MetricLateSends = "LateSends"
)

// Definition documents one metric: its unit, the dimension set it is
// published under (always led by Function) and who emits it.
type Definition struct {
	Name       string
	Unit       Unit
	Dimensions []string
	Emitters   []string
	Meaning    string
}

// Catalog lists every metric the Lambdas emit, in namespace Namespace.
// Statistic to use: Sum for counts, Average/p99/Maximum for DurationMs.
var Catalog = []Definition{
	{MetricExecutions, Count, []string{DimFunction}, []string{"splitter"},
		"executions that passed the duplicate check (reprocess executions included)"},
	{MetricDuplicates, Count, []string{DimFunction}, []string{"splitter"},
		"executions that ended early: the object version was already claimed by another execution"},
	{MetricLines, Count, []string{DimFunction}, []string{"parser"},
		"lines read, header and skipped lines included (lines = records exported + skipped)"},
	{MetricRecords, Count, []string{DimFunction, DimReceiver}, []string{"parser"},
		"flow records exported to the receiver"},
	{MetricSkippedLines, Count, []string{DimFunction, DimReason}, []string{"parser"},
		"lines not exported, by reason"},
	{MetricDatagrams, Count, []string{DimFunction, DimReceiver}, []string{"parser", "sender"},
		"datagrams encoded (parser) or sent (sender)"},
	{MetricBytes, Bytes, []string{DimFunction, DimReceiver}, []string{"parser", "sender"},
		"datagram payload bytes encoded (parser) or sent (sender)"},
	{MetricDurationMs, Milliseconds, []string{DimFunction, DimStep}, []string{"splitter", "parser", "allocator", "sender"},
		"wall time of one invocation of the step"},
	{MetricSequenceSkipped, Count, []string{DimFunction, DimReceiver}, []string{"sender"},
		"sequence numbers given up: ranges of stopped executions, left unsent for the stall time (the collector counts them lost)"},
	{MetricLateSends, Count, []string{DimFunction, DimReceiver}, []string{"sender"},
		"chunks sent after their exporter had gone past their numbers (a late redrive: out of order at the collector)"},
}
