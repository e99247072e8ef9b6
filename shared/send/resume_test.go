package send

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/ipfix"
)

// cutReader fails after n bytes, as a staging GET whose connection drops.
type cutReader struct {
	r io.Reader
	n int
}

var errCut = errors.New("connection reset")

func (c *cutReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errCut
	}
	if len(p) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

// flushCounter is a capture that counts flushes, so the test can tell a
// checkpoint came after its datagrams had left.
type flushCounter struct {
	capture
	flushedAt []int // len(sent) at each flush
}

func (f *flushCounter) Flush(context.Context) error {
	f.flushedAt = append(f.flushedAt, len(f.sent))
	return nil
}

func seqOf(m []byte) uint32 { return binary.BigEndian.Uint32(m[8:12]) }

// TestResumeAfterReadError: a stream whose file read fails midway records
// a checkpoint of exactly the datagrams that left (after a flush); a second
// stream resumed from that checkpoint sends the rest, templates first, and
// the two together carry every sequence number of the range once, in order.
func TestResumeAfterReadError(t *testing.T) {
	data, totals := stageIPFIX(t, 2000)
	const first = 1<<32 - 40 // wraps inside the stream
	opt := Options{Protocol: netflow.IPFIX, CheckpointEvery: 7}
	var cps []Result
	var c1 flushCounter
	opt.Checkpoint = func(_ context.Context, r Result) error {
		if len(c1.flushedAt) == 0 || c1.flushedAt[len(c1.flushedAt)-1] != int(r.Datagrams) {
			t.Errorf("checkpoint at %d datagrams without a flush after them (flushes at %v)", r.Datagrams, c1.flushedAt)
		}
		cps = append(cps, r)
		return nil
	}
	_, err := Stream(t.Context(), &cutReader{r: bytes.NewReader(data), n: len(data) * 2 / 3}, ipfix.Finisher{}, &c1, first, totals.Units, opt)
	if !errors.Is(err, errCut) {
		t.Fatalf("err = %v, want the read error", err)
	}
	if len(cps) < 2 {
		t.Fatalf("%d checkpoints", len(cps))
	}
	last := cps[len(cps)-1]
	if last.Datagrams != uint64(len(c1.sent)) || cps[len(cps)-2].Datagrams == last.Datagrams {
		t.Fatalf("last checkpoint %+v, %d sent", last, len(c1.sent))
	}
	for i := 0; i+1 < len(cps); i++ {
		if cps[i].Datagrams != uint64(7*(i+1)) {
			t.Errorf("checkpoint %d at %d datagrams, want %d", i, cps[i].Datagrams, 7*(i+1))
		}
	}

	var c2 capture
	opt2 := Options{Protocol: netflow.IPFIX, Resume: last}
	res, err := Stream(t.Context(), bytes.NewReader(data), ipfix.Finisher{}, &c2, first, totals.Units, opt2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Datagrams != totals.Frames || res.Units != totals.Units || res.Records != totals.Records {
		t.Errorf("resumed result %+v, file %+v", res, totals)
	}
	if uint64(len(c1.sent)+len(c2.sent)) != totals.Frames {
		t.Fatalf("%d + %d datagrams sent, the file has %d", len(c1.sent), len(c2.sent), totals.Frames)
	}
	if !hasTemplates(c2.sent[0]) {
		t.Error("the resumed stream's first datagram has no templates")
	}
	var whole capture
	if _, err := Stream(t.Context(), bytes.NewReader(data), ipfix.Finisher{}, &whole, first, totals.Units, Options{Protocol: netflow.IPFIX}); err != nil {
		t.Fatal(err)
	}
	both := append(append([][]byte(nil), c1.sent...), c2.sent...)
	for i := range whole.sent {
		if seqOf(both[i]) != seqOf(whole.sent[i]) {
			t.Fatalf("datagram %d: sequence %d, an uninterrupted stream sends %d", i, seqOf(both[i]), seqOf(whole.sent[i]))
		}
	}
	var bytesSent uint64
	for _, m := range both {
		bytesSent += uint64(len(m))
	}
	if res.Bytes != bytesSent {
		t.Errorf("resumed result counts %d bytes, %d were sent by both attempts", res.Bytes, bytesSent)
	}
}

// TestStopCheckpoints: Stop ends the stream with ErrStopped and a
// checkpoint of what was sent; a resume then completes it.
func TestStopCheckpoints(t *testing.T) {
	data, totals := stageIPFIX(t, 1000)
	n := 0
	var got Result
	var c capture
	_, err := Stream(t.Context(), bytes.NewReader(data), ipfix.Finisher{}, &c, 0, totals.Units, Options{
		Protocol:   netflow.IPFIX,
		Stop:       func() bool { n++; return n > 5 },
		Checkpoint: func(_ context.Context, r Result) error { got = r; return nil },
	})
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("err = %v, want ErrStopped", err)
	}
	if got.Datagrams != 5 || len(c.sent) != 5 {
		t.Fatalf("checkpoint %+v, %d sent; want 5", got, len(c.sent))
	}
	var c2 capture
	res, err := Stream(t.Context(), bytes.NewReader(data), ipfix.Finisher{}, &c2, 0, totals.Units, Options{Protocol: netflow.IPFIX, Resume: got})
	if err != nil || res.Datagrams != totals.Frames || uint64(len(c2.sent))+5 != totals.Frames || seqOf(c2.sent[0]) != uint32(got.Units) {
		t.Fatalf("resume: %v, %+v, %d sent, first sequence %d (want %d)", err, res, len(c2.sent), seqOf(c2.sent[0]), got.Units)
	}
}

// TestResumeMismatch: a checkpoint that does not match the file (another
// file, or a damaged record) fails before anything is sent.
func TestResumeMismatch(t *testing.T) {
	data, totals := stageIPFIX(t, 500)
	var c capture
	_, err := Stream(t.Context(), bytes.NewReader(data), ipfix.Finisher{}, &c, 0, totals.Units, Options{
		Protocol: netflow.IPFIX, Resume: Result{Datagrams: 3, Units: 1, Records: 1},
	})
	if err == nil || len(c.sent) != 0 {
		t.Fatalf("err = %v, %d sent; want a mismatch error and nothing sent", err, len(c.sent))
	}
	_, err = Stream(t.Context(), bytes.NewReader(data), ipfix.Finisher{}, &c, 0, totals.Units, Options{
		Protocol: netflow.IPFIX, Resume: Result{Datagrams: totals.Frames + 1},
	})
	if err == nil || len(c.sent) != 0 {
		t.Fatalf("resume past the end: err = %v, %d sent", err, len(c.sent))
	}
}
