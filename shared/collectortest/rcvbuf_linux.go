package collectortest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Linux syscall numbers, the same on every architecture (added in 5.3 and
// 5.6, after the syscall package was frozen).
const (
	sysPidfdOpen  = 434
	sysPidfdGetfd = 438
)

// setRcvBuf sets the receive buffer of the UDP socket that process pid has
// bound to 127.0.0.1:port, from outside the process: it duplicates the
// socket with pidfd_getfd and sets SO_RCVBUFFORCE (not capped by
// net.core.rmem_max) on the duplicate, which is the same socket. This
// needs root (ptrace access and CAP_NET_ADMIN). It returns the buffer size
// the kernel reports.
func setRcvBuf(pid, port, size int) (int, error) {
	inode, err := udpInode(port)
	if err != nil {
		return 0, err
	}
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		return 0, err
	}
	target := -1
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && l == "socket:["+inode+"]" {
			target, _ = strconv.Atoi(e.Name())
			break
		}
	}
	if target < 0 {
		return 0, fmt.Errorf("no descriptor of process %d is the socket on port %d", pid, port)
	}
	pidfd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno != 0 {
		return 0, fmt.Errorf("pidfd_open: %w", errno)
	}
	defer syscall.Close(int(pidfd))
	fd, _, errno := syscall.Syscall(sysPidfdGetfd, pidfd, uintptr(target), 0)
	if errno != 0 {
		return 0, fmt.Errorf("pidfd_getfd: %w", errno)
	}
	defer syscall.Close(int(fd))
	if err := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, size); err != nil {
		return 0, fmt.Errorf("SO_RCVBUFFORCE: %w", err)
	}
	return syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
}

// udpInode returns the inode of the socket bound to the loopback UDP port.
func udpInode(port int) (string, error) {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return "", err
	}
	suffix := fmt.Sprintf(":%04X", port)
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 9 && strings.HasSuffix(f[1], suffix) {
			return f[9], nil
		}
	}
	return "", fmt.Errorf("no UDP socket on port %d", port)
}
