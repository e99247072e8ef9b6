//go:build !unix

package main

import "io/fs"

// idOf: without device and inode numbers, loops and second paths are not
// detected (os.SameFile needs both files at hand).
func idOf(fs.FileInfo) (fileID, bool) { return fileID{}, false }
