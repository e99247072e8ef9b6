# flowlogs2netflow: VPC Flow Log objects in S3 -> NetFlow v5/v9/IPFIX over UDP.
#
# S3 "Object Created" (EventBridge)            eventbridge.tf, s3.tf
#  -> Step Functions standard workflow         sfn.tf, ../statemachine/
#     Plan -> Parse (Map) -> Reserve -> Send (Map) -> Summary
#  -> four Go Lambda functions                 lambda.tf, network.tf (sender in the VPC)
#  with a staging bucket, a sequence table     staging.tf, dynamodb.tf
#  least-privilege roles, alarms, dashboard    iam.tf, monitoring.tf
#
# Inputs are in variables.tf, outputs in outputs.tf, derived values in
# locals.tf. README.md documents the Lambda environment and the metrics.

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}
