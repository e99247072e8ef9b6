################################################################################
# Alarms, optional SNS topic, dashboard. The functions' custom metrics
# (namespace "flowlogs2netflow", embedded metric format) are listed in
# README.md.
################################################################################

#tfsec:ignore:aws-sns-enable-topic-encryption CloudWatch alarms cannot publish to a topic encrypted with the AWS managed aws/sns key; alarm messages hold no flow data.
resource "aws_sns_topic" "alarms" {
  count = var.create_sns_topic && var.alarm_sns_topic_arn == null ? 1 : 0

  name = "${var.name}-alarms"
  tags = var.tags
}

locals {
  sfn_alarms = {
    ExecutionsFailed   = "An execution failed: an object was not (fully) exported. The execution's error and cause name the step and the object."
    ExecutionsTimedOut = "An execution ran longer than execution_timeout_seconds."
  }
}

resource "aws_cloudwatch_metric_alarm" "sfn" {
  for_each = var.create_alarms ? local.sfn_alarms : {}

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value
  namespace           = "AWS/States"
  metric_name         = each.key
  dimensions          = { StateMachineArn = aws_sfn_state_machine.this.arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dlq" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-events-dead-lettered"
  alarm_description   = "EventBridge could not start an execution for a flow-log object; the event is in ${aws_sqs_queue.events_dlq.name} with the error."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.events_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = var.create_alarms ? local.function_settings : {}

  alarm_name          = "${local.function_names[each.key]}-errors"
  alarm_description   = "The ${each.key} function returned errors (retried ones included; a failed execution alarms separately)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

locals {
  dashboard_region = local.region
  ns               = local.metrics_namespace

  dashboard_widgets = [
    {
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = {
        title  = "Executions per minute"
        region = local.dashboard_region
        stat   = "Sum"
        period = 60
        metrics = [
          for m in ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"] :
          ["AWS/States", m, "StateMachineArn", aws_sfn_state_machine.this.arn]
        ]
      }
    },
    {
      type = "metric", x = 12, y = 0, width = 12, height = 6
      properties = {
        title  = "Function errors and throttles per minute"
        region = local.dashboard_region
        stat   = "Sum"
        period = 60
        metrics = [
          for p in setproduct(keys(local.function_settings), ["Errors", "Throttles"]) :
          ["AWS/Lambda", p[1], "FunctionName", local.function_names[p[0]]]
        ]
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        title  = "Records exported per minute, by receiver"
        region = local.dashboard_region
        period = 60
        metrics = [
          [{ expression = "SEARCH('{${local.ns},Function,Receiver} MetricName=\"Records\"', 'Sum', 60)", id = "records" }],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = {
        title  = "Datagrams sent per minute, by receiver"
        region = local.dashboard_region
        period = 60
        metrics = [
          [{ expression = "SEARCH('{${local.ns},Function,Receiver} MetricName=\"Datagrams\" Function=\"sender\"', 'Sum', 60)", id = "datagrams" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 12, width = 12, height = 6
      properties = {
        title  = "Lines read and skipped per minute, by reason"
        region = local.dashboard_region
        period = 60
        metrics = [
          [local.ns, "Lines", "Function", "parser", { stat = "Sum", id = "lines" }],
          [{ expression = "SEARCH('{${local.ns},Function,Reason} MetricName=\"SkippedLines\"', 'Sum', 60)", id = "skipped" }],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 12, width = 12, height = 6
      properties = {
        title  = "Objects: executions, duplicates, dead-lettered events"
        region = local.dashboard_region
        period = 60
        metrics = [
          [local.ns, "Executions", "Function", "splitter", { stat = "Sum" }],
          [local.ns, "Duplicates", "Function", "splitter", { stat = "Sum" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.events_dlq.name, { stat = "Maximum" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 18, width = 24, height = 6
      properties = {
        title  = "Step duration (ms, maximum per minute)"
        region = local.dashboard_region
        period = 60
        metrics = [
          [{ expression = "SEARCH('{${local.ns},Function,Step} MetricName=\"DurationMs\"', 'Maximum', 60)", id = "duration" }],
        ]
      }
    },
    {
      type = "text", x = 0, y = 24, width = 24, height = 3
      properties = {
        markdown = join("\n", concat(
          ["Receivers (metric dimension Receiver):", ""],
          [for i, r in var.receivers : "* r${i}: ${r}"],
        ))
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
