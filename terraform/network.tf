################################################################################
# Sender network: a security group that allows only UDP to the collectors and
# HTTPS to S3 and DynamoDB, and optional gateway endpoints
################################################################################

# The managed prefix list of S3's addresses in this Region: the destination
# of S3 traffic both through a gateway endpoint and through NAT.
data "aws_prefix_list" "s3" {
  name = "com.amazonaws.${local.region}.s3"
}

resource "aws_security_group" "sender" {
  name_prefix = "${var.name}-sender-"
  description = "flowlogs2netflow sender: UDP to the NetFlow/IPFIX collectors, HTTPS to S3 and DynamoDB; no ingress"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-sender" })

  # Terraform removes the default allow-all egress rule of a new group; the
  # rules below are the only ones.
  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = var.receiver_egress != null || length(local.receivers_by_hostname) == 0
      error_message = "Receivers given by host name need explicit receiver_egress rules: ${join(", ", local.receivers_by_hostname)}."
    }
  }
}

# One rule per collector address and port. Security groups do not filter DNS
# to the VPC resolver, so host-name receivers resolve without a rule.
resource "aws_vpc_security_group_egress_rule" "receiver" {
  for_each = { for e in local.receiver_egress : "${e.cidr} udp/${e.port}" => e }

  security_group_id = aws_security_group.sender.id
  description       = "NetFlow/IPFIX to ${each.key}"
  ip_protocol       = "udp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = strcontains(each.value.cidr, ":") ? null : each.value.cidr
  cidr_ipv6         = strcontains(each.value.cidr, ":") ? each.value.cidr : null
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "s3" {
  security_group_id = aws_security_group.sender.id
  description       = "HTTPS to S3 (staging objects)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = data.aws_prefix_list.s3.id
  tags              = var.tags
}

# The sender records its progress in the sequence table.
data "aws_prefix_list" "dynamodb" {
  name = "com.amazonaws.${local.region}.dynamodb"
}

resource "aws_vpc_security_group_egress_rule" "dynamodb" {
  security_group_id = aws_security_group.sender.id
  description       = "HTTPS to DynamoDB (send progress)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = data.aws_prefix_list.dynamodb.id
  tags              = var.tags
}

resource "aws_vpc_endpoint" "s3" {
  count = var.create_s3_gateway_endpoint ? 1 : 0

  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.route_table_ids
  tags              = merge(var.tags, { Name = "${var.name}-s3" })

  lifecycle {
    precondition {
      condition     = length(var.route_table_ids) > 0
      error_message = "create_s3_gateway_endpoint needs route_table_ids."
    }
  }
}

resource "aws_vpc_endpoint" "dynamodb" {
  count = var.create_dynamodb_gateway_endpoint ? 1 : 0

  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${local.region}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.route_table_ids
  tags              = merge(var.tags, { Name = "${var.name}-dynamodb" })

  lifecycle {
    precondition {
      condition     = length(var.route_table_ids) > 0
      error_message = "create_dynamodb_gateway_endpoint needs route_table_ids."
    }
  }
}
