package emf

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// specUnits is CloudWatch's unit list, as the EMF specification refers to
// it (MetricDatum Unit), typed out independently of Units.
var specUnits = strings.Split("Seconds Microseconds Milliseconds Bytes Kilobytes Megabytes Gigabytes Terabytes "+
	"Bits Kilobits Megabits Gigabits Terabits Percent Count Bytes/Second Kilobytes/Second Megabytes/Second "+
	"Gigabytes/Second Terabytes/Second Bits/Second Kilobits/Second Megabits/Second Gigabits/Second "+
	"Terabits/Second Count/Second None", " ")

// validateEMF checks one log line against the EMF specification
// (CloudWatch_Embedded_Metric_Format_Specification):
//   - the line is one JSON object;
//   - root member _aws is an object with Timestamp, a number (epoch
//     milliseconds), and CloudWatchMetrics, an array of MetricDirective;
//   - a MetricDirective has Namespace (a string), Dimensions (an array of
//     DimensionSets: arrays of at most 30 strings, each naming a root member
//     whose value is a string) and Metrics (an array of at most 100
//     MetricDefinitions);
//   - a MetricDefinition has Name (a string naming a root member whose
//     value is a number or an array of at most 100 numbers), optionally Unit
//     (one of the CloudWatch units) and StorageResolution (1 or 60), and
//     nothing else.
//
// It returns the decoded document.
func validateEMF(line []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if dec.More() {
		return nil, errors.New("data after the JSON object")
	}
	aws, ok := root["_aws"].(map[string]any)
	if !ok {
		return nil, errors.New("_aws is missing or not an object")
	}
	ts, ok := aws["Timestamp"].(json.Number)
	if !ok {
		return nil, errors.New("_aws.Timestamp is missing or not a number")
	}
	if ms, err := ts.Int64(); err != nil || ms < 0 {
		return nil, fmt.Errorf("_aws.Timestamp %v is not epoch milliseconds", ts)
	}
	directives, ok := aws["CloudWatchMetrics"].([]any)
	if !ok {
		return nil, errors.New("_aws.CloudWatchMetrics is missing or not an array")
	}
	for i, d := range directives {
		dir, ok := d.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("directive %d is not an object", i)
		}
		for k := range dir {
			if k != "Namespace" && k != "Dimensions" && k != "Metrics" {
				return nil, fmt.Errorf("directive %d: unknown member %q", i, k)
			}
		}
		if ns, ok := dir["Namespace"].(string); !ok || ns == "" {
			return nil, fmt.Errorf("directive %d: Namespace is missing or not a string", i)
		}
		sets, ok := dir["Dimensions"].([]any)
		if !ok {
			return nil, fmt.Errorf("directive %d: Dimensions is missing or not an array", i)
		}
		for j, s := range sets {
			set, ok := s.([]any)
			if !ok {
				return nil, fmt.Errorf("directive %d: dimension set %d is not an array", i, j)
			}
			if len(set) > 30 {
				return nil, fmt.Errorf("directive %d: dimension set %d has %d keys", i, j, len(set))
			}
			for _, k := range set {
				key, ok := k.(string)
				if !ok {
					return nil, fmt.Errorf("directive %d: dimension key %v is not a string", i, k)
				}
				if _, ok := root[key].(string); !ok {
					return nil, fmt.Errorf("directive %d: dimension %q has no string member", i, key)
				}
			}
		}
		metrics, ok := dir["Metrics"].([]any)
		if !ok {
			return nil, fmt.Errorf("directive %d: Metrics is missing or not an array", i)
		}
		if len(metrics) > 100 {
			return nil, fmt.Errorf("directive %d: %d metrics", i, len(metrics))
		}
		for j, m := range metrics {
			def, ok := m.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("directive %d: metric %d is not an object", i, j)
			}
			name, ok := def["Name"].(string)
			if !ok || name == "" {
				return nil, fmt.Errorf("directive %d: metric %d has no Name", i, j)
			}
			for k, v := range def {
				switch k {
				case "Name":
				case "Unit":
					if u, ok := v.(string); !ok || !slices.Contains(specUnits, u) {
						return nil, fmt.Errorf("metric %q: unit %v", name, v)
					}
				case "StorageResolution":
					if n, ok := v.(json.Number); !ok || (n.String() != "1" && n.String() != "60") {
						return nil, fmt.Errorf("metric %q: storage resolution %v", name, v)
					}
				default:
					return nil, fmt.Errorf("metric %q: unknown member %q", name, k)
				}
			}
			switch v := root[name].(type) {
			case json.Number:
			case []any:
				if len(v) == 0 || len(v) > 100 {
					return nil, fmt.Errorf("metric %q: %d values", name, len(v))
				}
				for _, x := range v {
					if _, ok := x.(json.Number); !ok {
						return nil, fmt.Errorf("metric %q: value %v is not a number", name, x)
					}
				}
			default:
				return nil, fmt.Errorf("metric %q: root member is %T, not a number or array of numbers", name, root[name])
			}
		}
	}
	return root, nil
}

// lines validates every line of out and returns the documents.
func lines(t *testing.T, out string) []map[string]any {
	t.Helper()
	if out != "" && !strings.HasSuffix(out, "\n") {
		t.Errorf("output does not end in a newline: %q", out)
	}
	var docs []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		doc, err := validateEMF([]byte(l))
		if err != nil {
			t.Fatalf("invalid EMF line %s: %v", l, err)
		}
		docs = append(docs, doc)
	}
	return docs
}

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func fixed() time.Time { return t0 }

// TestValidator checks that the validator rejects what the spec forbids.
func TestValidator(t *testing.T) {
	good := `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["D"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"D":"x","M":[1,2]}`
	if _, err := validateEMF([]byte(good)); err != nil {
		t.Fatalf("good document: %v", err)
	}
	bad := map[string]string{
		"no _aws":            `{"M":1}`,
		"timestamp string":   strings.Replace(good, `"Timestamp":1`, `"Timestamp":"1"`, 1),
		"no namespace":       strings.Replace(good, `"Namespace":"n",`, ``, 1),
		"dimension missing":  strings.Replace(good, `"D":"x",`, ``, 1),
		"dimension number":   strings.Replace(good, `"D":"x"`, `"D":5`, 1),
		"dimensions flat":    strings.Replace(good, `[["D"]]`, `["D"]`, 1),
		"metric missing":     strings.Replace(good, `,"M":[1,2]`, ``, 1),
		"metric string":      strings.Replace(good, `"M":[1,2]`, `"M":"1"`, 1),
		"bad unit":           strings.Replace(good, `"Count"`, `"Counts"`, 1),
		"extra member":       strings.Replace(good, `"Unit":"Count"`, `"Unit":"Count","X":1`, 1),
		"trailing data":      good + `{}`,
		"empty value array":  strings.Replace(good, `[1,2]`, `[]`, 1),
		"31 dimension keys":  strings.Replace(good, `[["D"]]`, `[[`+strings.Repeat(`"D",`, 30)+`"D"]]`, 1),
		"storage resolution": strings.Replace(good, `"Unit":"Count"`, `"Unit":"Count","StorageResolution":5`, 1),
	}
	for name, doc := range bad {
		if _, err := validateEMF([]byte(doc)); err == nil {
			t.Errorf("%s: accepted %s", name, doc)
		}
	}
	// Units and specUnits agree.
	var ours []string
	for _, u := range Units {
		ours = append(ours, string(u))
	}
	slices.Sort(ours)
	spec := slices.Sorted(slices.Values(specUnits))
	if diff := cmp.Diff(spec, ours); diff != "" {
		t.Errorf("Units (-spec +ours):\n%s", diff)
	}
}

// TestGolden writes what the parser would emit for one chunk and compares
// it with testdata/parser.jsonl.
func TestGolden(t *testing.T) {
	var buf bytes.Buffer
	base := New(&buf, Namespace).SetClock(fixed).Dimension(DimFunction, "parser").
		Property("execution", "arn:aws:states:us-east-1:123456789012:execution:flowlogs2netflow:rp-1-x").
		Property("chunk", 3)
	if err := base.Clone().Put(MetricLines, 60005, Count).Flush(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		id                 string
		recs, dgrams, size float64
	}{{"r0", 59989, 2308, 3323772}, {"r1", 59979, 2000, 2926992}} {
		err := base.Clone().Dimension(DimReceiver, r.id).AddDimensionSet(DimFunction).
			Put(MetricRecords, r.recs, Count).Put(MetricDatagrams, r.dgrams, Count).Put(MetricBytes, r.size, Bytes).Flush()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []struct {
		reason string
		n      float64
	}{{"header", 1}, {"malformed", 1}, {"nodata", 10}, {"skipdata", 4}} {
		if err := base.Clone().Dimension(DimReason, r.reason).Put(MetricSkippedLines, r.n, Count).Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := base.Clone().Dimension(DimStep, "Parse").Put(MetricDurationMs, 1834.5, Milliseconds).Flush(); err != nil {
		t.Fatal(err)
	}
	docs := lines(t, buf.String())
	if len(docs) != 8 {
		t.Errorf("%d lines, want 8", len(docs))
	}
	golden := filepath.Join("testdata", "parser.jsonl")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./shared/emf -update)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestDocument(t *testing.T) {
	var buf bytes.Buffer
	m := New(&buf, Namespace).SetClock(fixed).Dimension(DimFunction, "sender").Dimension(DimReceiver, "r0")
	m.Put(MetricDatagrams, 10, Count).Put(MetricDatagrams, 20, Count).Put(MetricBytes, 1e3, Bytes)
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	docs := lines(t, buf.String())
	if len(docs) != 1 {
		t.Fatalf("%d lines", len(docs))
	}
	got, _ := json.Marshal(docs[0])
	want := `{"Bytes":1000,"Datagrams":[10,20],"Function":"sender","Receiver":"r0","_aws":{"CloudWatchMetrics":[{"Dimensions":[["Function","Receiver"]],"Metrics":[{"Name":"Datagrams","Unit":"Count"},{"Name":"Bytes","Unit":"Bytes"}],"Namespace":"flowlogs2netflow"}],"Timestamp":` + fmt.Sprint(t0.UnixMilli()) + `}}`
	if string(got) != want {
		t.Errorf("document\n got %s\nwant %s", got, want)
	}
	// Flush clears the values and keeps the dimensions; nothing to write
	// writes nothing.
	buf.Reset()
	if err := m.Flush(); err != nil || buf.Len() != 0 {
		t.Errorf("empty flush wrote %q, %v", buf.String(), err)
	}
	m.Put(MetricDatagrams, 1, Count)
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	if d := lines(t, buf.String()); len(d) != 1 || d[0]["Receiver"] != "r0" || d[0]["Datagrams"] != json.Number("1") {
		t.Errorf("second flush: %v", d)
	}
}

func TestNoDimensions(t *testing.T) {
	var buf bytes.Buffer
	if err := New(&buf, Namespace).SetClock(fixed).Put("Up", 1, "").Flush(); err != nil {
		t.Fatal(err)
	}
	docs := lines(t, buf.String())
	if want := `{"_aws":{"Timestamp":` + fmt.Sprint(t0.UnixMilli()) + `,"CloudWatchMetrics":[{"Namespace":"flowlogs2netflow","Dimensions":[[]],"Metrics":[{"Name":"Up"}]}]},"Up":1}` + "\n"; buf.String() != want || len(docs) != 1 {
		t.Errorf("got %s want %s", buf.String(), want)
	}
}

// TestSplitting: more than 100 metrics or 100 values take several lines,
// each within the limits, and together carry every value once.
func TestSplitting(t *testing.T) {
	var buf bytes.Buffer
	m := New(&buf, Namespace).SetClock(fixed).Dimension(DimFunction, "parser")
	want := map[string][]float64{}
	for i := range 250 {
		name := fmt.Sprintf("M%03d", i)
		m.Put(name, float64(i), Count)
		want[name] = append(want[name], float64(i))
	}
	for i := range 230 {
		m.Put("M000", float64(1000+i), Count)
		want["M000"] = append(want["M000"], float64(1000+i))
	}
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	docs := lines(t, buf.String())
	if len(docs) != 3 {
		t.Errorf("%d lines, want 3", len(docs))
	}
	got := map[string][]float64{}
	for _, d := range docs {
		for _, def := range d["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any) {
			name := def.(map[string]any)["Name"].(string)
			switch v := d[name].(type) {
			case json.Number:
				f, _ := v.Float64()
				got[name] = append(got[name], f)
			case []any:
				for _, x := range v {
					f, _ := x.(json.Number).Float64()
					got[name] = append(got[name], f)
				}
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}

func TestRules(t *testing.T) {
	long := strings.Repeat("x", 256)
	tests := []struct {
		name  string
		build func(m *Logger)
	}{
		{"empty metric name", func(m *Logger) { m.Put("", 1, Count) }},
		{"blank metric name", func(m *Logger) { m.Put("  ", 1, Count) }},
		{"long metric name", func(m *Logger) { m.Put(long, 1, Count) }},
		{"control char in metric name", func(m *Logger) { m.Put("a\nb", 1, Count) }},
		{"NaN", func(m *Logger) { m.Put("M", math.NaN(), Count) }},
		{"+Inf", func(m *Logger) { m.Put("M", math.Inf(1), Count) }},
		{"-Inf", func(m *Logger) { m.Put("M", math.Inf(-1), Count) }},
		{"beyond 2^360", func(m *Logger) { m.Put("M", 0x1p361, Count) }},
		{"unknown unit", func(m *Logger) { m.Put("M", 1, "Packets") }},
		{"unit changes", func(m *Logger) { m.Put("M", 1, Count).Put("M", 2, Bytes) }},
		{"empty dimension name", func(m *Logger) { m.Dimension("", "v") }},
		{"empty dimension value", func(m *Logger) { m.Dimension("D", "") }},
		{"blank dimension value", func(m *Logger) { m.Dimension("D", " ") }},
		{"non-ASCII dimension value", func(m *Logger) { m.Dimension("D", "café") }},
		{"dimension name with colon", func(m *Logger) { m.Dimension(":D", "v") }},
		{"long dimension value", func(m *Logger) { m.Dimension("D", strings.Repeat("v", 1025)) }},
		{"31 dimensions", func(m *Logger) {
			for i := range 31 {
				m.Dimension(fmt.Sprintf("D%d", i), "v")
			}
		}},
		{"metric named like a dimension", func(m *Logger) { m.Dimension("D", "v").Put("D", 1, Count) }},
		{"dimension named like a metric", func(m *Logger) { m.Put("D", 1, Count).Dimension("D", "v") }},
		{"property named like a metric", func(m *Logger) { m.Put("D", 1, Count).Property("D", 1) }},
		{"metric named _aws", func(m *Logger) { m.Put("_aws", 1, Count) }},
		{"property not JSON", func(m *Logger) { m.Property("p", func() {}) }},
		{"dimension set with unknown key", func(m *Logger) { m.AddDimensionSet("Nope") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			m := New(&buf, Namespace).SetClock(fixed)
			tt.build(m)
			m.Put("Good", 1, Count)
			err := m.Flush()
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Flush = %v, want ErrInvalid", err)
			}
			// The valid rest is still written, and valid.
			docs := lines(t, buf.String())
			if len(docs) != 1 || docs[0]["Good"] != json.Number("1") {
				t.Errorf("output %q", buf.String())
			}
			// The error is reported once.
			m.Put("Good", 2, Count)
			if err := m.Flush(); err != nil {
				t.Errorf("second Flush = %v", err)
			}
		})
	}
	// 30 dimensions are fine.
	var buf bytes.Buffer
	m := New(&buf, Namespace)
	for i := range 30 {
		m.Dimension(fmt.Sprintf("D%d", i), "v")
	}
	if err := m.Put("M", 1, Count).Flush(); err != nil {
		t.Errorf("30 dimensions: %v", err)
	}
	lines(t, buf.String())
}

func TestNamespace(t *testing.T) {
	for _, ns := range []string{"", "AWS/Lambda", strings.Repeat("n", 256), "name\tspace", "naïve"} {
		var buf bytes.Buffer
		if err := New(&buf, ns).Put("M", 1, Count).Flush(); !errors.Is(err, ErrInvalid) {
			t.Errorf("namespace %q: Flush = %v, want ErrInvalid", ns, err)
		}
	}
	for _, ns := range []string{Namespace, "team/flowlogs2netflow-prod", "a.b_c#d:e f"} {
		var buf bytes.Buffer
		if err := New(&buf, ns).Put("M", 1, Count).Flush(); err != nil {
			t.Errorf("namespace %q: %v", ns, err)
		}
	}
}

func TestCloneIsIndependent(t *testing.T) {
	var buf bytes.Buffer
	base := New(&buf, Namespace).SetClock(fixed).Dimension(DimFunction, "parser")
	a := base.Clone().Dimension(DimReceiver, "r0").Put(MetricRecords, 1, Count)
	b := base.Clone().Dimension(DimReceiver, "r1").Put(MetricRecords, 2, Count)
	base.Dimension(DimFunction, "changed")
	if err := errors.Join(a.Flush(), b.Flush()); err != nil {
		t.Fatal(err)
	}
	docs := lines(t, buf.String())
	if len(docs) != 2 || docs[0]["Receiver"] != "r0" || docs[1]["Receiver"] != "r1" ||
		docs[0]["Function"] != "parser" || docs[1]["Records"] != json.Number("2") {
		t.Errorf("clones: %s", buf.String())
	}
}

func TestConcurrent(t *testing.T) {
	var buf bytes.Buffer
	m := New(&buf, Namespace).Dimension(DimFunction, "sender")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				m.Put(MetricDatagrams, 1, Count)
			}
		})
	}
	wg.Wait()
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range lines(t, buf.String()) {
		n += len(d[MetricDatagrams].([]any))
	}
	if n != 400 {
		t.Errorf("%d values, want 400", n)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	err := New(failWriter{}, Namespace).Put("M", 1, Count).Flush()
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Flush = %v", err)
	}
}

func TestCatalog(t *testing.T) {
	known := []string{DimFunction, DimReceiver, DimReason, DimStep}
	seen := map[string]bool{}
	for _, d := range Catalog {
		if seen[d.Name] {
			t.Errorf("%s listed twice", d.Name)
		}
		seen[d.Name] = true
		if err := validMetric(d.Name, 0, d.Unit); err != nil {
			t.Errorf("%s: %v", d.Name, err)
		}
		if len(d.Dimensions) == 0 || d.Dimensions[0] != DimFunction {
			t.Errorf("%s: dimensions %q do not start with Function", d.Name, d.Dimensions)
		}
		for _, k := range d.Dimensions {
			if !slices.Contains(known, k) {
				t.Errorf("%s: unknown dimension %q", d.Name, k)
			}
		}
		if len(d.Emitters) == 0 || d.Meaning == "" {
			t.Errorf("%s: undocumented", d.Name)
		}
	}
	for _, name := range []string{MetricExecutions, MetricDuplicates, MetricLines, MetricRecords, MetricSkippedLines,
		MetricDatagrams, MetricBytes, MetricDurationMs, MetricSequenceSkipped, MetricLateSends} {
		if !seen[name] {
			t.Errorf("%s is not in the catalog", name)
		}
	}
	// Every catalog entry emits a valid document.
	var buf bytes.Buffer
	for _, d := range Catalog {
		m := New(&buf, Namespace)
		for _, k := range d.Dimensions {
			m.Dimension(k, "x")
		}
		if err := m.Put(d.Name, 1, d.Unit).Flush(); err != nil {
			t.Errorf("%s: %v", d.Name, err)
		}
	}
	lines(t, buf.String())
}
