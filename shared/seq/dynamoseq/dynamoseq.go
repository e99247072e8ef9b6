// Package dynamoseq is the DynamoDB sequence store (seq.Store) that the
// Lambdas use.
//
// # Table
//
// One table (created by Terraform, or by EnsureTable for tests and the CLI):
// partition key "pk" (String), no sort key, on-demand capacity. One item per
// exporter:
//
//	pk     S  the exporter identity, e.g. "ipfix|10.0.0.5:4739|odid=7"
//	ctr    L  [N next]: the next counter value, in a one-element list
//	claims M  ClaimKey(claim) -> L [N first, N n, N at]
//	since  N  pruning hint: no claim is older than this (Unix seconds)
//
// A claim's key is ClaimKey(claim): 16 characters of base64url SHA-256 (96
// bits), whatever the claim's length (execution ARNs are ~100 bytes); the
// chance that two of 10,000 claims of one exporter collide is below 10^-20.
// at is the reservation time in Unix seconds.
//
// # The reservation
//
// One UpdateItem claims and advances atomically:
//
//	UpdateExpression:    SET claims.#h = list_append(ctr, :nat),
//	                         ctr[0] = ctr[0] + :n,
//	                         since = if_not_exists(since, :now)
//	ConditionExpression: attribute_not_exists(claims.#h) AND ctr[0] <= :lim
//	ReturnValues:        UPDATED_NEW
//
// with :nat = [n, at] and :lim = 2^64-1-n. Right-hand sides read the item as
// it was before the update, so list_append(ctr, :nat) stores [old counter,
// n, at]: the claim's first number is persisted in the same write that
// advances the counter. That is why ctr is a list: DynamoDB cannot build a
// map or list from a path and values, but list_append can join a stored list
// and a value list. (A scalar counter would need the claim's first number in
// a separate map, "SET starts.#h = ctr, ctr = ctr + :n, claims.#h = :meta",
// storing every claim key twice.)
//
// A failed condition means the claim exists (its range is read back with a
// consistent GetItem and returned, after checking n), the item does not
// exist yet (it is created with a conditional PutItem, {pk, ctr: [Start],
// claims: {}}, condition attribute_not_exists(pk), and the update is
// retried), or the counter would pass 2^64-1 (seq.ErrExhausted). A retry
// after a lost response is therefore safe, whoever retries: the SDK, the
// Lambda, Step Functions. (If the returned attributes ever lack the claim,
// Reserve reads it back the same way.)
//
// These expressions are verified on dynalite 4.0.0, which implements
// DynamoDB's expression grammar, reserved words and path-overlap rules
// (it refuses "SET claims.#h = :m, claims.#h.#f = ctr" as overlapping, and
// SET into claims.#h when claims is missing). They follow the documented
// grammar (SET path = list_append(operand, operand), path[0] = path[0] +
// operand) but have not been run against DynamoDB itself.
//
// Errors: throttling and other retryable errors are retried by the SDK's
// standard retryer (Options.MaxAttempts, no client-side retry quota);
// what outlasts it is marked seq.ErrTransient.
//
// # Pruning and the item-size bound
//
// Claims are kept for at least Retention (default 14 days). When the since
// hint returned by a reservation is older than Retention + Retention/14 (15
// days by default), that reservation prunes: it reads the item, removes the
// claims older than Retention (at most 200 per UpdateItem, "REMOVE
// claims.#p0, claims.#p1, ..."; the first one also sets since to the oldest
// remaining claim, on condition "since = :old", so one caller prunes at a
// time). Pruning is best effort and never affects correctness: it removes
// only claims past Retention, which no caller may repeat. A claim repeated
// after it was pruned gets new numbers.
//
// Sizes by DynamoDB's rules (ItemSize, checked byte for byte against
// dynalite's limit): a claim costs 16 (key) + 1 (map element) + 3 (list) +
// 3 (list elements) + first (6 bytes up to 10 digits, 11 at most) + n (2-4
// bytes for n < 10^6, 8 at most) + at (6) = 37-39 bytes typically, 48 at
// most; the rest of the item is ~60 bytes plus the exporter string. 10,000
// claims with 10-digit firsts and n up to 100,000 measure 378,817 bytes
// (TestSizeBound). The item holds the claims of at most Retention +
// Retention/14 (plus the time until the next reservation after that), so
// with the default 14 days and 400 KB (409,600 bytes) it stays under the
// limit for up to ~10,000 claims per 15 days (~8,500 in the worst case):
// about one reservation every 2 minutes per exporter, sustained. Past that,
// UpdateItem fails with "Item size to update has exceeded the maximum
// allowed size"; the store then prunes at once and retries; if nothing is
// past Retention it forgets the oldest half of the claims older than
// MinRetention (default 1 hour: a claim matters only while its execution
// may re-run its reservation, and a redrive of a failed reservation that
// old then gets new numbers, i.e. a sequence jump), and only if every claim
// is younger than MinRetention does it return ErrFull. So the sustained
// ceiling is ~10,000 reservations per MinRetention (per hour by default)
// per exporter. Write cost: every reservation
// rewrites the item, so it consumes about one WCU per KB of item; a full
// item limits one exporter to ~2.5 reservations per second (1,000 WCU/s per
// partition).
package dynamoseq

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
)

// ErrFull means an exporter's item reached DynamoDB's 400 KB item limit
// with claims younger than MinRetention: reservations come faster than the
// item can remember them. Shorten MinRetention or split the exporter.
var ErrFull = errors.New("sequence item full")

// errUnparsed means the update succeeded but its returned attributes did
// not hold the claim; Reserve then reads it.
var errUnparsed = errors.New("update returned no claim")

// Attribute names of the item.
const (
	attrPK     = "pk"
	attrCtr    = "ctr"
	attrClaims = "claims"
	attrSince  = "since"
)

// pruneBatch bounds the REMOVE actions of one UpdateItem (the expression
// must stay under 4 KB).
const pruneBatch = 200

const (
	updateExpr = "SET claims.#h = list_append(ctr, :nat), ctr[0] = ctr[0] + :n, since = if_not_exists(since, :now)"
	updateCond = "attribute_not_exists(claims.#h) AND ctr[0] <= :lim"
)

// API is the part of *dynamodb.Client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
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
	// pruning holds the exporters this Store is pruning, so that
	// concurrent reservations that all see an old since hint do not all
	// read the whole item.
	pruning sync.Map
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

// ClaimKey is the key under which claim is stored in the claims map.
func ClaimKey(claim string) string {
	sum := sha256.Sum256([]byte(claim))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// Reserve implements seq.Store.
func (s *Store) Reserve(ctx context.Context, exporter, claim string, n uint64) (seq.Range, error) {
	if err := seq.Validate(exporter, claim, n); err != nil {
		return seq.Range{}, err
	}
	key := ClaimKey(claim)
	now := s.o.Now()
	fail := func(err error) (seq.Range, error) {
		return seq.Range{}, fmt.Errorf("reserve %q for exporter %q in table %s: %w", claim, exporter, s.table, err)
	}
	created, pruned := false, 0
	for attempt := 0; attempt < 5; attempt++ {
		r, since, err := s.update(ctx, exporter, key, n, now)
		if err == nil {
			if since < now.Unix()-s.pruneAfter() {
				if _, busy := s.pruning.LoadOrStore(exporter, true); !busy {
					// Best effort: a failure here changes nothing for r.
					_, _, _ = s.prune(ctx, exporter, now, false)
					s.pruning.Delete(exporter)
				}
			}
			return r, nil
		}
		var ccf *types.ConditionalCheckFailedException
		isCCF := errors.As(err, &ccf)
		if !isCCF && !isValidation(err) && !errors.Is(err, errUnparsed) {
			return fail(classify(err))
		}
		it, gerr := s.read(ctx, exporter, key)
		if gerr != nil {
			return fail(classify(gerr))
		}
		switch {
		case it.held != nil:
			r, err := seq.Check(exporter, claim, *it.held, n)
			if err != nil {
				return seq.Range{}, fmt.Errorf("table %s: %w", s.table, err)
			}
			return r, nil
		case !it.exists && !created:
			// First use of this exporter: the claims map and ctr must
			// exist before the update can write into them.
			if err := s.create(ctx, exporter); err != nil {
				return fail(classify(err))
			}
			created = true
		case isCCF && it.next > math.MaxUint64-n:
			return fail(fmt.Errorf("counter at %d cannot take %d more: %w", it.next, n, seq.ErrExhausted))
		case isSizeExceeded(err):
			// Prune now rather than when since says so; if nothing is old
			// enough, the item is full.
			// Under pressure, forget the oldest half of the claims older
			// than MinRetention (Options.MinRetention).
			removed, kept := 0, -1
			if pruned < 2 {
				var perr error
				if removed, kept, perr = s.prune(ctx, exporter, now, pruned == 1); perr != nil {
					return fail(classify(perr))
				}
				pruned++
				if removed == 0 && pruned == 1 {
					if removed, kept, perr = s.prune(ctx, exporter, now, true); perr != nil {
						return fail(classify(perr))
					}
					pruned++
				}
			}
			if removed == 0 {
				return fail(fmt.Errorf("%w: %d claims younger than %s fill the item: %w", ErrFull, kept, s.o.MinRetention, err))
			}
		case isCCF:
			// The claim was there when the condition was checked and gone
			// when we read it: it was pruned in between (a claim repeated
			// after Retention). Try again.
		default:
			return fail(err)
		}
	}
	return fail(errors.New("no progress after 5 attempts"))
}

// pruneAfter is how old (in seconds) the since hint must be before a
// reservation prunes.
func (s *Store) pruneAfter() int64 {
	r := s.o.Retention
	return int64((r + r/14) / time.Second)
}

func (s *Store) itemKey(exporter string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: exporter}}
}

func num(v uint64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatUint(v, 10)}
}
func inum(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// update runs the reservation UpdateItem. It returns the range and the since
// hint.
func (s *Store) update(ctx context.Context, exporter, key string, n uint64, now time.Time) (seq.Range, int64, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      s.itemKey(exporter),
		UpdateExpression:         aws.String(updateExpr),
		ConditionExpression:      aws.String(updateCond),
		ExpressionAttributeNames: map[string]string{"#h": key},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":nat": &types.AttributeValueMemberL{Value: []types.AttributeValue{num(n), inum(now.Unix())}},
			":n":   num(n),
			":now": inum(now.Unix()),
			":lim": num(math.MaxUint64 - n),
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	}, s.callOpts)
	if err != nil {
		return seq.Range{}, 0, err
	}
	claims, _ := out.Attributes[attrClaims].(*types.AttributeValueMemberM)
	if claims == nil {
		return seq.Range{}, 0, errUnparsed
	}
	r, _, err := parseClaim(claims.Value[key])
	if err != nil {
		return seq.Range{}, 0, fmt.Errorf("%w: %w", errUnparsed, err)
	}
	since, _ := parseInt(out.Attributes[attrSince])
	return r, since, nil
}

// create makes an exporter's item: ctr at Start, no claims. A concurrent
// creator may win; that is fine.
func (s *Store) create(ctx context.Context, exporter string) error {
	item := s.itemKey(exporter)
	item[attrCtr] = &types.AttributeValueMemberL{Value: []types.AttributeValue{num(s.o.Start)}}
	item[attrClaims] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
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

type readResult struct {
	exists bool
	next   uint64
	held   *seq.Range
}

// read fetches the counter and one claim with a consistent read.
func (s *Store) read(ctx context.Context, exporter, key string) (readResult, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.table),
		Key:                      s.itemKey(exporter),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("ctr, claims.#h"),
		ExpressionAttributeNames: map[string]string{"#h": key},
	}, s.callOpts)
	if err != nil {
		return readResult{}, err
	}
	var res readResult
	if len(out.Item) == 0 {
		return res, nil
	}
	res.exists = true
	if res.next, err = parseCtr(out.Item[attrCtr]); err != nil {
		return res, err
	}
	if m, ok := out.Item[attrClaims].(*types.AttributeValueMemberM); ok {
		if v, ok := m.Value[key]; ok {
			r, _, err := parseClaim(v)
			if err != nil {
				return res, err
			}
			res.held = &r
		}
	}
	return res, nil
}

// prune removes the claims older than Retention and resets the since hint;
// with force (the item is full), it also removes the oldest half of the
// claims older than MinRetention. It returns how many claims it removed
// and kept.
func (s *Store) prune(ctx context.Context, exporter string, now time.Time, force bool) (removed, kept int, err error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(s.table),
		Key:                  s.itemKey(exporter),
		ConsistentRead:       aws.Bool(true),
		ProjectionExpression: aws.String("claims, since"),
	}, s.callOpts)
	if err != nil || len(out.Item) == 0 {
		return 0, 0, err
	}
	cutoff := now.Add(-s.o.Retention).Unix()
	newSince := now.Unix()
	type aged struct {
		key string
		at  int64
	}
	var stale []string
	var young []aged
	if m, ok := out.Item[attrClaims].(*types.AttributeValueMemberM); ok {
		for k, v := range m.Value {
			_, at, err := parseClaim(v)
			if err != nil {
				return 0, 0, fmt.Errorf("claim %s: %w", k, err)
			}
			if at < cutoff {
				stale = append(stale, k)
			} else {
				young = append(young, aged{k, at})
			}
		}
	}
	if force {
		slices.SortFunc(young, func(a, b aged) int { return cmp.Compare(a.at, b.at) })
		floor := now.Add(-s.o.MinRetention).Unix()
		drop := 0
		for drop < (len(young)+1)/2 && young[drop].at < floor {
			stale = append(stale, young[drop].key)
			drop++
		}
		young = young[drop:]
	}
	for _, c := range young {
		kept++
		newSince = min(newSince, c.at)
	}
	slices.Sort(stale)
	for i := 0; i == 0 || i < len(stale); i += pruneBatch {
		batch := stale[i:min(i+pruneBatch, len(stale))]
		names := map[string]string{}
		values := map[string]types.AttributeValue{}
		var expr strings.Builder
		if len(batch) > 0 {
			expr.WriteString("REMOVE ")
			for j, k := range batch {
				if j > 0 {
					expr.WriteString(", ")
				}
				p := "#p" + strconv.Itoa(j)
				names[p] = k
				expr.WriteString("claims." + p)
			}
		}
		var cond string
		if i == 0 {
			// The first batch moves since on, on the condition that no one
			// else did: one pruner at a time.
			expr.WriteString(" SET since = :new")
			values[":new"] = inum(newSince)
			if old, ok := out.Item[attrSince]; ok {
				cond = "since = :old"
				values[":old"] = old
			} else {
				cond = "attribute_exists(ctr) AND attribute_not_exists(since)"
			}
		} else {
			cond = "attribute_exists(ctr)"
		}
		in := &dynamodb.UpdateItemInput{
			TableName:           aws.String(s.table),
			Key:                 s.itemKey(exporter),
			UpdateExpression:    aws.String(strings.TrimSpace(expr.String())),
			ConditionExpression: aws.String(cond),
		}
		if len(names) > 0 {
			in.ExpressionAttributeNames = names
		}
		if len(values) > 0 {
			in.ExpressionAttributeValues = values
		}
		if _, err := s.db.UpdateItem(ctx, in, s.callOpts); err != nil {
			var ccf *types.ConditionalCheckFailedException
			if errors.As(err, &ccf) {
				return removed, kept, nil // another caller is pruning
			}
			return removed, kept, err
		}
		removed += len(batch)
	}
	return removed, kept, nil
}

// Inspect implements seq.Inspector.
func (s *Store) Inspect(ctx context.Context, exporter string) (seq.State, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            s.itemKey(exporter),
		ConsistentRead: aws.Bool(true),
	}, s.callOpts)
	if err != nil {
		return seq.State{}, fmt.Errorf("inspect exporter %q in table %s: %w", exporter, s.table, classify(err))
	}
	if len(out.Item) == 0 {
		return seq.State{Next: s.o.Start}, nil
	}
	st := seq.State{Exists: true, Bytes: ItemSize(out.Item)}
	if st.Next, err = parseCtr(out.Item[attrCtr]); err != nil {
		return st, fmt.Errorf("inspect exporter %q in table %s: %w", exporter, s.table, err)
	}
	if m, ok := out.Item[attrClaims].(*types.AttributeValueMemberM); ok {
		st.Claims = len(m.Value)
	}
	return st, nil
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

// parseClaim decodes [first, n, at].
func parseClaim(v types.AttributeValue) (seq.Range, int64, error) {
	l, ok := v.(*types.AttributeValueMemberL)
	if !ok || len(l.Value) != 3 {
		return seq.Range{}, 0, fmt.Errorf("malformed claim %#v", v)
	}
	first, err1 := parseUint(l.Value[0])
	n, err2 := parseUint(l.Value[1])
	at, err3 := parseInt(l.Value[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return seq.Range{}, 0, fmt.Errorf("malformed claim: %w", err)
	}
	return seq.Range{First: first, Count: n}, at, nil
}

func isValidation(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationException"
}

func isSizeExceeded(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationException" &&
		strings.Contains(strings.ToLower(ae.ErrorMessage()), "item size")
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
