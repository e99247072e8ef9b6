package handler

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/fakes3"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowgen"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/inflate"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/sfnerr"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("x: %w", seq.ErrInvalid), "InvalidInputError"},
		{fmt.Errorf("x: %w", contract.ErrAccounting), "InvalidInputError"},
		{fmt.Errorf("x: %w", staging.ErrCorrupt), "InvalidInputError"},
		{&inflate.Error{Err: inflate.ErrCorrupt, Msg: "bad"}, "InvalidInputError"},
		{&inflate.Error{Err: io.ErrUnexpectedEOF, Msg: "short"}, "InvalidInputError"},
		{fmt.Errorf("x: %w", errInvalid), "InvalidInputError"},
		{errors.New("connection reset"), "RetryableError"},
		{context.Canceled, "RetryableError"},
		{sfnerr.Invalid(errors.New("kept")), "InvalidInputError"},
		{sfnerr.Retryable(errors.New("kept")), "RetryableError"},
	}
	for _, tc := range cases {
		got := classify(tc.err)
		name := fmt.Sprintf("%T", got)
		if !strings.HasSuffix(name, tc.want) {
			t.Errorf("classify(%v) is %s, want %s", tc.err, name, tc.want)
		}
		if !errors.Is(got, tc.err) && got.Error() != tc.err.Error() {
			t.Errorf("classify(%v) lost the cause: %v", tc.err, got)
		}
	}
	if classify(nil) != nil {
		t.Error("classify(nil) != nil")
	}
}

func newSplitter(t *testing.T, srv *fakes3.Server, format string) *Splitter {
	t.Helper()
	rs, err := receiver.ParseAll([]string{"netflow5://127.0.0.1:9", "ipfix://127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Receivers = rs
	cfg.Format = format
	cfg.ChunkSize = 256 << 10
	cfg.SmallObjectBytes = 16 << 10
	s, err := NewSplitter(srv.Client, &awsio.Staging{Client: srv.Client, Bucket: "stage"}, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	metricsOut = io.Discard
	return s
}

func put(t *testing.T, srv *fakes3.Server, key string, body []byte) {
	t.Helper()
	if _, err := srv.Client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("logs"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

func TestSplitter(t *testing.T) {
	srv := fakes3.Start(t, "logs", "stage")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	flowgen.Write(zw, flowgen.Options{Lines: 20_000, Seed: 1, Header: true})
	zw.Close()
	put(t, srv, "AWSLogs/1/a b.log.gz", buf.Bytes())
	s := newSplitter(t, srv, "")

	// An EventBridge key arrives URL-encoded; the plan uses the decoded key,
	// stores the index and names the receivers.
	out, err := s.Handle(t.Context(), contract.PlanInput{ExecutionID: "arn:x:exec", ExecutionName: "exec",
		Input: contract.ExecutionInput{Bucket: "logs", Key: "AWSLogs%2F1%2Fa+b.log.gz", KeyEncoded: true}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Object.Key != "AWSLogs/1/a b.log.gz" || len(out.Chunks) < 2 || out.IndexKey == "" || len(out.Receivers) != 2 ||
		out.Format.Source != contract.FieldsFromHeader || out.Format.Compression != contract.CompressionGzip {
		t.Fatalf("plan %+v", out)
	}
	if _, err := (&awsio.Staging{Client: srv.Client, Bucket: "stage"}).Open(t.Context(), out.IndexKey); err != nil {
		t.Errorf("index not stored: %v", err)
	}

	for _, tc := range []struct {
		name, key string
		body      []byte
		format    string
		want      string
	}{
		{"no header and no format", "plain.log", []byte("2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n"), "", "no header line"},
		{"missing object", "missing.log.gz", nil, "", "missing.log.gz"},
		{"corrupt gzip", "corrupt.log.gz", corrupt(buf.Bytes()), "", "compressed byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.body != nil {
				put(t, srv, tc.key, tc.body)
			}
			_, err := newSplitter(t, srv, tc.format).Handle(t.Context(), contract.PlanInput{ExecutionID: "e", ExecutionName: "e",
				Input: contract.ExecutionInput{Bucket: "logs", Key: tc.key}})
			var inv *sfnerr.InvalidInputError
			if !errors.As(err, &inv) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v (%T), want InvalidInputError mentioning %q", err, err, tc.want)
			}
		})
	}
}

func corrupt(b []byte) []byte {
	c := append([]byte(nil), b...)
	for i := len(c) / 2; i < len(c)/2+64; i++ {
		c[i] ^= 0x5a
	}
	return c
}
