# Valid against the schema subset: meta-arguments, lifecycle, dynamic
# blocks, attributes-as-blocks, nested required blocks, non-aws and
# non-resource blocks.

variable "subnets" {
  type = list(string)
}

resource "aws_lambda_function" "ok" {
  for_each = toset(["a", "b"])

  function_name = each.key
  role          = "arn:aws:iam::123456789012:role/r"

  environment {
    variables = { A = "b" }
  }

  dynamic "vpc_config" {
    for_each = length(var.subnets) > 0 ? [true] : []

    content {
      subnet_ids         = var.subnets
      security_group_ids = []
    }
  }

  lifecycle {
    ignore_changes = [description]
  }

  depends_on = [aws_sqs_queue.q]
}

resource "aws_sqs_queue" "q" {
  count = 1
  name  = "q"
}

resource "aws_security_group" "sg" {
  name = "sg"

  egress {
    from_port = 0
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "e" {
  bucket = "b"

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

data "aws_iam_policy_document" "p" {
  dynamic "statement" {
    for_each = ["s3:GetObject"]
    iterator = a

    content {
      actions   = [a.value]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }
    }
  }
}

resource "random_id" "not_aws" {
  whatever = 1
}
