package nfv9

import (
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/internal/nftest"
)

func FuzzV9RoundTrip(f *testing.F) {
	seed := nftest.FuzzSeed()
	f.Add(seed, uint16(0))
	f.Add(seed[:nftest.FuzzRecLen], uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, mtu uint16) {
		cfg := Config{SourceID: 5}
		if mtu != 0 {
			cfg.MTU = MinMTU + int(mtu)%(9000-MinMTU)
		}
		budget := cfg.MaxDatagram()
		var out nftest.Recorder
		enc, err := NewEncoder(cfg, out.Emit)
		if err != nil {
			t.Fatal(err)
		}
		var want []nftest.Flow
		var added []flow.Record
		for _, r := range nftest.FuzzRecords(data) {
			if !nftest.FuzzAdd(t, enc, r, nftest.BadTime(&r), ErrAddress, ErrTimeRange) {
				continue
			}
			want = append(want, nftest.ExpectFlow(&r))
			added = append(added, r)
		}
		if err := enc.Flush(); err != nil {
			t.Fatal(err)
		}
		frames := out.Frames
		now := time.Unix(1_795_000_000, 0)
		var datagrams [][]byte
		for i, f := range frames {
			if n := len(f.Data) + TemplatesLen; n > budget {
				t.Fatalf("frame %d: %d bytes with templates, budget %d", i, n, budget)
			}
			d, err := Finisher{}.Finish(nil, f, uint32(i), now, i%3 == 0)
			if err != nil {
				t.Fatal(err)
			}
			datagrams = append(datagrams, d)
		}
		got := decode(t, datagrams)
		gotFlows, gotIfs := nftest.AllFlows(got)
		nftest.CheckFlows(t, want, gotFlows)
		nftest.CheckIfaces(t, nftest.ExpectIfaces(added), gotIfs)
		for i, p := range got {
			want := len(p.Flows) + len(p.Ifaces)
			if i%3 == 0 {
				want += TemplateRecords
			}
			if int(p.Hdr.Count) != want {
				t.Errorf("packet %d: Count %d, want %d", i, p.Hdr.Count, want)
			}
		}
	})
}
