package collectortest

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Tshark is a running packet capture of one loopback UDP port (tshark -i
// lo -w FILE). Capture needs root or CAP_NET_RAW; CI runs as root.
//
// Pitfalls: capture a port a collector listens on — without a listener the
// kernel answers with ICMP port unreachable and the exporter's connected
// socket drops datagrams (ECONNREFUSED); tshark 4.0 prints an empty
// "-z expert" table unless a display filter (-Y) makes it build the tree.
type Tshark struct {
	Port    int
	File    string // the pcapng capture
	p       *proc
	packets atomic.Int64
}

// StartTshark starts capturing UDP datagrams to 127.0.0.1:port into a
// fresh pcapng file and waits until tshark reports "Capturing on". It
// counts captured packets as they come (tshark -P prints a summary line
// per packet), see Packets. It is stopped at test cleanup if Stop was not
// called.
func StartTshark(t testing.TB, port int) *Tshark {
	t.Helper()
	bin := Need(t, "tshark")
	dir := t.TempDir()
	c := &Tshark{Port: port, File: filepath.Join(dir, "capture.pcapng")}
	cmd := exec.Command(bin, "-i", "lo", "-f", fmt.Sprintf("udp and dst port %d", port), "-w", c.File, "-P", "-l", "-n")
	// tshark keeps its temporary files in TMPDIR.
	cmd.Env = append(os.Environ(), "TMPDIR="+dir, "TZ=UTC")
	cmd.Stdout = lineCounter{&c.packets}
	c.p = startProc(t, "tshark", cmd)
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(c.p.out.String(), "Capturing on") {
		out := c.p.out.String()
		if !c.p.running() {
			if strings.Contains(out, "ermission") || strings.Contains(out, "not permitted") {
				unavailable(t, "tshark cannot capture on lo (run as root or give dumpcap CAP_NET_RAW): %s", out)
			}
			t.Fatalf("tshark exited before capturing: %v\n%s", c.p.err, out)
		}
		if time.Now().After(deadline) {
			t.Fatalf("tshark did not start capturing in 60 s:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return c
}

// Packets is the number of packets captured so far (tshark reports them
// with some delay).
func (c *Tshark) Packets() int64 { return c.packets.Load() }

// WaitPackets waits until at least n packets were captured.
func (c *Tshark) WaitPackets(t testing.TB, n int64, timeout time.Duration) {
	t.Helper()
	c.p.waitFor(t, fmt.Sprintf("%d captured packets (have %d)", n, c.Packets()), timeout, func() bool { return c.Packets() >= n })
}

// lineCounter counts the newlines written to it.
type lineCounter struct{ n *atomic.Int64 }

func (l lineCounter) Write(p []byte) (int, error) {
	l.n.Add(int64(bytes.Count(p, []byte{'\n'})))
	return len(p), nil
}

// Settle waits until at least want packets were captured, or none came
// for quiet: the capture has caught up with what was sent. It does not
// fail; compare Stop's count with what was sent.
func (c *Tshark) Settle(want int64, quiet time.Duration) {
	last, since := c.Packets(), time.Now()
	for c.p.running() {
		n := c.Packets()
		if n >= want {
			return
		}
		if n != last {
			last, since = n, time.Now()
		} else if time.Since(since) >= quiet {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var capturedRe = regexp.MustCompile(`(\d+) packets? captured`)
var droppedRe = regexp.MustCompile(`(\d+) packets? dropped`)

// Stop stops the capture (SIGINT, which flushes the file) and returns the
// number of packets tshark says it captured. It fails the test when
// tshark reports dropped packets. Packets still in the kernel's capture
// buffer when it stops are lost: let it catch up first (Settle).
func (c *Tshark) Stop(t testing.TB) int64 {
	t.Helper()
	if err := c.p.stop(syscall.SIGINT, 30*time.Second); err != nil {
		t.Fatalf("tshark: %v\n%s", err, c.p.out.String())
	}
	out := c.p.out.String()
	for _, m := range droppedRe.FindAllStringSubmatch(out, -1) {
		if m[1] != "0" {
			t.Fatalf("tshark dropped packets: %s", out)
		}
	}
	m := capturedRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("tshark did not report a packet count:\n%s", out)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// CflowFrame is one NetFlow v9 / IPFIX datagram as tshark's cflow dissector
// decoded it.
type CflowFrame struct {
	Number     int
	SrcPort    uint16 // the exporter's source port: one stream per socket
	Version    int    // 9 or 10
	Sequence   uint32
	Domain     uint32 // v9 Source ID or IPFIX Observation Domain ID
	FlowSets   []int  // FlowSet / Set ids in order
	Templates  []int  // template ids defined in this datagram
	Records    []CflowRecord
	Expert     []string // expert info messages of the frame ("... no template found", sequence warnings)
	NoTemplate int      // data sets tshark could not decode ("no template found")
	// Problem explains why Records could not be read (fields that do not
	// line up); empty when they were.
	Problem string
}

// CflowRecord is one data record of a datagram.
type CflowRecord struct {
	SrcAddr, DstAddr netip.Addr
	SrcPort, DstPort uint16
	Protocol         uint8
	Octets, Packets  uint64
	// Start and End are absolute: IPFIX flowStart/EndMilliseconds, or for
	// v9 unix_secs*1000 - sysUptime + FIRST/LAST_SWITCHED.
	Start, End time.Time
	Direction  uint8 // 0 ingress, 1 egress
	// FwdStatus is the forwarding status category (the top 2 bits of
	// forwardingStatus): 0 unknown, 1 forwarded, 2 dropped, 3 consumed.
	FwdStatus uint8
}

// cflowFields are the -T fields columns Decode asks for, in order.
var cflowFields = []string{
	"frame.number", "udp.srcport", "cflow.version", "cflow.sequence", "cflow.source_id", "cflow.od_id",
	"cflow.sysuptime", "cflow.unix_secs", "cflow.flowset_id", "cflow.template_id",
	"cflow.srcaddr", "cflow.dstaddr", "cflow.srcaddrv6", "cflow.dstaddrv6",
	"cflow.srcport", "cflow.dstport", "cflow.protocol", "cflow.octets", "cflow.packets",
	"cflow.timestart", "cflow.timeend", "cflow.abstimestart", "cflow.abstimeend", "cflow.timedelta",
	"cflow.direction", "cflow.forwarding_status", "_ws.expert.message",
}

// DecodeOptions say how records of one datagram line up. tshark's -T fields
// output lists each field's values of a frame in order, so records can be
// rebuilt only when every record has every field. IPv4 and IPv6 records
// differ in their address fields: IPv4Template and IPv6Template are the
// data template ids of each family, and a frame may hold at most one data
// set of each (as flowlogs2netflow's encoders write them).
type DecodeOptions struct {
	IPv4Template, IPv6Template int
}

// DecodeCflow decodes a capture of NetFlow v9 / IPFIX datagrams sent to
// port (tshark -r FILE -d udp.port==PORT,cflow -T fields) and calls fn for
// each frame in capture order.
func DecodeCflow(t testing.TB, file string, port int, opt DecodeOptions, fn func(CflowFrame)) {
	t.Helper()
	args := []string{"-r", file, "-n", "-d", fmt.Sprintf("udp.port==%d,cflow", port), "-T", "fields",
		"-E", "occurrence=a", "-E", "aggregator=|", "-E", "separator=/t"}
	for _, f := range cflowFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(Need(t, "tshark"), args...)
	cmd.Env = append(os.Environ(), "TZ=UTC", "TMPDIR="+filepath.Dir(file))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		f, err := parseCflowLine(sc.Text(), opt)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("tshark -T fields line %q: %v", sc.Text(), err)
		}
		fn(f)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tshark -r %s: %v\n%s", file, err, stderr.String())
	}
}

func parseCflowLine(line string, opt DecodeOptions) (CflowFrame, error) {
	var fr CflowFrame
	cols := strings.Split(line, "\t")
	if len(cols) != len(cflowFields) {
		return fr, fmt.Errorf("%d columns, want %d", len(cols), len(cflowFields))
	}
	col := map[string][]string{}
	for i, name := range cflowFields {
		if cols[i] != "" {
			col[name] = strings.Split(cols[i], "|")
		}
	}
	one := func(name string) string {
		if v := col[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	num := func(s string, bits int) uint64 {
		v, _ := strconv.ParseUint(s, 10, bits)
		return v
	}
	fr.Number = int(num(one("frame.number"), 32))
	fr.SrcPort = uint16(num(one("udp.srcport"), 16))
	fr.Version = int(num(one("cflow.version"), 8))
	fr.Sequence = uint32(num(one("cflow.sequence"), 32))
	fr.Domain = uint32(num(one("cflow.source_id"), 32))
	if fr.Version == 10 {
		fr.Domain = uint32(num(one("cflow.od_id"), 32))
	}
	for _, s := range col["cflow.flowset_id"] {
		fr.FlowSets = append(fr.FlowSets, int(num(s, 16)))
	}
	for _, s := range col["cflow.template_id"] {
		fr.Templates = append(fr.Templates, int(num(s, 16)))
	}
	fr.Expert = col["_ws.expert.message"]
	for _, m := range fr.Expert {
		if strings.Contains(m, "no template found") {
			fr.NoTemplate++
		}
	}
	fr.Records, fr.Problem = cflowRecords(fr, col, opt)
	return fr, nil
}

// cflowRecords rebuilds the data records of a frame from the per-field
// value lists.
func cflowRecords(fr CflowFrame, col map[string][]string, opt DecodeOptions) ([]CflowRecord, string) {
	n := len(col["cflow.octets"])
	if n == 0 {
		return nil, ""
	}
	for _, name := range []string{"cflow.srcport", "cflow.dstport", "cflow.protocol", "cflow.packets", "cflow.direction", "cflow.forwarding_status"} {
		if len(col[name]) != n {
			return nil, fmt.Sprintf("%d %s values for %d records", len(col[name]), name, n)
		}
	}
	v4s, v4d := col["cflow.srcaddr"], col["cflow.dstaddr"]
	v6s, v6d := col["cflow.srcaddrv6"], col["cflow.dstaddrv6"]
	if len(v4s) != len(v4d) || len(v6s) != len(v6d) || len(v4s)+len(v6s) != n {
		return nil, fmt.Sprintf("%d+%d IPv4 and %d+%d IPv6 addresses for %d records", len(v4s), len(v4d), len(v6s), len(v6d), n)
	}
	// The order of the two families' data sets gives the record order.
	v4at, v6at, sets4, sets6 := -1, -1, 0, 0
	for i, id := range fr.FlowSets {
		switch id {
		case opt.IPv4Template:
			v4at, sets4 = i, sets4+1
		case opt.IPv6Template:
			v6at, sets6 = i, sets6+1
		}
	}
	if sets4 > 1 || sets6 > 1 {
		return nil, fmt.Sprintf("several data sets of one address family (%v): records cannot be lined up", fr.FlowSets)
	}
	src := append(append([]string(nil), v4s...), v6s...)
	dst := append(append([]string(nil), v4d...), v6d...)
	if v6at >= 0 && v4at > v6at {
		src = append(append([]string(nil), v6s...), v4s...)
		dst = append(append([]string(nil), v6d...), v4d...)
	}
	var starts, ends []time.Time
	if fr.Version == 9 {
		var problem string
		if starts, ends, problem = v9Times(col, n); problem != "" {
			return nil, problem
		}
	} else {
		var err error
		if starts, err = absTimes(col["cflow.abstimestart"]); err != nil {
			return nil, err.Error()
		}
		if ends, err = absTimes(col["cflow.abstimeend"]); err != nil {
			return nil, err.Error()
		}
		if len(starts) != n || len(ends) != n {
			return nil, fmt.Sprintf("%d start and %d end times for %d records", len(starts), len(ends), n)
		}
	}
	recs := make([]CflowRecord, n)
	for i := range recs {
		r := &recs[i]
		var err error
		if r.SrcAddr, err = netip.ParseAddr(src[i]); err != nil {
			return nil, err.Error()
		}
		if r.DstAddr, err = netip.ParseAddr(dst[i]); err != nil {
			return nil, err.Error()
		}
		u := func(name string, bits int) uint64 {
			v, perr := strconv.ParseUint(col[name][i], 10, bits)
			if perr != nil && err == nil {
				err = fmt.Errorf("%s %q: %w", name, col[name][i], perr)
			}
			return v
		}
		r.SrcPort = uint16(u("cflow.srcport", 16))
		r.DstPort = uint16(u("cflow.dstport", 16))
		r.Protocol = uint8(u("cflow.protocol", 8))
		r.Octets = u("cflow.octets", 64)
		r.Packets = u("cflow.packets", 64)
		r.Direction = uint8(u("cflow.direction", 8))
		r.FwdStatus = uint8(u("cflow.forwarding_status", 8))
		if err != nil {
			return nil, err.Error()
		}
		r.Start, r.End = starts[i], ends[i]
	}
	return recs, ""
}

// v9Times returns the absolute start and end of the n records of a v9
// frame: unix_secs*1000 - sysUptime + FIRST/LAST_SWITCHED. tshark 4.0 shows
// a FIRST_SWITCHED or LAST_SWITCHED of 0 not as an offset but as the
// absolute time 1970-01-01 (cflow.abstimestart/abstimeend), so the
// relative and absolute value lists have to be merged in record order. The
// duration (present for every record) decides: a record has relative times
// when its relative start plus duration is its relative end; otherwise an
// absolute (1970) start, and an absolute end too when its duration is 0.
// tshark's absolute times are kept as shown. Only while tshark shows 1970
// times can this be ambiguous (a frame with a FIRST = LAST = 0 record and
// another record of duration 0): then the 1970 times may be given to the
// wrong one of them.
func v9Times(col map[string][]string, n int) (starts, ends []time.Time, problem string) {
	up, err := secondsToMillis(firstOf(col["cflow.sysuptime"]))
	if err != nil {
		return nil, nil, "sysuptime: " + err.Error()
	}
	secs, err := strconv.ParseInt(firstOf(col["cflow.unix_secs"]), 10, 64)
	if err != nil {
		return nil, nil, "unix_secs: " + err.Error()
	}
	boot := secs*1000 - up
	rel := func(name string) ([]int64, error) {
		var out []int64
		for _, v := range col[name] {
			ms, err := secondsToMillis(v)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", name, v, err)
			}
			out = append(out, ms)
		}
		return out, nil
	}
	rs, err1 := rel("cflow.timestart")
	re, err2 := rel("cflow.timeend")
	ds, err3 := rel("cflow.timedelta")
	as, err4 := absTimes(col["cflow.abstimestart"])
	ae, err5 := absTimes(col["cflow.abstimeend"])
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			return nil, nil, err.Error()
		}
	}
	if len(ds) != n || len(rs)+len(as) != n || len(re)+len(ae) != n {
		return nil, nil, fmt.Sprintf("v9: %d durations, %d+%d relative+absolute starts, %d+%d ends for %d records",
			len(ds), len(rs), len(as), len(re), len(ae), n)
	}
	// Try relative times first and backtrack: a record with FIRST = LAST =
	// 0 followed by one of duration 0 fits both ways at first.
	starts, ends = make([]time.Time, n), make([]time.Time, n)
	failed := map[[5]int]bool{} // states known not to lead to a match
	var match func(i, prs, pre, pas, pae int) bool
	match = func(i, prs, pre, pas, pae int) (ok bool) {
		if i == n {
			return prs == len(rs) && pre == len(re) && pas == len(as) && pae == len(ae)
		}
		state := [5]int{i, prs, pre, pas, pae}
		if failed[state] {
			return false
		}
		defer func() {
			if !ok {
				failed[state] = true
			}
		}()
		d := ds[i]
		if prs < len(rs) && pre < len(re) && rs[prs]+d == re[pre] {
			starts[i], ends[i] = time.UnixMilli(boot+rs[prs]).UTC(), time.UnixMilli(boot+re[pre]).UTC()
			if match(i+1, prs+1, pre+1, pas, pae) {
				return true
			}
		}
		if pas < len(as) {
			starts[i] = as[pas]
			if d > 0 && pre < len(re) && re[pre] == d {
				ends[i] = time.UnixMilli(boot + re[pre]).UTC()
				if match(i+1, prs, pre+1, pas+1, pae) {
					return true
				}
			}
			if d == 0 && pae < len(ae) {
				ends[i] = ae[pae]
				if match(i+1, prs, pre, pas+1, pae+1) {
					return true
				}
			}
		}
		return false
	}
	if !match(0, 0, 0, 0, 0) {
		return nil, nil, "v9: start and end times do not line up"
	}
	return starts, ends, ""
}

func absTimes(vals []string) ([]time.Time, error) {
	out := make([]time.Time, 0, len(vals))
	for _, v := range vals {
		ts, err := time.Parse(tsharkTime, v)
		if err != nil {
			return nil, err
		}
		out = append(out, ts.UTC())
	}
	return out, nil
}

// tsharkTime is how tshark 4.0 prints absolute time fields.
const tsharkTime = "Jan _2, 2006 15:04:05.999999999 MST"

func firstOf(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// secondsToMillis parses tshark's relative times ("545.000000000") exactly.
func secondsToMillis(s string) (int64, error) {
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, err
	}
	frac = (frac + "000")[:3]
	ms, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, err
	}
	return secs*1000 + ms, nil
}

// ExpertEntry is one row of tshark's expert information summary.
type ExpertEntry struct {
	Severity  string // Errors, Warns, Notes, Chats, Comments
	Frequency int
	Group     string
	Protocol  string
	Summary   string
}

var expertRowRe = regexp.MustCompile(`^\s*(\d+)\s+(\S+)\s+(\S+)\s+(.*)$`)
var expertHeadRe = regexp.MustCompile(`^(Errors|Warns|Notes|Chats|Comments) \(\d+\)`)

// Expert runs tshark -q -z expert over a capture (with -Y cflow: tshark 4.0
// prints nothing without a display filter) and returns its entries:
// sequence warnings ("Unexpected flow sequence for domain ID ...") and
// undecodable data ("... no template found") among them.
func Expert(t testing.TB, file string, port int) []ExpertEntry {
	t.Helper()
	cmd := exec.Command(Need(t, "tshark"), "-r", file, "-n", "-d", fmt.Sprintf("udp.port==%d,cflow", port),
		"-Y", "cflow", "-q", "-z", "expert")
	cmd.Env = append(os.Environ(), "TZ=UTC", "TMPDIR="+filepath.Dir(file))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -z expert: %v\n%s", err, stderr.String())
	}
	var out []ExpertEntry
	severity := ""
	for _, l := range strings.Split(string(b), "\n") {
		if m := expertHeadRe.FindStringSubmatch(l); m != nil {
			severity = m[1]
			continue
		}
		if severity == "" || strings.HasPrefix(strings.TrimSpace(l), "Frequency") || strings.HasPrefix(l, "=") {
			continue
		}
		if m := expertRowRe.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			out = append(out, ExpertEntry{Severity: severity, Frequency: n, Group: m[2], Protocol: m[3], Summary: strings.TrimSpace(m[4])})
		}
	}
	return out
}
