package flowlog

import (
	"bytes"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flow"
)

// benchObject builds an object of n lines cycling through a few ENIs.
func benchObject(header, line string, n int) []byte {
	var b bytes.Buffer
	b.WriteString(header + "\n")
	for i := range n {
		l := line
		if i%4 != 0 {
			l = strings.Replace(line, "eni-0a1b2c3d4e5f60718", "eni-0a1b2c3d4e5f6071"+string(rune('a'+i%4)), 1)
		}
		b.WriteString(l + "\n")
	}
	return b.Bytes()
}

func benchParseLine(b *testing.B, f *Format, line string) {
	p := NewParser(Options{Format: f})
	l := []byte(line)
	var rec flow.Record
	b.SetBytes(int64(len(l) + 1))
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		if r, err := p.ParseLine(l, 2, &rec); r != ReasonNone || err != nil {
			b.Fatal(r, err)
		}
	}
	reportLines(b, float64(b.N), cpu)
}

func BenchmarkParseLine(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchParseLine(b, DefaultFormat, defaultLine) })
	b.Run("custom-v5", func(b *testing.B) { benchParseLine(b, mustFormat(b, customFormat), customLine) })
	b.Run("ipv6", func(b *testing.B) {
		benchParseLine(b, DefaultFormat, strings.Replace(strings.Replace(defaultLine,
			"10.0.1.5", "2600:1f18:24a1:c000:1a2b:3c4d:5e6f:7081", 1), "10.0.2.9", "2a05:d018:abc::42", 1))
	})
	b.Run("firehose", func(b *testing.B) { benchParseLine(b, DefaultFormat, `{"message":"`+defaultLine+`"}`) })
}

// BenchmarkScan reads and parses a whole default-format object.
func BenchmarkScan(b *testing.B) {
	for _, tc := range []struct{ name, header, line string }{
		{"default", defaultHeader, defaultLine},
		{"custom-v5", mustFormat(b, customFormat).Header(), customLine},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const n = 100_000
			obj := benchObject(tc.header, tc.line, n)
			b.SetBytes(int64(len(obj)))
			b.ReportAllocs()
			p := NewParser(Options{})
			cpu := cpuTime(b)
			for b.Loop() {
				p.Reset()
				if err := p.Scan(bytes.NewReader(obj), func(*flow.Record) error { return nil }); err != nil {
					b.Fatal(err)
				}
				if c := p.Counts(); c.Records != n {
					b.Fatalf("counts %+v", c)
				}
			}
			reportLines(b, float64(b.N)*n, cpu)
		})
	}
}

// BenchmarkLineReader measures splitting alone.
func BenchmarkLineReader(b *testing.B) {
	obj := benchObject(defaultHeader, defaultLine, 100_000)
	b.SetBytes(int64(len(obj)))
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		lr := NewLineReader(bytes.NewReader(obj))
		for lr.Next() {
		}
	}
	reportLines(b, float64(b.N)*100_001, cpu)
}
