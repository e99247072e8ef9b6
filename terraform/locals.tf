locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region

  # The four workflow steps; every per-function resource is keyed by these.
  function_settings = {
    splitter = {
      description = "flowlogs2netflow Plan: HEAD the object, read its header, cut it into chunks (gzip: checkpoint index)."
      memory_size = var.splitter_memory_size
      timeout     = var.splitter_timeout
    }
    parser = {
      description = "flowlogs2netflow Parse: ranged GET of one chunk, parse, stage datagrams per receiver."
      memory_size = var.parser_memory_size
      timeout     = var.parser_timeout
    }
    allocator = {
      description = "flowlogs2netflow Reserve: one sequence reservation per receiver, split per chunk."
      memory_size = var.allocator_memory_size
      timeout     = var.allocator_timeout
    }
    sender = {
      description = "flowlogs2netflow Send: stream a staging object, stamp sequence numbers, send UDP, delete it."
      memory_size = var.sender_memory_size
      timeout     = var.sender_timeout
    }
  }

  function_names = { for fn in keys(local.function_settings) : fn => "${var.name}-${fn}" }

  # Zips from `make package`: dist/<fn>-<goarch>.zip.
  goarch   = var.architecture == "arm64" ? "arm64" : "amd64"
  dist_dir = var.dist_dir != null ? var.dist_dir : "${path.module}/../dist"
  function_zips = {
    for fn in keys(local.function_settings) : fn => "${local.dist_dir}/${fn}-${local.goarch}.zip"
  }

  # Flow-log objects: read only under the key prefix, never written or deleted.
  flow_log_bucket_arn  = "arn:${local.partition}:s3:::${var.flow_log_bucket_name}"
  flow_log_objects_arn = "${local.flow_log_bucket_arn}/${var.flow_log_key_prefix}*"
  enable_notification  = var.enable_bucket_eventbridge_notification != null ? var.enable_bucket_eventbridge_notification : var.create_flow_log_bucket

  staging_bucket_name = var.create_staging_bucket ? aws_s3_bucket.staging[0].id : var.staging_bucket_name
  staging_bucket_arn  = "arn:${local.partition}:s3:::${local.staging_bucket_name}"
  staging_objects_arn = "${local.staging_bucket_arn}/${var.staging_prefix}*"

  sequence_table_name = var.sequence_table_name != null ? var.sequence_table_name : "${var.name}-sequence"

  # KMS keys the functions use, when customer managed keys are configured.
  kms_decrypt_keys = compact([var.flow_log_kms_key_arn, var.staging_kms_key_arn])

  # Receiver host and port from each URL (validated in variables.tf):
  # [host or [ipv6], port].
  receiver_hostports = [
    for r in var.receivers : regex("^[a-z0-9]+://(\\[[^\\]]+\\]|[^/:?\\[]+):([0-9]+)", r)
  ]
  receiver_ip_egress = [
    for hp in local.receiver_hostports : {
      cidr = startswith(hp[0], "[") ? "${trim(hp[0], "[]")}/128" : "${hp[0]}/32"
      port = tonumber(hp[1])
    } if startswith(hp[0], "[") || can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", hp[0]))
  ]
  # Some receiver has an IPv6 address: the sender's VPC interfaces need
  # IPv6 (ipv6_allowed_for_dual_stack), or its datagrams cannot leave.
  ipv6_receivers = anytrue([for e in local.receiver_egress : strcontains(e.cidr, ":")])
  receivers_by_hostname = [
    for i, hp in local.receiver_hostports : var.receivers[i]
    if !(startswith(hp[0], "[") || can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", hp[0])))
  ]
  receiver_egress = var.receiver_egress != null ? var.receiver_egress : local.receiver_ip_egress

  # Lambda environment: each function gets what it reads (README.md has the
  # table). Receivers, format, staging prefix and chunking are decided once
  # by the splitter and travel in the plan, so a change of configuration
  # cannot split an execution between two configurations.
  function_env = {
    splitter = {
      FL2NF_RECEIVERS          = join(",", var.receivers)
      FL2NF_FORMAT             = var.log_format
      FL2NF_STAGING_BUCKET     = local.staging_bucket_name
      FL2NF_STAGING_PREFIX     = var.staging_prefix
      FL2NF_CHUNK_SIZE         = tostring(var.chunk_size_bytes)
      FL2NF_SMALL_OBJECT_BYTES = tostring(var.small_object_bytes)
      FL2NF_MAX_CHUNKS         = tostring(var.max_chunks)
      FL2NF_SEQUENCE_TABLE     = aws_dynamodb_table.sequence.name
      FL2NF_LOG_LEVEL          = var.log_level
    }
    parser = {
      FL2NF_ADDRESS_MODE   = var.address_mode
      FL2NF_MAX_LINE_BYTES = tostring(var.max_line_bytes)
      FL2NF_STAGING_BUCKET = local.staging_bucket_name
      FL2NF_LOG_LEVEL      = var.log_level
    }
    allocator = {
      FL2NF_SEQUENCE_TABLE         = aws_dynamodb_table.sequence.name
      FL2NF_STAGING_BUCKET         = local.staging_bucket_name
      FL2NF_SENDER_TIMEOUT_SECONDS = tostring(var.sender_timeout)
      FL2NF_LOG_LEVEL              = var.log_level
    }
    # The sender also runs Convert (Plan, Parse, Reserve and Send of a
    # small object in one invocation), so it reads what those steps read.
    sender = {
      FL2NF_RECEIVERS                = join(",", var.receivers)
      FL2NF_FORMAT                   = var.log_format
      FL2NF_STAGING_PREFIX           = var.staging_prefix
      FL2NF_CHUNK_SIZE               = tostring(var.chunk_size_bytes)
      FL2NF_SMALL_OBJECT_BYTES       = tostring(var.small_object_bytes)
      FL2NF_MAX_CHUNKS               = tostring(var.max_chunks)
      FL2NF_ADDRESS_MODE             = var.address_mode
      FL2NF_MAX_LINE_BYTES           = tostring(var.max_line_bytes)
      FL2NF_SENDER_TIMEOUT_SECONDS   = tostring(var.sender_timeout)
      FL2NF_SEQUENCE_TABLE           = aws_dynamodb_table.sequence.name
      FL2NF_STAGING_BUCKET           = local.staging_bucket_name
      FL2NF_TEMPLATE_REFRESH_PACKETS = tostring(var.template_refresh_packets)
      FL2NF_TEMPLATE_REFRESH_SECONDS = tostring(var.template_refresh_seconds)
      FL2NF_LOG_LEVEL                = var.log_level
    }
  }

  # Custom metrics the functions emit in CloudWatch embedded metric format.
  metrics_namespace = "flowlogs2netflow"

  alarm_topic_arn = var.alarm_sns_topic_arn != null ? var.alarm_sns_topic_arn : (var.create_sns_topic ? aws_sns_topic.alarms[0].arn : null)
  alarm_actions   = local.alarm_topic_arn != null ? [local.alarm_topic_arn] : []
}
