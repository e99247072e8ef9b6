package flowgen

import "github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"

// FamilyTotals sums the records of one IP version. Sums wrap modulo 2^64
// (only reachable with huge outputs of big counters).
type FamilyTotals struct {
	Records int64  `json:"records"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// Totals describe what Write wrote, as a flowlog parser must find it in
// AddressAuto or AddressInterface mode (AddressPacket when the format has
// no srcaddr/dstaddr, so pkt-* are never '-'). Values of fields missing
// from the format count as 0.
type Totals struct {
	Lines    int64        `json:"lines"`  // data lines (the header line is not counted)
	Header   bool         `json:"header"` // a header line was written
	IPv4     FamilyTotals `json:"ipv4"`
	IPv6     FamilyTotals `json:"ipv6"`
	Rejects  int64        `json:"rejects"`   // records with action REJECT
	NoData   int64        `json:"nodata"`    // NODATA lines
	SkipData int64        `json:"skipdata"`  // SKIPDATA lines
	MinStart int64        `json:"min_start"` // smallest start of a record (Unix seconds); 0 without records
	MaxEnd   int64        `json:"max_end"`   // largest end of a record; 0 without records
}

// Records returns the number of records (log-status OK lines).
func (t Totals) Records() int64 { return t.IPv4.Records + t.IPv6.Records }

// Counts returns the flowlog.Counts a parser reports for the output.
func (t Totals) Counts() flowlog.Counts {
	c := flowlog.Counts{Lines: t.Lines, Records: t.Records()}
	if t.Header {
		c.Lines++
		c.Skipped[flowlog.ReasonHeader] = 1
	}
	c.Skipped[flowlog.ReasonNoData] = t.NoData
	c.Skipped[flowlog.ReasonSkipData] = t.SkipData
	return c
}

func (t *Totals) addRecord(v6 bool, packets, bytes uint64, start, end int64, reject bool) {
	f := &t.IPv4
	if v6 {
		f = &t.IPv6
	}
	if t.Records() == 0 || start < t.MinStart {
		t.MinStart = start
	}
	if end > t.MaxEnd {
		t.MaxEnd = end
	}
	f.Records++
	f.Packets += packets
	f.Bytes += bytes
	if reject {
		t.Rejects++
	}
}
