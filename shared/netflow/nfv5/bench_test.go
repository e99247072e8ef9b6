package nfv5_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/nfv5"
)

// benchRecords returns n varied IPv4 records of one ten-minute window, as
// in a flow-log file, with ordinary counters.
func benchRecords(n int) []flow.Record {
	rng := rand.New(rand.NewPCG(3, 4))
	recs := make([]flow.Record, n)
	for i := range recs {
		recs[i] = randomRecord(rng, t0)
		recs[i].Start = t0 + rng.Int64N(600)
		recs[i].End = recs[i].Start + rng.Int64N(60)
		recs[i].Packets = 1 + rng.Uint64N(1<<16)
		recs[i].Bytes = recs[i].Packets * (40 + rng.Uint64N(1460))
	}
	return recs
}

// BenchmarkEncode measures Encoder.Add (flushes included) on one core;
// the target is at least 5M records/s and 0 allocs/op.
func BenchmarkEncode(b *testing.B) {
	recs := benchRecords(4096)
	var frames int
	enc := nfv5.NewEncoder(testCfg, func(netflow.Frame) error { frames++; return nil })
	b.ReportAllocs()
	b.SetBytes(nfv5.RecordLen)
	i := 0
	for b.Loop() {
		if err := enc.Add(&recs[i&4095]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if err := enc.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkFinish measures Finisher.Finish of a full datagram into a
// reused buffer.
func BenchmarkFinish(b *testing.B) {
	frames := mustEncode(b, testCfg, benchRecords(30))
	var fin nfv5.Finisher
	buf := make([]byte, 0, nfv5.MaxDatagram)
	now := time.Unix(t0+900, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(frames[0].Data)))
	seq := uint32(0)
	for b.Loop() {
		var err error
		if buf, err = fin.Finish(buf[:0], frames[0], seq, now, false); err != nil {
			b.Fatal(err)
		}
		seq += frames[0].Units
	}
}
