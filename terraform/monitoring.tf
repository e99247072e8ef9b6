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

# Silence: flow logs arrive every few minutes, so an hour without any
# execution means the input is broken (EventBridge notifications off on an
# existing bucket, the rule disabled, the flow log deleted). Missing data is
# breaching: a state machine that never ran has no datapoints at all.
resource "aws_cloudwatch_metric_alarm" "idle" {
  count = var.create_alarms && var.idle_alarm_minutes != null ? 1 : 0

  alarm_name          = "${var.name}-no-executions"
  alarm_description   = "No execution started for ${coalesce(var.idle_alarm_minutes, 0)} minutes: check that the flow-log bucket sends EventBridge notifications (enable_bucket_eventbridge_notification, or the bucket's own setting), that the rule ${aws_cloudwatch_event_rule.object_created.name} is enabled and that the flow log still delivers."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsStarted"
  dimensions          = { StateMachineArn = aws_sfn_state_machine.this.arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = max(1, floor(coalesce(var.idle_alarm_minutes, 5) / 5))
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

# Every failed, timed-out or aborted execution as its own notification, with
# its name and console link (the ExecutionsFailed alarm only says that some
# failed). "Step Functions Execution Status Change" events go to the default
# bus; their delivery is best effort, hence the metric alarms as well
# (EventBridge "Step Functions events",
# https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-states.html).
resource "aws_cloudwatch_event_rule" "execution_failed" {
  count = var.create_alarms && local.alarm_topic_arn != null ? 1 : 0

  name        = "${var.name}-execution-failed"
  description = "flowlogs2netflow executions that failed, timed out or were aborted, to the alarm topic."
  event_pattern = jsonencode({
    source        = ["aws.states"]
    "detail-type" = ["Step Functions Execution Status Change"]
    detail = {
      stateMachineArn = [aws_sfn_state_machine.this.arn]
      status          = ["FAILED", "TIMED_OUT", "ABORTED"]
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "execution_failed" {
  count = var.create_alarms && local.alarm_topic_arn != null ? 1 : 0

  rule = aws_cloudwatch_event_rule.execution_failed[0].name
  arn  = local.alarm_topic_arn

  input_transformer {
    input_paths = {
      name      = "$.detail.name"
      status    = "$.detail.status"
      execution = "$.detail.executionArn"
    }
    input_template = "\"flowlogs2netflow execution <name> <status>. https://${local.region}.console.aws.amazon.com/states/home?region=${local.region}#/v2/executions/details/<execution> - redrive it, or reprocess the object (docs/runbook.md).\""
  }
}

# EventBridge publishes to the topic the module created; a topic passed in
# alarm_sns_topic_arn needs the same statement in its own policy.
data "aws_iam_policy_document" "alarm_topic" {
  count = var.create_alarms && length(aws_sns_topic.alarms) > 0 ? 1 : 0

  statement {
    sid       = "ExecutionFailedEvents"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms[0].arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.execution_failed[0].arn]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  count = var.create_alarms && length(aws_sns_topic.alarms) > 0 ? 1 : 0

  arn    = aws_sns_topic.alarms[0].arn
  policy = data.aws_iam_policy_document.alarm_topic[0].json
}

# Sequence numbers given up: a stopped execution's range blocked its
# receiver for the stall time and the later sends went past it; the
# collector counts those numbers as lost (docs/runbook.md, "Sends waiting
# for an exporter"). One alarm per receiver (metric dimension Receiver =
# r0, r1, ... in FL2NF_RECEIVERS order).
resource "aws_cloudwatch_metric_alarm" "sequence_skipped" {
  for_each = var.create_alarms ? { for i, url in var.receivers : "r${i}" => url } : {}

  alarm_name          = "${var.name}-sequence-skipped-${each.key}"
  alarm_description   = "Sequence numbers of ${each.value} were given up: an execution stopped while holding the oldest unsent range, so the collector counts them as lost. Redrive or reprocess the failed execution (its data then arrives out of order)."
  namespace           = local.metrics_namespace
  metric_name         = "SequenceSkipped"
  dimensions          = { Function = "sender", Receiver = each.key }
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
