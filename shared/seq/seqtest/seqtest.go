// Package seqtest is the contract test suite that every seq.Store passes:
// gap-free and overlap-free ranges under concurrency and wrap-around,
// idempotent claims (also across a restart), independent exporters,
// pruning that keeps the state small, and request validation.
package seqtest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
)

// Factory makes the stores under test.
type Factory struct {
	// New returns an empty store with o; it is closed when t ends.
	New func(t *testing.T, o seq.Options) seq.Store
	// Durable returns an empty store with o and a function that closes it
	// (or restarts its server) and returns a new store on the same data.
	// Nil skips the restart test.
	Durable func(t *testing.T, o seq.Options) (seq.Store, func() seq.Store)
	// MaxBytes bounds seq.State.Bytes (the documented size limit of an
	// exporter's state); 0 means no bound.
	MaxBytes int
	// Short scales the heavy tests down (reservation counts / 10).
	Short bool
	// Workers and PerWorker size the concurrency test (default 64 × 200).
	// A store that serializes the reservations of one exporter (DynamoDB:
	// one pending reservation at a time) does fewer, with less contention.
	Workers, PerWorker int
}

// Clock is a settable clock for seq.Options.Now. With Step set, every call
// of Now advances it by Step first. It is safe for concurrent use.
type Clock struct {
	ns   atomic.Int64
	Step time.Duration
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.ns.Store(t.UnixNano())
	return c
}

// Now returns the clock's time, after advancing it by Step.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Add(int64(c.Step))) }

// Peek returns the clock's time without advancing it.
func (c *Clock) Peek() time.Time { return time.Unix(0, c.ns.Load()) }

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// T0 is the clock's start in the suite.
var T0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Run runs the suite.
func Run(t *testing.T, f Factory) {
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, f) })
	t.Run("StartAndWrap", func(t *testing.T) { testStartAndWrap(t, f) })
	t.Run("Idempotent", func(t *testing.T) { testIdempotent(t, f) })
	t.Run("Mismatch", func(t *testing.T) { testMismatch(t, f) })
	t.Run("Exporters", func(t *testing.T) { testExporters(t, f) })
	t.Run("LongKeys", func(t *testing.T) { testLongKeys(t, f) })
	t.Run("Exhausted", func(t *testing.T) { testExhausted(t, f) })
	t.Run("Durable", func(t *testing.T) { testDurable(t, f) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, f) })
	t.Run("Pruning", func(t *testing.T) { testPruning(t, f) })
}

func rg(first, count uint64) seq.Range { return seq.Range{First: first, Count: count} }

func reserve(t *testing.T, s seq.Store, exporter, claim string, n uint64) seq.Range {
	t.Helper()
	r, err := s.Reserve(t.Context(), exporter, claim, n)
	if err != nil {
		t.Fatalf("Reserve(%q, %q, %d): %v", exporter, claim, n, err)
	}
	if r.Count != n {
		t.Fatalf("Reserve(%q, %q, %d) = %+v: wrong count", exporter, claim, n, r)
	}
	return r
}

func testInvalid(t *testing.T, f Factory) {
	s := f.New(t, seq.Options{})
	tests := []struct {
		name, exporter, claim string
		n                     uint64
	}{
		{"n=0", "e", "c", 0},
		{"n>MaxReserve", "e", "c", seq.MaxReserve + 1},
		{"no exporter", "", "c", 1},
		{"no claim", "e", "", 1},
		{"long exporter", strings.Repeat("e", seq.MaxKeyLen+1), "c", 1},
		{"long claim", "e", strings.Repeat("c", seq.MaxKeyLen+1), 1},
		{"exporter not UTF-8", "e\xff", "c", 1},
		{"claim not UTF-8", "e", "c\xff", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := s.Reserve(t.Context(), tt.exporter, tt.claim, tt.n)
			if !errors.Is(err, seq.ErrInvalid) {
				t.Fatalf("Reserve = %+v, %v; want an error wrapping ErrInvalid", r, err)
			}
			if seq.IsTransient(err) {
				t.Errorf("Reserve error %v is marked transient", err)
			}
		})
	}
	// The rejected requests took nothing: a valid one starts at 0.
	if got := reserve(t, s, "e", "c", seq.MaxReserve); got.First != 0 {
		t.Errorf("first valid reservation starts at %d, want 0", got.First)
	}
}

func testStartAndWrap(t *testing.T, f Factory) {
	const start = 1<<32 - 3
	s := f.New(t, seq.Options{Start: start})
	a := reserve(t, s, "e", "a", 10)
	b := reserve(t, s, "e", "b", 1)
	want := []seq.Range{{First: start, Count: 10}, {First: 1<<32 + 7, Count: 1}}
	if diff := cmp.Diff(want, []seq.Range{a, b}); diff != "" {
		t.Errorf("ranges (-want +got):\n%s", diff)
	}
	if !a.Wraps() || a.First32() != 1<<32-3 {
		t.Errorf("%+v: Wraps %v First32 %d, want true %d", a, a.Wraps(), a.First32(), uint32(1<<32-3))
	}
	if b.Wraps() || b.First32() != 7 {
		t.Errorf("%+v: Wraps %v First32 %d, want false 7", b, b.Wraps(), b.First32())
	}
	checkNext(t, s, "e", 1<<32+8)
}

func testIdempotent(t *testing.T, f Factory) {
	s := f.New(t, seq.Options{Start: 100})
	a := reserve(t, s, "e", "a", 10)
	b := reserve(t, s, "e", "b", 5)
	a2 := reserve(t, s, "e", "a", 10)
	c := reserve(t, s, "e", "c", 1)
	b2 := reserve(t, s, "e", "b", 5)
	want := []seq.Range{rg(100, 10), rg(110, 5), rg(100, 10), rg(115, 1), rg(110, 5)}
	if diff := cmp.Diff(want, []seq.Range{a, b, a2, c, b2}); diff != "" {
		t.Errorf("ranges (-want +got):\n%s", diff)
	}
	checkNext(t, s, "e", 116)
}

func testMismatch(t *testing.T, f Factory) {
	s := f.New(t, seq.Options{})
	reserve(t, s, "e", "a", 10)
	r, err := s.Reserve(t.Context(), "e", "a", 11)
	if !errors.Is(err, seq.ErrClaimMismatch) || !errors.Is(err, seq.ErrInvalid) {
		t.Fatalf("repeat with another n = %+v, %v; want ErrClaimMismatch (and ErrInvalid)", r, err)
	}
	for _, s := range []string{"holds 10", "asks for 11", `"a"`, `"e"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	// The failed repeat took nothing.
	if got := reserve(t, s, "e", "b", 1); got.First != 10 {
		t.Errorf("next reservation starts at %d, want 10", got.First)
	}
}

func testExporters(t *testing.T, f Factory) {
	s := f.New(t, seq.Options{Start: 7})
	got := []seq.Range{
		reserve(t, s, "ipfix|10.0.0.5:4739|odid=7", "x", 5),
		reserve(t, s, "ipfix|10.0.0.5:4739|odid=8", "x", 3),
		reserve(t, s, "ipfix|10.0.0.5:4739|odid=7", "y", 2),
		reserve(t, s, "v5|10.0.0.6:2055|engine=0/0", "x", 4),
		reserve(t, s, "ipfix|10.0.0.5:4739|odid=8", "x", 3),
	}
	want := []seq.Range{rg(7, 5), rg(7, 3), rg(12, 2), rg(7, 4), rg(7, 3)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ranges (-want +got):\n%s", diff)
	}
}

func testLongKeys(t *testing.T, f Factory) {
	s := f.New(t, seq.Options{})
	e := strings.Repeat("é", seq.MaxKeyLen/2)
	c1 := strings.Repeat("c", seq.MaxKeyLen)
	c2 := strings.Repeat("c", seq.MaxKeyLen-1) + "d"
	got := []seq.Range{reserve(t, s, e, c1, 2), reserve(t, s, e, c2, 3), reserve(t, s, e, c1, 2)}
	if diff := cmp.Diff([]seq.Range{rg(0, 2), rg(2, 3), rg(0, 2)}, got); diff != "" {
		t.Errorf("ranges (-want +got):\n%s", diff)
	}
}

func testExhausted(t *testing.T, f Factory) {
	const start = math.MaxUint64 - 10
	s := f.New(t, seq.Options{Start: start})
	if r := reserve(t, s, "e", "a", 10); r.First != start {
		t.Errorf("Reserve = %+v, want first %d", r, uint64(start))
	}
	r, err := s.Reserve(t.Context(), "e", "b", 1)
	if !errors.Is(err, seq.ErrExhausted) || !errors.Is(err, seq.ErrInvalid) {
		t.Errorf("Reserve past 2^64-1 = %+v, %v; want ErrExhausted", r, err)
	}
	if r := reserve(t, s, "e", "a", 10); r.First != start {
		t.Errorf("repeat = %+v, want first %d", r, uint64(start))
	}
	checkNext(t, s, "e", math.MaxUint64)
}

func testDurable(t *testing.T, f Factory) {
	if f.Durable == nil {
		t.Skip("store has no durable mode")
	}
	clock := NewClock(T0)
	s, reopen := f.Durable(t, seq.Options{Start: 1<<32 - 1, Now: clock.Now})
	a := reserve(t, s, "e", "a", 3)
	b := reserve(t, s, "e", "b", 4)
	s = reopen()
	clock.Advance(13 * 24 * time.Hour)
	a2 := reserve(t, s, "e", "a", 3)
	c := reserve(t, s, "e", "c", 5)
	b2 := reserve(t, s, "e", "b", 4)
	want := []seq.Range{rg(1<<32-1, 3), rg(1<<32+2, 4), rg(1<<32-1, 3), rg(1<<32+6, 5), rg(1<<32+2, 4)}
	if diff := cmp.Diff(want, []seq.Range{a, b, a2, c, b2}); diff != "" {
		t.Errorf("ranges across a restart (-want +got):\n%s", diff)
	}
}

// testConcurrent: 64 goroutines × 200 reservations (Factory.Workers ×
// Factory.PerWorker) of random sizes (1 to
// 100,000) on one exporter, the counter starting below 2^32 so that it
// wraps half-way; 1 in 20 reservations is repeated at once and must return
// the same range. The clock advances 1 s per reservation with a 5-minute
// retention, so the stores prune while they reserve (and the state stays
// small: dynalite's cost per update grows with the item).
func testConcurrent(t *testing.T, f Factory) {
	workers, per := 64, 200
	if f.Workers > 0 {
		workers = f.Workers
	}
	if f.PerWorker > 0 {
		per = f.PerWorker
	}
	if f.Short {
		per = max(per/10, 5)
	}
	const retention = 5 * time.Minute
	start := uint64(1<<32 - workers*per*50_000/2)
	clock := &Clock{Step: time.Second}
	clock.ns.Store(T0.UnixNano())
	s := f.New(t, seq.Options{Start: start, Retention: retention, Now: clock.Now})
	ranges := make([][]seq.Range, workers)
	var wg sync.WaitGroup
	var failed atomic.Bool
	began := time.Now()
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for i := range per {
				if failed.Load() {
					return
				}
				claim := fmt.Sprintf("exec-%d-%d", w, i)
				n := 1 + rng.Uint64N(100_000)
				before := clock.Peek()
				r, err := s.Reserve(t.Context(), "e", claim, n)
				if err != nil || r.Count != n {
					t.Errorf("Reserve(%q, %d) = %+v, %v", claim, n, r, err)
					failed.Store(true)
					return
				}
				ranges[w] = append(ranges[w], r)
				if rng.IntN(20) != 0 {
					continue
				}
				r2, err := s.Reserve(t.Context(), "e", claim, n)
				switch {
				case err != nil:
					t.Errorf("repeat Reserve(%q, %d): %v", claim, n, err)
					failed.Store(true)
				case r2 == r:
				case clock.Peek().Sub(before) > retention:
					// The claim may have been pruned meanwhile: then the
					// repeat is a new reservation.
					ranges[w] = append(ranges[w], r2)
				default:
					t.Errorf("repeat Reserve(%q, %d) = %+v, want %+v", claim, n, r2, r)
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d×%d reservations in %v", workers, per, time.Since(began).Round(time.Millisecond))
	if failed.Load() {
		return
	}
	all := slices.Concat(ranges...)
	end := checkTiling(t, start, all)
	if !slices.ContainsFunc(all, seq.Range.Wraps) {
		t.Errorf("no range wrapped (the counter went from %d to %d)", start, end)
	}
	st := checkNext(t, s, "e", end)
	window := retention + retention/14
	if maxClaims := int(window/time.Second) + 2*workers; st.Claims > maxClaims {
		t.Errorf("state holds %d claims, want at most %d (%v of claims, 1 s apart)", st.Claims, maxClaims, window)
	}
	t.Logf("state: %d claims, %d bytes", st.Claims, st.Bytes)
	checkBytes(t, f, st)
}

// testPruning: 10,000 claims 3 minutes apart (20.8 days), by 8 workers,
// with a 1-day retention: the state holds at most Retention +
// Retention/14 worth of them and a claim 23 hours old still returns its
// range; 30 days later all of them are old, new reservations prune them,
// go on from the counter, and an old claim repeated gets new numbers.
func testPruning(t *testing.T, f Factory) {
	total, workers, step := 10_000, 8, 3*time.Minute
	if f.Short {
		total, step = 1_000, 30*time.Minute
	}
	const retention = 24 * time.Hour
	const start = 1 << 31
	clock := NewClock(T0)
	s := f.New(t, seq.Options{Start: start, Retention: retention, Now: clock.Now})
	name := func(i int) string {
		return fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:fl2nf:%08d", i)
	}
	var (
		mu     sync.Mutex
		all    []seq.Range
		byName = map[string]seq.Range{}
		next   atomic.Int64
	)
	var wg sync.WaitGroup
	var failed atomic.Bool
	began := time.Now()
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				clock.Advance(step)
				n := 1 + rng.Uint64N(5000)
				r, err := s.Reserve(t.Context(), "e", name(i), n)
				if err != nil {
					t.Errorf("Reserve(%q, %d): %v", name(i), n, err)
					failed.Store(true)
					return
				}
				mu.Lock()
				all = append(all, r)
				byName[name(i)] = r
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("%d reservations in %v", total, time.Since(began).Round(time.Millisecond))
	if failed.Load() {
		return
	}
	st := inspect(t, s, "e")
	window := retention + retention/14
	maxClaims := int(window/step) + workers + 1
	t.Logf("after %d claims over %v: state holds %d claims, %d bytes", total, time.Duration(total)*step, st.Claims, st.Bytes)
	if st.Claims > maxClaims {
		t.Errorf("state holds %d claims, want at most %d (%v of claims, %v apart)", st.Claims, maxClaims, window, step)
	}
	checkBytes(t, f, st)

	// A claim younger than Retention is remembered.
	young := name(total - int(23*time.Hour/step))
	if r := reserve(t, s, "e", young, byName[young].Count); r != byName[young] {
		t.Errorf("repeat of a 23-hour-old claim = %+v, want %+v", r, byName[young])
	}

	// 30 days later: new reservations prune every old claim.
	clock.Advance(30 * 24 * time.Hour)
	end := checkTiling(t, start, all)
	for i := range 10 {
		r := reserve(t, s, "e", fmt.Sprintf("new-%d", i), 10)
		if want := (seq.Range{First: end + uint64(i)*10, Count: 10}); r != want {
			t.Errorf("new reservation %d = %+v, want %+v", i, r, want)
		}
	}
	st = inspect(t, s, "e")
	t.Logf("30 days later, after 10 new claims: %d claims, %d bytes", st.Claims, st.Bytes)
	if st.Claims != 10 {
		t.Errorf("state holds %d claims, want the 10 new ones", st.Claims)
	}
	// A pruned claim is a new claim.
	if r := reserve(t, s, "e", name(0), 3); r.First != end+100 {
		t.Errorf("repeat of a pruned claim = %+v, want new numbers from %d", r, end+100)
	}
	checkNext(t, s, "e", end+103)
}

// checkTiling sorts ranges and checks that they tile [start, end) exactly.
// It returns end.
func checkTiling(t *testing.T, start uint64, ranges []seq.Range) uint64 {
	t.Helper()
	ranges = slices.Clone(ranges)
	slices.SortFunc(ranges, func(a, b seq.Range) int {
		switch {
		case a.First < b.First:
			return -1
		case a.First > b.First:
			return 1
		}
		return 0
	})
	next := start
	for i, r := range ranges {
		switch {
		case r.First > next:
			t.Fatalf("hole [%d, %d) before range %d %+v", next, r.First, i, r)
		case r.First < next:
			t.Fatalf("range %d %+v overlaps the previous one, which ends at %d", i, r, next)
		}
		next = r.First + r.Count
	}
	return next
}

func inspect(t *testing.T, s seq.Store, exporter string) seq.State {
	t.Helper()
	in, ok := s.(seq.Inspector)
	if !ok {
		t.Skipf("%T does not implement seq.Inspector", s)
	}
	st, err := in.Inspect(t.Context(), exporter)
	if err != nil {
		t.Fatalf("Inspect(%q): %v", exporter, err)
	}
	return st
}

func checkNext(t *testing.T, s seq.Store, exporter string, want uint64) seq.State {
	t.Helper()
	in, ok := s.(seq.Inspector)
	if !ok {
		return seq.State{}
	}
	st, err := in.Inspect(t.Context(), exporter)
	if err != nil {
		t.Fatalf("Inspect(%q): %v", exporter, err)
	}
	if st.Next != want {
		t.Errorf("counter of %q is at %d, want %d", exporter, st.Next, want)
	}
	return st
}

func checkBytes(t *testing.T, f Factory, st seq.State) {
	t.Helper()
	if f.MaxBytes > 0 && st.Bytes > f.MaxBytes {
		t.Errorf("state is %d bytes, above the documented bound %d", st.Bytes, f.MaxBytes)
	}
}
