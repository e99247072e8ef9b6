// Package flowgen writes deterministic synthetic VPC Flow Logs: realistic
// lines in any flowlog.Format (by default a custom version-5 format with
// packet addresses, direction and traffic path), with the totals a correct
// parser must find in them. The CLI's generate command, the demo,
// benchmarks and integration tests use it.
//
// The same Options (seed included) always produce the same bytes.
package flowgen
