package flowlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// CloudWatch Logs subscription payloads, as a subscription filter to
// Firehose delivers them to S3: one JSON document per delivery,
//
//	{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"...",
//	 "logStream":"eni-...-all","subscriptionFilters":["..."],
//	 "logEvents":[{"id":"...","timestamp":1700000000000,"message":"2 123456789012 eni-..."}, ...]}
//
// documents concatenated without separators (each Firehose record was a
// gzip member, so the object is multi-member gzip). A "CONTROL_MESSAGE"
// document is the destination check CloudWatch Logs sends when the
// subscription is created; its events are counted as ReasonControl. Each
// event's message is one flow-log record in the log group's format (no
// header line: the format comes from configuration). "When log events are
// sent to the receiving service, they are Base64 encoded and compressed
// with the GZIP format" (CloudWatch Logs API, PutSubscriptionFilter,
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html);
// Firehose decodes the Base64 and writes the gzip records to S3 as they are.
// The document shape is the one AWS's Firehose processor blueprint and
// Powertools' CloudWatchLogsDecode schema show.

// MaxCloudWatchDocument bounds the memory a CloudWatchReader uses: one
// document is decoded at a time, and a larger one fails the read. A
// subscription delivers at most about 1 MB of events per document (a
// Firehose record is at most 1,000 KiB before CloudWatch's compression).
const MaxCloudWatchDocument = 16 << 20

// ErrCloudWatch wraps the errors of a payload that cannot be read.
var ErrCloudWatch = errors.New("invalid CloudWatch Logs subscription payload")

// controlLine is what a CloudWatchReader yields for each event of a
// CONTROL_MESSAGE document; Parser.ParseLine counts it as ReasonControl.
// No text line holds a NUL byte.
var controlLine = []byte("\x00cloudwatch-control-message")

// IsCloudWatch reports whether b starts with a CloudWatch Logs subscription
// payload: a JSON object whose top-level "messageType" is "DATA_MESSAGE" or
// "CONTROL_MESSAGE". b may be cut anywhere after that member.
func IsCloudWatch(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	depth, wantKey, key := 1, true, ""
	for depth > 0 {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
				if depth == 1 {
					wantKey = true
				}
			}
		case string:
			if depth != 1 {
				continue
			}
			if wantKey {
				key, wantKey = v, false
				continue
			}
			if key == "messageType" {
				return v == "DATA_MESSAGE" || v == "CONTROL_MESSAGE"
			}
			wantKey = true
		default:
			if depth == 1 {
				wantKey = true
			}
		}
	}
	return false
}

// CloudWatchReader yields the events of a CloudWatch Logs subscription
// object as lines (the LineReader interface): each DATA_MESSAGE event's
// message, and a control marker per CONTROL_MESSAGE event. LineNo is the
// event's 1-based index in the object. Memory: one document.
type CloudWatchReader struct {
	guard  *docGuard
	dec    *json.Decoder
	doc    int // documents read
	events []cwEvent
	i      int
	ctl    bool
	line   []byte
	lineNo int64
	err    error
}

type cwEvent struct {
	Message *string `json:"message"`
}

type cwDocument struct {
	MessageType string    `json:"messageType"`
	LogEvents   []cwEvent `json:"logEvents"`
}

// docGuard fails a read once the current document passes the bound.
type docGuard struct {
	r         io.Reader
	read, max int64
	start     int64 // offset of the current document
}

func (g *docGuard) Read(p []byte) (int, error) {
	left := g.max + 1 - (g.read - g.start)
	if left <= 0 {
		return 0, fmt.Errorf("a document is larger than %d bytes: %w", g.max, ErrCloudWatch)
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := g.r.Read(p)
	g.read += int64(n)
	return n, err
}

// NewCloudWatchReader reads the decompressed payload r.
func NewCloudWatchReader(r io.Reader) *CloudWatchReader {
	g := &docGuard{r: r, max: MaxCloudWatchDocument}
	return &CloudWatchReader{guard: g, dec: json.NewDecoder(g)}
}

// Next advances to the next event.
func (c *CloudWatchReader) Next() bool {
	for c.i >= len(c.events) {
		if c.err != nil {
			return false
		}
		var d cwDocument
		c.guard.start = c.dec.InputOffset()
		err := c.dec.Decode(&d)
		if err == io.EOF {
			return false
		}
		c.doc++
		if err != nil {
			var se *json.SyntaxError
			var te *json.UnmarshalTypeError
			if errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("document %d (after event %d): %v: %w", c.doc, c.lineNo, err, ErrCloudWatch)
			}
			c.err = err
			return false
		}
		switch d.MessageType {
		case "DATA_MESSAGE":
			c.ctl = false
		case "CONTROL_MESSAGE":
			c.ctl = true
		default:
			c.err = fmt.Errorf("document %d: messageType %q: %w", c.doc, d.MessageType, ErrCloudWatch)
			return false
		}
		c.events, c.i = d.LogEvents, 0
	}
	ev := c.events[c.i]
	c.i++
	c.lineNo++
	switch {
	case c.ctl:
		c.line = controlLine
	case ev.Message == nil:
		// Counted malformed by the parser ("not a JSON object").
		c.line = []byte(`{"event without a message":true}`)
	default:
		c.line = []byte(*ev.Message)
	}
	return true
}

// Line returns the current event's message.
func (c *CloudWatchReader) Line() []byte { return c.line }

// LineNo returns the current event's 1-based index in the object.
func (c *CloudWatchReader) LineNo() int64 { return c.lineNo }

// Err returns the error that ended the reading, nil at the end.
func (c *CloudWatchReader) Err() error { return c.err }
