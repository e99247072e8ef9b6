// Command allocator is the Reserve step's Lambda: it reserves sequence
// ranges in DynamoDB (FL2NF_SEQUENCE_TABLE) for a whole object.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/handler"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/lambdaboot"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/seq/dynamoseq"
)

func main() {
	env := lambdaboot.Start(context.Background(), "allocator", config.Need{SequenceTable: true})
	store, err := dynamoseq.New(env.DynamoDB(), env.Config.SequenceTable, dynamoseq.Options{})
	env.Check("sequence store", err)
	h := &handler.Allocator{Store: store, SenderTimeout: env.Config.SenderTimeout}
	if env.Config.StagingBucket != "" {
		h.Staging = env.Staging()
	}
	lambda.Start(h.Handle)
}
