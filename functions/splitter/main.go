// Command splitter is the Plan step's Lambda: it HEADs the flow-log object,
// claims it against duplicate events, cuts it into byte-range chunks
// (storing the gzip checkpoint index in staging) and names the receivers.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dedup"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/handler"
)

func main() {
	ctx := context.Background()
	cfg, err := config.FromEnv(os.Getenv, config.Need{Receivers: true, Staging: true})
	if err != nil {
		fail("configuration", err)
	}
	awsCfg, err := awsio.LoadConfig(ctx, "")
	if err != nil {
		fail("aws configuration", err)
	}
	s3c := awsio.NewS3(awsCfg, os.Getenv("AWS_ENDPOINT_URL_S3"))
	var dd *dedup.Store
	if cfg.SequenceTable != "" {
		if dd, err = dedup.New(dynamodb.NewFromConfig(awsCfg), cfg.SequenceTable, dedup.Options{}); err != nil {
			fail("duplicate claims", err)
		}
	}
	h, err := handler.NewSplitter(s3c, &awsio.Staging{Client: s3c, Bucket: cfg.StagingBucket}, dd, cfg)
	if err != nil {
		fail("configuration", err)
	}
	lambda.Start(h.Handle)
}

func fail(what string, err error) {
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("splitter init failed", "step", what, "error", err)
	os.Exit(1)
}
