# Seed 001: the DynamoDB module of a streaming platform's centralized logging. Four tables
# (log metadata, user sessions, system config, audit trail) with their GSIs, encrypted with
# a customer managed KMS key (and alias), point-in-time recovery with a retention period,
# TTL, streams (always on for system config), on-demand or provisioned billing with
# Application Auto Scaling of tables and GSIs (../autoscaled_table), and CloudWatch alarms
# (throttles, consumed capacity, system and user errors, latency) sent to an SNS topic.
# Alarm thresholds follow the environment (dev, staging, prod).
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

# --- inputs -------------------------------------------------------------------------------

variable "project_name" {
  description = "Name of the project"
  type        = string
  default     = "streaming-logs"
}
variable "environment" {
  description = "Environment name (dev, staging, prod)"
  type        = string
  default     = "dev"
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod"
  }
}
variable "billing_mode" {
  description = "DynamoDB billing mode"
  type        = string
  default     = "PAY_PER_REQUEST"
  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.billing_mode)
    error_message = "billing_mode must be PAY_PER_REQUEST or PROVISIONED"
  }
}
variable "read_capacity" {
  description = "Read capacity of each table and GSI (provisioned mode)"
  type        = number
  default     = 5
}
variable "write_capacity" {
  description = "Write capacity of each table and GSI (provisioned mode)"
  type        = number
  default     = 5
}
variable "enable_autoscaling" {
  description = "Auto scale the capacity of tables and GSIs (provisioned mode)"
  type        = bool
  default     = true
}
variable "autoscaling_min_capacity" {
  type    = number
  default = 5
}
variable "autoscaling_max_capacity" {
  type    = number
  default = 100
}
variable "autoscaling_target_utilization" {
  type    = number
  default = 70
}
variable "enable_point_in_time_recovery" {
  description = "Enable point-in-time recovery"
  type        = bool
  default     = true
}
variable "backup_retention_days" {
  description = "Point-in-time recovery retention period"
  type        = number
  default     = 7
  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35"
  }
}
variable "enable_streams" {
  description = "Enable DynamoDB Streams (the system config table always has one)"
  type        = bool
  default     = false
}
variable "enable_ttl" {
  description = "Enable Time To Live for automatic cleanup"
  type        = bool
  default     = true
}
variable "enable_cloudwatch_alarms" {
  description = "Enable CloudWatch alarms"
  type        = bool
  default     = true
}
variable "create_sns_topic" {
  description = "Create an SNS topic for the alarm notifications"
  type        = bool
  default     = true
}
variable "alarm_sns_topic_arns" {
  description = "Further SNS topics the alarms notify"
  type        = list(string)
  default     = []
}
variable "kms_deletion_window" {
  description = "KMS key deletion window in days"
  type        = number
  default     = 7
}
variable "tags" {
  type    = map(string)
  default = {}
}

# --- tables ---------------------------------------------------------------------------------

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  name        = "${var.project_name}-${var.environment}"
  provisioned = var.billing_mode == "PROVISIONED"
  thresholds = {
    dev     = { throttles = 10, latency_ms = 200, user_errors = 100 }
    staging = { throttles = 5, latency_ms = 100, user_errors = 50 }
    prod    = { throttles = 0, latency_ms = 50, user_errors = 10 }
  }[var.environment]
  tags = merge(var.tags, {
    Project     = var.project_name
    Environment = var.environment
    ManagedBy   = "terraform"
    Module      = "dynamodb"
  })
  # Every key is a string; range_key "" means none (the table module's convention). TTL
  # and streams follow the inputs unless a table says otherwise.
  tables = { for name, table in local.table_specs :
    name => merge({ ttl = var.enable_ttl, stream = var.enable_streams }, table)
  }
  table_specs = {
    log-metadata = {
      purpose   = "Log event metadata and indexing"
      hash_key  = "log_id"
      range_key = "timestamp"
      indexes = [
        { name = "ServiceIndex", hash_key = "service_name", range_key = "timestamp" },
        { name = "LogLevelIndex", hash_key = "log_level", range_key = "timestamp" },
        { name = "UserIndex", hash_key = "user_id", range_key = "timestamp" },
      ]
    }
    user-sessions = {
      purpose   = "User session data and activity"
      hash_key  = "session_id"
      range_key = "user_id"
      indexes = [
        { name = "UserSessionIndex", hash_key = "user_id", range_key = "created_at" },
      ]
    }
    system-config = {
      purpose   = "System configuration and feature flags"
      hash_key  = "config_key"
      range_key = ""
      indexes = [
        { name = "EnvironmentIndex", hash_key = "environment", range_key = null },
      ]
      ttl    = false # persistent configuration
      stream = true  # configuration change tracking
    }
    audit-trail = {
      purpose   = "Audit events for compliance and security"
      hash_key  = "audit_id"
      range_key = "timestamp"
      indexes = [
        { name = "ActionTypeIndex", hash_key = "action_type", range_key = "timestamp" },
        { name = "UserAuditIndex", hash_key = "user_id", range_key = "timestamp" },
      ]
    }
  }
}

module "table" {
  source   = "../autoscaled_table"
  for_each = local.tables

  table_name = "${local.name}-${each.key}"
  hash_key   = each.value.hash_key
  range_key  = each.value.range_key
  dynamodb_attributes = [
    for name in distinct(flatten([for i in each.value.indexes : compact([i.hash_key, i.range_key])])) :
    { name = name, type = "S" }
  ]
  global_secondary_index_map = [for i in each.value.indexes : merge(i, { projection_type = "ALL" })]

  billing_mode                          = var.billing_mode
  read_capacity                         = var.read_capacity
  write_capacity                        = var.write_capacity
  enable_encryption                     = true
  server_side_encryption_kms_key_arn    = aws_kms_key.dynamodb.arn
  enable_point_in_time_recovery         = var.enable_point_in_time_recovery
  point_in_time_recovery_period_in_days = var.backup_retention_days
  ttl_enabled                           = each.value.ttl
  ttl_attribute                         = "expires_at"
  enable_streams                        = each.value.stream
  stream_view_type                      = "NEW_AND_OLD_IMAGES"

  enable_autoscaler            = var.enable_autoscaling
  autoscale_min_read_capacity  = var.autoscaling_min_capacity
  autoscale_max_read_capacity  = var.autoscaling_max_capacity
  autoscale_read_target        = var.autoscaling_target_utilization
  autoscale_min_write_capacity = var.autoscaling_min_capacity
  autoscale_max_write_capacity = var.autoscaling_max_capacity
  autoscale_write_target       = var.autoscaling_target_utilization

  tags = merge(local.tags, { Name = "${local.name}-${each.key}", Purpose = each.value.purpose })
}

# --- encryption -----------------------------------------------------------------------------

resource "aws_kms_key" "dynamodb" {
  description             = "DynamoDB tables of ${local.name}"
  deletion_window_in_days = var.kms_deletion_window
  enable_key_rotation     = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EnableAccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "AllowDynamoDBUse"
        Effect    = "Allow"
        Principal = { AWS = "*" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          StringEquals = {
            "kms:CallerAccount" = data.aws_caller_identity.current.account_id
            "kms:ViaService"    = "dynamodb.${data.aws_region.current.name}.amazonaws.com"
          }
        }
      },
    ]
  })
  tags = merge(local.tags, { Name = "${local.name}-dynamodb" })
}

resource "aws_kms_alias" "dynamodb" {
  name          = "alias/${local.name}-dynamodb"
  target_key_id = aws_kms_key.dynamodb.key_id
}

# --- monitoring -----------------------------------------------------------------------------

resource "aws_sns_topic" "alarms" {
  count = var.enable_cloudwatch_alarms && var.create_sns_topic ? 1 : 0
  name  = "${local.name}-dynamodb-alarms"
  tags  = local.tags
}

locals {
  alarm_actions = concat(aws_sns_topic.alarms[*].arn, var.alarm_sns_topic_arns)
}

module "alarms" {
  source   = "../table_alarms"
  for_each = { for key, table in local.tables : key => table if var.enable_cloudwatch_alarms }

  table_name           = module.table[each.key].table_name
  throttle_threshold   = local.thresholds.throttles
  latency_operations   = ["GetItem", "PutItem", "Query"]
  latency_threshold_ms = local.thresholds.latency_ms
  # Consumed capacity, against the capacity provisioned at creation.
  provisioned_capacity = { for k, v in { read = var.read_capacity, write = var.write_capacity } : k => v if local.provisioned }
  alarm_actions        = local.alarm_actions
  ok_actions           = local.alarm_actions
  tags                 = local.tags
}

# UserErrors is counted per account and region: one alarm, without dimensions.
resource "aws_cloudwatch_metric_alarm" "user_errors" {
  count               = var.enable_cloudwatch_alarms ? 1 : 0
  alarm_name          = "${local.name}-dynamodb-UserErrors"
  alarm_description   = "DynamoDB requests refused as invalid (${local.name})"
  namespace           = "AWS/DynamoDB"
  metric_name         = "UserErrors"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 2
  threshold           = local.thresholds.user_errors
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

# --- outputs --------------------------------------------------------------------------------

output "table_names" {
  description = "Map of DynamoDB table names"
  value       = { for k, t in module.table : k => t.table_name }
}
output "table_arns" {
  description = "Map of DynamoDB table ARNs"
  value       = { for k, t in module.table : k => t.table_arn }
}
output "table_stream_arns" {
  value = { for k, t in module.table : k => t.table_stream_arn if local.tables[k].stream }
}
output "kms_key_arn" {
  description = "KMS key ARN used for encryption"
  value       = aws_kms_key.dynamodb.arn
}
output "kms_alias_name" { value = aws_kms_alias.dynamodb.name }
output "sns_topic_arn" { value = one(aws_sns_topic.alarms[*].arn) }
output "alarm_names" {
  value = concat(flatten([for a in module.alarms : a.alarm_names]), aws_cloudwatch_metric_alarm.user_errors[*].alarm_name)
}
output "table_configurations" {
  description = "Summary of table configurations"
  value = { for k, t in local.tables : k => {
    name                   = module.table[k].table_name
    billing_mode           = var.billing_mode
    hash_key               = t.hash_key
    range_key              = t.range_key != "" ? t.range_key : null
    global_indexes         = module.table[k].global_secondary_index_names
    ttl_enabled            = t.ttl
    stream_enabled         = t.stream
    point_in_time_recovery = var.enable_point_in_time_recovery
    autoscaled             = local.provisioned && var.enable_autoscaling
  } }
}
output "dynamodb_endpoints" {
  description = "Connection information for applications"
  value = {
    region   = data.aws_region.current.name
    endpoint = "https://dynamodb.${data.aws_region.current.name}.amazonaws.com"
    tables   = { for k, t in module.table : k => t.table_name }
  }
}
