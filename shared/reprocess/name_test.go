package reprocess

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// stepFunctionsName encodes Step Functions' name rules independently of
// ValidName: 1-80 characters, no whitespace, none of < > { } [ ] ? * " # %
// \ ^ | ~ ` $ & , ; : /, no control characters (C0, DEL, C1).
var stepFunctionsName = regexp.MustCompile("^[^\\s<>{}\\[\\]?*\"#%\\\\^|~`$&,;:/\\x00-\\x1f\\x7f-\\x9f]{1,80}$")

// ours is what Name promises beyond the rules: ASCII letters, digits and
// . _ - only (safe in an S3 key too).
var ours = regexp.MustCompile(`^[A-Za-z0-9._-]{1,80}$`)

const flowLogKey = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/27/123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261127T1005Z_0a1b2c3d.log.gz"

func TestReprocessNameValid(t *testing.T) {
	long := strings.Repeat("k", 1024)
	keys := []struct{ name, key string }{
		{"flow log", flowLogKey},
		{"hive", "logs/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=11/day=27/hour=10/123456789012_vpcflowlogs_eu-west-1_fl-0a_20261127T1005Z_ffff.log.gz"},
		{"1024 bytes", long},
		{"1024 bytes of forbidden", strings.Repeat(`<>{}[]?*"#%\^|~`+"`$&,;:/ \t", 1024/24+1)[:1024]},
		{"1024 bytes of folders", strings.Repeat("a/", 512)},
		{"unicode", "logs/日本語 ファイル:2026=11.log.gz"},
		{"control chars", "logs/a\x01b\x7fc\u0085d.log"},
		{"folder-like key", "logs/2026/"},
		{"only extension", ".log.gz"},
		{"one char", "x"},
		{"equals and plus", "a=b+c%20d.log.gz"},
	}
	ids := []string{"1", "20261127T105012Z", strings.Repeat("r", MaxRequestIDLen), "backfill-2026-11_v2.1"}
	for _, k := range keys {
		for _, id := range ids {
			o := Object{Bucket: "example-flow-logs", Key: k.key, ETag: "9b2cf535f27731c974343645a3985328"}
			n, err := ReprocessName(id, o)
			if err != nil {
				t.Fatalf("%s, id %q: %v", k.name, id, err)
			}
			if !stepFunctionsName.MatchString(n) || !ours.MatchString(n) {
				t.Errorf("%s, id %q: name %q (%d bytes) breaks the rules", k.name, id, n, len(n))
			}
			if err := ValidName(n); err != nil {
				t.Errorf("%s, id %q: ValidName: %v", k.name, id, err)
			}
			if !strings.HasPrefix(n, "rp-"+id+"-") {
				t.Errorf("%s, id %q: name %q does not start with rp-%s-", k.name, id, n, id)
			}
			again, _ := ReprocessName(id, o)
			if again != n {
				t.Errorf("%s, id %q: not deterministic: %q then %q", k.name, id, n, again)
			}
		}
	}
}

func TestReprocessNameExample(t *testing.T) {
	o := Object{Bucket: "example-flow-logs", Key: flowLogKey, ETag: "9b2cf535f27731c974343645a3985328"}
	n, err := ReprocessName("20261127T105012Z", o)
	if err != nil {
		t.Fatal(err)
	}
	// rp-<request id>-<file timestamp>_<flow log id>_<file hash>-<object hash>
	want := regexp.MustCompile(`^rp-20261127T105012Z-20261127T1005Z_fl-0123456789abcdef0_0a1b2c3d-[a-z2-7]{15}$`)
	if !want.MatchString(n) {
		t.Errorf("name %q does not match %s", n, want)
	}
	if len(n) > MaxNameLen {
		t.Errorf("name %q is %d bytes", n, len(n))
	}
}

func TestReprocessNameUnique(t *testing.T) {
	base := Object{Bucket: "b", Key: flowLogKey, ETag: "e1"}
	long := strings.Repeat("k", 1000)
	variants := map[string]Object{
		"base":            base,
		"other etag":      {Bucket: "b", Key: flowLogKey, ETag: "e2"},
		"other version":   {Bucket: "b", Key: flowLogKey, ETag: "e1", VersionID: "v2"},
		"other bucket":    {Bucket: "c", Key: flowLogKey, ETag: "e1"},
		"other key":       {Bucket: "b", Key: strings.Replace(flowLogKey, "/27/", "/28/", 1), ETag: "e1"},
		"long key a":      {Bucket: "b", Key: "a" + long, ETag: "e1"},
		"long key b":      {Bucket: "b", Key: "b" + long, ETag: "e1"},
		"field boundary1": {Bucket: "b", Key: "k", ETag: "xy"},
		"field boundary2": {Bucket: "b", Key: "kx", ETag: "y"},
	}
	seen := map[string]string{}
	for _, id := range []string{"req1", "req2"} {
		for what, o := range variants {
			n, err := ReprocessName(id, o)
			if err != nil {
				t.Fatal(err)
			}
			if prev, dup := seen[n]; dup {
				t.Errorf("%s/%s and %s have the same name %q", id, what, prev, n)
			}
			seen[n] = id + "/" + what
		}
	}
	// The hash suffix identifies the object version across requests.
	a, _ := ReprocessName("req1", base)
	b, _ := ReprocessName("req2", base)
	if a[len(a)-hashLen:] != b[len(b)-hashLen:] {
		t.Errorf("same object, different hash suffix: %q, %q", a, b)
	}
}

func TestEventName(t *testing.T) {
	o := Object{Bucket: "b", Key: flowLogKey, ETag: "e1"}
	n := EventName(o)
	if !strings.HasPrefix(n, "ev-") || !ours.MatchString(n) || n != EventName(o) {
		t.Errorf("EventName = %q", n)
	}
	if rp, _ := ReprocessName("x", o); rp == n {
		t.Errorf("event and reprocess names collide: %q", n)
	}
}

func TestValidName(t *testing.T) {
	good := []string{"a", strings.Repeat("a", 80), "rp-1-x_y.z-abc", "ünïcode"}
	for _, n := range good {
		if err := ValidName(n); err != nil {
			t.Errorf("ValidName(%q) = %v, want nil", n, err)
		}
	}
	bad := []string{"", strings.Repeat("a", 81), "a b", "a\tb", "a\x00b", "a\x7fb", "a\u0085b", "a\u00a0b"}
	for _, c := range `<>{}[]?*"#%\^|~` + "`$&,;:/" {
		bad = append(bad, "a"+string(c)+"b")
	}
	for _, n := range bad {
		if err := ValidName(n); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidName(%q) = %v, want ErrInvalidName", n, err)
		}
		if stepFunctionsName.MatchString(n) && n != "a\u00a0b" {
			t.Errorf("test regexp accepts %q", n)
		}
	}
}

func TestValidRequestID(t *testing.T) {
	for _, id := range []string{"", strings.Repeat("r", MaxRequestIDLen+1), "a/b", "a b", "a:b", "日本"} {
		if err := ValidRequestID(id); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidRequestID(%q) = %v, want ErrInvalidName", id, err)
		}
		if _, err := ReprocessName(id, Object{Bucket: "b", Key: "k"}); err == nil {
			t.Errorf("ReprocessName(%q) succeeded", id)
		}
	}
	if err := ValidRequestID(strings.Repeat("r", MaxRequestIDLen)); err != nil {
		t.Error(err)
	}
}

func TestFragment(t *testing.T) {
	tests := []struct {
		key  string
		max  int
		want string
	}{
		{flowLogKey, 60, "20261127T1005Z_fl-0123456789abcdef0_0a1b2c3d"},
		{flowLogKey, 20, "20261127T1005Z_fl-01"},
		{flowLogKey, 15, "20261127T1005Z"},
		{"logs/some file:name.log.gz", 60, "some_file_name"},
		{"logs/abcdefghij.txt", 4, "ghij"},
		{"logs/", 10, "logs"},
		{"日本", 10, ""},
		{"x.log.gz", 0, ""},
		{".gz", 10, "gz"},
	}
	for _, tt := range tests {
		if got := fragment(tt.key, tt.max); got != tt.want {
			t.Errorf("fragment(%q, %d) = %q, want %q", tt.key, tt.max, got, tt.want)
		}
	}
}
