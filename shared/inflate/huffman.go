package inflate

import "math/bits"

// Decoding tables are two-level: a primary table indexed by the next
// litBits (distBits) input bits, and subtables for longer codes. Each entry
// is a uint32:
//
//	bits 0-4   total bits to consume: code length + extra bits
//	bit  5     literal (litlen tables)
//	bit  6     exceptional: subtable pointer, end of block or invalid code
//	bit  7     subtable pointer (with bit 6)
//	bits 8-11  code length (subtable pointer: subtable index bits)
//	bit  12    end of block (with bit 6)
//	bits 16-31 value: literal byte, length base, distance base, subtable start
//
// The extra-bits value of a length or distance is
// (saved & (1<<total - 1)) >> codelen, where saved holds the bits before
// consumption.
const (
	eLit uint32 = 1 << 5
	eExc uint32 = 1 << 6
	eSub uint32 = 1 << 7
	eEOB uint32 = 1 << 12

	litBits    = 11
	litMask    = 1<<litBits - 1
	litEnough  = 2342 // zlib's "enough 288 11 15"
	distBits   = 8
	distMask   = 1<<distBits - 1
	distEnough = 402 // zlib's "enough 32 8 15"
	clBits     = 7
	clMask     = 1<<clBits - 1

	maxCodeLen = 15
	numLitLen  = 286 // valid litlen symbols in dynamic blocks: 0..285
	numDist    = 30
	numCL      = 19
)

type litTable [litEnough]uint32
type distTable [distEnough]uint32

// Per-symbol entry templates without the code length: value, flags and the
// number of extra bits in bits 0-4 (the code length is added when building).
var (
	litTemplate  [288]uint32
	distTemplate [32]uint32
	clTemplate   [numCL]uint32

	fixedLit  litTable
	fixedDist distTable
)

var lengthBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
	35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
var lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
	3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
var distBase = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
	257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
var distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
	7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

// codeOrder is the order of code-length code lengths in a dynamic header.
var codeOrder = [numCL]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func init() {
	for i := range 256 {
		litTemplate[i] = eLit | uint32(i)<<16
	}
	litTemplate[256] = eExc | eEOB
	for i := range 29 {
		litTemplate[257+i] = uint32(lengthBase[i])<<16 | uint32(lengthExtra[i])
	}
	litTemplate[286] = eExc // invalid, only reachable in fixed blocks
	litTemplate[287] = eExc
	for i := range 30 {
		distTemplate[i] = uint32(distBase[i])<<16 | uint32(distExtra[i])
	}
	distTemplate[30] = eExc // invalid, only reachable in fixed blocks
	distTemplate[31] = eExc
	for i := range numCL {
		clTemplate[i] = uint32(i) << 16
	}

	var lens [288]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	if !buildTable(fixedLit[:], litBits, lens[:], litTemplate[:]) {
		panic("inflate: fixed litlen table")
	}
	for i := range 32 {
		lens[i] = 5
	}
	if !buildTable(fixedDist[:], distBits, lens[:32], distTemplate[:]) {
		panic("inflate: fixed distance table")
	}
}

// buildTable fills table (a primary table of 1<<pbits entries followed by
// subtables) for the canonical Huffman code with the given code lengths
// (0 = unused symbol). It reports false for a code that compress/flate
// rejects too: over-subscribed or incomplete, except the degenerate code of
// a single 1-bit code. An empty code (all lengths 0) is accepted; every
// lookup in it yields an invalid entry.
func buildTable(table []uint32, pbits uint, lens []uint8, tmpl []uint32) bool {
	var count [maxCodeLen + 1]int
	maxLen := 0
	for _, n := range lens {
		count[n]++
		if int(n) > maxLen {
			maxLen = int(n)
		}
	}
	psize := 1 << pbits
	if maxLen == 0 {
		for i := range psize {
			table[i] = eExc
		}
		return true
	}
	// Completeness check as compress/flate does it.
	code := 0
	var next [maxCodeLen + 2]int
	for l := 1; l <= maxLen; l++ {
		code <<= 1
		next[l] = code
		code += count[l]
	}
	if code != 1<<maxLen {
		if !(code == 1 && maxLen == 1) {
			return false
		}
		// Single 1-bit code: the other half of the table is invalid.
		for i := range psize {
			table[i] = eExc
		}
	}

	// Symbols sorted by (length, symbol): canonical codes increase in this
	// order, so codes that share their first pbits bits are adjacent.
	var offs [maxCodeLen + 2]int
	for l := 1; l <= maxLen; l++ {
		offs[l+1] = offs[l] + count[l]
	}
	var sorted [288]uint16
	for s, n := range lens {
		if n != 0 {
			sorted[offs[n]] = uint16(s)
			offs[n]++
		}
	}
	remaining := count
	nsym := 0
	for l := 1; l <= maxLen; l++ {
		nsym += count[l]
	}

	subNext := psize
	curPrefix := -1
	subStart, subBits := 0, 0
	for k := range nsym {
		s := sorted[k]
		l := int(lens[s])
		c := next[l]
		next[l]++
		rev := int(bits.Reverse16(uint16(c)) >> (16 - l))
		e := tmpl[s]
		if e&eExc == 0 || e&eEOB != 0 {
			e += uint32(l) + uint32(l)<<8
		}
		if l <= int(pbits) {
			for i := rev; i < psize; i += 1 << l {
				table[i] = e
			}
			remaining[l]--
			continue
		}
		prefix := rev & (psize - 1)
		if prefix != curPrefix {
			// New subtable: find its size from the remaining code counts.
			curPrefix = prefix
			sb := l - int(pbits)
			left := 1 << sb
			for {
				left -= remaining[sb+int(pbits)]
				if left <= 0 || sb+int(pbits) >= maxLen {
					break
				}
				sb++
				left <<= 1
			}
			subBits = sb
			subStart = subNext
			subNext += 1 << subBits
			if subNext > len(table) {
				return false
			}
			table[prefix] = eExc | eSub | uint32(subBits)<<8 | uint32(subStart)<<16
		}
		for i := rev >> pbits; i < 1<<subBits; i += 1 << (l - int(pbits)) {
			table[subStart+i] = e
		}
		remaining[l]--
	}
	return true
}
