// Command sender is the Send step's Lambda: it streams one staging object
// to one receiver over UDP with its reserved sequence numbers, recording its
// progress in the sequence table so that a retry or a redrive resumes where
// the last attempt stopped. It also runs the Convert step, the whole
// workflow in process for an object below the small-object threshold. It
// runs in the VPC next to the collectors.
package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dedup"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/handler"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/lambdaboot"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/progress/dynamoprogress"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/dynamoseq"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

func main() {
	env := lambdaboot.Start(context.Background(), "sender", config.Need{Receivers: true, Staging: true, SequenceTable: true})
	cfg := env.Config
	db := env.DynamoDB()
	seqs, err := dynamoseq.New(db, cfg.SequenceTable, dynamoseq.Options{})
	env.Check("sequence store", err)
	send := &handler.Sender{
		Staging:          env.Staging(),
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
	env.Check("duplicate claims", err)
	split, err := handler.NewSplitter(env.S3(), local, dd, cfg)
	env.Check("configuration", err)
	fn := &handler.SenderFunction{
		Send: send,
		Convert: &handler.Converter{
			Splitter: split,
			Parser: &handler.Parser{S3: env.S3(), Staging: local, AddressMode: env.AddressMode(), MaxLineBytes: int(cfg.MaxLineBytes),
				Log: env.Log},
			Allocator: &handler.Allocator{Store: seqs, Staging: local, SenderTimeout: cfg.SenderTimeout},
			Sender:    send,
			Staging:   local,
		},
	}
	lambda.Start(fn.Handle)
}
