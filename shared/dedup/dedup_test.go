package dedup

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dynalite"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/dynamoseq"
)

const (
	exec1 = "arn:aws:states:us-east-1:123456789012:execution:flowlogs2netflow:a1b2"
	exec2 = "arn:aws:states:us-east-1:123456789012:execution:flowlogs2netflow:c3d4"
	key   = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/27/123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261127T1005Z_0a1b2c3d.log.gz"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// setup starts dynalite with the sequence table (the table claims share)
// and returns a client, the table and a store on it.
func setup(t *testing.T) (*dynamodb.Client, string, *Store, *clock) {
	t.Helper()
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	const table = "sequences"
	if err := dynamoseq.EnsureTable(t.Context(), db, table); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	s, err := New(db, table, Options{Now: c.now, TTL: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return db, table, s, c
}

func claim(t *testing.T, s *Store, etag, execID string) Result {
	t.Helper()
	r, err := s.Claim(t.Context(), "flow-logs", key, etag, execID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestClaim(t *testing.T) {
	db, table, s, c := setup(t)
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		name  string
		etag  string
		exec  string
		later time.Duration
		want  Result
	}{
		{"first event", "etag1", exec1, 0, Result{First: true, Owner: exec1, ClaimedAt: at}},
		{"duplicate event blocked", "etag1", exec2, time.Minute, Result{Owner: exec1, ClaimedAt: at}},
		{"retry or redrive of the owner allowed", "etag1", exec1, time.Hour, Result{First: true, Owner: exec1, ClaimedAt: at, Repeat: true}},
		{"new version (etag) allowed", "etag2", exec2, 0, Result{First: true, Owner: exec2, ClaimedAt: at.Add(61 * time.Minute)}},
		{"duplicate of the new version blocked", "etag2", exec1, 0, Result{Owner: exec2, ClaimedAt: at.Add(61 * time.Minute)}},
		{"still blocked just before expiry", "etag1", exec2, 47*time.Hour - 62*time.Minute, Result{Owner: exec1, ClaimedAt: at}},
		{"expired claim is taken over", "etag1", exec2, 2 * time.Hour, Result{First: true, Owner: exec2, ClaimedAt: at.Add(48*time.Hour + 59*time.Minute)}},
	}
	for _, st := range steps {
		c.add(st.later)
		got := claim(t, s, st.etag, st.exec)
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", st.name, diff)
		}
		if got.Duplicate() != !st.want.First {
			t.Errorf("%s: Duplicate() = %v", st.name, got.Duplicate())
		}
	}
	// The item as stored.
	pk, _ := Key("flow-logs", key, "etag2")
	out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
	})
	if err != nil {
		t.Fatal(err)
	}
	claimed := at.Add(61 * time.Minute).Unix()
	want := map[string]string{
		"pk":         "S:object|flow-logs|" + key + "|etag2",
		"owner":      "S:" + exec2,
		"claimed_at": fmt.Sprintf("N:%d", claimed),
		"expires_at": fmt.Sprintf("N:%d", claimed+48*3600),
	}
	if diff := cmp.Diff(want, flat(out.Item)); diff != "" {
		t.Errorf("item (-want +got):\n%s", diff)
	}
}

func flat(item map[string]types.AttributeValue) map[string]string {
	m := map[string]string{}
	for k, v := range item {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			m[k] = "S:" + v.Value
		case *types.AttributeValueMemberN:
			m[k] = "N:" + v.Value
		default:
			m[k] = fmt.Sprintf("%T", v)
		}
	}
	return m
}

func TestReason(t *testing.T) {
	r := Result{Owner: exec1, ClaimedAt: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	if got, want := r.Reason(), "already processed by "+exec1+" (claimed 2026-11-27T10:00:00Z)"; got != want {
		t.Errorf("Reason = %q, want %q", got, want)
	}
	if got := (Result{First: true, Owner: exec1}).Reason(); got != "" {
		t.Errorf("Reason of a first claim = %q", got)
	}
}

func TestClaimObjectReprocessBypasses(t *testing.T) {
	db, table, s, _ := setup(t)
	obj := contract.ObjectRef{Bucket: "flow-logs", Key: key, ETag: "etag1", Size: 10}
	ev := contract.ExecutionInput{Bucket: "flow-logs", Key: key, Source: contract.SourceEventBridge}
	rp := contract.ExecutionInput{Bucket: "flow-logs", Key: key, Source: contract.SourceManual, Reprocess: true}

	if r, err := s.ClaimObject(t.Context(), ev, obj, exec1); err != nil || !r.First || r.Bypassed {
		t.Fatalf("event claim: %+v, %v", r, err)
	}
	if r, err := s.ClaimObject(t.Context(), ev, obj, exec2); err != nil || !r.Duplicate() || r.Owner != exec1 {
		t.Fatalf("duplicate event: %+v, %v", r, err)
	}
	// A reprocess execution runs although exec1 owns the version, and
	// leaves the claim alone.
	r, err := s.ClaimObject(t.Context(), rp, obj, exec2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Result{First: true, Owner: exec2, Bypassed: true}, r); diff != "" {
		t.Errorf("reprocess (-want +got):\n%s", diff)
	}
	// Nor does a reprocess of a never-claimed version write a claim.
	fresh := obj
	fresh.ETag = "etag9"
	if _, err := s.ClaimObject(t.Context(), rp, fresh, exec2); err != nil {
		t.Fatal(err)
	}
	for etag, wantOwner := range map[string]string{"etag1": exec1, "etag9": ""} {
		pk, _ := Key("flow-logs", key, etag)
		out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{
			TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
		})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if o, ok := out.Item["owner"].(*types.AttributeValueMemberS); ok {
			got = o.Value
		}
		if got != wantOwner {
			t.Errorf("%s: owner %q, want %q", etag, got, wantOwner)
		}
	}
	if ShouldClaim(rp) || !ShouldClaim(ev) {
		t.Error("ShouldClaim: want false for reprocess, true otherwise")
	}
}

func TestClaimVersionedBucket(t *testing.T) {
	_, _, s, _ := setup(t)
	ev := contract.ExecutionInput{Bucket: "flow-logs", Key: key}
	v1 := contract.ObjectRef{Bucket: "flow-logs", Key: key, ETag: "same", VersionID: "v1"}
	v2 := contract.ObjectRef{Bucket: "flow-logs", Key: key, ETag: "same", VersionID: "v2"}
	if r, _ := s.ClaimObject(t.Context(), ev, v1, exec1); !r.First {
		t.Errorf("v1: %+v", r)
	}
	if r, _ := s.ClaimObject(t.Context(), ev, v2, exec2); !r.First {
		t.Errorf("v2 (same ETag, new version): %+v", r)
	}
	if r, _ := s.ClaimObject(t.Context(), ev, v1, exec2); r.First {
		t.Errorf("v1 again: %+v", r)
	}
}

func TestClaimConcurrent(t *testing.T) {
	_, _, s, _ := setup(t)
	const n = 8
	results := make([]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = s.Claim(t.Context(), "flow-logs", key, "etag1", fmt.Sprintf("%s-%d", exec1, i))
		})
	}
	wg.Wait()
	winners := 0
	var owner string
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("claim %d: %v", i, errs[i])
		}
		if r.First {
			winners++
			owner = r.Owner
		}
	}
	if winners != 1 {
		t.Fatalf("%d executions won, want 1: %+v", winners, results)
	}
	for i, r := range results {
		if r.Owner != owner {
			t.Errorf("claim %d sees owner %q, winner %q", i, r.Owner, owner)
		}
	}
}

// Claims share the sequence table with dynamoseq's counters without
// disturbing them.
func TestSharesSequenceTable(t *testing.T) {
	db, table, s, _ := setup(t)
	st, err := dynamoseq.New(db, table, dynamoseq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const exporter = "ipfix|10.0.0.5:4739|domain=7"
	r1, err := st.Reserve(t.Context(), exporter, exec1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if r := claim(t, s, "etag1", exec1); !r.First {
		t.Fatalf("claim: %+v", r)
	}
	r2, err := st.Reserve(t.Context(), exporter, exec2, 50)
	if err != nil {
		t.Fatal(err)
	}
	if r2.First != r1.First+100 {
		t.Errorf("reservations %+v then %+v: not contiguous", r1, r2)
	}
	state, err := st.Inspect(t.Context(), exporter)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seq.State{Exists: true, Next: r1.First + 150, Claims: 2, Bytes: state.Bytes}, state); diff != "" {
		t.Errorf("exporter state (-want +got):\n%s", diff)
	}
	if r := claim(t, s, "etag1", exec2); r.First {
		t.Errorf("duplicate after reservations: %+v", r)
	}
	// No exporter identity can look like a claim key.
	if strings.HasPrefix(exporter, KeyPrefix) {
		t.Errorf("exporter %q has the claim prefix", exporter)
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		bucket, key, version string
		want                 string
	}{
		{"b", "a/b.log.gz", "etag", "object|b|a/b.log.gz|etag"},
		{"b", "with|pipes|in|key", "v=3HL4", "object|b|with|pipes|in|key|v=3HL4"},
		{"b", strings.Repeat("k", 1024), "e", "object|b|" + strings.Repeat("k", 1024) + "|e"},
	}
	for _, tt := range tests {
		got, err := Key(tt.bucket, tt.key, tt.version)
		if err != nil || got != tt.want {
			t.Errorf("Key(%q, %q, %q) = %q, %v, want %q", tt.bucket, tt.key, tt.version, got, err, tt.want)
		}
	}
	// A key too long for the partition key is hashed.
	long := strings.Repeat("k", 3000)
	got, err := Key("b", long, "e")
	if err != nil || len(got) > maxPK || !strings.HasPrefix(got, "object|b|sha256:") || !strings.HasSuffix(got, "|e") {
		t.Errorf("long key: %q (%d bytes), %v", got, len(got), err)
	}
	for _, bad := range [][3]string{{"", "k", "e"}, {"b", "", "e"}, {"b", "k", ""}, {"b", "k", "e|f"}, {"b|c", "k", "e"}} {
		if _, err := Key(bad[0], bad[1], bad[2]); !errors.Is(err, ErrInvalid) {
			t.Errorf("Key%q: err = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, tt := range []struct {
		o    contract.ObjectRef
		want string
	}{
		{contract.ObjectRef{ETag: "abc"}, "abc"},
		{contract.ObjectRef{ETag: `"abc"`}, "abc"},
		{contract.ObjectRef{ETag: "abc", VersionID: "v1"}, "v=v1"},
		{contract.ObjectRef{ETag: "abc", VersionID: "null"}, "abc"},
	} {
		if got := Version(tt.o); got != tt.want {
			t.Errorf("Version(%+v) = %q, want %q", tt.o, got, tt.want)
		}
	}
}

func TestInvalid(t *testing.T) {
	if _, err := New(nil, "t", Options{}); err == nil {
		t.Error("New without a client succeeded")
	}
	s, err := New(&dynamodb.Client{}, "t", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Invalid claims fail before any request (the client is unusable).
	for _, args := range [][4]string{{"", "k", "e", exec1}, {"b", "k", "e", ""}, {"b", "k", "", exec1}} {
		if _, err := s.Claim(t.Context(), args[0], args[1], args[2], args[3]); !errors.Is(err, ErrInvalid) {
			t.Errorf("Claim%q: err = %v, want ErrInvalid", args, err)
		}
	}
}
