// Package dedup protects against duplicate S3 events. S3 → EventBridge →
// Step Functions delivery is at least once (docs/aws-facts.md §3.2, §8.11),
// so the same object version can start two executions. The splitter (Plan)
// claims the object version before it plans: the first execution to claim
// it owns it, and any other execution ends early with "already processed
// by <owner>".
//
// # Item
//
// Claims live in the sequence table (shared/seq/dynamoseq: partition key
// "pk", String, no sort key), so no extra table is needed. One item per
// object version:
//
//	pk          S  "object|<bucket>|<key>|<version>" (see Key): version is
//	               "v=<version id>" in a versioned bucket, else the ETag
//	owner       S  the execution ARN that claimed it first
//	claimed_at  N  Unix seconds of the claim
//	expires_at  N  Unix seconds after which the claim no longer counts:
//	               the table's DynamoDB TTL attribute (TTLAttribute)
//
// Sequence items have pk "<protocol>|<address>|<identity>" with protocol
// netflow5, netflow9 or ipfix (receiver.Receiver.Exporter), never
// "object|", and carry no expires_at, so enabling TTL on expires_at never
// deletes them; dynamoseq reads its items by key only (no Scan or Query),
// so claims are invisible to it.
//
// # The claim
//
// One conditional PutItem:
//
//	ConditionExpression: attribute_not_exists(pk) OR expires_at < :now
//
// wins for the first execution. When the condition fails, a consistent
// GetItem reads the owner: the same execution ARN (a Lambda retry, or a
// Step Functions redrive, which keeps the ARN) is not a duplicate; another
// one is. DynamoDB's TTL deletes expired items only eventually (typically
// within days), hence the expires_at test in the condition: an expired claim
// is overwritten as if absent.
//
// Executions with reprocess: true are deliberate re-runs and skip the claim
// altogether (ShouldClaim, ClaimObject): they neither check nor record one.
//
// # Retention
//
// Options.TTL (DefaultTTL, 30 days) must outlast every way a duplicate can
// arrive: EventBridge retries for up to 24 hours, and an operator may
// re-drive the rule's dead-letter queue days later. An event for the same
// version after the TTL is processed again.
package dedup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
)

// Attribute names of a claim item.
const (
	attrPK      = "pk"
	attrOwner   = "owner"
	attrClaimed = "claimed_at"
	// TTLAttribute is the claim's expiry (Unix seconds, Number): configure
	// it as the table's DynamoDB TTL attribute.
	TTLAttribute = "expires_at"
)

// KeyPrefix starts the pk of every claim item.
const KeyPrefix = "object|"

// DefaultTTL is how long a claim counts unless Options say otherwise.
const DefaultTTL = 30 * 24 * time.Hour

// maxPK is DynamoDB's limit on a partition key value, in bytes.
const maxPK = 2048

// ErrInvalid marks a claim request that can never succeed (an empty
// bucket, key, version or execution id; a version containing "|").
var ErrInvalid = errors.New("invalid claim")

// API is the part of *dynamodb.Client the Store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Options configure a Store.
type Options struct {
	// TTL is how long a claim counts (0: DefaultTTL).
	TTL time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Store records claims in a DynamoDB table. It is safe for concurrent use.
type Store struct {
	db    API
	table string
	ttl   time.Duration
	now   func() time.Time
}

// New returns a store on table (the sequence table, FL2NF_SEQUENCE_TABLE).
func New(db API, table string, opts Options) (*Store, error) {
	if db == nil || table == "" {
		return nil, errors.New("dedup: a client and a table name are required")
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{db: db, table: table, ttl: opts.TTL, now: opts.Now}, nil
}

// Result is the outcome of a claim.
type Result struct {
	// First is true when this execution owns the object version: it made
	// the claim now, or made it earlier (Repeat), or skipped it (Bypassed).
	// False means a duplicate: another execution owns it.
	First bool
	// Owner is the execution ARN that owns the claim.
	Owner string
	// ClaimedAt is when Owner claimed (zero when Bypassed).
	ClaimedAt time.Time
	// Repeat is true when the claim already belonged to this execution (a
	// retry or redrive of the step).
	Repeat bool
	// Bypassed is true for a reprocess execution, which claims nothing.
	Bypassed bool
}

// Duplicate reports whether another execution owns the object version.
func (r Result) Duplicate() bool { return !r.First }

// Reason is the message a duplicate execution ends with: "already
// processed by <owner> (claimed <time>)"; "" when not a duplicate.
func (r Result) Reason() string {
	if r.First {
		return ""
	}
	return "already processed by " + r.Owner + " (claimed " + r.ClaimedAt.UTC().Format(time.RFC3339) + ")"
}

// Key is the claim item's pk: "object|<bucket>|<key>|<version>". Bucket
// names and versions (ETags, version ids) hold no "|", so the first and
// last "|" after the prefix delimit the key, which may hold anything. A key
// too long for DynamoDB's 2048-byte partition key is replaced by
// "sha256:<hex of the key>".
func Key(bucket, key, version string) (string, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{{"bucket", bucket}, {"key", key}, {"version", version}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("%w: empty %s", ErrInvalid, strings.Join(missing, ", "))
	}
	if strings.Contains(bucket, "|") || strings.Contains(version, "|") {
		return "", fmt.Errorf("%w: bucket %q or version %q contains |", ErrInvalid, bucket, version)
	}
	pk := KeyPrefix + bucket + "|" + key + "|" + version
	if len(pk) > maxPK {
		sum := sha256.Sum256([]byte(key))
		pk = KeyPrefix + bucket + "|sha256:" + hex.EncodeToString(sum[:]) + "|" + version
		if len(pk) > maxPK {
			return "", fmt.Errorf("%w: version of %d bytes is too long", ErrInvalid, len(version))
		}
	}
	return pk, nil
}

// Version is the version token of an object for Key: its version id when
// the bucket is versioned, else its ETag (the same for every execution of
// the object version, since each HEADs it).
func Version(o contract.ObjectRef) string {
	if o.VersionID != "" && o.VersionID != "null" {
		return "v=" + o.VersionID
	}
	return strings.Trim(o.ETag, `"`)
}

// ShouldClaim reports whether an execution with this input claims its
// object: every execution except a deliberate reprocess.
func ShouldClaim(in contract.ExecutionInput) bool { return !in.Reprocess }

// ClaimObject is the splitter's call: for a reprocess input it returns a
// bypassed Result without touching the table, else it claims obj (as
// HEADed by the splitter) for executionID.
func (s *Store) ClaimObject(ctx context.Context, in contract.ExecutionInput, obj contract.ObjectRef, executionID string) (Result, error) {
	if !ShouldClaim(in) {
		return Result{First: true, Owner: executionID, Bypassed: true}, nil
	}
	return s.Claim(ctx, obj.Bucket, obj.Key, Version(obj), executionID)
}

// Claim records that executionID (the execution ARN, $$.Execution.Id)
// processes the object version, unless another execution did first.
// Errors wrap ErrInvalid for bad arguments; any other error is a DynamoDB
// failure worth retrying (the handler returns sfnerr.Retryable).
func (s *Store) Claim(ctx context.Context, bucket, key, version, executionID string) (Result, error) {
	pk, err := Key(bucket, key, version)
	if err == nil && executionID == "" {
		err = fmt.Errorf("%w: empty execution id", ErrInvalid)
	}
	fail := func(err error) (Result, error) {
		return Result{}, fmt.Errorf("claim s3://%s/%s version %s in table %s: %w", bucket, key, version, s.table, err)
	}
	if err != nil {
		return fail(err)
	}
	for attempt := 0; attempt < 3; attempt++ {
		now := s.now()
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table),
			Item: map[string]types.AttributeValue{
				attrPK:       &types.AttributeValueMemberS{Value: pk},
				attrOwner:    &types.AttributeValueMemberS{Value: executionID},
				attrClaimed:  num(now.Unix()),
				TTLAttribute: num(now.Add(s.ttl).Unix()),
			},
			ConditionExpression:      aws.String("attribute_not_exists(#pk) OR #exp < :now"),
			ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#exp": TTLAttribute},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":now": num(now.Unix()),
			},
		})
		if err == nil {
			return Result{First: true, Owner: executionID, ClaimedAt: time.Unix(now.Unix(), 0).UTC()}, nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return fail(err)
		}
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(s.table),
			Key:            map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: pk}},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return fail(err)
		}
		if len(out.Item) == 0 {
			continue // deleted (TTL) between the put and the read: claim again
		}
		owner, claimed, err := decode(out.Item)
		if err != nil {
			return fail(err)
		}
		return Result{First: owner == executionID, Owner: owner, ClaimedAt: claimed, Repeat: owner == executionID}, nil
	}
	return fail(errors.New("claim item keeps disappearing"))
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func decode(item map[string]types.AttributeValue) (owner string, claimed time.Time, err error) {
	o, ok := item[attrOwner].(*types.AttributeValueMemberS)
	if !ok || o.Value == "" {
		return "", time.Time{}, fmt.Errorf("claim item without %s", attrOwner)
	}
	if c, ok := item[attrClaimed].(*types.AttributeValueMemberN); ok {
		if n, err := strconv.ParseInt(c.Value, 10, 64); err == nil {
			claimed = time.Unix(n, 0).UTC()
		}
	}
	return o.Value, claimed, nil
}
