package collectortest

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NfRecord is one flow as nfdump decoded it.
type NfRecord struct {
	Start, End       time.Time
	SrcAddr, DstAddr netip.Addr
	SrcPort, DstPort uint16
	Protocol         uint8
	Packets, Bytes   uint64
	In, Out          uint32
}

const nfdumpFmt = "fmt:%tsr|%ter|%sa|%da|%sp|%dp|%pr|%pkt|%byt|%in|%out"

// Records runs nfdump over every file in dir and calls fn for each record
// (streaming, so a million flows need little memory).
func Records(t testing.TB, dir string, fn func(NfRecord)) {
	t.Helper()
	cmd := exec.Command(Need(t, "nfdump"), "-R", dir, "-q", "-N", "-o", nfdumpFmt)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		r, err := parseNfLine(line)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("nfdump line %d %q: %v", n+1, line, err)
		}
		n++
		fn(r)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("nfdump -R %s: %v", dir, err)
	}
}

func parseNfLine(line string) (NfRecord, error) {
	f := strings.Split(line, "|")
	if len(f) != 11 {
		return NfRecord{}, fmt.Errorf("%d fields", len(f))
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	var r NfRecord
	var err error
	ms := func(s string) (time.Time, error) {
		// %tsr/%ter print Unix seconds with a millisecond fraction.
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, err
		}
		return time.UnixMilli(int64(v*1000 + 0.5)).UTC(), nil
	}
	u := func(s string, bits int) uint64 {
		if err != nil {
			return 0
		}
		var v uint64
		v, err = strconv.ParseUint(s, 10, bits)
		return v
	}
	if r.Start, err = ms(f[0]); err != nil {
		return r, err
	}
	if r.End, err = ms(f[1]); err != nil {
		return r, err
	}
	if r.SrcAddr, err = netip.ParseAddr(f[2]); err != nil {
		return r, err
	}
	if r.DstAddr, err = netip.ParseAddr(f[3]); err != nil {
		return r, err
	}
	r.SrcPort = uint16(u(f[4], 16))
	if typ, code, ok := strings.Cut(f[5], "."); ok {
		// ICMP: nfdump prints the destination port as type.code.
		r.DstPort = uint16(u(typ, 8)<<8 | u(code, 8))
	} else {
		r.DstPort = uint16(u(f[5], 16))
	}
	if p, perr := strconv.ParseUint(f[6], 10, 8); perr == nil {
		r.Protocol = uint8(p)
	} else {
		r.Protocol = protoNumber(f[6])
	}
	r.Packets = u(f[7], 64)
	r.Bytes = u(f[8], 64)
	r.In = uint32(u(f[9], 32))
	r.Out = uint32(u(f[10], 32))
	return r, err
}

func protoNumber(s string) uint8 {
	switch strings.ToUpper(s) {
	case "ICMP":
		return 1
	case "TCP":
		return 6
	case "UDP":
		return 17
	case "ICMP6":
		return 58
	case "GRE":
		return 47
	case "ESP":
		return 50
	}
	return 0
}

// Stats runs nfdump -I over dir and returns its key: value lines
// (Flows, Packets, Bytes, Sequence failures, ...).
func Stats(t testing.TB, dir string) map[string]string {
	t.Helper()
	cmd := exec.Command(Need(t, "nfdump"), "-R", dir, "-I")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nfdump -I: %v", err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}
