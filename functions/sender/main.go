// Command sender is the Send step's Lambda: it streams one staging object
// to one receiver over UDP with its reserved sequence numbers, recording its
// progress in the sequence table so that a retry or a redrive resumes where
// the last attempt stopped. It runs in the VPC next to the collectors.
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
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/progress/dynamoprogress"
)

func main() {
	ctx := context.Background()
	cfg, err := config.FromEnv(os.Getenv, config.Need{Staging: true, SequenceTable: true})
	if err != nil {
		fail("configuration", err)
	}
	awsCfg, err := awsio.LoadConfig(ctx, "")
	if err != nil {
		fail("aws configuration", err)
	}
	s3c := awsio.NewS3(awsCfg, os.Getenv("AWS_ENDPOINT_URL_S3"))
	h := &handler.Sender{
		Staging:          &awsio.Staging{Client: s3c, Bucket: cfg.StagingBucket},
		TemplatePackets:  cfg.TemplatePackets,
		TemplateInterval: cfg.TemplateInterval,
		Progress:         &dynamoprogress.Store{DB: dynamodb.NewFromConfig(awsCfg), Table: cfg.SequenceTable},
	}
	lambda.Start(h.Handle)
}

func fail(what string, err error) {
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("sender init failed", "step", what, "error", err)
	os.Exit(1)
}
