package flowgen

import (
	"errors"
	"fmt"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
)

// DefaultFormat is the custom version-5 format flowgen writes by default.
var DefaultFormat = func() *flowlog.Format {
	f, err := flowlog.ParseFormat("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} " +
		"${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} " +
		"${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} " +
		"${flow-direction} ${traffic-path}")
	if err != nil {
		panic(err)
	}
	return f
}()

// DefaultStart is the first start time when Options.Start is zero.
var DefaultStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Defaults for zero Options fields.
const (
	DefaultSpan       = 5 * time.Minute // what one S3 file covers
	DefaultInterfaces = 8
)

const maxInterfaces = 1 << 20

// Options describe the flow log to generate. Fractions are probabilities
// per line, between 0 and 1.
type Options struct {
	Lines  int64           // data lines to write (the header is extra)
	Seed   int64           // the same seed gives the same output
	Format *flowlog.Format // nil: DefaultFormat; flowlog.DefaultFormat for the v2 default

	Start time.Time     // first start time; zero: DefaultStart
	Span  time.Duration // start times spread over [Start, Start+Span); zero: DefaultSpan

	IPv6Fraction       float64 // records with IPv6 addresses
	RejectFraction     float64 // records with action REJECT
	NoDataFraction     float64 // NODATA lines
	SkipDataFraction   float64 // SKIPDATA lines
	DashFraction       float64 // '-' (or "unknown") in each optional field
	BigCounterFraction float64 // records with bytes, and sometimes packets, above 2^32

	Interfaces int  // distinct ENIs; zero: DefaultInterfaces
	Header     bool // write the header line first
	// Firehose writes each line as a Firehose record {"message":"..."},
	// concatenated without newlines, as Firehose delivers to S3. No header.
	Firehose bool
}

// ErrOptions is wrapped by the errors Write returns for invalid Options.
var ErrOptions = errors.New("invalid flowgen options")

// withDefaults validates o and fills in defaults.
func (o Options) withDefaults() (Options, error) {
	bad := func(format string, args ...any) (Options, error) {
		return o, fmt.Errorf("flowgen: "+format+": %w", append(args, ErrOptions)...)
	}
	if o.Format == nil {
		o.Format = DefaultFormat
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	if o.Span == 0 {
		o.Span = DefaultSpan
	}
	if o.Interfaces == 0 {
		o.Interfaces = DefaultInterfaces
	}
	switch {
	case o.Lines < 0:
		return bad("negative Lines %d", o.Lines)
	case o.Span < 0:
		return bad("negative Span %v", o.Span)
	case o.Start.Unix() < 0:
		return bad("Start %v before 1970", o.Start)
	case o.Interfaces < 0 || o.Interfaces > maxInterfaces:
		return bad("Interfaces %d not in [1, %d]", o.Interfaces, maxInterfaces)
	case o.Header && o.Firehose:
		return bad("Firehose objects have no header")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"IPv6Fraction", o.IPv6Fraction}, {"RejectFraction", o.RejectFraction},
		{"NoDataFraction", o.NoDataFraction}, {"SkipDataFraction", o.SkipDataFraction},
		{"DashFraction", o.DashFraction}, {"BigCounterFraction", o.BigCounterFraction},
	} {
		if !(f.v >= 0 && f.v <= 1) {
			return bad("%s %v not in [0, 1]", f.name, f.v)
		}
	}
	if o.NoDataFraction+o.SkipDataFraction > 1 {
		return bad("NoDataFraction + SkipDataFraction > 1")
	}
	f := o.Format
	if !(f.Has("srcaddr") && f.Has("dstaddr")) && !(f.Has("pkt-srcaddr") && f.Has("pkt-dstaddr")) {
		return bad("format %q has no address pair", f)
	}
	if (o.NoDataFraction > 0 || o.SkipDataFraction > 0) && !f.Has("log-status") {
		return bad("NODATA/SKIPDATA lines need a log-status field")
	}
	return o, nil
}
