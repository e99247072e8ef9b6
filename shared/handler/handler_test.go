package handler

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/fakes3"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowgen"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/inflate"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/parquetlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/boltseq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/sfnerr"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/udp"
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
		{fmt.Errorf("s3://b/k: row group 2: %w", parquetlog.ErrCorrupt), "InvalidInputError"},
		{fmt.Errorf("s3://b/k: row group 2: read [4, 900): %w", errors.New("connection reset")), "RetryableError"},
		{errors.New("connection reset"), "RetryableError"},
		{context.Canceled, "RetryableError"},
		// A collector that is down: the Send step fails and the state
		// machine's Retry resends the chunk with the same numbers.
		{fmt.Errorf("send: %w", &udp.RefusedError{Addr: "127.0.0.1:2055", Refused: 1}), "RetryableError"},
		{fmt.Errorf("plan: %w", flowlog.ErrNotConvertible), "InvalidInputError"},
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
		{"empty object", "empty.log.gz", []byte{}, "", "empty.log.gz: object is empty"},
		{"gzip of nothing", "nothing.log.gz", gzipBytes(nil), "", "object is empty"},
		{"gzip inside gzip", "twice.log.gz", gzipBytes(buf.Bytes()), "", "gzip inside gzip"},
		{"cloudwatch without format", "cw.gz", gzipBytes([]byte(`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[]}`)), "", "a CloudWatch Logs subscription payload: no header line and no log format configured"},
		{"parquet", "x.parquet", []byte("PAR1\x15\x04PAR1"), "", "too small for Parquet: invalid Parquet flow log"},
		{"duplicated header field", "dup.log", []byte("version srcaddr dstaddr dstaddr\n"), "", `field "dstaddr" in column 4 duplicates column 3`},
		{"not a flow log", "text.log", []byte("hello\n"), "", "not a flow log"},
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

	// A CloudWatch Logs subscription payload with the log group's format
	// configured: one chunk, framing "cloudwatch".
	cw := gzipBytes([]byte(`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[]}`))
	put(t, srv, "cw2.gz", cw)
	out, err = newSplitter(t, srv, "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}").
		Handle(t.Context(), contract.PlanInput{ExecutionID: "e", ExecutionName: "e", Input: contract.ExecutionInput{Bucket: "logs", Key: "cw2.gz"}})
	if err != nil || out.Format.Framing != contract.FramingCloudWatch || len(out.Chunks) != 1 || out.Format.Source != contract.FieldsFromConfig {
		t.Errorf("CloudWatch payload with a format: plan %+v, %v; want one chunk, framing cloudwatch", out, err)
	}
}

func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// TestAllocatorAllMalformed: an object whose every data line is malformed
// fails the Reserve step as invalid input naming the object and the first
// reason, before any reservation.
func TestAllocatorAllMalformed(t *testing.T) {
	metricsOut = io.Discard
	rs := []contract.Receiver{{ID: "r0", URL: "netflow5://127.0.0.1:9"}}
	in := contract.ReserveInput{ExecutionID: "arn:x:exec", Object: contract.ObjectRef{Bucket: "logs", Key: "bad.log.gz", ETag: `"e"`, Size: 9},
		StagingPrefix: "p/", Receivers: rs, Parsed: []contract.ParseOutput{
			{Chunk: 0, Counts: contract.Counts{Lines: 3, Skipped: map[string]int64{contract.SkipHeader: 1, contract.SkipMalformed: 2}},
				FirstMalformed: 2, FirstError: "line 2: format has no srcaddr: missing address", Out: []contract.ReceiverOutput{{Receiver: "r0"}}},
			{Chunk: 1, Counts: contract.Counts{Lines: 1, Skipped: map[string]int64{contract.SkipMalformed: 1}}, FirstMalformed: 4,
				Out: []contract.ReceiverOutput{{Receiver: "r0"}}},
		}}
	_, err := (&Allocator{}).Handle(t.Context(), in)
	var inv *sfnerr.InvalidInputError
	if !errors.As(err, &inv) || !errors.Is(err, contract.ErrAllMalformed) {
		t.Fatalf("err = %v (%T), want InvalidInputError wrapping ErrAllMalformed", err, err)
	}
	for _, want := range []string{"s3://logs/bad.log.gz", "3 of 4 lines malformed", "line 2: format has no srcaddr"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func corrupt(b []byte) []byte {
	c := append([]byte(nil), b...)
	for i := len(c) / 2; i < len(c)/2+64; i++ {
		c[i] ^= 0x5a
	}
	return c
}

// TestAllocatorSendTime: a chunk whose paced send would outlast the
// sender's timeout fails the Reserve step as invalid input naming the
// chunk, the receiver and the remedy, before any number is reserved; the
// same chunk at a faster pace is reserved.
func TestAllocatorSendTime(t *testing.T) {
	metricsOut = io.Discard
	store, err := boltseq.Open(filepath.Join(t.TempDir(), "seq.db"), boltseq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	input := func(url string) contract.ReserveInput {
		return contract.ReserveInput{ExecutionID: "arn:x:exec", Object: contract.ObjectRef{Bucket: "logs", Key: "big.log.gz", ETag: `"e"`, Size: 9},
			StagingPrefix: "p/", Receivers: []contract.Receiver{{ID: "r0", URL: url}}, Parsed: []contract.ParseOutput{
				{Chunk: 0, Counts: contract.Counts{Lines: 600_000, Records: 600_000},
					Out: []contract.ReceiverOutput{{Receiver: "r0", Frames: 28_000, Units: 600_000, Records: 600_000, Flows: 600_000}}},
			}}
	}
	a := &Allocator{Store: store, SenderTimeout: 900 * time.Second}
	_, err = a.Handle(t.Context(), input("ipfix://127.0.0.1:4739?pps=30"))
	var inv *sfnerr.InvalidInputError
	if !errors.As(err, &inv) {
		t.Fatalf("28,000 datagrams at 30 pps with a 900 s sender: err = %v (%T), want InvalidInputError", err, err)
	}
	for _, want := range []string{"s3://logs/big.log.gz", "chunk 0 holds 28000 datagrams", "pps=30", "lower chunk_size_bytes or raise pps"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	rc, _ := receiver.Parse("ipfix://127.0.0.1:4739?pps=30")
	if st, err := store.Inspect(t.Context(), rc.Exporter()); err != nil || st.Exists {
		t.Errorf("after the refusal the exporter has state %+v, %v; want none reserved", st, err)
	}
	out, err := a.Handle(t.Context(), input("ipfix://127.0.0.1:4739"))
	if err != nil || len(out.Streams) == 0 {
		t.Errorf("the same chunk at the default pace (28 s): %+v, %v", out, err)
	}
}
