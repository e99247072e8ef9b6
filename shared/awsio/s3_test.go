package awsio_test

import (
	"bytes"
	"errors"
	"io"
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
