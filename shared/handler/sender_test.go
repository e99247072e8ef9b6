package handler

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/collectortest"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/ipfix"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/progress"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/sfnerr"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

// seqCapture is a loopback UDP socket that keeps every message's IPFIX
// sequence number.
type seqCapture struct {
	conn *net.UDPConn
	mu   sync.Mutex
	seqs []uint32
	done chan struct{}
}

func startSeqCapture(t *testing.T) *seqCapture {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(8 << 20)
	sc := &seqCapture{conn: c, done: make(chan struct{})}
	go func() {
		defer close(sc.done)
		buf := make([]byte, 65536)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			if n >= 16 {
				sc.mu.Lock()
				sc.seqs = append(sc.seqs, binary.BigEndian.Uint32(buf[8:12]))
				sc.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { c.Close(); <-sc.done })
	return sc
}

func (c *seqCapture) port() int { return c.conn.LocalAddr().(*net.UDPAddr).Port }

func (c *seqCapture) take(t *testing.T) []uint32 {
	t.Helper()
	collectortest.WaitDrained(t, c.port())
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.seqs
	c.seqs = nil
	return out
}

// cutStore cuts the body of the next Open of a key after n bytes, as a
// staging GET whose connection drops mid-object.
type cutStore struct {
	staging.Store
	cutAfter atomic.Int64 // 0: no cut
}

var errDropped = errors.New("connection reset by peer")

type cutBody struct {
	io.ReadCloser
	left int64
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errDropped
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

func (s *cutStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	if n := s.cutAfter.Swap(0); n > 0 {
		return &cutBody{ReadCloser: rc, left: n}, nil
	}
	return rc, nil
}

// stageChunk writes an IPFIX frame file of n records for (chunk, r0) and
// returns the SendInput for it and the file's size.
func stageChunk(t *testing.T, st staging.Store, url string, chunk, n int, first uint64) (contract.SendInput, int) {
	t.Helper()
	var buf bytes.Buffer
	w := staging.NewWriter(&buf, netflow.IPFIX)
	enc, err := ipfix.NewEncoder(ipfix.Config{ObservationDomain: 7}, w.Add)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		rec := flow.Record{SrcAddr: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), DstAddr: netip.MustParseAddr("10.1.0.1"),
			SrcPort: 1000, DstPort: 443, Protocol: 6, Packets: 1, Bytes: 100, Start: 1700000000, End: 1700000010}
		if err := enc.Add(&rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	in := contract.SendInput{
		ExecutionID:   "arn:aws:states:us-east-1:123456789012:execution:fl2nf:resume",
		Object:        contract.ObjectRef{Bucket: "logs", Key: "k.log.gz"},
		StagingPrefix: "fl2nf/resume/",
		Receivers:     []contract.Receiver{{ID: "r0", URL: url}},
		SendItem:      contract.SendItem{Chunk: chunk, Receiver: "r0", First: first, Count: w.Totals().Units, Frames: w.Totals().Frames},
	}
	if err := st.Put(t.Context(), in.StagingKey(), bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	return in, buf.Len()
}

// checkOnce checks that seqs, one per datagram, are a chunk sent once: as
// many as its frames, starting at first, strictly ascending (mod 2^32: a
// repeat or a step back fails), and ending inside the range first+count.
func checkOnce(t *testing.T, what string, seqs []uint32, first, count uint64, frames uint64) {
	t.Helper()
	if uint64(len(seqs)) != frames {
		t.Fatalf("%s: %d datagrams, the chunk has %d", what, len(seqs), frames)
	}
	if seqs[0] != uint32(first) {
		t.Errorf("%s: first sequence %d, want %d", what, seqs[0], uint32(first))
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i]-seqs[i-1] == 0 || seqs[i]-seqs[i-1] > uint32(count) {
			t.Fatalf("%s: datagram %d has sequence %d after %d (a repeat or a gap)", what, i, seqs[i], seqs[i-1])
		}
	}
	if last := seqs[len(seqs)-1]; last-uint32(first) >= uint32(count) {
		t.Errorf("%s: last sequence %d is outside the range %d+%d", what, last, first, count)
	}
}

// TestSenderResumes: a send whose staging read drops midway fails as
// retryable after recording exactly what left; the retry sends only the
// rest, so the collector sees every datagram of the chunk once with the
// reserved numbers; a retry after the chunk was recorded done (Step
// Functions retrying a Lambda service error that came after the function
// ran) sends nothing and returns the same output, though the staging
// object is gone.
func TestSenderResumes(t *testing.T) {
	metricsOut = io.Discard
	cp := startSeqCapture(t)
	st := &cutStore{Store: staging.Dir{Root: t.TempDir()}}
	url := fmt.Sprintf("ipfix://127.0.0.1:%d?domain=7&pps=0", cp.port())
	const first = 1<<32 - 1000
	in, size := stageChunk(t, st, url, 2, 30_000, first)
	prog := &progress.Memory{}
	s := &Sender{Staging: st, Progress: prog, CheckpointEvery: 50}

	st.cutAfter.Store(int64(size / 2))
	_, err := s.Handle(t.Context(), in)
	var ret *sfnerr.RetryableError
	if !errors.As(err, &ret) || !errors.Is(err, errDropped) || !strings.HasPrefix(err.Error(), "Send failed: send chunk 2 of s3://logs/k.log.gz") {
		t.Fatalf("first attempt: %T %v; want a RetryableError naming the step and object", err, err)
	}
	firstSeqs := cp.take(t)
	k := progress.Key{Execution: in.ExecutionID, Chunk: 2, Receiver: "r0"}
	rec, _ := prog.Get(t.Context(), k)
	if rec.Done || rec.Sent.Datagrams != uint64(len(firstSeqs)) || len(firstSeqs) == 0 {
		t.Fatalf("after the drop: record %+v, %d datagrams arrived", rec, len(firstSeqs))
	}
	t.Logf("first attempt sent %d of %d datagrams", len(firstSeqs), in.Frames)

	out, err := s.Handle(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	all := append(firstSeqs, cp.take(t)...)
	checkOnce(t, "both attempts", all, first, in.Count, in.Frames)
	if out.Datagrams != in.Frames {
		t.Errorf("output %+v, want %d datagrams", out, in.Frames)
	}
	if _, err := st.Open(t.Context(), in.StagingKey()); !errors.Is(err, staging.ErrNotFound) {
		t.Errorf("staging object after the send: %v", err)
	}

	again, err := s.Handle(t.Context(), in)
	if err != nil {
		t.Fatalf("retry after done: %v", err)
	}
	if again.Datagrams != out.Datagrams || again.Bytes != out.Bytes {
		t.Errorf("retry after done: %+v, first %+v", again, out)
	}
	if n := len(cp.take(t)); n != 0 {
		t.Errorf("retry after done sent %d datagrams", n)
	}

	// Staging gone before the send was done: not retryable, says why.
	lost, _ := stageChunk(t, st, url, 3, 100, first)
	prog.Put(t.Context(), progress.Key{Execution: lost.ExecutionID, Chunk: 3, Receiver: "r0"}, progress.Record{Sent: rec.Sent})
	st.Delete(t.Context(), lost.StagingKey())
	_, err = s.Handle(t.Context(), lost)
	var inv *sfnerr.InvalidInputError
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), "staged frames are gone") {
		t.Errorf("staging gone: %T %v; want an InvalidInputError", err, err)
	}
}

// TestSenderStopsBeforeDeadline: a paced send that would outlast the
// invocation stops StopMargin before its deadline, records its progress,
// and fails as retryable; the retry (a new invocation) finishes the chunk
// with no datagram sent twice.
func TestSenderStopsBeforeDeadline(t *testing.T) {
	metricsOut = io.Discard
	cp := startSeqCapture(t)
	st := staging.Dir{Root: t.TempDir()}
	url := fmt.Sprintf("ipfix://127.0.0.1:%d?domain=7&pps=200", cp.port())
	in, _ := stageChunk(t, st, url, 0, 6_000, 5)
	if in.Frames < 150 {
		t.Fatalf("only %d frames", in.Frames)
	}
	prog := &progress.Memory{}
	s := &Sender{Staging: st, Progress: prog, StopMargin: 100 * time.Millisecond}
	ctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
	defer cancel()
	_, err := s.Handle(ctx, in)
	var ret *sfnerr.RetryableError
	if !errors.As(err, &ret) || !strings.Contains(err.Error(), "the retry resumes there") {
		t.Fatalf("first invocation: %T %v; want a RetryableError saying it stopped", err, err)
	}
	part := cp.take(t)
	rec, _ := prog.Get(t.Context(), progress.Key{Execution: in.ExecutionID, Chunk: 0, Receiver: "r0"})
	if rec.Sent.Datagrams != uint64(len(part)) || len(part) == 0 || uint64(len(part)) >= in.Frames {
		t.Fatalf("stopped with record %+v after %d of %d datagrams", rec, len(part), in.Frames)
	}
	t.Logf("stopped after %d of %d datagrams", len(part), in.Frames)
	if _, err := s.Handle(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	checkOnce(t, "both invocations", append(part, cp.take(t)...), 5, in.Count, in.Frames)
}

// TestFailedNamesStepAndObject: every handler error names the step and the
// object once, and keeps its type (the errorType the ASL's Retry matches).
func TestFailedNamesStepAndObject(t *testing.T) {
	const obj = "s3://b/k.log.gz"
	cases := []struct {
		err        error
		want, kind string
	}{
		{errors.New("throttled"), "Reserve failed for s3://b/k.log.gz: throttled", "*sfnerr.RetryableError"},
		{fmt.Errorf("%w: bad", errInvalid), "Reserve failed for s3://b/k.log.gz: invalid input: bad", "*sfnerr.InvalidInputError"},
		{fmt.Errorf("reserve for %s: x", obj), "Reserve failed: reserve for s3://b/k.log.gz: x", "*sfnerr.RetryableError"},
		{sfnerr.Invalid(errors.New("kept")), "Reserve failed for s3://b/k.log.gz: kept", "*sfnerr.InvalidInputError"},
	}
	for _, tc := range cases {
		got := failed("Reserve", obj, tc.err)
		if got.Error() != tc.want || fmt.Sprintf("%T", got) != tc.kind {
			t.Errorf("failed(%v) = %T %q, want %s %q", tc.err, got, got, tc.kind, tc.want)
		}
	}
	if failed("Plan", obj, nil) != nil {
		t.Error("failed(nil) != nil")
	}
}

// TestSenderKilledMidChunk: a sender that dies mid-chunk without warning
// (here its context is cancelled while it paces, so nothing after the last
// periodic checkpoint is recorded, as with a crash) is retried by a new
// one: the retry resends only what went out after the last checkpoint, at
// most CheckpointEvery datagrams, with the same sequence numbers, and the
// collector ends up with every datagram of the chunk. (Every failure that
// leaves the process alive is exact: TestSenderResumes,
// TestSenderStopsBeforeDeadline.)
func TestSenderKilledMidChunk(t *testing.T) {
	metricsOut = io.Discard
	cp := startSeqCapture(t)
	st := staging.Dir{Root: t.TempDir()}
	url := fmt.Sprintf("ipfix://127.0.0.1:%d?domain=7&pps=2000", cp.port())
	in, _ := stageChunk(t, st, url, 1, 30_000, 77)
	prog := &progress.Memory{}
	const every = 50
	ctx, kill := context.WithCancel(t.Context())
	go func() {
		for {
			cp.mu.Lock()
			n := len(cp.seqs)
			cp.mu.Unlock()
			if n >= int(in.Frames)/2 {
				kill()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	first := &Sender{Staging: st, Progress: prog, CheckpointEvery: every}
	if _, err := first.Handle(ctx, in); err == nil {
		t.Fatal("the killed send succeeded")
	}
	part := cp.take(t)
	rec, _ := prog.Get(t.Context(), progress.Key{Execution: in.ExecutionID, Chunk: 1, Receiver: "r0"})
	if rec.Done || rec.Sent.Datagrams%every != 0 || rec.Sent.Datagrams > uint64(len(part)) {
		t.Fatalf("after the kill: record %+v, %d datagrams out", rec, len(part))
	}
	again := &Sender{Staging: st, Progress: prog, CheckpointEvery: every}
	if _, err := again.Handle(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	rest := cp.take(t)
	resent := uint64(len(part)) - rec.Sent.Datagrams
	t.Logf("killed after %d of %d datagrams, last record at %d: %d sent twice", len(part), in.Frames, rec.Sent.Datagrams, resent)
	if resent > every {
		t.Errorf("%d datagrams sent twice, more than the %d between checkpoints", resent, every)
	}
	for i := range resent {
		if rest[i] != part[rec.Sent.Datagrams+i] {
			t.Fatalf("resent datagram %d has sequence %d, the first attempt sent %d", i, rest[i], part[rec.Sent.Datagrams+i])
		}
	}
	checkOnce(t, "first attempt up to its last record + the retry", append(part[:rec.Sent.Datagrams:rec.Sent.Datagrams], rest...), 77, in.Count, in.Frames)
}
