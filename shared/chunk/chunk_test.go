package chunk

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

const testHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// flowLog returns a header line and n flow-log-like lines.
func flowLog(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	b.Grow(n * 120)
	b.WriteString(testHeader + "\n")
	t := 1700000000
	for range n {
		t += r.IntN(3)
		act := "ACCEPT"
		if r.IntN(8) == 0 {
			act = "REJECT"
		}
		fmt.Fprintf(&b, "2 123456789012 eni-0a1b2c3d4e5f6%04x 10.0.%d.%d 172.31.%d.%d %d %d 6 %d %d %d %d %s OK\n",
			r.IntN(16), r.IntN(4), r.IntN(256), r.IntN(8), r.IntN(256), 443, 1024+r.IntN(64000),
			1+r.IntN(100), 40+r.IntN(100000), t, t+60, act)
	}
	return b.Bytes()
}

func isHeader(l []byte) bool { return bytes.HasPrefix(l, []byte("version ")) }

// gzipParts compresses each part as a gzip member, flushing (a deflate
// block boundary) every flush bytes when flush > 0.
func gzipParts(t testing.TB, level, flush int, parts ...[]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, p := range parts {
		w, _ := gzip.NewWriterLevel(&out, level)
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

// refLines splits data into lines: start offsets.
func refLines(data []byte) []int64 {
	var starts []int64
	for p := 0; p < len(data); {
		starts = append(starts, int64(p))
		i := bytes.IndexByte(data[p:], '\n')
		if i < 0 {
			break
		}
		p += i + 1
	}
	return starts
}

func lineAt(data []byte, start int64) []byte {
	l := data[start:]
	if i := bytes.IndexByte(l, '\n'); i >= 0 {
		l = l[:i]
	}
	return l
}

// checkChunks plans comp (whose uncompressed content is data), reads every
// chunk and checks that their concatenation is the single-pass line list.
func checkChunks(t *testing.T, data, comp []byte, opt Options) *Plan {
	t.Helper()
	ctx := t.Context()
	src := BytesSource(comp)
	p, idx, err := NewPlan(ctx, src, opt)
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	var index Source
	if idx != nil {
		b, err := idx.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		index = BytesSource(b)
	}
	if p.Indexed != (idx != nil) {
		t.Fatalf("Indexed %v with index %v", p.Indexed, idx != nil)
	}
	js, _ := json.Marshal(p)
	var p2 Plan
	if err := json.Unmarshal(js, &p2); err != nil {
		t.Fatal(err)
	}
	if len(p.Items) > max(opt.MaxChunks, 1) && opt.MaxChunks > 0 || len(p.Items) > DefaultMaxChunks && opt.MaxChunks <= 0 {
		t.Fatalf("%d chunks", len(p.Items))
	}
	if int64(len(js)) > int64(len(p.Items))*200+500 {
		t.Fatalf("plan JSON of %d bytes for %d items", len(js), len(p.Items))
	}
	ref := refLines(data)
	k := 0
	if p.Header != nil {
		if len(ref) == 0 || p.Header.Line != string(lineAt(data, 0)) || p.Header.Len != int64(len(p.Header.Line)) {
			t.Fatalf("header %+v", p.Header)
		}
		k = 1
	} else if opt.IsHeader != nil && len(ref) > 0 && opt.IsHeader(lineAt(data, 0)) && len(lineAt(data, 0)) <= MaxHeaderLen {
		t.Fatal("header not detected")
	}
	if p.Lines >= 0 && p.Lines != int64(len(ref)) {
		t.Fatalf("plan lines %d, want %d", p.Lines, len(ref))
	}
	for n, it := range p2.Items {
		if it.N != n {
			t.Fatalf("item %d numbered %d", n, it.N)
		}
		r, err := Open(ctx, src, it, index, &ReaderOptions{MaxLineLen: 1 << 20}) // the test objects have a 70000-byte line
		if err != nil {
			t.Fatalf("Open chunk %d: %v", n, err)
		}
		for l, err := range r.All() {
			if err != nil {
				t.Fatalf("chunk %d (%+v): %v", n, it, err)
			}
			if k >= len(ref) {
				t.Fatalf("chunk %d: extra line at offset %d: %q", n, l.Offset, l.Text)
			}
			if l.Offset != ref[k] || !bytes.Equal(l.Text, lineAt(data, ref[k])) {
				t.Fatalf("chunk %d (%+v): line at offset %d %q, want line %d at %d %q", n, it, l.Offset, l.Text, k+1, ref[k], lineAt(data, ref[k]))
			}
			if l.Number != int64(k+1) && (l.Number != 0 || it.Kind == Gzip || n == 0) {
				t.Fatalf("chunk %d: line %d numbered %d", n, k+1, l.Number)
			}
			k++
		}
		r.Close()
	}
	if k != len(ref) {
		t.Fatalf("read %d lines of %d (%d chunks)", k, len(ref), len(p.Items))
	}
	return p
}

type testObject struct {
	name string
	data []byte
	comp []byte
}

func testObjects(t testing.TB) []testObject {
	text := flowLog(4000, 1)
	noNL := text[:len(text)-5]
	crlf := bytes.ReplaceAll(text[:100000], []byte("\n"), []byte("\r\n"))
	blank := []byte("\n\n" + testHeader + "\n\nx\n\n\ny")
	long := append(bytes.Repeat([]byte("z"), 70000), text...)
	return []testObject{
		{"gzip-single", text, gzipParts(t, 6, 0, text)},
		{"gzip-flushed", text, gzipParts(t, 6, 700, text)},
		{"gzip-multi", text, gzipParts(t, 6, 1500, text[:100], text[100:133], nil, text[133:200000], text[200000:])},
		{"gzip-members-per-line", text[:20000], gzipParts(t, 1, 0, bytes.SplitAfter(text[:20000], []byte("\n"))...)},
		{"gzip-no-trailing-newline", noNL, gzipParts(t, 6, 900, noNL)},
		{"gzip-empty", nil, gzipParts(t, 6, 0, nil)},
		{"gzip-header-only", []byte(testHeader + "\n"), gzipParts(t, 6, 0, []byte(testHeader+"\n"))},
		{"gzip-header-only-no-newline", []byte(testHeader), gzipParts(t, 6, 0, []byte(testHeader))},
		{"gzip-crlf", crlf, gzipParts(t, 9, 1000, crlf)},
		{"gzip-blank-lines", blank, gzipParts(t, 6, 0, blank)},
		{"gzip-long-first-line", long, gzipParts(t, 6, 5000, long)},
		{"gzip-stored", text[:60000], gzipParts(t, gzip.NoCompression, 1000, text[:60000])},
		{"text", text, text},
		{"text-no-trailing-newline", noNL, noNL},
		{"text-empty", nil, nil},
		{"text-header-only", []byte(testHeader + "\n"), []byte(testHeader + "\n")},
		{"text-crlf", crlf, crlf},
		{"text-blank-lines", blank, blank},
		{"text-one-byte", []byte("x"), []byte("x")},
		{"text-newline", []byte("\n"), []byte("\n")},
	}
}

func TestChunksEqualSinglePass(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, o := range testObjects(t) {
		sizes := []int64{1024, 1024 + r.Int64N(4096), 1024 + r.Int64N(64<<10), 1 << 20}
		if testing.Short() {
			sizes = sizes[1:3]
		}
		for _, cs := range sizes {
			for _, hdr := range []bool{true, false} {
				opt := Options{ChunkSize: cs, SmallObject: -1, MaxChunks: 100000, Span: max(cs/2, 1)}
				if hdr {
					opt.IsHeader = isHeader
				}
				t.Run(fmt.Sprintf("%s/chunk%d/header%v", o.name, cs, hdr), func(t *testing.T) {
					checkChunks(t, o.data, o.comp, opt)
				})
			}
		}
		t.Run(o.name+"/small", func(t *testing.T) {
			p := checkChunks(t, o.data, o.comp, Options{IsHeader: isHeader})
			if len(p.Items) != 1 || p.Indexed {
				t.Fatalf("small object: %d items, indexed %v", len(p.Items), p.Indexed)
			}
		})
		t.Run(o.name+"/maxchunks", func(t *testing.T) {
			p := checkChunks(t, o.data, o.comp, Options{ChunkSize: 1024, SmallObject: -1, Span: 512, MaxChunks: 7, IsHeader: isHeader})
			if len(p.Items) > 7 {
				t.Fatalf("%d chunks", len(p.Items))
			}
		})
	}
}

func TestLargeLogs(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	data := flowLog(n, 7)
	comp := gzipParts(t, 1, 0, data[:len(data)/3], data[len(data)/3:])
	r := rand.New(rand.NewPCG(3, 4))
	for i, cs := range []int64{1024, 1024 + r.Int64N(1<<20), 1024 + r.Int64N(16<<20)} {
		opt := Options{ChunkSize: cs, SmallObject: -1, Span: 1 << 20, MaxChunks: 64, IsHeader: isHeader}
		t.Run(fmt.Sprintf("gzip/%d/chunk%d", i, cs), func(t *testing.T) { checkChunks(t, data, comp, opt) })
		t.Run(fmt.Sprintf("text/%d/chunk%d", i, cs), func(t *testing.T) { checkChunks(t, data, data, opt) })
	}
}

func TestPlanKinds(t *testing.T) {
	text := flowLog(3000, 5)
	comp := gzipParts(t, 6, 2000, text)
	ctx := context.Background()
	p, idx, err := NewPlan(ctx, BytesSource(comp), Options{ChunkSize: 50000, SmallObject: 1000, IsHeader: isHeader})
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != Gzip || idx == nil || !p.Indexed || p.USize != int64(len(text)) || p.Header == nil || p.Header.Line != testHeader {
		t.Fatalf("plan %+v", p)
	}
	if p.Items[0].Start != int64(len(testHeader)+1) || p.Items[0].Lines != 0 {
		t.Fatalf("chunk 0 %+v", p.Items[0])
	}
	for i, it := range p.Items {
		if i > 0 && (it.Start != p.Items[i-1].End || it.From > p.Items[i-1].To) {
			t.Fatalf("items %d and %d: %+v %+v", i-1, i, p.Items[i-1], it)
		}
		if c := idx.Checkpoints[it.CP]; c.Bit != it.Bit || c.Out != it.Out || it.From != c.Bit/8 {
			t.Fatalf("item %d does not match checkpoint %d", i, it.CP)
		}
	}
	p, idx, err = NewPlan(ctx, BytesSource(text), Options{ChunkSize: 50000, SmallObject: 1000})
	if err != nil || p.Kind != Text || idx != nil || p.Header != nil || len(p.Items) != (len(text)+49999)/50000 {
		t.Fatalf("text plan %+v, %v", p, err)
	}
	js, _ := json.Marshal(p.Items[1])
	if len(js) > 120 {
		t.Fatalf("item JSON %s", js)
	}
	t.Logf("item JSON: %s", js)
}

func TestOpenErrors(t *testing.T) {
	text := flowLog(3000, 6)
	comp := gzipParts(t, 6, 2000, text)
	ctx := t.Context()
	p, idx, err := NewPlan(ctx, BytesSource(comp), Options{ChunkSize: 50000, SmallObject: -1})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := idx.MarshalBinary()
	it := p.Items[2]
	if _, err := Open(ctx, BytesSource(comp), it, nil, nil); !errors.Is(err, ErrIndex) {
		t.Fatalf("no index: %v", err)
	}
	bad := it
	bad.Bit++
	if _, err := Open(ctx, BytesSource(comp), bad, BytesSource(b), nil); !errors.Is(err, ErrIndex) {
		t.Fatalf("mismatched item: %v", err)
	}
	// Compressed data cut short inside the chunk: an error naming the offset.
	r, err := Open(ctx, cutSource{BytesSource(comp), it.From + 100}, it, BytesSource(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	var lerr error
	for _, err := range r.All() {
		lerr = err
	}
	if !errors.Is(lerr, io.ErrUnexpectedEOF) || !strings.Contains(lerr.Error(), "compressed byte") {
		t.Fatalf("cut chunk: %v", lerr)
	}
	// Cancelled context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	r, _ = Open(cctx, BytesSource(text), Item{Kind: Text, End: int64(len(text)), To: int64(len(text))}, nil, nil)
	if _, err := r.Next(); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// countingSource counts ranged reads and bytes served.
type countingSource struct {
	Source
	gets  int
	bytes int64
}

func (s *countingSource) OpenRange(ctx context.Context, start, end int64) (io.ReadCloser, error) {
	s.gets++
	s.bytes += end - start
	return s.Source.OpenRange(ctx, start, end)
}

func TestBoundedReads(t *testing.T) {
	text := flowLog(200000, 8)
	comp := gzipParts(t, 6, 0, text)
	ctx := t.Context()
	p, idx, err := NewPlan(ctx, BytesSource(comp), Options{ChunkSize: 2 << 20, Span: 1 << 20, SmallObject: -1})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := idx.MarshalBinary()
	for _, it := range p.Items[:len(p.Items)-1] {
		src := &countingSource{Source: BytesSource(comp)}
		r, err := Open(ctx, src, it, BytesSource(b), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range r.All() {
			if err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
		if src.gets > 1 || src.bytes > (it.To-it.From)+2*firstExtension {
			t.Fatalf("chunk %d: read %d bytes for a range of %d (%d GETs)", it.N, src.bytes, it.To-it.From, src.gets)
		}
	}
}

// cutSource serves no bytes at or after cut (as if the object ended there).
type cutSource struct {
	Source
	cut int64
}

func (s cutSource) OpenRange(ctx context.Context, start, end int64) (io.ReadCloser, error) {
	return s.Source.OpenRange(ctx, min(start, s.cut), min(end, s.cut))
}

// TestLongLines: a line longer than MaxLineLen comes back cut to
// MaxLineLen+1 bytes, the rest discarded; the lines after it keep their
// numbers and offsets, in every kind of chunk and across chunk boundaries.
func TestLongLines(t *testing.T) {
	ctx := t.Context()
	const max = 1000
	var obj []byte
	type want struct {
		No     int64
		Offset int64
		Len    int
		Cut    bool
	}
	var wants []want
	add := func(n int) {
		wants = append(wants, want{No: int64(len(wants) + 1), Offset: int64(len(obj)), Len: min(n, max+1), Cut: n > max})
		obj = append(obj, bytes.Repeat([]byte{'x'}, n)...)
		obj = append(obj, '\n')
	}
	for i := range 200 {
		switch i % 17 {
		case 3:
			add(50_000)
		case 9:
			add(max)
		case 10:
			add(max + 1)
		default:
			add(10 + i)
		}
	}
	gz := gzipParts(t, gzip.DefaultCompression, 2000, obj)
	for _, tc := range []struct {
		name string
		src  []byte
		opt  Options
	}{
		{"text one chunk", obj, Options{SmallObject: int64(len(obj)) + 1}},
		{"text chunks", obj, Options{ChunkSize: 7000, SmallObject: -1}},
		{"gzip whole", gz, Options{SmallObject: int64(len(gz)) + 1}},
		{"gzip indexed", gz, Options{ChunkSize: 7000, Span: 3000, SmallObject: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := BytesSource(tc.src)
			p, idx, err := NewPlan(ctx, src, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			var index Source
			if idx != nil {
				b, err := idx.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				index = BytesSource(b)
			}
			var got []want
			for _, it := range p.Items {
				r, err := Open(ctx, src, it, index, &ReaderOptions{MaxLineLen: max})
				if err != nil {
					t.Fatal(err)
				}
				for l, err := range r.All() {
					if err != nil {
						t.Fatalf("chunk %d: %v", it.N, err)
					}
					got = append(got, want{No: l.Number, Offset: l.Offset, Len: len(l.Text), Cut: l.Cut})
				}
				r.Close()
			}
			if len(p.Items) < 2 && tc.opt.SmallObject < 0 {
				t.Fatalf("%d chunks, want several", len(p.Items))
			}
			exp := make([]want, len(wants))
			for i, w := range wants {
				exp[i] = w
				if i < len(got) && got[i].No == 0 && tc.src[0] != 0x1f && i > 0 {
					exp[i].No = 0 // plain-text chunks after the first: numbers unknown
				}
			}
			if fmt.Sprint(exp) != fmt.Sprint(got) {
				t.Errorf("lines:\n got %v\nwant %v", got, exp)
			}
		})
	}
}
