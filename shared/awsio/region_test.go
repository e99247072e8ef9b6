package awsio_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/fakes3"
)

// TestBucketRegion: the region comes from x-amz-bucket-region, in a
// successful answer or in the redirect or access error S3 gives for a
// bucket in another region or of another account; without it, ErrNoRegion.
// gofakes3 does not send the header: a middleware answers as S3 would.
func TestBucketRegion(t *testing.T) {
	cases := []struct {
		name   string
		status int    // 0: gofakes3 answers
		header string // x-amz-bucket-region
		bucket string
		want   string
		err    string
	}{
		{name: "answer names the region", header: "eu-west-3", bucket: "logs", want: "eu-west-3"},
		{name: "redirect names the region", status: http.StatusMovedPermanently, header: "ap-southeast-2", bucket: "logs", want: "ap-southeast-2"},
		{name: "access denied names the region", status: http.StatusForbidden, header: "us-west-2", bucket: "logs", want: "us-west-2"},
		{name: "answer names none", bucket: "logs", err: "no AWS region configured"},
		{name: "no such bucket", bucket: "other", err: "no such bucket"},
		{name: "access denied, no region", status: http.StatusForbidden, bucket: "logs", err: "access denied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakes3.StartWith(t, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if tc.header != "" {
						w.Header().Set("X-Amz-Bucket-Region", tc.header)
					}
					if tc.status != 0 && r.Method == http.MethodHead {
						w.WriteHeader(tc.status)
						return
					}
					h.ServeHTTP(w, r)
				})
			}, "logs")
			got, err := awsio.BucketRegion(t.Context(), awsio.StaticConfig(), srv.URL, tc.bucket)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("BucketRegion = %q, %v; want an error with %q", got, err, tc.err)
				}
				if tc.err == "no AWS region configured" && !errors.Is(err, awsio.ErrNoRegion) {
					t.Errorf("error %v is not ErrNoRegion", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("BucketRegion = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
