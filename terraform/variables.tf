################################################################################
# General
################################################################################

variable "name" {
  description = "Name prefix of every resource: functions are <name>-splitter, <name>-parser, <name>-allocator and <name>-sender; the state machine is <name>."
  type        = string
  default     = "flowlogs2netflow"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,32}$", var.name))
    error_message = "The name must be 1-32 letters, digits or hyphens."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}

################################################################################
# Flow-log bucket and event filter
################################################################################

variable "flow_log_bucket_name" {
  description = "Name of the S3 bucket the VPC Flow Logs are delivered to: an existing bucket, or the bucket this module creates when create_flow_log_bucket is true."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.flow_log_bucket_name))
    error_message = "The flow-log bucket name must be a valid S3 bucket name (3-63 of a-z, 0-9, '.', '-')."
  }
}

variable "create_flow_log_bucket" {
  description = "Create the flow-log bucket (private, SSE, TLS-only, with a policy that lets VPC Flow Logs deliver to it). When false, flow_log_bucket_name must exist."
  type        = bool
  default     = false
}

variable "flow_log_bucket_force_destroy" {
  description = "When the module creates the flow-log bucket: allow terraform destroy to delete it with its objects."
  type        = bool
  default     = false
}

variable "flow_log_bucket_versioned" {
  description = "Whether the flow-log bucket has versioning enabled. Only then does the EventBridge rule pass the event's version-id to the execution: an input path missing from an event (unversioned buckets have no version-id) would make EventBridge drop the target input."
  type        = bool
  default     = false
}

variable "enable_bucket_eventbridge_notification" {
  description = "Manage an aws_s3_bucket_notification with eventbridge = true on the flow-log bucket. It REPLACES the bucket's whole notification configuration, so leave it off for a bucket with other notifications and turn EventBridge on there instead. null: on when the module creates the bucket, off otherwise."
  type        = bool
  default     = null
}

variable "flow_log_key_prefix" {
  description = "Only objects whose key starts with this prefix start an execution; IAM read access is limited to it too. VPC Flow Logs write under AWSLogs/<account>/vpcflowlogs/."
  type        = string
  default     = "AWSLogs/"

  validation {
    condition     = !startswith(var.flow_log_key_prefix, "/") && length(var.flow_log_key_prefix) <= 512
    error_message = "The key prefix must not start with '/' and must be at most 512 characters."
  }
}

variable "flow_log_key_suffix" {
  description = "Only objects whose key ends with this suffix start an execution (\".log.gz\" for text delivery with gzip; \"\" for any)."
  type        = string
  default     = ".log.gz"

  validation {
    condition     = length(var.flow_log_key_suffix) <= 64
    error_message = "The key suffix must be at most 64 characters."
  }
}

variable "flow_log_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the flow-log objects, if SSE-KMS with a customer managed key: the splitter and parser get kms:Decrypt on it. null for SSE-S3."
  type        = string
  default     = null

  validation {
    condition     = var.flow_log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.flow_log_kms_key_arn))
    error_message = "flow_log_kms_key_arn must be a KMS key ARN."
  }
}

################################################################################
# Conversion (Lambda environment; see README.md)
################################################################################

variable "receivers" {
  description = "Collectors to export to (FL2NF_RECEIVERS), 1-8 URLs: netflow5://host:port?engine-type=&engine-id=&pps=, netflow9://host:port?source-id=&pps=, ipfix://host:port?domain=&mtu=&pps=. IPv6 hosts in brackets."
  type        = list(string)

  validation {
    condition     = length(var.receivers) >= 1 && length(var.receivers) <= 8
    error_message = "Give 1-8 receivers."
  }

  validation {
    condition = alltrue([for r in var.receivers : length(r) <= 200 && can(regex(
      "^(netflow5|netflow9|ipfix)://(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}(\\?[A-Za-z0-9=&._-]*)?$", r
    ))])
    error_message = "Each receiver must look like netflow5|netflow9|ipfix://host:port[?k=v&...], at most 200 characters, without commas."
  }
}

variable "receiver_egress" {
  description = "UDP egress rules of the sender's security group, one per collector address and port. null: derived from receivers whose host is an IP literal (address/32 or /128 and the URL's port); required when a receiver is given by host name."
  type = list(object({
    cidr = string
    port = number
  }))
  default = null

  validation {
    condition = var.receiver_egress == null ? true : alltrue([
      for e in var.receiver_egress : can(cidrhost(e.cidr, 0)) && e.port >= 1 && e.port <= 65535
    ])
    error_message = "Each receiver_egress entry needs a valid CIDR and a port 1-65535."
  }
}

variable "log_format" {
  description = "FL2NF_FORMAT: the field list of objects without a header line (Firehose), in aws_flow_log log_format syntax (\"$${version} $${srcaddr} ...\"). S3 text objects carry a header line, which wins. \"\" for none."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^(\\$\\{[a-z0-9-]+\\}( \\$\\{[a-z0-9-]+\\})*)?$", var.log_format))
    error_message = "log_format must be space-separated $${field} names, as in aws_flow_log, or empty."
  }
}

variable "address_mode" {
  description = "FL2NF_ADDRESS_MODE: which addresses to export. auto: pkt-srcaddr/pkt-dstaddr when present and not '-', else srcaddr/dstaddr; packet: always pkt-*; interface: always srcaddr/dstaddr."
  type        = string
  default     = "auto"

  validation {
    condition     = contains(["auto", "packet", "interface"], var.address_mode)
    error_message = "address_mode must be auto, packet or interface."
  }
}

variable "chunk_size_bytes" {
  description = "FL2NF_CHUNK_SIZE: uncompressed bytes per Parse chunk (the splitter raises it when an object would need more than max_chunks chunks)."
  type        = number
  default     = 67108864

  validation {
    condition     = var.chunk_size_bytes >= 1048576 && var.chunk_size_bytes <= 1073741824
    error_message = "chunk_size_bytes must be between 1 MiB and 1 GiB."
  }
}

variable "small_object_bytes" {
  description = "FL2NF_SMALL_OBJECT_BYTES: objects below this size are one chunk, skip the checkpoint-index pass and are converted in one sender invocation (the Convert state: 3 state transitions instead of a dozen). 0 sends every object through Plan/Parse/Reserve/Send."
  type        = number
  default     = 8388608

  validation {
    condition     = var.small_object_bytes >= 0 && var.small_object_bytes <= 1073741824
    error_message = "small_object_bytes must be between 0 and 1 GiB."
  }
}

variable "max_line_bytes" {
  description = "FL2NF_MAX_LINE_BYTES: the longest line (or Firehose record) the parser reads; a longer one is counted as a malformed line and skipped without being buffered. Real flow-log lines are under 1 KiB."
  type        = number
  default     = 65536

  validation {
    condition     = var.max_line_bytes >= 16384 && var.max_line_bytes <= 268435456 && floor(var.max_line_bytes) == var.max_line_bytes
    error_message = "max_line_bytes must be an integer from 16 KiB to 256 MiB."
  }
}

variable "max_chunks" {
  description = "FL2NF_MAX_CHUNKS: most chunks per object. At most 256 (contract.MaxChunks); with more than 4 receivers the splitter also caps chunks at 1024 / receivers so every state stays under the 256 KiB Step Functions limit."
  type        = number
  default     = 256

  validation {
    condition     = var.max_chunks >= 1 && var.max_chunks <= 256 && floor(var.max_chunks) == var.max_chunks
    error_message = "max_chunks must be an integer 1-256."
  }
}

variable "template_refresh_packets" {
  description = "FL2NF_TEMPLATE_REFRESH_PACKETS: NetFlow v9/IPFIX senders resend the templates every this many datagrams (and at the start of every stream)."
  type        = number
  default     = 20

  validation {
    condition     = var.template_refresh_packets >= 1 && var.template_refresh_packets <= 100000
    error_message = "template_refresh_packets must be 1-100000."
  }
}

variable "template_refresh_seconds" {
  description = "FL2NF_TEMPLATE_REFRESH_SECONDS: NetFlow v9/IPFIX senders resend the templates at least this often."
  type        = number
  default     = 60

  validation {
    condition     = var.template_refresh_seconds >= 1 && var.template_refresh_seconds <= 3600
    error_message = "template_refresh_seconds must be 1-3600."
  }
}

variable "log_level" {
  description = "FL2NF_LOG_LEVEL of every function."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

################################################################################
# Staging bucket
################################################################################

variable "create_staging_bucket" {
  description = "Create the staging bucket (private, SSE, TLS-only, objects under staging_prefix expire). When false, staging_bucket_name must name an existing bucket; configure expiry on its prefix yourself."
  type        = bool
  default     = true
}

variable "staging_bucket_name" {
  description = "Name of an existing staging bucket (create_staging_bucket = false). Ignored when the module creates the bucket (named <name>-staging-<random>)."
  type        = string
  default     = null
}

variable "staging_prefix" {
  description = "FL2NF_STAGING_PREFIX: key prefix of all staging objects (checkpoint indexes, staged datagrams); each execution writes under <prefix><execution name>/."
  type        = string
  default     = "flowlogs2netflow/"

  validation {
    condition     = length(var.staging_prefix) >= 1 && length(var.staging_prefix) <= 64 && endswith(var.staging_prefix, "/") && !startswith(var.staging_prefix, "/")
    error_message = "staging_prefix must be 1-64 characters, end with '/' and not start with '/'."
  }
}

variable "staging_expiration_days" {
  description = "Days after which staging objects expire (the sender deletes what it sends; this removes what failed executions leave). Keep it above the 14-day redrive window only if you redrive failed Send steps late."
  type        = number
  default     = 7

  validation {
    condition     = var.staging_expiration_days >= 1 && var.staging_expiration_days <= 365
    error_message = "staging_expiration_days must be 1-365."
  }
}

variable "staging_kms_key_arn" {
  description = "KMS key ARN for SSE-KMS on the staging bucket (the functions get kms:GenerateDataKey/Decrypt on it). null: SSE-S3."
  type        = string
  default     = null

  validation {
    condition     = var.staging_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.staging_kms_key_arn))
    error_message = "staging_kms_key_arn must be a KMS key ARN."
  }
}

variable "staging_bucket_force_destroy" {
  description = "When the module creates the staging bucket: allow terraform destroy to delete it with its objects."
  type        = bool
  default     = false
}

################################################################################
# Lambda functions
################################################################################

variable "dist_dir" {
  description = "Directory with the function zips built by `make package`: <fn>-<goarch>.zip (splitter, parser, allocator, sender; goarch arm64 or amd64). null: <repository>/dist."
  type        = string
  default     = null
}

variable "architecture" {
  description = "Lambda architecture of the four functions (the zips must be built for it)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "splitter_memory_size" {
  description = "Memory (MB) of the splitter, which reads each gzip object once to build its checkpoint index."
  type        = number
  default     = 1024

  validation {
    condition     = var.splitter_memory_size >= 128 && var.splitter_memory_size <= 10240
    error_message = "Memory must be 128-10240 MB."
  }
}

variable "splitter_timeout" {
  description = "Timeout (s) of the splitter."
  type        = number
  default     = 900

  validation {
    condition     = var.splitter_timeout >= 1 && var.splitter_timeout <= 900
    error_message = "Timeout must be 1-900 s."
  }
}

variable "parser_memory_size" {
  description = "Memory (MB) of the parser (1769 MB is one full vCPU)."
  type        = number
  default     = 1769

  validation {
    condition     = var.parser_memory_size >= 128 && var.parser_memory_size <= 10240
    error_message = "Memory must be 128-10240 MB."
  }
}

variable "parser_timeout" {
  description = "Timeout (s) of the parser."
  type        = number
  default     = 900

  validation {
    condition     = var.parser_timeout >= 1 && var.parser_timeout <= 900
    error_message = "Timeout must be 1-900 s."
  }
}

variable "allocator_memory_size" {
  description = "Memory (MB) of the allocator."
  type        = number
  default     = 256

  validation {
    condition     = var.allocator_memory_size >= 128 && var.allocator_memory_size <= 10240
    error_message = "Memory must be 128-10240 MB."
  }
}

variable "allocator_timeout" {
  description = "Timeout (s) of the allocator."
  type        = number
  default     = 60

  validation {
    condition     = var.allocator_timeout >= 1 && var.allocator_timeout <= 900
    error_message = "Timeout must be 1-900 s."
  }
}

variable "sender_memory_size" {
  description = "Memory (MB) of the sender."
  type        = number
  default     = 512

  validation {
    condition     = var.sender_memory_size >= 128 && var.sender_memory_size <= 10240
    error_message = "Memory must be 128-10240 MB."
  }
}

variable "sender_timeout" {
  description = "Timeout (s) of the sender; pacing (pps= in a receiver URL) makes sends slow on purpose."
  type        = number
  default     = 900

  validation {
    condition     = var.sender_timeout >= 1 && var.sender_timeout <= 900
    error_message = "Timeout must be 1-900 s."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions per function, keyed by splitter, parser, allocator or sender; functions not listed use the unreserved pool. Reserving caps the function and guarantees it that much of the account's concurrency (AWS requires 100 to stay unreserved): e.g. { sender = 50 } caps parallel sends and keeps a wave of flow logs from starving the account's other functions; a throttled step waits (retried up to about an hour) instead of failing."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.reserved_concurrency : contains(["splitter", "parser", "allocator", "sender"], k) && v >= 0])
    error_message = "Keys must be splitter, parser, allocator or sender, values >= 0."
  }
}

variable "log_retention_days" {
  description = "Retention of the functions' and the state machine's CloudWatch log groups."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "cloudwatch_logs_kms_key_arn" {
  description = "KMS key ARN to encrypt the log groups with (its key policy must allow CloudWatch Logs). null: CloudWatch Logs' default encryption."
  type        = string
  default     = null
}

variable "enable_xray_tracing" {
  description = "Turn on AWS X-Ray tracing for the state machine and the functions."
  type        = bool
  default     = false
}

################################################################################
# Network (the sender runs in the VPC that reaches the collectors)
################################################################################

variable "vpc_id" {
  description = "VPC of the sender's subnets; the module creates the sender's security group in it."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123abcd."
  }
}

variable "subnet_ids" {
  description = "Private subnet for the sender: one (see allow_multiple_sender_subnets), so that every datagram leaves from one source address. It needs a route to the collectors, to S3 (gateway endpoint or NAT) for the staging objects and to DynamoDB (gateway endpoint or NAT) for the send progress records. With an IPv6 receiver they must be dual-stack (the sender then allows outbound IPv6)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "Give at least one subnet ID (subnet-...)."
  }
}

variable "allow_multiple_sender_subnets" {
  description = "Allow more than one subnet in subnet_ids. Each subnet gives the sender another source address (its Hyperplane ENI), and a collector then sees several exporters, each with part of one sequence. Only set this when all flows leave through one NAT address."
  type        = bool
  default     = false
}

variable "security_group_ids" {
  description = "Extra security groups for the sender, added to the one the module creates."
  type        = list(string)
  default     = []
}

variable "create_s3_gateway_endpoint" {
  description = "Create an S3 gateway VPC endpoint on route_table_ids, so the sender reaches the staging bucket without NAT. Skip it if the VPC has one."
  type        = bool
  default     = false
}

variable "create_dynamodb_gateway_endpoint" {
  description = "Create a DynamoDB gateway VPC endpoint on route_table_ids, so the sender reaches the sequence table (its send progress records) without NAT. Skip it if the VPC has one."
  type        = bool
  default     = false
}

variable "route_table_ids" {
  description = "Route tables of the sender's subnets, for the gateway endpoints."
  type        = list(string)
  default     = []
}

################################################################################
# Sequence table
################################################################################

variable "sequence_table_name" {
  description = "FL2NF_SEQUENCE_TABLE: name of the DynamoDB table of sequence counters. null: <name>-sequence."
  type        = string
  default     = null
}

variable "sequence_table_deletion_protection" {
  description = "Deletion protection of the sequence table. Losing it restarts every exporter's sequence numbers (collectors report a gap)."
  type        = bool
  default     = true
}

variable "sequence_table_kms_key_arn" {
  description = "Customer managed KMS key ARN for the sequence table. null: the AWS managed key (aws/dynamodb)."
  type        = string
  default     = null
}

################################################################################
# Step Functions
################################################################################

variable "parse_max_concurrency" {
  description = "Parse Map MaxConcurrency: chunks parsed at once per object (inline Map: at most 40)."
  type        = number
  default     = 10

  validation {
    condition     = var.parse_max_concurrency >= 1 && var.parse_max_concurrency <= 40
    error_message = "parse_max_concurrency must be 1-40."
  }
}

variable "send_max_concurrency" {
  description = "Send Map MaxConcurrency: receivers sent to at once per object (a plan has at most 8 receivers; inline Map: at most 40). Each receiver's chunks go one after another in chunk order, paced by its pps, so its collector sees gap-free ascending sequence numbers."
  type        = number
  default     = 8

  validation {
    condition     = var.send_max_concurrency >= 1 && var.send_max_concurrency <= 40
    error_message = "send_max_concurrency must be 1-40."
  }
}

variable "execution_timeout_seconds" {
  description = "TimeoutSeconds of the state machine: an execution still running after this fails with States.Timeout (ExecutionsTimedOut alarm)."
  type        = number
  default     = 21600

  validation {
    condition     = var.execution_timeout_seconds >= 60 && var.execution_timeout_seconds <= 31536000
    error_message = "execution_timeout_seconds must be 60 s to one year."
  }
}

variable "sfn_log_level" {
  description = "Step Functions execution log level (ALL, ERROR, FATAL or OFF)."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.sfn_log_level)
    error_message = "sfn_log_level must be ALL, ERROR, FATAL or OFF."
  }
}

variable "sfn_include_execution_data" {
  description = "Include state inputs and outputs in the state machine's logs."
  type        = bool
  default     = false
}

################################################################################
# EventBridge
################################################################################

variable "event_max_age_seconds" {
  description = "How long EventBridge retries starting an execution before it sends the event to the dead-letter queue."
  type        = number
  default     = 86400

  validation {
    condition     = var.event_max_age_seconds >= 60 && var.event_max_age_seconds <= 86400
    error_message = "event_max_age_seconds must be 60-86400."
  }
}

variable "event_max_retry_attempts" {
  description = "How many times EventBridge retries starting an execution before it sends the event to the dead-letter queue."
  type        = number
  default     = 185

  validation {
    condition     = var.event_max_retry_attempts >= 0 && var.event_max_retry_attempts <= 185
    error_message = "event_max_retry_attempts must be 0-185."
  }
}

################################################################################
# Monitoring
################################################################################

variable "create_alarms" {
  description = "Create CloudWatch alarms: failed and timed-out executions, dead-lettered events, function errors, no executions for idle_alarm_minutes; and, with an alarm topic, one notification per failed, timed-out or aborted execution (EventBridge)."
  type        = bool
  default     = true
}

variable "idle_alarm_minutes" {
  description = "Alarm when no execution started for this many minutes (rounded down to 5-minute periods): the input is broken, e.g. EventBridge notifications off on an existing flow-log bucket. null: no such alarm."
  type        = number
  default     = 60

  validation {
    condition     = var.idle_alarm_minutes == null || try(var.idle_alarm_minutes >= 5 && var.idle_alarm_minutes <= 1440, false)
    error_message = "idle_alarm_minutes must be between 5 and 1440, or null."
  }
}

variable "create_sns_topic" {
  description = "Create an SNS topic for the alarms (subscribe to it yourself). Ignored when alarm_sns_topic_arn is set."
  type        = bool
  default     = false
}

variable "alarm_sns_topic_arn" {
  description = "Existing SNS topic ARN the alarms notify. null: the created topic, or no notification."
  type        = string
  default     = null
}

variable "create_dashboard" {
  description = "Create a CloudWatch dashboard with executions, function errors and the flowlogs2netflow metrics."
  type        = bool
  default     = true
}
