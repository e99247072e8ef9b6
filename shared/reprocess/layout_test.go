package reprocess

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// part is a Partition in test notation: the folder below the base, and
// whether the window covers it whole.
type part struct {
	Folder     string
	Start, End string
	Whole      bool
}

func TestPartitions(t *testing.T) {
	tests := []struct {
		name     string
		layout   Layout
		prefix   string
		from, to string
		wantBase string
		want     []part
	}{
		{
			name: "default one day", layout: LayoutDefault, from: "2026-11-01", to: "2026-11-02",
			wantBase: "AWSLogs/123456789012/vpcflowlogs/us-east-1/",
			want:     []part{{"2026/11/01/", "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", true}},
		},
		{
			name: "default two days with a prefix", layout: LayoutDefault, prefix: "/flow/logs", from: "2026-11-01", to: "2026-11-03",
			wantBase: "flow/logs/AWSLogs/123456789012/vpcflowlogs/us-east-1/",
			want: []part{
				{"2026/11/01/", "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", true},
				{"2026/11/02/", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", true},
			},
		},
		{
			name: "default month boundary, hours", layout: LayoutDefault, from: "2026-01-31T22", to: "2026-02-01T02",
			wantBase: "AWSLogs/123456789012/vpcflowlogs/us-east-1/",
			want: []part{
				{"2026/01/31/", "2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z", false},
				{"2026/02/01/", "2026-02-01T00:00:00Z", "2026-02-02T00:00:00Z", false},
			},
		},
		{
			name: "default year boundary", layout: LayoutDefault, from: "2026-12-31", to: "2027-01-02",
			wantBase: "AWSLogs/123456789012/vpcflowlogs/us-east-1/",
			want: []part{
				{"2026/12/31/", "2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z", true},
				{"2027/01/01/", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z", true},
			},
		},
		{
			name: "default leap day", layout: LayoutDefault, from: "2028-02-28T12:00:00Z", to: "2028-03-01",
			wantBase: "AWSLogs/123456789012/vpcflowlogs/us-east-1/",
			want: []part{
				{"2028/02/28/", "2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z", false},
				{"2028/02/29/", "2028-02-29T00:00:00Z", "2028-03-01T00:00:00Z", true},
			},
		},
		{
			name: "default, zone offset converted to UTC", layout: LayoutDefault, from: "2026-11-01T01:00:00+02:00", to: "2026-11-01T02:00:00+02:00",
			wantBase: "AWSLogs/123456789012/vpcflowlogs/us-east-1/",
			want:     []part{{"2026/10/31/", "2026-10-31T00:00:00Z", "2026-11-01T00:00:00Z", false}},
		},
		{
			name: "hourly across midnight", layout: LayoutHourly, from: "2026-11-01T22", to: "2026-11-02T01",
			wantBase: "AWSLogs/123456789012/vpcflowlogs/us-east-1/",
			want: []part{
				{"2026/11/01/22/", "2026-11-01T22:00:00Z", "2026-11-01T23:00:00Z", true},
				{"2026/11/01/23/", "2026-11-01T23:00:00Z", "2026-11-02T00:00:00Z", true},
				{"2026/11/02/00/", "2026-11-02T00:00:00Z", "2026-11-02T01:00:00Z", true},
			},
		},
		{
			name: "hourly, minutes inside hours", layout: LayoutHourly, from: "2026-11-01T10:30", to: "2026-11-01T11:15",
			wantBase: "AWSLogs/123456789012/vpcflowlogs/us-east-1/",
			want: []part{
				{"2026/11/01/10/", "2026-11-01T10:00:00Z", "2026-11-01T11:00:00Z", false},
				{"2026/11/01/11/", "2026-11-01T11:00:00Z", "2026-11-01T12:00:00Z", false},
			},
		},
		{
			name: "hourly, month and year boundary", layout: LayoutHourly, from: "2026-12-31T23", to: "2027-01-01T01",
			wantBase: "AWSLogs/123456789012/vpcflowlogs/us-east-1/",
			want: []part{
				{"2026/12/31/23/", "2026-12-31T23:00:00Z", "2027-01-01T00:00:00Z", true},
				{"2027/01/01/00/", "2027-01-01T00:00:00Z", "2027-01-01T01:00:00Z", true},
			},
		},
		{
			name: "hive month boundary", layout: LayoutHive, prefix: "logs", from: "2026-04-30", to: "2026-05-01T06",
			wantBase: "logs/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/",
			want: []part{
				{"year=2026/month=04/day=30/", "2026-04-30T00:00:00Z", "2026-05-01T00:00:00Z", true},
				{"year=2026/month=05/day=01/", "2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z", false},
			},
		},
		{
			name: "hive-hourly year boundary", layout: LayoutHiveHourly, from: "2026-12-31T23", to: "2027-01-01T01",
			wantBase: "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/",
			want: []part{
				{"year=2026/month=12/day=31/hour=23/", "2026-12-31T23:00:00Z", "2027-01-01T00:00:00Z", true},
				{"year=2027/month=01/day=01/hour=00/", "2027-01-01T00:00:00Z", "2027-01-01T01:00:00Z", true},
			},
		},
		{
			name: "hive-hourly one minute", layout: LayoutHiveHourly, from: "2026-11-01T09:59", to: "2026-11-01T10:00",
			wantBase: "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/",
			want: []part{
				{"year=2026/month=11/day=01/hour=09/", "2026-11-01T09:00:00Z", "2026-11-01T10:00:00Z", false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.layout.Base(tt.prefix, "123456789012", "us-east-1")
			if base != tt.wantBase {
				t.Errorf("Base = %q, want %q", base, tt.wantBase)
			}
			w := Window{From: mustTime(t, tt.from), To: mustTime(t, tt.to)}
			ps, err := tt.layout.Partitions(base, w)
			if err != nil {
				t.Fatal(err)
			}
			var got []part
			for _, p := range ps {
				folder, ok := strings.CutPrefix(p.Prefix, base)
				if !ok {
					t.Errorf("partition %q is not under %q", p.Prefix, base)
				}
				got = append(got, part{folder, p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339), p.Within(w)})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("partitions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPartitionsErrors(t *testing.T) {
	d := func(s string) time.Time { return mustTime(t, s) }
	tests := []struct {
		name   string
		layout Layout
		w      Window
		want   string
	}{
		{"empty", LayoutDefault, Window{d("2026-11-01"), d("2026-11-01")}, "empty"},
		{"inverted", LayoutHourly, Window{d("2026-11-02"), d("2026-11-01")}, "empty"},
		{"no from", LayoutDefault, Window{To: d("2026-11-01")}, "both"},
		{"too long", LayoutHourly, Window{d("2020-01-01"), d("2026-01-01")}, "partitions"},
		{"bad layout", Layout("weekly"), Window{d("2026-11-01"), d("2026-11-02")}, "layout"},
	}
	for _, tt := range tests {
		_, err := tt.layout.Partitions("base/", tt.w)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-11-01", "2026-11-01T00:00:00Z"},
		{"2026-11-01T10", "2026-11-01T10:00:00Z"},
		{"2026-11-01T10Z", "2026-11-01T10:00:00Z"},
		{"2026-11-01T10:30", "2026-11-01T10:30:00Z"},
		{"2026-11-01T10:30:15", "2026-11-01T10:30:15Z"},
		{"2026-11-01T10:30:15Z", "2026-11-01T10:30:15Z"},
		{"2026-11-01T10:30:15.5Z", "2026-11-01T10:30:15.5Z"},
		{"2026-11-01T12:30:00+02:00", "2026-11-01T10:30:00Z"},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", tt.in, err)
			continue
		}
		if s := got.Format(time.RFC3339Nano); s != tt.want || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %s (%v), want %s UTC", tt.in, s, got.Location(), tt.want)
		}
	}
	for _, in := range []string{"", "yesterday", "2026-13-01", "2026/11/01", "2026-11-01T25"} {
		if _, err := ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) succeeded", in)
		}
	}
}

func TestFileTime(t *testing.T) {
	tests := []struct {
		key  string
		want string // "" = none
	}{
		{flowLogKey, "2026-11-27T10:05:00Z"},
		{"x/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz", "2018-06-20T16:20:00Z"},
		{"x/20180620T1620Z/plain.log.gz", ""}, // folders do not count
		{"x/no-time.log.gz", ""},
		{"x/a_20181320T1620Z_b.log.gz", ""}, // month 13
	}
	for _, tt := range tests {
		got, ok := FileTime(tt.key)
		switch {
		case tt.want == "" && ok:
			t.Errorf("FileTime(%q) = %v, want none", tt.key, got)
		case tt.want != "" && (!ok || got.Format(time.RFC3339) != tt.want):
			t.Errorf("FileTime(%q) = %v, %v, want %s", tt.key, got, ok, tt.want)
		}
	}
}

func TestNormalizePrefix(t *testing.T) {
	for in, want := range map[string]string{"": "", "/": "", "logs": "logs/", "/logs/": "logs/", "a/b": "a/b/"} {
		if got := NormalizePrefix(in); got != want {
			t.Errorf("NormalizePrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSegments(t *testing.T) {
	if got := LayoutDefault.accountSegment("123456789012"); got != "123456789012" {
		t.Errorf("default account = %q", got)
	}
	if got := LayoutDefault.accountSegment("o-abc"); got != "" {
		t.Errorf("default account o-abc = %q", got)
	}
	if got := LayoutHive.accountSegment("aws-account-id=123456789012"); got != "123456789012" {
		t.Errorf("hive account = %q", got)
	}
	for _, r := range []string{"us-east-1", "us-gov-west-1", "ap-southeast-2", "cn-north-1", "il-central-1"} {
		if got := LayoutHourly.regionSegment(r); got != r {
			t.Errorf("region %q = %q", r, got)
		}
		if got := LayoutHiveHourly.regionSegment("aws-region=" + r); got != r {
			t.Errorf("hive region %q = %q", r, got)
		}
	}
	if got := LayoutDefault.regionSegment("2026"); got != "" {
		t.Errorf("region 2026 = %q", got)
	}
}
