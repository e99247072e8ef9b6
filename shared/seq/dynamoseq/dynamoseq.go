// Package dynamoseq is the DynamoDB sequence store (seq.Store) that the
// Lambdas use.
//
// # Table
//
// One table (created by Terraform, or by EnsureTable for tests and the CLI):
// partition key "pk" (String), no sort key, on-demand capacity, TTL on
// "expires_at". Two kinds of items, both of constant size:
//
//	counter, one per exporter:
//	pk    S  the exporter identity, e.g. "ipfix|10.0.0.5:4739|odid=7"
//	ctr   L  [N next]: the next counter value, in a one-element list
//	pend  L  [N first, N n, S claim item pk, N at]: a reservation made but
//	         not yet recorded in its claim item (absent between reservations)
//	recent S  ",key,key,...,": the last 24 claims recorded (ClaimKey)
//	sent, sent_at, skipped N  the send order (order.go): the first value
//	         not yet sent, when it last moved, values given up
//
//	claim, one per (exporter, claim):
//	pk          S  "claim|" + ClaimKey(exporter, claim)
//	first, n    N  the range the claim holds
//	at          N  when it was made (Unix seconds)
//	expires_at  N  at + Retention: DynamoDB's TTL deletes it some time later
//	exporter    S  the exporter (for Inspect and operators)
//
// ClaimKey is 22 characters of base64url SHA-256 (128 bits) of the exporter
// and the claim, whatever their length (execution ARNs are ~100 bytes).
//
// # The reservation
//
// Every write touches one small item, so its cost does not grow with the
// exporter's history: DynamoDB bills an UpdateItem by the larger of the
// item's sizes before and after, 1 WCU per KB ("Capacity unit consumption
// for write operations",
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html),
// and one partition key takes at most 1,000 WCU/s. A reservation is three
// single-item writes, each 1 WCU, plus one strongly consistent read of the
// claim item (1 RCU: an item up to 4 KB, same page):
//
//  1. GetItem the claim item: if it holds a live range, return it
//     (repeats end here). An item past expires_at is ignored: "DynamoDB
//     typically deletes expired items within two days of expiration ...
//     Items that have expired and not been deleted will still show up in
//     reads" (DynamoDB API reference, UpdateTimeToLive).
//  2. Allocate on the counter:
//     UpdateItem SET pend = list_append(ctr, :rest), ctr[0] = ctr[0] + :n
//     REMOVE claims, since
//     condition attribute_exists(ctr) AND attribute_not_exists(pend)
//     AND ctr[0] <= :lim AND NOT contains(recent, ",key,")
//     with :rest = [n, claim pk, at]: right-hand sides read the item as it
//     was, so pend stores [old counter, n, claim pk, at] in the same write
//     that advances the counter. (REMOVE drops the claims map of the
//     one-item layout of earlier versions: see Upgrading.)
//  3. Record: PutItem the claim item from pend (condition: absent, expired,
//     or holding the same first), then UpdateItem SET recent = (the list
//     with this key last) REMOVE pend on condition pend[2] = the claim pk.
//
// recent closes the one race the claim read leaves open: two calls for the
// same claim at once (a Step Functions retry while the first attempt still
// runs) both read "no claim", the first records it, and the second would
// allocate again; its allocation fails while the claim is listed, and its
// next round reads the claim. (A claim listed but whose item has expired is
// a repeat past Retention, allocated without the list check.) It holds as
// long as fewer than 24 other reservations of the exporter complete while
// one call is between its read and its allocation.
//
// pend serializes reservations per exporter: while it is set, step 2 fails
// its condition, and that caller reads the counter and finishes the pending
// reservation itself (step 3 is idempotent) before it tries again. So a
// caller that dies between steps 2 and 3 blocks nobody and loses nothing:
// the next caller records its range, and its own retry finds the claim item
// in step 1. A retry after a lost response is safe whoever retries (the
// SDK, the Lambda, Step Functions), and every range is recorded before the
// counter moves on: no gap, no overlap, exactly once per claim.
//
// A failed step-2 condition is read back with a consistent GetItem of the
// counter (a few dozen bytes): the item does not exist yet (it is created
// with a conditional PutItem {pk, ctr: [Start]} and the step retried), a
// reservation is pending (finished, then retried), or the counter would
// pass 2^64-1 (seq.ErrExhausted).
//
// These expressions are verified on dynalite 4.0.0, which implements
// DynamoDB's expression grammar, reserved words and path-overlap rules; they
// follow the documented grammar but have not been run against DynamoDB
// itself. Transactions (TransactWriteItems) would not help: they cannot
// return the counter's value and dynalite does not implement them.
//
// Errors: throttling and other retryable errors are retried by the SDK's
// standard retryer (Options.MaxAttempts, no client-side retry quota);
// what outlasts it is marked seq.ErrTransient.
//
// # Retention
//
// A claim is remembered for Retention (default 14 days, the redrive
// window): its item expires then and is deleted by TTL, so nothing needs
// pruning and the table holds about (reservations per Retention) claim
// items of ~110 bytes. The counter item stays under 700 bytes (1 WCU) with
// pend and a full recent list. Throughput per exporter is bounded by its
// counter (reservations go one at a time, about four round trips each),
// not by item size: measured on dynalite, 16 concurrent callers make ~70
// reservations/s and 8 make ~100/s (a single caller ~400/s); against
// DynamoDB's single-digit-millisecond latency, tens per second per
// exporter, against one per object per exporter needed.
//
// # Upgrading from the one-item layout
//
// Earlier versions kept every claim in a map inside the counter item. The
// first reservation after an upgrade removes that map (and bills its size
// once); claims made before the upgrade are forgotten, so a redrive of an
// execution reserved before it gets new numbers.
package dynamoseq

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
)

// Attribute names of the items.
const (
	attrPK       = "pk"
	attrCtr      = "ctr"
	attrPend     = "pend"
	attrFirst    = "first"
	attrN        = "n"
	attrAt       = "at"
	attrExpires  = "expires_at"
	attrExporter = "exporter"
	attrRecent   = "recent"
	// of the one-item layout, removed on the first reservation
	attrLegacyClaims = "claims"
	attrLegacySince  = "since"
)

// ClaimPrefix starts the pk of every claim item (exporter identities start
// with a protocol name, duplicate claims with "object|").
const ClaimPrefix = "claim|"

const (
	allocExpr = "SET pend = list_append(ctr, :rest), ctr[0] = ctr[0] + :n REMOVE claims, since"
	allocCond = "attribute_exists(ctr) AND attribute_not_exists(pend) AND ctr[0] <= :lim AND (attribute_not_exists(#r) OR NOT contains(#r, :key))"
	// allocCondExpired is allocCond for a claim known to have expired.
	allocCondExpired = "attribute_exists(ctr) AND attribute_not_exists(pend) AND ctr[0] <= :lim"
	recordCond       = "attribute_not_exists(pk) OR #first = :first OR expires_at < :now"
	releaseExpr      = "SET #r = :r REMOVE pend"
	releaseCond      = "pend[2] = :pk"
)

// recentClaims is how many recently recorded claims the counter lists
// (",key,key,...,": 23 bytes each) so that two concurrent calls for one
// claim cannot both allocate: the second one's allocation fails while the
// claim is among them.
const recentClaims = 24

// maxRounds bounds the allocate/finish rounds of one Reserve: each round
// either succeeds or finishes another caller's reservation, so a round is
// lost only to a concurrent reservation of the same exporter.
const maxRounds = 1000

// API is the part of *dynamodb.Client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// ScanAPI is what Inspect needs beyond API to count an exporter's claims.
type ScanAPI interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Options configure a Store.
type Options struct {
	seq.Options
	// MaxAttempts is how many times the SDK tries each DynamoDB call on
	// throttling and transient errors (default 10), with exponential
	// backoff up to MaxBackoff (default 5 s). Client-side retry quotas are
	// off: each call gets its attempts.
	MaxAttempts int
	MaxBackoff  time.Duration
}

// Store is the DynamoDB seq.Store. It is safe for concurrent use.
type Store struct {
	db      API
	table   string
	o       seq.Options
	retryer aws.Retryer
	// afterAlloc, when set (tests), runs between allocating and recording;
	// an error stops Reserve there, as a crash would.
	afterAlloc func() error
}

var _ seq.Store = (*Store)(nil)
var _ seq.Inspector = (*Store)(nil)

// New returns a store on table (see the package doc for its layout).
func New(db API, table string, opts Options) (*Store, error) {
	if db == nil || table == "" {
		return nil, errors.New("dynamoseq: a client and a table name are required")
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	r := retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = opts.MaxAttempts
		so.MaxBackoff = opts.MaxBackoff
		so.RateLimiter = ratelimit.None
	})
	return &Store{db: db, table: table, o: opts.Options.WithDefaults(), retryer: r}, nil
}

// Close does nothing: the client is the caller's.
func (s *Store) Close() error { return nil }

func (s *Store) callOpts(o *dynamodb.Options) { o.Retryer = s.retryer }

// ClaimKey names a claim of an exporter: 22 characters of base64url
// SHA-256 of both.
func ClaimKey(exporter, claim string) string {
	sum := sha256.Sum256([]byte(exporter + "\x00" + claim))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// pending is a reservation allocated on the counter, maybe not recorded.
type pending struct {
	r  seq.Range
	pk string // the claim item's pk
	at int64
	// recent is the counter's list of recently recorded claims when pend
	// was read (it changes only when a pend is cleared).
	recent string
}

// Reserve implements seq.Store.
func (s *Store) Reserve(ctx context.Context, exporter, claim string, n uint64) (seq.Range, error) {
	if err := seq.Validate(exporter, claim, n); err != nil {
		return seq.Range{}, err
	}
	pk := ClaimPrefix + ClaimKey(exporter, claim)
	now := s.o.Now()
	fail := func(err error) (seq.Range, error) {
		return seq.Range{}, fmt.Errorf("reserve %q for exporter %q in table %s: %w", claim, exporter, s.table, err)
	}
	created := false
	listed := false // the counter listed this claim as recent
	for round := 0; round < maxRounds; round++ {
		// 1. A claim already recorded (a repeat).
		held, ok, err := s.readClaim(ctx, pk, now)
		if err != nil {
			return fail(classify(err))
		}
		if ok {
			r, err := seq.Check(exporter, claim, held, n)
			if err != nil {
				return seq.Range{}, fmt.Errorf("table %s: %w", s.table, err)
			}
			return r, nil
		}
		// The counter listed the claim as recorded, and read after that
		// its item is expired (or deleted by TTL): a claim repeated past
		// Retention, to be made again despite the list.
		expired := listed
		listed = false
		// 2. Allocate.
		p, err := s.allocate(ctx, exporter, pk, n, now, expired)
		if err == nil {
			if s.afterAlloc != nil {
				if err := s.afterAlloc(); err != nil {
					return fail(err)
				}
			}
			// 3. Record.
			if err := s.finish(ctx, exporter, p); err != nil {
				return fail(classify(err))
			}
			return p.r, nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return fail(classify(err))
		}
		c, err := s.readCounter(ctx, exporter)
		if err != nil {
			return fail(classify(err))
		}
		switch {
		case !c.exists && !created:
			if err := s.create(ctx, exporter); err != nil {
				return fail(classify(err))
			}
			created = true
		case c.pend != nil:
			// Another reservation (or ours, whose response was lost) is
			// pending: record it, then go round again.
			if err := s.finish(ctx, exporter, *c.pend); err != nil {
				return fail(classify(err))
			}
		case c.exists && c.next > math.MaxUint64-n:
			return fail(fmt.Errorf("counter at %d cannot take %d more: %w", c.next, n, seq.ErrExhausted))
		case strings.Contains(c.recent, recentEntry(pk)):
			// Recorded meanwhile by a concurrent call for the same claim
			// (the next read finds it), or expired (then unlisted).
			listed = true
		}
		// Otherwise the pending reservation was finished in between: again.
	}
	return fail(fmt.Errorf("no progress after %d rounds: %w", maxRounds, seq.ErrTransient))
}

func (s *Store) key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: pk}}
}

func num(v uint64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatUint(v, 10)}
}
func inum(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// readClaim returns the live range a claim item holds.
func (s *Store) readClaim(ctx context.Context, pk string, now time.Time) (seq.Range, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            s.key(pk),
		ConsistentRead: aws.Bool(true),
	}, s.callOpts)
	if err != nil || len(out.Item) == 0 {
		return seq.Range{}, false, err
	}
	c, err := parseClaimItem(out.Item)
	if err != nil {
		return seq.Range{}, false, fmt.Errorf("claim item %s: %w", pk, err)
	}
	if c.expires < now.Unix() {
		return seq.Range{}, false, nil // past Retention, not yet deleted by TTL
	}
	return c.r, true, nil
}

// allocate advances the counter and sets pend (step 2).
func (s *Store) allocate(ctx context.Context, exporter, pk string, n uint64, now time.Time, expired bool) (pending, error) {
	in := &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 s.key(exporter),
		UpdateExpression:    aws.String(allocExpr),
		ConditionExpression: aws.String(allocCond),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":rest": &types.AttributeValueMemberL{Value: []types.AttributeValue{num(n), str(pk), inum(now.Unix())}},
			":n":    num(n),
			":lim":  num(math.MaxUint64 - n),
		},
		ReturnValues: types.ReturnValueAllNew,
	}
	if expired {
		// The claim is known to be past Retention: it may be listed.
		in.ConditionExpression = aws.String(allocCondExpired)
	} else {
		in.ExpressionAttributeNames = map[string]string{"#r": attrRecent}
		in.ExpressionAttributeValues[":key"] = str(recentEntry(pk))
	}
	out, err := s.db.UpdateItem(ctx, in, s.callOpts)
	if err != nil {
		return pending{}, err
	}
	p, err := parsePend(out.Attributes[attrPend])
	if err != nil {
		return pending{}, fmt.Errorf("allocation returned %w", err)
	}
	p.recent = recentOf(out.Attributes)
	if p.pk != pk || p.r.Count != n {
		return pending{}, fmt.Errorf("allocation returned pend %+v, not the claim's", p)
	}
	return p, nil
}

// finish records a pending reservation in its claim item and clears pend
// (step 3). It is idempotent: the reserver and any number of helpers may
// run it for the same pend.
func (s *Store) finish(ctx context.Context, exporter string, p pending) error {
	// A fresh clock: a helper that began long ago must not take an
	// expired claim item for a live one.
	now := s.o.Now()
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			attrPK:       str(p.pk),
			attrFirst:    num(p.r.First),
			attrN:        num(p.r.Count),
			attrAt:       inum(p.at),
			attrExpires:  inum(p.at + int64(s.o.Retention/time.Second)),
			attrExporter: str(exporter),
		},
		ConditionExpression:      aws.String(recordCond),
		ExpressionAttributeNames: map[string]string{"#first": attrFirst},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":first": num(p.r.First),
			":now":   inum(now.Unix()),
		},
	}, s.callOpts)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("claim item %s holds a live range other than the pending %+v: the table is inconsistent", p.pk, p.r)
	}
	if err != nil {
		return fmt.Errorf("record claim %s: %w", p.pk, err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      s.key(exporter),
		UpdateExpression:         aws.String(releaseExpr),
		ConditionExpression:      aws.String(releaseCond),
		ExpressionAttributeNames: map[string]string{"#r": attrRecent},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(p.pk),
			":r":  str(addRecent(p.recent, p.pk)),
		},
	}, s.callOpts)
	if errors.As(err, &ccf) {
		return nil // another caller cleared it
	}
	if err != nil {
		return fmt.Errorf("clear the pending claim %s: %w", p.pk, err)
	}
	return nil
}

// create makes an exporter's counter at Start. A concurrent creator may
// win; that is fine.
func (s *Store) create(ctx context.Context, exporter string) error {
	item := s.key(exporter)
	item[attrCtr] = &types.AttributeValueMemberL{Value: []types.AttributeValue{num(s.o.Start)}}
	item[attrSent] = num(s.o.Start) // the send order starts with the counter
	item[attrSentAt] = inum(s.o.Now().Unix())
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}, s.callOpts)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil
	}
	return err
}

type counter struct {
	exists bool
	next   uint64
	pend   *pending
	recent string
}

// readCounter fetches the counter item with a consistent read (the legacy
// claims map, if any, is not read).
func (s *Store) readCounter(ctx context.Context, exporter string) (counter, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(s.table),
		Key:                  s.key(exporter),
		ConsistentRead:       aws.Bool(true),
		ProjectionExpression: aws.String("pk, ctr, pend, recent"),
	}, s.callOpts)
	if err != nil {
		return counter{}, err
	}
	var c counter
	if len(out.Item) == 0 {
		return c, nil
	}
	c.exists = true
	c.recent = recentOf(out.Item)
	if c.next, err = parseCtr(out.Item[attrCtr]); err != nil {
		return c, err
	}
	if v, ok := out.Item[attrPend]; ok {
		p, err := parsePend(v)
		if err != nil {
			return c, err
		}
		p.recent = recentOf(out.Item)
		c.pend = &p
	}
	return c, nil
}

// recentEntry is how a claim item's pk appears in the recent list.
func recentEntry(pk string) string { return "," + strings.TrimPrefix(pk, ClaimPrefix) + "," }

func recentOf(item map[string]types.AttributeValue) string {
	if v, ok := item[attrRecent].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// addRecent appends pk to the list, keeping the last recentClaims.
func addRecent(list, pk string) string {
	keys := strings.FieldsFunc(list, func(r rune) bool { return r == ',' })
	keys = slices.DeleteFunc(keys, func(k string) bool { return k == strings.TrimPrefix(pk, ClaimPrefix) })
	keys = append(keys, strings.TrimPrefix(pk, ClaimPrefix))
	if len(keys) > recentClaims {
		keys = keys[len(keys)-recentClaims:]
	}
	return "," + strings.Join(keys, ",") + ","
}

// Inspect implements seq.Inspector: Next from the counter, Bytes the
// counter item's size (what every reservation rewrites), Claims the live
// claim items of the exporter, counted with a Scan of the table when the
// client can scan (tests and operators; it reads the whole table).
func (s *Store) Inspect(ctx context.Context, exporter string) (seq.State, error) {
	fail := func(err error) (seq.State, error) {
		return seq.State{}, fmt.Errorf("inspect exporter %q in table %s: %w", exporter, s.table, classify(err))
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            s.key(exporter),
		ConsistentRead: aws.Bool(true),
	}, s.callOpts)
	if err != nil {
		return fail(err)
	}
	if len(out.Item) == 0 {
		return seq.State{Next: s.o.Start}, nil
	}
	st := seq.State{Exists: true, Bytes: ItemSize(out.Item)}
	if st.Next, err = parseCtr(out.Item[attrCtr]); err != nil {
		return fail(err)
	}
	sc, ok := s.db.(ScanAPI)
	if !ok {
		return st, nil
	}
	in := &dynamodb.ScanInput{
		TableName:                aws.String(s.table),
		ConsistentRead:           aws.Bool(true),
		FilterExpression:         aws.String("#e = :e AND expires_at >= :now"),
		ExpressionAttributeNames: map[string]string{"#e": attrExporter},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":e": str(exporter), ":now": inum(s.o.Now().Unix()),
		},
		Select: types.SelectCount,
	}
	for {
		page, err := sc.Scan(ctx, in, s.callOpts)
		if err != nil {
			return fail(err)
		}
		st.Claims += int(page.Count)
		if len(page.LastEvaluatedKey) == 0 {
			return st, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func parseUint(v types.AttributeValue) (uint64, error) {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("want a number, have %T", v)
	}
	return strconv.ParseUint(n.Value, 10, 64)
}

func parseInt(v types.AttributeValue) (int64, error) {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("want a number, have %T", v)
	}
	return strconv.ParseInt(n.Value, 10, 64)
}

func parseCtr(v types.AttributeValue) (uint64, error) {
	l, ok := v.(*types.AttributeValueMemberL)
	if !ok || len(l.Value) != 1 {
		return 0, fmt.Errorf("malformed ctr %#v", v)
	}
	return parseUint(l.Value[0])
}

// parsePend decodes [first, n, claim pk, at].
func parsePend(v types.AttributeValue) (pending, error) {
	l, ok := v.(*types.AttributeValueMemberL)
	if !ok || len(l.Value) != 4 {
		return pending{}, fmt.Errorf("malformed pend %#v", v)
	}
	first, err1 := parseUint(l.Value[0])
	n, err2 := parseUint(l.Value[1])
	pk, ok := l.Value[2].(*types.AttributeValueMemberS)
	at, err3 := parseInt(l.Value[3])
	if err := errors.Join(err1, err2, err3); err != nil || !ok {
		return pending{}, fmt.Errorf("malformed pend %#v: %v", v, err)
	}
	return pending{r: seq.Range{First: first, Count: n}, pk: pk.Value, at: at}, nil
}

type claimItem struct {
	r       seq.Range
	expires int64
}

func parseClaimItem(item map[string]types.AttributeValue) (claimItem, error) {
	first, err1 := parseUint(item[attrFirst])
	n, err2 := parseUint(item[attrN])
	exp, err3 := parseInt(item[attrExpires])
	if err := errors.Join(err1, err2, err3); err != nil {
		return claimItem{}, fmt.Errorf("malformed claim item: %w", err)
	}
	return claimItem{r: seq.Range{First: first, Count: n}, expires: exp}, nil
}

// classify marks err transient when the SDK considers it retryable (it has
// then already retried it MaxAttempts times).
func classify(err error) error {
	var ma *retry.MaxAttemptsError
	if errors.As(err, &ma) || retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return seq.Transient(err)
	}
	return err
}
