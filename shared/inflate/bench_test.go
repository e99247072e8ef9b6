package inflate

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"sync"
	"testing"
)

var benchData = sync.OnceValue(func() []byte { return flowLog(16<<20, 42) })

var benchComp sync.Map // "raw/level" or "gzip/level" -> []byte

func benchInput(b *testing.B, raw bool, level int) []byte {
	key := fmt.Sprint(raw, level)
	if v, ok := benchComp.Load(key); ok {
		return v.([]byte)
	}
	var c []byte
	if raw {
		c = deflateRaw(b, level, benchData())
	} else {
		c = gz(b, level, benchData())
	}
	benchComp.Store(key, c)
	return c
}

// BenchmarkInflate decodes raw deflate of flow-log text with this package;
// compare MB/s with BenchmarkStdlibFlate.
func BenchmarkInflate(b *testing.B) {
	for _, level := range []int{1, 6, 9} {
		b.Run(fmt.Sprintf("level%d", level), func(b *testing.B) {
			comp := benchInput(b, true, level)
			b.SetBytes(int64(len(benchData())))
			z := NewReader(nil, &Options{Raw: true})
			for b.Loop() {
				*z = *NewReader(bytes.NewReader(comp), &Options{Raw: true})
				if _, err := io.Copy(io.Discard, z); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkStdlibFlate(b *testing.B) {
	for _, level := range []int{1, 6, 9} {
		b.Run(fmt.Sprintf("level%d", level), func(b *testing.B) {
			comp := benchInput(b, true, level)
			b.SetBytes(int64(len(benchData())))
			r := flate.NewReader(nil)
			for b.Loop() {
				r.(flate.Resetter).Reset(bytes.NewReader(comp), nil)
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGunzip includes the CRC-32 check; compare with BenchmarkStdlibGunzip.
func BenchmarkGunzip(b *testing.B) {
	comp := benchInput(b, false, 6)
	b.SetBytes(int64(len(benchData())))
	for b.Loop() {
		if _, err := io.Copy(io.Discard, NewReader(bytes.NewReader(comp), nil)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStdlibGunzip(b *testing.B) {
	comp := benchInput(b, false, 6)
	b.SetBytes(int64(len(benchData())))
	for b.Loop() {
		r, err := gzip.NewReader(bytes.NewReader(comp))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
