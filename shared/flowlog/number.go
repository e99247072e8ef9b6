package flowlog

import (
	"encoding/binary"
	"math"
)

// Numbers, eight digits at a time.
//
// numbers converts the numeric fields of a line. Most are plain decimal
// numbers of up to 16 digits: it checks a word of up to eight digits with
// a few masks and converts it with three multiply-shift steps, rather than
// looping over the digits. It parses the others ('-', bad or longer
// numbers) with parseUint.

// numericFields are the fields holding a number, in the order in which
// fill checks them (which decides the error a line with several bad
// numbers reports).
var numericFields = [...]field{fSrcPort, fDstPort, fProtocol, fTCPFlags, fTrafficPath, fPackets, fBytes, fStart, fEnd}

// Numeric fields are read fields, below numUsed, so below 32 (the size of
// maxValue and lineValues.num); this fails to compile otherwise.
const _ uint = 32 - uint(numUsed)

// maxValue is the largest valid value of each numeric field.
var maxValue = [32]uint64{
	fSrcPort: 0xffff, fDstPort: 0xffff, fProtocol: 0xff, fTCPFlags: 0xff, fTrafficPath: 0xff,
	fPackets: math.MaxUint64, fBytes: math.MaxUint64, fStart: math.MaxInt64, fEnd: math.MaxInt64,
}

// numbers sets v.num[fld] to the value of each numeric field fld of format
// f (0 for '-'), after split found all the columns of f in line. It
// returns the error of the first bad one.
func (v *lineValues) numbers(f *Format, line []byte, lineNo int64) *LineError {
	for _, fld := range f.numeric {
		s := v.at[fld] // a value: 1 byte or more
		var n uint64   // meaningless unless ok
		var ok bool
		if k := s.hi - s.lo; k <= 8 && s.lo+8 <= len(line) {
			x := binary.LittleEndian.Uint64(line[s.lo:]) ^ zeros // digits become the bytes 0 to 9
			x <<= (64 - 8*k) & 63                                // the value at the top, zeros below
			n, ok = digitsValue(x), nonDigits(x) == 0
		} else {
			n, ok = longDigits(line, s)
		}
		if !ok || n > maxValue[fld&31] {
			var lerr *LineError
			if n, lerr = uintField(f, line, v, lineNo, fld); lerr != nil {
				return lerr
			}
		}
		v.num[fld&31] = n
	}
	return nil
}

// longDigits returns the value of line[s.lo:s.hi] if it is 1 to 16 decimal
// digits, for the values numbers does not convert in one word: those of 9
// digits or more or near the end of the line.
func longDigits(line []byte, s span) (uint64, bool) {
	k := s.hi - s.lo
	if k > 16 || len(line) < 8 {
		return 0, false
	}
	x := loadWord(line, s.lo) ^ zeros
	if k <= 8 {
		x <<= (64 - 8*k) & 63
		return digitsValue(x), nonDigits(x) == 0
	}
	y := loadWord(line, s.lo+8) ^ zeros
	y <<= (128 - 8*k) & 63
	return digitsValue(x)*pow10[k-8] + digitsValue(y), nonDigits(x)|nonDigits(y) == 0
}

// loadWord returns line[i:i+8] as a word; the bytes past the end of line
// read as zero. line must be at least eight bytes long.
func loadWord(line []byte, i int) uint64 {
	if i+8 <= len(line) {
		return binary.LittleEndian.Uint64(line[i:])
	}
	// The last eight bytes, shifted down so that line[i] is the low one.
	return binary.LittleEndian.Uint64(line[len(line)-8:]) >> (8 * (i + 8 - len(line)) & 63)
}

// nonDigits returns the mask of the bytes of x, a word xor zeros, that are
// not digits (0 to 9).
func nonDigits(x uint64) uint64 {
	// A byte is not a digit if its high bit is set or its low seven bits
	// are 10 or more (adding 0x76 carries them into the high bit).
	return ((x & lo7Bits) + 0x7676767676767676 | x) & highBits
}

// digitsValue returns the value of the eight digits (bytes 0 to 9) of x,
// the first digit in the lowest byte.
func digitsValue(x uint64) uint64 {
	// Combine neighbours: 8 digits → 4 of 0-99 → 2 of 0-9999 → 1.
	x = (x * (1 + 10<<8)) >> 8 & 0x00ff00ff00ff00ff
	x = (x * (1 + 100<<16)) >> 16 & 0x0000ffff0000ffff
	return (x * (1 + 10000<<32)) >> 32
}

var pow10 = [9]uint64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}
