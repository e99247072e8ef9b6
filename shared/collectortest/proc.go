package collectortest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a process writing its output while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a collector process started in its own process group, so that
// its helper processes (nfacctd's plugin, tshark's dumpcap) can be killed
// with it if it does not stop when asked.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    syncBuffer // stdout and stderr, unless redirected
	exited chan struct{}
	err    error // valid once exited is closed
}

func startProc(t testing.TB, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{name: name, cmd: cmd, exited: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = &p.out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &p.out
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(syscall.SIGTERM, 10*time.Second) })
	return p
}

func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends sig (if the process still runs) and waits up to timeout for
// it to exit, then kills its process group. It returns the exit error.
func (p *proc) stop(sig os.Signal, timeout time.Duration) error {
	if p.running() {
		p.cmd.Process.Signal(sig)
	}
	select {
	case <-p.exited:
		return p.err
	case <-time.After(timeout):
	}
	// Only our own process group: the collector and the helpers it forked.
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
	return fmt.Errorf("%s did not stop within %v after %v and was killed", p.name, timeout, sig)
}

// udpBound reports whether a socket is bound to the loopback UDP port.
func udpBound(port int) bool {
	_, _, found := udpQueue(fmt.Sprintf(":%04X", port))
	return found
}

// waitFor polls cond every 10 ms until it holds, the process exits, or the
// timeout passes, failing the test with the process output in the latter
// cases.
func (p *proc) waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if !p.running() {
			t.Fatalf("%s exited before %s: %v\n%s", p.name, what, p.err, p.out.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s within %v:\n%s", p.name, what, timeout, p.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// unavailable skips the test because something it needs is missing, or
// fails it when FL2NF_REQUIRE_INTEGRATION=1 (make test, CI).
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("FL2NF_REQUIRE_INTEGRATION") == "1" {
		t.Fatalf(format+" (FL2NF_REQUIRE_INTEGRATION=1)", args...)
	}
	t.Skipf(format, args...)
}
