package gzindex

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/inflate"
	"github.com/google/go-cmp/cmp"
)

// flowLog returns n flow-log-like lines after a header line.
func flowLog(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	t := 1700000000
	for range n {
		t += r.IntN(3)
		fmt.Fprintf(&b, "2 123456789012 eni-0a1b2c3d4e5f6%04x 10.0.%d.%d 172.31.%d.%d %d %d 6 %d %d %d %d ACCEPT OK\n",
			r.IntN(16), r.IntN(4), r.IntN(256), r.IntN(8), r.IntN(256), 443, 1024+r.IntN(64000),
			1+r.IntN(100), 40+r.IntN(100000), t, t+60)
	}
	return b.Bytes()
}

// gzipMembers compresses each part as a member, flushing (a block boundary)
// every flush bytes when flush > 0.
func gzipMembers(t testing.TB, level, flush int, parts ...[]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, p := range parts {
		w, err := gzip.NewWriterLevel(&out, level)
		if err != nil {
			t.Fatal(err)
		}
		for len(p) > 0 {
			n := len(p)
			if flush > 0 {
				n = min(n, flush)
			}
			w.Write(p[:n])
			p = p[n:]
			if flush > 0 {
				w.Flush()
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

type object struct {
	name string
	data []byte
	comp []byte
}

func objects(t testing.TB) []object {
	text := flowLog(20000, 1)
	noNL := text[:len(text)-7]
	return []object{
		{"single", text, gzipMembers(t, 6, 0, text)},
		{"flushed", text, gzipMembers(t, 6, 3000, text)},
		{"multi", text, gzipMembers(t, 6, 5000, text[:1000], text[1000:1001], nil, text[1001:500000], text[500000:])},
		{"no-trailing-newline", noNL, gzipMembers(t, 1, 4000, noNL)},
		{"empty", nil, gzipMembers(t, 6, 0, nil)},
		{"header-only", text[:113], gzipMembers(t, 6, 0, text[:113])},
		{"no-newline", []byte("abc"), gzipMembers(t, 6, 0, []byte("abc"))},
		{"stored", text[:200000], gzipMembers(t, gzip.NoCompression, 0, text[:200000])},
	}
}

func checkIndex(t *testing.T, x *Index, o object, span int64) {
	t.Helper()
	d := o.data
	if x.Size != int64(len(d)) || x.CompressedSize != int64(len(o.comp)) || x.Span != span {
		t.Fatalf("size %d compressed %d span %d, want %d %d %d", x.Size, x.CompressedSize, x.Span, len(d), len(o.comp), span)
	}
	nl := int64(bytes.Count(d, []byte{'\n'}))
	lines := nl
	if len(d) > 0 && d[len(d)-1] != '\n' {
		lines++
	}
	if x.Newlines != nl || x.Lines != lines {
		t.Fatalf("newlines %d lines %d, want %d %d", x.Newlines, x.Lines, nl, lines)
	}
	first, _, _ := bytes.Cut(d, []byte{'\n'})
	if x.FirstLineLen != int64(len(first)) || !bytes.Equal(x.FirstLine, first[:min(len(first), MaxFirstLine)]) {
		t.Fatalf("first line %q (%d)", x.FirstLine, x.FirstLineLen)
	}
	if len(x.Checkpoints) == 0 || x.Checkpoints[0].Out != 0 {
		t.Fatal("no checkpoint at 0")
	}
	for i, c := range x.Checkpoints {
		if i > 0 && c.Out-x.Checkpoints[i-1].Out < span {
			t.Fatalf("checkpoint %d only %d bytes after the previous", i, c.Out-x.Checkpoints[i-1].Out)
		}
		if c.Lines != int64(bytes.Count(d[:c.Out], []byte{'\n'})) {
			t.Fatalf("checkpoint %d lines %d", i, c.Lines)
		}
		if c.LineStart != (c.Out == 0 || d[c.Out-1] == '\n') {
			t.Fatalf("checkpoint %d line start %v", i, c.LineStart)
		}
		if !bytes.Equal(c.Window, d[c.Out-int64(len(c.Window)):c.Out]) {
			t.Fatalf("checkpoint %d window", i)
		}
		if samples := map[bool]int{true: 3, false: 8}[testing.Short()]; len(x.Checkpoints) > samples && i%(len(x.Checkpoints)/samples) != 0 {
			continue
		}
		z, err := inflate.Resume(bytes.NewReader(o.comp[c.Bit/8:]), c.Point(), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(z)
		if err != nil || !bytes.Equal(got, d[c.Out:]) {
			t.Fatalf("resume at checkpoint %d: %v", i, err)
		}
	}
}

func TestBuild(t *testing.T) {
	for _, o := range objects(t) {
		for _, span := range []int64{1, 10000, 100000, DefaultSpan} {
			t.Run(fmt.Sprintf("%s/span%d", o.name, span), func(t *testing.T) {
				x, err := Build(bytes.NewReader(o.comp), &Options{Span: span})
				if err != nil {
					t.Fatal(err)
				}
				checkIndex(t, x, o, span)
				// Checkpoints are the first boundaries after each span.
				var all []int64
				z := inflate.NewReader(bytes.NewReader(o.comp), &inflate.Options{OnBlock: func(b inflate.Boundary) { all = append(all, b.Out) }})
				io.Copy(io.Discard, z)
				var want []int64
				for _, out := range all {
					if len(want) == 0 || out-want[len(want)-1] >= span {
						want = append(want, out)
					}
				}
				var got []int64
				for _, c := range x.Checkpoints {
					got = append(got, c.Out)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("checkpoint offsets (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestBuildLongFirstLine(t *testing.T) {
	d := append(bytes.Repeat([]byte("h"), 3*MaxFirstLine), "\nx\n"...)
	o := object{"long", d, gzipMembers(t, 6, 1000, d)}
	x, err := Build(bytes.NewReader(o.comp), &Options{Span: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkIndex(t, x, o, 1)
	roundTrip(t, x)
}

func TestBuildErrors(t *testing.T) {
	comp := gzipMembers(t, 6, 0, flowLog(1000, 2))
	for name, in := range map[string][]byte{
		"not-gzip":  []byte("2 123 eni-1 ...\n"),
		"truncated": comp[:len(comp)-3],
		"empty":     nil,
	} {
		if _, err := Build(bytes.NewReader(in), nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

var bytesEqual = cmp.Comparer(bytes.Equal)

func roundTrip(t *testing.T, x *Index) []byte {
	t.Helper()
	b, err := x.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var y Index
	if err := y.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(x, &y, bytesEqual); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
	for i, c := range x.Checkpoints {
		got, st, err := ReadCheckpoint(bytes.NewReader(b), i)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, got, bytesEqual); diff != "" {
			t.Fatalf("ReadCheckpoint(%d) (-want +got):\n%s", i, diff)
		}
		if st.Checkpoints != len(x.Checkpoints) || st.Size != x.Size || st.Lines != x.Lines {
			t.Fatalf("stat %+v", st)
		}
	}
	return b
}

func TestMarshal(t *testing.T) {
	for _, o := range objects(t) {
		t.Run(o.name, func(t *testing.T) {
			x, err := Build(bytes.NewReader(o.comp), &Options{Span: 20000})
			if err != nil {
				t.Fatal(err)
			}
			b := roundTrip(t, x)
			b2, _ := x.MarshalBinary()
			if !bytes.Equal(b, b2) {
				t.Fatal("marshal is not deterministic")
			}
			if _, _, err := ReadCheckpoint(bytes.NewReader(b), len(x.Checkpoints)); err == nil {
				t.Fatal("checkpoint past the end accepted")
			}
		})
	}
}

func TestUnmarshalCorrupt(t *testing.T) {
	o := objects(t)[1]
	x, err := Build(bytes.NewReader(o.comp), &Options{Span: 400000})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := x.MarshalBinary()
	// Every single-byte change in header, records and first line, and a
	// sample in the windows, is rejected with ErrFormat.
	for i := 0; i < len(b); i++ {
		if i > 1000 && i%499 != 0 {
			continue
		}
		c := bytes.Clone(b)
		c[i] ^= 0x10
		var y Index
		err := y.UnmarshalBinary(c)
		if !errors.Is(err, ErrFormat) {
			t.Fatalf("byte %d changed: error %v", i, err)
		}
	}
	for _, n := range []int{0, 10, headerSize, headerSize + 10, len(b) - 1} {
		var y Index
		if err := y.UnmarshalBinary(b[:n]); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated to %d: error %v", n, err)
		}
	}
	if err := new(Index).UnmarshalBinary(append(bytes.Clone(b), 0)); !errors.Is(err, ErrFormat) {
		t.Fatalf("trailing byte: %v", err)
	}
	v := bytes.Clone(b)
	v[8] = 2
	if err := new(Index).UnmarshalBinary(v); err == nil || !bytes.Contains([]byte(err.Error()), []byte("version 2")) {
		t.Fatalf("version: %v", err)
	}
}

var update = flag.Bool("update", false, "rewrite testdata")

// TestFuzzSeed keeps a stored index of a small object in the FuzzUnmarshal
// seed corpus; go test ./shared/gzindex -run TestFuzzSeed -update rewrites
// it (compress/flate output, hence the bytes, may change between Go releases).
func TestFuzzSeed(t *testing.T) {
	d := flowLog(300, 9)
	x, err := Build(bytes.NewReader(gzipMembers(t, 6, 8000, d[:20000], d[20000:])), &Options{Span: 10000})
	if err != nil {
		t.Fatal(err)
	}
	b, err := x.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "fuzz", "FuzzUnmarshal", "small-index")
	want := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, d := range [][]byte{nil, []byte("a\nb"), flowLog(40, 1)} {
		x, err := Build(bytes.NewReader(gzipMembers(f, 6, 1000, d)), &Options{Span: 1000})
		if err != nil {
			f.Fatal(err)
		}
		b, _ := x.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var x Index
		if err := x.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v is not ErrFormat", err)
			}
			return
		}
		b2, err := x.MarshalBinary()
		if err != nil {
			t.Fatalf("accepted index does not marshal: %v", err)
		}
		var y Index
		if err := y.UnmarshalBinary(b2); err != nil {
			t.Fatal(err)
		}
		for i := range x.Checkpoints {
			if _, _, err := ReadCheckpoint(bytes.NewReader(b), i); err != nil {
				t.Fatalf("ReadCheckpoint(%d) of an accepted index: %v", i, err)
			}
		}
	})
}

var benchObj = sync.OnceValues(func() ([]byte, []byte) {
	var tb testing.B
	d := flowLog(150000, 3) // ~20 MB
	return d, gzipMembers(&tb, 6, 0, d)
})

// BenchmarkBuild is the index pass; compare with BenchmarkStdlibGunzip on
// the same data (target: at least 0.9x its MB/s).
func BenchmarkBuild(b *testing.B) {
	d, comp := benchObj()
	b.SetBytes(int64(len(d)))
	var x *Index
	for b.Loop() {
		var err error
		x, err = Build(bytes.NewReader(comp), &Options{Span: 1 << 20})
		if err != nil {
			b.Fatal(err)
		}
	}
	m, _ := x.MarshalBinary()
	b.ReportMetric(float64(len(m))/float64(len(x.Checkpoints)), "indexB/checkpoint")
}

func BenchmarkStdlibGunzip(b *testing.B) {
	d, comp := benchObj()
	b.SetBytes(int64(len(d)))
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
