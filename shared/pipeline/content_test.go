package pipeline

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/parquetlog"
)

const testHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
const testLine = "2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.23 172.31.5.6 443 51234 6 12 3456 1700000000 1700000060 ACCEPT OK"

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// TestInspectContent: every kind of object, through PlanObject (the CLI's
// and the splitter's Plan step), gzip and plain.
func TestInspectContent(t *testing.T) {
	cw := `{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE"}]}`
	cwLate := `{"owner":"1","subscriptionFilters":["a",{"messageType":"x"}],"messageType":"DATA_MESSAGE","logEvents":[`
	fh := `{"message":"` + testLine + `"}`
	tests := []struct {
		name     string
		data     string
		format   bool
		want     error // nil: readable
		firehose bool  // framing JSON
		cw       bool  // framing CloudWatch
	}{
		{"header and line", testHeader + "\n" + testLine + "\n", false, nil, false, false},
		{"crlf header", testHeader + "\r\n" + testLine + "\r\n", false, nil, false, false},
		{"header only, no newline", testHeader, false, nil, false, false},
		{"headerless with format", testLine + "\n", true, nil, false, false},
		{"headerless without format", testLine + "\n", false, ErrNoFormat, false, false},
		{"empty", "", false, ErrEmpty, false, false},
		{"empty with format", "", true, ErrEmpty, false, false},
		{"duplicated field", "version srcaddr srcaddr\n", false, ErrHeader, false, false},
		{"duplicated field with format", "version srcaddr srcaddr\n", true, ErrHeader, false, false},
		{"gzip (nested when compressed again)", string(gz([]byte(testHeader + "\n"))), true, nil, false, false},
		{"cloudwatch without format", cw, false, ErrNoFormat, false, true},
		{"cloudwatch", cw, true, nil, false, true},
		{"cloudwatch member order", cwLate, true, nil, false, true},
		{"parquet, damaged", "PAR1\x00\x01PAR1", false, parquetlog.ErrCorrupt, false, false},
		{"binary", "\x00\x00\x00\x01junk\n", true, ErrNotFlowLog, false, false},
		{"invalid utf-8", "\xff\xfe\xfd abc\n", true, ErrNotFlowLog, false, false},
		{"text", "hello world\n", false, ErrNotFlowLog, false, false},
		{"text with format: parsed, malformed", "hello world\n", true, nil, false, false},
		{"json without message", `{"a":1}{"a":2}`, true, ErrNotFlowLog, false, false},
		{"firehose", fh + fh, true, nil, true, false},
		{"firehose without format", fh, false, ErrNoFormat, true, false},
		{"blank lines then header", "\n\n" + testHeader + "\n", true, nil, false, false},
		{"nul padding after the first line", testHeader + "\n" + testLine + "\n" + strings.Repeat("\x00", 100000), false, nil, false, false},
	}
	for _, tc := range tests {
		for _, comp := range []bool{false, true} {
			data := []byte(tc.data)
			if comp {
				data = gz(data)
			}
			name := tc.name
			if comp {
				name += "/gzip"
			}
			t.Run(name, func(t *testing.T) {
				var f *flowlog.Format
				if tc.format {
					f = flowlog.DefaultFormat
				}
				p, err := PlanObject(t.Context(), "obj", chunk.BytesSource(data), PlanOptions{Format: f})
				want := tc.want
				if comp && strings.HasPrefix(tc.name, "gzip (nested") {
					want = ErrNestedGzip
				}
				if comp && strings.HasPrefix(tc.name, "parquet") {
					want = ErrParquet // AWS compresses inside the file, never around it
				}
				if !errors.Is(err, want) || (err == nil) != (want == nil) {
					t.Fatalf("PlanObject error %v, want %v", err, want)
				}
				if err != nil {
					if !strings.HasPrefix(err.Error(), "plan obj: ") {
						t.Errorf("error %q does not name the object", err)
					}
					return
				}
				if (p.Framing == contract.FramingJSON) != tc.firehose || (p.Framing == contract.FramingCloudWatch) != tc.cw {
					t.Errorf("framing %q, want firehose %v, cloudwatch %v", p.Framing, tc.firehose, tc.cw)
				}
				// The stream check (standard input) agrees.
				raw, head, whole, _ := sniffStream(bytes.NewReader(data))
				if _, err := inspectContent(raw, head, whole, f); err != nil {
					t.Errorf("stream check: %v", err)
				}
			})
		}
	}
}

// TestDuplicateFieldMessage: the error names the field and both columns.
func TestDuplicateFieldMessage(t *testing.T) {
	_, err := PlanObject(t.Context(), "x.log", chunk.BytesSource([]byte("version srcaddr dstaddr srcaddr\n")), PlanOptions{})
	if err == nil || !strings.Contains(err.Error(), `field "srcaddr" in column 4 duplicates column 2`) || !strings.Contains(err.Error(), "x.log") {
		t.Errorf("error %v", err)
	}
}

func FuzzInspectContent(f *testing.F) {
	for _, s := range []string{"", testHeader + "\n" + testLine, "PAR1", "\x1f\x8b", `{"messageType":"DATA_MESSAGE"}`,
		`{"message":"x"}`, "version srcaddr srcaddr", "\x00", "a b c\n", `{"a":[{"messageType":1}],"messageType":"CONTROL_MESSAGE"`} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, head []byte, whole bool) {
		for _, format := range []*flowlog.Format{nil, flowlog.DefaultFormat} {
			framing, err := inspectContent(head, head, whole, format)
			if framing != contract.FramingLines && len(bytes.TrimLeft(head, " \t\r\n")) == 0 {
				t.Fatalf("firehose for %q", head)
			}
			if err == nil && whole && len(head) == 0 {
				t.Fatal("empty content accepted")
			}
		}
	})
}
