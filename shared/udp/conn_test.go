package udp

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func listen(t *testing.T) *net.UDPConn {
	t.Helper()
	l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	l.SetReadBuffer(8 << 20)
	t.Cleanup(func() { l.Close() })
	return l
}

func TestSendBatchedInOrder(t *testing.T) {
	for _, batch := range []int{1, 7, 64} {
		l := listen(t)
		c, err := Dial(t.Context(), l.LocalAddr().String(), Options{Batch: batch, WriteBuffer: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		const n = 500
		buf := make([]byte, 100)
		for i := range n {
			binary.BigEndian.PutUint32(buf, uint32(i))
			if err := c.Send(t.Context(), buf[:4+i%90]); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if s := c.Stats(); s.Datagrams != n {
			t.Errorf("batch %d: Stats.Datagrams = %d, want %d", batch, s.Datagrams, n)
		}
		var src net.Addr
		rb := make([]byte, 2000)
		for i := range n {
			l.SetReadDeadline(time.Now().Add(5 * time.Second))
			m, from, err := l.ReadFrom(rb)
			if err != nil {
				t.Fatalf("batch %d: datagram %d: %v", batch, i, err)
			}
			if src == nil {
				src = from
			} else if from.String() != src.String() {
				t.Fatalf("source changed from %v to %v", src, from)
			}
			if got := binary.BigEndian.Uint32(rb); got != uint32(i) || m != 4+i%90 {
				t.Fatalf("batch %d: datagram %d carries %d (len %d)", batch, i, got, m)
			}
		}
	}
}

func TestPacing(t *testing.T) {
	l := listen(t)
	c, err := Dial(t.Context(), l.LocalAddr().String(), Options{PPS: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	if DefaultBurst(1000) != 1 || c.batch != 1 {
		t.Errorf("burst for 1000 pps = %d, want 1 (one millisecond of traffic)", c.batch)
	}
	// A fake clock: sleeping advances it.
	now := time.Unix(1000, 0)
	var slept time.Duration
	c.now = func() time.Time { return now }
	c.sleep = func(_ context.Context, d time.Duration) error { slept += d; now = now.Add(d); return nil }
	for range 2000 {
		if err := c.Send(t.Context(), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	c.Flush(t.Context())
	// 2000 datagrams at 1000/s: the last batch may leave at 1.99 s.
	if slept < 1990*time.Millisecond || slept > 2*time.Second {
		t.Errorf("slept %v for 2000 datagrams at 1000 pps", slept)
	}
}

func TestRefusedFails(t *testing.T) {
	l := listen(t)
	addr := l.LocalAddr().String()
	l.Close()
	c, err := Dial(t.Context(), addr, Options{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	// The kernel reports the ICMP port unreachable on a later send or
	// flush: within a few datagrams the Conn must fail, and stay failed.
	var failed error
	for i := 0; i < 40 && failed == nil; i++ {
		if err := c.Send(t.Context(), []byte("x")); err != nil {
			failed = err
			break
		}
		failed = c.Flush(t.Context())
		time.Sleep(time.Millisecond)
	}
	if failed == nil {
		t.Fatal("40 datagrams to a closed port and no error")
	}
	var re *RefusedError
	if !errors.Is(failed, ErrRefused) || !errors.As(failed, &re) || re.Refused == 0 || re.Addr != addr {
		t.Fatalf("error %v (%T): want a *RefusedError for %s with Refused > 0", failed, failed, addr)
	}
	if !strings.Contains(failed.Error(), "rate-limited") || !strings.Contains(failed.Error(), "at least") {
		t.Errorf("message %q should say the count is a lower bound", failed)
	}
	if err := c.Send(t.Context(), []byte("x")); !errors.Is(err, ErrRefused) {
		t.Errorf("send after a refusal: %v, want the refusal again", err)
	}
	c.Close(t.Context())
	if s := c.Stats(); s.Refused == 0 {
		t.Errorf("stats %+v: want Refused > 0", s)
	}
}
