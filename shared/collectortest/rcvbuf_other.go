//go:build !linux

package collectortest

import "errors"

func setRcvBuf(pid, port, size int) (int, error) {
	return 0, errors.New("changing another process's socket buffer needs Linux")
}
