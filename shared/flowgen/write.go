package flowgen

import (
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"time"
)

// generator holds the state of one Write.
type generator struct {
	opts          Options
	r             *rand.Rand
	enis          []eni
	cols          []column
	version       []byte
	hasIfaceAddrs bool
	has           [colEncryption + 1]bool // columns present in the format
}

// flushSize is the buffered output size written at once.
const flushSize = 256 << 10

// Write writes opts.Lines flow-log lines (after a header line if
// opts.Header) to w and returns their totals.
func Write(w io.Writer, opts Options) (Totals, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return Totals{}, err
	}
	seed := uint64(o.Seed)
	g := &generator{
		opts:    o,
		r:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		version: strconv.AppendInt(nil, int64(o.Format.Version()), 10),
	}
	g.enis = newENIs(g.r, o.Interfaces)
	for _, name := range o.Format.Fields() {
		c := columnsByName[name]
		g.cols = append(g.cols, c)
		g.has[c] = true
	}
	g.hasIfaceAddrs = g.has[colSrcAddr] && g.has[colDstAddr]

	tot := Totals{Header: o.Header}
	buf := make([]byte, 0, flushSize+4096)
	if o.Header {
		buf = append(buf, o.Format.Header()...)
		buf = append(buf, '\n')
	}
	startSec, spanSec := o.Start.Unix(), int64(o.Span/time.Second)
	var l flowLine
	for i := range o.Lines {
		// Start times rise through the span, as in a real series of files.
		hi, lo := bits.Mul64(uint64(spanSec), uint64(i))
		q, _ := bits.Div64(hi, lo, uint64(o.Lines))
		g.next(&l, startSec+int64(q))
		tot.add(g, &l)
		if o.Firehose {
			buf = append(buf, `{"message":"`...)
			buf = g.appendLine(buf, &l)
			buf = append(buf, `"}`...)
		} else {
			buf = g.appendLine(buf, &l)
			buf = append(buf, '\n')
		}
		if len(buf) >= flushSize {
			if _, err := w.Write(buf); err != nil {
				return tot, fmt.Errorf("flowgen: write: %w", err)
			}
			buf = buf[:0]
		}
	}
	if _, err := w.Write(buf); err != nil {
		return tot, fmt.Errorf("flowgen: write: %w", err)
	}
	return tot, nil
}

// add accounts for l as a parser in AddressAuto mode sees it.
func (t *Totals) add(g *generator, l *flowLine) {
	t.Lines++
	switch l.status {
	case statusNoData:
		t.NoData++
		return
	case statusSkipData:
		t.SkipData++
		return
	}
	var packets, bytes uint64
	var start, end int64
	if g.has[colPackets] { // a column missing from the format parses as 0
		packets = l.packets
	}
	if g.has[colBytes] {
		bytes = l.bytes
	}
	if g.has[colStart] {
		start = l.start
	}
	if g.has[colEnd] {
		end = l.end
	}
	t.addRecord(l.v6, packets, bytes, start, end, l.reject && g.has[colAction])
}
