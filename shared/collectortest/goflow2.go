package collectortest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Goflow2 is a running goflow2 (github.com/netsampler/goflow2/v2) decoding
// NetFlow v5/v9/IPFIX on one loopback port into JSON lines. goflow2 keys
// templates on the exporter's source address and port, and does not check
// sequence numbers (it passes them through as sequence_num).
type Goflow2 struct {
	Port     int
	HTTPPort int    // metrics (/metrics) and templates
	File     string // JSON lines, one per flow
	// RcvBuf is the socket receive buffer the harness gave goflow2's socket
	// (goflow2 has no option for it), 0 if it could not be changed.
	RcvBuf int
	p      *proc
}

// Addr is the collector address, 127.0.0.1:port.
func (g *Goflow2) Addr() string { return fmt.Sprintf("127.0.0.1:%d", g.Port) }

// goflow2RcvBuf is the receive buffer StartGoflow2 asks for.
const goflow2RcvBuf = 16 << 20

// StartGoflow2 starts goflow2 on a free loopback port with one decoding
// worker (so datagrams are decoded in arrival order: with several, a data
// datagram can be decoded before the template that precedes it) and waits
// until it listens. The binary is looked up on PATH, then in the
// repository's .cache/bin (where make deps installs it).
//
// goflow2 leaves the socket receive buffer at the system default (often
// 208 KiB: about 90 datagrams), which a busy machine overruns; as root the
// harness enlarges it from outside (pidfd_getfd + SO_RCVBUFFORCE). Without
// that, pace the exporter.
func StartGoflow2(t testing.TB) *Goflow2 {
	t.Helper()
	return StartGoflow2With(t, Goflow2Options{Tuned: true})
}

// Goflow2Options choose how StartGoflow2With runs goflow2.
type Goflow2Options struct {
	// Tuned runs one decoding worker and, as root, enlarges the socket
	// receive buffer; false leaves goflow2 at its defaults (several
	// workers, the system's default buffer), as a user who changed
	// nothing runs it.
	Tuned bool
}

// StartGoflow2With starts goflow2 as o says and waits until it listens.
func StartGoflow2With(t testing.TB, o Goflow2Options) *Goflow2 {
	t.Helper()
	bin := NeedGoflow2(t)
	dir := t.TempDir()
	g := &Goflow2{Port: FreeUDPPort(t), HTTPPort: freeTCPPort(t), File: filepath.Join(dir, "flows.json")}
	listen := fmt.Sprintf("netflow://127.0.0.1:%d", g.Port)
	if o.Tuned {
		listen += "?workers=1&count=1"
	}
	g.p = startProc(t, "goflow2", exec.Command(bin,
		"-listen", listen,
		"-addr", fmt.Sprintf("127.0.0.1:%d", g.HTTPPort),
		"-format", "json", "-transport", "file", "-transport.file", g.File,
		"-loglevel", "warn"))
	g.p.waitFor(t, "bound socket and metrics", 30*time.Second, func() bool {
		if !udpBound(g.Port) {
			return false
		}
		_, err := g.metrics()
		return err == nil
	})
	if !o.Tuned {
		return g
	}
	if n, err := setRcvBuf(g.p.cmd.Process.Pid, g.Port, goflow2RcvBuf); err != nil {
		t.Logf("goflow2 keeps its default socket receive buffer (%v); pace the exporter", err)
	} else {
		g.RcvBuf = n
	}
	return g
}

// NeedGoflow2 returns the goflow2 binary: on PATH, or in .cache/bin of the
// repository holding the working directory. Like Need, it skips or fails
// the test when there is none.
func NeedGoflow2(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("goflow2"); err == nil {
		return p
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				p := filepath.Join(d, ".cache", "bin", "goflow2")
				if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
					return p
				}
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	unavailable(t, "goflow2 not found on PATH or in .cache/bin (make deps installs it)")
	return ""
}

func freeTCPPort(t testing.TB) int {
	t.Helper()
	// Bind and release; goflow2 binds it a moment later.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Metrics returns goflow2's Prometheus metrics: "name{labels}" -> value.
func (g *Goflow2) Metrics(t testing.TB) map[string]float64 {
	t.Helper()
	m, err := g.metrics()
	if err != nil {
		t.Fatalf("goflow2 metrics: %v", err)
	}
	return m
}

func (g *Goflow2) metrics() (map[string]float64, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", g.HTTPPort))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			continue
		}
		m[l[:i]] = v
	}
	return m, sc.Err()
}

// MetricSum adds the values of every series of a metric whose labels
// contain all of the given label="value" pairs.
func MetricSum(m map[string]float64, name string, labels ...string) float64 {
	var sum float64
	for k, v := range m {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(k, l) {
				ok = false
			}
		}
		if ok {
			sum += v
		}
	}
	return sum
}

// WaitDecoded waits until goflow2 has decoded datagrams datagrams and
// written their flows (its decoding-time summary counts a datagram once
// its flows are formatted and sent to the transport), failing after
// timeout. goflow2 is slow on a busy machine (JSON formatting), so the
// timeout should allow some 100 µs of CPU per flow.
func (g *Goflow2) WaitDecoded(t testing.TB, datagrams int, timeout time.Duration) {
	t.Helper()
	var done float64
	g.p.waitFor(t, fmt.Sprintf("%d decoded datagrams", datagrams), timeout, func() bool {
		m, err := g.metrics()
		if err != nil {
			return false
		}
		done = MetricSum(m, "goflow2_flow_decoding_time_seconds_count", `name="netflow"`)
		return done >= float64(datagrams)
	})
}

// Stop waits until the socket's receive queue is drained (failing on
// drops) and stops goflow2 with SIGTERM. Call WaitDecoded first: goflow2
// may still be decoding what it read.
func (g *Goflow2) Stop(t testing.TB) {
	t.Helper()
	WaitDrained(t, g.Port)
	if err := g.p.stop(syscall.SIGTERM, 60*time.Second); err != nil {
		t.Fatalf("goflow2: %v\n%s", err, g.p.out.String())
	}
}

// GfRecord is one flow as goflow2 decoded it.
type GfRecord struct {
	Type           string // NETFLOW_V5, NETFLOW_V9, IPFIX
	Sequence       uint32 // the datagram's sequence number
	Sampler        netip.Addr
	Domain         uint32 // observation_domain_id: v9 Source ID, IPFIX domain
	Start, End     time.Time
	Bytes, Packets uint64
	SrcAddr        netip.Addr
	DstAddr        netip.Addr
	SrcPort        uint16
	DstPort        uint16
	Protocol       uint8
	In, Out        uint32
	FwdStatus      uint8
	TCPFlags       uint8
}

type gfJSON struct {
	Type      string `json:"type"`
	Seq       uint32 `json:"sequence_num"`
	Sampler   string `json:"sampler_address"`
	Domain    uint32 `json:"observation_domain_id"`
	StartNs   uint64 `json:"time_flow_start_ns"`
	EndNs     uint64 `json:"time_flow_end_ns"`
	Bytes     uint64 `json:"bytes"`
	Packets   uint64 `json:"packets"`
	Src       string `json:"src_addr"`
	Dst       string `json:"dst_addr"`
	SrcPort   uint16 `json:"src_port"`
	DstPort   uint16 `json:"dst_port"`
	Proto     string `json:"proto"`
	In        uint32 `json:"in_if"`
	Out       uint32 `json:"out_if"`
	FwdStatus uint8  `json:"forwarding_status"`
	TCPFlags  uint8  `json:"tcp_flags"`
}

// goflow2 renders protocol numbers as names (producer/proto/render.go).
var gfProtocols = map[string]uint8{
	"HOPOPT": 0, "ICMP": 1, "IGMP": 2, "TCP": 6, "UDP": 17, "GRE": 47, "ESP": 50, "AH": 51,
	"IPv6-ICMP": 58, "SCTP": 132,
}

// Records reads goflow2's output (after WaitDecoded or Stop) and calls fn
// for each flow.
func (g *Goflow2) Records(t testing.TB, fn func(GfRecord)) {
	t.Helper()
	f, err := os.Open(g.File)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// With several workers goflow2's file transport sometimes writes two
	// objects on one line ("}{": the newline goes in a separate write), so
	// the output is read as a stream of JSON values, not as lines.
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	for n := 1; ; n++ {
		var j gfJSON
		if err := dec.Decode(&j); err == io.EOF {
			return
		} else if err != nil {
			t.Fatalf("goflow2 output, flow %d (offset %d): %v", n, dec.InputOffset(), err)
		}
		r, err := j.record()
		if err != nil {
			t.Fatalf("goflow2 output, flow %d %+v: %v", n, j, err)
		}
		fn(r)
	}
}

func (j gfJSON) record() (GfRecord, error) {
	r := GfRecord{Type: j.Type, Sequence: j.Seq, Domain: j.Domain, Bytes: j.Bytes, Packets: j.Packets,
		SrcPort: j.SrcPort, DstPort: j.DstPort, In: j.In, Out: j.Out, FwdStatus: j.FwdStatus, TCPFlags: j.TCPFlags}
	if j.StartNs > math.MaxInt64 || j.EndNs > math.MaxInt64 {
		return r, fmt.Errorf("times %d..%d out of range", j.StartNs, j.EndNs)
	}
	r.Start, r.End = time.Unix(0, int64(j.StartNs)).UTC(), time.Unix(0, int64(j.EndNs)).UTC()
	var err error
	if r.Sampler, err = netip.ParseAddr(j.Sampler); err != nil {
		return r, err
	}
	if r.SrcAddr, err = netip.ParseAddr(j.Src); err != nil {
		return r, err
	}
	if r.DstAddr, err = netip.ParseAddr(j.Dst); err != nil {
		return r, err
	}
	p, ok := gfProtocols[j.Proto]
	if !ok {
		n, err := strconv.ParseUint(j.Proto, 10, 8)
		if err != nil {
			return r, fmt.Errorf("protocol %q: add it to gfProtocols", j.Proto)
		}
		p = uint8(n)
	}
	r.Protocol = p
	return r, nil
}
