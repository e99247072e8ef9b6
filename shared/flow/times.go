package flow

import "errors"

// The one rule for flow times, applied by the flow-log parser to every
// record and by every encoder (NetFlow v5, v9, IPFIX) to whatever it is
// given, so that all protocols carry the same start and end for the same
// line (shared/netflow/FIELDS.md, "Times"):
//
//   - start and end are Unix seconds in [MinTime, MaxTime]: 1970-01-01
//     00:00:01 to 2106-02-07 06:28:15, the range of the 32-bit export time
//     that v5, v9 and IPFIX headers all carry. Outside it (or both missing:
//     0) the line is malformed: ErrTimeRange.
//   - a missing start or end (0, from "-") takes the other's value: the
//     flow happened at that second, within the log's aggregation interval.
//   - end before start: end = start (duration 0).
//   - a duration above MaxDuration (about 48.7 days; flow logs aggregate
//     over at most 10 minutes) is cut to MaxDuration, the longest that
//     NetFlow v5/v9 sysUptime-relative times can express in one datagram.
const (
	MinTime = 1
	MaxTime = 1<<32 - 1
	// MaxDuration is the longest end - start in seconds: the 2^32 ms
	// sysUptime range less one day of headroom for the export time
	// (netflow.MaxSpanMillis / 1000).
	MaxDuration = (1<<32 - 1 - 24*3600*1000) / 1000
)

// ErrTimeRange reports a flow time outside [MinTime, MaxTime], or a record
// with neither start nor end.
var ErrTimeRange = errors.New("flow time outside 1970-01-01..2106-02-07")

// NormalizeTimes applies the rule above to a record's start and end.
func NormalizeTimes(start, end int64) (int64, int64, error) {
	switch {
	case start == 0 && end == 0:
		return 0, 0, ErrTimeRange
	case start == 0:
		start = end
	case end == 0:
		end = start
	}
	if start < MinTime || start > MaxTime || end < MinTime || end > MaxTime {
		return start, end, ErrTimeRange
	}
	if end < start {
		end = start
	}
	if end-start > MaxDuration {
		end = start + MaxDuration
	}
	return start, end, nil
}
