package receiver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
)

// Lookup resolves a host name to its addresses (net.DefaultResolver's
// LookupNetIP for "ip", or a stand-in in tests).
type Lookup func(ctx context.Context, host string) ([]netip.Addr, error)

// LookupIP resolves with the system resolver.
func LookupIP(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// CheckSameDestination refuses receivers that reach the same collector
// socket with the same exporter identity under different spellings, such
// as netflow9://localhost:2055 and netflow9://127.0.0.1:2055: the collector
// would see one exporter fed by two sequence counters and count sequence
// failures. Host names are resolved with lookup (nil: LookupIP); two
// receivers clash when they share a resolved address and port, the
// protocol and the engine / Source ID / observation domain. A name that
// does not resolve is compared as written (the socket reports it later).
// Every clash is reported, naming both URLs.
func CheckSameDestination(ctx context.Context, rs []Receiver, lookup Lookup) error {
	if lookup == nil {
		lookup = LookupIP
	}
	type key struct {
		ap       netip.AddrPort
		identity string
	}
	seen := map[key]string{}
	var errs []error
	for _, r := range rs {
		addrs := resolve(ctx, r.Host, lookup)
		reported := false
		for _, a := range addrs {
			k := key{netip.AddrPortFrom(a, r.Port), r.identity()}
			prev, dup := seen[k]
			if dup && prev != r.URL && !reported {
				errs = append(errs, fmt.Errorf("receivers %q and %q are the same collector (%s) with the same exporter identity (%s): "+
					"the collector would count sequence failures; remove one, or give them different %s", prev, r.URL, k.ap, k.identity, r.identityOption()))
				reported = true
			}
			if !dup {
				seen[k] = r.URL
			}
		}
	}
	return errors.Join(errs...)
}

// resolve returns the host's addresses, unmapped; for a name that does
// not resolve, none (it is compared as written by ParseAll).
func resolve(ctx context.Context, host string, lookup Lookup) []netip.Addr {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a.Unmap().WithZone(a.Zone())}
	}
	as, err := lookup(ctx, host)
	if err != nil {
		return nil
	}
	out := make([]netip.Addr, 0, len(as))
	for _, a := range as {
		out = append(out, a.Unmap())
	}
	return out
}

// identity is the exporter identity without the address.
func (r Receiver) identity() string {
	e := r.Exporter()
	first, rest, _ := strings.Cut(e, "|")
	_, id, _ := strings.Cut(rest, "|")
	return first + "|" + id
}

func (r Receiver) identityOption() string {
	switch r.Protocol {
	case netflow.V5:
		return "engine-type/engine-id"
	case netflow.V9:
		return "source-id"
	default:
		return "domain"
	}
}
