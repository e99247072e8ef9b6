################################################################################
# Sequence table: one item per exporter identity holds its 64-bit counter and
# the claims of recent executions (DESIGN.md "Sequence numbers"); one item
# per processed object version ("object|..." keys, shared/dedup) records the
# execution that owns it, expiring through the TTL attribute expires_at
# (sequence items have none, so TTL never deletes them).
################################################################################

resource "aws_dynamodb_table" "sequence" {
  name                        = local.sequence_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  deletion_protection_enabled = var.sequence_table_deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  #tfsec:ignore:aws-dynamodb-table-customer-key The AWS managed key encrypts by default; set sequence_table_kms_key_arn for a customer managed key.
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.sequence_table_kms_key_arn
  }

  tags = var.tags
}
