package dynamoseq

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dynalite"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/seqtest"
)

// TestOrderTurns: ranges go in reservation order. The second range waits
// while the first is unsent, goes once it is sent; a retry of a range
// already sent is late; a range stuck for the stall time is given up
// (counted) and the next one goes, and the stuck one, if it ever comes, is
// late and does not move the watermark back.
func TestOrderTurns(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	table := newTable(t, db)
	clock := seqtest.NewClock(seqtest.T0)
	s := newStore(t, db, table, seq.Options{Start: 100, Now: clock.Now})
	const e = "ipfix|10.0.0.5:4739|odid=7"
	const stall = 20 * time.Minute
	a, _ := s.Reserve(t.Context(), e, "A", 10)
	b, _ := s.Reserve(t.Context(), e, "B", 5)
	c, _ := s.Reserve(t.Context(), e, "C", 3)
	turn := func(r seq.Range) seq.Turn {
		t.Helper()
		tu, err := s.Turn(t.Context(), e, r.First, stall)
		if err != nil {
			t.Fatal(err)
		}
		return tu
	}
	if tu := turn(b); tu.Go || tu.Next != 100 {
		t.Fatalf("B before A: %+v, want to wait at 100", tu)
	}
	if tu := turn(a); !tu.Go || tu.Late || tu.Next != 100 {
		t.Fatalf("A: %+v, want go", tu)
	}
	if err := s.Sent(t.Context(), e, a.First, a.Count); err != nil {
		t.Fatal(err)
	}
	if tu := turn(b); !tu.Go || tu.Late || tu.Next != 110 {
		t.Fatalf("B after A: %+v, want go at 110", tu)
	}
	if tu := turn(a); !tu.Go || !tu.Late {
		t.Errorf("A again after it was sent: %+v, want late", tu)
	}
	// B is never sent (its execution failed): C waits, then gives B up.
	clock.Advance(stall - time.Minute)
	if tu := turn(c); tu.Go {
		t.Fatalf("C while B is not yet stalled: %+v", tu)
	}
	clock.Advance(2 * time.Minute)
	if tu := turn(c); !tu.Go || tu.Skipped != 5 || tu.Next != 115 {
		t.Fatalf("C after the stall: %+v, want go, 5 skipped", tu)
	}
	if err := s.Sent(t.Context(), e, c.First, c.Count); err != nil {
		t.Fatal(err)
	}
	// B comes back (a redrive): late, and its Sent leaves the watermark.
	if tu := turn(b); !tu.Go || !tu.Late || tu.Next != 118 {
		t.Errorf("B redriven: %+v, want late at 118", tu)
	}
	if err := s.Sent(t.Context(), e, b.First, b.Count); err != nil {
		t.Fatal(err)
	}
	item := getItem(t, db, table, e)
	if n, _ := parseUint(item[attrSent]); n != 118 {
		t.Errorf("watermark %d after B's late send, want 118", n)
	}
	if n, _ := parseUint(item[attrSkipped]); n != 5 {
		t.Errorf("skipped %d, want 5", n)
	}
	if size := ItemSize(item); wcu(size+46) != 1 {
		t.Errorf("counter item %d bytes with the send order: more than 1 WCU with a pending claim", size)
	}
}

// TestOrderLegacyCounter: a counter made before the send order existed
// starts it at the first range that asks.
func TestOrderLegacyCounter(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	table := newTable(t, db)
	s := newStore(t, db, table, seq.Options{Start: 7})
	const e = "netflow9|10.0.0.9:2055|source-id=1"
	r, _ := s.Reserve(t.Context(), e, "old", 4)
	if _, err := db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: s.key(e),
		UpdateExpression: aws.String("REMOVE sent, sent_at")}); err != nil {
		t.Fatal(err)
	}
	next, _ := s.Reserve(t.Context(), e, "new", 2)
	if tu, err := s.Turn(t.Context(), e, next.First, time.Hour); err != nil || !tu.Go {
		t.Fatalf("first Turn on a legacy counter: %+v, %v", tu, err)
	}
	if tu, _ := s.Turn(t.Context(), e, r.First, time.Hour); !tu.Late {
		t.Errorf("the range reserved before: %+v, want late", tu)
	}
}

// TestOrderConcurrent: 12 reservers at once, each sending its range when
// its turn comes (polling, as the sender does): the ranges are sent one at
// a time, in ascending order, each once, with no value skipped.
func TestOrderConcurrent(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	table := newTable(t, db)
	s := newStore(t, db, table, seq.Options{Start: 1<<32 - 50})
	const e = "netflow5|10.0.0.1:9995|engine=0/0"
	var mu sync.Mutex
	var sent []seq.Range
	busy := 0
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.Reserve(t.Context(), e, fmt.Sprintf("exec-%d", i), uint64(1+i*7))
			if err != nil {
				t.Error(err)
				return
			}
			for {
				tu, err := s.Turn(t.Context(), e, r.First, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if tu.Go {
					if tu.Late || tu.Skipped != 0 {
						t.Errorf("range %+v: %+v", r, tu)
					}
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			mu.Lock()
			busy++
			if busy > 1 {
				t.Errorf("two ranges sending at once")
			}
			sent = append(sent, r)
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
			mu.Lock()
			busy--
			mu.Unlock()
			if err := s.Sent(t.Context(), e, r.First, r.Count); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(sent) != 12 {
		t.Fatalf("%d ranges sent", len(sent))
	}
	for i := 1; i < len(sent); i++ {
		if sent[i].First != sent[i-1].First+sent[i-1].Count {
			t.Fatalf("range %d %+v does not follow %+v", i, sent[i], sent[i-1])
		}
	}
}
