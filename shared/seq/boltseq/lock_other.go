//go:build !unix

package boltseq

import (
	"os"
	"time"
)

// lockFile: elsewhere the file is read unlocked (bbolt locks it next).
func lockFile(*os.File, time.Duration) error { return nil }
