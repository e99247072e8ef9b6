package flowlog

import (
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// awsField is one row of testdata/aws-fields.tsv: a field of AWS's field
// tables (VPC and Transit Gateway flow logs) with its version (0: not
// documented).
type awsField struct {
	name, log string
	version   int
}

func awsFields(t testing.TB) []awsField {
	t.Helper()
	b, err := os.ReadFile("testdata/aws-fields.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var out []awsField
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		c := strings.Split(l, "\t")
		if len(c) != 3 {
			t.Fatalf("aws-fields.tsv: bad row %q", l)
		}
		v, _ := strconv.Atoi(c[1]) // "-": 0
		out = append(out, awsField{name: c[0], version: v, log: c[2]})
	}
	return out
}

// documentedNames lists every distinct field name of the AWS field tables.
func documentedNames(t testing.TB) []string {
	var names []string
	seen := map[string]bool{}
	for _, f := range awsFields(t) {
		if !seen[f.name] {
			seen[f.name] = true
			names = append(names, f.name)
		}
	}
	return names
}

// TestKnownField: the package knows exactly the fields AWS documents for
// VPC and Transit Gateway flow logs, in every accepted spelling, each with
// the version the AWS table gives it (testdata/aws-fields.tsv).
func TestKnownField(t *testing.T) {
	for _, af := range awsFields(t) {
		for _, spelling := range []string{af.name, strings.ReplaceAll(af.name, "-", "_"), strings.ToUpper(af.name)} {
			if !KnownField(spelling) {
				t.Errorf("KnownField(%q) = false, want true (%s)", spelling, af.log)
			}
		}
		f, _ := lookupField([]byte(af.name))
		if fields[f].version != af.version {
			t.Errorf("%s: version %d, the AWS %s table says %d", af.name, fields[f].version, af.log, af.version)
		}
	}
	if documented := documentedNames(t); int(numFields)-1 != len(documented) {
		t.Errorf("package knows %d fields, the AWS tables list %d", numFields-1, len(documented))
	}
	for _, name := range []string{"", "foo", "src-addr", "${srcaddr}", "1srcaddr"} {
		if KnownField(name) {
			t.Errorf("KnownField(%q) = true, want false", name)
		}
	}
}

func TestParseFormat(t *testing.T) {
	documented := documentedNames(t)
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
