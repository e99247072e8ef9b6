package receiver

import (
	"strings"
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
)

func TestParse(t *testing.T) {
	r, err := Parse("netflow5://127.0.0.1:9995?engine-type=1&engine-id=2&pps=20000")
	if err != nil {
		t.Fatal(err)
	}
	if r.Protocol != netflow.V5 || r.Port != 9995 || r.EngineType != 1 || r.EngineID != 2 || r.PPS != 20000 {
		t.Errorf("%+v", r)
	}
	if got, want := r.Exporter(), "netflow5|127.0.0.1:9995|engine=1/2"; got != want {
		t.Errorf("Exporter = %q, want %q", got, want)
	}
	r, err = Parse("ipfix://[::1]?domain=9&mtu=1400&template-interval=10s")
	if err != nil {
		t.Fatal(err)
	}
	if r.Port != 4739 || r.Domain != 9 || r.MTU != 1400 || r.TemplateInterval != 10*time.Second || r.Address() != "[::1]:4739" {
		t.Errorf("%+v", r)
	}
	if r.PPS != DefaultPPS {
		t.Errorf("no pps option: PPS %d, want the default %d (paced, so a collector at its defaults loses nothing)", r.PPS, DefaultPPS)
	}
	if r, err := Parse("netflow9://h?pps=0"); err != nil || r.PPS != 0 {
		t.Errorf("pps=0: PPS %d, %v; want 0 (unpaced)", r.PPS, err)
	}
	if r.URL != "ipfix://[::1]:4739?domain=9&mtu=1400&template-interval=10s" {
		t.Errorf("canonical URL %q", r.URL)
	}
	for _, bad := range []string{
		"http://x:1", "netflow5://:2055", "netflow5://h:0", "netflow5://h:70000",
		"netflow5://h?domain=1", "netflow9://h?mtu=100", "ipfix://h?pps=x", "ipfix://h/path",
	} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestParseListDuplicates(t *testing.T) {
	_, err := ParseList("netflow5://h:1, netflow5://h:1?pps=5")
	if err == nil || !strings.Contains(err.Error(), "same exporter identity") {
		t.Errorf("duplicate identity: %v", err)
	}
	rs, err := ParseList("netflow5://h:1?engine-id=1, netflow5://h:1?engine-id=2, ipfix://h:1")
	if err != nil || len(rs) != 3 {
		t.Errorf("%v %v", rs, err)
	}
	if _, err := ParseList(" "); err == nil {
		t.Error("empty list accepted")
	}
}
