package boltseq

import (
	"encoding/binary"
	"fmt"
)

// checkRaw checks the page tree of a bbolt file from its bytes, with
// bounds checks only (no unsafe pointers): every page reachable from the
// root of the meta page of transaction txid lies inside the store,
// is referenced once, and every element's key and value lie inside its
// page. It exists because bbolt's Tx.Check dereferences element offsets
// in a goroutine of its own, where a bad offset crashes the process; once
// checkRaw passes, those offsets are sound.
//
// The layout (bbolt 1.4, native byte order, little-endian on every
// platform we build for): a page is a 16-byte header {id u64, flags u16,
// count u16, overflow u32} and count elements; a branch element is {pos
// u32, ksize u32, pgid u64}, a leaf element {flags u32, pos u32, ksize u32,
// vsize u32}, pos counted from the element; a bucket value is {root u64,
// sequence u64} and, for root 0, an inline page.
func checkRaw(b []byte, pageSize int, txid uint64) error {
	le := binary.LittleEndian
	if pageSize < 1024 || len(b) < 2*pageSize {
		return fmt.Errorf("page size %d for %d bytes", pageSize, len(b))
	}
	var root, freelist, hwm uint64
	found := false
	for m := range 2 {
		p := b[m*pageSize:]
		if le.Uint64(p) != uint64(m) || le.Uint16(p[8:]) != 0x04 {
			return fmt.Errorf("meta page %d: damaged header", m)
		}
		meta := p[16:]
		if le.Uint32(meta) == 0xED0CDAED && le.Uint64(meta[48:]) == txid {
			root, freelist, hwm, found = le.Uint64(meta[16:]), le.Uint64(meta[32:]), le.Uint64(meta[40:]), true
		}
	}
	if !found {
		return fmt.Errorf("no meta page of transaction %d", txid)
	}
	if hwm > uint64(len(b)/pageSize) {
		return fmt.Errorf("the store has %d pages, the file %d", hwm, len(b)/pageSize)
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
	}
	return page(root, 0)
}
