// Command splitter is the Plan step's Lambda: it HEADs the flow-log object,
// claims it against duplicate events, cuts it into byte-range chunks
// (storing the gzip checkpoint index in staging) and names the receivers.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dedup"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/handler"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/lambdaboot"
)

func main() {
	env := lambdaboot.Start(context.Background(), "splitter", config.Need{Receivers: true, Staging: true})
	var dd *dedup.Store
	if env.Config.SequenceTable != "" {
		var err error
		dd, err = dedup.New(env.DynamoDB(), env.Config.SequenceTable, dedup.Options{})
		env.Check("duplicate claims", err)
	}
	h, err := handler.NewSplitter(env.S3(), env.Staging(), dd, env.Config)
	env.Check("configuration", err)
	lambda.Start(h.Handle)
}
