output "state_machine_arn" {
  description = "ARN of the flowlogs2netflow state machine."
  value       = module.flowlogs2netflow.state_machine_arn
}

output "flow_log_bucket_name" {
  description = "Bucket the VPC Flow Logs are delivered to."
  value       = module.flowlogs2netflow.flow_log_bucket_name
}

output "flow_log_id" {
  description = "ID of the VPC Flow Log."
  value       = aws_flow_log.this.id
}

output "log_format" {
  description = "The flow-log format string given to both the flow log and the module."
  value       = local.log_format
}

output "sender_security_group_id" {
  description = "The sender's security group: allow UDP from it on the collectors."
  value       = module.flowlogs2netflow.sender_security_group_id
}

output "alarm_sns_topic_arn" {
  description = "SNS topic of the alarms; subscribe to it."
  value       = module.flowlogs2netflow.alarm_sns_topic_arn
}
