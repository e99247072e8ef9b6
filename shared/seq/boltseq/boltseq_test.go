package boltseq

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/seqtest"
)

func open(t *testing.T, path string, o seq.Options) *Store {
	t.Helper()
	s, err := Open(path, Options{Options: o})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	seqtest.Run(t, seqtest.Factory{
		New: func(t *testing.T, o seq.Options) seq.Store {
			s := open(t, filepath.Join(t.TempDir(), "sequences.db"), o)
			t.Cleanup(func() { s.Close() })
			return s
		},
		Durable: func(t *testing.T, o seq.Options) (seq.Store, func() seq.Store) {
			path := filepath.Join(t.TempDir(), "sequences.db")
			s := open(t, path, o)
			t.Cleanup(func() { s.Close() })
			return s, func() seq.Store {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				s = open(t, path, o)
				return s
			}
		},
		Short: testing.Short(),
	})
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "sequences.db")
	s := open(t, path, seq.Options{})
	defer s.Close()
	began := time.Now()
	s2, err := Open(path, Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	t.Logf("after %v: %v", time.Since(began).Round(time.Millisecond), err)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 = open(t, path, seq.Options{})
	s2.Close()
}

func TestDefaultPath(t *testing.T) {
	tests := []struct{ xdg, home, want string }{
		{"/var/state", "/home/u", "/var/state/flowlogs2netflow/sequences.db"},
		{"", "/home/u", "/home/u/.local/state/flowlogs2netflow/sequences.db"},
		{"relative", "/home/u", "/home/u/.local/state/flowlogs2netflow/sequences.db"},
	}
	for _, tt := range tests {
		t.Setenv("XDG_STATE_HOME", tt.xdg)
		t.Setenv("HOME", tt.home)
		got, err := DefaultPath()
		if err != nil || got != tt.want {
			t.Errorf("XDG_STATE_HOME=%q HOME=%q: DefaultPath() = %q, %v; want %q", tt.xdg, tt.home, got, err, tt.want)
		}
	}
}
