//go:build !linux

package dynalite

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
