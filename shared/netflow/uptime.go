package netflow

import "time"

// NetFlow v5 and v9 carry flow times as sysUptime milliseconds: a collector
// computes boot = exportTime - sysUptime and start = boot + First. With no
// real device behind us, each datagram gets its own virtual boot time: the
// earliest start among its records (whole seconds, so v9's seconds-only
// export time stays exact). Every First/Last is then >= 0, and a datagram
// may hold only records whose latest end is within MaxSpanMillis of that
// boot, so that every First/Last <= sysUptime < 2^32 ms whatever the age of
// the flows (a year-old backfill, a file spanning 60 days).

// MaxUptimeMillis is the largest sysUptime a 32-bit header field holds.
const MaxUptimeMillis = 1<<32 - 1

// MaxSpanMillis bounds, within one datagram, the latest flow end minus the
// virtual boot (earliest flow start). It leaves a day of the 49.7-day
// sysUptime range so that export at "now" still fits for recent flows.
const MaxSpanMillis = MaxUptimeMillis - 24*3600*1000

// FitsSpan reports whether flows starting at minStart and ending at maxEnd
// (Unix seconds) can share one datagram.
func FitsSpan(minStart, maxEnd int64) bool {
	return maxEnd >= minStart && (maxEnd-minStart)*1000 <= MaxSpanMillis
}

// ExportClock chooses a datagram's export time (Unix milliseconds) and
// sysUptime for virtual boot bootMillis and latest Last maxLastMillis
// (relative to boot). It uses now when that keeps Last <= sysUptime <
// 2^32; for flows too old (a backfill) or in the future it uses the
// virtual time boot + maxLast instead, so collectors still reconstruct
// every flow's start and end exactly.
func ExportClock(bootMillis int64, maxLastMillis uint32, now time.Time) (exportMillis int64, sysUptime uint32) {
	nowMillis := now.UnixMilli()
	up := nowMillis - bootMillis
	if up >= int64(maxLastMillis) && up <= MaxUptimeMillis {
		return nowMillis, uint32(up)
	}
	return bootMillis + int64(maxLastMillis), maxLastMillis
}
