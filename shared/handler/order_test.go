package handler

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/collectortest"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dedup"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dynalite"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/fakes3"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowgen"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/progress"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/progress/dynamoprogress"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/receiver"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/dynamoseq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/sfnerr"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

// TestTwentyObjectsAtOnce: 20 flow-log objects converted at the same time
// (20 executions, each in its own "Lambda environment": its own sender
// sockets and /tmp staging) for two receivers, nfcapd (NetFlow v9) and
// nfacctd (IPFIX), both at their own defaults. The sequence table is
// dynalite, the objects are in gofakes3. Each collector sees every
// sequence number once, in order — 0 sequence failures in nfdump and no
// "expecting flow" line from nfacctd — and exact totals: the send order
// makes each exporter's sends follow its reservations across executions.
// A send that has to wait longer than MaxWait returns ExporterBusyError,
// which is retried here as the state machine's retrier does.
func TestTwentyObjectsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("collectors")
	}
	runTwenty(t, true)
}

// runTwenty converts 20 objects at once, with the send order on or off,
// and returns the collectors' sequence problems (nfdump sequence failures,
// nfacctd sequence errors).
func runTwenty(t *testing.T, ordered bool) (nfFailures string, pmErrors int) {
	metricsOut = discard{}
	srv := fakes3.Start(t, "logs")
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	if err := dynamoseq.EnsureTable(t.Context(), db, "seq"); err != nil {
		t.Fatal(err)
	}
	seqs, err := dynamoseq.New(db, "seq", dynamoseq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dd, err := dedup.New(db, "seq", dedup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nf := collectortest.StartNfcapdWith(t, collectortest.NfcapdOptions{})
	pm := collectortest.StartNfacctdWith(t, collectortest.NfacctdOptions{})
	rs, err := receiver.ParseAll([]string{"netflow9://" + nf.Addr() + "?source-id=3", "ipfix://" + pm.Addr() + "?domain=9"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Receivers = rs

	const objects, lines = 20, 3000
	var want struct{ records, bytes, packets uint64 }
	inputs := make([]contract.PlanInput, objects)
	for i := range objects {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := flowgen.Write(zw, flowgen.Options{Lines: lines, Seed: int64(100 + i), Header: true, RejectFraction: 0.1}); err != nil {
			t.Fatal(err)
		}
		zw.Close()
		key := fmt.Sprintf("AWSLogs/123456789012/vpcflowlogs/us-east-1/2025/01/01/obj-%02d.log.gz", i)
		put(t, srv, key, buf.Bytes())
		zr, _ := gzip.NewReader(bytes.NewReader(buf.Bytes()))
		flowlog.NewParser(flowlog.Options{}).Scan(zr, func(r *flow.Record) error {
			want.records++
			want.bytes += r.Bytes
			want.packets += r.Packets
			return nil
		})
		inputs[i] = contract.PlanInput{
			ExecutionID:   fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:fl2nf:obj-%02d", i),
			ExecutionName: fmt.Sprintf("obj-%02d", i),
			Input:         contract.ExecutionInput{Bucket: "logs", Key: key, Size: int64(buf.Len()), Source: contract.SourceEventBridge},
		}
	}

	var busy atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range objects {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := staging.Dir{Root: filepath.Join(t.TempDir(), "staging")}
			split, err := NewSplitter(srv.Client, local, dd, cfg)
			if err != nil {
				t.Error(err)
				return
			}
			send := &Sender{Progress: &dynamoprogress.Store{DB: db, Table: "seq"}, MaxWait: time.Second}
			if ordered {
				send.Order = seqs
			}
			c := &Converter{
				Splitter:  split,
				Parser:    &Parser{S3: srv.Client, Staging: local},
				Allocator: &Allocator{Store: seqs, Staging: local},
				Sender:    send,
				Staging:   local,
			}
			<-start
			for attempt := 0; ; attempt++ {
				_, err := c.Handle(t.Context(), inputs[i])
				var b *sfnerr.ExporterBusyError
				if errors.As(err, &b) && attempt < 300 {
					busy.Add(1)
					time.Sleep(50 * time.Millisecond)
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", inputs[i].ExecutionName, err)
				}
				return
			}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d objects of %d lines, ordered=%v: %v, %d ExporterBusyError retries", objects, lines, ordered, time.Since(began).Round(time.Millisecond), busy.Load())

	nf.Stop(t)
	var nfGot struct{ records, bytes, packets uint64 }
	collectortest.Records(t, nf.Dir, func(r collectortest.NfRecord) {
		nfGot.records++
		nfGot.bytes += r.Bytes
		nfGot.packets += r.Packets
	})
	nfFailures = collectortest.Stats(t, nf.Dir)["Sequence failures"]
	pm.Stop(t)
	var pmGot struct{ records, bytes, packets uint64 }
	pm.Records(t, func(r collectortest.PmRecord) {
		pmGot.records++
		pmGot.bytes += r.Bytes
		pmGot.packets += r.Packets
	})
	pmErrors = len(pm.SequenceErrors(t))
	t.Logf("nfdump: %d records, sequence failures %s; nfacctd: %d records, %d sequence errors; input %d records",
		nfGot.records, nfFailures, pmGot.records, pmErrors, want.records)
	if !ordered {
		return nfFailures, pmErrors
	}
	if nfGot != want {
		t.Errorf("nfdump totals %+v, input %+v", nfGot, want)
	}
	if pmGot != want {
		t.Errorf("nfacctd totals %+v, input %+v", pmGot, want)
	}
	if nfFailures != "0" || pmErrors != 0 {
		t.Errorf("sequence problems: nfdump %q failures, nfacctd %d errors %v", nfFailures, pmErrors, pm.SequenceErrors(t))
	}
	// The numbers really were handed out across executions: the
	// exporters' counters moved by every object.
	for _, r := range rs {
		st, err := seqs.Inspect(t.Context(), r.Exporter())
		if err != nil || st.Claims != objects {
			t.Errorf("%s: %+v, %v; want %d claims", r.Exporter(), st, err, objects)
		}
	}
	return nfFailures, pmErrors
}

// TestTwentyObjectsUnordered is the control: the same run without the send
// order must show sequence problems at the collectors, so the test above
// is known to catch interleaved executions.
func TestTwentyObjectsUnordered(t *testing.T) {
	if testing.Short() {
		t.Skip("collectors")
	}
	nf, pm := runTwenty(t, false)
	if nf == "0" && pm == 0 {
		t.Errorf("20 objects at once without the send order: no sequence problem at either collector; the ordered test proves nothing")
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestSenderGivesUpStalledRange: a range whose execution stopped (reserved,
// never sent) is given up once it stalls: the next range goes, its output
// and the SequenceSkipped metric say how many numbers were given up; the
// stopped range, redriven later, is sent anyway, marked late (LateSends).
func TestSenderGivesUpStalledRange(t *testing.T) {
	var metrics bytes.Buffer
	metricsOut = &metrics
	defer func() { metricsOut = discard{} }()
	db := dynalite.Client(dynalite.Start(t, dynalite.Options{}))
	if err := dynamoseq.EnsureTable(t.Context(), db, "seq"); err != nil {
		t.Fatal(err)
	}
	seqs, _ := dynamoseq.New(db, "seq", dynamoseq.Options{})
	cp := startSeqCapture(t)
	st := staging.Dir{Root: t.TempDir()}
	url := fmt.Sprintf("ipfix://127.0.0.1:%d?domain=4&pps=0", cp.port())
	rc, _ := receiver.Parse(url)
	probe, _ := stageChunk(t, st, url, 9, 500, 0) // sizes the ranges
	st.Delete(t.Context(), probe.StagingKey())
	a, _ := seqs.Reserve(t.Context(), rc.Exporter(), "exec-a", probe.Count)
	b, _ := seqs.Reserve(t.Context(), rc.Exporter(), "exec-b", probe.Count)
	inB, _ := stageChunk(t, st, url, 0, 500, b.First)
	inB.ExecutionID = "exec-b"
	s := &Sender{Staging: st, Progress: &progress.Memory{}, Order: seqs, Stall: time.Nanosecond, MaxWait: time.Second}
	out, err := s.Handle(t.Context(), inB)
	if err != nil {
		t.Fatal(err)
	}
	if out.Skipped != a.Count || out.Late {
		t.Errorf("B's output %+v: want %d skipped (A's range), not late", out, a.Count)
	}
	inA, _ := stageChunk(t, st, url, 1, 500, a.First)
	inA.ExecutionID = "exec-a"
	out, err = s.Handle(t.Context(), inA)
	if err != nil || !out.Late || out.Skipped != 0 {
		t.Errorf("A sent after B: %+v, %v; want late", out, err)
	}
	if got := len(cp.take(t)); uint64(got) != inA.Frames+inB.Frames {
		t.Errorf("%d datagrams reached the collector, want both chunks' %d", got, inA.Frames+inB.Frames)
	}
	m := metrics.String()
	if !strings.Contains(m, fmt.Sprintf(`"SequenceSkipped":%d`, a.Count)) || !strings.Contains(m, `"LateSends":1`) {
		t.Errorf("metrics lack SequenceSkipped %d or LateSends 1:\n%s", a.Count, m)
	}
}
