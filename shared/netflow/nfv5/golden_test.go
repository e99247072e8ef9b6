package nfv5_test

import (
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current encoder")

// goldenRecords is the fixed input of the golden packets: every direction,
// a split counter straddling two datagrams, an IPv6 record (skipped), a
// record ending before it starts, and a year-old record that forces a new
// datagram by span.
func goldenRecords() []flow.Record {
	eni := "eni-0a1b2c3d4e5f60718"
	var recs []flow.Record
	for i := range 27 {
		r := v4("172.31.16.139", "172.31.16.21", uint16(20641+i), 22, 6, uint64(20+i), uint64(4249+100*i), t0+int64(i), t0+60+int64(i))
		r.TCPFlags = 19
		r.Direction = flow.Direction(i % 3)
		r.InterfaceID, r.IfIndex = eni, flow.IfIndex(eni)
		recs = append(recs, r)
	}
	v6 := v4("10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 60, t0, t0+1)
	v6.SrcAddr, v6.DstAddr = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	recs = append(recs,
		v6,
		v4("203.0.113.12", "172.31.9.69", 49761, 3389, 6, 3*math.MaxUint32+7, 12_000_000_000, t0+30, t0+90),
		v4("198.51.100.7", "172.31.9.12", 0, 0, 1, 4, 336, t0+40, t0+20),
		v4("192.0.2.1", "192.0.2.2", 123, 123, 17, 1, 76, t0-365*day, t0-365*day+5),
	)
	return recs
}

// TestGolden checks the staged frames and the frames finished from
// sequence 4294967290 at a fixed time byte for byte.
func TestGolden(t *testing.T) {
	recs := goldenRecords()
	frames, errs := encodeAll(t, testCfg, recs)
	var sb strings.Builder
	fmt.Fprintf(&sb, "# nfv5 golden: %d records, config %+v\n", len(recs), testCfg)
	for i, err := range errs {
		if err != nil {
			fmt.Fprintf(&sb, "# record %d: %v\n", i, err)
		}
	}
	now := time.Unix(t0+120, 250_000_000)
	const seq0 = math.MaxUint32 - 5
	fmt.Fprintf(&sb, "# finished from sequence %d at %s\n", uint32(seq0), now.UTC().Format(time.RFC3339Nano))
	finished := finishAll(t, frames, seq0, now)
	for i, f := range frames {
		fmt.Fprintf(&sb, "\n## frame %d staged: units %d records %d, %d bytes\n%s", i, f.Units, f.Records, len(f.Data), hex.Dump(f.Data))
		fmt.Fprintf(&sb, "## frame %d finished\n%s", i, hex.Dump(finished[i]))
	}
	got := sb.String()

	path := filepath.Join("testdata", "encode.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./shared/netflow/nfv5 -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}
