// Package fakes3 serves an in-memory S3 (gofakes3) on a loopback port for
// tests, and gives a client configured for it.
package fakes3

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
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
	return StartWith(t, func(h http.Handler) http.Handler { return h }, buckets...)
}
