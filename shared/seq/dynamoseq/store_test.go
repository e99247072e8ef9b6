package dynamoseq

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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

func getKey(t *testing.T, db *dynamodb.Client, table, pk string) map[string]types.AttributeValue {
	t.Helper()
	return getItem(t, db, table, pk)
}

// TestLayout pins the items the package doc describes.
func TestLayout(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	table := newTable(t, db)
	clock := seqtest.NewClock(seqtest.T0)
	const exporter = "ipfix|10.0.0.5:4739|odid=7"
	s := newStore(t, db, table, seq.Options{Start: 1<<32 - 1, Now: clock.Now, Retention: 24 * time.Hour})
	reserve := func(claim string, n uint64) {
		t.Helper()
		if _, err := s.Reserve(t.Context(), exporter, claim, n); err != nil {
			t.Fatal(err)
		}
	}
	reserve("exec-a", 3)
	clock.Advance(time.Minute)
	reserve("exec-b", 1000)
	at := seqtest.T0.Unix()
	want := map[string]any{"pk": "S:" + exporter, "ctr": []any{"N:4294968298"},
		"recent": "S:," + ClaimKey(exporter, "exec-a") + "," + ClaimKey(exporter, "exec-b") + ",",
		// The send order starts where the counter does (order.go).
		"sent": "N:4294967295", "sent_at": "N:" + strconv.FormatInt(at, 10)}
	if diff := cmp.Diff(want, plainItem(getItem(t, db, table, exporter))); diff != "" {
		t.Errorf("counter item (-want +got):\n%s", diff)
	}
	for _, c := range []struct {
		claim    string
		first, n string
		at       int64
	}{{"exec-a", "4294967295", "3", at}, {"exec-b", "4294967298", "1000", at + 60}} {
		pk := ClaimPrefix + ClaimKey(exporter, c.claim)
		want := map[string]any{"pk": "S:" + pk, "first": "N:" + c.first, "n": "N:" + c.n,
			"at": "N:" + strconv.FormatInt(c.at, 10), "expires_at": "N:" + strconv.FormatInt(c.at+86400, 10), "exporter": "S:" + exporter}
		if diff := cmp.Diff(want, plainItem(getKey(t, db, table, pk))); diff != "" {
			t.Errorf("claim item %s (-want +got):\n%s", c.claim, diff)
		}
	}
	if k := ClaimKey(exporter, strings.Repeat("x", 1000)); len(k) != 22 {
		t.Errorf("ClaimKey is %d characters, want 22", len(k))
	}
	if ClaimKey("a", "b") == ClaimKey("b", "a") || ClaimKey("e1", "c") == ClaimKey("e2", "c") {
		t.Error("ClaimKey does not tell exporters apart")
	}
}

// TestConstantWriteCost: the items a reservation writes are as large at
// the 10,000th reservation of an exporter as at the first, so it costs
// the same write units (1 WCU per KB of the larger of the item before and
// after; "Read/write capacity mode", DynamoDB developer guide): 3 writes
// of 1 WCU each, where the one-item layout rewrote all claims (~310 WCU at
// 10,000 claims).
func TestConstantWriteCost(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	table := newTable(t, db)
	clock := seqtest.NewClock(seqtest.T0)
	const exporter = "netflow9|10.0.0.5:2055|source-id=1"
	s := newStore(t, db, table, seq.Options{Start: 1 << 31, Now: clock.Now})
	claim := func(i int) string {
		return fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:fl2nf:%08d", i)
	}
	var fullCounter, fullClaim int
	total := 10_000
	if testing.Short() {
		total = 500
	}
	began := time.Now()
	for i := 1; i <= total; i++ {
		clock.Advance(time.Minute)
		if _, err := s.Reserve(t.Context(), exporter, claim(i), uint64(1+i%5000)); err != nil {
			t.Fatal(err)
		}
		if i != 1 && i != 100 && i != total {
			continue
		}
		// Sizes after the reservation; while one is pending the counter
		// also holds pend ([first, n, claim pk, at]: pendBytes). The list
		// of recent claims is full from the 24th on.
		counter := ItemSize(getItem(t, db, table, exporter))
		claimItem := ItemSize(getKey(t, db, table, ClaimPrefix+ClaimKey(exporter, claim(i))))
		const pendBytes = 4 + 3 + 3 + 11 + 5 + 28 + 6
		t.Logf("reservation %d: counter item %d bytes (%d with pend), claim item %d bytes: %d + %d + %d WCU",
			i, counter, counter+pendBytes, claimItem, wcu(counter+pendBytes), wcu(claimItem), wcu(counter+pendBytes))
		if wcu(counter+pendBytes) != 1 || wcu(claimItem) != 1 {
			t.Errorf("reservation %d writes more than 1 WCU per item", i)
		}
		switch i {
		case 100:
			fullCounter, fullClaim = counter, claimItem
		case total:
			if counter > fullCounter+2 || claimItem > fullClaim+2 {
				t.Errorf("reservation %d: counter %d bytes, claim %d bytes; the 100th had %d and %d", i, counter, claimItem, fullCounter, fullClaim)
			}
		}
	}
	t.Logf("%d reservations in %v", total, time.Since(began).Round(time.Millisecond))
}

// wcu is the write units of a standard write of an item of size bytes.
func wcu(size int) int { return (size + 1023) / 1024 }

// TestCrashAfterAllocate: a reserver that dies between advancing the
// counter and recording its claim blocks no one: the next reservation
// records the orphaned range first, and the dead reserver's retry finds
// it — same numbers, no gap.
func TestCrashAfterAllocate(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	table := newTable(t, db)
	crashing := newStore(t, db, table, seq.Options{Start: 100})
	crash := errors.New("killed")
	crashing.afterAlloc = func() error { return crash }
	if _, err := crashing.Reserve(t.Context(), "e", "dead", 7); !errors.Is(err, crash) {
		t.Fatalf("crashing Reserve: %v", err)
	}
	if c, err := crashing.readCounter(t.Context(), "e"); err != nil || c.pend == nil || c.next != 107 {
		t.Fatalf("after the crash: counter %+v, %v; want next 107 and a pending claim", c, err)
	}
	s := newStore(t, db, table, seq.Options{Start: 100})
	if r, err := s.Reserve(t.Context(), "e", "next", 3); err != nil || r != (seq.Range{First: 107, Count: 3}) {
		t.Fatalf("next Reserve = %+v, %v; want {107 3}", r, err)
	}
	if r, err := s.Reserve(t.Context(), "e", "dead", 7); err != nil || r != (seq.Range{First: 100, Count: 7}) {
		t.Errorf("retry of the crashed claim = %+v, %v; want {100 7}", r, err)
	}
	if r, err := s.Reserve(t.Context(), "e", "dead", 8); !errors.Is(err, seq.ErrClaimMismatch) {
		t.Errorf("retry with another count = %+v, %v; want ErrClaimMismatch", r, err)
	}
	// A crash, then the same claim again before anyone else: it finishes
	// its own pending reservation.
	crashing.Reserve(t.Context(), "e", "again", 2)
	if r, err := s.Reserve(t.Context(), "e", "again", 2); err != nil || r != (seq.Range{First: 110, Count: 2}) {
		t.Errorf("retry of a claim left pending = %+v, %v; want {110 2}", r, err)
	}
	if st, err := s.Inspect(t.Context(), "e"); err != nil || st.Next != 112 || st.Claims != 3 {
		t.Errorf("Inspect = %+v, %v; want next 112 and 3 claims", st, err)
	}
}

// TestLegacyItem: a counter item of the one-item layout (claims in a map)
// goes on from its counter, and the first reservation drops the map.
func TestLegacyItem(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	table := newTable(t, db)
	claims := map[string]types.AttributeValue{}
	for i := range 2000 {
		claims[fmt.Sprintf("k%015d", i)] = &types.AttributeValueMemberL{Value: []types.AttributeValue{num(uint64(i)), num(1), inum(1700000000)}}
	}
	if _, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"pk": str("e"), "ctr": &types.AttributeValueMemberL{Value: []types.AttributeValue{num(5000)}},
		"claims": &types.AttributeValueMemberM{Value: claims}, "since": inum(1700000000),
	}}); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, db, table, seq.Options{})
	if r, err := s.Reserve(t.Context(), "e", "first-after-upgrade", 10); err != nil || r != (seq.Range{First: 5000, Count: 10}) {
		t.Fatalf("Reserve on a legacy item = %+v, %v; want {5000 10}", r, err)
	}
	if diff := cmp.Diff(map[string]any{"pk": "S:e", "ctr": []any{"N:5010"}, "recent": "S:," + ClaimKey("e", "first-after-upgrade") + ","},
		plainItem(getItem(t, db, table, "e"))); diff != "" {
		t.Errorf("counter after the first reservation (-want +got):\n%s", diff)
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

// TestLostResponse: the allocating UpdateItem is applied but its response
// is lost; the SDK retries, the condition fails on the pending claim, and
// Reserve records that pending claim (its own) and returns its range, with
// the counter advanced once.
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
	if got := fc.count("UpdateItem"); got != 4 {
		t.Errorf("%d UpdateItem calls, want 4 (missing item, lost response, retry finding its own pend, clearing it)", got)
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
			if got := fc.count("GetItem"); got != 3 {
				t.Errorf("%d GetItem attempts, want 3", got)
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

// TestSameClaimConcurrently: calls for one claim racing each other (a
// Step Functions retry while the first attempt still runs) and with other
// claims get one range, and the counter moves once for it.
func TestSameClaimConcurrently(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	s := newStore(t, db, newTable(t, db), seq.Options{Start: 0})
	for round := range 10 {
		var wg sync.WaitGroup
		got := make([]seq.Range, 8)
		for i := range got {
			wg.Go(func() {
				claim := fmt.Sprint("same-", round)
				if i%2 == 1 {
					claim = fmt.Sprint("other-", round, "-", i)
				}
				r, err := s.Reserve(t.Context(), "e", claim, 10)
				if err != nil {
					t.Error(err)
				}
				got[i] = r
			})
		}
		wg.Wait()
		for i := 2; i < len(got); i += 2 {
			if got[i] != got[0] {
				t.Fatalf("round %d: the same claim got %+v and %+v", round, got[0], got[i])
			}
		}
	}
	// Per round: the shared claim once, four others: 5 × 10 numbers.
	if st, err := s.Inspect(t.Context(), "e"); err != nil || st.Next != 10*5*10 {
		t.Errorf("Inspect = %+v, %v; want next %d (each claim reserved once)", st, err, 10*5*10)
	}
}
