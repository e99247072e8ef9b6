package collectortest

import (
	"bufio"
	"encoding/json"
	"fmt"
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

// Nfacctd is a running pmacct nfacctd with the print plugin writing JSON
// lines, sequence checks on (nfacctd_disable_checks: false).
type Nfacctd struct {
	Port int
	Dir  string
	Conf string // the configuration file
	Log  string // nfacctd's logfile: sequence errors are logged here
	Out  string // the print plugin's JSON lines
	p    *proc
}

// Addr is the collector address, 127.0.0.1:port.
func (n *Nfacctd) Addr() string { return fmt.Sprintf("127.0.0.1:%d", n.Port) }

// nfacctdAggregate keeps distinct flows apart: every field an exporter sets
// per flow, plus the exporter (peer_src_ip, export_proto_version,
// export_proto_sysid) and the datagram (export_proto_seqno). Only flows
// identical in all of them, in the same datagram, are merged (their
// counters summed).
const nfacctdAggregate = "peer_src_ip, export_proto_version, export_proto_sysid, export_proto_seqno, " +
	"src_host, dst_host, src_port, dst_port, proto, tcpflags, in_iface, out_iface, timestamp_start, timestamp_end"

// StartNfacctd starts nfacctd on a free loopback port with a large socket
// receive buffer and plugin pipe, and waits until it listens. It is stopped
// at test cleanup if Stop was not called.
func StartNfacctd(t testing.TB) *Nfacctd {
	t.Helper()
	return StartNfacctdWith(t, NfacctdOptions{Tuned: true})
}

// NfacctdOptions choose how StartNfacctdWith runs nfacctd.
type NfacctdOptions struct {
	// Tuned gives nfacctd a 16 MiB socket receive buffer and a 64 MiB
	// plugin pipe; false leaves both at pmacct's defaults, as a user who
	// changed nothing runs it (the configuration then only says where to
	// listen, to check sequences and to print JSON).
	Tuned bool
}

// StartNfacctdWith starts nfacctd as o says on a free loopback port and
// waits until it listens.
func StartNfacctdWith(t testing.TB, o NfacctdOptions) *Nfacctd {
	t.Helper()
	bin := Need(t, "nfacctd")
	n := &Nfacctd{Port: FreeUDPPort(t), Dir: t.TempDir()}
	n.Conf = filepath.Join(n.Dir, "nfacctd.conf")
	n.Log = filepath.Join(n.Dir, "nfacctd.log")
	n.Out = filepath.Join(n.Dir, "flows.json")
	tuning := ""
	if o.Tuned {
		tuning = `! socket receive buffer (the kernel caps it at net.core.rmem_max)
nfacctd_pipe_size: 16777216
! core-to-plugin ring: when the plugin falls behind, a small ring loses
! flows without a word in the log (10 MB lost half of 100k flows sent at
! 2 x 20000 datagrams/s; 64 MB lost none)
plugin_pipe_size: 67108864
plugin_buffer_size: 65536
`
	}
	conf := fmt.Sprintf(`daemonize: false
logfile: %s
nfacctd_ip: 127.0.0.1
nfacctd_port: %d
! sequence checks: logged as "expecting flow 'X' but received 'Y'"
nfacctd_disable_checks: false
%splugins: print[p]
aggregate[p]: %s
print_output[p]: json
print_output_file[p]: %s
print_output_file_append[p]: true
print_refresh_time[p]: 1
print_num_protos[p]: true
timestamps_since_epoch[p]: true
`, n.Log, n.Port, tuning, nfacctdAggregate, n.Out)
	if err := os.WriteFile(n.Conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n.p = startProc(t, "nfacctd", exec.Command(bin, "-f", n.Conf))
	// Ready when the core listens and the print plugin has started.
	n.p.waitFor(t, "listening core and print plugin", 20*time.Second, func() bool {
		log, _ := os.ReadFile(n.Log)
		return strings.Contains(string(log), "waiting for NetFlow/IPFIX data") &&
			strings.Contains(string(log), "( p/print ): JSON: setting object handlers") && udpBound(n.Port)
	})
	return n
}

// Stop waits until the UDP receive queue is drained (failing on socket
// drops), stops nfacctd with SIGINT, which makes the print plugin purge its
// cache a last time (about 2 s), and returns the log.
func (n *Nfacctd) Stop(t testing.TB) string {
	t.Helper()
	WaitDrained(t, n.Port)
	// Everything read is in the plugin pipe or cache; SIGINT purges both.
	if err := n.p.stop(syscall.SIGINT, 30*time.Second); err != nil {
		t.Fatalf("nfacctd: %v\n%s", err, n.p.out.String())
	}
	log, err := os.ReadFile(n.Log)
	if err != nil {
		t.Fatal(err)
	}
	return string(log)
}

// SequenceErrors returns nfacctd's sequence-check log lines ("expecting
// flow 'X' but received 'Y' collector=... agent=IP:ID").
func (n *Nfacctd) SequenceErrors(t testing.TB) []string {
	t.Helper()
	return n.logLines(t, func(l string) bool { return strings.Contains(l, "expecting flow") })
}

// Problems returns the log lines that mean data may be missing or was
// misread: errors, warnings and the core-to-plugin pipe running full.
// "Finished cache entries" is informational (the plugin purged early; with
// append nothing is lost) and not included.
func (n *Nfacctd) Problems(t testing.TB) []string {
	t.Helper()
	return n.logLines(t, func(l string) bool {
		return strings.Contains(l, "ERROR") || strings.Contains(l, "WARN") || strings.Contains(l, "missing data")
	})
}

func (n *Nfacctd) logLines(t testing.TB, keep func(string) bool) []string {
	t.Helper()
	b, err := os.ReadFile(n.Log)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if keep(l) {
			out = append(out, l)
		}
	}
	return out
}

// PmRecord is one row of nfacctd's print plugin: one flow, or several
// identical flows of one datagram with their counters summed.
type PmRecord struct {
	Agent            netip.Addr
	Version          int    // export_proto_version: 5, 9 or 10
	SysID            uint32 // export_proto_sysid: v5 engine, v9 Source ID, IPFIX Observation Domain ID
	Seqno            uint32 // export_proto_seqno: the datagram's sequence number
	SrcAddr, DstAddr netip.Addr
	SrcPort, DstPort uint16
	Protocol         uint8
	TCPFlags         uint8
	In, Out          uint32
	Start, End       time.Time
	Packets, Bytes   uint64
}

type pmJSON struct {
	EventType string      `json:"event_type"`
	PeerIP    string      `json:"peer_ip_src"`
	Version   int         `json:"export_proto_version"`
	SysID     uint32      `json:"export_proto_sysid"`
	Seqno     uint32      `json:"export_proto_seqno"`
	Src       string      `json:"ip_src"`
	Dst       string      `json:"ip_dst"`
	SrcPort   uint16      `json:"port_src"`
	DstPort   uint16      `json:"port_dst"`
	Proto     json.Number `json:"ip_proto"`
	TCPFlags  json.Number `json:"tcp_flags"`
	In        uint32      `json:"iface_in"`
	Out       uint32      `json:"iface_out"`
	Start     string      `json:"timestamp_start"`
	End       string      `json:"timestamp_end"`
	Packets   uint64      `json:"packets"`
	Bytes     uint64      `json:"bytes"`
}

// Records reads the print plugin's output (call after Stop) and calls fn
// for each row.
func (n *Nfacctd) Records(t testing.TB, fn func(PmRecord)) {
	t.Helper()
	f, err := os.Open(n.Out)
	if os.IsNotExist(err) {
		return // nothing was purged
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var j pmJSON
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatalf("nfacctd output line %d %q: %v", line, b, err)
		}
		r, err := j.record()
		if err != nil {
			t.Fatalf("nfacctd output line %d %q: %v", line, b, err)
		}
		fn(r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func (j pmJSON) record() (PmRecord, error) {
	r := PmRecord{Version: j.Version, SysID: j.SysID, Seqno: j.Seqno, SrcPort: j.SrcPort, DstPort: j.DstPort,
		In: j.In, Out: j.Out, Packets: j.Packets, Bytes: j.Bytes}
	var err error
	if r.Agent, err = netip.ParseAddr(j.PeerIP); err != nil {
		return r, err
	}
	if r.SrcAddr, err = netip.ParseAddr(j.Src); err != nil {
		return r, err
	}
	if r.DstAddr, err = netip.ParseAddr(j.Dst); err != nil {
		return r, err
	}
	p, err := strconv.ParseUint(j.Proto.String(), 10, 8)
	if err != nil {
		return r, fmt.Errorf("ip_proto: %w", err)
	}
	r.Protocol = uint8(p)
	if s := j.TCPFlags.String(); s != "" {
		fl, err := strconv.ParseUint(s, 10, 8)
		if err != nil {
			return r, fmt.Errorf("tcp_flags: %w", err)
		}
		r.TCPFlags = uint8(fl)
	}
	if r.Start, err = epochMicros(j.Start); err != nil {
		return r, fmt.Errorf("timestamp_start: %w", err)
	}
	if r.End, err = epochMicros(j.End); err != nil {
		return r, fmt.Errorf("timestamp_end: %w", err)
	}
	return r, nil
}

// epochMicros parses "1735689649.000000" (timestamps_since_epoch) exactly.
func epochMicros(s string) (time.Time, error) {
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	var us int64
	if frac != "" {
		frac = (frac + "000000")[:6]
		if us, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, err
		}
	}
	return time.Unix(secs, us*1000).UTC(), nil
}
