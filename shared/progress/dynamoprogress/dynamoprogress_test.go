package dynamoprogress

import (
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dynalite"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/progress"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/send"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/dynamoseq"
)

func newStore(t *testing.T) (*Store, *dynamodb.Client) {
	t.Helper()
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	if err := dynamoseq.EnsureTable(t.Context(), db, "seq"); err != nil {
		t.Fatal(err)
	}
	return &Store{DB: db, Table: "seq"}, db
}

// TestRecordLifecycle: absent → partial → partial → done on dynalite; a
// done record refuses every later Put (ErrDone), so a late attempt cannot
// turn a finished send back into a partial one.
func TestRecordLifecycle(t *testing.T) {
	s, _ := newStore(t)
	k := progress.Key{Execution: "arn:aws:states:us-east-1:123456789012:execution:fl2nf:abc", Chunk: 3, Receiver: "r1"}
	r, err := s.Get(t.Context(), k)
	if err != nil || r != (progress.Record{}) {
		t.Fatalf("absent record: %+v, %v", r, err)
	}
	a := send.Result{Datagrams: 1000, Units: 21000, Records: 21000, Bytes: 1_300_000, Templates: 2}
	b := send.Result{Datagrams: 2000, Units: 42000, Records: 41990, Bytes: 2_600_000, Templates: 3}
	if err := s.Put(t.Context(), k, progress.Record{Sent: a}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), k, progress.Record{Sent: b, Prev: a}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Get(t.Context(), k); err != nil || r != (progress.Record{Sent: b, Prev: a}) {
		t.Fatalf("partial record: %+v, %v", r, err)
	}
	other := k
	other.Receiver = "r2"
	if r, _ := s.Get(t.Context(), other); r != (progress.Record{}) {
		t.Errorf("another receiver's record: %+v", r)
	}
	done := progress.Record{Sent: b, Prev: b, Done: true}
	if err := s.Put(t.Context(), k, done); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), k, progress.Record{Sent: a}); !errors.Is(err, progress.ErrDone) {
		t.Errorf("Put after done: %v, want ErrDone", err)
	}
	if r, _ := s.Get(t.Context(), k); r != done {
		t.Errorf("done record: %+v", r)
	}
}

// TestExpired: a record past its retention reads as absent and may be
// written again (DynamoDB's TTL deletes it only days later).
func TestExpired(t *testing.T) {
	s, _ := newStore(t)
	now := time.Unix(1_800_000_000, 0)
	s.Now = func() time.Time { return now }
	k := progress.Key{Execution: "e", Chunk: 0, Receiver: "r0"}
	if err := s.Put(t.Context(), k, progress.Record{Sent: send.Result{Datagrams: 5}, Done: true}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(DefaultRetention + time.Hour)
	if r, err := s.Get(t.Context(), k); err != nil || r != (progress.Record{}) {
		t.Errorf("expired record: %+v, %v", r, err)
	}
	if err := s.Put(t.Context(), k, progress.Record{Sent: send.Result{Datagrams: 1}}); err != nil {
		t.Errorf("Put over an expired done record: %v", err)
	}
}

// TestItemSize: the largest record (every counter at its maximum, an
// execution ARN of 256 bytes hashed away) stays under 1 KB, so every
// checkpoint costs 1 write unit (DynamoDB bills a PutItem by the larger
// of the old and new item, 1 WCU per KB), however long the execution
// name; dynalite's ConsumedCapacity agrees.
func TestItemSize(t *testing.T) {
	s, db := newStore(t)
	k := progress.Key{Execution: strings.Repeat("x", 256), Chunk: math.MaxInt32, Receiver: strings.Repeat("r", 64)}
	m := uint64(math.MaxUint64)
	big := send.Result{Datagrams: m, Units: m, Records: m, Bytes: m, Templates: m}
	if err := s.Put(t.Context(), k, progress.Record{Sent: big, Prev: big, Done: true}); err != nil {
		t.Fatal(err)
	}
	out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String("seq"),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: ItemKey(k)}}})
	if err != nil {
		t.Fatal(err)
	}
	size := dynamoseq.ItemSize(out.Item)
	t.Logf("largest progress item: %d bytes", size)
	if size > 1024 {
		t.Errorf("progress item is %d bytes, over 1 KB", size)
	}
	out.Item["pk"] = &types.AttributeValueMemberS{Value: ItemKey(k) + "-copy"}
	put, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String("seq"), Item: out.Item,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil {
		t.Fatal(err)
	}
	if c := aws.ToFloat64(put.ConsumedCapacity.CapacityUnits); c != 1 {
		t.Errorf("dynalite charged %v write units for a progress item, want 1", c)
	}
}

// TestConcurrentDone: two attempts of one send finishing at once (a Step
// Functions retry while the first still runs): one records done, the other
// gets ErrDone, never an overwrite.
func TestConcurrentDone(t *testing.T) {
	s, _ := newStore(t)
	k := progress.Key{Execution: "e", Chunk: 1, Receiver: "r0"}
	var wg sync.WaitGroup
	var ok, done atomic.Int32
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Put(t.Context(), k, progress.Record{Sent: send.Result{Datagrams: uint64(10 + i)}, Done: true})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, progress.ErrDone):
				done.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// dynalite serializes writes per item, so exactly one wins.
	if ok.Load() != 1 || done.Load() != 7 {
		t.Errorf("%d writes recorded done, %d refused; want 1 and 7", ok.Load(), done.Load())
	}
}
