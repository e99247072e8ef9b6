package awsio_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

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
