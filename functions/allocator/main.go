// Command allocator is the Reserve step's Lambda: it reserves sequence
// ranges in DynamoDB (FL2NF_SEQUENCE_TABLE) for a whole object.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/handler"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/dynamoseq"
)

func main() {
	ctx := context.Background()
	cfg, err := config.FromEnv(os.Getenv, config.Need{SequenceTable: true})
	if err != nil {
		fail("configuration", err)
	}
	awsCfg, err := awsio.LoadConfig(ctx, "")
	if err != nil {
		fail("aws configuration", err)
	}
	store, err := dynamoseq.New(dynamodb.NewFromConfig(awsCfg), cfg.SequenceTable, dynamoseq.Options{})
	if err != nil {
		fail("sequence store", err)
	}
	h := &handler.Allocator{Store: store, SenderTimeout: cfg.SenderTimeout}
	if cfg.StagingBucket != "" {
		s3c := awsio.NewS3(awsCfg, os.Getenv("AWS_ENDPOINT_URL_S3"))
		h.Staging = &awsio.Staging{Client: s3c, Bucket: cfg.StagingBucket}
	}
	lambda.Start(h.Handle)
}

func fail(what string, err error) {
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("allocator init failed", "step", what, "error", err)
	os.Exit(1)
}
