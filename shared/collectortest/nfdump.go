package collectortest

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
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
	// FwdStatus is the forwarding status byte (NetFlow v9 89; nfdump 1.7.1
	// does not map it for IPFIX, where it is 0).
	FwdStatus uint8
	// Direction is the flow direction (v9 61 / IPFIX 61): 0 ingress, 1 egress.
	Direction uint8
	// EngineType and EngineID are nfdump's exporter tag of the record: the
	// v5 engine type and id, or the high and low byte of the v9 Source ID
	// or IPFIX Observation Domain ID.
	EngineType, EngineID uint8
}

const nfdumpFmt = "fmt:%tsr|%ter|%sa|%da|%sp|%dp|%pr|%pkt|%byt|%in|%out|%fwd|%dir|%eng"

// Records runs nfdump over every file in dir and calls fn for each record
// (streaming, so a million flows need little memory).
func Records(t testing.TB, dir string, fn func(NfRecord)) {
	t.Helper()
	// -6: full IPv6 addresses (nfdump abbreviates them otherwise).
	cmd := exec.Command(Need(t, "nfdump"), "-R", dir, "-q", "-N", "-6", "-o", nfdumpFmt)
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
	if len(f) != 14 {
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
	r.FwdStatus = uint8(u(f[11], 8))
	switch f[12] {
	case "I", "0", "":
		r.Direction = 0
	case "E", "1":
		r.Direction = 1
	default:
		r.Direction = uint8(u(f[12], 8))
	}
	if typ, id, ok := strings.Cut(f[13], "/"); ok {
		r.EngineType = uint8(u(strings.TrimSpace(typ), 8))
		r.EngineID = uint8(u(strings.TrimSpace(id), 8))
	}
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

// NfExporter is one exporter as nfdump -E lists it: the collector's
// exporter identity (address, version, engine/Source ID/Observation Domain)
// with its sequence failures and counts.
type NfExporter struct {
	SysID                       int
	IP                          string
	Version                     int
	ID                          uint32 // v5 engine type<<8|engine id, v9 Source ID, IPFIX Observation Domain ID
	SeqFailures, Packets, Flows uint64
}

// Exporters runs nfdump -E on every nfcapd file in dir and returns the
// exporters with their counts summed over the files, in the order nfdump
// lists them.
func Exporters(t testing.TB, dir string) []NfExporter {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "nfcapd.[0-9]*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []NfExporter
	index := map[string]int{}
	for _, f := range files {
		cmd := exec.Command(Need(t, "nfdump"), "-E", f)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("nfdump -E %s: %v", f, err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			e, ok := parseNfExporter(l)
			if !ok {
				continue
			}
			k := fmt.Sprintf("%s|%d|%d", e.IP, e.Version, e.ID)
			if i, seen := index[k]; seen {
				out[i].SeqFailures += e.SeqFailures
				out[i].Packets += e.Packets
				out[i].Flows += e.Flows
				continue
			}
			index[k] = len(out)
			out = append(out, e)
		}
	}
	return out
}

// parseNfExporter parses "SysID: 1, IP: 127.0.0.1, version: 10, ID: 10,
// Sequence failures: 0, packets: 148, flows: 2976".
func parseNfExporter(l string) (NfExporter, bool) {
	var e NfExporter
	if !strings.HasPrefix(strings.TrimSpace(l), "SysID:") {
		return e, false
	}
	n := 0
	for _, part := range strings.Split(l, ",") {
		k, v, ok := strings.Cut(part, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		num, _ := strconv.ParseUint(v, 10, 64)
		switch strings.TrimSpace(k) {
		case "SysID":
			e.SysID = int(num)
		case "IP":
			e.IP = v
		case "version":
			e.Version = int(num)
		case "ID":
			e.ID = uint32(num)
		case "Sequence failures":
			e.SeqFailures = num
		case "packets":
			e.Packets = num
		case "flows":
			e.Flows = num
		default:
			continue
		}
		n++
	}
	return e, n == 7
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
