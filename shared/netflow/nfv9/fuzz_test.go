package nfv9

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
)

// fuzzRecLen is the number of fuzz bytes that make one record.
const fuzzRecLen = 64

// fuzzRecords turns data into at most 200 records, fuzzRecLen bytes each:
// kind, src[16], dst[16], ports[4], proto, flags, packets[8], bytes[8],
// start[4], duration[4], eni.
func fuzzRecords(data []byte) []flow.Record {
	be := binary.BigEndian
	var recs []flow.Record
	for ; len(data) >= fuzzRecLen && len(recs) < 200; data = data[fuzzRecLen:] {
		b := data[:fuzzRecLen]
		kind := b[0]
		r := flow.Record{
			SrcPort: be.Uint16(b[33:]), DstPort: be.Uint16(b[35:]),
			Protocol: b[37], TCPFlags: b[38],
			Packets: be.Uint64(b[39:]), Bytes: be.Uint64(b[47:]),
			Start:     int64(be.Uint32(b[55:])),
			Action:    flow.Action(kind >> 1 % 4),
			Direction: flow.Direction(kind >> 3 % 4),
			Line:      int64(len(recs) + 1),
		}
		r.End = r.Start + int64(int32(be.Uint32(b[59:])))
		switch kind & 1 {
		case 0:
			r.SrcAddr, r.DstAddr = netip.AddrFrom4([4]byte(b[1:5])), netip.AddrFrom4([4]byte(b[17:21]))
		case 1:
			r.SrcAddr, r.DstAddr = netip.AddrFrom16([16]byte(b[1:17])), netip.AddrFrom16([16]byte(b[17:33]))
		}
		if kind&0x20 != 0 { // mixed families: unsupported
			r.DstAddr = netip.AddrFrom16([16]byte(b[17:33]))
		}
		if kind&0x40 != 0 { // negative times: unsupported
			r.Start = -r.Start
		}
		if e := b[63]; e%4 != 0 {
			r.InterfaceID = fmt.Sprintf("eni-%017x", e)
			if e%4 == 3 {
				r.InterfaceID += strings.Repeat("x", int(e)%40) // long names are truncated
			}
			r.IfIndex = flow.IfIndex(r.InterfaceID)
		}
		recs = append(recs, r)
	}
	return recs
}

func FuzzV9RoundTrip(f *testing.F) {
	seed := make([]byte, 3*fuzzRecLen)
	for i := range seed {
		seed[i] = byte(i * 7)
	}
	f.Add(seed, uint16(0))
	f.Add(seed[:fuzzRecLen], uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, mtu uint16) {
		cfg := Config{SourceID: 5}
		if mtu != 0 {
			cfg.MTU = MinMTU + int(mtu)%(9000-MinMTU)
		}
		budget := cfg.MaxDatagram()
		var frames []netflow.Frame
		enc, err := NewEncoder(cfg, func(f netflow.Frame) error {
			frames = append(frames, netflow.Frame{Data: append([]byte(nil), f.Data...), Units: f.Units, Records: f.Records})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []wantFlow
		var wantIfs []wantIface
		seen := map[string]bool{}
		for _, r := range fuzzRecords(data) {
			err := enc.Add(&r)
			mixed := r.SrcAddr.Is4() != r.DstAddr.Is4()
			badTime := r.Start < 0 || r.End < 0 || r.Start > maxSeconds || r.End > maxSeconds
			switch {
			case mixed && errors.Is(err, ErrAddress), !mixed && badTime && errors.Is(err, ErrTimeRange):
				continue
			case err != nil || mixed || badTime:
				t.Fatalf("Add(%+v) = %v", r, err)
			}
			w := expectFlow(&r)
			end := min(max(r.End, r.Start), r.Start+MaxDurationSeconds)
			w.EndMs = end * 1000
			want = append(want, w)
			if r.InterfaceID != "" && !seen[r.InterfaceID] {
				seen[r.InterfaceID] = true
				name := r.InterfaceID
				if len(name) > 31 {
					name = name[:31]
				}
				wantIfs = append(wantIfs, wantIface{IfIndex: r.IfIndex, Name: name})
			}
		}
		if err := enc.Flush(); err != nil {
			t.Fatal(err)
		}
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
		gotFlows, gotIfs := allFlows(got)
		if diff := cmp.Diff(sortFlows(want), sortFlows(gotFlows)); diff != "" {
			t.Errorf("flows (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantIfs, gotIfs); diff != "" {
			t.Errorf("interfaces (-want +got):\n%s", diff)
		}
		for i, p := range got {
			want := len(p.flows) + len(p.ifaces)
			if i%3 == 0 {
				want += TemplateRecords
			}
			if int(p.hdr.Count) != want {
				t.Errorf("packet %d: Count %d, want %d", i, p.hdr.Count, want)
			}
		}
	})
}
