package staging

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
	"github.com/google/go-cmp/cmp"
)

func writeFrames(t *testing.T, frames []netflow.Frame) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, netflow.IPFIX)
	for _, f := range frames {
		if err := w.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readFrames(b []byte) ([]netflow.Frame, error) {
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var out []netflow.Frame
	for {
		f, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		f.Data = append([]byte(nil), f.Data...)
		out = append(out, f)
	}
}

func TestRoundTrip(t *testing.T) {
	frames := []netflow.Frame{
		{Data: []byte{1, 2, 3}, Units: 1, Records: 1},
		{Data: bytes.Repeat([]byte{7}, 1464), Units: 30, Records: 30},
		{Data: bytes.Repeat([]byte{9}, 300), Units: 1 << 31, Records: 5},
	}
	b := writeFrames(t, frames)
	got, err := readFrames(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(frames, got); diff != "" {
		t.Errorf("frames mismatch (-want +got):\n%s", diff)
	}
	empty := writeFrames(t, nil)
	if got, err := readFrames(empty); err != nil || len(got) != 0 {
		t.Errorf("empty file: %v frames, err %v", len(got), err)
	}
}

func TestCorruption(t *testing.T) {
	b := writeFrames(t, []netflow.Frame{{Data: []byte("hello"), Units: 1, Records: 1}, {Data: []byte("world"), Units: 2, Records: 2}})
	for i := range b {
		trunc := b[:i]
		if _, err := readFrames(trunc); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated at %d: err = %v, want ErrCorrupt", i, err)
		}
		flip := append([]byte(nil), b...)
		flip[i] ^= 0x40
		if _, err := readFrames(flip); err == nil {
			t.Errorf("byte %d flipped: no error", i)
		}
	}
	if _, err := readFrames(append(append([]byte(nil), b...), 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing garbage: err = %v", err)
	}
}

func TestDirStore(t *testing.T) {
	ctx := t.Context()
	d := Dir{Root: t.TempDir()}
	if err := d.Put(ctx, "a/b/c.frames", bytes.NewReader([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(ctx, "a/b/missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing key: %v", err)
	}
	if _, err := d.Open(ctx, "../etc/passwd"); err == nil {
		t.Error("key escaping the root accepted")
	}
	keys, err := d.List(ctx, "a/")
	if err != nil || len(keys) != 1 || keys[0] != "a/b/c.frames" {
		t.Fatalf("List = %v, %v", keys, err)
	}
	if err := d.Delete(ctx, "a/b/c.frames"); err != nil {
		t.Fatal(err)
	}
	if keys, _ := d.List(ctx, ""); len(keys) != 0 {
		t.Errorf("after delete: %v", keys)
	}
	if err := d.Delete(ctx, "a/b/c.frames"); err != nil {
		t.Errorf("second delete: %v", err)
	}
}
