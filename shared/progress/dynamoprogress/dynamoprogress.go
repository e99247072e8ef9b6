// Package dynamoprogress is the DynamoDB progress.Store of the sender
// Lambda. Its items live in the sequence table (partition key "pk", TTL on
// "expires_at"), one per (execution, chunk, receiver), of constant size
// (about 150 bytes: 1 WCU per write, "One write unit represents one write
// operation per second for an item up to 1 KB in size", DynamoDB "read and
// write operations",
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):
//
//	pk          S  "send|" + 22 characters of base64url SHA-256 of the key
//	d u r b t   N  Sent: datagrams, units, records, bytes, templates
//	pd pu pr pb pt N  Prev, the checkpoint before
//	done        BOOL
//	expires_at  N  written + Retention (TTL; DynamoDB deletes it days later)
//
// Retention must outlast the 14 days in which a failed execution can be
// redriven ("redrivable period of 14 days", Step Functions "Restarting
// state machine executions with redrive",
// https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html),
// so the default is 30 days. A record read after expires_at is ignored
// (TTL deletes "within a few days" and expired items still show up in
// reads, DynamoDB "Time to Live",
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html).
package dynamoprogress

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/progress"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/send"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// DefaultRetention is how long a record is kept.
const DefaultRetention = 30 * 24 * time.Hour

// Store is a progress.Store on a DynamoDB table.
type Store struct {
	DB        API
	Table     string
	Retention time.Duration    // 0: DefaultRetention
	Now       func() time.Time // nil: time.Now
}

var _ progress.Store = (*Store)(nil)

// ItemKey is the partition key of k's record.
func ItemKey(k progress.Key) string {
	sum := sha256.Sum256([]byte(k.Execution + "\x00" + strconv.Itoa(k.Chunk) + "\x00" + k.Receiver))
	return "send|" + base64.RawURLEncoding.EncodeToString(sum[:16])
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Get implements progress.Store with a strongly consistent read (1 RCU).
func (s *Store) Get(ctx context.Context, k progress.Key) (progress.Record, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: ItemKey(k)}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return progress.Record{}, fmt.Errorf("read send progress of %s: %w", k, err)
	}
	if len(out.Item) == 0 {
		return progress.Record{}, nil
	}
	if exp, ok := num(out.Item, "expires_at"); ok && int64(exp) < s.now().Unix() {
		return progress.Record{}, nil
	}
	var r progress.Record
	r.Sent = result(out.Item, "")
	r.Prev = result(out.Item, "p")
	if b, ok := out.Item["done"].(*types.AttributeValueMemberBOOL); ok {
		r.Done = b.Value
	}
	return r, nil
}

// Put implements progress.Store: a PutItem on condition that the record
// is absent, not done, or expired.
func (s *Store) Put(ctx context.Context, k progress.Key, r progress.Record) error {
	retention := s.Retention
	if retention <= 0 {
		retention = DefaultRetention
	}
	now := s.now()
	item := map[string]types.AttributeValue{
		"pk":         &types.AttributeValueMemberS{Value: ItemKey(k)},
		"done":       &types.AttributeValueMemberBOOL{Value: r.Done},
		"expires_at": n(uint64(now.Add(retention).Unix())),
	}
	put(item, "", r.Sent)
	put(item, "p", r.Prev)
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.Table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk) OR done = :f OR expires_at < :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":f":   &types.AttributeValueMemberBOOL{Value: false},
			":now": n(uint64(now.Unix())),
		},
	})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return fmt.Errorf("record send progress of %s: %w", k, progress.ErrDone)
	}
	if err != nil {
		return fmt.Errorf("record send progress of %s: %w", k, err)
	}
	return nil
}

func n(v uint64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatUint(v, 10)}
}

func put(item map[string]types.AttributeValue, p string, r send.Result) {
	item[p+"d"], item[p+"u"], item[p+"r"], item[p+"b"], item[p+"t"] = n(r.Datagrams), n(r.Units), n(r.Records), n(r.Bytes), n(r.Templates)
}

func num(item map[string]types.AttributeValue, name string) (uint64, bool) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	u, err := strconv.ParseUint(v.Value, 10, 64)
	return u, err == nil
}

func result(item map[string]types.AttributeValue, p string) send.Result {
	var r send.Result
	r.Datagrams, _ = num(item, p+"d")
	r.Units, _ = num(item, p+"u")
	r.Records, _ = num(item, p+"r")
	r.Bytes, _ = num(item, p+"b")
	r.Templates, _ = num(item, p+"t")
	return r
}
