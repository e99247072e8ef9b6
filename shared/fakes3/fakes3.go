// Package fakes3 serves an in-memory S3 (gofakes3) on a loopback port for
// tests, and gives a client configured for it.
package fakes3

import (
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
)

// Server is a running fake S3.
type Server struct {
	URL    string
	Client *s3.Client
}

// Start serves gofakes3 on 127.0.0.1 until the test ends and creates the
// given buckets.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	ts := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(ts.Close)
	c := awsio.NewS3(awsio.StaticConfig(), ts.URL)
	for _, b := range buckets {
		if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("create bucket %s: %v", b, err)
		}
	}
	return &Server{URL: ts.URL, Client: c}
}
