package parquetlog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
)

// The Parquet files in testdata/ were written from the .log beside them by
// an implementation independent of the reader (@dsnp/parquetjs, through
// scripts/node/flowlog-to-parquet.mjs, two rows a row group, GZIP pages):
// go test ./shared/parquetlog -update writes them again (make deps first).
var update = flag.Bool("update", false, "rewrite testdata/*.parquet from testdata/*.log with scripts/node/flowlog-to-parquet.mjs")

var samples = []string{"vpc-default", "vpc-v5", "tgw"}

func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		for _, s := range samples {
			in, out := filepath.Join("testdata", s+".log"), filepath.Join("testdata", s+".parquet")
			cmd := exec.Command("node", "../../scripts/node/flowlog-to-parquet.mjs", in, out, "2")
			cmd.Stderr = os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "update %s: %v\n", out, err)
				os.Exit(1)
			}
		}
	}
	os.Exit(m.Run())
}

// source reads a .log sample: its header (fields with underscores, as the
// Parquet columns are named) and its data lines, white space normalized.
func source(t *testing.T, name string) (header string, lines []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.Join(strings.Fields(sc.Text()), " ")
		if l == "" {
			continue
		}
		if header == "" {
			header = strings.ReplaceAll(l, "-", "_")
			continue
		}
		lines = append(lines, l)
	}
	return header, lines
}

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readAll(t *testing.T, f *File, first, last int) (lines []string, numbers []int64) {
	t.Helper()
	l, err := f.Lines(first, last)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for l.Next() {
		lines = append(lines, string(l.Line()))
		numbers = append(numbers, l.LineNo())
	}
	if err := l.Err(); err != nil {
		t.Fatalf("rows of groups [%d, %d): %v", first, last, err)
	}
	return lines, numbers
}

// TestRowsAreTheSourceLines: every row of a file written by another
// implementation comes out as its source line, in order, numbered from 1,
// whether the row groups are read all at once or one at a time; nulls are
// "-" as in the text delivery.
func TestRowsAreTheSourceLines(t *testing.T) {
	for _, name := range samples {
		t.Run(name, func(t *testing.T) {
			header, want := source(t, name)
			b := sample(t, name)
			src := &countingSource{Source: chunk.BytesSource(b)}
			f, err := Open(t.Context(), name, src)
			if err != nil {
				t.Fatal(err)
			}
			if src.reads != 1 {
				t.Errorf("Open made %d reads, want 1 (the tail)", src.reads)
			}
			if f.Header() != header {
				t.Errorf("Header() = %q, want %q", f.Header(), header)
			}
			if f.Rows != int64(len(want)) {
				t.Errorf("Rows = %d, want %d", f.Rows, len(want))
			}
			if wantGroups := (len(want) + 1) / 2; len(f.Groups) != wantGroups {
				t.Errorf("%d row groups, want %d (2 rows each)", len(f.Groups), wantGroups)
			}
			got, nums := readAll(t, f, 0, len(f.Groups))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for i, n := range nums {
				if n != int64(i+1) {
					t.Fatalf("row %d numbered %d", i+1, n)
				}
			}
			// Group by group, each from its own byte range.
			var each []string
			for i, g := range f.Groups {
				before := src.reads
				rows, nums := readAll(t, f, i, i+1)
				if int64(len(rows)) != g.Rows || (len(nums) > 0 && nums[0] != g.FirstRow+1) {
					t.Errorf("group %d: %d rows from %v, want %d from %d", i, len(rows), nums, g.Rows, g.FirstRow+1)
				}
				if src.reads != before+1 {
					t.Errorf("group %d: %d reads, want 1", i, src.reads-before)
				}
				if src.last != [2]int64{g.From, g.To} {
					t.Errorf("group %d read %v, want its range [%d, %d)", i, src.last, g.From, g.To)
				}
				each = append(each, rows...)
			}
			if strings.Join(each, "\n") != strings.Join(want, "\n") {
				t.Errorf("rows read group by group differ from the source")
			}
		})
	}
}

// TestPlanCoversEveryGroup: chunks are consecutive runs of row groups that
// cover the file once, whatever the chunk size and limit.
func TestPlanCoversEveryGroup(t *testing.T) {
	b := sample(t, "vpc-default") // 9 rows, 5 groups
	f, err := Open(t.Context(), "vpc-default", chunk.BytesSource(b))
	if err != nil {
		t.Fatal(err)
	}
	one := f.Groups[0].Bytes
	for _, tc := range []struct {
		size      int64
		max       int
		small     int64
		wantItems int // 0: any
	}{
		{1, 0, 0, 5},       // a group a chunk
		{1, 2, 0, 2},       // the limit grows the size
		{1 << 30, 0, 0, 1}, // one chunk
		{1, 0, 1 << 20, 1}, // a small object is one chunk
		{1, 1, 0, 1},       // limit one
		{one * 2, 0, 0, 0},
		{one * 3, 100, 0, 0},
		{one*2 - 1, 100, 0, 0},
	} {
		p := f.Plan(tc.size, tc.max, tc.small)
		if max := tc.max; (tc.wantItems > 0 && len(p.Items) != tc.wantItems) || (max > 0 && len(p.Items) > max) {
			t.Errorf("Plan(%d, %d, %d): %d chunks, want %d", tc.size, tc.max, tc.small, len(p.Items), tc.wantItems)
		}
		next, rows := int64(0), int64(0)
		for i, it := range p.Items {
			if it.N != i || it.Kind != chunk.Parquet || it.Start != next || it.End <= it.Start || it.Lines != rows {
				t.Errorf("Plan(%d, %d, %d) item %d = %+v, want groups from %d, %d rows before", tc.size, tc.max, tc.small, i, it, next, rows)
			}
			if it.From != f.Groups[it.Start].From || it.To != f.Groups[it.End-1].To {
				t.Errorf("item %d bytes [%d, %d), want its groups' range", i, it.From, it.To)
			}
			var size int64
			for g := it.Start; g < it.End; g++ {
				rows += f.Groups[g].Rows
				size += f.Groups[g].Bytes
			}
			// Greedy: within the size unless one group alone is larger,
			// and the next group would not have fitted.
			if it.End-it.Start > 1 && size > p.ChunkSize {
				t.Errorf("Plan(%d, %d, %d) item %d: %d bytes over the chunk size %d", tc.size, tc.max, tc.small, i, size, p.ChunkSize)
			}
			if i+1 < len(p.Items) && size+f.Groups[it.End].Bytes <= p.ChunkSize {
				t.Errorf("Plan(%d, %d, %d) item %d: the next group would have fitted", tc.size, tc.max, tc.small, i)
			}
			next = it.End
		}
		if next != int64(len(f.Groups)) || rows != f.Rows || p.Lines != f.Rows || p.Kind != chunk.Parquet {
			t.Errorf("Plan(%d, %d, %d) covers %d groups and %d rows of %d and %d", tc.size, tc.max, tc.small, next, rows, len(f.Groups), f.Rows)
		}
	}
}

// TestDamaged: cut, overwritten or mislabelled files are ErrCorrupt, with
// the object named, and never a panic.
func TestDamaged(t *testing.T) {
	b := sample(t, "tgw")
	footer := int(uint32(b[len(b)-8]) | uint32(b[len(b)-7])<<8 | uint32(b[len(b)-6])<<16 | uint32(b[len(b)-5])<<24)
	cases := map[string][]byte{
		"too small":            []byte("PAR1\x00PAR1"),
		"cut in half":          b[:len(b)/2],
		"no trailing magic":    append(bytes.Clone(b[:len(b)-1]), 'X'),
		"footer longer":        withFooterLen(b, uint32(len(b))),
		"footer over limit":    append(append(bytes.Clone(b[:4]), make([]byte, MaxFooterBytes+8)...), withFooterLen(b[len(b)-8:], MaxFooterBytes+1)...),
		"footer overwritten":   overwrite(b, len(b)-8-footer, footer),
		"last byte of footer":  overwrite(b, len(b)-9, 1),
		"data pages zeroed":    overwrite(b, 4, len(b)-8-footer-4),
		"one footer byte less": withFooterLen(b, uint32(footer-1)),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			err := openAndRead(t.Context(), "s3://b/k.parquet", chunk.BytesSource(data))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v is not ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), "s3://b/k.parquet") {
				t.Errorf("error %q does not name the object", err)
			}
		})
	}
}

func withFooterLen(b []byte, n uint32) []byte {
	c := bytes.Clone(b)
	c[len(c)-8], c[len(c)-7], c[len(c)-6], c[len(c)-5] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	return c
}

func overwrite(b []byte, at, n int) []byte {
	c := bytes.Clone(b)
	for i := at; i < at+n; i++ {
		c[i] = byte(i*7 + 3)
	}
	return c
}

// openAndRead opens src and reads every row, returning the first error.
func openAndRead(ctx context.Context, name string, src chunk.Source) error {
	f, err := Open(ctx, name, src)
	if err != nil {
		return err
	}
	l, err := f.Lines(0, len(f.Groups))
	if err != nil {
		return err
	}
	defer l.Close()
	var n int64
	for l.Next() {
		n++
	}
	if l.Err() == nil && n != f.Rows {
		return fmt.Errorf("%d rows read, the footer says %d", n, f.Rows)
	}
	return l.Err()
}

// TestReadErrorIsNotCorruption: a failed read (network, throttling) is
// reported as itself, so that it is retried, not as a damaged file.
func TestReadErrorIsNotCorruption(t *testing.T) {
	b := sample(t, "vpc-v5")
	boom := errors.New("connection reset by peer")
	for _, failAt := range []int{1, 2} {
		src := &countingSource{Source: chunk.BytesSource(b), failAt: failAt, err: boom}
		err := openAndRead(t.Context(), "obj", src)
		if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) {
			t.Errorf("read %d failing: error %v, want the read error and not ErrCorrupt", failAt, err)
		}
	}
}

// TestRowGroupLimit: a row group above MaxRowGroupBytes is refused before
// it is read (memory stays bounded by one group).
func TestRowGroupLimit(t *testing.T) {
	b := sample(t, "vpc-v5")
	src := &countingSource{Source: chunk.BytesSource(b)}
	f, err := Open(t.Context(), "obj", src)
	if err != nil {
		t.Fatal(err)
	}
	f.Groups[1].To = f.Groups[1].From + MaxRowGroupBytes + 1
	l, _ := f.Lines(1, 2)
	defer l.Close()
	before := src.reads
	if l.Next() || !errors.Is(l.Err(), ErrCorrupt) || !strings.Contains(l.Err().Error(), "above the limit") {
		t.Errorf("Next() with a group over the limit: err %v", l.Err())
	}
	if src.reads != before {
		t.Errorf("%d reads of a group over the limit", src.reads-before)
	}
	if _, err := f.Lines(0, len(f.Groups)+1); !errors.Is(err, chunk.ErrRange) {
		t.Errorf("Lines past the last group: %v, want ErrRange", err)
	}
}

// countingSource counts ranged reads and can fail the failAt-th.
type countingSource struct {
	chunk.Source
	reads  int
	last   [2]int64
	failAt int
	err    error
}

func (c *countingSource) OpenRange(ctx context.Context, start, end int64) (io.ReadCloser, error) {
	c.reads++
	c.last = [2]int64{start, end}
	if c.reads == c.failAt {
		return nil, c.err
	}
	return c.Source.OpenRange(ctx, start, end)
}

// FuzzOpen: any bytes either open and read to the end with at most the
// rows the footer declares, or fail with an error; never a panic.
func FuzzOpen(f *testing.F) {
	for _, s := range samples {
		f.Add(sample(f, s))
	}
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = openAndRead(t.Context(), "fuzz", chunk.BytesSource(data))
	})
}
