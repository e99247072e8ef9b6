package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowgen"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/boltseq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

// drain reads and discards datagrams until the test ends.
func drain(t *testing.T) string {
	t.Helper()
	l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go io.Copy(io.Discard, l)
	return l.LocalAddr().String()
}

// TestStreamedRunMatchesOneChunk: several workers on small pieces account
// for exactly the same lines, records and sequence units as one chunk, and
// name a malformed line by its line number in the file.
func TestStreamedRunMatchesOneChunk(t *testing.T) {
	var plain bytes.Buffer
	if _, err := flowgen.Write(&plain, flowgen.Options{Lines: 30_000, Seed: 5, Header: true, IPv6Fraction: 0.05, NoDataFraction: 0.01, BigCounterFraction: 0.001}); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(plain.String(), "\n")
	lines[20_000] = "5 123 eni-1 10.0.0.x 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n" // line 20001
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, strings.Join(lines, ""))
	zw.Close()
	path := filepath.Join(t.TempDir(), "f.log.gz")
	os.WriteFile(path, gz.Bytes(), 0o644)

	addr := drain(t)
	run := func(workers int) *Summary {
		store, err := boltseq.Open(filepath.Join(t.TempDir(), "seq.db"), boltseq.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		r := &Runner{
			Receivers: mustReceivers(t, "netflow5://"+addr, "ipfix://"+addr),
			Seq:       store, Staging: staging.Dir{Root: t.TempDir()},
			Workers: workers, PieceSize: 64 << 10, ChunkSize: 64 << 20, SmallObject: 8 << 20, MaxChunks: 256,
		}
		in := Input{Name: path, Source: func() (chunk.Source, io.Closer, error) {
			f, err := chunk.OpenFile(path)
			return f, f, err
		}}
		if err := r.Run(context.Background(), in, "x"); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := r.Summary.Check(); err != nil {
			t.Fatal(err)
		}
		return r.Summary
	}
	one, many := run(1), run(3)
	if many.Chunks < 10 || one.Chunks != 1 {
		t.Fatalf("chunks: one worker %d, three workers %d", one.Chunks, many.Chunks)
	}
	if one.Counts != many.Counts {
		t.Errorf("counts differ: one chunk %+v, streamed %+v", one.Counts, many.Counts)
	}
	for i := range one.Receivers {
		a, b := one.Receivers[i], many.Receivers[i]
		if a.Flows != b.Flows || a.Records != b.Records || a.Units != b.Units || a.Bytes != b.Bytes || a.Packets != b.Packets || a.Unsupported != b.Unsupported {
			t.Errorf("receiver %s: one chunk %+v, streamed %+v", a.URL, a, b)
		}
	}
	if len(many.Errors) != 1 || !strings.Contains(many.Errors[0], "line 20001") {
		t.Errorf("malformed line report %q, want line 20001", many.Errors)
	}
}
