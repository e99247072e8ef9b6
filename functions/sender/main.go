// Command sender is the Send step's Lambda: it streams one staging object
// to one receiver over UDP with its reserved sequence numbers, recording its
// progress in the sequence table so that a retry or a redrive resumes where
// the last attempt stopped. It also runs the Convert step, the whole
// workflow in process for an object below the small-object threshold. It
// runs in the VPC next to the collectors.
package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dedup"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/handler"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/progress/dynamoprogress"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/dynamoseq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

func main() {
	ctx := context.Background()
	cfg, err := config.FromEnv(os.Getenv, config.Need{Receivers: true, Staging: true, SequenceTable: true})
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
	db := dynamodb.NewFromConfig(awsCfg)
	seqs, err := dynamoseq.New(db, cfg.SequenceTable, dynamoseq.Options{})
	if err != nil {
		fail("sequence store", err)
	}
	send := &handler.Sender{
		Staging:          &awsio.Staging{Client: s3c, Bucket: cfg.StagingBucket},
		TemplatePackets:  cfg.TemplatePackets,
		TemplateInterval: cfg.TemplateInterval,
		Progress:         &dynamoprogress.Store{DB: db, Table: cfg.SequenceTable},
		// Each exporter's ranges go in reservation order, across
		// executions; a range unsent for longer than a sender invocation
		// plus 5 minutes belongs to a stopped execution and is given up.
		Order: seqs,
	}
	if cfg.SenderTimeout > 0 {
		send.Stall = cfg.SenderTimeout + 5*time.Minute
	}

	// Convert: the same steps with staging in the function's /tmp.
	local := staging.Dir{Root: filepath.Join(os.TempDir(), "fl2nf-staging")}
	dd, err := dedup.New(db, cfg.SequenceTable, dedup.Options{})
	if err != nil {
		fail("duplicate claims", err)
	}
	split, err := handler.NewSplitter(s3c, local, dd, cfg)
	if err != nil {
		fail("configuration", err)
	}
	fn := &handler.SenderFunction{
		Send: send,
		Convert: &handler.Converter{
			Splitter: split,
			Parser: &handler.Parser{S3: s3c, Staging: local, AddressMode: mode, MaxLineBytes: int(cfg.MaxLineBytes),
				Log: slog.New(slog.NewJSONHandler(os.Stderr, nil))},
			Allocator: &handler.Allocator{Store: seqs, Staging: local, SenderTimeout: cfg.SenderTimeout},
			Sender:    send,
			Staging:   local,
		},
	}
	lambda.Start(fn.Handle)
}

func fail(what string, err error) {
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("sender init failed", "step", what, "error", err)
	os.Exit(1)
}
