package flowlog

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

// goldenRecord is flow.Record in a form that reads well in golden files.
type goldenRecord struct {
	Line        int64  `json:"line"`
	Src         string `json:"src"`
	Dst         string `json:"dst"`
	SrcPort     uint16 `json:"srcport"`
	DstPort     uint16 `json:"dstport"`
	Protocol    uint8  `json:"protocol"`
	TCPFlags    uint8  `json:"tcp_flags,omitempty"`
	Packets     uint64 `json:"packets"`
	Bytes       uint64 `json:"bytes"`
	Start       int64  `json:"start"`
	End         int64  `json:"end"`
	Action      string `json:"action"`
	Direction   string `json:"direction,omitempty"`
	TrafficPath uint8  `json:"traffic_path,omitempty"`
	InterfaceID string `json:"interface_id,omitempty"`
	IfIndex     uint32 `json:"if_index,omitempty"`
	AccountID   string `json:"account_id,omitempty"`
	VPCID       string `json:"vpc_id,omitempty"`
	SubnetID    string `json:"subnet_id,omitempty"`
	InstanceID  string `json:"instance_id,omitempty"`
}

func toGolden(r *flow.Record) goldenRecord {
	g := goldenRecord{
		Line: r.Line, Src: r.SrcAddr.String(), Dst: r.DstAddr.String(), SrcPort: r.SrcPort, DstPort: r.DstPort,
		Protocol: r.Protocol, TCPFlags: r.TCPFlags, Packets: r.Packets, Bytes: r.Bytes, Start: r.Start, End: r.End,
		Action: r.Action.String(), TrafficPath: r.TrafficPath, InterfaceID: r.InterfaceID, IfIndex: r.IfIndex,
		AccountID: r.AccountID, VPCID: r.VPCID, SubnetID: r.SubnetID, InstanceID: r.InstanceID,
	}
	if r.Direction != flow.DirectionUnknown {
		g.Direction = r.Direction.String()
	}
	return g
}

// golden is the content of a testdata/*.golden.json file.
type golden struct {
	Input   string         `json:"input"`
	Format  *Format        `json:"format"` // the active format at the end
	Counts  Counts         `json:"counts"`
	Errors  []string       `json:"errors"`
	Records []goldenRecord `json:"records"`
}

func TestGolden(t *testing.T) {
	custom := mustFormat(t, customFormat)
	lines := mustFormat(t, "${interface-id} ${srcaddr} ${dstaddr} ${action} ${log-status} ${flow-direction}")
	cases := map[string]struct {
		input string
		opts  Options
	}{
		"default":            {"default.log", Options{}},
		"crlf":               {"crlf.log", Options{}},
		"custom-v5":          {"custom-v5.log", Options{}},
		"custom-v5.packet":   {"custom-v5.log", Options{AddressMode: AddressPacket}},
		"custom-v5.iface":    {"custom-v5.log", Options{AddressMode: AddressInterface, Format: custom}},
		"all-fields-v8":      {"all-fields-v8.log", Options{}},
		"concatenated":       {"concatenated.log", Options{}},
		"malformed":          {"malformed.log", Options{}},
		"firehose":           {"firehose.log", Options{Format: DefaultFormat}},
		"firehose-lines":     {"firehose-lines.log", Options{Format: lines}},
		"firehose.ipv4-only": {"firehose.log", Options{Format: DefaultFormat, Filter: func(r *flow.Record) bool { return r.SrcAddr.Is4() }}},
	}
	// Every input is used.
	inputs, _ := filepath.Glob("testdata/*.log")
	for _, in := range inputs {
		found := false
		for _, c := range cases {
			found = found || c.input == filepath.Base(in)
		}
		if !found {
			t.Errorf("%s has no golden case", in)
		}
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", c.input))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			p := NewParser(c.opts)
			got := golden{Input: c.input, Records: []goldenRecord{}, Errors: []string{}}
			if err := p.Scan(f, func(r *flow.Record) error {
				got.Records = append(got.Records, toGolden(r))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			got.Format, got.Counts = p.Format(), p.Counts()
			for _, e := range p.Errors() {
				got.Errors = append(got.Errors, e.Error())
			}
			if err := got.Counts.Check(); err != nil {
				t.Error(err)
			}
			b, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, '\n')
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./shared/flowlog -update)", err)
			}
			if diff := cmp.Diff(string(want), string(b)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, strings.TrimSpace(diff))
			}
		})
	}
}
