//go:build unix

package main

import (
	"io/fs"
	"syscall"
)

// idOf is a file's device and inode.
func idOf(st fs.FileInfo) (fileID, bool) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return fileID{uint64(sys.Dev), uint64(sys.Ino)}, true
	}
	return fileID{}, false
}
