################################################################################
# The four functions: Go, provided.al2023, zips built by `make package`
################################################################################

#tfsec:ignore:aws-cloudwatch-log-group-customer-key Encrypted with CloudWatch Logs' key unless cloudwatch_logs_kms_key_arn is set.
resource "aws_cloudwatch_log_group" "lambda" {
  for_each = local.function_settings

  name              = "/aws/lambda/${local.function_names[each.key]}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.cloudwatch_logs_kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  for_each = local.function_settings

  function_name    = local.function_names[each.key]
  description      = each.value.description
  role             = aws_iam_role.lambda[each.key].arn
  filename         = local.function_zips[each.key]
  source_code_hash = filebase64sha256(local.function_zips[each.key])
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.architecture]
  memory_size      = each.value.memory_size
  timeout          = each.value.timeout

  reserved_concurrent_executions = lookup(var.reserved_concurrency, each.key, -1)

  environment {
    variables = local.function_env[each.key]
  }

  logging_config {
    # Text: each stdout line is one log event, so the embedded-metric-format
    # lines the functions print become metrics.
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.lambda[each.key].name
  }

  #tfsec:ignore:aws-lambda-enable-tracing X-Ray is opt-in (enable_xray_tracing): it costs per trace and the execution history already shows each step.
  tracing_config {
    mode = var.enable_xray_tracing ? "Active" : "PassThrough"
  }

  # Only the sender runs in the VPC: it sends UDP to the collectors.
  dynamic "vpc_config" {
    for_each = each.key == "sender" ? [true] : []

    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = concat([aws_security_group.sender.id], var.security_group_ids)
      # IPv6 collectors: "Allows outbound IPv6 traffic on VPC functions
      # that are connected to dual-stack subnets" (Lambda API reference,
      # VpcConfig.Ipv6AllowedForDualStack); the subnets need IPv6 CIDRs.
      ipv6_allowed_for_dual_stack = local.ipv6_receivers
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.create_staging_bucket || var.staging_bucket_name != null
      error_message = "Set staging_bucket_name when create_staging_bucket is false."
    }

    # "Lambda allocates a Hyperplane ENI for each subnet in your function's
    # VPC configuration" (Lambda "Networking and VPC"), and inside the VPC
    # the collectors see that ENI's address: two subnets are two exporter
    # addresses, each with half of one sequence, and nfdump, pmacct and
    # goflow2 then count half the numbers as lost.
    precondition {
      condition     = each.key != "sender" || length(var.subnet_ids) == 1 || var.allow_multiple_sender_subnets
      error_message = "The sender sends from one address per subnet, so with ${length(var.subnet_ids)} subnets each collector sees ${length(var.subnet_ids)} exporters, each with part of one sequence (sequence failures). Give one subnet, or set allow_multiple_sender_subnets = true if every flow leaves through one NAT address (internet collectors behind one NAT gateway)."
    }
  }

  depends_on = [
    aws_iam_role_policy.lambda,
    aws_cloudwatch_log_group.lambda,
  ]
}
