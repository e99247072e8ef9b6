// Package functions_test proves the whole AWS workflow end to end on local
// stand-ins: the four Lambda bootstraps under the AWS Lambda Runtime
// Interface Emulator, the real ASL definition executed by
// aws-local-stepfunctions (scripts/sfn-local.mjs), S3 served by gofakes3 on
// loopback, DynamoDB by dynalite, and nfcapd as the collector.
package functions_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/collectortest"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dynalite"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/fakes3"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowgen"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/dynamoseq"
	"github.com/flowlogs2netflow/flowlogs2netflow/statemachine"
)

const (
	logBucket   = "flowlogs"
	stageBucket = "staging"
	table       = "fl2nf-sequences"
)

// failGets answers 503 to the first n GETs of staging keys ending in
// suffix: enough to exhaust the SDK's own retries once, so the sender
// Lambda fails and Step Functions retries it.
type failGets struct {
	suffix atomic.Pointer[string]
	left   atomic.Int32
	hits   atomic.Int32
}

// arm makes the next n GETs of keys ending in suffix fail.
func (f *failGets) arm(suffix string, n int32) {
	f.suffix.Store(&suffix)
	f.left.Store(n)
}

func (f *failGets) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sfx := f.suffix.Load(); r.Method == http.MethodGet && sfx != nil && strings.HasSuffix(r.URL.Path, *sfx) && f.left.Add(-1) >= 0 {
			f.hits.Add(1)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>injected</Message></Error>`)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// cutGets serves the next n GETs of staging keys ending in suffix only up
// to after bytes of the body, then drops the connection: the sender's
// read fails midway through a chunk, after some of its datagrams left.
type cutGets struct {
	suffix atomic.Pointer[string]
	after  atomic.Int64
	left   atomic.Int32
	hits   atomic.Int32
}

func (c *cutGets) arm(suffix string, after int64, n int32) {
	c.suffix.Store(&suffix)
	c.after.Store(after)
	c.left.Store(n)
}

type cutWriter struct {
	http.ResponseWriter
	left int64
}

func (w *cutWriter) Write(p []byte) (int, error) {
	if int64(len(p)) >= w.left {
		w.ResponseWriter.Write(p[:w.left])
		if f, ok := w.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler) // net/http closes the connection
	}
	w.left -= int64(len(p))
	return w.ResponseWriter.Write(p)
}

func (c *cutGets) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sfx := c.suffix.Load(); r.Method == http.MethodGet && sfx != nil && strings.HasSuffix(r.URL.Path, *sfx) && c.left.Add(-1) >= 0 {
			c.hits.Add(1)
			w = &cutWriter{ResponseWriter: w, left: c.after.Load()}
		}
		h.ServeHTTP(w, r)
	})
}

type world struct {
	t        *testing.T
	s3       *s3.Client
	fns      map[string]*lambdaFn
	def      string // rendered definition file
	faults   *failGets
	cuts     *cutGets
	nf       *collectortest.Nfcapd
	capture  *capture
	receiver []string
}

// capture is a loopback collector that records every IPFIX message's
// sequence number and data-record count.
type capture struct {
	conn *net.UDPConn
	mu   sync.Mutex
	msgs []ipfixMsg
	done chan struct{}
}

type ipfixMsg struct {
	seq     uint32
	records int
}

func startCapture(t *testing.T) *capture {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(8 << 20)
	cp := &capture{conn: c, done: make(chan struct{})}
	go func() {
		defer close(cp.done)
		buf := make([]byte, 65536)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			m := ipfixMsg{seq: binary.BigEndian.Uint32(buf[8:12]), records: ipfixDataRecords(buf[:n])}
			cp.mu.Lock()
			cp.msgs = append(cp.msgs, m)
			cp.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close(); <-cp.done })
	return cp
}

func (c *capture) port() int { return c.conn.LocalAddr().(*net.UDPAddr).Port }

// take waits until the socket is drained and returns the messages so far.
func (c *capture) take(t *testing.T) []ipfixMsg {
	t.Helper()
	collectortest.WaitDrained(t, c.port())
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.msgs
	c.msgs = nil
	return out
}

// ipfixDataRecords counts the data records of an IPFIX message by walking
// its sets with the record lengths of our templates (256 IPv4, 257 IPv6,
// 258 interface names).
func ipfixDataRecords(m []byte) int {
	n := 0
	for off := 16; off+4 <= len(m); {
		id := binary.BigEndian.Uint16(m[off:])
		l := int(binary.BigEndian.Uint16(m[off+2:]))
		if l < 4 {
			break
		}
		switch id {
		case 256:
			n += (l - 4) / 61
		case 257:
			n += (l - 4) / 85
		case 258:
			n += (l - 4) / 36
		}
		off += l
	}
	return n
}

func setup(t *testing.T) *world {
	t.Helper()
	rie := findRIE(t)
	nodeOK(t)
	w := &world{t: t, faults: &failGets{}, cuts: &cutGets{}}
	srv := fakes3.StartWith(t, func(h http.Handler) http.Handler { return w.faults.wrap(w.cuts.wrap(h)) }, logBucket, stageBucket)
	w.s3 = srv.Client
	ddb := dynalite.Start(t, dynalite.Options{})
	if err := dynamoseq.EnsureTable(t.Context(), dynalite.Client(ddb), table); err != nil {
		t.Fatal(err)
	}
	w.nf = collectortest.StartNfcapd(t)
	w.capture = startCapture(t)
	w.receiver = []string{
		"netflow5://" + w.nf.Addr() + "?engine-id=5&pps=20000",
		fmt.Sprintf("ipfix://127.0.0.1:%d?domain=7&pps=20000", w.capture.port()),
	}
	env := append(os.Environ(),
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=local-secret",
		"AWS_ENDPOINT_URL_S3="+srv.URL, "AWS_ENDPOINT_URL_DYNAMODB="+ddb,
		"AWS_EC2_METADATA_DISABLED=true",
		"FL2NF_RECEIVERS="+strings.Join(w.receiver, ","),
		"FL2NF_STAGING_BUCKET="+stageBucket,
		"FL2NF_STAGING_PREFIX=fl2nf/",
		"FL2NF_SEQUENCE_TABLE="+table,
		"FL2NF_CHUNK_SIZE=2MiB",
		"FL2NF_SMALL_OBJECT_BYTES=64KiB",
		"FL2NF_TEMPLATE_REFRESH_PACKETS=50",
		// For objects without a header line (the CloudWatch Logs payload);
		// a header line overrides it.
		"FL2NF_FORMAT="+flowlog.DefaultFormat.Header(),
	)
	bins := buildBootstraps(t, "splitter", "parser", "allocator", "sender")
	w.fns = map[string]*lambdaFn{}
	for state, fn := range statemachine.TaskStates {
		w.fns[state] = startRIE(t, rie, fn, bins[fn], env)
	}
	def, err := statemachine.Render(statemachine.LocalVars())
	if err != nil {
		t.Fatal(err)
	}
	w.def = filepath.Join(t.TempDir(), "definition.asl.json")
	if err := os.WriteFile(w.def, def, 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

func nodeOK(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("FL2NF_REQUIRE_INTEGRATION") == "1" {
			t.Fatal("node not found")
		}
		t.Skip("node not installed")
	}
}

type execResult struct {
	Status string          `json:"status"`
	Output json.RawMessage `json:"output"`
	Error  string          `json:"error"`
	Cause  string          `json:"cause"`
}

// execute runs the state machine once with aws-local-stepfunctions.
func (w *world) execute(name string, input contract.ExecutionInput) execResult {
	t := w.t
	t.Helper()
	in, _ := json.Marshal(input)
	args := []string{filepath.Join(repoRoot(t), "scripts", "sfn-local.mjs"), "--definition", w.def, "--input", string(in), "--execution-name", name}
	for state, f := range w.fns {
		args = append(args, "--task", state+"="+f.url)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var r execResult
	if jerr := json.Unmarshal(out.Bytes(), &r); jerr != nil {
		t.Fatalf("sfn-local %s: %v (%v)\nstdout: %s\nstderr: %s", name, err, jerr, out.String(), errb.String())
	}
	return r
}

func (w *world) put(key string, body []byte) string {
	t := w.t
	t.Helper()
	out, err := w.s3.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(logBucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ETag)
}

func (w *world) stagingKeys() []string {
	t := w.t
	t.Helper()
	out, err := w.s3.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(stageBucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// truth is what the input says the collectors must see.
type truth struct {
	lines, records  int64
	v4Records       uint64 // v5 wire records (counters above 2^32-1 split)
	v4Bytes, v4Pkts uint64
	allRecords      int64
}

func inputTruth(t *testing.T, gz []byte) truth {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	var tr truth
	p := flowlog.NewParser(flowlog.Options{})
	if err := p.Scan(zr, func(r *flow.Record) error {
		tr.allRecords++
		if r.IsIPv6() {
			return nil
		}
		tr.v4Records += max((r.Packets+math.MaxUint32-1)/math.MaxUint32, (r.Bytes+math.MaxUint32-1)/math.MaxUint32, 1)
		tr.v4Bytes += r.Bytes
		tr.v4Pkts += r.Packets
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c := p.Counts()
	tr.lines, tr.records = c.Lines, c.Records
	return tr
}

func TestStateMachineEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test (builds four Lambdas)")
	}
	w := setup(t)

	// A multi-chunk gzip flow log with IPv6, NODATA/SKIPDATA, counters above
	// 2^32, in a key that S3 events URL-encode.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := flowgen.Write(zw, flowgen.Options{Lines: 60_000, Seed: 11, Header: true, IPv6Fraction: 0.06,
		RejectFraction: 0.1, NoDataFraction: 0.01, SkipDataFraction: 0.005, BigCounterFraction: 0.001}); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	src := buf.Bytes()
	key := "AWSLogs/123456789012/vpcflowlogs/us-east-1/2025/01/01/123456789012_vpcflowlogs_us-east-1_fl-1_20250101T0000Z_ab.log.gz"
	etag := w.put(key, src)
	want := inputTruth(t, src)

	event := contract.ExecutionInput{Bucket: logBucket, Key: strings.ReplaceAll(key, "_", "%5F"), KeyEncoded: true, ETag: etag,
		Size: int64(len(src)), Source: contract.SourceEventBridge}

	// 1. The execution succeeds and the collectors see exactly the input.
	r := w.execute("e2e-first", event)
	if r.Status != "SUCCEEDED" {
		t.Fatalf("execution %s: %s: %s", r.Status, r.Error, r.Cause)
	}
	var sum contract.Summary
	if err := json.Unmarshal(r.Output, &sum); err != nil {
		t.Fatalf("output %s: %v", r.Output, err)
	}
	if sum.Chunks < 3 {
		t.Errorf("only %d chunks: the test wants a multi-chunk object", sum.Chunks)
	}
	if sum.Counts.Lines != want.lines || sum.Counts.Records != want.records {
		t.Errorf("summary lines %d records %d, input %d and %d", sum.Counts.Lines, sum.Counts.Records, want.lines, want.records)
	}
	w.checkNfdump("first execution", want)
	first := w.capture.take(t)
	checkContiguous(t, "first execution", first, 0, uint64(want.allRecords))
	if keys := w.stagingKeys(); len(keys) != 0 {
		t.Errorf("staging not empty after a successful execution: %v", keys)
	}
	obj, err := w.s3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(logBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("source object: %v", err)
	}
	b, _ := io.ReadAll(obj.Body)
	if !bytes.Equal(b, src) || aws.ToString(obj.ETag) != etag {
		t.Error("the source object changed")
	}

	// 2. Running the same execution again (every Task again, more than a
	// redrive does) sends nothing: every chunk is recorded done for both
	// receivers. (The collector is restarted for the later steps: a
	// stopped one refuses datagrams, which fails the Send step.)
	w.nf = collectortest.StartNfcapdWith(t, collectortest.NfcapdOptions{Port: w.nf.Port, RcvBuf: 16 << 20})
	r = w.execute("e2e-first", event)
	if r.Status != "SUCCEEDED" {
		t.Fatalf("re-run: %s: %s: %s", r.Status, r.Error, r.Cause)
	}
	if again := w.capture.take(t); len(again) != 0 {
		t.Errorf("re-running a finished execution sent %d messages again", len(again))
	}
	var rerun contract.Summary
	if err := json.Unmarshal(r.Output, &rerun); err != nil || fmt.Sprint(rerun.Receivers) != fmt.Sprint(sum.Receivers) {
		t.Errorf("re-run summary %s, first %+v (%v)", r.Output, sum.Receivers, err)
	}

	// 3. A duplicate event (another execution, same object version) ends early.
	r = w.execute("e2e-duplicate", event)
	if r.Status != "SUCCEEDED" || !strings.Contains(string(r.Output), "already processed by") {
		t.Errorf("duplicate event: %s %s", r.Status, r.Output)
	}
	if msgs := w.capture.take(t); len(msgs) != 0 {
		t.Errorf("a duplicate event sent %d datagrams", len(msgs))
	}

	// 4. Reprocessing (a new execution) gets the next numbers; a sender
	// whose staging read fails once is retried, and one whose staging GET
	// drops midway (after some datagrams left) resumes after the last
	// datagram it recorded: the collector still sees every sequence
	// number exactly as reserved, once.
	w.faults.arm("c00001/r1.frames", 3)
	w.cuts.arm("c00002/r1.frames", 40_000, 1)
	re := contract.ExecutionInput{Bucket: logBucket, Key: key, Source: contract.SourceManual, Reprocess: true}
	r = w.execute("e2e-reprocess", re)
	if r.Status != "SUCCEEDED" {
		t.Fatalf("reprocess: %s: %s: %s", r.Status, r.Error, r.Cause)
	}
	if w.faults.hits.Load() != 3 || w.cuts.hits.Load() != 1 {
		t.Errorf("the injected staging faults hit %d and %d times, want 3 and 1", w.faults.hits.Load(), w.cuts.hits.Load())
	}
	checkContiguous(t, "reprocess", w.capture.take(t), uint64(want.allRecords), uint64(want.allRecords))

	// 4b. Redrive. A staging GET that drops at the same byte on every
	// attempt exhausts the sender's retries: the execution fails with the
	// Task's error (no Catch). The collectors got everything before that
	// point. Running the execution again, as the runbook's redrive does,
	// finishes it: chunks recorded done are not resent, the cut chunk
	// resumes after its last recorded datagram, and the numbers are those
	// of the first attempt, so across both runs each collector sees every
	// sequence number once, in order, with exact totals.
	w.nf.Stop(t)
	w.nf = collectortest.StartNfcapdWith(t, collectortest.NfcapdOptions{Port: w.nf.Port, RcvBuf: 16 << 20})
	w.cuts.hits.Store(0)
	w.cuts.arm("c00001/r1.frames", 40_000, 6) // 1 attempt + 5 RetryableError retries
	r = w.execute("e2e-redrive", re)
	if r.Status != "FAILED" || r.Error != "RetryableError" || !strings.Contains(r.Cause, "Send failed") || !strings.Contains(r.Cause, "s3://"+logBucket+"/"+key) {
		t.Fatalf("cut execution: %s %s %s; want FAILED with RetryableError naming the step and the object", r.Status, r.Error, r.Cause)
	}
	if w.cuts.hits.Load() != 6 {
		t.Errorf("the cut hit %d times, want 6", w.cuts.hits.Load())
	}
	failedPart := w.capture.take(t)
	r = w.execute("e2e-redrive", re)
	if r.Status != "SUCCEEDED" {
		t.Fatalf("redrive: %s: %s: %s", r.Status, r.Error, r.Cause)
	}
	redriven := w.capture.take(t)
	t.Logf("redrive: the failed run sent %d IPFIX messages, the redrive %d", len(failedPart), len(redriven))
	if len(failedPart) == 0 || len(redriven) == 0 {
		t.Errorf("the failed run sent %d messages, the redrive %d: want both parts", len(failedPart), len(redriven))
	}
	checkContiguous(t, "failed run + redrive", append(failedPart, redriven...), 2*uint64(want.allRecords), uint64(want.allRecords))
	w.checkNfdump("failed run + redrive", want)
	if keys := w.stagingKeys(); len(keys) != 0 {
		t.Errorf("staging not empty after the redrive: %v", keys)
	}
	w.nf = collectortest.StartNfcapdWith(t, collectortest.NfcapdOptions{Port: w.nf.Port, RcvBuf: 16 << 20})

	// 4c. A small object (below FL2NF_SMALL_OBJECT_BYTES, 64 KiB here)
	// goes to Convert: one sender invocation runs Plan, Parse, Reserve and
	// Send. The collectors see exactly its flows, with the exporters' next
	// numbers and no gap, and running it again sends nothing.
	var sbuf bytes.Buffer
	szw := gzip.NewWriter(&sbuf)
	if _, err := flowgen.Write(szw, flowgen.Options{Lines: 1500, Seed: 12, Header: true, IPv6Fraction: 0.05, RejectFraction: 0.1}); err != nil {
		t.Fatal(err)
	}
	szw.Close()
	small := sbuf.Bytes()
	if len(small) >= 64<<10 {
		t.Fatalf("the small object is %d bytes, not below the 64 KiB threshold", len(small))
	}
	smallKey := "AWSLogs/123456789012/vpcflowlogs/us-east-1/2025/01/01/small.log.gz"
	smallETag := w.put(smallKey, small)
	smallTruth := inputTruth(t, small)
	smallEvent := contract.ExecutionInput{Bucket: logBucket, Key: smallKey, ETag: smallETag, Size: int64(len(small)), Source: contract.SourceEventBridge}
	convert0, plan0 := w.fns["Convert"].invocations(), w.fns["Plan"].invocations()
	r = w.execute("e2e-small", smallEvent)
	if r.Status != "SUCCEEDED" {
		t.Fatalf("small object: %s: %s: %s", r.Status, r.Error, r.Cause)
	}
	if c, p := w.fns["Convert"].invocations()-convert0, w.fns["Plan"].invocations()-plan0; c != 1 || p != 0 {
		t.Errorf("small object: Convert invoked %d times, Plan %d; want 1 and 0", c, p)
	}
	var smallSum contract.Summary
	if err := json.Unmarshal(r.Output, &smallSum); err != nil || smallSum.Counts.Lines != smallTruth.lines || smallSum.Chunks != 1 {
		t.Errorf("small object summary %s (%v); want %d lines in 1 chunk", r.Output, err, smallTruth.lines)
	}
	checkContiguous(t, "small object", w.capture.take(t), 3*uint64(want.allRecords), uint64(smallTruth.allRecords))
	r = w.execute("e2e-small", smallEvent)
	if r.Status != "SUCCEEDED" {
		t.Fatalf("small object again: %s: %s: %s", r.Status, r.Error, r.Cause)
	}
	if n := len(w.capture.take(t)); n != 0 {
		t.Errorf("converting the small object again sent %d messages", n)
	}
	w.checkNfdump("small object", smallTruth)
	w.nf = collectortest.StartNfcapdWith(t, collectortest.NfcapdOptions{Port: w.nf.Port, RcvBuf: 16 << 20})

	// 4d. A CloudWatch Logs subscription payload as Firehose delivers it
	// (one gzip member per record, JSON documents concatenated, a
	// CONTROL_MESSAGE first): converted with the configured format, every
	// event a record, the control event counted, exact at the collectors.
	var textBuf bytes.Buffer
	if _, err := flowgen.Write(&textBuf, flowgen.Options{Lines: 4000, Seed: 13, Header: true, RejectFraction: 0.1, Format: flowlog.DefaultFormat}); err != nil {
		t.Fatal(err)
	}
	var withHeader bytes.Buffer
	hz := gzip.NewWriter(&withHeader)
	hz.Write(textBuf.Bytes())
	hz.Close()
	cwTruth := inputTruth(t, withHeader.Bytes())
	events := strings.Split(strings.TrimSpace(textBuf.String()), "\n")[1:] // without the header
	var cwObj bytes.Buffer
	member := func(doc []byte) {
		zw := gzip.NewWriter(&cwObj)
		zw.Write(doc)
		zw.Close()
	}
	member([]byte(`{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1700000000000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`))
	for i := 0; i < len(events); i += 700 {
		type event struct {
			ID        string `json:"id"`
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		}
		doc := struct {
			MessageType         string   `json:"messageType"`
			Owner               string   `json:"owner"`
			LogGroup            string   `json:"logGroup"`
			LogStream           string   `json:"logStream"`
			SubscriptionFilters []string `json:"subscriptionFilters"`
			LogEvents           []event  `json:"logEvents"`
		}{"DATA_MESSAGE", "123456789012", "vpc-flow-logs", "eni-0a1b2c3d4e5f67890-all", []string{"to-firehose"}, nil}
		for j, e := range events[i:min(i+700, len(events))] {
			doc.LogEvents = append(doc.LogEvents, event{fmt.Sprintf("3%020d", i+j), 1700000000000 + int64(i+j), e})
		}
		b, _ := json.Marshal(doc)
		member(b)
	}
	cwKey := "firehose/2025/01/01/00/fl2nf-cw-1-2025-01-01-00-00-00-abcd"
	cwETag := w.put(cwKey, cwObj.Bytes())
	r = w.execute("e2e-cloudwatch", contract.ExecutionInput{Bucket: logBucket, Key: cwKey, ETag: cwETag, Size: int64(cwObj.Len()), Source: contract.SourceEventBridge})
	if r.Status != "SUCCEEDED" {
		t.Fatalf("CloudWatch payload: %s: %s: %s", r.Status, r.Error, r.Cause)
	}
	var cwSum contract.Summary
	if err := json.Unmarshal(r.Output, &cwSum); err != nil {
		t.Fatal(err)
	}
	if cwSum.Counts.Records != cwTruth.records || cwSum.Counts.Lines != cwTruth.lines || cwSum.Counts.Skipped[contract.SkipControl] != 1 {
		t.Errorf("CloudWatch payload summary %+v; want %d records of %d lines (the header of the text replaced by one control event)", cwSum.Counts, cwTruth.records, cwTruth.lines)
	}
	checkContiguous(t, "CloudWatch payload", w.capture.take(t), 3*uint64(want.allRecords)+uint64(smallTruth.allRecords), uint64(cwTruth.allRecords))
	w.checkNfdump("CloudWatch payload", cwTruth)
	w.nf = collectortest.StartNfcapdWith(t, collectortest.NfcapdOptions{Port: w.nf.Port, RcvBuf: 16 << 20})

	// 4e. A Parquet flow log (written by parquetjs, AWS's columns, GZIP
	// pages, 6 row groups): planned from its footer into chunks of row
	// groups, each parsed from its byte range, exact at the collectors.
	var pqText bytes.Buffer
	if _, err := flowgen.Write(&pqText, flowgen.Options{Lines: 120000, Seed: 14, Header: true, RejectFraction: 0.1, Format: flowlog.DefaultFormat}); err != nil {
		t.Fatal(err)
	}
	var pqGz bytes.Buffer
	pz := gzip.NewWriter(&pqGz)
	pz.Write(pqText.Bytes())
	pz.Close()
	pqTruth := inputTruth(t, pqGz.Bytes())
	pqDir := t.TempDir()
	os.WriteFile(filepath.Join(pqDir, "in.log"), pqText.Bytes(), 0o644)
	collectortest.WriteParquet(t, filepath.Join(pqDir, "in.log"), filepath.Join(pqDir, "out.parquet"), 20000)
	pqObj, err := os.ReadFile(filepath.Join(pqDir, "out.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	pqKey := "AWSLogs/123456789012/vpcflowlogs/us-east-1/2025/01/01/123456789012_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f67890_20250101T0000Z_1a2b3c4d.log.parquet"
	pqETag := w.put(pqKey, pqObj)
	parse0 := w.fns["ParseChunk"].invocations()
	r = w.execute("e2e-parquet", contract.ExecutionInput{Bucket: logBucket, Key: pqKey, ETag: pqETag, Size: int64(len(pqObj)), Source: contract.SourceEventBridge})
	if r.Status != "SUCCEEDED" {
		t.Fatalf("Parquet object: %s: %s: %s", r.Status, r.Error, r.Cause)
	}
	var pqSum contract.Summary
	if err := json.Unmarshal(r.Output, &pqSum); err != nil {
		t.Fatal(err)
	}
	// The text has a header line; the Parquet file has columns instead.
	if pqSum.Counts.Records != pqTruth.records || pqSum.Counts.Lines != pqTruth.lines-1 || pqSum.Chunks < 2 {
		t.Errorf("Parquet summary %+v in %d chunks; want %d records of %d rows in several chunks", pqSum.Counts, pqSum.Chunks, pqTruth.records, pqTruth.lines-1)
	}
	if n := w.fns["ParseChunk"].invocations() - parse0; n != pqSum.Chunks {
		t.Errorf("Parquet object: %d Parse invocations for %d chunks", n, pqSum.Chunks)
	}
	checkContiguous(t, "Parquet object", w.capture.take(t), 3*uint64(want.allRecords)+uint64(smallTruth.allRecords)+uint64(cwTruth.allRecords), uint64(pqTruth.allRecords))
	w.checkNfdump("Parquet object", pqTruth)
	w.nf = collectortest.StartNfcapdWith(t, collectortest.NfcapdOptions{Port: w.nf.Port, RcvBuf: 16 << 20})

	// 5. A corrupt object fails the execution with a cause naming the
	// object and the compressed offset.
	bad := append([]byte(nil), src...)
	for i := len(bad) / 2; i < len(bad)/2+64; i++ {
		bad[i] ^= 0x5a
	}
	badKey := "AWSLogs/123456789012/vpcflowlogs/us-east-1/2025/01/01/corrupt.log.gz"
	w.put(badKey, bad)
	r = w.execute("e2e-corrupt", contract.ExecutionInput{Bucket: logBucket, Key: badKey, Source: contract.SourceManual})
	if r.Status != "FAILED" || r.Error != "InvalidInputError" || !strings.Contains(r.Cause, "s3://"+logBucket+"/"+badKey) || !strings.Contains(r.Cause, "compressed byte") {
		t.Errorf("corrupt object: status %s, error %s, cause %s", r.Status, r.Error, r.Cause)
	}

	// 6. An object whose format cannot be converted (a header without
	// srcaddr, dstaddr or times) fails at Plan as invalid input with a
	// cause naming the object and what is missing, and nothing is sent.
	w.capture.take(t)
	w.failsUnsent("no-srcaddr.log.gz", "version account-id action log-status\n2 123456789012 ACCEPT OK\n2 123456789012 REJECT OK\n",
		"no srcaddr", "cannot be converted")
	// 7. An object whose every data line is malformed (bad addresses)
	// fails at Reserve with a cause naming the object and the first
	// reason, and nothing is sent.
	w.failsUnsent("bad-addr.log.gz", "version srcaddr dstaddr start end action log-status\n2 not-an-ip 10.0.0.1 1 2 ACCEPT OK\n2 10.0.0.1 nope 1 2 ACCEPT OK\n",
		"every data line is malformed", "line 2: ")
}

// checkNfdump stops nfcapd and checks that it decoded exactly want's IPv4
// records, bytes and packets (the v5 receiver), with no sequence failure.
func (w *world) checkNfdump(what string, want truth) {
	t := w.t
	t.Helper()
	w.nf.Stop(t)
	var got truth
	collectortest.Records(t, w.nf.Dir, func(r collectortest.NfRecord) {
		got.v4Records++
		got.v4Bytes += r.Bytes
		got.v4Pkts += r.Packets
	})
	if got.v4Records != want.v4Records || got.v4Bytes != want.v4Bytes || got.v4Pkts != want.v4Pkts {
		t.Errorf("%s, nfdump: %d records, %d bytes, %d packets; input %d, %d, %d", what, got.v4Records, got.v4Bytes, got.v4Pkts, want.v4Records, want.v4Bytes, want.v4Pkts)
	}
	if f := collectortest.Stats(t, w.nf.Dir)["Sequence failures"]; f != "0" {
		t.Errorf("%s, nfdump -I: sequence failures %q", what, f)
	}
}

// failsUnsent puts a gzip object holding content under the day's prefix,
// runs an execution for it, and checks that it fails as InvalidInputError
// with a cause naming the object and holding wants, and that nothing was
// sent.
func (w *world) failsUnsent(name, content string, wants ...string) {
	t := w.t
	t.Helper()
	key := "AWSLogs/123456789012/vpcflowlogs/us-east-1/2025/01/01/" + name
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte(content))
	zw.Close()
	w.put(key, zb.Bytes())
	r := w.execute("e2e-"+strings.TrimSuffix(name, ".log.gz"), contract.ExecutionInput{Bucket: logBucket, Key: key, Source: contract.SourceManual})
	ok := r.Status == "FAILED" && r.Error == "InvalidInputError" && strings.Contains(r.Cause, "s3://"+logBucket+"/"+key)
	for _, want := range wants {
		ok = ok && strings.Contains(r.Cause, want)
	}
	if !ok {
		t.Errorf("%s: status %s, error %s, cause %s; want FAILED, InvalidInputError, the object and %q", name, r.Status, r.Error, r.Cause, wants)
	}
	if msgs := w.capture.take(t); len(msgs) != 0 {
		t.Errorf("%s: %d messages sent", name, len(msgs))
	}
}

// checkContiguous checks that the IPFIX messages carry every sequence
// number from first for n data records, once, in order, and returns the
// sequence numbers.
func checkContiguous(t *testing.T, what string, msgs []ipfixMsg, first, n uint64) []uint32 {
	t.Helper()
	next := uint32(first)
	var total uint64
	var seqs []uint32
	for i, m := range msgs {
		if m.seq != next {
			t.Errorf("%s: message %d has sequence %d, want %d", what, i, m.seq, next)
			return seqs
		}
		seqs = append(seqs, m.seq)
		next += uint32(m.records)
		total += uint64(m.records)
	}
	if total != n {
		t.Errorf("%s: %d data records in %d messages, want %d", what, total, len(msgs), n)
	}
	return seqs
}
