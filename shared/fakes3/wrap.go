package fakes3

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
)

// StartWith is Start with a middleware around the S3 handler, for fault
// injection (e.g. answering 503 to the first GETs of a key).
func StartWith(t testing.TB, wrap func(http.Handler) http.Handler, buckets ...string) *Server {
	t.Helper()
	ts := httptest.NewServer(wrap(gofakes3.New(s3mem.New()).Server()))
	t.Cleanup(ts.Close)
	c := awsio.NewS3(awsio.StaticConfig(), ts.URL)
	for _, b := range buckets {
		if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("create bucket %s: %v", b, err)
		}
	}
	return &Server{URL: ts.URL, Client: c}
}
