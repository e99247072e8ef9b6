//go:build unix

package flowlog

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time (user + system) this process has used. The
// benchmarks report lines per CPU second as well as per wall second, since
// the machines they run on are often shared.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportLines reports lines/s (wall) and cpu-lines/s for n lines processed
// since the CPU time was before.
func reportLines(b *testing.B, n float64, before time.Duration) {
	b.ReportMetric(n/b.Elapsed().Seconds(), "lines/s")
	if cpu := cpuTime(b) - before; cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), "cpu-lines/s")
	}
}
