// Package emf writes CloudWatch Embedded Metric Format (EMF) log lines: one
// JSON object per line that CloudWatch Logs turns into metrics, with no
// PutMetricData call (a Lambda's stdout is its log stream).
//
//	m := emf.New(os.Stdout, emf.Namespace).Dimension(emf.DimFunction, "parser")
//	for _, r := range receivers {
//		m.Clone().Dimension(emf.DimReceiver, r.ID).
//			Put(emf.MetricRecords, float64(r.Records), emf.Count).
//			Put(emf.MetricDatagrams, float64(r.Datagrams), emf.Count).
//			Flush()
//	}
//
// writes lines such as
//
//	{"_aws":{"Timestamp":1764237600000,"CloudWatchMetrics":[{"Namespace":"flowlogs2netflow",
//	 "Dimensions":[["Function","Receiver"]],"Metrics":[{"Name":"Records","Unit":"Count"},
//	 {"Name":"Datagrams","Unit":"Count"}]}]},"Function":"parser","Receiver":"r0",
//	 "Records":59989,"Datagrams":2308}
//
// # Rules enforced
//
// From the EMF specification and CloudWatch's metric limits: a namespace
// of 1-255 characters of [A-Za-z0-9 ._/#:-] not starting with "AWS/"; at
// most 30 dimensions, with names of 1-255 ASCII characters not starting
// with ':' and values of 1-1024 ASCII characters, neither blank nor holding
// control characters; metric names of 1-255 characters without control
// characters; units from CloudWatch's list; finite values within
// ±2^360; no name used twice for different things (a dimension, a
// property, a metric, "_aws"). A directive holds at most 100 metrics and a
// metric at most 100 values: Flush writes as many lines as that takes.
// Calls that break a rule are dropped and reported by the next Flush; the
// valid rest is still written.
package emf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Namespace is the CloudWatch namespace of flowlogs2netflow's metrics.
const Namespace = "flowlogs2netflow"

// Limits of the format.
const (
	MaxMetrics       = 100 // metrics per directive (per line)
	MaxValues        = 100 // values per metric per line
	MaxDimensions    = 30  // dimensions per dimension set
	MaxNameLen       = 255 // metric, dimension and namespace names
	MaxDimensionLen  = 1024
	maxAbsValue      = 0x1p360 // CloudWatch rejects values beyond ±2^360
	reservedMetadata = "_aws"
)

// Unit is a CloudWatch metric unit.
type Unit string

// The CloudWatch units.
const (
	None            Unit = "None"
	Seconds         Unit = "Seconds"
	Microseconds    Unit = "Microseconds"
	Milliseconds    Unit = "Milliseconds"
	Bytes           Unit = "Bytes"
	Kilobytes       Unit = "Kilobytes"
	Megabytes       Unit = "Megabytes"
	Gigabytes       Unit = "Gigabytes"
	Terabytes       Unit = "Terabytes"
	Bits            Unit = "Bits"
	Kilobits        Unit = "Kilobits"
	Megabits        Unit = "Megabits"
	Gigabits        Unit = "Gigabits"
	Terabits        Unit = "Terabits"
	Percent         Unit = "Percent"
	Count           Unit = "Count"
	BytesPerSecond  Unit = "Bytes/Second"
	KBytesPerSecond Unit = "Kilobytes/Second"
	MBytesPerSecond Unit = "Megabytes/Second"
	GBytesPerSecond Unit = "Gigabytes/Second"
	TBytesPerSecond Unit = "Terabytes/Second"
	BitsPerSecond   Unit = "Bits/Second"
	KBitsPerSecond  Unit = "Kilobits/Second"
	MBitsPerSecond  Unit = "Megabits/Second"
	GBitsPerSecond  Unit = "Gigabits/Second"
	TBitsPerSecond  Unit = "Terabits/Second"
	CountPerSecond  Unit = "Count/Second"
)

// Units lists every valid unit.
var Units = []Unit{None, Seconds, Microseconds, Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, Terabytes,
	Bits, Kilobits, Megabits, Gigabits, Terabits, Percent, Count,
	BytesPerSecond, KBytesPerSecond, MBytesPerSecond, GBytesPerSecond, TBytesPerSecond,
	BitsPerSecond, KBitsPerSecond, MBitsPerSecond, GBitsPerSecond, TBitsPerSecond, CountPerSecond}

// Valid reports whether u is a CloudWatch unit ("" counts as valid: no
// unit, which CloudWatch records as None).
func (u Unit) Valid() bool { return u == "" || slices.Contains(Units, u) }

// ErrInvalid marks a call that broke a rule of the format.
var ErrInvalid = errors.New("invalid metric")

type dim struct{ key, value string }

type metric struct {
	name   string
	unit   Unit
	values []float64
}

type prop struct {
	key   string
	value json.RawMessage
}

// Logger collects dimensions, properties and metric values and writes them
// as EMF lines. It is safe for concurrent use.
type Logger struct {
	mu        sync.Mutex
	w         io.Writer
	namespace string
	now       func() time.Time
	dims      []dim
	sets      [][]string // extra dimension sets
	props     []prop
	metrics   []*metric
	errs      []error
}

// New returns a Logger writing to w in namespace (usually Namespace).
func New(w io.Writer, namespace string) *Logger {
	l := &Logger{w: w, namespace: namespace, now: time.Now}
	if err := validNamespace(namespace); err != nil {
		l.errs = append(l.errs, err)
	}
	return l
}

// SetClock replaces the clock that stamps each line (tests).
func (l *Logger) SetClock(now func() time.Time) *Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = now
	return l
}

// Clone returns a Logger with the same writer, namespace, clock,
// dimensions, dimension sets and properties, and no metric values.
func (l *Logger) Clone() *Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := &Logger{w: l.w, namespace: l.namespace, now: l.now}
	c.dims = slices.Clone(l.dims)
	for _, s := range l.sets {
		c.sets = append(c.sets, slices.Clone(s))
	}
	c.props = slices.Clone(l.props)
	c.errs = slices.Clone(l.errs)
	return c
}

// Dimension sets dimension key to value (replacing an earlier value). The
// metrics are published under the set of all dimension keys, in the order
// they were first set.
func (l *Logger) Dimension(key, value string) *Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := validDimension(key, value); err != nil {
		l.errs = append(l.errs, err)
		return l
	}
	for i := range l.dims {
		if l.dims[i].key == key {
			l.dims[i].value = value
			return l
		}
	}
	if len(l.dims) == MaxDimensions {
		l.errs = append(l.errs, fmt.Errorf("%w: dimension %q: more than %d dimensions", ErrInvalid, key, MaxDimensions))
		return l
	}
	if err := l.taken(key, "dimension"); err != nil {
		l.errs = append(l.errs, err)
		return l
	}
	l.dims = append(l.dims, dim{key, value})
	return l
}

// AddDimensionSet also publishes every metric under the given subset of
// the dimension keys (e.g. AddDimensionSet(DimFunction) beside the full
// set Function, Receiver gives a total over receivers). Keys must be set
// with Dimension by the time of Flush; an empty set publishes the metrics
// without dimensions.
func (l *Logger) AddDimensionSet(keys ...string) *Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(keys) > MaxDimensions {
		l.errs = append(l.errs, fmt.Errorf("%w: dimension set of %d keys, at most %d", ErrInvalid, len(keys), MaxDimensions))
		return l
	}
	l.sets = append(l.sets, slices.Clone(keys))
	return l
}

// Property adds a top-level member that is not a metric or dimension (an
// execution ARN, an object key): searchable in CloudWatch Logs Insights,
// free of metric cost. value must marshal to JSON.
func (l *Logger) Property(key string, value any) *Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	if key == "" {
		l.errs = append(l.errs, fmt.Errorf("%w: empty property name", ErrInvalid))
		return l
	}
	b, err := json.Marshal(value)
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("%w: property %q: %v", ErrInvalid, key, err))
		return l
	}
	for i := range l.props {
		if l.props[i].key == key {
			l.props[i].value = b
			return l
		}
	}
	if err := l.taken(key, "property"); err != nil {
		l.errs = append(l.errs, err)
		return l
	}
	l.props = append(l.props, prop{key, b})
	return l
}

// Put adds a value of metric name with unit. Putting the same name again
// adds a value (the line carries an array; CloudWatch counts each); its
// unit must not change.
func (l *Logger) Put(name string, value float64, unit Unit) *Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := validMetric(name, value, unit); err != nil {
		l.errs = append(l.errs, err)
		return l
	}
	for _, m := range l.metrics {
		if m.name == name {
			if m.unit != unit {
				l.errs = append(l.errs, fmt.Errorf("%w: metric %q: unit %q, earlier %q", ErrInvalid, name, unit, m.unit))
				return l
			}
			m.values = append(m.values, value)
			return l
		}
	}
	if err := l.taken(name, "metric"); err != nil {
		l.errs = append(l.errs, err)
		return l
	}
	l.metrics = append(l.metrics, &metric{name: name, unit: unit, values: []float64{value}})
	return l
}

// taken reports a top-level name already used for something else.
func (l *Logger) taken(name, as string) error {
	what := ""
	switch {
	case name == reservedMetadata:
		what = "reserved"
	case slices.ContainsFunc(l.dims, func(d dim) bool { return d.key == name }):
		what = "a dimension"
	case slices.ContainsFunc(l.props, func(p prop) bool { return p.key == name }):
		what = "a property"
	case slices.ContainsFunc(l.metrics, func(m *metric) bool { return m.name == name }):
		what = "a metric"
	default:
		return nil
	}
	return fmt.Errorf("%w: %s %q: the name is %s", ErrInvalid, as, name, what)
}

// Flush writes the collected values as EMF lines (none when there are no
// values), clears the values and keeps dimensions and properties. It
// returns the problems found since the last Flush and any write error.
func (l *Logger) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	errs := l.errs
	l.errs = nil
	sets := [][]string{l.dimKeys()}
	valid := l.sets[:0]
	for _, s := range l.sets {
		if missing := l.missing(s); missing != "" {
			// Dropped, like any call that breaks a rule.
			errs = append(errs, fmt.Errorf("%w: dimension set %q names %q, which is not a dimension", ErrInvalid, s, missing))
			continue
		}
		valid = append(valid, s)
		if !slices.ContainsFunc(sets, func(t []string) bool { return slices.Equal(t, s) }) {
			sets = append(sets, s)
		}
	}
	l.sets = valid
	var buf bytes.Buffer
	ts := l.now().UnixMilli()
	// Each line takes up to MaxMetrics metrics with values left and up to
	// MaxValues values of each.
	pending := slices.Clone(l.metrics)
	for len(pending) > 0 {
		batch := pending[:min(len(pending), MaxMetrics)]
		l.line(&buf, ts, sets, batch)
		var left []*metric
		for _, m := range pending {
			if slices.Contains(batch, m) {
				m.values = m.values[min(len(m.values), MaxValues):]
			}
			if len(m.values) > 0 {
				left = append(left, m)
			}
		}
		pending = left
	}
	l.metrics = nil
	if buf.Len() > 0 && l.w != nil {
		if _, err := l.w.Write(buf.Bytes()); err != nil {
			errs = append(errs, fmt.Errorf("write metrics: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (l *Logger) dimKeys() []string {
	keys := make([]string, len(l.dims))
	for i, d := range l.dims {
		keys[i] = d.key
	}
	return keys
}

func (l *Logger) missing(set []string) string {
	for _, k := range set {
		if !slices.ContainsFunc(l.dims, func(d dim) bool { return d.key == k }) {
			return k
		}
	}
	return ""
}

// line appends one EMF document and a newline to buf.
func (l *Logger) line(buf *bytes.Buffer, ts int64, sets [][]string, batch []*metric) {
	str := func(s string) { b, _ := json.Marshal(s); buf.Write(b) }
	buf.WriteString(`{"_aws":{"Timestamp":`)
	fmt.Fprint(buf, ts)
	buf.WriteString(`,"CloudWatchMetrics":[{"Namespace":`)
	str(l.namespace)
	buf.WriteString(`,"Dimensions":[`)
	for i, s := range sets {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('[')
		for j, k := range s {
			if j > 0 {
				buf.WriteByte(',')
			}
			str(k)
		}
		buf.WriteByte(']')
	}
	buf.WriteString(`],"Metrics":[`)
	for i, m := range batch {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"Name":`)
		str(m.name)
		if m.unit != "" {
			buf.WriteString(`,"Unit":`)
			str(string(m.unit))
		}
		buf.WriteByte('}')
	}
	buf.WriteString(`]}]}`)
	for _, d := range l.dims {
		buf.WriteByte(',')
		str(d.key)
		buf.WriteByte(':')
		str(d.value)
	}
	for _, p := range l.props {
		buf.WriteByte(',')
		str(p.key)
		buf.WriteByte(':')
		buf.Write(p.value)
	}
	for _, m := range batch {
		buf.WriteByte(',')
		str(m.name)
		buf.WriteByte(':')
		vs := m.values[:min(len(m.values), MaxValues)]
		if len(vs) == 1 {
			writeNum(buf, vs[0])
			continue
		}
		buf.WriteByte('[')
		for i, v := range vs {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeNum(buf, v)
		}
		buf.WriteByte(']')
	}
	buf.WriteString("}\n")
}

func writeNum(buf *bytes.Buffer, v float64) {
	b, _ := json.Marshal(v) // finite: checked by Put
	buf.Write(b)
}

func validNamespace(ns string) error {
	if ns == "" || len(ns) > MaxNameLen || strings.HasPrefix(ns, "AWS/") {
		return fmt.Errorf("%w: namespace %q: want 1-%d characters, not starting with AWS/", ErrInvalid, ns, MaxNameLen)
	}
	for _, r := range ns {
		if !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" ._/#:-", r))) {
			return fmt.Errorf("%w: namespace %q: character %q", ErrInvalid, ns, r)
		}
	}
	return nil
}

func validDimension(key, value string) error {
	if err := asciiText("dimension name", key, MaxNameLen); err != nil {
		return err
	}
	if key[0] == ':' {
		return fmt.Errorf("%w: dimension name %q starts with ':'", ErrInvalid, key)
	}
	if key == reservedMetadata {
		return fmt.Errorf("%w: dimension name %q is reserved", ErrInvalid, key)
	}
	return asciiText("value of dimension "+key, value, MaxDimensionLen)
}

func asciiText(what, s string, max int) error {
	if s == "" || len(s) > max || strings.TrimSpace(s) == "" {
		return fmt.Errorf("%w: %s %q: want 1-%d characters, not blank", ErrInvalid, what, s, max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] < 0x20 || s[i] == 0x7f {
			return fmt.Errorf("%w: %s %q: printable ASCII only", ErrInvalid, what, s)
		}
	}
	return nil
}

func validMetric(name string, value float64, unit Unit) error {
	if name == "" || utf8.RuneCountInString(name) > MaxNameLen || !utf8.ValidString(name) ||
		strings.IndexFunc(name, unicode.IsControl) >= 0 || strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: metric name %q: want 1-%d characters, no control characters", ErrInvalid, name, MaxNameLen)
	}
	if math.IsNaN(value) || math.IsInf(value, 0) || math.Abs(value) > maxAbsValue {
		return fmt.Errorf("%w: metric %q: value %v is not a finite number within ±2^360", ErrInvalid, name, value)
	}
	if !unit.Valid() {
		return fmt.Errorf("%w: metric %q: unknown unit %q", ErrInvalid, name, unit)
	}
	return nil
}
