package boltseq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
)

// healthyStore writes a store with several exporters and enough claims to
// span many pages, and returns its bytes.
func healthyStore(t testing.TB) []byte {
	b, _ := healthyStoreSize(t)
	return b
}

// healthyStoreSize is healthyStore and the size of the store inside the
// file (bbolt's high-water mark; the file is longer).
func healthyStoreSize(t testing.TB) ([]byte, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "healthy.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 600 {
		exp := fmt.Sprintf("netflow9|127.0.0.1:%d|source-id=0", 2000+i%3)
		if _, err := s.Reserve(t.Context(), exp, fmt.Sprintf("local-20261203T000000.%09dZ-1/%d", i, i), 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 8*4096 {
		t.Fatalf("healthy store is only %d bytes: the damage cases need more pages", len(b))
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var size int64
	db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil })
	return b, int(size)
}

// TestDamaged: every kind of damage to the file ends in ErrDamaged with a
// message naming the file and the way out, never a panic, and the file is
// left as it was.
func TestDamaged(t *testing.T) {
	good, size := healthyStoreSize(t)
	const page = 4096
	rnd := func(n int, seed uint64) []byte {
		r := rand.New(rand.NewPCG(seed, 1))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	overwrite := func(at int, with []byte) []byte {
		b := bytes.Clone(good)
		copy(b[at:], with)
		return b
	}
	cases := []struct {
		name string
		file []byte
	}{
		{"text file", []byte("this is not a sequence store\n")},
		{"random bytes, small", rnd(1000, 1)},
		{"random bytes, store size", rnd(len(good), 2)},
		{"truncated to 100 bytes", good[:100]},
		{"truncated to one page", good[:page]},
		{"truncated to half", good[:len(good)/2]},
		{"truncated by one page of the store", good[:size-page]},
		{"truncated mid-page", good[:size-page/2]},
		{"both meta pages overwritten", overwrite(0, rnd(2*page, 3))},
		{"data pages overwritten with random bytes", overwrite(2*page, rnd(len(good)-2*page, 4))},
		{"one data page zeroed", overwrite(len(good)/2/page*page, make([]byte, page))},
		{"four pages overwritten with random bytes", overwrite(size/3/page*page, rnd(4*page, 5))},
		{"page headers overwritten", func() []byte {
			b := bytes.Clone(good)
			for at := 2 * page; at < len(b); at += page {
				copy(b[at:], rnd(16, uint64(at)))
			}
			return b
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sequences.db")
			if err := os.WriteFile(path, tc.file, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, Options{})
			if err == nil {
				// Should the damage escape Open, a reservation must
				// still fail rather than hand out numbers.
				_, err = s.Reserve(context.Background(), "netflow9|127.0.0.1:2000|source-id=0", "after-damage", 1)
				s.Close()
			}
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("Open = %v, want ErrDamaged", err)
			}
			for _, want := range []string{path, "move it away", "restore a backup"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not mention %q: %v", want, err)
				}
			}
			after, rerr := os.ReadFile(path)
			if rerr != nil || !bytes.Equal(after, tc.file) {
				t.Errorf("the damaged file was modified (%d bytes before, %d after, %v)", len(tc.file), len(after), rerr)
			}
			t.Log(err)
		})
	}
}

// TestRandomDamage: random bytes flipped, runs overwritten and truncations
// of a healthy store: Open returns a store or ErrDamaged, within seconds,
// and never crashes (bbolt's own check crashed on some of these before
// checkRaw vetted the page tree).
func TestRandomDamage(t *testing.T) {
	good := healthyStore(t)
	r := rand.New(rand.NewPCG(7, 7))
	n := 1000
	if testing.Short() {
		n = 100
	}
	opened := 0
	for i := range n {
		b := bytes.Clone(good)
		switch i % 3 {
		case 0:
			for range 1 + r.IntN(8) {
				b[r.IntN(len(b))] = byte(r.Uint32())
			}
		case 1:
			b = b[:r.IntN(len(b))]
		case 2:
			copy(b[r.IntN(len(b)):], bytes.Repeat([]byte{byte(r.Uint32())}, r.IntN(64)))
		}
		path := filepath.Join(t.TempDir(), "sequences.db")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			s, err := Open(path, Options{})
			if err == nil {
				s.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				opened++
			} else if !errors.Is(err, ErrDamaged) {
				t.Fatalf("case %d: Open = %v, want nil or ErrDamaged", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("case %d: Open hangs", i)
		}
	}
	t.Logf("%d of %d damaged copies opened (damage in free pages or values), the rest refused", opened, n)
}

// TestUndamaged: an empty file is a new store, and a healthy copy opens and
// continues its counters.
func TestUndamaged(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, empty, seq.Options{})
	s.Close()
	copyPath := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(copyPath, healthyStore(t), 0o600); err != nil {
		t.Fatal(err)
	}
	s = open(t, copyPath, seq.Options{})
	defer s.Close()
	r, err := s.Reserve(t.Context(), "netflow9|127.0.0.1:2000|source-id=0", "next", 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(200 * 10); r.First != want {
		t.Errorf("next reservation starts at %d, want %d", r.First, want)
	}
}

// FuzzOpen: whatever the file holds, Open (and a reservation from a store
// it opened) returns a store or an error, never panics.
func FuzzOpen(f *testing.F) {
	good := healthyStore(f)
	f.Add([]byte{})
	f.Add([]byte("not a store"))
	f.Add(good[:4096*2])
	f.Add(good[:4096*4])
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "sequences.db")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, Options{})
		if err != nil {
			return
		}
		defer s.Close()
		s.Reserve(context.Background(), "netflow9|127.0.0.1:2000|source-id=0", "fuzz", 1)
	})
}
