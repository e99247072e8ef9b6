package receiver

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestCheckSameDestination(t *testing.T) {
	hosts := map[string][]netip.Addr{
		"localhost":      {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"collector.test": {netip.MustParseAddr("10.0.0.5")},
		"mapped.test":    {netip.MustParseAddr("::ffff:10.0.0.5")},
		"other.test":     {netip.MustParseAddr("10.0.0.6")},
	}
	lookup := func(_ context.Context, host string) ([]netip.Addr, error) {
		if a, ok := hosts[host]; ok {
			return a, nil
		}
		return nil, errors.New("no such host")
	}
	cases := []struct {
		name string
		urls []string
		want []string // words of the error; none: accepted
	}{
		{"name and its address", []string{"netflow9://localhost:2055", "netflow9://127.0.0.1:2055"},
			[]string{"netflow9://localhost:2055", "netflow9://127.0.0.1:2055", "same collector", "source-id"}},
		{"name and its IPv6 address", []string{"ipfix://[::1]:4739", "ipfix://localhost:4739"}, []string{"ipfix://[::1]:4739", "domain"}},
		{"two names of one address", []string{"netflow5://collector.test:2055", "netflow5://mapped.test:2055"}, []string{"engine-type/engine-id"}},
		{"IPv4-mapped literal", []string{"netflow9://10.0.0.5", "netflow9://[::ffff:10.0.0.5]"}, []string{"10.0.0.5:2055"}},
		{"different source ids", []string{"netflow9://localhost:2055?source-id=1", "netflow9://127.0.0.1:2055?source-id=2"}, nil},
		{"different protocols", []string{"netflow9://localhost:2055", "ipfix://127.0.0.1:2055"}, nil},
		{"different ports", []string{"netflow9://localhost:2055", "netflow9://127.0.0.1:2056"}, nil},
		{"different addresses", []string{"netflow9://collector.test", "netflow9://other.test"}, nil},
		{"unresolvable names", []string{"netflow9://nowhere.test", "netflow9://elsewhere.test"}, nil},
		{"pps does not change the identity", []string{"netflow9://localhost:2055?pps=100", "netflow9://127.0.0.1:2055"}, []string{"pps=100"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := ParseAll(tc.urls)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckSameDestination(t.Context(), rs, lookup)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted, want refused")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q: %v", w, err)
				}
			}
		})
	}
	// Every clash is reported, each once.
	rs, _ := ParseAll([]string{"netflow9://localhost", "netflow9://127.0.0.1", "netflow9://[::1]"})
	err := CheckSameDestination(t.Context(), rs, lookup)
	if n := strings.Count(err.Error(), "same collector"); n != 2 {
		t.Errorf("%d clashes reported, want 2: %v", n, err)
	}
}

// TestCheckSameDestinationSystem resolves localhost with the system
// resolver, as the CLI and the Lambdas do.
func TestCheckSameDestinationSystem(t *testing.T) {
	rs, err := ParseAll([]string{"netflow9://localhost:2055", "netflow9://127.0.0.1:2055"})
	if err != nil {
		t.Fatal(err)
	}
	if addrs, err := LookupIP(t.Context(), "localhost"); err != nil || len(addrs) == 0 {
		t.Skipf("localhost does not resolve here: %v", err)
	}
	if err := CheckSameDestination(t.Context(), rs, nil); err == nil {
		t.Error("localhost and 127.0.0.1 accepted as two exporters")
	}
}
