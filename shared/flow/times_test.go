package flow

import (
	"errors"
	"testing"
)

func TestNormalizeTimes(t *testing.T) {
	const now = 1_700_000_000
	tests := []struct {
		name             string
		start, end       int64
		wantStart, wantE int64
		wantErr          bool
	}{
		{"ordinary", now, now + 60, now, now + 60, false},
		{"same second", now, now, now, now, false},
		{"end before start", now + 60, now, now + 60, now + 60, false},
		{"missing start", 0, now, now, now, false},
		{"missing end", now, 0, now, now, false},
		{"both missing", 0, 0, 0, 0, true},
		{"negative start", -5, now, 0, 0, true},
		{"end after 2106", now, MaxTime + 1, 0, 0, true},
		{"start after 2106", MaxTime + 1, MaxTime + 2, 0, 0, true},
		{"year 5138", now, 99_999_999_999, 0, 0, true},
		{"last second", MaxTime, MaxTime, MaxTime, MaxTime, false},
		{"first second", MinTime, MinTime, MinTime, MinTime, false},
		{"longest", now, now + MaxDuration, now, now + MaxDuration, false},
		{"too long", now, now + MaxDuration + 1, now, now + MaxDuration, false},
		{"a year", now, now + 365*86400, now, now + MaxDuration, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, e, err := NormalizeTimes(tc.start, tc.end)
			if tc.wantErr {
				if !errors.Is(err, ErrTimeRange) {
					t.Fatalf("NormalizeTimes(%d, %d) err = %v, want ErrTimeRange", tc.start, tc.end, err)
				}
				return
			}
			if err != nil || s != tc.wantStart || e != tc.wantE {
				t.Fatalf("NormalizeTimes(%d, %d) = %d, %d, %v; want %d, %d", tc.start, tc.end, s, e, err, tc.wantStart, tc.wantE)
			}
		})
	}
}

func FuzzNormalizeTimes(f *testing.F) {
	f.Add(int64(1_700_000_000), int64(1_700_000_060))
	f.Add(int64(0), int64(5))
	f.Add(int64(MaxTime), int64(1))
	f.Fuzz(func(t *testing.T, start, end int64) {
		s, e, err := NormalizeTimes(start, end)
		if err != nil {
			return
		}
		if s < MinTime || e > MaxTime || e < s || e-s > MaxDuration {
			t.Fatalf("NormalizeTimes(%d, %d) = %d, %d outside the rule", start, end, s, e)
		}
		if s2, e2, err := NormalizeTimes(s, e); err != nil || s2 != s || e2 != e {
			t.Fatalf("not idempotent: %d, %d -> %d, %d, %v", s, e, s2, e2, err)
		}
	})
}
