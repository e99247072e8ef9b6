################################################################################
# IAM: one role per function, one for the state machine, one for the rule.
# Least privilege: flow-log objects are only ever read (no s3:DeleteObject or
# s3:PutObject on them anywhere); staging objects only under staging_prefix.
# Resource "*" appears only where the API has no resource-level permissions,
# each time with the reason (a test in terraform/ holds the allowlist).
################################################################################

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  for_each = local.function_settings

  name               = "${var.name}-${each.key}"
  description        = "flowlogs2netflow ${each.key} function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

# What every function needs: its own log group, X-Ray when on, the KMS keys.
data "aws_iam_policy_document" "lambda_base" {
  for_each = local.function_settings

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda[each.key].arn}:*"]
  }

  dynamic "statement" {
    # X-Ray trace submission has no resource-level permissions.
    # https://docs.aws.amazon.com/xray/latest/devguide/security_iam_service-with-iam.html
    for_each = var.enable_xray_tracing ? [true] : []

    content {
      sid     = "XRay"
      actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      #tfsec:ignore:aws-iam-no-policy-wildcards X-Ray trace submission has no resource-level permissions.
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = length(local.kms_decrypt_keys) > 0 && each.key != "allocator" ? [true] : []

    content {
      sid       = "ObjectKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = local.kms_decrypt_keys
    }
  }
}

# Planning an object: read it, and list the key prefix. With ListBucket a
# HEAD of a missing key answers 404, not 403, so a plan can tell an encoded
# key from a denied one (KeyCandidates). The splitter plans; so does the
# sender's Convert step for small objects.
data "aws_iam_policy_document" "plan_flow_logs" {
  statement {
    sid       = "ReadFlowLogs"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.flow_log_objects_arn]
  }

  statement {
    sid       = "ListFlowLogPrefix"
    actions   = ["s3:ListBucket"]
    resources = [local.flow_log_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.flow_log_key_prefix}*"]
    }
  }
}

data "aws_iam_policy_document" "splitter" {
  source_policy_documents = [
    data.aws_iam_policy_document.lambda_base["splitter"].json,
    data.aws_iam_policy_document.plan_flow_logs.json,
  ]

  # The duplicate-event claim of each object version (shared/dedup): one
  # conditional PutItem, then a GetItem of the owner, in the sequence table.
  statement {
    sid       = "ClaimObject"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem"]
    resources = [aws_dynamodb_table.sequence.arn]
  }

  statement {
    sid       = "StagingIndex"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
    resources = [local.staging_objects_arn]
  }
}

data "aws_iam_policy_document" "parser" {
  source_policy_documents = [data.aws_iam_policy_document.lambda_base["parser"].json]

  statement {
    sid       = "ReadFlowLogs"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.flow_log_objects_arn]
  }

  statement {
    sid       = "StagingFrames"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
    resources = [local.staging_objects_arn]
  }
}

data "aws_iam_policy_document" "allocator" {
  source_policy_documents = [data.aws_iam_policy_document.lambda_base["allocator"].json]

  statement {
    sid       = "SequenceTable"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.sequence.arn]
  }

  # Once every chunk is parsed, the checkpoint index has served its
  # purpose: the allocator deletes it (staging objects only).
  statement {
    sid       = "StagingIndex"
    actions   = ["s3:DeleteObject"]
    resources = [local.staging_objects_arn]
  }
}

data "aws_iam_policy_document" "sender" {
  source_policy_documents = [
    data.aws_iam_policy_document.lambda_base["sender"].json,
    data.aws_iam_policy_document.plan_flow_logs.json, # Convert plans small objects
  ]

  statement {
    sid       = "StagingFrames"
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = [local.staging_objects_arn]
  }

  # Send progress records (items "send|..." in the sequence table): a
  # retried or redriven send resumes where the last attempt stopped. The
  # Convert step (a small object in one invocation) also claims the object
  # version and reserves sequence numbers in the same table.
  statement {
    sid       = "SequenceTable"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.sequence.arn]
  }

  # Lambda creates and deletes the sender's Hyperplane ENIs with the
  # function's role. The ENI IDs do not exist before, and the Describe*
  # actions have no resource-level permissions, so these need "*" (the
  # same as the AWSLambdaVPCAccessExecutionRole managed policy, minus its
  # logs:* on "*").
  # https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
  statement {
    sid = "VpcNetworkInterfaces"
    actions = [
      "ec2:CreateNetworkInterface",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets",
      "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses",
      "ec2:UnassignPrivateIpAddresses",
    ]
    #tfsec:ignore:aws-iam-no-policy-wildcards ENIs are created at run time and ec2:Describe* has no resource-level permissions (Lambda VPC docs, linked above).
    resources = ["*"]
  }
}

locals {
  lambda_policies = {
    splitter  = data.aws_iam_policy_document.splitter.json
    parser    = data.aws_iam_policy_document.parser.json
    allocator = data.aws_iam_policy_document.allocator.json
    sender    = data.aws_iam_policy_document.sender.json
  }
}

resource "aws_iam_role_policy" "lambda" {
  for_each = local.function_settings

  name   = "${var.name}-${each.key}"
  role   = aws_iam_role.lambda[each.key].id
  policy = local.lambda_policies[each.key]
}

################################################################################
# State machine
################################################################################

data "aws_iam_policy_document" "sfn_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "sfn" {
  name               = "${var.name}-state-machine"
  description        = "flowlogs2netflow state machine"
  assume_role_policy = data.aws_iam_policy_document.sfn_assume.json
  tags               = var.tags
}

# https://docs.aws.amazon.com/step-functions/latest/dg/lambda-iam.html
data "aws_iam_policy_document" "sfn" {
  statement {
    sid       = "InvokeSteps"
    actions   = ["lambda:InvokeFunction"]
    resources = [for fn in keys(local.function_settings) : aws_lambda_function.this[fn].arn]
  }

  # CloudWatch Logs vended log delivery has no resource-level permissions.
  # https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
  statement {
    sid = "LogDelivery"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    #tfsec:ignore:aws-iam-no-policy-wildcards Log delivery APIs have no resource-level permissions (Step Functions CloudWatch Logs docs, linked above).
    resources = ["*"]
  }

  dynamic "statement" {
    # https://docs.aws.amazon.com/step-functions/latest/dg/xray-iam.html
    for_each = var.enable_xray_tracing ? [true] : []

    content {
      sid     = "XRay"
      actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
      #tfsec:ignore:aws-iam-no-policy-wildcards X-Ray trace submission has no resource-level permissions.
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "sfn" {
  name   = "${var.name}-state-machine"
  role   = aws_iam_role.sfn.id
  policy = data.aws_iam_policy_document.sfn.json
}

################################################################################
# EventBridge rule target
################################################################################

data "aws_iam_policy_document" "events_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "events" {
  name               = "${var.name}-events"
  description        = "flowlogs2netflow EventBridge rule: start executions"
  assume_role_policy = data.aws_iam_policy_document.events_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "events" {
  statement {
    sid       = "StartExecution"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.this.arn]
  }
}

resource "aws_iam_role_policy" "events" {
  name   = "${var.name}-events"
  role   = aws_iam_role.events.id
  policy = data.aws_iam_policy_document.events.json
}
