package flowgen

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/google/go-cmp/cmp"
)

// mixed turns every knob.
var mixed = Options{
	Lines: 20_000, Seed: 42, Header: true, Interfaces: 40,
	IPv6Fraction: 0.3, RejectFraction: 0.1, NoDataFraction: 0.05, SkipDataFraction: 0.02,
	DashFraction: 0.1, BigCounterFraction: 0.05,
}

func with(o Options, edit func(*Options)) Options {
	edit(&o)
	return o
}

func mustFormat(t *testing.T, s string) *flowlog.Format {
	t.Helper()
	f, err := flowlog.ParseFormat(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// parseTotals parses out with flowlog and sums what it finds.
func parseTotals(t *testing.T, out []byte, opts flowlog.Options, header bool) (Totals, flowlog.Counts) {
	t.Helper()
	p := flowlog.NewParser(opts)
	got := Totals{Header: header}
	err := p.Scan(bytes.NewReader(out), func(r *flow.Record) error {
		got.addRecord(r.IsIPv6(), r.Packets, r.Bytes, r.Start, r.End, r.Action == flow.ActionReject)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Counts()
	got.Lines = c.Lines
	if header {
		got.Lines--
	}
	got.NoData, got.SkipData = c.Skipped[flowlog.ReasonNoData], c.Skipped[flowlog.ReasonSkipData]
	if errs := p.Errors(); len(errs) > 0 {
		t.Errorf("generated lines are malformed: %v", errs)
	}
	return got, c
}

// TestWriteTotals cross-checks both packages: parsing the output with
// flowlog finds exactly the totals Write returned.
func TestWriteTotals(t *testing.T) {
	v2 := flowlog.DefaultFormat
	tests := []struct {
		name  string
		opts  Options
		parse flowlog.Options
	}{
		{"default format", Options{Lines: 5000, Seed: 1, Header: true}, flowlog.Options{}},
		{"mixed", mixed, flowlog.Options{}},
		{"mixed interface mode", mixed, flowlog.Options{AddressMode: flowlog.AddressInterface}},
		{"v2 default format", with(mixed, func(o *Options) { o.Format = v2 }), flowlog.Options{}},
		{"no header", with(mixed, func(o *Options) { o.Header = false }), flowlog.Options{Format: DefaultFormat}},
		{"firehose", with(mixed, func(o *Options) { o.Header, o.Firehose, o.Format = false, true, v2 }), flowlog.Options{Format: v2}},
		{"all big counters", with(mixed, func(o *Options) { o.BigCounterFraction, o.RejectFraction = 1, 0 }), flowlog.Options{}},
		{"all ipv6, all dashes", with(mixed, func(o *Options) { o.IPv6Fraction, o.DashFraction = 1, 1 }), flowlog.Options{}},
		{"only nodata", with(mixed, func(o *Options) { o.NoDataFraction, o.SkipDataFraction = 1, 0 }), flowlog.Options{}},
		{"packet addresses only", with(mixed, func(o *Options) {
			o.Format = mustFormat(t, "${pkt-srcaddr} ${pkt-dstaddr} ${log-status} ${action} ${bytes}")
		}), flowlog.Options{AddressMode: flowlog.AddressPacket}},
		{"every field", with(mixed, func(o *Options) {
			o.Format = mustFormat(t, "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "+
				"start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id "+
				"sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path "+
				"ecs-cluster-arn ecs-task-id reject-reason resource-id encryption-status next-hop")
		}), flowlog.Options{}},
		{"one line", Options{Lines: 1, Header: true}, flowlog.Options{}},
		{"header only", Options{Header: true}, flowlog.Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			want, err := Write(&out, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if want.Lines != tc.opts.Lines {
				t.Errorf("Totals.Lines = %d, want %d", want.Lines, tc.opts.Lines)
			}
			got, counts := parseTotals(t, out.Bytes(), tc.parse, tc.opts.Header)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("totals (-Write +parsed):\n%s", diff)
			}
			if diff := cmp.Diff(want.Counts(), counts); diff != "" {
				t.Errorf("counts (-Totals.Counts +parsed):\n%s", diff)
			}
		})
	}
}

// TestWriteFractions checks that the knobs do what they say.
func TestWriteFractions(t *testing.T) {
	tot, err := Write(io.Discard, mixed)
	if err != nil {
		t.Fatal(err)
	}
	n := float64(mixed.Lines)
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > 0.02 {
			t.Errorf("%s fraction %.3f, want about %.3f", name, got, want)
		}
	}
	near("nodata", float64(tot.NoData)/n, mixed.NoDataFraction)
	near("skipdata", float64(tot.SkipData)/n, mixed.SkipDataFraction)
	near("ipv6", float64(tot.IPv6.Records)/float64(tot.Records()), mixed.IPv6Fraction)
	near("reject", float64(tot.Rejects)/float64(tot.Records()), mixed.RejectFraction)
	start := mixed.Start
	if start.IsZero() {
		start = DefaultStart
	}
	if tot.MinStart < start.Unix() || tot.MaxEnd > start.Add(DefaultSpan).Unix()+60+600 || tot.MinStart > tot.MaxEnd {
		t.Errorf("times [%d, %d] outside the span from %d", tot.MinStart, tot.MaxEnd, start.Unix())
	}
}

func TestWriteDeterministic(t *testing.T) {
	sum := func(o Options) [32]byte {
		h := sha256.New()
		if _, err := Write(h, o); err != nil {
			t.Fatal(err)
		}
		return [32]byte(h.Sum(nil))
	}
	a, b := sum(mixed), sum(mixed)
	if a != b {
		t.Error("the same options gave different output")
	}
	if c := sum(with(mixed, func(o *Options) { o.Seed++ })); c == a {
		t.Error("another seed gave the same output")
	}
}

var (
	reENI      = regexp.MustCompile(`^eni-[0-9a-f]{17}$`)
	reAccount  = regexp.MustCompile(`^([1-9][0-9]{11}|unknown)$`)
	reVPC      = regexp.MustCompile(`^vpc-[0-9a-f]{17}$`)
	reSubnet   = regexp.MustCompile(`^subnet-[0-9a-f]{17}$`)
	reInstance = regexp.MustCompile(`^(i-[0-9a-f]{17}|-)$`)
	tcpFlags   = map[string]bool{"-": true, "0": true, "1": true, "2": true, "3": true, "4": true, "5": true, "18": true, "19": true, "22": true}
)

// TestWriteRealistic checks the lines against what real flow logs look like.
func TestWriteRealistic(t *testing.T) {
	o := with(mixed, func(o *Options) { o.Span = 60 * 24 * time.Hour })
	var out bytes.Buffer
	if _, err := Write(&out, o); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if lines[0] != DefaultFormat.Header() {
		t.Fatalf("header %q", lines[0])
	}
	enis := map[string]bool{}
	prevStart := int64(0)
	for i, line := range lines[1:] {
		f := strings.Split(line, " ")
		if len(f) != DefaultFormat.Len() {
			t.Fatalf("line %d: %d fields", i+2, len(f))
		}
		// version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end
		// action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr flow-direction traffic-path
		check := func(ok bool, what string) {
			t.Helper()
			if !ok {
				t.Fatalf("line %d: %s: %s", i+2, what, line)
			}
		}
		check(f[0] == "5", "version")
		check(reAccount.MatchString(f[1]), "account-id")
		check(reENI.MatchString(f[2]), "interface-id")
		check(reVPC.MatchString(f[14]) && reSubnet.MatchString(f[15]) && reInstance.MatchString(f[16]), "ids")
		enis[f[2]] = true
		start, err1 := strconv.ParseInt(f[10], 10, 64)
		end, err2 := strconv.ParseInt(f[11], 10, 64)
		check(err1 == nil && err2 == nil && start <= end && end-start <= 600, "start/end")
		check(start >= prevStart-120, "start times rise")
		prevStart = start
		if f[13] != "OK" {
			check(f[13] == "NODATA" || f[13] == "SKIPDATA", "log-status")
			check(f[3] == "-" && f[9] == "-" && f[12] == "-", "NODATA fields")
			continue
		}
		check(f[12] == "ACCEPT" || f[12] == "REJECT", "action")
		switch f[7] {
		case "6":
			check(tcpFlags[f[17]], "tcp-flags")
			check(f[5] != "0" && f[6] != "0", "tcp ports")
		case "17":
			check(f[17] == "0", "tcp-flags for udp")
		case "1", "58", "47", "50":
			check(f[17] == "0" && (f[5] == "0" || f[5] == "-"), "ports and flags for icmp/gre/esp")
		default:
			check(false, "protocol")
		}
		check(f[18] == "IPv4" && !strings.Contains(f[3], ":") || f[18] == "IPv6" && strings.Contains(f[3], ":"), "type")
		check(f[21] == "ingress" && f[22] == "-" || f[21] == "egress" && f[22] != "-", "direction and traffic-path")
	}
	if len(enis) != o.Interfaces {
		t.Errorf("%d distinct ENIs, want %d", len(enis), o.Interfaces)
	}
	if end := DefaultStart.Add(o.Span).Unix(); prevStart < end-86400 || prevStart > end+60 {
		t.Errorf("last start %d does not reach the end of the span, %d", prevStart, end)
	}
}

func TestWriteOptionsErrors(t *testing.T) {
	for name, o := range map[string]Options{
		"negative lines":     {Lines: -1},
		"fraction above 1":   {IPv6Fraction: 1.5},
		"NaN fraction":       {DashFraction: math.NaN()},
		"nodata + skipdata":  {NoDataFraction: 0.6, SkipDataFraction: 0.6},
		"header in firehose": {Header: true, Firehose: true},
		"no addresses":       {Format: mustFormat(t, "srcaddr bytes")},
		"nodata without log-status": {NoDataFraction: 0.1,
			Format: mustFormat(t, "srcaddr dstaddr")},
		"negative span":       {Span: -time.Second},
		"too many interfaces": {Interfaces: 1 << 21},
		"before 1970":         {Start: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := Write(io.Discard, o); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: Write = %v, want ErrOptions", name, err)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	if _, err := Write(failWriter{}, Options{Lines: 10}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Write = %v, want the writer's error", err)
	}
}
