################################################################################
# Staging bucket: checkpoint indexes and staged datagrams, short-lived
################################################################################

#tfsec:ignore:aws-s3-enable-bucket-logging Staging objects live minutes to days and hold nothing not derived from the flow logs; access logging would cost more than it tells.
#tfsec:ignore:aws-s3-enable-versioning Staging objects are written once and deleted after sending; versioning would keep every deleted object until expiry.
resource "aws_s3_bucket" "staging" {
  count = var.create_staging_bucket ? 1 : 0

  bucket_prefix = "${lower(var.name)}-staging-"
  force_destroy = var.staging_bucket_force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "staging" {
  count = var.create_staging_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.staging[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "staging" {
  count = var.create_staging_bucket ? 1 : 0

  bucket = aws_s3_bucket.staging[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

#tfsec:ignore:aws-s3-encryption-customer-key SSE-S3 unless staging_kms_key_arn is set: staged datagrams are short-lived copies derived from the flow logs.
resource "aws_s3_bucket_server_side_encryption_configuration" "staging" {
  count = var.create_staging_bucket ? 1 : 0

  bucket = aws_s3_bucket.staging[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.staging_kms_key_arn != null ? "aws:kms" : "AES256"
      kms_master_key_id = var.staging_kms_key_arn
    }
    bucket_key_enabled = var.staging_kms_key_arn != null
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "staging" {
  count = var.create_staging_bucket ? 1 : 0

  bucket = aws_s3_bucket.staging[0].id

  rule {
    id     = "expire-staging"
    status = "Enabled"

    filter {
      prefix = var.staging_prefix
    }

    expiration {
      days = var.staging_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "staging_bucket" {
  count = var.create_staging_bucket ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.staging[0].arn, "${aws_s3_bucket.staging[0].arn}/*"]

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

resource "aws_s3_bucket_policy" "staging" {
  count = var.create_staging_bucket ? 1 : 0

  bucket = aws_s3_bucket.staging[0].id
  policy = data.aws_iam_policy_document.staging_bucket[0].json

  depends_on = [aws_s3_bucket_public_access_block.staging]
}
