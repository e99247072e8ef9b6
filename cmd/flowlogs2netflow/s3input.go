package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/pipeline"
)

// s3Inputs makes S3 clients, one per bucket, each in the bucket's region
// when none is configured.
type s3Inputs struct {
	cfg     *aws.Config
	clients map[string]*s3.Client
}

// client returns a client for the bucket. AWS_ENDPOINT_URL_S3 points it at
// another endpoint (a local stand-in).
func (s *s3Inputs) client(ctx context.Context, bucket string) (*s3.Client, error) {
	if c, ok := s.clients[bucket]; ok {
		return c, nil
	}
	if s.cfg == nil {
		cfg, err := awsio.LoadConfig(ctx, "")
		if err != nil {
			return nil, err
		}
		s.cfg = &cfg
		s.clients = map[string]*s3.Client{}
	}
	endpoint := os.Getenv("AWS_ENDPOINT_URL_S3")
	cfg := s.cfg.Copy()
	if cfg.Region == "" {
		region, err := awsio.BucketRegion(ctx, cfg, endpoint, bucket)
		if err != nil {
			if !errors.Is(err, awsio.ErrNoRegion) {
				err = fmt.Errorf("%w (%w)", awsio.ErrNoRegion, err)
			}
			return nil, err
		}
		cfg.Region = region
	}
	c := awsio.NewS3(cfg, endpoint)
	s.clients[bucket] = c
	return c, nil
}

// add adds s3://bucket/key, or every object under s3://bucket/prefix/ (a
// URI ending in /) in key order. A malformed URI is a usage error; an
// error of S3 is a failed entry.
func (s *s3Inputs) add(ctx context.Context, set *inputSet, uri string) error {
	bucket, key, err := parseS3URI(uri)
	if err != nil {
		return err
	}
	c, err := s.client(ctx, bucket)
	if err != nil {
		set.fail(uri, err)
		return nil
	}
	if key != "" && !strings.HasSuffix(key, "/") {
		set.inputs = append(set.inputs, s3Object(ctx, c, bucket, key))
		return nil
	}
	n := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			set.fail(uri, fmt.Errorf("list %s: %w", uri, awsio.Explain(err)))
			return nil
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			if strings.HasSuffix(k, "/") {
				continue // a folder marker of the console
			}
			set.inputs = append(set.inputs, s3Object(ctx, c, bucket, k))
			n++
		}
	}
	if n == 0 {
		set.fail(uri, errors.New("no objects under this prefix"))
	}
	return nil
}

func s3Object(ctx context.Context, c *s3.Client, bucket, key string) pipeline.Input {
	return pipeline.Input{Name: "s3://" + bucket + "/" + key, Source: func() (chunk.Source, io.Closer, error) {
		o, err := awsio.Head(ctx, c, bucket, key, "", "")
		if err != nil {
			if awsio.IsNotFound(err) {
				// HEAD answers 404 without saying which is missing.
				if _, berr := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); awsio.IsNotFound(berr) {
					return nil, nil, fmt.Errorf("no such bucket %s: %w", bucket, err)
				}
				return nil, nil, fmt.Errorf("no such key %s in bucket %s: %w", key, bucket, err)
			}
			return nil, nil, awsio.Explain(err)
		}
		return o, nopCloser{}, nil
	}}
}
