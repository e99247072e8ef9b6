// Package receiver parses collector URLs such as
// netflow5://10.0.0.5:2055?engine-id=1&pps=20000 into typed receiver
// settings, and names each receiver's exporter identity: the key of its
// sequence counter.
package receiver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/netflow"
)

// Defaults.
const (
	DefaultMTU             = 1472 // 1500-byte IPv4 path minus IP and UDP headers
	MinMTU                 = 512  // RFC 7011 §10.3.3 floor
	MaxMTU                 = 65507
	DefaultTemplatePackets = 20
	DefaultTemplateRefresh = 30 * time.Second
	// DefaultPPS paces a receiver that sets no pps: collectors left at
	// their defaults (nfcapd without -B, nfacctd, goflow2 with two workers:
	// a Linux default receive buffer of 208 KiB, about 90 full datagrams)
	// keep every datagram at this rate in our measurements (README
	// "Delivery"), where unpaced sending lost up to 58 %, and goflow2 lost
	// 0.15 % of 2,000,000 lines at 3000. pps=0 sends unpaced.
	DefaultPPS         = 1000
	defaultNetFlowPort = 2055
	defaultIPFIXPort   = 4739
)

// Receiver is one collector and how we export to it.
type Receiver struct {
	URL      string // canonical form, see String
	Protocol netflow.Protocol
	Host     string // name or IP literal, resolved when the socket is opened
	Port     uint16

	EngineType uint8  // v5 engine_type
	EngineID   uint8  // v5 engine_id
	SourceID   uint32 // v9 Source ID
	Domain     uint32 // IPFIX Observation Domain ID

	MTU              int           // v9/IPFIX datagram budget, bytes of UDP payload
	InterfaceNames   bool          // IPFIX: send interfaceName options records (off: nfdump 1.7 miscounts them)
	PPS              int           // datagrams per second (default DefaultPPS), 0 = unpaced
	TemplatePackets  int           // v9/IPFIX: resend templates every N datagrams
	TemplateInterval time.Duration // v9/IPFIX: and every T
}

// Address is host:port for dialing.
func (r Receiver) Address() string { return net.JoinHostPort(r.Host, strconv.Itoa(int(r.Port))) }

// Exporter is the receiver's exporter identity: the key of its sequence
// counter. It names what collectors key their sequence checks on (the
// collector address, the protocol and engine, Source ID or domain) and
// nothing else, so changing pps or mtu keeps the counter.
func (r Receiver) Exporter() string {
	switch r.Protocol {
	case netflow.V5:
		return fmt.Sprintf("netflow5|%s|engine=%d/%d", r.Address(), r.EngineType, r.EngineID)
	case netflow.V9:
		return fmt.Sprintf("netflow9|%s|source-id=%d", r.Address(), r.SourceID)
	default:
		return fmt.Sprintf("ipfix|%s|domain=%d", r.Address(), r.Domain)
	}
}

// String returns the canonical URL.
func (r Receiver) String() string { return r.URL }

var schemes = map[string]netflow.Protocol{
	"netflow5": netflow.V5, "nf5": netflow.V5, "v5": netflow.V5,
	"netflow9": netflow.V9, "nf9": netflow.V9, "v9": netflow.V9,
	"ipfix": netflow.IPFIX,
}

// options each protocol accepts.
var allowed = map[netflow.Protocol][]string{
	netflow.V5:    {"engine-type", "engine-id", "pps"},
	netflow.V9:    {"source-id", "pps", "mtu", "template-packets", "template-interval"},
	netflow.IPFIX: {"domain", "pps", "mtu", "template-packets", "template-interval", "interface-names"},
}

// Parse parses a receiver URL. Every problem is reported at once.
func Parse(s string) (Receiver, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return Receiver{}, fmt.Errorf("receiver %q: %w", s, err)
	}
	proto, ok := schemes[strings.ToLower(u.Scheme)]
	if !ok {
		return Receiver{}, fmt.Errorf("receiver %q: unknown scheme %q (want netflow5, netflow9 or ipfix)", s, u.Scheme)
	}
	r := Receiver{
		Protocol:         proto,
		Host:             u.Hostname(),
		MTU:              DefaultMTU,
		TemplatePackets:  DefaultTemplatePackets,
		TemplateInterval: DefaultTemplateRefresh,
		PPS:              DefaultPPS,
	}
	var errs []error
	if r.Host == "" {
		errs = append(errs, errors.New("missing host"))
	}
	if u.Path != "" && u.Path != "/" {
		errs = append(errs, fmt.Errorf("unexpected path %q", u.Path))
	}
	if p := u.Port(); p == "" {
		r.Port = defaultNetFlowPort
		if proto == netflow.IPFIX {
			r.Port = defaultIPFIXPort
		}
	} else if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
		errs = append(errs, fmt.Errorf("invalid port %q", p))
	} else {
		r.Port = uint16(n)
	}
	q := u.Query()
	for k := range q {
		if !slices.Contains(allowed[proto], k) {
			errs = append(errs, fmt.Errorf("option %q is not valid for %s (valid: %s)", k, proto, strings.Join(allowed[proto], ", ")))
		}
	}
	num := func(key string, bits int, min, max uint64, set func(uint64)) {
		v := q.Get(key)
		if v == "" {
			return
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil || n < min || n > max {
			errs = append(errs, fmt.Errorf("option %s=%q: want an integer from %d to %d", key, v, min, max))
			return
		}
		set(n)
	}
	num("engine-type", 8, 0, 255, func(n uint64) { r.EngineType = uint8(n) })
	num("engine-id", 8, 0, 255, func(n uint64) { r.EngineID = uint8(n) })
	num("source-id", 32, 0, 1<<32-1, func(n uint64) { r.SourceID = uint32(n) })
	num("domain", 32, 0, 1<<32-1, func(n uint64) { r.Domain = uint32(n) })
	num("pps", 32, 0, 10_000_000, func(n uint64) { r.PPS = int(n) })
	num("mtu", 32, MinMTU, MaxMTU, func(n uint64) { r.MTU = int(n) })
	num("template-packets", 32, 1, 1_000_000, func(n uint64) { r.TemplatePackets = int(n) })
	switch v := q.Get("interface-names"); v {
	case "", "false", "0":
	case "true", "1":
		r.InterfaceNames = true
	default:
		errs = append(errs, fmt.Errorf("option interface-names=%q: want true or false", v))
	}
	if v := q.Get("template-interval"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("option template-interval=%q: want a positive duration such as 30s", v))
		} else {
			r.TemplateInterval = d
		}
	}
	if len(errs) > 0 {
		return Receiver{}, fmt.Errorf("receiver %q: %w", s, errors.Join(errs...))
	}
	r.URL = r.canonical(q)
	return r, nil
}

func (r Receiver) canonical(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(r.Protocol.String())
	b.WriteString("://")
	b.WriteString(r.Address())
	for i, k := range keys {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + q.Get(k))
	}
	return b.String()
}

// ParseList parses a comma-separated list of receiver URLs (the
// FL2NF_RECEIVERS form), reporting every bad entry and duplicate
// exporter identities.
func ParseList(s string) ([]Receiver, error) {
	var parts []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return ParseAll(parts)
}

// ParseAll parses receiver URLs, reporting every bad one, and rejects two
// receivers with the same exporter identity (they would share a counter).
func ParseAll(urls []string) ([]Receiver, error) {
	var (
		out  []Receiver
		errs []error
		seen = map[string]string{}
	)
	for _, s := range urls {
		r, err := Parse(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[r.Exporter()]; dup {
			errs = append(errs, fmt.Errorf("receivers %q and %q have the same exporter identity %s", prev, s, r.Exporter()))
			continue
		}
		seen[r.Exporter()] = s
		out = append(out, r)
	}
	if len(out) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no receiver given"))
	}
	return out, errors.Join(errs...)
}
