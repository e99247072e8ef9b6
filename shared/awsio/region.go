package awsio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// ErrNoRegion means no AWS region is configured and the bucket's region
// could not be found.
var ErrNoRegion = errors.New("no AWS region configured: set AWS_REGION or AWS_DEFAULT_REGION, or a region in your AWS profile")

// BucketRegion finds a bucket's region without one configured: S3 names
// it in the x-amz-bucket-region header of its answer to HEAD bucket, sent
// to us-east-1 (which answers for every bucket, with a redirect or an
// access error when the bucket is elsewhere or not ours to read).
func BucketRegion(ctx context.Context, cfg aws.Config, endpoint, bucket string) (string, error) {
	cfg = cfg.Copy()
	cfg.Region = "us-east-1"
	out, err := NewS3(cfg, endpoint).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		if r := aws.ToString(out.BucketRegion); r != "" {
			return r, nil
		}
		return "", fmt.Errorf("find the region of bucket %s: the answer names none: %w", bucket, ErrNoRegion)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		if r := re.Response.Header.Get("X-Amz-Bucket-Region"); r != "" {
			return r, nil
		}
	}
	return "", fmt.Errorf("find the region of bucket %s: %w", bucket, Explain(err))
}

// Explain adds what to do to the S3 errors a user meets first: no
// credentials, no such bucket or key, access denied. The result wraps err.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case strings.Contains(err.Error(), "get credentials") || strings.Contains(err.Error(), "failed to retrieve credentials"):
		return fmt.Errorf("no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run aws configure / aws sso login): %w", err)
	case code == "NoSuchBucket":
		return fmt.Errorf("no such bucket: %w", err)
	case code == "NoSuchKey" || code == "NotFound" || status == http.StatusNotFound:
		return fmt.Errorf("no such bucket or key: %w", err)
	case code == "AccessDenied" || code == "Forbidden" || status == http.StatusForbidden:
		return fmt.Errorf("access denied (your credentials need s3:GetObject on the objects and s3:ListBucket on the bucket): %w", err)
	case code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" || status == http.StatusMovedPermanently:
		return fmt.Errorf("the bucket is in another region than the one configured (set AWS_REGION to the bucket's): %w", err)
	}
	return err
}
