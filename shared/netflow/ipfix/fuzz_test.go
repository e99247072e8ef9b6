package ipfix

import (
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow/internal/nftest"
)

func FuzzIPFIXRoundTrip(f *testing.F) {
	seed := nftest.FuzzSeed()
	f.Add(seed, uint16(0), true)
	f.Add(seed[:nftest.FuzzRecLen], uint16(1), false)
	f.Fuzz(func(t *testing.T, data []byte, mtu uint16, names bool) {
		cfg := Config{ObservationDomain: 5, InterfaceNames: names}
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
			want = append(want, expectFlow(&r))
			added = append(added, r)
		}
		if err := enc.Flush(); err != nil {
			t.Fatal(err)
		}
		frames := out.Frames
		now := time.Unix(1_795_000_000, 0)
		var datagrams [][]byte
		seq := uint32(1 << 31)
		for i, f := range frames {
			if n := len(f.Data) + TemplatesLen; n > budget {
				t.Fatalf("frame %d: %d bytes with templates, budget %d", i, n, budget)
			}
			d, err := Finisher{}.Finish(nil, f, seq, now, i%3 == 0)
			seq += f.Units
			if err != nil {
				t.Fatal(err)
			}
			datagrams = append(datagrams, d)
		}
		got := decode(t, datagrams)
		gotFlows, gotIfs := nftest.AllFlows(got)
		nftest.CheckFlows(t, want, gotFlows)
		var wantIfs []nftest.Iface
		if names {
			wantIfs = nftest.ExpectIfaces(added)
		}
		nftest.CheckIfaces(t, wantIfs, gotIfs)
		seq = 1 << 31
		for i, p := range got {
			if p.Hdr.SequenceNumber != seq {
				t.Errorf("message %d: sequence %d, want %d", i, p.Hdr.SequenceNumber, seq)
			}
			n := uint32(len(p.Flows) + len(p.Ifaces))
			if frames[i].Units != n || frames[i].Records != n {
				t.Errorf("message %d: Units %d Records %d, want %d", i, frames[i].Units, frames[i].Records, n)
			}
			seq += n
		}
	})
}
