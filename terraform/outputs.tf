output "state_machine_arn" {
  description = "ARN of the state machine (start a manual run with input {\"bucket\": ..., \"key\": ...})."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = aws_sfn_state_machine.this.name
}

output "function_arns" {
  description = "ARNs of the four functions, keyed by splitter, parser, allocator, sender."
  value       = { for fn, f in aws_lambda_function.this : fn => f.arn }
}

output "function_names" {
  description = "Names of the four functions, keyed by splitter, parser, allocator, sender."
  value       = { for fn, f in aws_lambda_function.this : fn => f.function_name }
}

output "function_role_arns" {
  description = "ARNs of the functions' execution roles, keyed by function."
  value       = { for fn, r in aws_iam_role.lambda : fn => r.arn }
}

output "function_environment" {
  description = "The FL2NF_* environment of each function, keyed by function (what the config loader reads)."
  value       = local.function_env
}

output "state_machine_role_arn" {
  description = "ARN of the state machine's role."
  value       = aws_iam_role.sfn.arn
}

output "event_rule_arn" {
  description = "ARN of the EventBridge rule that starts executions."
  value       = aws_cloudwatch_event_rule.object_created.arn
}

output "event_pattern" {
  description = "The EventBridge rule's event pattern (JSON)."
  value       = local.event_pattern
}

output "dead_letter_queue_arn" {
  description = "ARN of the SQS queue that receives events EventBridge could not deliver."
  value       = aws_sqs_queue.events_dlq.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.events_dlq.id
}

output "sequence_table_name" {
  description = "Name of the DynamoDB sequence table."
  value       = aws_dynamodb_table.sequence.name
}

output "sequence_table_arn" {
  description = "ARN of the DynamoDB sequence table."
  value       = aws_dynamodb_table.sequence.arn
}

output "staging_bucket_name" {
  description = "Name of the staging bucket."
  value       = local.staging_bucket_name
}

output "staging_prefix" {
  description = "Key prefix of the staging objects."
  value       = var.staging_prefix
}

output "flow_log_bucket_name" {
  description = "Name of the flow-log bucket."
  value       = var.flow_log_bucket_name
}

output "flow_log_bucket_arn" {
  description = "ARN of the flow-log bucket (log_destination of an aws_flow_log). Known once the bucket and its policy exist, so a flow log that uses it waits for them."
  value       = local.flow_log_bucket_arn

  depends_on = [aws_s3_bucket_policy.flow_logs]
}

output "sender_security_group_id" {
  description = "ID of the sender's security group (allow its UDP on the collectors' side)."
  value       = aws_security_group.sender.id
}

output "sfn_log_group_name" {
  description = "CloudWatch log group of the state machine."
  value       = aws_cloudwatch_log_group.sfn.name
}

output "function_log_group_names" {
  description = "CloudWatch log groups of the functions, keyed by function."
  value       = { for fn, g in aws_cloudwatch_log_group.lambda : fn => g.name }
}

output "alarm_sns_topic_arn" {
  description = "SNS topic the alarms notify, or null."
  value       = local.alarm_topic_arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard, or null."
  value       = var.create_dashboard ? aws_cloudwatch_dashboard.this[0].dashboard_name : null
}
