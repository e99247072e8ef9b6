package flowlog

import (
	"encoding/binary"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// Bounds of a parser's intern table, so that a hostile file with millions of
// distinct ids cannot grow it without limit. Beyond them values are
// allocated per line.
const (
	maxInternEntries = 1 << 16
	maxInternBytes   = 4 << 20
)

// interner shares one string per distinct identifier value.
//
// A flow log repeats a few ids (those of its account, VPCs, subnets,
// interfaces and instances) on every line, so lookups go first to recent, a
// small direct-mapped cache of values of 8 to 24 bytes (all AWS ids), each
// kept with three words covering its bytes: a hit costs three loads, a
// multiplication and four comparisons instead of a map lookup (hashing the
// whole value, probing, calling memequal).
type interner struct {
	m      map[string]internEntry
	bytes  int
	recent [recentSize]recentEntry
}

type internEntry struct {
	s       string
	ifIndex uint32 // flow.IfIndex(s), computed on first use as an interface id
}

// recentSize is the number of entries of interner.recent, a power of 2.
const recentSize = 256

// A recentEntry is an entry and the key of its value (see idKey).
type recentEntry struct {
	key idKey
	internEntry
}

// idKey is three words that cover a value of 8 to 24 bytes: its first,
// middle and last eight bytes (overlapping below 24 bytes). Two values of
// the same length are equal if and only if their keys are.
type idKey struct{ first, middle, last uint64 }

func makeIDKey(b []byte) idKey {
	n := len(b)
	return idKey{
		binary.LittleEndian.Uint64(b),
		binary.LittleEndian.Uint64(b[(n-8)/2:]),
		binary.LittleEndian.Uint64(b[n-8:]),
	}
}

// recentEntry returns where b (8 to 24 bytes) with key k is cached. Ids end
// in random hex digits, so their last eight bytes are a good hash.
func (t *interner) recentEntry(b []byte, k idKey) *recentEntry {
	return &t.recent[(k.last^uint64(len(b)))*0x9e3779b97f4a7c15>>56%recentSize]
}

// lookup returns the entry for b, and whether it is known (if not, the
// caller stores it). Looking up m[string(b)] does not allocate.
func (t *interner) lookup(b []byte) (internEntry, bool) {
	if len(b) < 8 || len(b) > 24 {
		if e, ok := t.m[string(b)]; ok {
			return e, true
		}
		return internEntry{s: string(b)}, false
	}
	k := makeIDKey(b)
	r := t.recentEntry(b, k)
	// Field by field: comparing the structs made the compiler go through
	// memory, where the load stalled on the stores of k (store forwarding).
	if r.key.first == k.first && r.key.middle == k.middle && r.key.last == k.last && len(r.s) == len(b) {
		return r.internEntry, true
	}
	e, ok := t.m[string(b)]
	if !ok {
		e = internEntry{s: string(b)}
	}
	r.key, r.internEntry = k, e
	return e, ok
}

func (t *interner) store(e internEntry) {
	if t.m == nil {
		t.m = make(map[string]internEntry)
	}
	if len(t.m) < maxInternEntries && t.bytes+len(e.s) <= maxInternBytes {
		t.m[e.s] = e
		t.bytes += len(e.s)
	}
}

// str returns b as a string, shared with earlier equal values.
func (t *interner) str(b []byte) string {
	e, ok := t.lookup(b)
	if !ok {
		t.store(e)
	}
	return e.s
}

// iface returns b as a string and its interface index.
func (t *interner) iface(b []byte) (string, uint32) {
	e, ok := t.lookup(b)
	if ok && e.ifIndex != 0 {
		return e.s, e.ifIndex
	}
	e.ifIndex = flow.IfIndex(e.s)
	if len(b) >= 8 && len(b) <= 24 {
		k := makeIDKey(b)
		r := t.recentEntry(b, k)
		r.key, r.internEntry = k, e
	}
	if _, inMap := t.m[e.s]; inMap {
		t.m[e.s] = e // existing key: no allocation
	} else if !ok {
		t.store(e)
	}
	return e.s, e.ifIndex
}
