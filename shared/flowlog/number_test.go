package flowlog

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// TestNumbers checks the word-at-a-time conversion of numbers against
// parseUint, for every length around the word sizes, bad bytes at every
// position, and the number at the start, middle and end of a line.
func TestNumbers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var values []string
	for n := 1; n <= 24; n++ {
		for range 20 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte('0' + r.IntN(10))
			}
			values = append(values, string(b))
			bad := []byte(string(b))
			bad[r.IntN(n)] = "x/:-\x00\xb0\x7f"[r.IntN(7)]
			values = append(values, string(bad))
		}
		values = append(values, strings.Repeat("9", n), strings.Repeat("0", n), "1"+strings.Repeat("0", n-1))
	}
	values = append(values, "-", "18446744073709551615", "18446744073709551616", "9223372036854775807", "9223372036854775808")
	for _, format := range []string{
		"${bytes} ${srcaddr} ${dstaddr}", "${srcaddr} ${bytes} ${dstaddr}",
		"${srcaddr} ${dstaddr} ${bytes}", "${bytes} ${start} ${srcaddr} ${dstaddr}",
	} {
		f := mustFormat(t, format)
		for _, v := range values {
			line := strings.NewReplacer("${bytes}", v, "${srcaddr}", "10.0.0.1", "${dstaddr}", "10.0.0.2",
				"${start}", "1700000000").Replace(format)
			t.Run(fmt.Sprintf("%s/%q", format, v), func(t *testing.T) {
				want, wantErr := parseUint([]byte(v), math.MaxUint64)
				if v == "-" {
					want, wantErr = 0, nil
				}
				p := NewParser(Options{Format: f})
				var rec flow.Record
				_, err := p.ParseLine([]byte(line), 1, &rec)
				switch {
				case wantErr != nil:
					if !errors.Is(err, wantErr) {
						t.Errorf("%q: error %v, want %v", line, err, wantErr)
					}
				case err != nil:
					t.Errorf("%q: error %v, want %d", line, err, want)
				case rec.Bytes != want:
					t.Errorf("%q: bytes %d, want %d", line, rec.Bytes, want)
				}
			})
		}
	}
}
