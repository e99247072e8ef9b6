package nfv5_test

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// requireTool finds name on PATH or skips, unless FL2NF_REQUIRE_INTEGRATION=1.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("FL2NF_REQUIRE_INTEGRATION") == "1" {
			t.Fatalf("%s not on PATH and FL2NF_REQUIRE_INTEGRATION=1: %v", name, err)
		}
		t.Skipf("%s not on PATH (apt-get install nfdump): %v", name, err)
	}
	return p
}

// TestNfcapd sends finished datagrams to a real nfcapd on loopback and
// checks what nfdump reads back: every flow, its counters summed, its
// start and end to the second for flows of any age, and no sequence
// failure.
func TestNfcapd(t *testing.T) {
	nfcapd := requireTool(t, "nfcapd")
	nfdump := requireTool(t, "nfdump")

	now := time.Now().Truncate(time.Second)
	var recs []flow.Record
	ages := []time.Duration{5 * time.Minute, 49 * 24 * time.Hour, 50 * 24 * time.Hour, 365 * 24 * time.Hour, -24 * time.Hour}
	for i, age := range ages {
		s := now.Add(-age).Unix()
		for j := range 13 {
			recs = append(recs, v4("10.20.0.1", "10.20.0.2", uint16(1000*i+j), 443, 6, uint64(3+j), uint64(300+j), s+int64(j), s+int64(j)+59))
		}
	}
	recs = append(recs, v4("10.20.0.3", "10.20.0.4", 65000, 7, 17, 5_000_000_000, 9_000_000_000, now.Unix()-600, now.Unix()-300))
	dgrams := finishAll(t, mustEncode(t, testCfg, recs), 100, now)

	dir := t.TempDir()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	cmd := exec.CommandContext(t.Context(), nfcapd, "-w", dir, "-p", strconv.Itoa(port), "-b", "127.0.0.1", "-t", "3600")
	out, err := os.Create(filepath.Join(t.TempDir(), "nfcapd.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m, _ := filepath.Glob(filepath.Join(dir, "nfcapd.current.*")); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nfcapd did not start: see %s", out.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
	conn, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, d := range dgrams {
		if _, err := conn.Write(d); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if err := cmd.Wait(); err != nil {
		t.Fatalf("nfcapd: %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "nfcapd.2*")); len(files) == 0 {
		t.Fatalf("nfcapd wrote no file: see %s", out.Name())
	}
	dump := exec.CommandContext(t.Context(), nfdump, "-R", dir, "-o", "json")
	dump.Env = append(os.Environ(), "TZ=UTC") // nfdump prints local time
	js, err := dump.Output()
	if err != nil {
		t.Fatalf("nfdump -o json: %v", err)
	}
	var rows []struct {
		First   string `json:"first"`
		Last    string `json:"last"`
		Src     string `json:"src4_addr"`
		SrcPort uint16 `json:"src_port"`
		Packets uint64 `json:"in_packets"`
		Bytes   uint64 `json:"in_bytes"`
	}
	if err := json.Unmarshal(js, &rows); err != nil {
		t.Fatalf("nfdump json: %v\n%s", err, js)
	}
	type got struct {
		Start, End     int64
		Packets, Bytes uint64
	}
	gotBy := make(map[uint16]got)
	for _, r := range rows {
		st, err1 := time.Parse("2006-01-02T15:04:05.000", r.First)
		en, err2 := time.Parse("2006-01-02T15:04:05.000", r.Last)
		if err1 != nil || err2 != nil {
			t.Fatalf("nfdump times %q %q: %v %v", r.First, r.Last, err1, err2)
		}
		g := gotBy[r.SrcPort]
		gotBy[r.SrcPort] = got{st.Unix(), en.Unix(), g.Packets + r.Packets, g.Bytes + r.Bytes}
	}
	wantBy := make(map[uint16]got)
	for _, r := range recs {
		wantBy[r.SrcPort] = got{r.Start, r.End, r.Packets, r.Bytes}
	}
	if diff := cmp.Diff(wantBy, gotBy); diff != "" {
		t.Errorf("nfdump flows by source port (-want +got):\n%s", diff)
	}

	stat, err := exec.CommandContext(t.Context(), nfdump, "-R", dir, "-I").Output()
	if err != nil {
		t.Fatalf("nfdump -I: %v", err)
	}
	t.Logf("nfdump -I:\n%s", stat)
	if !regexpSeqOK(string(stat)) {
		t.Errorf("nfdump reports sequence failures:\n%s", stat)
	}
}

// regexpSeqOK reports whether nfdump -I counted no sequence failure.
func regexpSeqOK(stat string) bool {
	m := regexp.MustCompile(`(?m)^Sequence failures:\s*(\d+)`).FindStringSubmatch(stat)
	return m != nil && m[1] == "0"
}
