provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  tags = { Example = "flowlogs2netflow/complete" }

  # The flow-log fields the parser reads, in AWS's $${field} syntax: the same
  # string configures the flow log and the module (FL2NF_FORMAT, used for
  # objects without a header line).
  flow_log_fields = [
    "version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
    "protocol", "packets", "bytes", "start", "end", "action", "log-status",
    "vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr",
    "flow-direction", "traffic-path",
  ]
  log_format = join(" ", [for f in local.flow_log_fields : "$${${f}}"])
}

################################################################################
# A VPC with two private subnets; its flow logs are the input, and the
# sender runs in it (the collectors are at 10.42.1.10 and .11).
################################################################################

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(local.tags, { Name = var.name })
}

resource "aws_subnet" "private" {
  count = 2

  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, count.index + 1)
  availability_zone = data.aws_availability_zones.available.names[count.index]
  tags              = merge(local.tags, { Name = "${var.name}-private-${count.index}" })
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = "${var.name}-private" })
}

resource "aws_route_table_association" "private" {
  count = 2

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

################################################################################
# flowlogs2netflow: creates the flow-log bucket (with EventBridge
# notifications), and everything that turns its objects into NetFlow/IPFIX.
################################################################################

module "flowlogs2netflow" {
  source = "../.."

  name                   = var.name
  flow_log_bucket_name   = "${var.name}-flow-logs-${data.aws_caller_identity.current.account_id}"
  create_flow_log_bucket = true
  receivers              = var.receivers
  log_format             = local.log_format

  # One subnet: the sender's datagrams leave from one address (one
  # Hyperplane ENI per subnet), so each collector sees one exporter. The
  # gateway endpoints reach the staging bucket and the sequence table
  # (send progress) without NAT.
  vpc_id                           = aws_vpc.this.id
  subnet_ids                       = [aws_subnet.private[0].id]
  route_table_ids                  = [aws_route_table.private.id]
  create_s3_gateway_endpoint       = true
  create_dynamodb_gateway_endpoint = true

  create_sns_topic = true

  # An example is torn down again: nothing here is worth keeping.
  flow_log_bucket_force_destroy      = true
  staging_bucket_force_destroy       = true
  sequence_table_deletion_protection = false

  tags = local.tags
}

################################################################################
# The VPC Flow Log: plain text (gzip), one-minute aggregation, into the
# module's bucket under AWSLogs/ (the module's default key prefix).
################################################################################

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = "ALL"
  log_destination_type     = "s3"
  log_destination          = module.flowlogs2netflow.flow_log_bucket_arn
  log_format               = local.log_format
  max_aggregation_interval = 60

  destination_options {
    file_format                = "plain-text"
    hive_compatible_partitions = false
    per_hour_partition         = false
  }

  tags = merge(local.tags, { Name = var.name })
}
