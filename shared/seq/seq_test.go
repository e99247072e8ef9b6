package seq

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRange(t *testing.T) {
	tests := []struct {
		r       Range
		first32 uint32
		wraps   bool
	}{
		{Range{First: 0, Count: 0}, 0, false},
		{Range{First: 1<<32 - 1, Count: 0}, 1<<32 - 1, false},
		{Range{First: 1<<32 - 1, Count: 1}, 1<<32 - 1, false},
		{Range{First: 1<<32 - 1, Count: 2}, 1<<32 - 1, true},
		{Range{First: 1 << 32, Count: 1 << 32}, 0, false},
		{Range{First: 1 << 32, Count: 1<<32 + 1}, 0, true},
		{Range{First: 5<<32 + 7, Count: 10}, 7, false},
	}
	for _, tt := range tests {
		if got := tt.r.First32(); got != tt.first32 {
			t.Errorf("%+v.First32() = %d, want %d", tt.r, got, tt.first32)
		}
		if got := tt.r.Wraps(); got != tt.wraps {
			t.Errorf("%+v.Wraps() = %v, want %v", tt.r, got, tt.wraps)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		exporter, claim string
		n               uint64
		problem         string // "" = valid
	}{
		{"e", "c", 1, ""},
		{"e", "c", MaxReserve, ""},
		{strings.Repeat("e", MaxKeyLen), strings.Repeat("c", MaxKeyLen), 1, ""},
		{"e", "c", 0, "count 0"},
		{"e", "c", MaxReserve + 1, "above the maximum"},
		{"", "c", 1, "empty exporter"},
		{"e", "", 1, "empty claim"},
		{strings.Repeat("e", MaxKeyLen+1), "c", 1, "exporter longer"},
		{"e", strings.Repeat("c", MaxKeyLen+1), 1, "claim longer"},
		{"\xff", "c", 1, "exporter is not valid UTF-8"},
		{"e", "\xff", 1, "claim is not valid UTF-8"},
	}
	for _, tt := range tests {
		err := Validate(tt.exporter, tt.claim, tt.n)
		switch {
		case tt.problem == "" && err != nil:
			t.Errorf("Validate(%.10q, %.10q, %d) = %v, want nil", tt.exporter, tt.claim, tt.n, err)
		case tt.problem != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(fmt.Sprint(err), tt.problem)):
			t.Errorf("Validate(%.10q, %.10q, %d) = %v, want ErrInvalid saying %q", tt.exporter, tt.claim, tt.n, err, tt.problem)
		}
	}
}

func TestCheck(t *testing.T) {
	held := Range{First: 10, Count: 5}
	if r, err := Check("e", "c", held, 5); err != nil || r != held {
		t.Errorf("Check with the same n = %+v, %v", r, err)
	}
	_, err := Check("e", "c", held, 6)
	if !errors.Is(err, ErrClaimMismatch) || !errors.Is(err, ErrInvalid) || IsTransient(err) {
		t.Errorf("Check with another n: %v; want ErrClaimMismatch wrapping ErrInvalid", err)
	}
	if !errors.Is(ErrExhausted, ErrInvalid) {
		t.Error("ErrExhausted does not wrap ErrInvalid")
	}
}

func TestTransient(t *testing.T) {
	base := errors.New("throttled")
	err := fmt.Errorf("reserve: %w", Transient(base))
	if !IsTransient(err) || !errors.Is(err, base) || err.Error() != "reserve: throttled" {
		t.Errorf("Transient: %v, IsTransient %v, Is(base) %v", err, IsTransient(err), errors.Is(err, base))
	}
	if IsTransient(base) || Transient(nil) != nil {
		t.Error("IsTransient(unmarked) or Transient(nil) wrong")
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{Start: 3}.WithDefaults()
	if o.Start != 3 || o.Retention != DefaultRetention || o.Now == nil || time.Since(o.Now()) > time.Minute {
		t.Errorf("WithDefaults() = %+v", o)
	}
	o = Options{Retention: time.Hour}.WithDefaults()
	if o.Retention != time.Hour {
		t.Errorf("Retention %v, want 1h", o.Retention)
	}
}
