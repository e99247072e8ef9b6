// Package udp sends datagrams to one collector over one long-lived UDP
// socket: a fixed source address and port (collectors key templates and
// sequence checks on it), optional pacing in datagrams per second, batched
// writes (sendmmsg on Linux) and a configurable socket send buffer.
package udp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
)

// Options tune a Conn.
type Options struct {
	PPS         int // datagrams per second; 0 sends as fast as the socket takes them
	WriteBuffer int // SO_SNDBUF bytes; 0 keeps the system default
	Batch       int // datagrams per sendmmsg call; 0 means 64
}

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
	next     time.Time
	sleep    func(context.Context, time.Duration) error
	now      func() time.Time

	stats Stats
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
	c := &Conn{conn: conn, batch: opt.Batch, sleep: sleepCtx, now: time.Now}
	if c.batch <= 0 {
		c.batch = 64
	}
	if opt.PPS > 0 {
		c.interval = time.Second / time.Duration(opt.PPS)
		// Keep bursts within ~10 ms of traffic so pacing stays smooth.
		if b := opt.PPS / 100; b < c.batch {
			c.batch = max(b, 1)
		}
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
	c.store[c.n] = append(c.store[c.n][:0], b...)
	c.n++
	if c.n == c.batch {
		return c.Flush(ctx)
	}
	return nil
}

// Flush writes every queued datagram, pacing first if configured.
func (c *Conn) Flush(ctx context.Context) error {
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
		return nil
	}
	for i, b := range pending {
		c.msgs[i].Buffers[0] = b
	}
	msgs := c.msgs[:len(pending)]
	for len(msgs) > 0 {
		n, err := c.pc.WriteBatch(msgs, 0)
		if err != nil {
			if isRefused(err) {
				// The failed datagram is dropped; count it and go on.
				c.stats.Refused++
				msgs = msgs[max(n, 0)+1:]
				continue
			}
			return fmt.Errorf("send to %s: %w", c.conn.RemoteAddr(), err)
		}
		for _, m := range msgs[:n] {
			c.stats.Datagrams++
			c.stats.Bytes += uint64(len(m.Buffers[0]))
		}
		msgs = msgs[n:]
	}
	return nil
}

func (c *Conn) write1(b []byte) error {
	if _, err := c.conn.Write(b); err != nil {
		if isRefused(err) {
			c.stats.Refused++
			return nil
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
	if c.next.Before(now) {
		// Idle time does not build up credit beyond one batch.
		c.next = now
	}
	wait := c.next.Sub(now)
	c.next = c.next.Add(time.Duration(n) * c.interval)
	if wait <= 0 {
		return ctx.Err()
	}
	return c.sleep(ctx, wait)
}

// Close flushes and closes the socket.
func (c *Conn) Close(ctx context.Context) error {
	err := c.Flush(ctx)
	if cerr := c.conn.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close udp socket: %w", cerr)
	}
	return err
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
