package flowlog

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// flowgenCorpus is a flow log written by shared/flowgen with the options
// `make bench` uses (the custom v5 format, 8 interfaces, 5% IPv6, REJECT,
// NODATA, SKIPDATA and '-' at the CLI's default rates), so that the
// benchmarks below see realistic, varied lines rather than one line
// repeated. Regenerate with
//
//	flowlogs2netflow generate --lines 1024 --seed 42 --big 0.0001 --ipv6 0.05 | gzip -9n >testdata/bench/flowgen-v5.log.gz
const flowgenCorpus = "testdata/bench/flowgen-v5.log.gz"

// readFlowgenCorpus returns the decompressed corpus.
func readFlowgenCorpus(tb testing.TB) []byte {
	tb.Helper()
	f, err := os.Open(flowgenCorpus)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkParseFlowgen parses the corpus line by line: one op is one line,
// so ns/op is the cost of ParseLine on an average generated line.
func BenchmarkParseFlowgen(b *testing.B) {
	lines := bytes.SplitAfter(readFlowgenCorpus(b), []byte("\n"))
	header, data := lines[0], lines[1:]
	if len(data[len(data)-1]) == 0 {
		data = data[:len(data)-1]
	}
	p := NewParser(Options{})
	var rec flow.Record
	if r, err := p.ParseLine(header, 1, &rec); r != ReasonHeader {
		b.Fatal(r, err)
	}
	var size int
	for _, l := range data {
		size += len(l)
	}
	b.SetBytes(int64(size / len(data)))
	b.ReportAllocs()
	cpu := cpuTime(b)
	i := 0
	for b.Loop() {
		r, err := p.ParseLine(data[i], int64(i+2), &rec)
		if r == ReasonMalformed || err != nil {
			b.Fatal(r, err)
		}
		if i++; i == len(data) {
			i = 0
		}
	}
	reportLines(b, float64(b.N), cpu)
}

// BenchmarkScanFlowgen splits and parses the whole corpus (no gunzip).
func BenchmarkScanFlowgen(b *testing.B) {
	obj := readFlowgenCorpus(b)
	n := bytes.Count(obj, []byte("\n"))
	b.SetBytes(int64(len(obj)))
	b.ReportAllocs()
	p := NewParser(Options{})
	cpu := cpuTime(b)
	for b.Loop() {
		p.Reset()
		if err := p.Scan(bytes.NewReader(obj), func(*flow.Record) error { return nil }); err != nil {
			b.Fatal(err)
		}
		if c := p.Counts(); c.Lines != int64(n) || c.Skipped[ReasonMalformed] != 0 {
			b.Fatalf("counts %+v", c)
		}
	}
	reportLines(b, float64(b.N)*float64(n), cpu)
}
