package parquetlog

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/gzip"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
)

// benchFile writes rows rows of the default format's columns (AWS's types)
// with parquet-go, GZIP pages, rowsPerGroup rows a row group. (The tests
// read files of another implementation; a benchmark only needs volume.)
func benchFile(b *testing.B, rows, rowsPerGroup int) []byte {
	b.Helper()
	cols := []struct {
		name string
		node parquet.Node
	}{
		{"version", parquet.Int(32)}, {"account_id", parquet.String()}, {"interface_id", parquet.String()},
		{"srcaddr", parquet.String()}, {"dstaddr", parquet.String()}, {"srcport", parquet.Int(32)},
		{"dstport", parquet.Int(32)}, {"protocol", parquet.Int(64)}, {"packets", parquet.Int(64)},
		{"bytes", parquet.Int(64)}, {"start", parquet.Int(64)}, {"end", parquet.Int(64)},
		{"action", parquet.String()}, {"log_status", parquet.String()},
	}
	g := parquet.Group{}
	for _, c := range cols {
		g[c.name] = parquet.Optional(parquet.Compressed(c.node, &gzip.Codec{}))
	}
	schema := parquet.NewSchema("flowlog", g)
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, schema)
	// The schema orders a Group's columns by name: index the values so.
	index := map[string]int{}
	for i, f := range schema.Fields() {
		index[f.Name()] = i
	}
	row := make(parquet.Row, len(cols))
	for i := range rows {
		vals := map[string]any{
			"version": int32(2), "account_id": "123456789012", "interface_id": fmt.Sprintf("eni-0a1b2c3d4e5f6%04d", i%8),
			"srcaddr": fmt.Sprintf("10.0.%d.%d", i/256%256, i%256), "dstaddr": "172.31.16.21", "srcport": int32(1024 + i%60000),
			"dstport": int32(443), "protocol": int64(6), "packets": int64(1 + i%100), "bytes": int64(40 + i%100000),
			"start": int64(1700000000 + i/1000), "end": int64(1700000060 + i/1000), "action": "ACCEPT", "log_status": "OK",
		}
		for name, v := range vals {
			j := index[name]
			row[j] = parquet.ValueOf(v).Level(0, 1, j)
		}
		if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
			b.Fatal(err)
		}
		if (i+1)%rowsPerGroup == 0 {
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkLines: rows/s read from a Parquet flow log into text lines (the
// Parse step's input), 200,000 rows in 4 row groups.
func BenchmarkLines(b *testing.B) {
	const rows = 200_000
	data := benchFile(b, rows, 50_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := Open(b.Context(), "bench", chunk.BytesSource(data))
		if err != nil {
			b.Fatal(err)
		}
		if len(f.Groups) != 4 || f.Rows != rows {
			b.Fatalf("%d groups, %d rows", len(f.Groups), f.Rows)
		}
		l, _ := f.Lines(0, len(f.Groups))
		n := 0
		for l.Next() {
			n++
		}
		if l.Err() != nil || n != rows {
			b.Fatalf("%d rows: %v", n, l.Err())
		}
		l.Close()
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
