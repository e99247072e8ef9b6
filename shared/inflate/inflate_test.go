package inflate

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// flowLog returns about n bytes of VPC-flow-log-like text (whole lines).
func flowLog(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	t := 1700000000
	for b.Len() < n {
		t += r.IntN(3)
		act := "ACCEPT"
		if r.IntN(10) == 0 {
			act = "REJECT"
		}
		fmt.Fprintf(&b, "2 123456789012 eni-0a1b2c3d4e5f6%04x 10.0.%d.%d 172.31.%d.%d %d %d %d %d %d %d %d %s OK\n",
			r.IntN(16), r.IntN(4), r.IntN(256), r.IntN(8), r.IntN(256),
			[]int{443, 80, 22, 53, 8080}[r.IntN(5)], 1024+r.IntN(64000), []int{6, 17, 1}[r.IntN(3)],
			1+r.IntN(100), 40+r.IntN(100000), t, t+60, act)
	}
	return b.Bytes()[:n]
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func gz(t testing.TB, level int, data ...[]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, d := range data {
		w, err := gzip.NewWriterLevel(&out, level)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(d)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

func deflateRaw(t testing.TB, level int, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := flate.NewWriter(&out, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func stdGunzip(b []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func ourGunzip(b []byte, opt *Options) ([]byte, error) {
	return io.ReadAll(NewReader(bytes.NewReader(b), opt))
}

type corpusCase struct {
	name string
	data []byte
}

func corpusData() []corpusCase {
	text := flowLog(300<<10, 1)
	var cases []corpusCase
	for _, n := range []int{0, 1, 2, 100, 32<<10 - 1, 32 << 10, 32<<10 + 1, 64<<10 - 1, 64 << 10, 64<<10 + 1, 300 << 10} {
		cases = append(cases, corpusCase{fmt.Sprintf("text%d", n), text[:n]})
	}
	for _, n := range []int{1, 1000, 32<<10 + 7, 64<<10 + 1, 200 << 10} {
		cases = append(cases, corpusCase{fmt.Sprintf("random%d", n), randomBytes(n, uint64(n))})
	}
	cases = append(cases,
		corpusCase{"zeros100k", make([]byte, 100<<10)},
		corpusCase{"abab", bytes.Repeat([]byte("ab"), 70000)},
		corpusCase{"mixed", append(append([]byte{}, text[:50000]...), randomBytes(50000, 9)...)},
	)
	return cases
}

var levels = []int{gzip.HuffmanOnly, gzip.NoCompression, 1, 2, 3, 4, 5, 6, 7, 8, 9}

func TestGzipMatchesStdlib(t *testing.T) {
	for _, c := range corpusData() {
		for _, level := range levels {
			t.Run(fmt.Sprintf("%s/level%d", c.name, level), func(t *testing.T) {
				comp := gz(t, level, c.data)
				want, err := stdGunzip(comp)
				if err != nil {
					t.Fatalf("stdlib: %v", err)
				}
				got, err := ourGunzip(comp, nil)
				if err != nil {
					t.Fatalf("inflate: %v", err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("output differs: got %d bytes, want %d", len(got), len(want))
				}
			})
		}
	}
}

func TestRawMatchesStdlib(t *testing.T) {
	for _, c := range corpusData() {
		for _, level := range levels {
			comp := deflateRaw(t, level, c.data)
			got, err := io.ReadAll(NewReader(bytes.NewReader(comp), &Options{Raw: true}))
			if err != nil {
				t.Fatalf("%s level %d: %v", c.name, level, err)
			}
			if !bytes.Equal(got, c.data) {
				t.Fatalf("%s level %d: output differs", c.name, level)
			}
		}
	}
}

func TestReadPatterns(t *testing.T) {
	data := flowLog(400<<10, 3)
	comp := gz(t, 6, data[:150<<10], data[150<<10:])
	readers := map[string]func(io.Reader) io.Reader{
		"one-byte-reads":  iotest.OneByteReader,
		"half-reads":      iotest.HalfReader,
		"data-err":        iotest.DataErrReader,
		"plain":           func(r io.Reader) io.Reader { return r },
		"one-byte-output": nil,
	}
	for name, wrap := range readers {
		t.Run(name, func(t *testing.T) {
			var got []byte
			var err error
			if wrap == nil {
				z := NewReader(bytes.NewReader(comp), nil)
				got, err = io.ReadAll(iotest.OneByteReader(z))
			} else {
				got, err = io.ReadAll(NewReader(wrap(bytes.NewReader(comp)), nil))
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatal("output differs")
			}
		})
	}
}

func TestNext(t *testing.T) {
	data := flowLog(500<<10, 4)
	z := NewReader(bytes.NewReader(gz(t, 6, data)), nil)
	var got []byte
	for i := 1; ; i++ {
		b, err := z.Next(i * 97)
		if len(b) > i*97 {
			t.Fatalf("Next(%d) returned %d bytes", i*97, len(b))
		}
		got = append(got, b...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatal("output differs")
	}
	if z.Offset() != int64(len(data)) {
		t.Fatalf("Offset() = %d, want %d", z.Offset(), len(data))
	}
}

func TestMultiMember(t *testing.T) {
	text := flowLog(100<<10, 5)
	parts := [][]byte{text[:10], {}, text[10:40000], text[40000:], {}}
	comp := gz(t, 6, parts...)
	got, err := ourGunzip(comp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, text) {
		t.Fatal("output differs")
	}
}

// header builds a gzip member header with the given flags and fields.
func header(flg byte, extra []byte, name, comment string, badHCRC bool) []byte {
	h := []byte{0x1f, 0x8b, 8, flg, 1, 2, 3, 4, 0, 3}
	if flg&flagExtra != 0 {
		h = binary.LittleEndian.AppendUint16(h, uint16(len(extra)))
		h = append(h, extra...)
	}
	if flg&flagName != 0 {
		h = append(append(h, name...), 0)
	}
	if flg&flagComm != 0 {
		h = append(append(h, comment...), 0)
	}
	if flg&flagHCRC != 0 {
		c := uint16(crc32.ChecksumIEEE(h))
		if badHCRC {
			c++
		}
		h = binary.LittleEndian.AppendUint16(h, c)
	}
	return h
}

func member(t *testing.T, hdr, data []byte) []byte {
	t.Helper()
	b := append([]byte{}, hdr...)
	b = append(b, deflateRaw(t, 6, data)...)
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(data))
	return binary.LittleEndian.AppendUint32(b, uint32(len(data)))
}

func TestHeaders(t *testing.T) {
	data := []byte("hello, flow logs\n")
	cases := []struct {
		name    string
		input   []byte
		wantErr error
	}{
		{"plain", member(t, header(0, nil, "", "", false), data), nil},
		{"all-fields", member(t, header(flagExtra|flagName|flagComm|flagHCRC|1, []byte("AB\x02\x00xy"), "f.log", "a comment é", false), data), nil},
		{"empty-extra", member(t, header(flagExtra, nil, "", "", false), data), nil},
		{"name-511", member(t, header(flagName, nil, strings.Repeat("n", 511), "", false), data), nil},
		{"name-512", member(t, header(flagName, nil, strings.Repeat("n", 512), "", false), data), ErrHeader},
		{"bad-hcrc", member(t, header(flagHCRC|flagName, nil, "x", "", true), data), ErrHeader},
		{"bad-magic", append([]byte{0x1f, 0x8c}, member(t, header(0, nil, "", "", false), data)[2:]...), ErrHeader},
		{"bad-method", append([]byte{0x1f, 0x8b, 7}, member(t, header(0, nil, "", "", false), data)[3:]...), ErrHeader},
		{"trailing-garbage", append(member(t, header(0, nil, "", "", false), data), make([]byte, 12)...), ErrHeader},
		{"trailing-partial-header", append(member(t, header(0, nil, "", "", false), data), 0x1f), io.ErrUnexpectedEOF},
		{"empty", nil, io.ErrUnexpectedEOF},
		{"bad-crc", func() []byte { b := member(t, header(0, nil, "", "", false), data); b[len(b)-6]++; return b }(), ErrChecksum},
		{"bad-size", func() []byte { b := member(t, header(0, nil, "", "", false), data); b[len(b)-1]++; return b }(), ErrChecksum},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stdErr := stdGunzip(c.input)
			got, err := ourGunzip(c.input, nil)
			if (stdErr == nil) != (err == nil) {
				t.Fatalf("inflate error %v, stdlib error %v", err, stdErr)
			}
			if c.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("got %q", got)
				}
				return
			}
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("error %v, want %v", err, c.wantErr)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
		})
	}
}

func TestCorruptAndTruncated(t *testing.T) {
	data := flowLog(200<<10, 6)
	comp := gz(t, 6, data)
	// Every truncation is an error naming the offset.
	for _, n := range []int{1, 5, 10, 11, 20, 100, 1000, len(comp) / 2, len(comp) - 9, len(comp) - 8, len(comp) - 1} {
		_, err := ourGunzip(comp[:n], nil)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("truncated at %d: error %v, want unexpected EOF", n, err)
		}
	}
	// Flipped bits: both decoders fail, or both succeed identically.
	r := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 300; i++ {
		b := append([]byte{}, comp...)
		p := 10 + r.IntN(len(b)-10)
		b[p] ^= 1 << r.IntN(8)
		want, stdErr := stdGunzip(b)
		got, err := ourGunzip(b, nil)
		if (stdErr == nil) != (err == nil) || (err == nil && !bytes.Equal(got, want)) {
			t.Fatalf("flip at byte %d: inflate %v, stdlib %v", p, err, stdErr)
		}
		if err != nil && !strings.Contains(err.Error(), "compressed byte") {
			t.Fatalf("error %q names no offset", err)
		}
	}
}

func TestErrorOffset(t *testing.T) {
	// A stored-block length that does not match its complement at byte 10.
	b := append(header(0, nil, "", "", false), 0x01, 0x05, 0x00, 0xfa, 0xfe)
	_, err := ourGunzip(b, nil)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("error %v, want *Error with ErrCorrupt", err)
	}
	if e.Bit != 11*8 {
		t.Fatalf("error at bit %d, want %d (%v)", e.Bit, 11*8, err)
	}
	// Block type 3 at byte 10.
	b = append(header(0, nil, "", "", false), 0x07)
	_, err = ourGunzip(b, nil)
	if !errors.As(err, &e) || e.Bit != 80 || !strings.Contains(err.Error(), "block type 3") {
		t.Fatalf("error %v", err)
	}
}

type boundary struct {
	Boundary
	win []byte
}

func collect(t *testing.T, comp []byte, raw bool) ([]byte, []boundary) {
	t.Helper()
	var bs []boundary
	opt := &Options{Raw: raw, OnBlock: func(b Boundary) {
		bs = append(bs, boundary{b, append([]byte{}, b.Window...)})
	}}
	out, err := io.ReadAll(NewReader(bytes.NewReader(comp), opt))
	if err != nil {
		t.Fatal(err)
	}
	return out, bs
}

func TestBoundariesAndResume(t *testing.T) {
	text := flowLog(600<<10, 8)
	cases := map[string][]byte{
		"level1":  gz(t, 1, text),
		"level6":  gz(t, 6, text),
		"level9":  gz(t, 9, text),
		"huffman": gz(t, gzip.HuffmanOnly, text),
		"stored":  gz(t, gzip.NoCompression, text),
		"random":  gz(t, 6, randomBytes(300<<10, 3)),
		"multi":   gz(t, 6, text[:1000], text[1000:300000], text[300000:]),
	}
	for name, comp := range cases {
		t.Run(name, func(t *testing.T) {
			full, bs := collect(t, comp, false)
			if len(bs) < 3 {
				t.Fatalf("only %d blocks", len(bs))
			}
			for i, b := range bs {
				if b.Out > int64(len(full)) || len(b.win) > WindowSize || b.Out < int64(len(b.win)) {
					t.Fatalf("boundary %d: %+v", i, b.Boundary)
				}
				if !bytes.Equal(b.win, full[b.Out-int64(len(b.win)):b.Out]) {
					t.Fatalf("boundary %d: window is not the output before Out", i)
				}
				if b.Out > 0 && b.Prev != int(full[b.Out-1]) || b.Out == 0 && b.Prev != -1 {
					t.Fatalf("boundary %d: Prev %d", i, b.Prev)
				}
				if i > 0 && (b.Bit <= bs[i-1].Bit || b.Out < bs[i-1].Out) {
					t.Fatalf("boundary %d not after %d", i, i-1)
				}
			}
			for i, b := range bs {
				if i%3 != 0 && i != len(bs)-1 {
					continue
				}
				z, err := Resume(bytes.NewReader(comp[b.Bit/8:]), Point{Bit: b.Bit, Out: b.Out, Window: b.win}, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(z)
				if err != nil {
					t.Fatalf("resume at boundary %d (bit %d): %v", i, b.Bit, err)
				}
				if !bytes.Equal(got, full[b.Out:]) {
					t.Fatalf("resume at boundary %d: got %d bytes, want %d", i, len(got), len(full)-int(b.Out))
				}
			}
		})
	}
}

func TestResumeRaw(t *testing.T) {
	text := flowLog(300<<10, 9)
	comp := deflateRaw(t, 6, text)
	full, bs := collect(t, comp, true)
	if !bytes.Equal(full, text) {
		t.Fatal("output differs")
	}
	b := bs[len(bs)/2]
	z, err := Resume(bytes.NewReader(comp[b.Bit/8:]), Point{b.Bit, b.Out, b.win}, &Options{Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(z)
	if err != nil || !bytes.Equal(got, text[b.Out:]) {
		t.Fatalf("resume: %v", err)
	}
}

func TestResumeCorruptNextMember(t *testing.T) {
	text := flowLog(200<<10, 10)
	comp := gz(t, 6, text[:150000], text[150000:])
	_, bs := collect(t, comp, false)
	b := bs[1]
	comp[len(comp)-5]++ // size of the second member
	z, _ := Resume(bytes.NewReader(comp[b.Bit/8:]), Point{b.Bit, b.Out, b.win}, nil)
	if _, err := io.ReadAll(z); !errors.Is(err, ErrChecksum) {
		t.Fatalf("error %v, want checksum error of the member read whole", err)
	}
}

func TestResumeInvalid(t *testing.T) {
	if _, err := Resume(bytes.NewReader(nil), Point{Bit: -1}, nil); err == nil {
		t.Fatal("negative bit accepted")
	}
	if _, err := Resume(bytes.NewReader(nil), Point{Out: 1 << 20, Window: make([]byte, WindowSize+1)}, nil); err == nil {
		t.Fatal("oversize window accepted")
	}
	z, _ := Resume(bytes.NewReader(nil), Point{Bit: 83, Out: 5}, nil)
	if _, err := io.ReadAll(z); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("error %v", err)
	}
}

func TestDistanceBeyondHistory(t *testing.T) {
	// Fixed block: literal 'a', then length 3 distance 2 (only 1 byte of history).
	var bw bitWriter
	bw.put(1, 1) // final
	bw.put(1, 2) // fixed
	bw.code(0x30+'a', 8)
	bw.code(1, 7) // length symbol 257 = 3: code 0000001
	bw.code(1, 5) // distance symbol 1 = 2
	bw.code(0, 7) // end of block
	_, err := io.ReadAll(NewReader(bytes.NewReader(bw.bytes()), &Options{Raw: true}))
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "distance 2") {
		t.Fatalf("error %v", err)
	}
	_, stdErr := io.ReadAll(flate.NewReader(bytes.NewReader(bw.bytes())))
	if stdErr == nil {
		t.Fatal("stdlib accepted it")
	}
}

type bitWriter struct {
	b  []byte
	nb uint
}

func (w *bitWriter) put(v uint32, n uint) {
	for i := uint(0); i < n; i++ {
		if w.nb%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (w.nb % 8)
		w.nb++
	}
}

// code writes a Huffman code MSB first.
func (w *bitWriter) code(c uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.put(c>>uint(i)&1, 1)
	}
}

func (w *bitWriter) bytes() []byte { return w.b }

func TestWriteTo(t *testing.T) {
	data := flowLog(700<<10, 11)
	var buf bytes.Buffer
	n, err := NewReader(bytes.NewReader(gz(t, 6, data)), nil).WriteTo(&buf)
	if err != nil || n != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("WriteTo: %d, %v", n, err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	comp := gz(t, 6, flowLog(100<<10, 12))
	r := io.MultiReader(bytes.NewReader(comp[:5000]), errReader{boom})
	_, err := io.ReadAll(NewReader(r, nil))
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want the read error", err)
	}
}
