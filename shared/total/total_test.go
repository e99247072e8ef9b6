package total

import (
	"encoding/json"
	"math"
	"math/big"
	"testing"
)

func TestSum(t *testing.T) {
	var s Sum
	want := new(big.Int)
	for _, v := range []uint64{math.MaxUint64, math.MaxUint64, 1, 0, 84979, math.MaxUint64 / 3} {
		s.Add(v)
		want.Add(want, new(big.Int).SetUint64(v))
		if s.String() != want.String() {
			t.Fatalf("after adding %d: %s, want %s", v, s, want)
		}
	}
	var twice Sum
	twice.AddSum(s)
	twice.AddSum(s)
	if w := new(big.Int).Add(want, want); twice.String() != w.String() {
		t.Fatalf("AddSum: %s, want %s", twice, w)
	}
	if _, ok := s.Uint64(); ok {
		t.Error("Uint64 reports a sum above 2^64 as fitting")
	}
	if v, ok := Of(7).Uint64(); !ok || v != 7 {
		t.Errorf("Of(7).Uint64() = %d, %v", v, ok)
	}
}

func TestSumJSON(t *testing.T) {
	for _, s := range []Sum{{}, Of(12345), {Hi: 1, Lo: 5}, {Hi: math.MaxUint64, Lo: math.MaxUint64}} {
		b, err := json.Marshal(struct{ B Sum }{s})
		if err != nil {
			t.Fatal(err)
		}
		var back struct{ B Sum }
		if err := json.Unmarshal(b, &back); err != nil || back.B != s {
			t.Fatalf("%s: round trip %s -> %+v, %v", s, b, back.B, err)
		}
		// A plain decoder reads the number exactly too.
		var n struct{ B json.Number }
		if err := json.Unmarshal(b, &n); err != nil || n.B.String() != s.String() {
			t.Fatalf("%s: json.Number %q, %v", s, n.B, err)
		}
	}
	for _, bad := range []string{`-1`, `1.5`, `"7"`, `340282366920938463463374607431768211456`} {
		var s Sum
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("Unmarshal(%s) accepted: %s", bad, s)
		}
	}
}

func FuzzSumJSON(f *testing.F) {
	f.Add(uint64(0), uint64(0))
	f.Add(uint64(1), uint64(math.MaxUint64))
	f.Fuzz(func(t *testing.T, hi, lo uint64) {
		s := Sum{Hi: hi, Lo: lo}
		b, _ := s.MarshalJSON()
		var back Sum
		if err := back.UnmarshalJSON(b); err != nil || back != s {
			t.Fatalf("%+v -> %s -> %+v, %v", s, b, back, err)
		}
	})
}
