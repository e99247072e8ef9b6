################################################################################
# Flow-log bucket: existing (default) or created here
################################################################################

#tfsec:ignore:aws-s3-enable-bucket-logging Flow logs are themselves access records; add server access logging in the caller if policy requires it.
#tfsec:ignore:aws-s3-enable-versioning Flow-log objects are written once by the log delivery service and never modified; versioning would only double storage.
resource "aws_s3_bucket" "flow_logs" {
  count = var.create_flow_log_bucket ? 1 : 0

  bucket        = var.flow_log_bucket_name
  force_destroy = var.flow_log_bucket_force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "flow_logs" {
  count = var.create_flow_log_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.flow_logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "flow_logs" {
  count = var.create_flow_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.flow_logs[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

#tfsec:ignore:aws-s3-encryption-customer-key SSE-S3 by default: VPC Flow Logs delivery to SSE-KMS buckets needs a key policy for delivery.logs.amazonaws.com that this module cannot write for a caller's key.
resource "aws_s3_bucket_server_side_encryption_configuration" "flow_logs" {
  count = var.create_flow_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.flow_logs[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Log delivery (VPC Flow Logs to S3) and TLS only. A bucket policy replaces
# the one the log delivery service would add itself, so it includes the
# service's statements.
# https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html
data "aws_iam_policy_document" "flow_logs_bucket" {
  count = var.create_flow_log_bucket ? 1 : 0

  statement {
    sid       = "AWSLogDeliveryWrite"
    actions   = ["s3:PutObject"]
    resources = ["${local.flow_log_bucket_arn}/AWSLogs/${local.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:*"]
    }
  }

  statement {
    sid       = "AWSLogDeliveryAclCheck"
    actions   = ["s3:GetBucketAcl", "s3:ListBucket"]
    resources = [local.flow_log_bucket_arn]

    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.flow_log_bucket_arn, "${local.flow_log_bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "flow_logs" {
  count = var.create_flow_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.flow_logs[0].id
  policy = data.aws_iam_policy_document.flow_logs_bucket[0].json

  depends_on = [aws_s3_bucket_public_access_block.flow_logs]
}

# EventBridge notifications for the bucket. PutBucketNotificationConfiguration
# REPLACES the bucket's whole notification configuration (SQS, SNS and Lambda
# notifications included), and a bucket can have only one
# aws_s3_bucket_notification: off by default for an existing bucket.
# https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_bucket_notification
resource "aws_s3_bucket_notification" "flow_logs" {
  count = local.enable_notification ? 1 : 0

  bucket      = var.create_flow_log_bucket ? aws_s3_bucket.flow_logs[0].id : var.flow_log_bucket_name
  eventbridge = true
}
