package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"maps"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/collectortest"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowgen"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/pipeline"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/total"
)

// These tests are the acceptance of NetFlow v9 / IPFIX export to several
// receivers at once: the CLI sends a generated flow log to real collectors
// on loopback (nfcapd/nfdump, pmacct nfacctd, goflow2, tshark), and what
// each decoded is compared, flow by flow, with an independent parse of the
// input (shared/flowlog) and the generator's totals.

// flowRec is one flow as the input says a collector must show it.
type flowRec struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8
	Start, End       int64 // Unix milliseconds
	Bytes, Packets   uint64
	In, Out          uint32 // ifIndex of the ENI by direction
	Fwd              uint8  // forwardingStatus: ACCEPT 0x40, REJECT 0x81, '-' 0
	Dir              uint8  // flowDirection: egress 1, ingress or '-' 0
}

// view selects the fields beyond addresses, ports, protocol and times
// that a collector shows and that are compared.
type view uint8

const (
	withIfaces    view = 1 << iota // input and output interface
	withFwd                        // the forwardingStatus byte
	withFwdStatus                  // only its status bits (tshark): 1 forwarded, 2 dropped
	withDir                        // flow direction
)

var keySeed = maphash.MakeSeed()

// key fingerprints a flow without its counters (compared as sums per key).
func (f flowRec) key(v view) uint64 {
	var b [16 + 16 + 2 + 2 + 1 + 8 + 8 + 4 + 4 + 1 + 1]byte
	s, d := f.Src.As16(), f.Dst.As16()
	copy(b[0:], s[:])
	copy(b[16:], d[:])
	be := binary.BigEndian
	be.PutUint16(b[32:], f.SrcPort)
	be.PutUint16(b[34:], f.DstPort)
	b[36] = f.Proto
	be.PutUint64(b[37:], uint64(f.Start))
	be.PutUint64(b[45:], uint64(f.End))
	if v&withIfaces != 0 {
		be.PutUint32(b[53:], f.In)
		be.PutUint32(b[57:], f.Out)
	}
	switch {
	case v&withFwd != 0:
		b[61] = f.Fwd
	case v&withFwdStatus != 0:
		b[61] = f.Fwd >> 6
	}
	if v&withDir != 0 {
		b[62] = f.Dir
	}
	return maphash.Bytes(keySeed, b[:])
}

func (f flowRec) String() string {
	return fmt.Sprintf("%v:%d > %v:%d proto %d %s..%s bytes %d packets %d in %d out %d fwd %#x dir %d",
		f.Src, f.SrcPort, f.Dst, f.DstPort, f.Proto, time.UnixMilli(f.Start).UTC().Format(time.RFC3339Nano),
		time.UnixMilli(f.End).UTC().Format(time.RFC3339Nano), f.Bytes, f.Packets, f.In, f.Out, f.Fwd, f.Dir)
}

// testInput is a generated flow log with what it holds.
type testInput struct {
	path  string
	truth flowgen.Totals
	flows []flowRec // every record, parsed independently of the pipeline
}

func (in testInput) records() uint64 { return uint64(len(in.flows)) }

// generateInput writes a gzip flow log with IPv6, REJECT, NODATA/SKIPDATA
// lines, '-' fields and counters above 2^32, and parses it.
func generateInput(t *testing.T, lines, seed int64) testInput {
	t.Helper()
	dir := t.TempDir()
	in := testInput{path: filepath.Join(dir, "flowlog.log.gz")}
	totals := filepath.Join(dir, "totals.json")
	out, errOut, code := cli(t, "generate", "--lines", itoa(lines), "--seed", itoa(seed), "--gzip", "-o", in.path,
		"--ipv6", "0.08", "--reject", "0.1", "--nodata", "0.01", "--skipdata", "0.005", "--dash", "0.02",
		"--big", "0.001", "--span", "48h", "--totals", totals)
	if code != 0 {
		t.Fatalf("generate: exit %d: %s %s", code, out, errOut)
	}
	readJSON(t, totals, &in.truth)
	in.flows = parseFlows(t, in.path)
	// The independent parse must agree with the generator.
	var v4, v6 famTotals
	var rejects int64
	for _, f := range in.flows {
		fam := &v4
		if f.Src.Is6() {
			fam = &v6
		}
		fam.add(f.Bytes, f.Packets)
		if f.Fwd == 0x81 {
			rejects++
		}
	}
	if v4.records != in.truth.IPv4.Records || v4.bytes != in.truth.IPv4.Bytes || v4.packets != in.truth.IPv4.Packets ||
		v6.records != in.truth.IPv6.Records || v6.bytes != in.truth.IPv6.Bytes || v6.packets != in.truth.IPv6.Packets ||
		rejects != in.truth.Rejects {
		t.Fatalf("independent parse disagrees with the generator: IPv4 %+v IPv6 %+v rejects %d, generator %+v", v4, v6, rejects, in.truth)
	}
	if r := float64(in.truth.Records()); float64(in.truth.IPv6.Records) < 0.05*r || float64(in.truth.Rejects) < 0.05*r {
		t.Fatalf("input has %d IPv6 and %d REJECT records of %d, want at least 5 %% each", in.truth.IPv6.Records, in.truth.Rejects, in.truth.Records())
	}
	return in
}

type famTotals struct {
	records        int64
	bytes, packets uint64
}

func (c *famTotals) add(bytes, packets uint64) {
	c.records++
	c.bytes += bytes
	c.packets += packets
}

// parseFlows reads the flow log with shared/flowlog, as a collector must
// show each record over v9 or IPFIX.
func parseFlows(t *testing.T, path string) []flowRec {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []flowRec
	err = flowlog.NewParser(flowlog.Options{}).Scan(zr, func(r *flow.Record) error {
		fr := flowRec{
			Src: r.SrcAddr, Dst: r.DstAddr, SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Protocol,
			Start: r.Start * 1000, End: max(r.End, r.Start) * 1000, Bytes: r.Bytes, Packets: r.Packets,
			In: r.InputIf(), Out: r.OutputIf(),
		}
		switch r.Action {
		case flow.ActionAccept:
			fr.Fwd = 0x40
		case flow.ActionReject:
			fr.Fwd = 0x81
		}
		if r.Direction == flow.DirectionEgress {
			fr.Dir = 1
		}
		out = append(out, fr)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// flowAgg is what a key stands for: how many flows and their counters.
type flowAgg struct {
	n              int
	bytes, packets uint64
	sample         flowRec
}

// compareFlows checks that a collector decoded exactly the wanted flows:
// the same multiset of keys (addresses, ports, protocol, start and end to
// the millisecond, and the fields of v) with the same byte and packet sums
// per key and in total. With mergeOK, a collector row may stand for
// several identical flows (pmacct aggregates identical flows of one
// datagram); otherwise the flow counts per key must match too.
func compareFlows(t *testing.T, who string, want, got []flowRec, v view, mergeOK bool) {
	t.Helper()
	index := func(fs []flowRec) (map[uint64]*flowAgg, uint64, uint64) {
		m := make(map[uint64]*flowAgg, len(fs))
		var b, p uint64
		for _, f := range fs {
			k := f.key(v)
			a := m[k]
			if a == nil {
				a = &flowAgg{sample: f}
				m[k] = a
			}
			a.n++
			a.bytes += f.Bytes
			a.packets += f.Packets
			b += f.Bytes
			p += f.Packets
		}
		return m, b, p
	}
	wm, wb, wp := index(want)
	gm, gb, gp := index(got)
	if len(got) != len(want) && !mergeOK {
		t.Errorf("%s: %d flows, want %d", who, len(got), len(want))
	}
	if gb != wb || gp != wp {
		t.Errorf("%s: bytes %d packets %d, want %d and %d", who, gb, gp, wb, wp)
	}
	var extra, missing, counters []string
	merged := 0
	for k, g := range gm {
		w := wm[k]
		switch {
		case w == nil:
			extra = append(extra, g.sample.String())
		case g.bytes != w.bytes || g.packets != w.packets:
			counters = append(counters, fmt.Sprintf("%v: bytes %d packets %d, want %d and %d", g.sample, g.bytes, g.packets, w.bytes, w.packets))
		case g.n != w.n && !(mergeOK && g.n < w.n):
			counters = append(counters, fmt.Sprintf("%v: %d flows, want %d", g.sample, g.n, w.n))
		case g.n < w.n:
			merged += w.n - g.n
		}
	}
	for k, w := range wm {
		if gm[k] == nil {
			missing = append(missing, w.sample.String())
		}
	}
	report := func(what string, l []string) {
		if len(l) == 0 {
			return
		}
		slices.Sort(l)
		t.Errorf("%s: %d %s, e.g.:\n  %s", who, len(l), what, strings.Join(l[:min(len(l), 5)], "\n  "))
	}
	epoch := 0
	for _, f := range got {
		if f.Start == 0 || f.End == 0 {
			epoch++
		}
	}
	if epoch > 0 {
		t.Errorf("%s: %d flows start or end at 1970-01-01: a v9 FIRST_SWITCHED (or LAST_SWITCHED) of 0, i.e. a flow "+
			"that starts at its datagram's virtual boot, is shown as time 0 by tshark 4.0 (FIRST = 0) and nfdump 1.7.1 "+
			"(FIRST = LAST = 0); the virtual boot must lie before every flow start", who, epoch)
	}
	report("flows that are not in the input", extra)
	report("input flows missing", missing)
	report("flows with wrong counters", counters)
	if merged > 0 {
		t.Logf("%s: %d identical flows of a datagram merged into one row (counters summed)", who, merged)
	}
}

// cliRun is the result of the CLI run in the background.
type cliRun struct {
	stdout, stderr string
	code           int
	err            error
}

// startCLI runs the CLI without blocking the test (which watches the
// collectors meanwhile).
func startCLI(t *testing.T, args ...string) <-chan cliRun {
	t.Helper()
	ch := make(chan cliRun, 1)
	cmd := exec.CommandContext(t.Context(), cliBinary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		r := cliRun{stdout: out.String(), stderr: errb.String(), err: err}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code, r.err = ee.ExitCode(), nil
		}
		ch <- r
	}()
	return ch
}

// runSummary is the --summary json output.
type runSummary struct {
	Lines     int64            `json:"lines"`
	Records   int64            `json:"records"`
	Skipped   map[string]int64 `json:"skipped"`
	Receivers []pipeline.ReceiverSummary
}

func parseSummary(t *testing.T, r cliRun) runSummary {
	t.Helper()
	if r.err != nil || r.code != 0 {
		t.Fatalf("run: exit %d %v\nstdout: %s\nstderr: %s", r.code, r.err, r.stdout, r.stderr)
	}
	var s runSummary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, r.stdout)
	}
	return s
}

// receiver finds a receiver's summary by its URL prefix (scheme://addr).
func (s runSummary) receiver(t *testing.T, prefix string) pipeline.ReceiverSummary {
	t.Helper()
	for _, r := range s.Receivers {
		if strings.HasPrefix(r.URL, prefix+"?") || r.URL == prefix {
			return r
		}
	}
	t.Fatalf("no receiver %s in the summary", prefix)
	return pipeline.ReceiverSummary{}
}

func nfFlow(r collectortest.NfRecord) flowRec {
	return flowRec{Src: r.SrcAddr, Dst: r.DstAddr, SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Protocol,
		Start: r.Start.UnixMilli(), End: r.End.UnixMilli(), Bytes: r.Bytes, Packets: r.Packets,
		In: r.In, Out: r.Out, Fwd: r.FwdStatus, Dir: r.Direction}
}

func pmFlow(r collectortest.PmRecord) flowRec {
	return flowRec{Src: r.SrcAddr, Dst: r.DstAddr, SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Protocol,
		Start: r.Start.UnixMilli(), End: r.End.UnixMilli(), Bytes: r.Bytes, Packets: r.Packets, In: r.In, Out: r.Out}
}

func gfFlow(r collectortest.GfRecord) flowRec {
	return flowRec{Src: r.SrcAddr, Dst: r.DstAddr, SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Protocol,
		Start: r.Start.UnixMilli(), End: r.End.UnixMilli(), Bytes: r.Bytes, Packets: r.Packets,
		In: r.In, Out: r.Out, Fwd: r.FwdStatus}
}

func tsFlow(r collectortest.CflowRecord) flowRec {
	return flowRec{Src: r.SrcAddr, Dst: r.DstAddr, SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Protocol,
		Start: r.Start.UnixMilli(), End: r.End.UnixMilli(), Bytes: r.Octets, Packets: r.Packets,
		Fwd: r.FwdStatus << 6, Dir: r.Direction}
}

// cflowTemplates are the data template ids of flowlogs2netflow's v9 and
// IPFIX encoders for IPv4 and IPv6 flows (258 is the interface-name
// options template).
var cflowTemplates = collectortest.DecodeOptions{IPv4Template: 256, IPv6Template: 257}

// TestCollectorsV9IPFIX sends one generated flow log (≥ 5 % IPv6 and
// REJECT records, counters above 2^32, flows spread over two days) to v9
// and IPFIX receivers at once — nfcapd (one per protocol), one nfacctd
// with sequence checks on, and one goflow2 whose port tshark captures —
// and checks that every collector decoded every record exactly (addresses,
// ports, protocol, start and end to the millisecond, bytes and packets,
// and where the collector shows them interfaces, forwarding status and
// direction), with no sequence error, and that templates are refreshed: a
// second capture that starts mid-stream decodes every data record after
// its first template.
func TestCollectorsV9IPFIX(t *testing.T) {
	lines := int64(50_000)
	if testing.Short() {
		lines = 10_000
	}
	in := generateInput(t, lines, 11)

	nf9 := collectortest.StartNfcapd(t)
	nf10 := collectortest.StartNfcapd(t)
	pm := collectortest.StartNfacctd(t)
	gf := collectortest.StartGoflow2(t)
	full := collectortest.StartTshark(t, gf.Port)

	// nfcapd and nfacctd have 8 MiB socket buffers: 20000 datagrams/s is
	// safe. goflow2's port is paced so that its streams last some 5 s: long
	// enough for the second capture to start mid-stream (goflow2's own
	// buffer is enlarged by the harness when it runs as root).
	slow := max(50, int(in.records())/20/5)
	gf9 := fmt.Sprintf("netflow9://%s?source-id=9&pps=%d&template-packets=10&template-interval=1s", gf.Addr(), slow)
	gf10 := fmt.Sprintf("ipfix://%s?domain=10&pps=%d&template-packets=10&template-interval=1s", gf.Addr(), slow)
	dir := t.TempDir()
	start := time.Now()
	done := startCLI(t, "run", "--state", filepath.Join(dir, "seq.db"), "--summary", "json",
		"--to", "netflow9://"+nf9.Addr()+"?source-id=9&pps=20000",
		"--to", "ipfix://"+nf10.Addr()+"?domain=10&pps=20000",
		"--to", "netflow9://"+pm.Addr()+"?source-id=9&pps=10000",
		"--to", "ipfix://"+pm.Addr()+"?domain=10&pps=10000",
		"--to", gf9, "--to", gf10,
		in.path)
	// The second capture starts once the first datagrams went out.
	var (
		res      cliRun
		finished bool
		second   *collectortest.Tshark
		secondAt time.Duration
	)
	for !finished && full.Packets() < 20 {
		select {
		case res = <-done:
			finished = true
		case <-time.After(10 * time.Millisecond):
		}
	}
	if !finished {
		second = collectortest.StartTshark(t, gf.Port)
		secondAt = time.Since(start)
		res = <-done
	}
	sum := parseSummary(t, res)
	t.Logf("run: %.1f s; second capture started %.1f s into it", time.Since(start).Seconds(), secondAt.Seconds())

	if sum.Lines != lines+1 || sum.Records != int64(in.records()) {
		t.Errorf("summary: lines %d records %d, want %d and %d", sum.Lines, sum.Records, lines+1, in.records())
	}
	for _, r := range sum.Receivers {
		if r.Flows != in.records() || r.Unsupported != 0 || r.Bytes != total.Of(in.truth.IPv4.Bytes+in.truth.IPv6.Bytes) ||
			r.Packets != total.Of(in.truth.IPv4.Packets+in.truth.IPv6.Packets) || r.Refused != 0 {
			t.Errorf("receiver %s: flows %d unsupported %d bytes %d packets %d refused %d; want all %d records, none unsupported",
				r.URL, r.Flows, r.Unsupported, r.Bytes, r.Packets, r.Refused, in.records())
		}
	}
	gfs9 := sum.receiver(t, "netflow9://"+gf.Addr())
	gfs10 := sum.receiver(t, "ipfix://"+gf.Addr())

	// Let the captures catch up before stopping them (tshark stops without
	// reading what is still in the kernel's capture buffer).
	sentGF := int64(gfs9.Datagrams + gfs10.Datagrams)
	full.Settle(sentGF, 5*time.Second)
	captured := full.Stop(t)
	var captured2 int64
	if second != nil {
		second.Settle(math.MaxInt64, 2*time.Second)
		captured2 = second.Stop(t)
	}
	if captured != sentGF {
		t.Errorf("tshark captured %d datagrams, %d were sent to goflow2's port", captured, sentGF)
	}

	t.Run("nfdump", func(t *testing.T) {
		for _, c := range []struct {
			name    string
			nf      *collectortest.Nfcapd
			version int
			id      uint32
			v       view
		}{
			// nfdump 1.7.1 maps forwardingStatus only for v9.
			{"v9", nf9, 9, 9, withIfaces | withFwd | withDir},
			{"IPFIX", nf10, 10, 10, withIfaces | withDir},
		} {
			c.nf.Stop(t)
			var got []flowRec
			collectortest.Records(t, c.nf.Dir, func(r collectortest.NfRecord) { got = append(got, nfFlow(r)) })
			compareFlows(t, "nfdump "+c.name, in.flows, got, c.v, false)
			if s := collectortest.Stats(t, c.nf.Dir); s["Sequence failures"] != "0" {
				t.Errorf("nfdump %s -I: Sequence failures %q, want 0", c.name, s["Sequence failures"])
			}
			ex := collectortest.Exporters(t, c.nf.Dir)
			if len(ex) != 1 || ex[0].Version != c.version || ex[0].ID != c.id || ex[0].SeqFailures != 0 || ex[0].Flows != in.records() {
				t.Errorf("nfdump %s -E: exporters %+v, want one, version %d, ID %d, 0 sequence failures, %d flows", c.name, ex, c.version, c.id, in.records())
			}
		}
	})

	t.Run("nfacctd", func(t *testing.T) {
		log := pm.Stop(t)
		if errs := pm.SequenceErrors(t); len(errs) > 0 {
			t.Errorf("nfacctd logged %d sequence errors, e.g. %s", len(errs), errs[0])
		}
		if p := pm.Problems(t); len(p) > 0 {
			t.Errorf("nfacctd log: %s", strings.Join(p, "\n"))
		}
		byVersion := map[int][]flowRec{}
		pm.Records(t, func(r collectortest.PmRecord) {
			byVersion[r.Version] = append(byVersion[r.Version], pmFlow(r))
		})
		for v, name := range map[int]string{9: "v9", 10: "IPFIX"} {
			compareFlows(t, "nfacctd "+name, in.flows, byVersion[v], withIfaces, true)
		}
		if t.Failed() {
			t.Logf("nfacctd log:\n%s", log)
		}
	})

	t.Run("tshark", func(t *testing.T) {
		byVersion := map[int][]flowRec{}
		problems := map[int][]string{}
		dropped := map[int]int64{}
		collectortest.DecodeCflow(t, full.File, gf.Port, cflowTemplates, func(f collectortest.CflowFrame) {
			if f.Problem != "" || f.NoTemplate > 0 {
				problems[f.Version] = append(problems[f.Version], fmt.Sprintf("frame %d (seq %d): %s %v", f.Number, f.Sequence, f.Problem, f.Expert))
			}
			for _, r := range f.Records {
				byVersion[f.Version] = append(byVersion[f.Version], tsFlow(r))
				if r.FwdStatus == 2 {
					dropped[f.Version]++
				}
			}
		})
		for v, name := range map[int]string{9: "v9", 10: "IPFIX"} {
			if p := problems[v]; len(p) > 0 {
				t.Errorf("tshark %s: %d frames not fully decoded, e.g.:\n  %s", name, len(p), strings.Join(p[:min(5, len(p))], "\n  "))
			}
			// Accept/reject and direction: tshark shows both.
			compareFlows(t, "tshark "+name, in.flows, byVersion[v], withFwdStatus|withDir, false)
			if dropped[v] != in.truth.Rejects {
				t.Errorf("tshark %s: %d flows with forwarding status Drop, the input has %d REJECT", name, dropped[v], in.truth.Rejects)
			}
		}
		for _, e := range collectortest.Expert(t, full.File, gf.Port) {
			if e.Severity == "Errors" || e.Severity == "Warns" || strings.Contains(e.Summary, "sequence") {
				t.Errorf("tshark expert info: %s %d× %s/%s: %s", e.Severity, e.Frequency, e.Group, e.Protocol, e.Summary)
			}
		}
	})

	t.Run("template refresh", func(t *testing.T) {
		// A capture that starts mid-stream has no template at first; every
		// data record after the first template it holds must decode.
		if second == nil || captured2 == 0 {
			t.Fatalf("the second capture (started %.1f s into the run) saw nothing: the send ended first", secondAt.Seconds())
		}
		type stream struct {
			version                     int
			first                       uint32 // first sequence number seen
			frames, beforeTemplate      int
			templateFrame, decodedAfter int
			undecoded                   []string
		}
		streams := map[uint16]*stream{}
		set := map[uint64]int{}
		for _, f := range in.flows {
			set[f.key(withFwdStatus|withDir)]++
		}
		var foreign []string
		collectortest.DecodeCflow(t, second.File, gf.Port, cflowTemplates, func(f collectortest.CflowFrame) {
			s := streams[f.SrcPort]
			if s == nil {
				s = &stream{version: f.Version, first: f.Sequence}
				streams[f.SrcPort] = s
			}
			s.frames++
			if s.templateFrame == 0 && slices.Contains(f.Templates, cflowTemplates.IPv4Template) && slices.Contains(f.Templates, cflowTemplates.IPv6Template) {
				s.templateFrame = f.Number
			}
			if s.templateFrame == 0 {
				s.beforeTemplate++
				return
			}
			if f.Problem != "" || f.NoTemplate > 0 {
				s.undecoded = append(s.undecoded, fmt.Sprintf("frame %d seq %d: %s %v", f.Number, f.Sequence, f.Problem, f.Expert))
			}
			for _, r := range f.Records {
				s.decodedAfter++
				if set[tsFlow(r).key(withFwdStatus|withDir)] == 0 {
					foreign = append(foreign, tsFlow(r).String())
				}
			}
		})
		for _, want := range []struct {
			version int
			sent    pipeline.ReceiverSummary
		}{{9, gfs9}, {10, gfs10}} {
			var s *stream
			for _, st := range streams {
				if st.version == want.version {
					s = st
				}
			}
			switch {
			case s == nil:
				t.Errorf("v%d: the second capture holds no datagram of the stream", want.version)
			case want.sent.FirstSequence != nil && s.first == *want.sent.FirstSequence:
				t.Errorf("v%d: the second capture starts at the stream's first datagram (sequence %d), not mid-stream", want.version, s.first)
			case s.templateFrame == 0:
				t.Errorf("v%d: no template in %d frames of the second capture: templates are not refreshed", want.version, s.frames)
			case s.decodedAfter == 0:
				t.Errorf("v%d: no data record after the first template (frame %d) of the second capture", want.version, s.templateFrame)
			default:
				t.Logf("v%d: second capture from sequence %d: %d frames before the first template (frame %d), %d records decoded after it",
					want.version, s.first, s.beforeTemplate, s.templateFrame, s.decodedAfter)
			}
			if s != nil && len(s.undecoded) > 0 {
				t.Errorf("v%d: %d frames after the first template are not decoded, e.g. %s", want.version, len(s.undecoded), s.undecoded[0])
			}
		}
		if len(foreign) > 0 {
			t.Errorf("second capture: %d decoded records are not in the input, e.g. %s", len(foreign), foreign[0])
		}
	})

	t.Run("goflow2", func(t *testing.T) {
		// goflow2 formats JSON slowly on a busy machine: wait for it.
		gf.WaitDecoded(t, int(gfs9.Datagrams+gfs10.Datagrams), 3*time.Minute)
		m := gf.Metrics(t)
		if n := collectortest.MetricSum(m, "goflow2_flow_process_nf_errors_total"); n != 0 {
			t.Errorf("goflow2: %v NetFlow errors (template not found, ...)", n)
		}
		if n := collectortest.MetricSum(m, "goflow2_flow_decoder_error_total"); n != 0 {
			t.Errorf("goflow2: %v decoder errors", n)
		}
		gf.Stop(t)
		byType := map[string][]flowRec{}
		seqs := map[string][]uint32{}
		gf.Records(t, func(r collectortest.GfRecord) {
			byType[r.Type] = append(byType[r.Type], gfFlow(r))
			seqs[r.Type] = append(seqs[r.Type], r.Sequence)
		})
		for typ, sent := range map[string]pipeline.ReceiverSummary{"NETFLOW_V9": gfs9, "IPFIX": gfs10} {
			compareFlows(t, "goflow2 "+typ, in.flows, byType[typ], withIfaces|withFwd, false)
			// goflow2 does not check sequence numbers; check them here.
			checkSequences(t, "goflow2 "+typ, seqs[typ], typ == "IPFIX", sent)
		}
		t.Logf("goflow2: %d + %d flows; socket receive buffer %d bytes (0: system default)", len(byType["NETFLOW_V9"]), len(byType["IPFIX"]), gf.RcvBuf)
	})
}

// checkSequences checks the sequence numbers of a stream's flows, in
// arrival order: v9 numbers count datagrams (+1 each), IPFIX numbers count
// data records (the next datagram's number is this one's plus its
// records), from the receiver's first to last sequence with no gap.
func checkSequences(t *testing.T, who string, seqs []uint32, perRecord bool, sent pipeline.ReceiverSummary) {
	t.Helper()
	if len(seqs) == 0 || sent.FirstSequence == nil {
		t.Errorf("%s: no sequence numbers", who)
		return
	}
	// Runs of equal numbers are the flows of one datagram.
	type dgram struct {
		seq   uint32
		flows uint32
	}
	var ds []dgram
	for _, s := range seqs {
		if len(ds) > 0 && ds[len(ds)-1].seq == s {
			ds[len(ds)-1].flows++
			continue
		}
		ds = append(ds, dgram{s, 1})
	}
	if ds[0].seq != *sent.FirstSequence {
		t.Errorf("%s: first sequence %d, the exporter sent %d", who, ds[0].seq, *sent.FirstSequence)
	}
	gaps := 0
	for i := 1; i < len(ds); i++ {
		want := ds[i-1].seq + 1
		if perRecord {
			want = ds[i-1].seq + ds[i-1].flows
		}
		if ds[i].seq != want {
			if gaps++; gaps <= 3 {
				t.Errorf("%s: sequence %d after %d (%d flows), want %d", who, ds[i].seq, ds[i-1].seq, ds[i-1].flows, want)
			}
		}
	}
	last := ds[len(ds)-1]
	end := last.seq
	if perRecord {
		end = last.seq + last.flows - 1
	}
	if end != *sent.LastSequence || gaps > 0 {
		t.Errorf("%s: %d sequence gaps, last sequence %d, the exporter's last %d", who, gaps, end, *sent.LastSequence)
	}
	if !perRecord && uint64(len(ds)) != sent.Datagrams {
		t.Errorf("%s: %d datagrams with flows, %d sent", who, len(ds), sent.Datagrams)
	}
}

// TestSeveralReceivers runs the CLI with --to repeated, mixing NetFlow v5,
// v9 (two Source IDs) and IPFIX, every receiver sent to the same nfcapd and
// the same nfacctd (which tell exporters apart by address and engine /
// Source ID / domain, not by source port), twice with the same sequence
// store. Each receiver must have its own exporter identity and its own
// sequence counter, counted in its protocol's unit (v5 records, v9
// datagrams, IPFIX data records) and continued by the second run: the
// collectors see one exporter per receiver and no sequence error. v5
// counts IPv6 records as unsupported; v9 and IPFIX carry them.
func TestSeveralReceivers(t *testing.T) {
	lines := int64(20_000)
	if testing.Short() {
		lines = 5_000
	}
	in := generateInput(t, lines, 12)
	nf := collectortest.StartNfcapd(t)
	pm := collectortest.StartNfacctd(t)

	// What each protocol carries of the input.
	var all, v4 famTotals
	var v5Records uint64
	for _, f := range in.flows {
		all.add(f.Bytes, f.Packets)
		if f.Src.Is4() {
			v4.add(f.Bytes, f.Packets)
			v5Records += max(ceilDiv(f.Bytes, 1<<32-1), ceilDiv(f.Packets, 1<<32-1), 1)
		}
	}
	type rcv struct {
		scheme, query string
		version       int
		nfID          uint32 // nfdump -E ID: v5 engine type<<8 | engine id, else Source ID / domain
		want          famTotals
		wireRecords   uint64 // records nfdump counts as flows
	}
	rcvs := []rcv{
		{"netflow5", "engine-type=1&engine-id=5", 5, 1<<8 | 5, v4, v5Records},
		{"netflow9", "source-id=9", 9, 9, all, in.records()},
		{"netflow9", "source-id=109", 9, 109, all, in.records()},
		{"ipfix", "domain=10", 10, 10, all, in.records()},
	}
	var args []string
	var urls []string
	for _, addr := range []string{nf.Addr(), pm.Addr()} {
		for _, r := range rcvs {
			u := fmt.Sprintf("%s://%s?%s&pps=10000", r.scheme, addr, r.query)
			args = append(args, "--to", u)
			urls = append(urls, fmt.Sprintf("%s://%s?%s", r.scheme, addr, r.query))
		}
	}
	state := filepath.Join(t.TempDir(), "seq.db")
	runOnce := func() runSummary {
		t.Helper()
		return parseSummary(t, <-startCLI(t, append(append([]string{"run", "--state", state, "--summary", "json"}, args...), in.path)...))
	}
	runs := []runSummary{runOnce(), runOnce()}

	// The CLI's accounting, per receiver and run.
	exporters := map[string]bool{}
	sent := make([]struct{ datagrams, units uint64 }, len(urls)) // by receiver, both runs
	for i, s := range runs {
		for j, r := range s.Receivers {
			spec := rcvs[j%len(rcvs)]
			who := fmt.Sprintf("run %d %s", i+1, r.URL)
			if i == 0 {
				if exporters[r.Exporter] {
					t.Errorf("%s: exporter identity %s is not unique", who, r.Exporter)
				}
				exporters[r.Exporter] = true
			}
			wantFlows, wantUnsupported := in.records(), uint64(0)
			if spec.version == 5 {
				wantFlows, wantUnsupported = uint64(v4.records), uint64(in.truth.IPv6.Records)
			}
			if r.Flows != wantFlows || r.Unsupported != wantUnsupported || r.Bytes != total.Of(spec.want.bytes) || r.Packets != total.Of(spec.want.packets) {
				t.Errorf("%s: flows %d unsupported %d bytes %d packets %d; want %d, %d, %d, %d",
					who, r.Flows, r.Unsupported, r.Bytes, r.Packets, wantFlows, wantUnsupported, spec.want.bytes, spec.want.packets)
			}
			// The sequence unit: v5 records, v9 datagrams, IPFIX data records.
			units := map[int]uint64{5: v5Records, 9: r.Datagrams, 10: in.records()}[spec.version]
			if r.Units != units {
				t.Errorf("%s: %d sequence units, want %d", who, r.Units, units)
			}
			// A fresh store starts every counter at 0; the second run goes on
			// where the first ended, each receiver on its own.
			first := uint64(0)
			if i > 0 {
				first = sent[j].units
			}
			if r.FirstSequence == nil || uint64(*r.FirstSequence) != first || uint64(*r.LastSequence) != first+units-1 {
				t.Errorf("%s: sequence %v..%v, want %d..%d", who, r.FirstSequence, r.LastSequence, first, first+units-1)
			}
			sent[j].datagrams += r.Datagrams
			sent[j].units += r.Units
		}
	}

	t.Run("nfdump", func(t *testing.T) {
		nf.Stop(t)
		ex := collectortest.Exporters(t, nf.Dir)
		if len(ex) != len(rcvs) {
			t.Errorf("nfdump -E lists %d exporters, want one per receiver (%d): %+v", len(ex), len(rcvs), ex)
		}
		for j, r := range rcvs {
			var e *collectortest.NfExporter
			for k := range ex {
				if ex[k].Version == r.version && ex[k].ID == r.nfID {
					e = &ex[k]
				}
			}
			s := sent[j]
			switch {
			case e == nil:
				t.Errorf("nfdump -E: no exporter version %d ID %d (%s)", r.version, r.nfID, urls[j])
			case e.SeqFailures != 0 || e.Packets != s.datagrams || e.Flows != 2*r.wireRecords:
				t.Errorf("nfdump -E: %+v; want 0 sequence failures, %d packets, %d flows (%s)", *e, s.datagrams, 2*r.wireRecords, urls[j])
			}
		}
		if st := collectortest.Stats(t, nf.Dir); st["Sequence failures"] != "0" {
			t.Errorf("nfdump -I: Sequence failures %q, want 0", st["Sequence failures"])
		}
		// The flows of each exporter: nfdump tags them with engine type/id:
		// the v5 engine, the low 16 bits of the v9 Source ID, 0/0 for IPFIX.
		got := map[[2]uint8]*famTotals{}
		collectortest.Records(t, nf.Dir, func(r collectortest.NfRecord) {
			k := [2]uint8{r.EngineType, r.EngineID}
			if got[k] == nil {
				got[k] = &famTotals{}
			}
			got[k].add(r.Bytes, r.Packets)
		})
		for j, r := range rcvs {
			k := [2]uint8{uint8(r.nfID >> 8), uint8(r.nfID)}
			if r.version == 10 {
				k = [2]uint8{}
			}
			g := got[k]
			want := famTotals{records: 2 * int64(r.wireRecords), bytes: 2 * r.want.bytes, packets: 2 * r.want.packets}
			if g == nil || *g != want {
				t.Errorf("nfdump flows of %s (engine %d/%d): %+v, want %+v", urls[j], k[0], k[1], g, want)
			}
		}
	})

	t.Run("nfacctd", func(t *testing.T) {
		log := pm.Stop(t)
		if errs := pm.SequenceErrors(t); len(errs) > 0 {
			t.Errorf("nfacctd logged %d sequence errors, e.g. %s", len(errs), errs[0])
		}
		if p := pm.Problems(t); len(p) > 0 {
			t.Errorf("nfacctd log: %s", strings.Join(p, "\n"))
		}
		type key struct {
			version int
			sysid   uint32
		}
		got := map[key]*famTotals{}
		pm.Records(t, func(r collectortest.PmRecord) {
			k := key{r.Version, r.SysID}
			if got[k] == nil {
				got[k] = &famTotals{}
			}
			got[k].add(r.Bytes, r.Packets)
		})
		if len(got) != len(rcvs) {
			t.Errorf("nfacctd saw %d exporters (version, sysid), want one per receiver (%d): %v", len(got), len(rcvs), slices.Collect(maps.Keys(got)))
		}
		for j, r := range rcvs {
			// pmacct's export_proto_sysid is the v5 engine id, the v9 Source
			// ID or the IPFIX domain.
			k := key{r.version, r.nfID & 0xFF}
			if r.version != 5 {
				k.sysid = r.nfID
			}
			g := got[k]
			j := len(rcvs) + j // the nfacctd receivers follow the nfcapd ones
			if g == nil || g.bytes != 2*r.want.bytes || g.packets != 2*r.want.packets || uint64(g.records) > 2*r.wireRecords {
				t.Errorf("nfacctd rows of %s: %+v, want bytes %d packets %d in at most %d rows", urls[j], g, 2*r.want.bytes, 2*r.want.packets, 2*r.wireRecords)
			}
		}
		if t.Failed() {
			t.Logf("nfacctd log:\n%s", log)
		}
	})
}
