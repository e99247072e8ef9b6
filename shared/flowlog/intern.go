package flowlog

import "github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"

// Bounds of a parser's intern table, so that a hostile file with millions of
// distinct ids cannot grow it without limit. Beyond them values are
// allocated per line.
const (
	maxInternEntries = 1 << 16
	maxInternBytes   = 4 << 20
)

// interner shares one string per distinct identifier value.
type interner struct {
	m     map[string]internEntry
	bytes int
}

type internEntry struct {
	s       string
	ifIndex uint32 // flow.IfIndex(s), computed on first use as an interface id
}

// lookup returns the entry for b, storing it while the table has room.
// Looking up m[string(b)] does not allocate.
func (t *interner) lookup(b []byte) (internEntry, bool) {
	if e, ok := t.m[string(b)]; ok {
		return e, true
	}
	return internEntry{s: string(b)}, false
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
	if ok {
		t.m[e.s] = e // existing key: no allocation
	} else {
		t.store(e)
	}
	return e.s, e.ifIndex
}
