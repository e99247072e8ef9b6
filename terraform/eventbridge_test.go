package terraform

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
)

// eventLocals evaluates the locals of eventbridge.tf with the module's
// variable defaults overridden by vars, with the few functions they use.
func eventLocals(t *testing.T, vars map[string]cty.Value) map[string]cty.Value {
	t.Helper()
	c := load(t, module)
	vals := map[string]cty.Value{}
	for name, b := range c.variables {
		if d, ok := b.Body.Attributes["default"]; ok {
			v, diags := d.Expr.Value(nil)
			if !diags.HasErrors() {
				vals[name] = v
			}
		}
	}
	for k, v := range vars {
		vals[k] = v
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vals)},
		Functions: map[string]function.Function{
			"replace": stdlib.ReplaceFunc, "jsonencode": stdlib.JSONEncodeFunc, "jsondecode": stdlib.JSONDecodeFunc,
			"merge": stdlib.MergeFunc, "join": stdlib.JoinFunc,
		},
	}
	locals := map[string]cty.Value{}
	var pending []string
	for n, f := range c.localFile {
		if f == "eventbridge.tf" {
			pending = append(pending, n)
		}
	}
	for len(pending) > 0 {
		var next []string
		for _, n := range pending {
			ready := true
			for _, r := range refs(c.locals[n].Expr) {
				l, ok := strings.CutPrefix(r, "local.")
				if _, done := locals[l]; ok && !done {
					ready = false
				}
			}
			if !ready {
				next = append(next, n)
				continue
			}
			ctx.Variables["local"] = cty.ObjectVal(locals)
			v, diags := c.locals[n].Expr.Value(ctx)
			if diags.HasErrors() {
				t.Fatalf("local.%s: %s", n, diags.Error())
			}
			locals[n] = v
		}
		if len(next) == len(pending) {
			t.Fatalf("locals %v reference each other or something outside eventbridge.tf", next)
		}
		pending = next
	}
	return locals
}

// TestEventPattern: the rule matches Object Created events of the bucket
// whose key has the prefix and the suffix (one wildcard, escaped).
func TestEventPattern(t *testing.T) {
	cases := []struct {
		prefix, suffix string
		key            string // the pattern's key filter, JSON
	}{
		{"AWSLogs/", ".log.gz", `[{"wildcard":"AWSLogs/*.log.gz"}]`},
		{"logs*/", "", `[{"prefix":"logs*/"}]`},
		{"", ".log.gz", `[{"suffix":".log.gz"}]`},
		{"", "", `[{"exists":true}]`},
		{`a\b*/`, ".gz", `[{"wildcard":"a\\\\b\\*/*.gz"}]`},
	}
	for _, tc := range cases {
		l := eventLocals(t, map[string]cty.Value{
			"flow_log_bucket_name": cty.StringVal("example-flow-logs"),
			"flow_log_key_prefix":  cty.StringVal(tc.prefix),
			"flow_log_key_suffix":  cty.StringVal(tc.suffix),
		})
		want := `{"detail":{"bucket":{"name":["example-flow-logs"]},"object":{"key":` + tc.key + `}},"detail-type":["Object Created"],"source":["aws.s3"]}`
		if diff := cmp.Diff(jsonAny(t, want), jsonAny(t, l["event_pattern"].AsString())); diff != "" {
			t.Errorf("prefix %q suffix %q: event pattern (-want +got):\n%s", tc.prefix, tc.suffix, diff)
		}
	}
	// The default filter against real-looking keys.
	l := eventLocals(t, map[string]cty.Value{"flow_log_bucket_name": cty.StringVal("b")})
	var p struct {
		Detail struct {
			Object struct {
				Key []struct{ Wildcard string } `json:"key"`
			} `json:"object"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(l["event_pattern"].AsString()), &p); err != nil {
		t.Fatal(err)
	}
	match := wildcard(p.Detail.Object.Key[0].Wildcard)
	for key, want := range map[string]bool{
		"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/27/123456789012_vpcflowlogs_eu-west-1_fl-0a_20261127T1005Z_1a2b.log.gz": true,
		"AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/x.log.gz":                                                      true,
		"AWSLogs/123/vpcflowlogs/x.log.parquet":                                                                                     false,
		"other/AWSLogs/x.log.gz":                                                                                                    false,
	} {
		if got := match.MatchString(key); got != want {
			t.Errorf("default pattern matches %q = %v, want %v", key, got, want)
		}
	}
}

// wildcard turns an EventBridge wildcard pattern into a regexp: '*' any
// run, "\*" and "\\" literal.
func wildcard(p string) *regexp.Regexp {
	var sb strings.Builder
	sb.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			i++
			sb.WriteString(regexp.QuoteMeta(string(p[i])))
		case p[i] == '*':
			sb.WriteString(".*")
		default:
			sb.WriteString(regexp.QuoteMeta(string(p[i])))
		}
	}
	return regexp.MustCompile(sb.String() + "$")
}

func jsonAny(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return v
}

// s3Event is an S3 "Object Created" event as EventBridge delivers it
// (docs/aws-facts.md §3.2); versioned buckets add detail.object.version-id.
func s3Event(versioned bool) map[string]any {
	obj := map[string]any{
		"key": "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/27/x.log.gz", "size": 5,
		"etag": "b1946ac92492d2347c6235b4d2611184", "sequencer": "617f08299329d189",
	}
	if versioned {
		obj["version-id"] = "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"
	}
	return map[string]any{
		"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created",
		"source": "aws.s3", "account": "123456789012", "time": "2021-11-12T00:00:00Z", "region": "ca-central-1",
		"resources": []any{"arn:aws:s3:::example-flow-logs"},
		"detail": map[string]any{
			"version": "0", "bucket": map[string]any{"name": "example-flow-logs"}, "object": obj,
			"request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
			"source-ip-address": "1.2.3.4", "reason": "PutObject",
		},
	}
}

// TestEventInput applies the target's input transformer to an S3 event the
// way EventBridge does (each <var> becomes the JSON value at its path) and
// decodes the result strictly as contract.ExecutionInput.
func TestEventInput(t *testing.T) {
	for _, versioned := range []bool{false, true} {
		l := eventLocals(t, map[string]cty.Value{
			"flow_log_bucket_name":      cty.StringVal("example-flow-logs"),
			"flow_log_bucket_versioned": cty.BoolVal(versioned),
		})
		var paths map[string]string
		b, err := ctyjson.Marshal(l["event_input_paths"], l["event_input_paths"].Type())
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &paths); err != nil {
			t.Fatal(err)
		}
		event := s3Event(versioned)
		out := l["event_input_template"].AsString()
		for name, path := range paths {
			var v any = event
			for _, seg := range strings.Split(strings.TrimPrefix(path, "$."), ".") {
				m, _ := v.(map[string]any)
				var ok bool
				if v, ok = m[seg]; !ok {
					t.Fatalf("versioned=%v: input path %s (%s) is not in the event: EventBridge would drop the input", versioned, name, path)
				}
			}
			j, _ := json.Marshal(v)
			out = strings.ReplaceAll(out, "<"+name+">", string(j))
		}
		var got contract.ExecutionInput
		dec := json.NewDecoder(bytes.NewReader([]byte(out)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("versioned=%v: transformed input %s: %v", versioned, out, err)
		}
		want := contract.ExecutionInput{
			Bucket: "example-flow-logs", Key: "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/27/x.log.gz",
			KeyEncoded: true, Size: 5, ETag: "b1946ac92492d2347c6235b4d2611184", Sequencer: "617f08299329d189",
			EventTime: "2021-11-12T00:00:00Z", Source: contract.SourceEventBridge,
		}
		if versioned {
			want.VersionID = "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("versioned=%v: execution input (-want +got):\n%s", versioned, diff)
		}
		if err := got.Validate(); err != nil {
			t.Error(err)
		}
	}
}
