//go:build !unix

package flowgen

import (
	"testing"
	"time"
)

func cpuTime(*testing.B) time.Duration { return 0 }

func reportLines(b *testing.B, n float64, _ time.Duration) {
	b.ReportMetric(n/b.Elapsed().Seconds(), "lines/s")
}
