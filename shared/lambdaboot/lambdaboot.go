// Package lambdaboot is the start of every Lambda function of the
// pipeline: the configuration from the environment (shared/config), a JSON
// logger at FL2NF_LOG_LEVEL (also the slog default), one AWS configuration
// and one client per service, built once. A function's main reads what it
// needs from an Env, builds its handler and calls lambda.Start. This runs
// in Lambda's Init phase ("Function init", before the first invocation:
// https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html);
// a failure here is logged with the function and what failed and the
// process exits 1, so the invocation fails with the runtime's exit error
// and the state machine's Retry of the Task decides what happens next.
package lambdaboot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/awsio"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/flowlog"
)

// Env is what a function starts from.
type Env struct {
	Function string // splitter, parser, allocator, sender
	Config   config.Config
	Log      *slog.Logger
	AWS      aws.Config

	s3Once  sync.Once
	s3      *s3.Client
	ddbOnce sync.Once
	ddb     *dynamodb.Client
}

// Start loads the configuration (need says which settings the function
// requires) and the AWS configuration, or exits.
func Start(ctx context.Context, function string, need config.Need) *Env {
	e := &Env{Function: function, Log: slog.New(slog.NewJSONHandler(os.Stderr, nil))}
	cfg, err := config.FromEnv(os.Getenv, need)
	if err != nil {
		e.Fail("configuration", err)
	}
	e.Config = cfg
	e.Log = NewLogger(cfg.LogLevel)
	slog.SetDefault(e.Log)
	if e.AWS, err = awsio.LoadConfig(ctx, ""); err != nil {
		e.Fail("aws configuration", err)
	}
	return e
}

// NewLogger returns the JSON logger on standard error at level (debug,
// info, warn or error, as config validates it; anything else is info).
func NewLogger(level string) *slog.Logger { return newLogger(os.Stderr, level) }

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// S3 is the function's S3 client; AWS_ENDPOINT_URL_S3 points it at a
// local stand-in (path-style addressing, see awsio.NewS3).
func (e *Env) S3() *s3.Client {
	e.s3Once.Do(func() { e.s3 = awsio.NewS3(e.AWS, os.Getenv("AWS_ENDPOINT_URL_S3")) })
	return e.s3
}

// DynamoDB is the function's DynamoDB client (the SDK reads
// AWS_ENDPOINT_URL_DYNAMODB itself).
func (e *Env) DynamoDB() *dynamodb.Client {
	e.ddbOnce.Do(func() { e.ddb = dynamodb.NewFromConfig(e.AWS) })
	return e.ddb
}

// Staging is the staging bucket (FL2NF_STAGING_BUCKET) through S3.
func (e *Env) Staging() *awsio.Staging {
	return &awsio.Staging{Client: e.S3(), Bucket: e.Config.StagingBucket}
}

// AddressMode is FL2NF_ADDRESS_MODE parsed, or exits.
func (e *Env) AddressMode() flowlog.AddressMode {
	m, err := flowlog.ParseAddressMode(e.Config.AddressMode)
	if err != nil {
		e.Fail("configuration", err)
	}
	return m
}

// Check exits through Fail when err is not nil.
func (e *Env) Check(what string, err error) {
	if err != nil {
		e.Fail(what, err)
	}
}

// Fail logs that the function could not start, and why, and exits 1.
func (e *Env) Fail(what string, err error) {
	e.Log.Error(fmt.Sprintf("%s init failed", e.Function), "step", what, "error", err)
	os.Exit(1)
}
