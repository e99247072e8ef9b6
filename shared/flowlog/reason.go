package flowlog

import (
	"encoding/json"
	"errors"
	"fmt"
)

// SkipReason says why a line produced no record. The zero value, ReasonNone,
// means it did produce one.
type SkipReason uint8

// Skip reasons. Their names (String) are stable: they are the keys of the
// "skipped" object in JSON summaries.
const (
	ReasonNone        SkipReason = iota // not skipped: the line is a record
	ReasonHeader                        // "header": a header line
	ReasonBlank                         // "blank": an empty line
	ReasonNoData                        // "nodata": log-status NODATA
	ReasonSkipData                      // "skipdata": log-status SKIPDATA
	ReasonMalformed                     // "malformed": a line that cannot be parsed
	ReasonUnsupported                   // "unsupported": a record an encoder cannot carry (IPv6 in v5)
	ReasonFiltered                      // "filtered": rejected by the configured filter
	ReasonControl                       // "control": a CloudWatch Logs CONTROL_MESSAGE event
	numReasons
)

var reasonNames = [numReasons]string{
	ReasonNone:        "none",
	ReasonHeader:      "header",
	ReasonBlank:       "blank",
	ReasonNoData:      "nodata",
	ReasonSkipData:    "skipdata",
	ReasonMalformed:   "malformed",
	ReasonUnsupported: "unsupported",
	ReasonFiltered:    "filtered",
	ReasonControl:     "control",
}

// String returns the reason's stable lower-case name.
func (r SkipReason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// MarshalText returns String().
func (r SkipReason) MarshalText() ([]byte, error) {
	if r >= numReasons {
		return nil, fmt.Errorf("marshal skip reason %d: unknown", uint8(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText parses a reason name.
func (r *SkipReason) UnmarshalText(b []byte) error {
	v, err := ParseSkipReason(string(b))
	*r = v
	return err
}

// ParseSkipReason returns the reason named name.
func ParseSkipReason(name string) (SkipReason, error) {
	for r, n := range reasonNames {
		if n == name {
			return SkipReason(r), nil
		}
	}
	return 0, fmt.Errorf("unknown skip reason %q", name)
}

// SkipReasons returns every skip reason (ReasonNone excluded), in order.
func SkipReasons() []SkipReason {
	rs := make([]SkipReason, 0, numReasons-1)
	for r := ReasonHeader; r < numReasons; r++ {
		rs = append(rs, r)
	}
	return rs
}

// Skipped counts skipped lines, indexed by reason. Skipped[ReasonNone] is
// always 0.
type Skipped [numReasons]int64

// Total returns the number of skipped lines.
func (s *Skipped) Total() int64 {
	var n int64
	for _, v := range s {
		n += v
	}
	return n
}

// Counts accounts for the lines of one or more objects: every line is
// either a record or skipped for one reason, so Lines = Records +
// Skipped.Total(). It marshals to JSON as
// {"lines":N,"records":N,"skipped":{"nodata":N,...}} (zero reasons omitted).
type Counts struct {
	Lines   int64
	Records int64
	Skipped Skipped
}

// ErrUnbalanced is returned by Counts.Check.
var ErrUnbalanced = errors.New("lines != records + skipped")

// Count accounts for one line with outcome r (ReasonNone: a record).
func (c *Counts) Count(r SkipReason) {
	c.Lines++
	if r == ReasonNone {
		c.Records++
	} else {
		c.Skipped[r]++
	}
}

// Drop moves n records to skipped reason r, e.g. ReasonUnsupported when an
// encoder cannot carry them. Lines do not change.
func (c *Counts) Drop(r SkipReason, n int64) {
	c.Records -= n
	c.Skipped[r] += n
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Lines += o.Lines
	c.Records += o.Records
	for r := range c.Skipped {
		c.Skipped[r] += o.Skipped[r]
	}
}

// Check reports an error wrapping ErrUnbalanced unless every line is
// accounted for exactly once.
func (c *Counts) Check() error {
	if c.Skipped[ReasonNone] != 0 || c.Lines != c.Records+c.Skipped.Total() {
		return fmt.Errorf("check counts: %d lines, %d records, %d skipped: %w",
			c.Lines, c.Records, c.Skipped.Total(), ErrUnbalanced)
	}
	return nil
}

// countsJSON is the JSON form of Counts.
type countsJSON struct {
	Lines   int64            `json:"lines"`
	Records int64            `json:"records"`
	Skipped map[string]int64 `json:"skipped"`
}

// MarshalJSON writes {"lines":..,"records":..,"skipped":{...}}.
func (c Counts) MarshalJSON() ([]byte, error) {
	j := countsJSON{Lines: c.Lines, Records: c.Records, Skipped: map[string]int64{}}
	for r, n := range c.Skipped {
		if n != 0 {
			j.Skipped[SkipReason(r).String()] = n
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the form MarshalJSON writes; an unknown reason is an
// error.
func (c *Counts) UnmarshalJSON(b []byte) error {
	var j countsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("unmarshal counts: %w", err)
	}
	*c = Counts{Lines: j.Lines, Records: j.Records}
	for name, n := range j.Skipped {
		r, err := ParseSkipReason(name)
		if err != nil || r == ReasonNone {
			return fmt.Errorf("unmarshal counts: unknown skip reason %q", name)
		}
		c.Skipped[r] = n
	}
	return nil
}
