package flowlog

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// documented lists every field of the AWS field table, versions 2 to 8,
// plus the newer fields known only by name.
var documented = []string{
	"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol",
	"packets", "bytes", "start", "end", "action", "log-status",
	"vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr",
	"region", "az-id", "sublocation-type", "sublocation-id",
	"pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction", "traffic-path",
	"ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn", "ecs-container-instance-id",
	"ecs-container-id", "ecs-second-container-id", "ecs-service-name", "ecs-task-definition-arn",
	"ecs-task-arn", "ecs-task-id",
	"reject-reason",
	"resource-id", "encryption-status",
}

func TestKnownField(t *testing.T) {
	for _, name := range documented {
		for _, spelling := range []string{name, strings.ReplaceAll(name, "-", "_"), strings.ToUpper(name)} {
			if !KnownField(spelling) {
				t.Errorf("KnownField(%q) = false, want true", spelling)
			}
		}
	}
	if int(numFields)-1 != len(documented) {
		t.Errorf("package knows %d fields, test lists %d", numFields-1, len(documented))
	}
	for _, name := range []string{"", "foo", "src-addr", "${srcaddr}", "1srcaddr"} {
		if KnownField(name) {
			t.Errorf("KnownField(%q) = true, want false", name)
		}
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		version int
	}{
		{"aws syntax", "${version} ${account-id} ${srcaddr}", []string{"version", "account-id", "srcaddr"}, 2},
		{"plain names", "version account-id srcaddr", []string{"version", "account-id", "srcaddr"}, 2},
		{"adjacent and padded", "  ${srcaddr}${dstaddr}\t${pkt-srcaddr}\n", []string{"srcaddr", "dstaddr", "pkt-srcaddr"}, 3},
		{"underscores and case", "${Account_ID} PKT_SRCADDR Flow_Direction", []string{"account-id", "pkt-srcaddr", "flow-direction"}, 5},
		{"unknown names kept", "${srcaddr} ${foo_bar} ${next-hop}", []string{"srcaddr", "foo-bar", "next-hop"}, 2},
		{"v8", "${srcaddr} ${reject-reason}", []string{"srcaddr", "reject-reason"}, 8},
		{"ecs is v7", "${srcaddr} ${ecs-task-id}", []string{"srcaddr", "ecs-task-id"}, 7},
		{"undocumented version", "${srcaddr} ${encryption-status} ${resource-id}", []string{"srcaddr", "encryption-status", "resource-id"}, 2},
		{"every field", "${" + strings.Join(documented, "} ${") + "}", documented, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFormat(tc.in)
			if err != nil {
				t.Fatalf("ParseFormat(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, f.Fields()); diff != "" {
				t.Errorf("Fields() (-want +got):\n%s", diff)
			}
			if got := f.Version(); got != tc.version {
				t.Errorf("Version() = %d, want %d", got, tc.version)
			}
			if got, want := f.Len(), len(tc.want); got != want {
				t.Errorf("Len() = %d, want %d", got, want)
			}
			// String round-trips, and the header line parses to the same format.
			g, err := ParseFormat(f.String())
			if err != nil || !g.Equal(f) {
				t.Errorf("ParseFormat(String()) = %v, %v; want %v", g, err, f)
			}
			h, err := ParseHeader([]byte(f.Header() + "\r\n"))
			if err != nil || !h.Equal(f) {
				t.Errorf("ParseHeader(Header()) = %v, %v; want %v", h, err, f)
			}
		})
	}
}

func TestParseFormatErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"${srcaddr",
		"${srcaddr} $dstaddr",
		"${srcaddr} ${}",
		"${srcaddr} ${src addr}",
		"srcaddr 10.0.0.1",
		"${srcaddr} ${srcaddr}",
		"${srcaddr} ${SRC_ADDR} ${src-addr}",
		"${foo} ${bar}",
		"${" + strings.Repeat("a", 65) + "} ${srcaddr}",
		strings.Repeat("${srcaddr} ", 1) + strings.Repeat("x ", 300),
	} {
		f, err := ParseFormat(in)
		if !errors.Is(err, ErrFormat) {
			t.Errorf("ParseFormat(%q) = %v, %v; want ErrFormat", in, f, err)
		}
	}
}

func TestParseHeader(t *testing.T) {
	f, err := ParseHeader([]byte("VERSION ACCOUNT_ID interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log_status\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Equal(DefaultFormat) {
		t.Errorf("got %v, want DefaultFormat", f)
	}
	for _, line := range []string{"", "2 123456789012 eni-1 - - - - - - - 1 2 - NODATA", "ACCEPT OK", "${srcaddr}"} {
		if f, err := ParseHeader([]byte(line)); !errors.Is(err, ErrFormat) {
			t.Errorf("ParseHeader(%q) = %v, %v; want ErrFormat", line, f, err)
		}
	}
}

func TestDefaultFormat(t *testing.T) {
	if got := DefaultFormat.Header(); got != defaultHeader {
		t.Errorf("Header() = %q, want %q", got, defaultHeader)
	}
	want := "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
	if got := DefaultFormat.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !DefaultFormat.Has("LOG_STATUS") || DefaultFormat.Has("vpc-id") || DefaultFormat.Has("") {
		t.Error("Has gives wrong answers")
	}
}

func TestFormatJSON(t *testing.T) {
	type plan struct {
		Format *Format `json:"format"`
	}
	b, err := json.Marshal(plan{Format: mustFormat(t, customFormat)})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"format":"` + customFormat + `"}`; string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	var got plan
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !got.Format.Equal(mustFormat(t, customFormat)) {
		t.Errorf("round trip gave %v", got.Format)
	}
	if err := json.Unmarshal([]byte(`{"format":"${nope}"}`), &got); !errors.Is(err, ErrFormat) {
		t.Errorf("Unmarshal of a bad format: %v, want ErrFormat", err)
	}
}

func TestFormatEqual(t *testing.T) {
	a, b := mustFormat(t, "srcaddr dstaddr"), mustFormat(t, "dstaddr srcaddr")
	var nilFormat *Format
	for _, tc := range []struct {
		f, g *Format
		want bool
	}{
		{a, a, true}, {a, mustFormat(t, "${SRCADDR} ${dstaddr}"), true}, {a, b, false},
		{a, mustFormat(t, "srcaddr"), false}, {a, nil, false}, {nilFormat, nil, true},
	} {
		if got := tc.f.Equal(tc.g); got != tc.want {
			t.Errorf("%v.Equal(%v) = %v, want %v", tc.f, tc.g, got, tc.want)
		}
	}
}

func TestCheckConvertible(t *testing.T) {
	tests := []struct {
		format string
		mode   AddressMode
		want   string // "" = convertible; else words of the error
	}{
		{"", AddressAuto, ""},
		{"${srcaddr} ${dstaddr} ${start}", AddressAuto, ""},
		{"${pkt-srcaddr} ${pkt-dstaddr} ${end}", AddressAuto, ""},
		{"${pkt-srcaddr} ${pkt-dstaddr} ${end}", AddressInterface, "no srcaddr, no dstaddr field"},
		{"${srcaddr} ${dstaddr} ${start} ${end}", AddressPacket, "no pkt-srcaddr, no pkt-dstaddr field"},
		{"${dstaddr} ${start} ${end} ${bytes}", AddressAuto, "no srcaddr field"},
		{"${srcaddr} ${dstaddr} ${bytes}", AddressAuto, "no start or end field"},
		{"${version} ${bytes}", AddressAuto, "no srcaddr, no dstaddr, no start or end field"},
	}
	for _, tc := range tests {
		f := DefaultFormat
		if tc.format != "" {
			f = mustFormat(t, tc.format)
		}
		err := f.CheckConvertible(tc.mode)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q (%s): %v, want convertible", tc.format, tc.mode, err)
		case tc.want != "" && (err == nil || !errors.Is(err, ErrNotConvertible) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q (%s): %v, want an ErrNotConvertible saying %q", tc.format, tc.mode, err, tc.want)
		}
	}
}
