// Package udp sends datagrams to one collector over one long-lived UDP
// socket: a fixed source address and port (collectors key templates and
// sequence checks on it), optional pacing in datagrams per second with
// bounded bursts, batched writes (sendmmsg on Linux) and a configurable
// socket send buffer.
//
// A collector loses a datagram when its socket receive buffer is full, and
// the buffer fills whenever the collector does not read for a moment (it
// is busy or descheduled): what matters is how many datagrams arrive in
// such a moment, the rate times its length plus the largest burst. A paced
// Conn therefore sends at most DefaultBurst(pps) datagrams at once (sendmmsg), each
// burst when the pace allows it, and never makes up for idle time beyond
// one burst.
//
// A collector that is down makes the kernel return ECONNREFUSED (an ICMP
// port unreachable) on a later send: the Conn then fails with a
// *RefusedError, and keeps failing, since everything sent to a port
// nobody listens on is lost.
package udp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/wait"
)

// Options tune a Conn.
type Options struct {
	PPS         int // datagrams per second; 0 sends as fast as the socket takes them
	WriteBuffer int // SO_SNDBUF bytes; 0 keeps the system default
	// Batch is the most datagrams per sendmmsg call; 0 means 64 unpaced,
	// and DefaultBurst(PPS) when paced.
	Batch int
}

// Unpaced batch size, and the largest burst of a paced Conn.
const (
	unpacedBatch = 64
	// MaxBurst bounds a paced burst: a collector's default receive buffer
	// (Linux net.core.rmem_default, 208 KiB) holds about 90 full-size
	// datagrams, and a burst must leave room for what is already queued.
	MaxBurst = 8
)

// DefaultBurst is the burst size of a Conn paced at pps: about one
// millisecond of traffic, from 1 to MaxBurst datagrams.
func DefaultBurst(pps int) int { return min(max(pps/1000, 1), MaxBurst) }

// ErrRefused is matched (errors.Is) by the error a Conn returns once the
// collector refused a datagram.
var ErrRefused = errors.New("refused by the collector")

// RefusedError reports that the kernel refused datagrams to Addr: an ICMP
// port unreachable came back, so nothing listens on the port (the
// collector is down or on another port). ICMP errors are rate-limited and
// come back after the datagram left, so Refused is a lower bound of what
// was lost.
type RefusedError struct {
	Addr    string
	Refused uint64 // datagrams the kernel refused (at least 1)
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s refused at least %d datagram(s) (ICMP port unreachable: is the collector running?); ICMP is rate-limited, so more may be lost",
		e.Addr, e.Refused)
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Unwrap returns syscall.ECONNREFUSED.
func (e *RefusedError) Unwrap() error { return syscall.ECONNREFUSED }

// Stats counts what a Conn sent.
type Stats struct {
	Datagrams uint64 `json:"datagrams"`
	Bytes     uint64 `json:"bytes"`
	// Refused counts datagrams the kernel reported as refused (an ICMP
	// port unreachable from a collector that is down). UDP gives no other
	// delivery signal.
	Refused uint64 `json:"refused"`
}

// Conn is a connected UDP socket with a send batch.
type Conn struct {
	conn  *net.UDPConn
	pc    *ipv4.PacketConn // batch writer; nil for IPv6 destinations
	msgs  []ipv4.Message
	store [][]byte
	n     int
	batch int

	interval time.Duration // per datagram, 0 = unpaced
	slack    time.Duration // lateness made up: one burst
	next     time.Time
	sleep    func(context.Context, time.Duration) error
	now      func() time.Time

	stats Stats
	err   *RefusedError // sticky: set once the collector refused
}

// Dial resolves address (host:port) and opens the socket.
func Dial(ctx context.Context, address string, opt Options) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "udp", address)
	if err != nil {
		return nil, fmt.Errorf("dial udp %s: %w", address, err)
	}
	conn := nc.(*net.UDPConn)
	if opt.WriteBuffer > 0 {
		if err := conn.SetWriteBuffer(opt.WriteBuffer); err != nil {
			conn.Close()
			return nil, fmt.Errorf("set send buffer on %s: %w", address, err)
		}
	}
	c := &Conn{conn: conn, batch: opt.Batch, sleep: wait.Sleep, now: time.Now}
	if opt.PPS > 0 {
		c.interval = time.Second / time.Duration(opt.PPS)
		if c.batch <= 0 {
			c.batch = DefaultBurst(opt.PPS)
		}
		c.slack = time.Duration(c.batch) * c.interval
	} else if c.batch <= 0 {
		c.batch = unpacedBatch
	}
	if ra, ok := conn.RemoteAddr().(*net.UDPAddr); ok && ra.IP.To4() != nil {
		c.pc = ipv4.NewPacketConn(conn)
	}
	c.msgs = make([]ipv4.Message, c.batch)
	c.store = make([][]byte, c.batch)
	for i := range c.store {
		c.store[i] = make([]byte, 0, 1500)
		c.msgs[i].Buffers = [][]byte{nil}
	}
	return c, nil
}

// LocalAddr is the socket's source address.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// Stats returns the counts so far (datagrams still in the batch excluded).
func (c *Conn) Stats() Stats { return c.stats }

// Send queues a copy of b and writes the batch when it is full.
func (c *Conn) Send(ctx context.Context, b []byte) error {
	if c.err != nil {
		return c.err
	}
	c.store[c.n] = append(c.store[c.n][:0], b...)
	c.n++
	if c.n == c.batch {
		return c.Flush(ctx)
	}
	return nil
}

// Flush writes every queued datagram, pacing first if configured. Once
// the collector refused a datagram it returns a *RefusedError, and so do
// every later Send and Flush: the queued datagrams are dropped.
func (c *Conn) Flush(ctx context.Context) error {
	if c.err != nil {
		return c.err
	}
	if c.n == 0 {
		return nil
	}
	if err := c.pace(ctx, c.n); err != nil {
		return err
	}
	pending := c.store[:c.n]
	c.n = 0
	if c.pc == nil {
		for _, b := range pending {
			if err := c.write1(b); err != nil {
				return err
			}
		}
		return c.checkPending()
	}
	for i, b := range pending {
		c.msgs[i].Buffers[0] = b
	}
	msgs := c.msgs[:len(pending)]
	for len(msgs) > 0 {
		n, err := c.pc.WriteBatch(msgs, 0)
		for _, m := range msgs[:max(n, 0)] {
			c.stats.Datagrams++
			c.stats.Bytes += uint64(len(m.Buffers[0]))
		}
		if err != nil {
			if isRefused(err) {
				// The datagram after the n sent was not sent.
				return c.refused()
			}
			return fmt.Errorf("send to %s: %w", c.conn.RemoteAddr(), err)
		}
		msgs = msgs[n:]
	}
	return c.checkPending()
}

// refused records a refusal and makes the Conn fail from now on.
func (c *Conn) refused() error {
	c.stats.Refused++
	c.n = 0
	c.err = &RefusedError{Addr: c.conn.RemoteAddr().String(), Refused: c.stats.Refused}
	return c.err
}

// checkPending reads (and clears) an error the kernel holds for the socket:
// an ICMP port unreachable for the datagrams just sent, which would
// otherwise only show on the next send (and never, after the last one).
func (c *Conn) checkPending() error {
	rc, err := c.conn.SyscallConn()
	if err != nil {
		return nil
	}
	var soErr int
	if cerr := rc.Control(func(fd uintptr) {
		soErr, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
	}); cerr != nil || err != nil {
		return nil
	}
	switch {
	case soErr == 0:
		return nil
	case syscall.Errno(soErr) == syscall.ECONNREFUSED:
		return c.refused()
	default:
		return fmt.Errorf("send to %s: %w", c.conn.RemoteAddr(), syscall.Errno(soErr))
	}
}

func (c *Conn) write1(b []byte) error {
	if _, err := c.conn.Write(b); err != nil {
		if isRefused(err) {
			return c.refused()
		}
		return fmt.Errorf("send to %s: %w", c.conn.RemoteAddr(), err)
	}
	c.stats.Datagrams++
	c.stats.Bytes += uint64(len(b))
	return nil
}

func (c *Conn) pace(ctx context.Context, n int) error {
	if c.interval == 0 {
		return ctx.Err()
	}
	now := c.now()
	if floor := now.Add(-c.slack); c.next.Before(floor) {
		// A late wake-up (a sleep that overshot, a descheduled sender) is
		// made up by at most one burst; longer idle time is not credit, so
		// the largest burst stays two batches.
		c.next = floor
	}
	wait := c.next.Sub(now)
	c.next = c.next.Add(time.Duration(n) * c.interval)
	if wait <= 0 {
		return ctx.Err()
	}
	return c.sleep(ctx, wait)
}

// Close flushes and closes the socket. It returns the *RefusedError if the
// collector refused datagrams.
func (c *Conn) Close(ctx context.Context) error {
	err := c.Flush(ctx)
	if err == nil {
		// A refusal of the last datagrams that arrived since the last
		// flush; one arriving after Close (a remote collector's ICMP
		// takes a round trip) goes unseen.
		err = c.checkPending()
	}
	if cerr := c.conn.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close udp socket: %w", cerr)
	}
	return err
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
