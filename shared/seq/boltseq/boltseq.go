// Package boltseq is the embedded sequence store (seq.Store) for local runs:
// one bbolt file, by default DefaultPath().
//
// Layout: bucket "exporters" holds one bucket per exporter (named by the
// exporter string) with
//
//	"next"    8-byte big-endian next counter value
//	"claims"  bucket: claim -> first, n (8-byte big-endian each), at (8-byte
//	          big-endian Unix seconds)
//	"bytime"  bucket: at (8 bytes, order-preserving) + claim -> empty; the
//	          pruning index
//
// Each Reserve is one read-write bbolt transaction (bbolt runs one at a time,
// so concurrent goroutines are serialized); concurrent calls are grouped into
// shared transactions, and fsyncs, with DB.Batch. A reservation also removes
// the claims older than Retention, oldest first, through the time index, so
// the file holds at most Retention's worth of claims; a claim repeated after
// it was pruned gets new numbers, as with DynamoDB.
//
// The file is locked (flock) while open: a second process (or a second Open
// in this one) waits LockTimeout and then fails with ErrLocked.
//
// A damaged file (truncated, partly overwritten, not a store) fails Open
// with ErrDamaged, naming the file and the way out, and is not modified:
// Open reads every page and runs bbolt's consistency check first, and
// bbolt's panics on corrupt pages are turned into errors.
package boltseq

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
)

// ErrLocked means another process (or another Store in this one) has the
// file open.
var ErrLocked = errors.New("sequence store is locked by another process")

// ErrDamaged means the store's file is not a readable, consistent store
// (truncated, partly overwritten, or not a store at all).
var ErrDamaged = errors.New("sequence store is damaged")

var (
	bucketExporters = []byte("exporters")
	bucketMeta      = []byte("meta")
	bucketClaims    = []byte("claims")
	bucketByTime    = []byte("bytime")
	keyNext         = []byte("next")
	keyFormat       = []byte("format")
	formatVersion   = []byte("1")
)

// Options configure a Store.
type Options struct {
	seq.Options
	// LockTimeout is how long Open waits for another holder of the file to
	// let go (default 5 s).
	LockTimeout time.Duration
}

// Store is the bbolt seq.Store. It is safe for concurrent use.
type Store struct {
	db       *bolt.DB
	path     string
	o        seq.Options
	inflight atomic.Int32
}

var _ seq.Store = (*Store)(nil)
var _ seq.Inspector = (*Store)(nil)

// DefaultPath is $XDG_STATE_HOME/flowlogs2netflow/sequences.db, or
// ~/.local/state/flowlogs2netflow/sequences.db when XDG_STATE_HOME is unset
// or relative.
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("sequence store path: %w", err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "flowlogs2netflow", "sequences.db"), nil
}

// Open opens (creating it and its directory if needed) the store at path.
// A damaged file (truncated, overwritten, not a store at all) fails with
// ErrDamaged and is left as it is: Open reads every page of the store and
// runs bbolt's consistency check before anything is reserved, so no
// sequence number ever comes from a damaged store.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 5 * time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open sequence store %s: %w", path, err)
	}
	if err := preCheck(path, opts.LockTimeout); errors.Is(err, ErrLocked) {
		return nil, fmt.Errorf("open sequence store %s: waited %s: %w (another flowlogs2netflow run? wait for it to end, or give this run its own --state)", path, opts.LockTimeout, ErrLocked)
	} else if err != nil {
		return nil, err
	}
	var db *bolt.DB
	err := guard(func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
		return err
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open sequence store %s: waited %s: %w (another flowlogs2netflow run? wait for it to end, or give this run its own --state)", path, opts.LockTimeout, ErrLocked)
	}
	if err != nil {
		if isDamage(err) {
			return nil, damaged(path, err)
		}
		return nil, fmt.Errorf("open sequence store %s: %w", path, err)
	}
	if err := verify(db); err != nil {
		db.Close()
		return nil, damaged(path, err)
	}
	err = guard(func() error {
		return db.Update(func(tx *bolt.Tx) error {
			meta, err := tx.CreateBucketIfNotExists(bucketMeta)
			if err != nil {
				return err
			}
			switch v := meta.Get(keyFormat); {
			case v == nil:
				if err := meta.Put(keyFormat, formatVersion); err != nil {
					return err
				}
			case string(v) != string(formatVersion):
				return fmt.Errorf("unknown format %q", v)
			}
			_, err = tx.CreateBucketIfNotExists(bucketExporters)
			return err
		})
	})
	if err != nil {
		db.Close()
		if isDamage(err) {
			return nil, damaged(path, err)
		}
		return nil, fmt.Errorf("open sequence store %s: %w", path, err)
	}
	db.MaxBatchDelay = time.Millisecond
	return &Store{db: db, path: path, o: opts.Options.WithDefaults()}, nil
}

// Path is the file the store uses.
func (s *Store) Path() string { return s.path }

// Close releases the file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close sequence store %s: %w", s.path, err)
	}
	return nil
}

// Reserve implements seq.Store.
func (s *Store) Reserve(ctx context.Context, exporter, claim string, n uint64) (seq.Range, error) {
	if err := seq.Validate(exporter, claim, n); err != nil {
		return seq.Range{}, err
	}
	if err := ctx.Err(); err != nil {
		return seq.Range{}, err
	}
	t := s.o.Now()
	now, cutoff := t.Unix(), t.Add(-s.o.Retention).Unix()
	var (
		r      seq.Range
		reqErr error
	)
	// A lone caller runs its own transaction; concurrent callers share
	// transactions (and fsyncs) through Batch. Batch may run the function
	// more than once (alone, after a batch-mate failed); each run starts
	// from the committed state, so it sets r and reqErr afresh. Request
	// errors are returned through reqErr so they do not fail the batch.
	update := s.db.Batch
	if s.inflight.Add(1) == 1 {
		update = s.db.Update
	}
	defer s.inflight.Add(-1)
	err := guard(func() error {
		return update(func(tx *bolt.Tx) error {
			r, reqErr = seq.Range{}, nil
			return s.reserve(tx, exporter, claim, n, now, cutoff, &r, &reqErr)
		})
	})
	if err != nil {
		if isDamage(err) {
			return seq.Range{}, damaged(s.path, err)
		}
		return seq.Range{}, fmt.Errorf("reserve %q for exporter %q in %s: %w", claim, exporter, s.path, err)
	}
	return r, reqErr
}

// reserve is Reserve's transaction: it sets *r, or *reqErr for a request
// that cannot be served (so that it does not fail a shared batch), and
// returns the errors that fail the transaction.
func (s *Store) reserve(tx *bolt.Tx, exporter, claim string, n uint64, now, cutoff int64, r *seq.Range, reqErr *error) error {
	eb, err := tx.Bucket(bucketExporters).CreateBucketIfNotExists([]byte(exporter))
	if err != nil {
		return err
	}
	claims, err := eb.CreateBucketIfNotExists(bucketClaims)
	if err != nil {
		return err
	}
	bytime, err := eb.CreateBucketIfNotExists(bucketByTime)
	if err != nil {
		return err
	}
	if v := claims.Get([]byte(claim)); v != nil {
		held, _, err := decodeClaim(v)
		if err != nil {
			return fmt.Errorf("claim %q: %w", claim, err) // a malformed record: damage
		}
		*r, *reqErr = seq.Check(exporter, claim, held, n)
		return nil
	}
	next := s.o.Start
	if v := eb.Get(keyNext); v != nil {
		if len(v) != 8 {
			return fmt.Errorf("%w: counter %x", errMalformed, v)
		}
		next = binary.BigEndian.Uint64(v)
	}
	if next > math.MaxUint64-n {
		*reqErr = fmt.Errorf("reserve %q for exporter %q: counter at %d cannot take %d more: %w", claim, exporter, next, n, seq.ErrExhausted)
		return nil
	}
	if err := prune(claims, bytime, cutoff); err != nil {
		return err
	}
	*r = seq.Range{First: next, Count: n}
	if err := eb.Put(keyNext, binary.BigEndian.AppendUint64(nil, next+n)); err != nil {
		return err
	}
	if err := claims.Put([]byte(claim), encodeClaim(*r, now)); err != nil {
		return err
	}
	return bytime.Put(timeKey(now, claim), nil)
}

// prune removes the claims made before cutoff.
func prune(claims, bytime *bolt.Bucket, cutoff int64) error {
	c := bytime.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.First() {
		if len(k) < 8 {
			return fmt.Errorf("%w: time index key %x", errMalformed, k)
		}
		if int64(binary.BigEndian.Uint64(k)^(1<<63)) >= cutoff {
			return nil
		}
		if err := claims.Delete(k[8:]); err != nil {
			return err
		}
		if err := bytime.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Inspect implements seq.Inspector.
func (s *Store) Inspect(ctx context.Context, exporter string) (seq.State, error) {
	st := seq.State{Next: s.o.Start}
	err := s.db.View(func(tx *bolt.Tx) error {
		eb := tx.Bucket(bucketExporters).Bucket([]byte(exporter))
		if eb == nil {
			return nil
		}
		st.Exists = true
		if v := eb.Get(keyNext); len(v) == 8 {
			st.Next = binary.BigEndian.Uint64(v)
			st.Bytes += len(keyNext) + len(v)
		}
		for _, name := range [][]byte{bucketClaims, bucketByTime} {
			b := eb.Bucket(name)
			if b == nil {
				continue
			}
			if err := b.ForEach(func(k, v []byte) error {
				if string(name) == string(bucketClaims) {
					st.Claims++
				}
				st.Bytes += len(k) + len(v)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return seq.State{}, fmt.Errorf("inspect exporter %q in %s: %w", exporter, s.path, err)
	}
	return st, nil
}

func encodeClaim(r seq.Range, at int64) []byte {
	b := make([]byte, 0, 24)
	b = binary.BigEndian.AppendUint64(b, r.First)
	b = binary.BigEndian.AppendUint64(b, r.Count)
	return binary.BigEndian.AppendUint64(b, uint64(at))
}

func decodeClaim(v []byte) (seq.Range, int64, error) {
	if len(v) != 24 {
		return seq.Range{}, 0, fmt.Errorf("%w: claim record %x", errMalformed, v)
	}
	return seq.Range{First: binary.BigEndian.Uint64(v), Count: binary.BigEndian.Uint64(v[8:])},
		int64(binary.BigEndian.Uint64(v[16:])), nil
}

// timeKey orders by at (sign bit flipped so negative times sort first),
// then claim.
func timeKey(at int64, claim string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(claim)), uint64(at)^(1<<63))
	return append(k, claim...)
}
