package awsio_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/fakes3"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

func TestObjectRanges(t *testing.T) {
	srv := fakes3.Start(t, "logs")
	ctx := t.Context()
	data := make([]byte, 200)
	for i := range data {
		data[i] = byte(i)
	}
	if _, err := srv.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("logs"), Key: aws.String("a b/x.log.gz"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	o, err := awsio.Head(ctx, srv.Client, "logs", "a b/x.log.gz", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if o.Size() != 200 || o.ETag == "" {
		t.Fatalf("size %d etag %q", o.Size(), o.ETag)
	}
	for _, r := range [][2]int64{{0, 200}, {10, 100}, {199, 200}, {50, 50}} {
		rc, err := o.OpenRange(ctx, r[0], r[1])
		if err != nil {
			t.Fatalf("range %v: %v", r, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, data[r[0]:r[1]]) {
			t.Errorf("range %v: got %d bytes, want %d", r, len(got), r[1]-r[0])
		}
	}
	if _, err := o.OpenRange(ctx, 150, 201); err == nil {
		t.Error("range past the end accepted")
	}
	if _, err := awsio.Head(ctx, srv.Client, "logs", "missing", "", ""); !awsio.IsNotFound(err) {
		t.Errorf("missing key: %v", err)
	}
}

func TestStaging(t *testing.T) {
	srv := fakes3.Start(t, "stage")
	ctx := t.Context()
	st := &awsio.Staging{Client: srv.Client, Bucket: "stage", Prefix: "fl2nf/"}
	if err := st.Put(ctx, "exec/0/r0.frames", bytes.NewBufferString("hello")); err != nil {
		t.Fatal(err)
	}
	rc, err := st.Open(ctx, "exec/0/r0.frames")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "hello" {
		t.Errorf("read back %q", b)
	}
	keys, err := st.List(ctx, "exec/")
	if err != nil || len(keys) != 1 || keys[0] != "exec/0/r0.frames" {
		t.Errorf("List = %v, %v", keys, err)
	}
	if err := st.Delete(ctx, "exec/0/r0.frames"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Open(ctx, "exec/0/r0.frames"); !errors.Is(err, staging.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := st.Delete(ctx, "exec/0/r0.frames"); err != nil {
		t.Errorf("second delete: %v", err)
	}
}

func TestParseURI(t *testing.T) {
	b, k, err := awsio.ParseURI("s3://bucket/AWSLogs/1/x.log.gz")
	if err != nil || b != "bucket" || k != "AWSLogs/1/x.log.gz" {
		t.Errorf("%q %q %v", b, k, err)
	}
	for _, bad := range []string{"s3://bucket", "http://b/k", "s3:///k"} {
		if _, _, err := awsio.ParseURI(bad); err == nil {
			t.Errorf("ParseURI(%q) accepted", bad)
		}
	}
}

// TestStagingShortBody: a staging GET whose connection drops midway ends
// in a ShortBodyError naming the object and the bytes read, not in
// io.ErrUnexpectedEOF, which the frame reader takes for a truncated file
// (not retried); the next GET reads the whole object.
func TestStagingShortBody(t *testing.T) {
	var cut atomic.Bool
	srv := fakes3.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && cut.Swap(false) {
				w = &dropAfter{ResponseWriter: w, left: 1000}
			}
			h.ServeHTTP(w, r)
		})
	}, "stage")
	st := &awsio.Staging{Client: srv.Client, Bucket: "stage"}
	body := bytes.Repeat([]byte("frames "), 10_000)
	if err := st.Put(t.Context(), "c00000/r0.frames", bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	cut.Store(true)
	rc, err := st.Open(t.Context(), "c00000/r0.frames")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	rc.Close()
	var sb *awsio.ShortBodyError
	if !errors.As(err, &sb) || errors.Is(err, io.ErrUnexpectedEOF) || sb.Got != 1000 || sb.Want != int64(len(body)) ||
		!strings.Contains(err.Error(), "s3://stage/c00000/r0.frames") {
		t.Fatalf("cut GET: %v; want a ShortBodyError after 1000 of %d bytes", err, len(body))
	}
	rc, err = st.Open(t.Context(), "c00000/r0.frames")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("second GET: %d bytes, %v", len(got), err)
	}
}

type dropAfter struct {
	http.ResponseWriter
	left int
}

func (w *dropAfter) Write(p []byte) (int, error) {
	if len(p) >= w.left {
		w.ResponseWriter.Write(p[:w.left])
		w.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	w.left -= len(p)
	return w.ResponseWriter.Write(p)
}

// TestStagingPutParts: a body that cannot seek (the parser's pipe) goes up
// one part at a time: less than one part is a single PutObject, more a
// multipart upload of PartSize parts (an exact multiple ends without an
// empty part); a body that fails midway aborts the upload and leaves no
// object.
func TestStagingPutParts(t *testing.T) {
	var mu sync.Mutex
	reqs := map[string]int{}
	srv := fakes3.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			op := r.Method
			switch {
			case q.Has("uploads"):
				op = "create"
			case q.Has("partNumber"):
				op = "part"
			case q.Has("uploadId") && r.Method == http.MethodPost:
				op = "complete"
			case q.Has("uploadId") && r.Method == http.MethodDelete:
				op = "abort"
			}
			mu.Lock()
			reqs[op]++
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	}, "stage")
	const part = 5 << 20
	st := &awsio.Staging{Client: srv.Client, Bucket: "stage", PartSize: part}
	for _, tc := range []struct {
		size  int
		parts int
	}{{part - 1, 0}, {part, 1}, {2 * part, 2}, {2*part + 17, 3}} {
		clear(reqs)
		body := make([]byte, tc.size)
		for i := range body {
			body[i] = byte(i * 7)
		}
		key := fmt.Sprintf("p%d", tc.size)
		if err := st.Put(t.Context(), key, io.MultiReader(bytes.NewReader(body))); err != nil {
			t.Fatalf("%d bytes: %v", tc.size, err)
		}
		rc, err := st.Open(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%d bytes: read back %d bytes, %v", tc.size, len(got), err)
		}
		want := map[string]int{"PUT": 1}
		if tc.parts > 0 {
			want = map[string]int{"create": 1, "part": tc.parts, "complete": 1}
		}
		want["GET"] = 1
		mu.Lock()
		if fmt.Sprint(reqs) != fmt.Sprint(want) {
			t.Errorf("%d bytes: requests %v, want %v", tc.size, reqs, want)
		}
		mu.Unlock()
	}

	clear(reqs)
	broken := io.MultiReader(bytes.NewReader(make([]byte, part+100)), iotest.ErrReader(errors.New("parse aborted")))
	if err := st.Put(t.Context(), "broken", broken); err == nil || !strings.Contains(err.Error(), "parse aborted") {
		t.Fatalf("broken body: %v", err)
	}
	if reqs["abort"] != 1 {
		t.Errorf("broken body: requests %v, want an abort", reqs)
	}
	if _, err := st.Open(t.Context(), "broken"); !errors.Is(err, staging.ErrNotFound) {
		t.Errorf("broken body left an object: %v", err)
	}
}
