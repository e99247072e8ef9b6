// Package flowlog parses Amazon VPC Flow Log text into flow.Record values.
//
// A flow-log object is a sequence of logical lines: newline-separated text
// (S3 delivery, usually starting with a header line of field names), or
// Firehose records {"message":"..."}, concatenated or newline-separated.
// LineReader yields the logical lines of an object with their 1-based line
// numbers; Parser turns each line into a record or a SkipReason.
//
// Parsing is driven by a Format, the ordered list of fields: taken from the
// object's header line, or configured (ParseFormat accepts AWS's
// "${version} ${account-id} ..." syntax, the string Terraform gives
// aws_flow_log.log_format) for objects without a header. Any custom format
// and order works; unknown fields are skipped.
//
// Every line is accounted for: Counts holds lines, records and skipped
// lines by reason, so that lines = records + skipped always holds.
//
// The hot path does not allocate: values are scanned in place, addresses
// are parsed without building strings, and repeated identifiers (interface,
// account, VPC, subnet and instance ids) are interned in a bounded table.
// It is also built for speed (see BenchmarkParseFlowgen): lines are split
// and numbers converted several bytes at a time with word operations, and
// small caches in front of the intern table and of address parsing make
// the values a log repeats cheap.
//
// The package imports only the standard library and shared/flow.
package flowlog
