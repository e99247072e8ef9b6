package dynamoseq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
)

// The send order (seq.Order) lives in the counter item, beside ctr:
//
//	sent     N  the first counter value not yet sent: every range below it
//	            was sent (or given up)
//	sent_at  N  when sent last moved (Unix seconds)
//	skipped  N  values given up so far (ranges whose sends never came)
//
// Two more numbers: the item stays one write unit. A Turn is one strongly
// consistent GetItem (1 RCU); Sent is one conditional UpdateItem (1 WCU)
// per chunk sent. Concurrent executions then send one exporter's ranges in
// the order Reserve handed them out: the collectors see every number once,
// ascending.
const (
	attrSent    = "sent"
	attrSentAt  = "sent_at"
	attrSkipped = "skipped"
)

var _ seq.Order = (*Store)(nil)

// Turn implements seq.Order.
func (s *Store) Turn(ctx context.Context, exporter string, first uint64, stall time.Duration) (seq.Turn, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(s.table),
		Key:                  s.key(exporter),
		ConsistentRead:       aws.Bool(true),
		ProjectionExpression: aws.String("pk, sent, sent_at"),
	}, s.callOpts)
	if err != nil {
		return seq.Turn{}, classify(fmt.Errorf("read the send order of %s: %w", exporter, err))
	}
	if len(out.Item) == 0 {
		return seq.Turn{}, fmt.Errorf("send order of %s: the exporter has no counter (nothing was reserved)", exporter)
	}
	now := s.o.Now()
	v, ok := out.Item[attrSent]
	if !ok {
		// A counter made before the send order existed: the first range to
		// ask starts it. (Ranges reserved before the upgrade and sent after
		// it are late.)
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(s.table),
			Key:                       s.key(exporter),
			UpdateExpression:          aws.String("SET sent = :first, sent_at = :now"),
			ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(sent)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":first": num(first), ":now": inum(now.Unix())},
		}, s.callOpts)
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return s.Turn(ctx, exporter, first, stall)
		}
		if err != nil {
			return seq.Turn{}, classify(fmt.Errorf("start the send order of %s: %w", exporter, err))
		}
		return seq.Turn{Go: true, Next: first}, nil
	}
	next, err := parseUint(v)
	if err != nil {
		return seq.Turn{}, fmt.Errorf("send order of %s: %w", exporter, err)
	}
	switch {
	case next == first:
		return seq.Turn{Go: true, Next: next}, nil
	case next > first:
		return seq.Turn{Go: true, Next: next, Late: true}, nil
	}
	at, _ := parseInt(out.Item[attrSentAt])
	if now.Sub(time.Unix(at, 0)) < stall {
		return seq.Turn{Next: next}, nil
	}
	// Nothing was sent for stall: the ranges below first belong to
	// executions that stopped (failed, timed out). Give them up.
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 s.key(exporter),
		UpdateExpression:    aws.String("SET sent = :first, sent_at = :now ADD skipped :gap"),
		ConditionExpression: aws.String("sent = :old"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":first": num(first), ":now": inum(now.Unix()), ":gap": num(first - next), ":old": num(next),
		},
	}, s.callOpts)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return s.Turn(ctx, exporter, first, stall) // it moved meanwhile
	}
	if err != nil {
		return seq.Turn{}, classify(fmt.Errorf("give up values %d..%d of %s: %w", next, first-1, exporter, err))
	}
	return seq.Turn{Go: true, Next: first, Skipped: first - next}, nil
}

// Sent implements seq.Order.
func (s *Store) Sent(ctx context.Context, exporter string, first, n uint64) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 s.key(exporter),
		UpdateExpression:    aws.String("SET sent = :end, sent_at = :now"),
		ConditionExpression: aws.String("sent = :first"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":first": num(first), ":end": num(first + n), ":now": inum(s.o.Now().Unix()),
		},
	}, s.callOpts)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // late, or given up: the watermark is elsewhere
	}
	if err != nil {
		return classify(fmt.Errorf("record values %d..%d of %s sent: %w", first, first+n-1, exporter, err))
	}
	return nil
}
