package boltseq

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// errMalformed marks a record of the store's own layout that cannot be
// decoded: the file is damaged even if bbolt can read it.
var errMalformed = errors.New("malformed record")

// errTruncated marks a file shorter than the store it holds.
var errTruncated = errors.New("truncated")

// errPanic marks a panic of bbolt on a corrupted page, turned into an error.
var errPanic = errors.New("bbolt could not read a page")

// damaged is the error for a damaged store: it names the file and what to
// do about it.
func damaged(path string, cause error) error {
	return fmt.Errorf("%w: %s (%v): move it away to start new sequence counters "+
		"(collectors then see every exporter's sequence start again at 0), or restore a backup of it; "+
		"no sequence numbers are taken from a damaged store, as they could repeat", ErrDamaged, path, cause)
}

// isDamage reports whether err, from bbolt or from the store's own
// decoding, means the file's content is damaged (rather than, say,
// unreadable for lack of permission).
func isDamage(err error) bool {
	return errors.Is(err, errPanic) || errors.Is(err, errTruncated) || errors.Is(err, errMalformed) ||
		errors.Is(err, bolterrors.ErrInvalid) || errors.Is(err, bolterrors.ErrChecksum) ||
		errors.Is(err, bolterrors.ErrVersionMismatch) || errors.Is(err, bolterrors.ErrInvalidMapping) ||
		errors.Is(err, bolterrors.ErrIncompatibleValue) ||
		strings.Contains(err.Error(), "file size too small") // bbolt's mmap of a file shorter than its two meta pages
}

// preCheck vets the file's bytes (checkRaw) before bbolt maps it, under
// the lock bbolt takes, so that a writer in another process cannot change
// them under the check. A missing or empty file is a new store.
func preCheck(path string, timeout time.Duration) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open sequence store %s: %w", path, err)
	}
	defer f.Close() // releases the lock
	if err := lockFile(f, timeout); err != nil {
		return err
	}
	raw, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("read sequence store %s: %w", path, err)
	}
	if len(raw) == 0 {
		return nil
	}
	if err := checkRaw(raw); err != nil {
		if !errors.Is(err, errTruncated) {
			err = fmt.Errorf("%w: %w", errMalformed, err)
		}
		return damaged(path, err)
	}
	return nil
}

// guard runs fn, turning a panic (bbolt panics on some corrupted pages)
// and a memory fault (a page pointer past the end of a truncated file)
// into an error. Panics inside a DB.Batch function come back from bbolt
// as errors already; guard covers the calling goroutine.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errPanic, p)
		}
	}()
	return fn()
}

// verify (after checkRaw vetted the file) reads every key and value through bbolt in this goroutine (so that a panic or
// a fault is caught), checks the records of the store's layout, and then
// runs bbolt's consistency check (free list, page references).
func verify(db *bolt.DB) error {
	err := guard(func() error {
		return db.View(func(tx *bolt.Tx) error {
			// bbolt maps the file rounded up: pages past the end of a
			// truncated file read as zeros, or fault.
			if st, err := os.Stat(db.Path()); err == nil && st.Size() < tx.Size() {
				return fmt.Errorf("%w: the file has %d bytes, the store inside it %d", errTruncated, st.Size(), tx.Size())
			}
			if err := walk(tx); err != nil {
				return err
			}
			var errs []error
			for err := range tx.Check() {
				if len(errs) < 3 {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		})
	})
	if err != nil && !isDamage(err) {
		// Tx.Check's findings are plain errors: they all mean damage.
		err = fmt.Errorf("%w: %w", errMalformed, err)
	}
	return err
}

// walk visits every bucket, key and value and decodes the store's records.
func walk(tx *bolt.Tx) error {
	if meta := tx.Bucket(bucketMeta); meta != nil {
		if v := meta.Get(keyFormat); v != nil && string(v) != string(formatVersion) {
			return fmt.Errorf("%w: unknown format %q", errMalformed, v)
		}
	}
	// Read every byte of every key and value, and check the key order, in
	// this goroutine: a key or value pointing outside the file faults here,
	// where guard turns the fault into an error, and not in the goroutine
	// of Tx.Check, where it would crash the process.
	var sum byte
	var visit func(name []byte, b *bolt.Bucket) error
	visit = func(name []byte, b *bolt.Bucket) error {
		var prev []byte
		return b.ForEach(func(k, v []byte) error {
			if prev != nil && bytes.Compare(prev, k) >= 0 {
				return fmt.Errorf("%w: bucket %q: keys out of order", errMalformed, name)
			}
			prev = k
			for _, c := range k {
				sum ^= c
			}
			for _, c := range v {
				sum ^= c
			}
			if v == nil {
				if sub := b.Bucket(k); sub != nil {
					return visit(k, sub)
				}
			}
			return nil
		})
	}
	if err := tx.ForEach(func(name []byte, b *bolt.Bucket) error { return visit(name, b) }); err != nil {
		return err
	}
	_ = sum
	exps := tx.Bucket(bucketExporters)
	if exps == nil {
		return nil
	}
	return exps.ForEach(func(name, v []byte) error {
		eb := exps.Bucket(name)
		if eb == nil {
			return fmt.Errorf("%w: exporter %q is not a bucket", errMalformed, name)
		}
		if v := eb.Get(keyNext); v != nil && len(v) != 8 {
			return fmt.Errorf("%w: exporter %q: counter %x", errMalformed, name, v)
		}
		if claims := eb.Bucket(bucketClaims); claims != nil {
			if err := claims.ForEach(func(k, v []byte) error {
				if _, _, err := decodeClaim(v); err != nil {
					return fmt.Errorf("exporter %q claim %q: %w", name, k, err)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if bytime := eb.Bucket(bucketByTime); bytime != nil {
			return bytime.ForEach(func(k, _ []byte) error {
				if len(k) < 8 {
					return fmt.Errorf("%w: exporter %q: time index key %x", errMalformed, name, k)
				}
				return nil
			})
		}
		return nil
	})
}
