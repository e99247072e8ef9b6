################################################################################
# Step Functions standard workflow
################################################################################

#tfsec:ignore:aws-cloudwatch-log-group-customer-key Encrypted with CloudWatch Logs' key unless cloudwatch_logs_kms_key_arn is set.
resource "aws_cloudwatch_log_group" "sfn" {
  # The /aws/vendedlogs/ prefix keeps the log delivery resource policy small.
  # https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
  name              = "/aws/vendedlogs/states/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.cloudwatch_logs_kms_key_arn
  tags              = var.tags
}

resource "aws_sfn_state_machine" "this" {
  name     = var.name
  type     = "STANDARD"
  role_arn = aws_iam_role.sfn.arn

  # The same file statemachine/ embeds and tests; these are exactly
  # statemachine.Placeholders (a test in terraform/ checks it).
  definition = templatefile("${path.module}/../statemachine/flowlogs2netflow.asl.json", {
    splitter_arn              = aws_lambda_function.this["splitter"].arn
    parser_arn                = aws_lambda_function.this["parser"].arn
    allocator_arn             = aws_lambda_function.this["allocator"].arn
    sender_arn                = aws_lambda_function.this["sender"].arn
    parse_max_concurrency     = var.parse_max_concurrency
    send_max_concurrency      = var.send_max_concurrency
    execution_timeout_seconds = var.execution_timeout_seconds
    small_object_bytes        = var.small_object_bytes
  })

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.sfn.arn}:*"
    include_execution_data = var.sfn_include_execution_data
    level                  = var.sfn_log_level
  }

  tracing_configuration {
    enabled = var.enable_xray_tracing
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.sfn]
}
