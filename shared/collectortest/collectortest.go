// Package collectortest runs real NetFlow collectors on loopback for tests:
// nfcapd/nfdump (nfdump 1.7), and reads back what they decoded. A test that
// needs a collector binary that is not installed is skipped, unless
// FL2NF_REQUIRE_INTEGRATION=1 (set by make test and CI), when it fails.
package collectortest

import (
	"bufio"
	"bytes"
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
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan error
}

// Addr is the collector address, 127.0.0.1:port.
func (n *Nfcapd) Addr() string { return fmt.Sprintf("127.0.0.1:%d", n.Port) }

// StartNfcapd starts nfcapd on a free loopback port, writing into a fresh
// directory, with a large socket buffer. It is stopped at test cleanup if
// Stop was not called.
func StartNfcapd(t testing.TB) *Nfcapd {
	t.Helper()
	bin := Need(t, "nfcapd")
	n := &Nfcapd{Port: FreeUDPPort(t), Dir: t.TempDir(), done: make(chan error, 1)}
	n.cmd = exec.Command(bin, "-b", "127.0.0.1", "-p", strconv.Itoa(n.Port), "-w", n.Dir, "-t", "3600", "-I", "test", "-B", "16777216")
	n.cmd.Stdout = &n.out
	n.cmd.Stderr = &n.out
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start nfcapd: %v", err)
	}
	go func() { n.done <- n.cmd.Wait() }()
	t.Cleanup(func() { n.kill() })
	// nfcapd creates its current file once its socket is bound.
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, _ := filepath.Glob(filepath.Join(n.Dir, "nfcapd.current.*"))
		if len(m) > 0 && strings.Contains(n.out.String(), "Bound to") {
			return n
		}
		select {
		case err := <-n.done:
			t.Fatalf("nfcapd exited early: %v\n%s", err, n.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nfcapd did not start in 10 s:\n%s", n.out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (n *Nfcapd) kill() {
	if n.cmd.ProcessState == nil && n.cmd.Process != nil {
		n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(5 * time.Second):
			n.cmd.Process.Kill()
		}
	}
}

// Stop waits until the UDP receive queue is drained, stops nfcapd with
// SIGTERM (which flushes and closes its file) and returns its log.
func (n *Nfcapd) Stop(t testing.TB) string {
	t.Helper()
	WaitDrained(t, n.Port)
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-n.done:
		if err != nil {
			t.Fatalf("nfcapd: %v\n%s", err, n.out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("nfcapd did not stop:\n%s", n.out.String())
	}
	return n.out.String()
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
