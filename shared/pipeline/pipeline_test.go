package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/boltseq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/udp"
)

// sampleLog builds a flow log of n lines with IPv6 every 7th line, NODATA
// every 50th and a malformed line at 33.
func sampleLog(n int) string {
	var b strings.Builder
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := 1; i < n; i++ {
		switch {
		case i%50 == 0:
			fmt.Fprintf(&b, "2 123456789012 eni-0a1b2c3d4e5f6789%d - - - - - - - 1700000000 1700000060 - NODATA\n", i%10)
		case i == 33:
			b.WriteString("2 123456789012 eni-0a1b2c3d4e5f67890 10.0.0.x 10.0.0.2 1 2 6 1 1 1700000000 1700000060 ACCEPT OK\n")
		case i%7 == 0:
			fmt.Fprintf(&b, "2 123456789012 eni-0a1b2c3d4e5f6789%d 2001:db8::%x 2001:db8::1 443 %d 6 %d %d %d %d ACCEPT OK\n", i%10, i, 1024+i, i, i*100, 1700000000+i, 1700000030+i)
		default:
			fmt.Fprintf(&b, "2 123456789012 eni-0a1b2c3d4e5f6789%d 10.0.%d.%d 172.31.0.1 443 %d 6 %d %d %d %d REJECT OK\n", i%10, i/256%256, i%256, 1024+i%60000, i, i*100, 1700000000+i, 1700000030+i)
		}
	}
	return b.String()
}

func mustReceivers(t *testing.T, urls ...string) []receiver.Receiver {
	t.Helper()
	rs, err := receiver.ParseAll(urls)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func parseOnce(t *testing.T, st staging.Store, rs []receiver.Receiver, log string, prefix string) ChunkResult {
	t.Helper()
	res, err := Parse(t.Context(), ParseInput{
		Object: "sample.log", Lines: flowlog.NewLineReader(strings.NewReader(log)),
		Receivers: rs, Staging: st, KeyPrefix: prefix,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func readKey(t *testing.T, st staging.Store, key string) []byte {
	t.Helper()
	rc, err := st.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return b
}

func TestParseIsIdempotentAndAccounts(t *testing.T) {
	st := staging.Dir{Root: t.TempDir()}
	rs := mustReceivers(t, "netflow5://127.0.0.1:9", "netflow9://127.0.0.1:9", "ipfix://127.0.0.1:9")
	log := sampleLog(2000)
	a := parseOnce(t, st, rs, log, "exec/")
	first := make([][]byte, len(rs))
	for i, r := range a.Receivers {
		first[i] = readKey(t, st, r.Key)
	}
	b := parseOnce(t, st, rs, log, "exec/")
	for i, r := range b.Receivers {
		if !bytes.Equal(first[i], readKey(t, st, r.Key)) {
			t.Errorf("receiver %s: a retried Parse staged different bytes", r.Receiver)
		}
	}
	if err := a.Counts.Check(); err != nil {
		t.Fatal(err)
	}
	if a.Counts.Lines != 2000 || a.Counts.Skipped[flowlog.ReasonHeader] != 1 || a.Counts.Skipped[flowlog.ReasonMalformed] != 1 || a.Counts.Skipped[flowlog.ReasonNoData] != 39 {
		t.Errorf("counts %+v", a.Counts)
	}
	if len(a.Errors) != 1 || !strings.Contains(a.Errors[0], "sample.log") || !strings.Contains(a.Errors[0], "line 34") {
		t.Errorf("malformed report %q should name the object and line 34", a.Errors)
	}
	v5, v9, fix := a.Receivers[0], a.Receivers[1], a.Receivers[2]
	if v5.Unsupported == 0 || v5.Flows+v5.Unsupported != uint64(a.Counts.Records) {
		t.Errorf("v5 flows %d + unsupported %d != records %d", v5.Flows, v5.Unsupported, a.Counts.Records)
	}
	for _, r := range []ReceiverResult{v9, fix} {
		if r.Unsupported != 0 || r.Flows != uint64(a.Counts.Records) {
			t.Errorf("%s: flows %d unsupported %d, want all %d records", r.Receiver, r.Flows, r.Unsupported, a.Counts.Records)
		}
	}
	if v5.Frames.Units != v5.Frames.Records || v9.Frames.Units != v9.Frames.Frames {
		t.Errorf("units: v5 %+v (want units = records), v9 %+v (want units = frames)", v5.Frames, v9.Frames)
	}
}

// TestChunksSendInOrder parses a log as three chunks, reserves, sends to a
// loopback socket and checks that the v5 sequence numbers run without a gap
// across chunks, and that a second claim continues where the first ended.
func TestChunksSendInOrder(t *testing.T) {
	ctx := t.Context()
	l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.SetReadBuffer(8 << 20)
	rs := mustReceivers(t, "netflow5://"+l.LocalAddr().String())
	st := staging.Dir{Root: t.TempDir()}
	store, err := boltseq.Open(filepath.Join(t.TempDir(), "seq.db"), boltseq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	conn, err := udp.Dial(ctx, rs[0].Address(), udp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	lines := strings.SplitAfter(sampleLog(3000), "\n")
	parts := []string{strings.Join(lines[:1000], ""), strings.Join(lines[1000:2000], ""), strings.Join(lines[2000:], "")}
	f, _ := flowlog.ParseFormat("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status")
	run := func(claim string) (flows uint64) {
		var chunks []ChunkResult
		for i, p := range parts {
			res, err := Parse(ctx, ParseInput{Object: "x", Chunk: i, Lines: flowlog.NewLineReader(strings.NewReader(p)),
				Parser: flowlog.Options{Format: f}, Receivers: rs, Staging: st, KeyPrefix: claim + "/"})
			if err != nil {
				t.Fatal(err)
			}
			chunks = append(chunks, res)
		}
		ranges, totals, err := Reserve(ctx, store, claim, rs, chunks)
		if err != nil {
			t.Fatal(err)
		}
		again, _, err := Reserve(ctx, store, claim, rs, chunks)
		if err != nil || fmt.Sprint(again) != fmt.Sprint(ranges) {
			t.Fatalf("retried Reserve gave %v, %v; first %v", again, err, ranges)
		}
		for c := range chunks {
			if _, err := Send(ctx, SendInput{Receiver: rs[0], Key: chunks[c].Receivers[0].Key, Range: ranges[c][0], Staging: st, Conn: conn}); err != nil {
				t.Fatal(err)
			}
		}
		if keys, _ := st.List(ctx, claim+"/"); len(keys) != 0 {
			t.Errorf("staging not empty after send: %v", keys)
		}
		return totals[0].Count
	}
	n1 := run("exec-1")
	n2 := run("exec-2")
	var next uint32
	var got uint64
	buf := make([]byte, 2000)
	for got < n1+n2 {
		l.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := l.Read(buf)
		if err != nil {
			t.Fatalf("after %d of %d flows: %v", got, n1+n2, err)
		}
		count := binary.BigEndian.Uint16(buf[2:4])
		seqNo := binary.BigEndian.Uint32(buf[16:20])
		if seqNo != next {
			t.Fatalf("datagram with sequence %d, want %d", seqNo, next)
		}
		if n != 24+48*int(count) {
			t.Fatalf("datagram of %d bytes for %d records", n, count)
		}
		next += uint32(count)
		got += uint64(count)
	}
}

func TestSendRejectsMismatchedRange(t *testing.T) {
	st := staging.Dir{Root: t.TempDir()}
	rs := mustReceivers(t, "ipfix://127.0.0.1:9")
	res := parseOnce(t, st, rs, sampleLog(100), "p/")
	_, err := Send(context.Background(), SendInput{Receiver: rs[0], Key: res.Receivers[0].Key, Range: rangeOf(0, res.Receivers[0].Frames.Units+1), Staging: st, Conn: nopConn{}})
	if err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("range of the wrong size: %v", err)
	}
}
