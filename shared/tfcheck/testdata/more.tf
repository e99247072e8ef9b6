resource "aws_sqs_queue" "computed" {
  arn = "arn:aws:sqs:us-east-1:123456789012:q"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "no_rule" {
  bucket = "b"
}

resource "aws_lambda_function" "shapes" {
  function_name = "f"
  role          = "r"
  environment   = { variables = {} }

  memory_size {
  }
}

data "aws_iam_policy_document" "bad_dynamic" {
  dynamic "statment" {
    for_each = []

    content {
    }
  }
}

resource "aws_not_a_thing" "x" {
}
