package reprocess

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
)

// Layout is how a flow log lays out its S3 keys (docs/aws-facts.md §2.1).
type Layout string

// The key layouts VPC Flow Logs can deliver to S3.
const (
	// LayoutDefault: prefix/AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/
	LayoutDefault Layout = "default"
	// LayoutHourly: ... /<yyyy>/<mm>/<dd>/<HH>/
	LayoutHourly Layout = "hourly"
	// LayoutHive: prefix/AWSLogs/aws-account-id=<id>/aws-service=vpcflowlogs/
	// aws-region=<region>/year=<yyyy>/month=<mm>/day=<dd>/
	LayoutHive Layout = "hive"
	// LayoutHiveHourly: LayoutHive plus hour=<HH>/.
	LayoutHiveHourly Layout = "hive-hourly"
)

// Layouts lists the layouts in flag order.
var Layouts = []Layout{LayoutDefault, LayoutHourly, LayoutHive, LayoutHiveHourly}

// ParseLayout parses a --layout value.
func ParseLayout(s string) (Layout, error) {
	for _, l := range Layouts {
		if string(l) == s {
			return l, nil
		}
	}
	return "", fmt.Errorf("layout %q: want default, hourly, hive or hive-hourly", s)
}

// Hourly reports whether the layout has one partition per hour.
func (l Layout) Hourly() bool { return l == LayoutHourly || l == LayoutHiveHourly }

// Hive reports whether the layout uses Hive-style name=value segments.
func (l Layout) Hive() bool { return l == LayoutHive || l == LayoutHiveHourly }

// Step is the time one partition covers: a day or an hour.
func (l Layout) Step() time.Duration {
	if l.Hourly() {
		return time.Hour
	}
	return 24 * time.Hour
}

// NormalizePrefix turns a flow log's configured S3 prefix ("", "logs",
// "/logs/", "a/b/") into "" or "a/b/": no leading slash, one trailing.
func NormalizePrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

// LogsRoot is <prefix>AWSLogs/, where the account folders are.
func LogsRoot(prefix string) string { return NormalizePrefix(prefix) + "AWSLogs/" }

// AccountRoot is the folder holding one account's region folders:
// <prefix>AWSLogs/<account>/vpcflowlogs/ or, Hive-style,
// <prefix>AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/.
func (l Layout) AccountRoot(prefix, account string) string {
	if l.Hive() {
		return LogsRoot(prefix) + "aws-account-id=" + account + "/aws-service=vpcflowlogs/"
	}
	return LogsRoot(prefix) + account + "/vpcflowlogs/"
}

// Base is the folder holding one account's and region's date partitions:
// AccountRoot plus <region>/ or aws-region=<region>/.
func (l Layout) Base(prefix, account, region string) string {
	if l.Hive() {
		return l.AccountRoot(prefix, account) + "aws-region=" + region + "/"
	}
	return l.AccountRoot(prefix, account) + region + "/"
}

// accountSegment and regionSegment turn a folder name found by listing
// into an account id or region, or "" if it is not one.
func (l Layout) accountSegment(seg string) string {
	if l.Hive() {
		a, ok := strings.CutPrefix(seg, "aws-account-id=")
		if !ok || !accountRe.MatchString(a) {
			return ""
		}
		return a
	}
	if !accountRe.MatchString(seg) {
		return ""
	}
	return seg
}

func (l Layout) regionSegment(seg string) string {
	if l.Hive() {
		r, ok := strings.CutPrefix(seg, "aws-region=")
		if !ok || !regionRe.MatchString(r) {
			return ""
		}
		return r
	}
	if !regionRe.MatchString(seg) {
		return ""
	}
	return seg
}

var (
	accountRe = regexp.MustCompile(`^\d{12}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+-\d+$`)
)

// PartitionPrefix is the folder of the partition that starts at t:
// Base plus yyyy/mm/dd/[HH/] or year=yyyy/month=mm/day=dd/[hour=HH/].
func (l Layout) PartitionPrefix(base string, t time.Time) string {
	t = t.UTC()
	y, m, d, h := t.Year(), int(t.Month()), t.Day(), t.Hour()
	var s string
	if l.Hive() {
		s = fmt.Sprintf("year=%04d/month=%02d/day=%02d/", y, m, d)
		if l.Hourly() {
			s += fmt.Sprintf("hour=%02d/", h)
		}
	} else {
		s = fmt.Sprintf("%04d/%02d/%02d/", y, m, d)
		if l.Hourly() {
			s += fmt.Sprintf("%02d/", h)
		}
	}
	return base + s
}

// Window is the half-open time range [From, To).
type Window struct {
	From, To time.Time
}

// Validate checks that the window is set and not empty.
func (w Window) Validate() error {
	switch {
	case w.From.IsZero() || w.To.IsZero():
		return errors.New("window needs both --from and --to")
	case !w.From.Before(w.To):
		return fmt.Errorf("window is empty: --from %s is not before --to %s", w.From.UTC().Format(time.RFC3339), w.To.UTC().Format(time.RFC3339))
	}
	return nil
}

// Contains reports whether From <= t < To.
func (w Window) Contains(t time.Time) bool { return !t.Before(w.From) && t.Before(w.To) }

func (w Window) String() string {
	return "[" + w.From.UTC().Format(time.RFC3339) + ", " + w.To.UTC().Format(time.RFC3339) + ")"
}

// Partition is one date (or date and hour) folder of a flow log.
type Partition struct {
	// Prefix is the folder, ending in "/".
	Prefix string
	// Start and End are the UTC period the folder holds: [Start, End).
	Start, End time.Time
}

// Within reports whether the whole partition lies inside w, so that every
// object in it belongs to the window without looking at file names.
func (p Partition) Within(w Window) bool {
	return !p.Start.Before(w.From) && !p.End.After(w.To)
}

// MaxPartitions bounds the partitions one window expands to per account
// and region (about two years of hourly folders).
const MaxPartitions = 2 * 366 * 24

// Partitions expands w into the partition folders under base that
// overlap it, oldest first: one per UTC day (default, hive) or hour
// (hourly, hive-hourly), from the one holding w.From to the one holding
// the instant before w.To.
func (l Layout) Partitions(base string, w Window) ([]Partition, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	if _, err := ParseLayout(string(l)); err != nil {
		return nil, err
	}
	from, to := w.From.UTC(), w.To.UTC()
	var start time.Time
	if l.Hourly() {
		start = from.Truncate(time.Hour)
	} else {
		start = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	}
	if n := to.Sub(start) / l.Step(); n > MaxPartitions {
		return nil, fmt.Errorf("window %s spans more than %d %s partitions", w, MaxPartitions, l)
	}
	var ps []Partition
	for t := start; t.Before(to); {
		var next time.Time
		if l.Hourly() {
			next = t.Add(time.Hour)
		} else {
			next = t.AddDate(0, 0, 1)
		}
		ps = append(ps, Partition{Prefix: l.PartitionPrefix(base, t), Start: t, End: next})
		t = next
	}
	return ps, nil
}

// fileTimeRe matches the timestamp in a flow-log file name:
// ..._<YYYYMMDDTHHmmZ>_<hash>...
var fileTimeRe = regexp.MustCompile(`_(\d{8}T\d{4}Z)_`)

// FileTime returns the timestamp in an AWS flow-log file name (the start
// of the 5-minute period of record end times it holds), from the key's
// last segment.
func FileTime(key string) (time.Time, bool) {
	m := fileTimeRe.FindAllStringSubmatch(path.Base(key), -1)
	if len(m) == 0 {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T1504Z", m[len(m)-1][1])
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// timeLayouts are the accepted --from/--to spellings, most specific first.
// Times without a zone are UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02T15Z07:00",
	"2006-01-02T15",
	"2006-01-02",
}

// ParseTime parses a --from/--to value: RFC 3339 ("2026-11-01T10:00:00Z"),
// or a UTC date with an optional hour and minute ("2026-11-01",
// "2026-11-01T10", "2026-11-01T10:30").
func ParseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339 or YYYY-MM-DD[THH[:MM]] (UTC)", s)
}
