package boltseq

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
)

// checkRaw checks a bbolt file from its bytes, with bounds checks only (no
// unsafe pointers), before bbolt maps it: both meta pages are valid, the
// free list fits its page, and every page reachable from the root of the
// current meta page lies inside the store,
// is referenced once, and every element's key and value lie inside its
// page. It exists because bbolt trusts these numbers: Open allocates the
// free list by its count, and Tx.Check dereferences element offsets in a
// goroutine of its own, where a bad offset crashes the process. Once
// checkRaw passes, those numbers are sound.
//
// The layout (bbolt 1.4, native byte order, little-endian on every
// platform we build for): a page is a 16-byte header {id u64, flags u16,
// count u16, overflow u32} and count elements; a branch element is {pos
// u32, ksize u32, pgid u64}, a leaf element {flags u32, pos u32, ksize u32,
// vsize u32}, pos counted from the element; a bucket value is {root u64,
// sequence u64} and, for root 0, an inline page.
func checkRaw(b []byte) error {
	le := binary.LittleEndian
	// The meta pages, chosen as bbolt does: the valid one (magic, version
	// 2, checksum) with the highest transaction id.
	type meta struct{ pageSize, root, freelist, hwm, txid uint64 }
	var metas []meta
	pageSize := 0
	for m := range 2 {
		off := m * pageSize
		if m == 1 && pageSize == 0 {
			off = 4096
		}
		if off+16+64 > len(b) {
			continue
		}
		p := b[off:]
		md := p[16 : 16+64]
		h := fnv.New64a()
		h.Write(md[:56])
		if le.Uint32(md) != 0xED0CDAED || le.Uint32(md[4:]) != 2 || h.Sum64() != le.Uint64(md[56:]) ||
			le.Uint64(p) != uint64(m) || le.Uint16(p[8:]) != 0x04 {
			continue
		}
		if m == 0 {
			pageSize = int(le.Uint32(md[8:]))
		}
		metas = append(metas, meta{uint64(le.Uint32(md[8:])), le.Uint64(md[16:]), le.Uint64(md[32:]), le.Uint64(md[40:]), le.Uint64(md[48:])})
	}
	if len(metas) == 0 {
		return fmt.Errorf("no valid meta page")
	}
	if len(metas) < 2 {
		return fmt.Errorf("a meta page is damaged")
	}
	m := metas[0]
	if metas[1].txid > m.txid {
		m = metas[1]
	}
	if metas[0].pageSize != metas[1].pageSize {
		return fmt.Errorf("the meta pages disagree on the page size")
	}
	pageSize = int(m.pageSize)
	if pageSize < 1024 || pageSize > 1<<16 || len(b) < 2*pageSize {
		return fmt.Errorf("page size %d for %d bytes", pageSize, len(b))
	}
	root, freelist, hwm := m.root, m.freelist, m.hwm
	if hwm > uint64(len(b)/pageSize) {
		return fmt.Errorf("the store has %d pages, the file %d: %w", hwm, len(b)/pageSize, errTruncated)
	}
	seen := map[uint64]bool{}
	var page func(id uint64, depth int) error
	var elements func(p []byte, inline bool, depth int) error
	page = func(id uint64, depth int) error {
		if depth > 64 {
			return fmt.Errorf("page %d: tree deeper than 64", id)
		}
		if id < 2 || id >= hwm {
			return fmt.Errorf("page %d: outside the store's %d pages", id, hwm)
		}
		if seen[id] {
			return fmt.Errorf("page %d: referenced twice", id)
		}
		seen[id] = true
		off := int(id) * pageSize
		p := b[off:]
		if got := le.Uint64(p); got != id {
			return fmt.Errorf("page %d: header says %d", id, got)
		}
		overflow := uint64(le.Uint32(p[12:]))
		if id+overflow >= hwm {
			return fmt.Errorf("page %d: %d overflow pages past the store's end", id, overflow)
		}
		for o := id + 1; o <= id+overflow; o++ {
			seen[o] = true
		}
		return elements(p[:int(overflow+1)*pageSize], false, depth)
	}
	elements = func(p []byte, inline bool, depth int) error {
		if len(p) < 16 {
			return fmt.Errorf("page of %d bytes", len(p))
		}
		id, flags, count := le.Uint64(p), le.Uint16(p[8:]), int(le.Uint16(p[10:]))
		if 16+count*16 > len(p) {
			return fmt.Errorf("page %d: %d elements do not fit", id, count)
		}
		for i := range count {
			e := 16 + i*16
			switch flags {
			case 0x01: // branch
				if inline {
					return fmt.Errorf("inline page: branch elements")
				}
				pos, ksize := int(le.Uint32(p[e:])), int(le.Uint32(p[e+4:]))
				if k := e + pos; pos < 0 || ksize < 0 || k+ksize > len(p) || k+ksize < k {
					return fmt.Errorf("page %d element %d: key outside the page", id, i)
				}
				if err := page(le.Uint64(p[e+8:]), depth+1); err != nil {
					return err
				}
			case 0x02: // leaf
				eflags, pos := le.Uint32(p[e:]), int(le.Uint32(p[e+4:]))
				ksize, vsize := int(le.Uint32(p[e+8:])), int(le.Uint32(p[e+12:]))
				k := e + pos
				v := k + ksize
				if pos < 0 || ksize < 0 || vsize < 0 || v+vsize > len(p) || v < k || v+vsize < v {
					return fmt.Errorf("page %d element %d: key or value outside the page", id, i)
				}
				if eflags&0x01 == 0 {
					continue
				}
				val := p[v : v+vsize]
				if len(val) < 16 {
					return fmt.Errorf("page %d element %d: bucket header of %d bytes", id, i, len(val))
				}
				if r := le.Uint64(val); r != 0 {
					if err := page(r, depth+1); err != nil {
						return err
					}
				} else if err := elements(val[16:], true, depth+1); err != nil {
					return err
				}
			default:
				return fmt.Errorf("page %d: type %#x where a branch or leaf belongs", id, flags)
			}
		}
		return nil
	}
	if freelist != 1<<64-1 { // a free list page (none with NoFreelistSync)
		if freelist < 2 || freelist >= hwm {
			return fmt.Errorf("free list page %d: outside the store's %d pages", freelist, hwm)
		}
		p := b[int(freelist)*pageSize:]
		overflow := uint64(le.Uint32(p[12:]))
		if le.Uint64(p) != freelist || le.Uint16(p[8:]) != 0x10 || freelist+overflow >= hwm {
			return fmt.Errorf("free list page %d: damaged header", freelist)
		}
		p = p[:int(overflow+1)*pageSize]
		n, ids := uint64(le.Uint16(p[10:])), p[16:]
		if n == 0xFFFF { // the count does not fit 16 bits: it is the first id
			n, ids = le.Uint64(p[16:]), p[24:]
		}
		if n > uint64(len(ids)/8) {
			return fmt.Errorf("free list page %d: %d ids do not fit", freelist, n)
		}
		for i := range int(n) {
			if id := le.Uint64(ids[8*i:]); id < 2 || id >= hwm {
				return fmt.Errorf("free list page %d: free page %d outside the store", freelist, id)
			}
		}
	}
	return page(root, 0)
}
