// Package collectortest runs real NetFlow collectors on loopback for tests
// and reads back what they decoded: nfcapd/nfdump 1.7 (StartNfcapd,
// Records, Stats, Exporters), pmacct nfacctd 1.7 with sequence checks on
// (StartNfacctd), goflow2 v2 (StartGoflow2) and tshark 4.0 captures
// (StartTshark, DecodeCflow, Expert); WriteParquet writes test input with
// an independent Parquet implementation (parquetjs). Each collector listens on a free
// loopback port, is ready when Start returns, and is stopped at test
// cleanup if Stop was not called. A test that needs a collector binary that
// is not installed is skipped, unless FL2NF_REQUIRE_INTEGRATION=1 (set by
// make test and CI), when it fails.
package collectortest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Need returns the path of a binary, skipping or failing the test when it
// is absent.
func Need(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("FL2NF_REQUIRE_INTEGRATION") == "1" {
		t.Fatalf("%s not found on PATH and FL2NF_REQUIRE_INTEGRATION=1 (make test installs it)", name)
	}
	t.Skipf("%s not installed (apt-get install nfdump pmacct tshark, or run make test)", name)
	return ""
}

// FreeUDPPort returns a loopback UDP port that was free a moment ago.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// Nfcapd is a running nfcapd.
type Nfcapd struct {
	Port int
	Dir  string
	p    *proc
}

// Addr is the collector address, 127.0.0.1:port.
func (n *Nfcapd) Addr() string { return fmt.Sprintf("127.0.0.1:%d", n.Port) }

// StartNfcapd starts nfcapd on a free loopback port, writing into a fresh
// directory, with a large socket buffer. It is stopped at test cleanup if
// Stop was not called.
func StartNfcapd(t testing.TB) *Nfcapd {
	t.Helper()
	return StartNfcapdWith(t, NfcapdOptions{RcvBuf: 16 << 20})
}

// NfcapdOptions choose how StartNfcapdWith runs nfcapd.
type NfcapdOptions struct {
	// Port to bind on 127.0.0.1; 0 picks a free one. Reusing the port of a
	// stopped nfcapd restarts "the same collector".
	Port int
	// RcvBuf is nfcapd's -B (socket receive buffer bytes); 0 leaves nfcapd
	// at its default, as a user who changed nothing runs it.
	RcvBuf int
}

// StartNfcapdWith starts nfcapd as o says, writing into a fresh directory.
func StartNfcapdWith(t testing.TB, o NfcapdOptions) *Nfcapd {
	t.Helper()
	bin := Need(t, "nfcapd")
	n := &Nfcapd{Port: o.Port, Dir: t.TempDir()}
	if n.Port == 0 {
		n.Port = FreeUDPPort(t)
	}
	// -t 3600: one file for the whole test (file rotation, not delivery).
	args := []string{"-b", "127.0.0.1", "-p", strconv.Itoa(n.Port), "-w", n.Dir, "-t", "3600", "-I", "test"}
	if o.RcvBuf > 0 {
		args = append(args, "-B", strconv.Itoa(o.RcvBuf))
	}
	n.p = startProc(t, "nfcapd", exec.Command(bin, args...))
	// nfcapd creates its current file once its socket is bound.
	n.p.waitFor(t, "bound socket", 10*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(n.Dir, "nfcapd.current.*"))
		return len(m) > 0 && strings.Contains(n.p.out.String(), "Bound to")
	})
	return n
}

// Stop waits until the UDP receive queue is drained, stops nfcapd with
// SIGTERM (which flushes and closes its file) and returns its log.
func (n *Nfcapd) Stop(t testing.TB) string {
	t.Helper()
	WaitDrained(t, n.Port)
	if err := n.p.stop(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatalf("nfcapd: %v\n%s", err, n.p.out.String())
	}
	return n.p.out.String()
}

// WaitDrained waits until the kernel's receive queue of the loopback UDP
// socket on port is empty (read from /proc/net/udp), so a collector has
// read everything sent before it is stopped. It also fails the test when
// the socket dropped datagrams.
func WaitDrained(t testing.TB, port int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	hexPort := fmt.Sprintf(":%04X", port)
	for {
		queued, drops, found := udpQueue(hexPort)
		if found && drops > 0 {
			t.Fatalf("collector socket on port %d dropped %d datagrams", port, drops)
		}
		if !found || queued == 0 {
			// One more moment for the collector to process what it read.
			time.Sleep(50 * time.Millisecond)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector on port %d still has %d bytes queued after 30 s", port, queued)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func udpQueue(hexPort string) (queued, drops int64, found bool) {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 13 || !strings.HasSuffix(fields[1], hexPort) {
			continue
		}
		// tx_queue:rx_queue in hex; drops is the last column.
		q := strings.SplitN(fields[4], ":", 2)
		if len(q) == 2 {
			rx, _ := strconv.ParseInt(q[1], 16, 64)
			queued = rx
		}
		drops, _ = strconv.ParseInt(fields[len(fields)-1], 10, 64)
		return queued, drops, true
	}
	return 0, 0, false
}
