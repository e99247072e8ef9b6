package handler

import (
	"io"
	"os"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/emf"
)

// metricsOut is where EMF lines go: Lambda's stdout, which CloudWatch Logs
// collects and turns into metrics.
var metricsOut io.Writer = os.Stdout

// emit writes one EMF line for function fn with extra dimensions dims
// (key, value pairs) and the given metrics (name, value, unit triples
// through put).
func emit(fn string, object string, dims []string, put func(l *emf.Logger)) {
	l := emf.New(metricsOut, emf.Namespace).Dimension(emf.DimFunction, fn)
	for i := 0; i+1 < len(dims); i += 2 {
		l.Dimension(dims[i], dims[i+1])
	}
	if object != "" {
		l.Property("object", object)
	}
	put(l)
	l.Flush() // invalid metrics are dropped and reported by Flush; never fail a step for them
}

func emitDuration(fn, step, object string, start time.Time) {
	emit(fn, object, []string{emf.DimStep, step}, func(l *emf.Logger) {
		l.Put(emf.MetricDurationMs, float64(time.Since(start).Milliseconds()), emf.Milliseconds)
	})
}
