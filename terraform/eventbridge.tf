################################################################################
# EventBridge: S3 "Object Created" for flow-log objects -> one execution each
################################################################################

locals {
  # Key filter: prefix and suffix together need a wildcard pattern ('*' and
  # '\' in them escaped); one alone uses prefix/suffix; neither, exists.
  # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
  key_prefix_wildcard = replace(replace(var.flow_log_key_prefix, "\\", "\\\\"), "*", "\\*")
  key_suffix_wildcard = replace(replace(var.flow_log_key_suffix, "\\", "\\\\"), "*", "\\*")
  key_filter_json = (
    var.flow_log_key_prefix != "" && var.flow_log_key_suffix != "" ? jsonencode([{ wildcard = "${local.key_prefix_wildcard}*${local.key_suffix_wildcard}" }]) :
    var.flow_log_key_prefix != "" ? jsonencode([{ prefix = var.flow_log_key_prefix }]) :
    var.flow_log_key_suffix != "" ? jsonencode([{ suffix = var.flow_log_key_suffix }]) :
    jsonencode([{ exists = true }])
  )

  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = { name = [var.flow_log_bucket_name] }
      object = { key = jsondecode(local.key_filter_json) }
    }
  })

  # The execution input (contract.ExecutionInput). Variables are unquoted:
  # EventBridge quotes string values itself. version-id exists only in
  # events of versioned buckets, and a path missing from an event makes
  # EventBridge drop the input, so it is mapped only for those.
  # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
  event_input_paths = merge({
    bucket     = "$.detail.bucket.name"
    key        = "$.detail.object.key"
    size       = "$.detail.object.size"
    etag       = "$.detail.object.etag"
    sequencer  = "$.detail.object.sequencer"
    event_time = "$.time"
    }, var.flow_log_bucket_versioned ? {
    version_id = "$.detail.object.version-id"
  } : {})
  event_input_template = join("", [
    "{\"bucket\": <bucket>, \"key\": <key>, \"key_encoded\": true, \"size\": <size>, \"etag\": <etag>, ",
    "\"sequencer\": <sequencer>, \"event_time\": <event_time>, \"source\": \"eventbridge\"",
    var.flow_log_bucket_versioned ? ", \"version_id\": <version_id>}" : "}",
  ])
}

resource "aws_cloudwatch_event_rule" "object_created" {
  name          = "${var.name}-object-created"
  description   = "flowlogs2netflow: a flow-log object landed in s3://${var.flow_log_bucket_name}/${var.flow_log_key_prefix}"
  event_pattern = local.event_pattern
  tags          = var.tags
}

resource "aws_cloudwatch_event_target" "sfn" {
  rule      = aws_cloudwatch_event_rule.object_created.name
  target_id = "${var.name}-state-machine"
  arn       = aws_sfn_state_machine.this.arn
  role_arn  = aws_iam_role.events.arn

  input_transformer {
    input_paths    = local.event_input_paths
    input_template = local.event_input_template
  }

  retry_policy {
    maximum_event_age_in_seconds = var.event_max_age_seconds
    maximum_retry_attempts       = var.event_max_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.events_dlq.arn
  }
}

# Events EventBridge could not deliver (after its retries, or at once for
# permission errors) land here with the error; alarm in monitoring.tf.
#tfsec:ignore:aws-sqs-queue-encryption-use-cmk SQS-managed SSE: a customer managed key would need a key policy for events.amazonaws.com; the messages hold only S3 event metadata.
resource "aws_sqs_queue" "events_dlq" {
  name                      = "${var.name}-events-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

data "aws_iam_policy_document" "events_dlq" {
  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events_dlq.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.object_created.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "events_dlq" {
  queue_url = aws_sqs_queue.events_dlq.id
  policy    = data.aws_iam_policy_document.events_dlq.json
}
