package inflate

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"io"
	"testing"
)

const fuzzMaxOut = 64 << 20

func fuzzSeeds(f *testing.F, raw bool) {
	text := flowLog(3000, 1)
	for _, level := range []int{gzip.HuffmanOnly, gzip.NoCompression, 1, 6, 9} {
		for _, d := range [][]byte{nil, text[:1], text[:200], text, randomBytes(500, 1)} {
			if raw {
				f.Add(deflateRaw(f, level, d))
			} else {
				f.Add(gz(f, level, d))
			}
		}
	}
	if !raw {
		f.Add(gz(f, 6, text[:100], text[100:]))
		f.Add([]byte{})
		f.Add([]byte{0x1f, 0x8b, 8, 0x1e, 0, 0, 0, 0, 0, 3, 2, 0, 'x', 'y', 'n', 0, 'c', 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	}
}

func readCapped(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, fuzzMaxOut+1))
	if err == nil && len(b) > fuzzMaxOut {
		return nil, errors.New("output too large")
	}
	return b, err
}

// FuzzInflate checks that the gzip Reader and compress/gzip agree: same
// output, or both fail. It must never panic.
func FuzzInflate(f *testing.F) {
	fuzzSeeds(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		var want []byte
		var stdErr error
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			stdErr = err
		} else {
			want, stdErr = readCapped(zr)
		}
		got, err := readCapped(NewReader(bytes.NewReader(data), nil))
		if stdErr != nil && stdErr.Error() == "output too large" || err != nil && err.Error() == "output too large" {
			t.Skip()
		}
		if (err == nil) != (stdErr == nil) {
			t.Fatalf("inflate error %v, compress/gzip error %v", err, stdErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("output differs: %d bytes, compress/gzip %d", len(got), len(want))
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
		}
	})
}

// FuzzInflateRaw does the same for raw deflate against compress/flate.
func FuzzInflateRaw(f *testing.F) {
	fuzzSeeds(f, true)
	f.Fuzz(func(t *testing.T, data []byte) {
		want, stdErr := readCapped(flate.NewReader(bytes.NewReader(data)))
		got, err := readCapped(NewReader(bytes.NewReader(data), &Options{Raw: true}))
		if stdErr != nil && stdErr.Error() == "output too large" || err != nil && err.Error() == "output too large" {
			t.Skip()
		}
		if (err == nil) != (stdErr == nil) {
			t.Fatalf("inflate error %v, compress/flate error %v", err, stdErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("output differs: %d bytes, compress/flate %d", len(got), len(want))
		}
	})
}

// FuzzResume starts decoding at arbitrary bit offsets of arbitrary input
// with an arbitrary window: errors are fine, panics are not.
func FuzzResume(f *testing.F) {
	text := flowLog(3000, 2)
	f.Add(gz(f, 6, text), uint16(80), uint16(0))
	f.Add(deflateRaw(f, 1, text), uint16(3), uint16(100))
	f.Fuzz(func(t *testing.T, data []byte, bit, winLen uint16) {
		if int(bit)/8 > len(data) {
			return
		}
		win := bytes.Repeat([]byte("ab\n"), int(winLen)%WindowSize/3+1)
		for _, raw := range []bool{false, true} {
			z, err := Resume(bytes.NewReader(data[bit/8:]), Point{Bit: int64(bit), Out: int64(len(win)), Window: win}, &Options{Raw: raw})
			if err != nil {
				t.Fatal(err)
			}
			_, err = readCapped(z)
			var e *Error
			if err != nil && err.Error() != "output too large" && !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
		}
	})
}
