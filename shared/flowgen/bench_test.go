package flowgen

import (
	"io"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
)

// countingDiscard counts bytes written.
type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkWrite generates lines into a discarding writer; the target is
// well over 1M lines/s on one core (a 1 GB file in seconds).
func BenchmarkWrite(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"custom-v5", Options{Header: true}},
		{"v2-default", Options{Header: true, Format: flowlog.DefaultFormat}},
		{"mixed", mixed},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const lines = 200_000
			o := tc.opts
			o.Lines = lines
			var w countingDiscard
			if _, err := Write(&w, o); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(w.n)
			b.ReportAllocs()
			cpu := cpuTime(b)
			for b.Loop() {
				if _, err := Write(io.Discard, o); err != nil {
					b.Fatal(err)
				}
			}
			reportLines(b, float64(b.N)*lines, cpu)
		})
	}
}
