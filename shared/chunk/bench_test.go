package chunk

import (
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/gzindex"
)

// writeLargeGzip writes about mb MiB of flow-log text as gzip (level 6).
func writeLargeGzip(b *testing.B, path string, mb int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	zw, _ := gzip.NewWriterLevel(bw, 6)
	written := 0
	for seed := uint64(0); written < mb<<20; seed++ {
		d := flowLog(20000, seed)
		if seed > 0 {
			d = d[len(testHeader)+1:]
		}
		zw.Write(d)
		written += len(d)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readAll reads every chunk of p with workers goroutines and returns the
// number of lines.
func readAll(b *testing.B, src Source, index Source, p *Plan, workers int) int64 {
	ctx := context.Background()
	items := make(chan Item)
	var mu sync.Mutex
	var total int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for it := range items {
				r, err := Open(ctx, src, it, index, nil)
				if err != nil {
					b.Error(err)
					continue
				}
				var n, bytes int64
				for l, err := range r.All() {
					if err != nil {
						b.Error(err)
						break
					}
					n++
					bytes += int64(len(l.Text))
				}
				r.Close()
				mu.Lock()
				total += n
				mu.Unlock()
			}
		})
	}
	for _, it := range p.Items {
		items <- it
	}
	close(items)
	wg.Wait()
	return total
}

// BenchmarkLarge measures, on a generated gzip object of FL2NF_BENCH_MB MiB
// uncompressed (default 512): the index pass against standard-library
// gunzip, reading all lines as 1 chunk against N chunks on 2 goroutines,
// and the stored index size per checkpoint (default span). The index pass
// uses a 4 MiB span so that the object splits into 16 chunks. Run it alone:
//
//	go test ./shared/chunk -run XXX -bench Large -benchtime 1x
func BenchmarkLarge(b *testing.B) {
	mb := 512
	if v, err := strconv.Atoi(os.Getenv("FL2NF_BENCH_MB")); err == nil && v > 0 {
		mb = v
	}
	path := filepath.Join(b.TempDir(), "large.log.gz")
	writeLargeGzip(b, path, mb)
	src, err := OpenFile(path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	const chunks = 16
	for b.Loop() {
		// (a) index pass vs stdlib gunzip.
		t0 := time.Now()
		p1, idx, err := NewPlan(ctx, src, Options{ChunkSize: 1 << 40, Span: 4 << 20, SmallObject: -1, IsHeader: isHeader})
		if err != nil {
			b.Fatal(err)
		}
		tIndex := time.Since(t0)
		usize := float64(idx.Size) / 1e6

		t0 = time.Now()
		zr, err := gzip.NewReader(io.NewSectionReader(src.R, 0, src.N))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			b.Fatal(err)
		}
		tStd := time.Since(t0)

		ib, err := idx.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		index := BytesSource(ib)

		// (b) all lines: 1 chunk vs N chunks on 2 goroutines.
		pN := &Plan{Items: groupCheckpoints(idx, idx.Size/chunks, src.N)}
		pN.Items[0].Start = p1.Items[0].Start
		t0 = time.Now()
		n1 := readAll(b, src, index, p1, 1)
		t1 := time.Since(t0)
		t0 = time.Now()
		readAll(b, src, index, pN, 1)
		tN1 := time.Since(t0)
		t0 = time.Now()
		c0 := cpuTime()
		nN := readAll(b, src, index, pN, 2)
		tN := time.Since(t0)
		b.ReportMetric((cpuTime()-c0).Seconds()/tN.Seconds(), "cores_used_Nchunks")
		b.ReportMetric(tN1.Seconds(), "s_Nchunks_1worker")
		if n1 != nN || n1+1 != idx.Lines {
			b.Fatalf("lines: 1 chunk %d, %d chunks %d, index %d", n1, len(pN.Items), nN, idx.Lines)
		}

		// (c) index size per checkpoint at the default span.
		idx64, err := gzindex.Build(io.NewSectionReader(src.R, 0, src.N), nil)
		if err != nil {
			b.Fatal(err)
		}
		ib64, _ := idx64.MarshalBinary()

		b.ReportMetric(usize/tIndex.Seconds(), "index_MB/s")
		b.ReportMetric(usize/tStd.Seconds(), "stdgunzip_MB/s")
		b.ReportMetric(tStd.Seconds()/tIndex.Seconds(), "index/std")
		b.ReportMetric(t1.Seconds(), "s_1chunk")
		b.ReportMetric(tN.Seconds(), "s_Nchunks")
		b.ReportMetric(float64(len(pN.Items)), "chunks")
		b.ReportMetric(t1.Seconds()/tN.Seconds(), "speedup")
		b.ReportMetric(float64(len(ib64))/float64(len(idx64.Checkpoints)), "idxB/checkpoint")
		b.ReportMetric(float64(len(idx64.Checkpoints)), "checkpoints")
		b.ReportMetric(float64(idx.Size)/float64(src.N), "ratio")
	}
}
