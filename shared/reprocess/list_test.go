package reprocess

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/fakes3"
)

const bucket = "flow-logs"

// flName is an AWS flow-log file name for account, region and time
// (YYYYMMDDTHHmmZ).
func flName(account, region, ts string) string {
	return fmt.Sprintf("%s_vpcflowlogs_%s_fl-0123456789abcdef0_%s_0a1b2c3d.log.gz", account, region, ts)
}

// put uploads each key with a small body and returns the server.
func put(t *testing.T, keys ...string) *fakes3.Server {
	t.Helper()
	srv := fakes3.Start(t, bucket)
	for _, k := range keys {
		_, err := srv.Client.PutObject(t.Context(), &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader("body of " + k),
		})
		if err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	return srv
}

func keysOf(objs []Object) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.Key)
	}
	return ks
}

// fixture has two accounts, two regions, every layout, files around day
// and hour boundaries, a non-flow-log suffix and a key without a
// timestamp.
func fixture() (keys []string) {
	const a1, a2 = "111111111111", "222222222222"
	def := func(pfx, acct, region, day, ts string) string {
		return LayoutDefault.Base(pfx, acct, region) + day + "/" + flName(acct, region, ts)
	}
	keys = append(keys,
		// default layout, account 1, us-east-1
		def("", a1, "us-east-1", "2026/10/31", "20261031T2355Z"),
		def("", a1, "us-east-1", "2026/11/01", "20261101T0000Z"),
		def("", a1, "us-east-1", "2026/11/01", "20261101T0955Z"),
		def("", a1, "us-east-1", "2026/11/01", "20261101T1000Z"),
		def("", a1, "us-east-1", "2026/11/01", "20261101T2355Z"),
		def("", a1, "us-east-1", "2026/11/02", "20261102T0000Z"),
		LayoutDefault.Base("", a1, "us-east-1")+"2026/11/01/notes.txt",
		LayoutDefault.Base("", a1, "us-east-1")+"2026/11/01/manual-upload.log.gz",
		// default layout, account 1, eu-west-1; account 2, us-east-1
		def("", a1, "eu-west-1", "2026/11/01", "20261101T1200Z"),
		def("", a2, "us-east-1", "2026/11/01", "20261101T1200Z"),
		// a non-account folder under AWSLogs
		"AWSLogs/o-abcdef/readme.log.gz",
		// hourly layout under a prefix
		LayoutHourly.Base("hourly", a1, "us-east-1")+"2026/11/01/09/"+flName(a1, "us-east-1", "20261101T0955Z"),
		LayoutHourly.Base("hourly", a1, "us-east-1")+"2026/11/01/10/"+flName(a1, "us-east-1", "20261101T1000Z"),
		LayoutHourly.Base("hourly", a1, "us-east-1")+"2026/11/01/10/"+flName(a1, "us-east-1", "20261101T1030Z"),
		LayoutHourly.Base("hourly", a1, "us-east-1")+"2026/11/01/11/"+flName(a1, "us-east-1", "20261101T1100Z"),
		// hive and hive-hourly layouts
		LayoutHive.Base("hive", a1, "us-east-1")+"year=2026/month=12/day=31/"+flName(a1, "us-east-1", "20261231T2355Z"),
		LayoutHive.Base("hive", a1, "us-east-1")+"year=2027/month=01/day=01/"+flName(a1, "us-east-1", "20270101T0000Z"),
		LayoutHive.Base("hive", a1, "us-east-1")+"year=2027/month=01/day=02/"+flName(a1, "us-east-1", "20270102T0000Z"),
		LayoutHiveHourly.Base("hiveh", a2, "eu-west-1")+"year=2027/month=01/day=01/hour=00/"+flName(a2, "eu-west-1", "20270101T0005Z"),
		LayoutHiveHourly.Base("hiveh", a2, "eu-west-1")+"year=2027/month=01/day=01/hour=01/"+flName(a2, "eu-west-1", "20270101T0105Z"),
	)
	return keys
}

func TestListerWindow(t *testing.T) {
	keys := fixture()
	srv := put(t, keys...)
	tests := []struct {
		name     string
		loc      Location
		from, to string
		suffix   string
		want     []int // indexes into keys, in listing order
		stats    Stats
	}{
		{
			name: "one day, explicit account and region",
			loc:  Location{Layout: LayoutDefault, Accounts: []string{"111111111111"}, Regions: []string{"us-east-1"}},
			from: "2026-11-01", to: "2026-11-02", suffix: ".log.gz",
			want:  []int{1, 2, 3, 4, 7},
			stats: Stats{Partitions: 1, Listed: 6, Selected: 5, SkippedSuffix: 1},
		},
		{
			name: "one day, every account and region",
			loc:  Location{Layout: LayoutDefault},
			from: "2026-11-01", to: "2026-11-02", suffix: ".log.gz",
			want:  []int{8, 1, 2, 3, 4, 7, 9},
			stats: Stats{Partitions: 3, Listed: 8, Selected: 7, SkippedSuffix: 1},
		},
		{
			name: "hours across midnight filter by file-name time",
			loc:  Location{Layout: LayoutDefault, Accounts: []string{"111111111111"}, Regions: []string{"us-east-1"}},
			from: "2026-10-31T23:55", to: "2026-11-01T10:00", suffix: ".log.gz",
			want:  []int{0, 1, 2},
			stats: Stats{Partitions: 2, Listed: 7, Selected: 3, SkippedSuffix: 1, SkippedWindow: 2, SkippedNoTime: 1},
		},
		{
			name: "no suffix filter",
			loc:  Location{Layout: LayoutDefault, Accounts: []string{"111111111111"}, Regions: []string{"us-east-1"}},
			from: "2026-11-01", to: "2026-11-02", suffix: "",
			want:  []int{1, 2, 3, 4, 7, 6},
			stats: Stats{Partitions: 1, Listed: 6, Selected: 6},
		},
		{
			name: "hourly whole hours",
			loc:  Location{Prefix: "hourly", Layout: LayoutHourly},
			from: "2026-11-01T10", to: "2026-11-01T12", suffix: ".log.gz",
			want:  []int{12, 13, 14},
			stats: Stats{Partitions: 2, Listed: 3, Selected: 3},
		},
		{
			name: "hourly part of an hour",
			loc:  Location{Prefix: "hourly/", Layout: LayoutHourly, Regions: []string{"us-east-1"}},
			from: "2026-11-01T09:55", to: "2026-11-01T10:30", suffix: ".log.gz",
			want:  []int{11, 12},
			stats: Stats{Partitions: 2, Listed: 3, Selected: 2, SkippedWindow: 1},
		},
		{
			name: "hive across a year",
			loc:  Location{Prefix: "hive", Layout: LayoutHive},
			from: "2026-12-31", to: "2027-01-02", suffix: ".log.gz",
			want:  []int{15, 16},
			stats: Stats{Partitions: 2, Listed: 2, Selected: 2},
		},
		{
			name: "hive-hourly",
			loc:  Location{Prefix: "hiveh", Layout: LayoutHiveHourly},
			from: "2027-01-01T00", to: "2027-01-01T01", suffix: ".log.gz",
			want:  []int{18},
			stats: Stats{Partitions: 1, Listed: 1, Selected: 1},
		},
		{
			name: "wrong layout finds nothing",
			loc:  Location{Prefix: "hiveh", Layout: LayoutHiveHourly, Accounts: []string{"111111111111"}},
			from: "2027-01-01T00", to: "2027-01-01T01", suffix: ".log.gz",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Lister{Client: srv.Client, Suffix: tt.suffix}
			w := Window{From: mustTime(t, tt.from), To: mustTime(t, tt.to)}
			objs, err := l.Window(t.Context(), bucket, tt.loc, w)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, i := range tt.want {
				want = append(want, keys[i])
			}
			if diff := cmp.Diff(want, keysOf(objs)); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.stats, l.Stats); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			for _, o := range objs {
				if o.Bucket != bucket || o.ETag == "" || strings.Contains(o.ETag, `"`) || o.Size != int64(len("body of "+o.Key)) {
					t.Errorf("object %+v: want bucket, unquoted ETag and size", o)
				}
			}
		})
	}
}

func TestListerWindowNoAccounts(t *testing.T) {
	srv := put(t, "elsewhere/x.log.gz")
	l := &Lister{Client: srv.Client, Suffix: ".log.gz"}
	_, err := l.Window(t.Context(), bucket, Location{Layout: LayoutDefault}, Window{mustTime(t, "2026-11-01"), mustTime(t, "2026-11-02")})
	if err == nil || !strings.Contains(err.Error(), "no account folders") {
		t.Errorf("err = %v, want no account folders", err)
	}
}

func TestListerPrefix(t *testing.T) {
	keys := fixture()
	srv := put(t, keys...)
	l := &Lister{Client: srv.Client, Suffix: ".log.gz"}
	objs, err := l.Prefix(t.Context(), bucket, "hourly/")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{keys[11], keys[12], keys[13], keys[14]}, keysOf(objs)); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	// The cap counts over calls and stops the listing.
	l = &Lister{Client: srv.Client, Suffix: ".log.gz", Max: 5}
	if _, err := l.Prefix(t.Context(), bucket, "hourly/"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Prefix(t.Context(), bucket, "hive/"); !errors.Is(err, ErrTooMany) {
		t.Errorf("second prefix: err = %v, want ErrTooMany", err)
	}
}

func TestListerObject(t *testing.T) {
	keys := fixture()
	srv := put(t, keys...)
	l := &Lister{Client: srv.Client, Suffix: ".log.gz"}
	o, err := l.Object(t.Context(), bucket, keys[6]) // notes.txt: named, so kept
	if err != nil {
		t.Fatal(err)
	}
	if o.Key != keys[6] || o.ETag == "" || strings.Contains(o.ETag, `"`) || o.Size != int64(len("body of "+keys[6])) {
		t.Errorf("object = %+v", o)
	}
	// The ETag from HEAD equals the one from a listing.
	listed, err := l.Prefix(t.Context(), bucket, keys[6])
	if err != nil || len(listed) != 0 {
		t.Fatalf("prefix %s: %v, %v", keys[6], listed, err)
	}
	l.Suffix = ""
	listed, err = l.Prefix(t.Context(), bucket, keys[6])
	if err != nil || len(listed) != 1 || listed[0].ETag != o.ETag {
		t.Errorf("listed %+v, headed %+v, err %v", listed, o, err)
	}
	if _, err := l.Object(t.Context(), bucket, "AWSLogs/111111111111/"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing object: err = %v, want ErrNotFound", err)
	}
}
