// Command parser is the Parse step's Lambda: it reads one chunk of the
// flow-log object by ranged GETs, parses it and stages the encoded
// datagrams for every receiver.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/handler"
)

func main() {
	ctx := context.Background()
	cfg, err := config.FromEnv(os.Getenv, config.Need{Staging: true})
	if err != nil {
		fail("configuration", err)
	}
	mode, err := flowlog.ParseAddressMode(cfg.AddressMode)
	if err != nil {
		fail("configuration", err)
	}
	awsCfg, err := awsio.LoadConfig(ctx, "")
	if err != nil {
		fail("aws configuration", err)
	}
	s3c := awsio.NewS3(awsCfg, os.Getenv("AWS_ENDPOINT_URL_S3"))
	h := &handler.Parser{
		S3:           s3c,
		Staging:      &awsio.Staging{Client: s3c, Bucket: cfg.StagingBucket},
		AddressMode:  mode,
		MaxLineBytes: int(cfg.MaxLineBytes),
		Log:          slog.New(slog.NewJSONHandler(os.Stderr, nil)),
	}
	lambda.Start(h.Handle)
}

func fail(what string, err error) {
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("parser init failed", "step", what, "error", err)
	os.Exit(1)
}
