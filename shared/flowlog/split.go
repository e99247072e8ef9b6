package flowlog

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// Splitting a data line into columns.
//
// A data line has columns separated by runs of spaces and tabs. split
// records where the value of each field the parser reads is (a span of the
// line); fill then converts the values.
//
// Flow-log lines are single-space separated and most values are under ten
// bytes, so a byte loop spends its time on a branch per byte, mispredicted
// at every column end. split instead finds the spaces among sixteen bytes
// at a time with a few word operations (spaces16), and loops once per
// sixteen bytes and once per space. Lines with a tab take a plain byte loop
// (splitBytes), which gives the same result.

// span is the value line[lo:hi] of a field. Values are never empty: the
// zero span stands for a field the format does not have.
type span struct{ lo, hi int }

// lineValues holds where the values of the fields a Parser reads are in the
// current line.
type lineValues struct {
	// at[f] is the value of field f; at[fUnknown] receives the columns
	// that are not read. Indexed by a field (a byte), at needs no bounds
	// check.
	at [256]span
	// format is the format at was last filled for: the fields it lacks
	// have zero spans.
	format *Format

	// num[f] is the value of numeric field f (see numbers), 0 if the
	// format has no f. Indexed by f&31 (numeric fields are below 32), it
	// needs no bounds check.
	num [32]uint64
}

// split records the values of line (trimmed: it neither starts nor ends
// with a space or tab) for format f and returns the number of columns,
// which may differ from f.Len (the line is then malformed).
func (v *lineValues) split(line []byte, f *Format) int {
	if v.format != f {
		clear(v.at[:])
		clear(v.num[:])
		v.format = f
	}
	if len(line) < 16 || bytes.IndexByte(line, '\t') >= 0 {
		return v.splitBytes(line, f)
	}
	slot := &f.slot
	n, start := 0, 0 // column n (0-based) starts at line[start]
	for i := 0; i < len(line); i += 16 {
		var m uint64 // bit j: line[i+j] is a space
		if i <= len(line)-16 {
			m = spaces16(line[i : i+16])
		} else { // the last len(line)-i bytes: the top of the last sixteen
			m = spaces16(line[len(line)-16:]) >> ((i + 16 - len(line)) & 63)
		}
		for ; m != 0; m &= m - 1 {
			end := i + bits.TrailingZeros64(m)
			if end > start { // else a space after a space
				v.at[slot[uint8(n)]] = span{start, end}
				n++
			}
			start = end + 1
		}
	}
	v.at[slot[uint8(n)]] = span{start, len(line)}
	return n + 1
}

// splitBytes is split for any line, a byte at a time.
func (v *lineValues) splitBytes(line []byte, f *Format) int {
	n, start := 0, 0
	for i, c := range line {
		if !isSpace(c) {
			continue
		}
		if i > start {
			v.at[f.slot[uint8(n)]] = span{start, i}
			n++
		}
		start = i + 1
	}
	v.at[f.slot[uint8(n)]] = span{start, len(line)}
	return n + 1
}

// get returns the value of field fld in line, nil when the format has no
// such field.
func (v *lineValues) get(line []byte, fld field) []byte {
	s := v.at[fld]
	if s.hi == 0 {
		return nil
	}
	return line[s.lo:s.hi]
}

// Word-at-a-time helpers. A word holds eight bytes of a line, the first in
// its low byte. A mask has the high bit of some bytes set and every other
// bit clear. Each byte is computed on its own (no carry or borrow crosses
// bytes), so masks are exact.
const (
	lo7Bits  = 0x7f7f7f7f7f7f7f7f
	highBits = 0x8080808080808080
	spaces   = 0x2020202020202020 // ' ' × 8
	zeros    = 0x3030303030303030 // '0' × 8
)

// spaces16 returns a bitmap of the spaces of b (16 bytes): bit j is set if
// b[j] is a space.
func spaces16(b []byte) uint64 {
	b = b[:16]
	return gather(spaceMask(binary.LittleEndian.Uint64(b))) |
		gather(spaceMask(binary.LittleEndian.Uint64(b[8:])))<<8
}

// gather returns the high bits of the bytes of mask m as a byte: bit j is
// the high bit of byte j. The multiplication adds copies of m>>7 shifted by
// 56-7j for each j; only the wanted bits land in the top byte, and no two
// terms share a bit, so there is no carry.
func gather(m uint64) uint64 {
	return (m >> 7) * 0x0102040810204080 >> 56
}

// spaceMask returns the mask of the spaces of w.
func spaceMask(w uint64) uint64 {
	x := w ^ spaces // spaces become zero bytes
	// The high bit of (x&lo7Bits)+lo7Bits | x is set in the non-zero
	// bytes; | lo7Bits sets all the other bits, ^ inverts.
	return ^((x & lo7Bits) + lo7Bits | x | lo7Bits)
}
