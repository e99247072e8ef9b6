// Command parser is the Parse step's Lambda: it reads one chunk of the
// flow-log object by ranged GETs, parses it and stages the encoded
// datagrams for every receiver.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/config"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/handler"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/lambdaboot"
)

func main() {
	env := lambdaboot.Start(context.Background(), "parser", config.Need{Staging: true})
	h := &handler.Parser{
		S3:           env.S3(),
		Staging:      env.Staging(),
		AddressMode:  env.AddressMode(),
		MaxLineBytes: int(env.Config.MaxLineBytes),
		Log:          env.Log,
	}
	lambda.Start(h.Handle)
}
