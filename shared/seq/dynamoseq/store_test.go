package dynamoseq

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dynalite"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/seqtest"
)

// plain turns an attribute value into comparable Go values: "N:1", "S:x",
// []any, map[string]any.
func plain(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberN:
		return "N:" + v.Value
	case *types.AttributeValueMemberS:
		return "S:" + v.Value
	case *types.AttributeValueMemberL:
		l := []any{}
		for _, e := range v.Value {
			l = append(l, plain(e))
		}
		return l
	case *types.AttributeValueMemberM:
		return plainItem(v.Value)
	}
	return fmt.Sprintf("%T", v)
}

func plainItem(item map[string]types.AttributeValue) map[string]any {
	m := map[string]any{}
	for k, v := range item {
		m[k] = plain(v)
	}
	return m
}

func getItem(t *testing.T, db *dynamodb.Client, table, exporter string) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: exporter}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// TestLayout pins the item the package doc describes.
func TestLayout(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	table := newTable(t, db)
	clock := seqtest.NewClock(seqtest.T0)
	s := newStore(t, db, table, seq.Options{Start: 1<<32 - 1, Now: clock.Now})
	reserve := func(claim string, n uint64) {
		t.Helper()
		if _, err := s.Reserve(t.Context(), "ipfix|10.0.0.5:4739|odid=7", claim, n); err != nil {
			t.Fatal(err)
		}
	}
	reserve("exec-a", 3)
	clock.Advance(time.Minute)
	reserve("exec-b", 1000)
	at := seqtest.T0.Unix()
	want := map[string]any{
		"pk":  "S:ipfix|10.0.0.5:4739|odid=7",
		"ctr": []any{"N:4294968298"},
		"claims": map[string]any{
			ClaimKey("exec-a"): []any{"N:4294967295", "N:3", "N:" + strconv.FormatInt(at, 10)},
			ClaimKey("exec-b"): []any{"N:4294967298", "N:1000", "N:" + strconv.FormatInt(at+60, 10)},
		},
		"since": "N:" + strconv.FormatInt(at, 10),
	}
	if diff := cmp.Diff(want, plainItem(getItem(t, db, table, "ipfix|10.0.0.5:4739|odid=7"))); diff != "" {
		t.Errorf("item (-want +got):\n%s", diff)
	}
	if k := ClaimKey(strings.Repeat("x", 1000)); len(k) != 16 {
		t.Errorf("ClaimKey is %d characters, want 16", len(k))
	}
}

// TestItemSizeMatchesDynalite finds, for items of every attribute type,
// the largest padding that dynalite (with a 1 KB limit) accepts, and
// checks that ItemSize says exactly 1024 bytes there.
func TestItemSizeMatchesDynalite(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{MaxItemSizeKB: 1}))
	table := newTable(t, db)
	N := func(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }
	var numbers []types.AttributeValue
	for _, s := range []string{"0", "1", "12", "123", "1234", "100", "4294967295", "4294967296", "18446744073709551615",
		"-5", "-1234", "1.5", "10.25", "0.001", "0.0012", "1e5", "12E-3", "1700000000", "99999"} {
		numbers = append(numbers, N(s))
	}
	shapes := map[string]map[string]types.AttributeValue{
		"string": {},
		"numbers": func() map[string]types.AttributeValue {
			m := map[string]types.AttributeValue{}
			for i, n := range numbers {
				m["n"+strconv.Itoa(i)] = n
			}
			return m
		}(),
		"list": {"l": &types.AttributeValueMemberL{Value: numbers}},
		"map": {"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"claim-key-16char": &types.AttributeValueMemberL{Value: []types.AttributeValue{N("4294967290"), N("5"), N("1700000000")}},
			"inner":            &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": N("1")}},
			"empty":            &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		}}},
		"other": {
			"b":    &types.AttributeValueMemberB{Value: []byte{1, 2, 3}},
			"t":    &types.AttributeValueMemberBOOL{Value: true},
			"null": &types.AttributeValueMemberNULL{Value: true},
			"ss":   &types.AttributeValueMemberSS{Value: []string{"a", "bcd"}},
			"ns":   &types.AttributeValueMemberNS{Value: []string{"1", "12345"}},
			"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}},
		},
	}
	for name, base := range shapes {
		t.Run(name, func(t *testing.T) {
			item := func(pad int) map[string]types.AttributeValue {
				m := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: name},
					"pad": &types.AttributeValueMemberS{Value: strings.Repeat("p", pad)}}
				for k, v := range base {
					m[k] = v
				}
				return m
			}
			fits := func(pad int) bool {
				_, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item(pad)})
				if err != nil && !strings.Contains(err.Error(), "maximum allowed size") {
					t.Fatal(err)
				}
				return err == nil
			}
			lo, hi := 1, 1100 // fits(lo), !fits(hi)
			if !fits(lo) || fits(hi) {
				t.Fatalf("padding bounds wrong: fits(%d)=%v fits(%d)=%v", lo, fits(lo), hi, fits(hi))
			}
			for hi-lo > 1 {
				if mid := (lo + hi) / 2; fits(mid) {
					lo = mid
				} else {
					hi = mid
				}
			}
			if got := ItemSize(item(lo)); got != 1024 {
				t.Errorf("ItemSize of the largest item dynalite accepts = %d, want 1024", got)
			}
		})
	}
}

func seedClaims(count int, first uint64, at int64, rng *rand.Rand) (map[string]types.AttributeValue, uint64) {
	claims := map[string]types.AttributeValue{}
	for i := range count {
		n := 1 + rng.Uint64N(100_000)
		claims[ClaimKey(fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:fl2nf:seed-%d", i))] =
			&types.AttributeValueMemberL{Value: []types.AttributeValue{num(first), num(n), inum(at)}}
		first += n
	}
	return claims, first
}

// TestSizeBound: an item holding 10,000 claims of realistic size is under
// 400 KB and still takes reservations; once the claims are old, one
// reservation prunes them all.
func TestSizeBound(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	table := newTable(t, db)
	const exporter = "ipfix|10.0.0.5:4739|odid=7"
	clock := seqtest.NewClock(seqtest.T0)
	const start = 1<<32 - 100_000_000
	claims, next := seedClaims(10_000, start, seqtest.T0.Unix(), rand.New(rand.NewPCG(1, 2)))
	item := map[string]types.AttributeValue{
		"pk":     &types.AttributeValueMemberS{Value: exporter},
		"ctr":    &types.AttributeValueMemberL{Value: []types.AttributeValue{num(next)}},
		"claims": &types.AttributeValueMemberM{Value: claims},
		"since":  inum(seqtest.T0.Unix()),
	}
	size := ItemSize(item)
	t.Logf("10,000 claims: %d bytes (%.1f per claim), limit %d", size, float64(size)/10_000, MaxItemBytes)
	if size > MaxItemBytes-2*48 {
		t.Fatalf("10,000 claims take %d bytes, no room for more under %d", size, MaxItemBytes)
	}
	if _, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, db, table, seq.Options{Start: start, Now: clock.Now})
	clock.Advance(13 * 24 * time.Hour)
	r, err := s.Reserve(t.Context(), exporter, "new-1", 5)
	if err != nil || r != (seq.Range{First: next, Count: 5}) {
		t.Fatalf("Reserve on a full-size item = %+v, %v; want {%d 5}", r, err, next)
	}
	st, err := s.Inspect(t.Context(), exporter)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("10,001 claims: %d bytes", st.Bytes)

	clock.Advance(3 * 24 * time.Hour) // the seeds are 16 days old, new-1 3 days
	began := time.Now()
	r, err = s.Reserve(t.Context(), exporter, "new-2", 7)
	if err != nil || r != (seq.Range{First: next + 5, Count: 7}) {
		t.Fatalf("Reserve = %+v, %v; want {%d 7}", r, err, next+5)
	}
	st, err = s.Inspect(t.Context(), exporter)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pruned 10,000 claims in %v; item now %d claims, %d bytes", time.Since(began).Round(time.Millisecond), st.Claims, st.Bytes)
	if st.Claims != 2 || st.Next != next+12 {
		t.Errorf("after pruning: %+v, want 2 claims and next %d", st, next+12)
	}
	if r, err := s.Reserve(t.Context(), exporter, "new-1", 5); err != nil || r.First != next {
		t.Errorf("repeat of a 3-day-old claim = %+v, %v; want first %d", r, err, next)
	}
}

// TestFull: with a 2 KB item limit and a stopped clock, reservations fill
// the item and then fail with ErrFull; once the claims are past Retention
// the next reservation prunes them at once and succeeds.
func TestFull(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{MaxItemSizeKB: 2}))
	table := newTable(t, db)
	clock := seqtest.NewClock(seqtest.T0)
	s := newStore(t, db, table, seq.Options{Retention: time.Hour, Now: clock.Now})
	var i int
	var err error
	for i = 0; i < 100; i++ {
		if _, err = s.Reserve(t.Context(), "e", fmt.Sprint("c", i), 1); err != nil {
			break
		}
	}
	t.Logf("%d claims fit in 2 KB; then: %v", i, err)
	if !errors.Is(err, ErrFull) || seq.IsTransient(err) || errors.Is(err, seq.ErrInvalid) {
		t.Fatalf("reservation %d: %v; want ErrFull, neither transient nor invalid", i, err)
	}
	if r, err := s.Reserve(t.Context(), "e", "c0", 1); err != nil || r.First != 0 {
		t.Errorf("repeat of claim c0 in a full item = %+v, %v; want first 0", r, err)
	}
	clock.Advance(time.Hour + time.Second) // past Retention, not yet past the prune hint's slack
	r, err := s.Reserve(t.Context(), "e", "after", 1)
	if err != nil || r.First != uint64(i) {
		t.Fatalf("Reserve after Retention = %+v, %v; want first %d", r, err, i)
	}
	if st, err := s.Inspect(t.Context(), "e"); err != nil || st.Claims != 1 {
		t.Errorf("Inspect = %+v, %v; want 1 claim", st, err)
	}
}

// faultClient sits between the SDK and dynalite.
type faultClient struct {
	inner  *http.Client
	mu     sync.Mutex
	onCall func(op string, call int) (drop bool, fake *http.Response)
	calls  map[string]int
}

func (c *faultClient) Do(req *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	c.mu.Lock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
	drop, fake := c.onCall(op, c.calls[op])
	c.mu.Unlock()
	if fake != nil {
		return fake, nil
	}
	resp, err := c.inner.Do(req)
	if err == nil && drop {
		// The server did the work; the client never hears of it.
		resp.Body.Close()
		return nil, syscall.ECONNRESET
	}
	return resp, err
}

func (c *faultClient) count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

// TestLostResponse: the first UpdateItem is applied but its response is
// lost; the SDK retries, the condition fails, and Reserve returns the range
// that was stored, with the counter advanced once.
func TestLostResponse(t *testing.T) {
	ep := dynalite.Start(t, dynalite.Options{})
	table := newTable(t, dynalite.Client(ep))
	fc := &faultClient{inner: &http.Client{}, onCall: func(op string, call int) (bool, *http.Response) {
		return op == "UpdateItem" && call == 2, nil // call 1 fails: the item does not exist yet
	}}
	db := dynalite.Client(ep, func(o *dynamodb.Options) { o.HTTPClient = fc })
	s := newStore(t, db, table, seq.Options{Start: 40})
	s.retryer = retryerForTest(s, 3)
	r, err := s.Reserve(t.Context(), "e", "a", 2)
	if err != nil || r != (seq.Range{First: 40, Count: 2}) {
		t.Fatalf("Reserve = %+v, %v; want {40 2}", r, err)
	}
	if got := fc.count("UpdateItem"); got != 3 {
		t.Errorf("%d UpdateItem calls, want 3 (missing item, lost response, retry)", got)
	}
	if r, err := s.Reserve(t.Context(), "e", "b", 1); err != nil || r.First != 42 {
		t.Errorf("next Reserve = %+v, %v; want first 42", r, err)
	}
}

func retryerForTest(s *Store, attempts int) aws.Retryer {
	st, _ := New(s.db, s.table, Options{MaxAttempts: attempts, MaxBackoff: time.Millisecond})
	return st.retryer
}

// TestThrottled: throttling that outlasts the retries comes back marked
// transient.
func TestThrottled(t *testing.T) {
	ep := dynalite.Start(t, dynalite.Options{})
	table := newTable(t, dynalite.Client(ep))
	for _, code := range []string{"ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError"} {
		t.Run(code, func(t *testing.T) {
			status := http.StatusBadRequest
			if code == "InternalServerError" {
				status = http.StatusInternalServerError
			}
			fc := &faultClient{inner: &http.Client{}, onCall: func(op string, call int) (bool, *http.Response) {
				body := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"slow down"}`, code)
				return false, &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
					Body: io.NopCloser(bytes.NewBufferString(body)), ContentLength: int64(len(body))}
			}}
			db := dynalite.Client(ep, func(o *dynamodb.Options) { o.HTTPClient = fc })
			s, err := New(db, table, Options{MaxAttempts: 3, MaxBackoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Reserve(t.Context(), "e", "a", 1)
			if !seq.IsTransient(err) || errors.Is(err, seq.ErrInvalid) {
				t.Fatalf("Reserve: %v; want a transient error", err)
			}
			if got := fc.count("UpdateItem"); got != 3 {
				t.Errorf("%d UpdateItem attempts, want 3", got)
			}
			t.Logf("%v", err)
		})
	}
}

// TestFirstUseRace: many callers reserve on a new exporter at once; one
// creates the item, all get their ranges.
func TestFirstUseRace(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	s := newStore(t, db, newTable(t, db), seq.Options{Start: 1000})
	var mu sync.Mutex
	var got []seq.Range
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			r, err := s.Reserve(t.Context(), "fresh", fmt.Sprint("c", i), uint64(i+1))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got = append(got, r)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(got, func(a, b seq.Range) int { return int(a.First) - int(b.First) })
	next := uint64(1000)
	for _, r := range got {
		if r.First != next {
			t.Fatalf("ranges %+v do not tile from 1000", got)
		}
		next += r.Count
	}
	if next != 1000+32*33/2 {
		t.Errorf("ranges end at %d, want %d", next, 1000+32*33/2)
	}
}

func TestEnsureTable(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	if err := EnsureTable(t.Context(), db, "seq-table"); err != nil {
		t.Fatal(err)
	}
	if err := EnsureTable(t.Context(), db, "seq-table"); err != nil {
		t.Errorf("second EnsureTable: %v", err)
	}
	_, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String("other-table"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureTable(t.Context(), db, "other-table"); err == nil || !strings.Contains(err.Error(), "key schema") {
		t.Errorf("EnsureTable on a table keyed by id: %v, want a key schema error", err)
	}
	if _, err := New(db, "", Options{}); err == nil {
		t.Error("New without a table succeeded")
	}
}

// TestFullForgetsOldestUnderPressure: with a 2 KB item limit, an item full
// of claims younger than MinRetention refuses (ErrFull); once they are
// older than MinRetention (but far younger than Retention), a full item
// forgets the oldest half instead of refusing, so a steady rate below
// capacity/MinRetention goes on forever, gap-free, with the newest claims
// repeatable.
func TestFullForgetsOldestUnderPressure(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{MaxItemSizeKB: 2}))
	table := newTable(t, db)
	clock := seqtest.NewClock(seqtest.T0)
	s := newStore(t, db, table, seq.Options{Retention: 14 * 24 * time.Hour, MinRetention: time.Hour, Now: clock.Now})
	var next uint64
	var i int
	var err error
	for i = 0; i < 200; i++ {
		var r seq.Range
		if r, err = s.Reserve(t.Context(), "e", fmt.Sprint("c", i), 1); err != nil {
			break
		}
		if r.First != next {
			t.Fatalf("claim %d got %d, want %d", i, r.First, next)
		}
		next++
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("after %d claims in one instant: %v, want ErrFull", i, err)
	}
	clock.Advance(2 * time.Hour)
	for j := 0; j < 3*i; j++ {
		clock.Advance(2 * time.Minute)
		r, err := s.Reserve(t.Context(), "e", fmt.Sprint("late", j), 2)
		if err != nil {
			t.Fatalf("reservation %d after the item filled: %v", j, err)
		}
		if r.First != next {
			t.Fatalf("late claim %d got %d, want %d (gap or overlap)", j, r.First, next)
		}
		next += 2
		if again, err := s.Reserve(t.Context(), "e", fmt.Sprint("late", j), 2); err != nil || again != r {
			t.Fatalf("repeating the newest claim = %+v, %v; want %+v", again, err, r)
		}
	}
}
