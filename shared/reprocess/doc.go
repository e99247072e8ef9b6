// Package reprocess starts Step Functions executions that convert flow-log
// objects again: one named object, every object under a prefix, or every
// object of a time window in a flow log's date folders (the
// `flowlogs2netflow reprocess` command and scripts/reprocess.sh).
//
// # Selecting objects
//
// Lister selects objects. A window [From, To) expands to the UTC date (or
// hour) folders of the flow log's key layout (docs/aws-facts.md §2.1):
//
//	default      <prefix>AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/
//	hourly       ... /<yyyy>/<mm>/<dd>/<HH>/
//	hive         <prefix>AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=<yyyy>/month=<mm>/day=<dd>/
//	hive-hourly  ... /day=<dd>/hour=<HH>/
//
// and lists each folder with ListObjectsV2. A folder that lies wholly
// inside the window contributes every object with the suffix; a folder only
// partly inside (a window that starts or ends inside a day, or an hour) only
// the objects whose file-name timestamp _YYYYMMDDTHHmmZ_ (the start of the
// 5-minute period of record end times) is inside it. With no accounts or
// regions given, the account and region folders are found by listing.
//
// # Starting executions
//
// Starter starts one execution per object with the manual input
// {bucket, key, etag, size, source: "manual", reprocess: true}, paced by a
// token bucket. Each execution is named ReprocessName(requestID, object):
//
//	rp-<request id>-<readable key fragment>-<hash of bucket, key, ETag, version>
//
// valid for Step Functions (1-80 characters of [A-Za-z0-9._-]) for any key,
// unique per object version and per request. The request id defaults to the
// start time; giving the same one again makes a re-run idempotent: a name
// still running with identical input returns the running execution, and a
// name that exists otherwise fails with ExecutionAlreadyExists, which the
// Starter reports as Exists and skips (docs/aws-facts.md §4.3). Names are
// kept for the 90 days of execution history, so the same request id
// reprocesses an object again only after that.
//
// EventName builds the name an event-driven starter would give the
// execution of an S3 event (one name per object version).
package reprocess
