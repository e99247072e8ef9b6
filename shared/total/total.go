// Package total keeps exact sums of 64-bit counters. A flow log's packets
// and bytes are 64-bit per record, so a summary's sum over many records can
// exceed 2^64-1; a Sum holds 128 bits and prints as an exact decimal.
package total

import (
	"fmt"
	"math/big"
	"math/bits"
)

// Sum is an exact unsigned 128-bit sum. The zero value is 0.
type Sum struct{ Hi, Lo uint64 }

// Of returns the sum holding v.
func Of(v uint64) Sum { return Sum{Lo: v} }

// Add adds v to s. It panics only past 2^128-1, which 2^64 records of
// 2^64-1 cannot reach.
func (s *Sum) Add(v uint64) {
	var c uint64
	s.Lo, c = bits.Add64(s.Lo, v, 0)
	s.Hi, c = bits.Add64(s.Hi, 0, c)
	if c != 0 {
		panic("total: sum overflows 128 bits")
	}
}

// AddSum adds o to s.
func (s *Sum) AddSum(o Sum) {
	var c uint64
	s.Lo, c = bits.Add64(s.Lo, o.Lo, 0)
	s.Hi, c = bits.Add64(s.Hi, o.Hi, c)
	if c != 0 {
		panic("total: sum overflows 128 bits")
	}
}

// Uint64 returns s and whether it fits 64 bits.
func (s Sum) Uint64() (uint64, bool) { return s.Lo, s.Hi == 0 }

// Big returns s as a big.Int.
func (s Sum) Big() *big.Int {
	b := new(big.Int).SetUint64(s.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(s.Lo))
}

// String returns s in decimal.
func (s Sum) String() string {
	if s.Hi == 0 {
		return fmt.Sprint(s.Lo)
	}
	return s.Big().String()
}

// MarshalJSON writes s as a JSON number, exact at any size (decoders that
// read numbers as float64 round values above 2^53; read them as a
// json.Number or big integer).
func (s Sum) MarshalJSON() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalJSON reads a non-negative JSON integer below 2^128.
func (s *Sum) UnmarshalJSON(b []byte) error {
	v, ok := new(big.Int).SetString(string(b), 10)
	if !ok || v.Sign() < 0 || v.BitLen() > 128 {
		return fmt.Errorf("total: %q is not an integer in [0, 2^128)", b)
	}
	lo := new(big.Int).And(v, new(big.Int).SetUint64(^uint64(0)))
	*s = Sum{Hi: new(big.Int).Rsh(v, 64).Uint64(), Lo: lo.Uint64()}
	return nil
}
