package flowlog

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

type numberedLine struct {
	No   int64
	Text string
}

func readLines(t *testing.T, lr *LineReader) []numberedLine {
	t.Helper()
	var got []numberedLine
	for lr.Next() {
		got = append(got, numberedLine{lr.LineNo(), string(lr.Line())})
	}
	if err := lr.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	return got
}

func TestLineReader(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     []string
		firehose bool
	}{
		{"empty", "", nil, false},
		{"text", "a b\nc d\n", []string{"a b", "c d"}, false},
		{"no final newline", "a\nb", []string{"a", "b"}, false},
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}, false},
		{"blank lines kept", "a\n\n\nb\n", []string{"a", "", "", "b"}, false},
		{"leading blank lines", "\n\na\n", []string{"", "", "a"}, false},
		{"only newlines", "\n\n", []string{"", ""}, false},
		{"firehose concatenated", `{"message":"a b"}{"message":"c"}{"message":"d"}`, []string{"a b", "c", "d"}, true},
		{"firehose newline-separated", "{\"message\":\"a\"}\n{\"message\":\"b\"}\n", []string{"a", "b"}, true},
		{"firehose leading space", "\n  {\"message\":\"a\"}\r\n\r\n{\"message\":\"b\"}", []string{"a", "b"}, true},
		{"firehose braces in message", `{"message":"} { \" {"}{"message":"x"}`, []string{`} { " {`, "x"}, true},
		{"firehose bad record yielded raw", `{"message":1}{"message":"b"}`, []string{`{"message":1}`, "b"}, true},
		{"firehose text between records", "{\"message\":\"a\"}junk 1\n{\"message\":\"b\"}", []string{"a", "junk 1", "b"}, true},
		{"firehose truncated", `{"message":"a"}{"message":"b`, []string{"a", `{"message":"b`}, true},
		{"firehose unbalanced close", `{"message":"a"}}{"message":"b"}`, []string{"a", "}", "b"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []numberedLine
			for i, l := range tc.want {
				want = append(want, numberedLine{int64(i + 1), l})
			}
			for _, r := range []struct {
				name string
				wrap func(string) *LineReader
			}{
				{"whole", func(s string) *LineReader { return NewLineReader(strings.NewReader(s)) }},
				{"one byte at a time", func(s string) *LineReader { return NewLineReader(iotest.OneByteReader(strings.NewReader(s))) }},
			} {
				lr := r.wrap(tc.in)
				got := readLines(t, lr)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: lines (-want +got):\n%s", r.name, diff)
				}
				if len(tc.want) > 0 && lr.Firehose() != tc.firehose {
					t.Errorf("%s: Firehose() = %v, want %v", r.name, lr.Firehose(), tc.firehose)
				}
			}
		})
	}
}

// TestLineReaderLongLine: a line or record longer than the maximum is
// yielded as its first max+1 bytes and the rest discarded; the lines after
// it keep their numbers, whatever the read sizes.
func TestLineReaderLongLine(t *testing.T) {
	const max = MinMaxLineBytes
	long := strings.Repeat("x", 5*max)
	cut := long[:max+1]
	fh := func(m string) string { return `{"message":"` + m + `"}` }
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"text", "a\n" + long + "\nb\n", []string{"a", cut, "b"}},
		{"text at the limit", "a\n" + long[:max] + "\nb\n", []string{"a", long[:max], "b"}},
		{"text at the limit with cr", "a\n" + long[:max] + "\r\nb\n", []string{"a", long[:max] + "\r", "b"}},
		{"text long last line", "a\n" + long, []string{"a", cut}},
		{"text nul padding", "a\n" + strings.Repeat("\x00", 3*max) + "b\nc\n", []string{"a", strings.Repeat("\x00", max+1), "c"}},
		{"text two long lines", long + "\n" + long + "\nz", []string{cut, cut, "z"}},
		{"firehose record", fh("a") + fh(long) + fh("b"), []string{"a", `{"message":"` + long[:max+1-12], "b"}},
		{"firehose record with braces", fh("a") + fh(strings.Repeat(`}{\"`, max)) + fh("b"), []string{"a", (`{"message":"` + strings.Repeat(`}{\"`, max))[:max+1], "b"}},
		{"firehose long text between records", fh("a") + long + fh("b"), []string{"a", cut, "b"}},
		{"firehose unterminated", fh("a") + `{"message":"` + long, []string{"a", (`{"message":"` + long)[:max+1]}},
	}
	for _, tc := range tests {
		for _, r := range []struct {
			name string
			wrap func(string) io.Reader
		}{
			{"whole", func(s string) io.Reader { return strings.NewReader(s) }},
			{"one byte at a time", func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }},
			{"half reads", func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) }},
		} {
			t.Run(tc.name+"/"+r.name, func(t *testing.T) {
				var want []numberedLine
				for i, l := range tc.want {
					want = append(want, numberedLine{int64(i + 1), l})
				}
				got := readLines(t, NewLineReaderMax(r.wrap(tc.in), max))
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("lines (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestLineReaderBoundedBuffer: a line of many megabytes never grows the
// reader's buffer.
func TestLineReaderBoundedBuffer(t *testing.T) {
	lr := NewLineReaderMax(io.MultiReader(strings.NewReader("a\n"), io.LimitReader(nulReader{}, 64<<20), strings.NewReader("\nb\n")), 0)
	got := readLines(t, lr)
	if len(got) != 3 || got[2] != (numberedLine{3, "b"}) || len(got[1].Text) != DefaultMaxLineBytes+1 {
		t.Errorf("lines: %d, last %+v", len(got), got[len(got)-1])
	}
	if cap(lr.buf) > 2*readBufferSize {
		t.Errorf("buffer grew to %d bytes", cap(lr.buf))
	}
}

type nulReader struct{}

func (nulReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestLineReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	lr := NewLineReader(iotest.ErrReader(boom))
	for lr.Next() {
	}
	if err := lr.Err(); !errors.Is(err, boom) {
		t.Errorf("Err() = %v, want boom", err)
	}
}

// TestLineReaderWhiteSpaceProbe: a text object that starts with more white
// space than the probe still reads as text.
func TestLineReaderWhiteSpaceProbe(t *testing.T) {
	in := strings.Repeat(" \n", kindProbe) + "a\n"
	lr := NewLineReader(strings.NewReader(in))
	got := readLines(t, lr)
	if lr.Firehose() || len(got) != kindProbe+1 || got[kindProbe].Text != "a" {
		t.Errorf("read %d lines, firehose %v", len(got), lr.Firehose())
	}
}

func TestSplitFirehose(t *testing.T) {
	sc := bufio.NewScanner(strings.NewReader(` {"message":"a"}{"x":{"message":"b"}}` + "\n" + `{"message":"c"}`))
	sc.Split(SplitFirehose)
	var got []string
	for sc.Scan() {
		got = append(got, sc.Text())
	}
	want := []string{`{"message":"a"}`, `{"x":{"message":"b"}}`, `{"message":"c"}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tokens (-want +got):\n%s", diff)
	}
}

// TestScanFirehoseObject parses a Firehose object end to end: no header,
// configured format, record indexes as line numbers.
func TestScanFirehoseObject(t *testing.T) {
	var in bytes.Buffer
	for range 3 {
		in.WriteString(`{"message":"` + defaultLine + `"}`)
	}
	in.WriteString(`{"message":"2 1 eni-1 - - - - - - - 1 2 - NODATA"}{"message":"2 1 eni`)
	res := scanAll(t, Options{Format: DefaultFormat}, in.String())
	want := Counts{Lines: 5, Records: 3}
	want.Skipped[ReasonNoData], want.Skipped[ReasonMalformed] = 1, 1
	if diff := cmp.Diff(want, res.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if len(res.Records) != 3 || res.Records[2].Line != 3 {
		t.Errorf("records %+v", res.Records)
	}
	if len(res.Errors) != 1 || !strings.HasPrefix(res.Errors[0], "line 5: ") {
		t.Errorf("errors %q", res.Errors)
	}
}
