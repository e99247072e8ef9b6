// Command bench prints the project's throughput and memory figures on one
// generated flow log (make bench):
//
//   - end-to-end records/s: the CLI converting the file and sending NetFlow
//     v5 to a loopback collector (a UDP sink in this process), with
//     GOMAXPROCS=1, and its peak RSS;
//   - the baseline: gunzip plus line splitting of the same file in Go with
//     GOMAXPROCS=1, in records/s;
//   - their ratio;
//   - the same end-to-end run with IPFIX, and the chunked run with 2 workers;
//   - the end-to-end netflow5 run on a Parquet file of 1 M of the same
//     generated records (written by parquetjs, 100,000 rows a row group),
//     beside the gzip text figure (skipped when node or parquetjs is
//     missing: make deps).
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	lines := flag.Int64("lines", 5_000_000, "generated lines (5M lines ≈ 1 GB uncompressed)")
	cli := flag.String("cli", "bin/flowlogs2netflow", "the CLI binary")
	dir := flag.String("dir", ".cache/bench", "where the generated file is kept")
	flag.Parse()
	if err := run(*cli, *dir, *lines); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type result struct {
	Lines     int64 `json:"lines"`
	Records   int64 `json:"records"`
	Receivers []struct {
		Datagrams uint64 `json:"datagrams"`
	} `json:"receivers"`
}

func run(cli, dir string, lines int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	file := filepath.Join(dir, fmt.Sprintf("flowlog-%d.log.gz", lines))
	if _, err := os.Stat(file); err != nil {
		fmt.Printf("generating %d lines into %s ...\n", lines, file)
		cmd := exec.Command(cli, "generate", "--lines", strconv.FormatInt(lines, 10), "--seed", "42", "--gzip",
			"--big", "0.0001", "--ipv6", "0.05", "-o", file+".tmp")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		if err := os.Rename(file+".tmp", file); err != nil {
			return err
		}
	}
	st, _ := os.Stat(file)

	// Baseline: gunzip + line split, one core.
	runtime.GOMAXPROCS(1)
	t0 := time.Now()
	n, ubytes, err := gunzipLines(file)
	if err != nil {
		return err
	}
	base := time.Since(t0)
	runtime.GOMAXPROCS(runtime.NumCPU())

	fmt.Printf("input: %s, %d lines, %.0f MB gzip, %.0f MB uncompressed\n", file, n, float64(st.Size())/1e6, float64(ubytes)/1e6)
	fmt.Printf("%-44s %10s %12s %10s %9s\n", "run", "seconds", "records/s", "MB/s", "peak RSS")
	baseRate := float64(n-1) / base.Seconds()
	fmt.Printf("%-44s %10.2f %12.0f %10.0f %9s\n", "baseline: gunzip + line split (GOMAXPROCS=1)", base.Seconds(), baseRate, float64(ubytes)/1e6/base.Seconds(), "-")

	type benchCase struct {
		name, url string
		procs     string
		workers   string
		chunk     string
		file      string
		ubytes    int64
	}
	cases := []benchCase{
		{"end-to-end netflow5 (GOMAXPROCS=1)", "netflow5://%s?pps=0", "1", "1", "4MiB", file, ubytes},
		{"end-to-end ipfix (GOMAXPROCS=1)", "ipfix://%s?pps=0", "1", "1", "4MiB", file, ubytes},
		{"end-to-end netflow5, 2 workers (GOMAXPROCS=2)", "netflow5://%s?pps=0", "2", "2", "4MiB", file, ubytes},
	}
	if pq, err := parquetInput(cli, dir); err != nil {
		fmt.Printf("(Parquet rows skipped: %v)\n", err)
	} else {
		pst, _ := os.Stat(pq)
		fmt.Printf("Parquet input: %s, 1000000 rows in 10 row groups, %.0f MB\n", pq, float64(pst.Size())/1e6)
		cases = append(cases,
			benchCase{"end-to-end netflow5, Parquet (GOMAXPROCS=1)", "netflow5://%s?pps=0", "1", "1", "4MiB", pq, pst.Size()},
			benchCase{"end-to-end netflow5, Parquet, 2 workers", "netflow5://%s?pps=0", "2", "2", "2MiB", pq, pst.Size()})
	}
	var v5rate, v5rate2 float64
	for _, c := range cases {
		sink, err := startSink()
		if err != nil {
			return err
		}
		stateDir, _ := os.MkdirTemp("", "fl2nf-bench-")
		cmd := exec.Command(cli, "run", "--progress", "never", "--summary", "json", "--workers", c.workers, "--chunk-size", c.chunk,
			"--state", filepath.Join(stateDir, "seq.db"), "--to", fmt.Sprintf(c.url, sink.addr), c.file)
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+c.procs)
		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = os.Stderr
		t0 := time.Now()
		err = cmd.Run()
		el := time.Since(t0)
		os.RemoveAll(stateDir)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		var r result
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			return fmt.Errorf("%s: summary: %w", c.name, err)
		}
		time.Sleep(200 * time.Millisecond)
		sink.close()
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
		rate := float64(r.Records) / el.Seconds()
		switch {
		case v5rate == 0:
			v5rate = rate
		case c.workers == "2" && c.file == file:
			v5rate2 = rate
		}
		fmt.Printf("%-44s %10.2f %12.0f %10.0f %7.0f MB   (%d datagrams sent, %d received)\n", c.name, el.Seconds(), rate,
			float64(c.ubytes)/1e6/el.Seconds(), float64(rss)/1024, r.Receivers[0].Datagrams, sink.got.Load())
	}
	fmt.Printf("ratio end-to-end netflow5 / baseline: %.2f (records/s over lines/s)\n", v5rate/baseRate)
	fmt.Printf("speedup 2 workers / 1 chunk (netflow5): %.2f\n", v5rate2/v5rate)
	return nil
}

// parquetInput returns a Parquet file of 1 M generated records (the same
// generator and seed as the text input), writing it with parquetjs
// (scripts/node/flowlog-to-parquet.mjs) the first time.
func parquetInput(cli, dir string) (string, error) {
	file := filepath.Join(dir, "flowlog-1000000.parquet")
	if _, err := os.Stat(file); err == nil {
		return file, nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat("scripts/node/node_modules/@dsnp/parquetjs"); err != nil {
		return "", fmt.Errorf("parquetjs is not installed (make deps): %w", err)
	}
	text := filepath.Join(dir, "flowlog-1000000.log")
	fmt.Printf("writing 1000000 rows as Parquet into %s (parquetjs, about a minute) ...\n", file)
	gen := exec.Command(cli, "generate", "--lines", "1000000", "--seed", "42", "--big", "0.0001", "--ipv6", "0.05", "-o", text)
	gen.Stderr = os.Stderr
	if err := gen.Run(); err != nil {
		return "", fmt.Errorf("generate: %w", err)
	}
	defer os.Remove(text)
	w := exec.Command(node, "scripts/node/flowlog-to-parquet.mjs", text, file+".tmp", "100000")
	w.Stderr = os.Stderr
	if err := w.Run(); err != nil {
		return "", fmt.Errorf("parquetjs: %w", err)
	}
	return file, os.Rename(file+".tmp", file)
}

func gunzipLines(file string) (lines, ubytes int64, err error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines++
		ubytes += int64(len(sc.Bytes())) + 1
	}
	return lines, ubytes, sc.Err()
}

type sink struct {
	conn *net.UDPConn
	addr string
	got  atomic.Int64
	done chan struct{}
}

// startSink is a loopback collector that drains and counts datagrams.
func startSink() (*sink, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	c.SetReadBuffer(16 << 20)
	s := &sink{conn: c, addr: c.LocalAddr().String(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 65536)
		for {
			if _, err := c.Read(buf); err != nil {
				return // closed
			}
			s.got.Add(1)
		}
	}()
	return s, nil
}

func (s *sink) close() { s.conn.Close(); <-s.done }
