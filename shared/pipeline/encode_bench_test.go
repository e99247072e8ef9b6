package pipeline

import (
	"bytes"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowgen"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
)

// BenchmarkEncoders encodes the same generated IPv4 records with each
// protocol's encoder at its default settings, so their throughputs compare
// (the IPFIX target: within 25% of v5).
func BenchmarkEncoders(b *testing.B) {
	var buf bytes.Buffer
	if _, err := flowgen.Write(&buf, flowgen.Options{Lines: 8192, Seed: 3, Header: true}); err != nil {
		b.Fatal(err)
	}
	var recs []flow.Record
	p := flowlog.NewParser(flowlog.Options{})
	if err := p.Scan(&buf, func(r *flow.Record) error {
		if !r.IsIPv6() && r.Bytes < 1<<32 && r.Packets < 1<<32 {
			recs = append(recs, *r)
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	for _, url := range []string{"netflow5://127.0.0.1:9", "netflow9://127.0.0.1:9", "ipfix://127.0.0.1:9"} {
		r, err := receiver.Parse(url)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(r.Protocol.String(), func(b *testing.B) {
			enc, err := NewEncoder(r, func(netflow.Frame) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if err := enc.Add(&recs[n%len(recs)]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
