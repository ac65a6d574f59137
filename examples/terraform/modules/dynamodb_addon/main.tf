# Seed 004: the stackkit "DynamoDB Database Addon" v1.0.0. One table with environment-aware
# defaults (dev / staging / prod), global tables (replicas in other regions, version
# 2019.11.21), Application Auto Scaling for provisioned capacity, AWS Backup (vault, daily
# plan with lifecycle, selection), a customer managed KMS key with rotation, deletion
# protection, TTL, streams, Contributor Insights and CloudWatch alarms.
#
# Against Dynastore: the shared remote state lives in S3, which Dynastore does not serve,
# so it is read only when `shared_state_bucket` is set; the AWS Backup role is passed in
# (`backup_iam_role_arn`, default: the account's AWSBackupDefaultServiceRole) because
# Dynastore has no IAM.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

# --- inputs -------------------------------------------------------------------------------

variable "shared_state_bucket" {
  type    = string
  default = ""
}
variable "shared_state_key" {
  type    = string
  default = "shared/terraform.tfstate"
}
variable "aws_region" { type = string }
variable "project_name" { type = string }
variable "environment" {
  type = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod"
  }
}
variable "table_name" {
  type    = string
  default = "main"
}
variable "hash_key" { type = string }
variable "range_key" {
  type    = string
  default = null
}
variable "attributes" {
  type = list(object({ name = string, type = string }))
}
variable "billing_mode" {
  type    = string
  default = "" # chosen by environment when empty
}
variable "read_capacity" {
  type    = number
  default = 5
}
variable "write_capacity" {
  type    = number
  default = 5
}
variable "global_secondary_indexes" {
  type = list(object({
    name               = string
    hash_key           = string
    range_key          = optional(string)
    projection_type    = string
    non_key_attributes = optional(list(string), [])
    read_capacity      = optional(number, 5)
    write_capacity     = optional(number, 5)
  }))
  default = []
}
variable "local_secondary_indexes" {
  type = list(object({
    name               = string
    range_key          = string
    projection_type    = string
    non_key_attributes = optional(list(string), [])
  }))
  default = []
}
variable "enable_global_tables" {
  type    = bool
  default = false
}
variable "replica_regions" {
  type    = list(string)
  default = []
}
variable "replica_kms_key_arns" {
  description = "KMS key per replica region (needed when the table uses a customer managed key)"
  type        = map(string)
  default     = {}
}
variable "ttl_enabled" {
  type    = bool
  default = false
}
variable "ttl_attribute_name" {
  type    = string
  default = "expires_at"
}
variable "stream_enabled" {
  type    = bool
  default = false
}
variable "stream_view_type" {
  type    = string
  default = "NEW_AND_OLD_IMAGES"
}
variable "point_in_time_recovery_enabled" {
  type    = bool
  default = null # chosen by environment
}
variable "deletion_protection_enabled" {
  type    = bool
  default = null # chosen by environment
}
variable "table_class" {
  type    = string
  default = "STANDARD"
}
variable "create_kms_key" {
  type    = bool
  default = null # a key of its own unless the table is global
}
variable "kms_key_arn" {
  type    = string
  default = null
}
variable "enable_autoscaling" {
  type    = bool
  default = false
}
variable "autoscaling_target_value" {
  type    = number
  default = 70
}
variable "autoscaling_read_min_capacity" {
  type    = number
  default = 5
}
variable "autoscaling_read_max_capacity" {
  type    = number
  default = 100
}
variable "autoscaling_write_min_capacity" {
  type    = number
  default = 5
}
variable "autoscaling_write_max_capacity" {
  type    = number
  default = 100
}
variable "enable_backup" {
  type    = bool
  default = null # chosen by environment
}
variable "backup_schedule" {
  type    = string
  default = "cron(0 2 ? * * *)"
}
variable "backup_delete_after" {
  type    = number
  default = 35
}
variable "backup_cold_storage_after" {
  type    = number
  default = null
}
variable "backup_iam_role_arn" {
  type    = string
  default = ""
}
variable "enable_contributor_insights" {
  type    = bool
  default = false
}
variable "enable_alarms" {
  type    = bool
  default = true
}
variable "alarm_actions" {
  type    = list(string)
  default = []
}
variable "common_tags" {
  type    = map(string)
  default = {}
}

# --- environment defaults -------------------------------------------------------------------

data "aws_caller_identity" "current" {}

data "terraform_remote_state" "shared" {
  count   = var.shared_state_bucket != "" ? 1 : 0
  backend = "s3"
  config = {
    bucket = var.shared_state_bucket
    key    = var.shared_state_key
    region = var.aws_region
  }
}

locals {
  defaults = {
    dev     = { backup = false, pitr = false, deletion_protection = false }
    staging = { backup = true, pitr = true, deletion_protection = false }
    prod    = { backup = true, pitr = true, deletion_protection = true }
  }[var.environment]

  name                = "${var.project_name}-${var.environment}-${var.table_name}"
  billing_mode        = var.billing_mode != "" ? var.billing_mode : "PAY_PER_REQUEST"
  provisioned         = local.billing_mode == "PROVISIONED"
  global              = var.enable_global_tables && length(var.replica_regions) > 0
  pitr                = coalesce(var.point_in_time_recovery_enabled, local.defaults.pitr)
  deletion_protection = coalesce(var.deletion_protection_enabled, local.defaults.deletion_protection)
  backup              = coalesce(var.enable_backup, local.defaults.backup)
  own_key             = coalesce(var.create_kms_key, !local.global) && var.kms_key_arn == null
  kms_key_arn         = local.own_key ? aws_kms_key.table[0].arn : var.kms_key_arn
  alarm_actions = concat(
    var.alarm_actions,
    [for s in data.terraform_remote_state.shared : try(s.outputs.sns_topic_arn, null) if try(s.outputs.sns_topic_arn, null) != null],
  )
  backup_role = var.backup_iam_role_arn != "" ? var.backup_iam_role_arn : "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/service-role/AWSBackupDefaultServiceRole"
  tags = merge(var.common_tags, {
    Project     = var.project_name
    Environment = var.environment
    ManagedBy   = "terraform"
    Module      = "stackkit-dynamodb-addon"
  })
}

# --- encryption ---------------------------------------------------------------------------

resource "aws_kms_key" "table" {
  count               = local.own_key ? 1 : 0
  description         = "DynamoDB table ${local.name}"
  enable_key_rotation = true
  tags                = local.tags
}

resource "aws_kms_alias" "table" {
  count         = local.own_key ? 1 : 0
  name          = "alias/${local.name}-dynamodb"
  target_key_id = aws_kms_key.table[0].key_id
}

# --- the table ------------------------------------------------------------------------------

resource "aws_dynamodb_table" "main" {
  name                        = local.name
  billing_mode                = local.billing_mode
  read_capacity               = local.provisioned ? var.read_capacity : null
  write_capacity              = local.provisioned ? var.write_capacity : null
  hash_key                    = var.hash_key
  range_key                   = var.range_key
  table_class                 = var.table_class
  deletion_protection_enabled = local.deletion_protection
  # A global table always has a stream (DynamoDB turns one on and keeps it on).
  stream_enabled   = var.stream_enabled || local.global
  stream_view_type = var.stream_enabled || local.global ? var.stream_view_type : null

  dynamic "attribute" {
    for_each = var.attributes
    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.global_secondary_indexes
    content {
      name               = global_secondary_index.value.name
      hash_key           = global_secondary_index.value.hash_key
      range_key          = global_secondary_index.value.range_key
      projection_type    = global_secondary_index.value.projection_type
      non_key_attributes = global_secondary_index.value.projection_type == "INCLUDE" ? global_secondary_index.value.non_key_attributes : null
      read_capacity      = local.provisioned ? global_secondary_index.value.read_capacity : null
      write_capacity     = local.provisioned ? global_secondary_index.value.write_capacity : null
    }
  }

  dynamic "local_secondary_index" {
    for_each = var.local_secondary_indexes
    content {
      name               = local_secondary_index.value.name
      range_key          = local_secondary_index.value.range_key
      projection_type    = local_secondary_index.value.projection_type
      non_key_attributes = local_secondary_index.value.projection_type == "INCLUDE" ? local_secondary_index.value.non_key_attributes : null
    }
  }

  ttl {
    attribute_name = var.ttl_enabled ? var.ttl_attribute_name : ""
    enabled        = var.ttl_enabled
  }

  point_in_time_recovery {
    enabled = local.pitr
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = local.kms_key_arn
  }

  dynamic "replica" {
    for_each = local.global ? var.replica_regions : []
    content {
      region_name            = replica.value
      kms_key_arn            = lookup(var.replica_kms_key_arns, replica.value, null)
      point_in_time_recovery = local.pitr
      propagate_tags         = true
    }
  }

  # Application Auto Scaling owns the provisioned capacities.
  lifecycle {
    ignore_changes = [read_capacity, write_capacity]
  }

  tags = merge(local.tags, { Name = local.name })
}

# --- auto scaling ---------------------------------------------------------------------------

module "autoscaling" {
  source             = "../table_autoscaling"
  count              = local.provisioned && var.enable_autoscaling ? 1 : 0
  table_name         = aws_dynamodb_table.main.name
  index_names        = [for i in var.global_secondary_indexes : i.name]
  read               = { min = var.autoscaling_read_min_capacity, max = var.autoscaling_read_max_capacity, target = var.autoscaling_target_value }
  write              = { min = var.autoscaling_write_min_capacity, max = var.autoscaling_write_max_capacity, target = var.autoscaling_target_value }
  policy_name_prefix = local.name
  cooldown           = 60
}

# --- backups --------------------------------------------------------------------------------

resource "aws_backup_vault" "table" {
  count       = local.backup ? 1 : 0
  name        = "${local.name}-backup-vault"
  kms_key_arn = local.kms_key_arn
  tags        = local.tags
}

resource "aws_backup_plan" "table" {
  count = local.backup ? 1 : 0
  name  = "${local.name}-backup-plan"

  rule {
    rule_name         = "${local.name}-daily-backup"
    target_vault_name = aws_backup_vault.table[0].name
    schedule          = var.backup_schedule

    lifecycle {
      cold_storage_after = var.backup_cold_storage_after
      delete_after       = var.backup_delete_after
    }

    recovery_point_tags = local.tags
  }

  tags = local.tags
}

resource "aws_backup_selection" "table" {
  count        = local.backup ? 1 : 0
  name         = "${local.name}-backup-selection"
  iam_role_arn = local.backup_role
  plan_id      = aws_backup_plan.table[0].id
  resources    = [aws_dynamodb_table.main.arn]
}

# --- monitoring -----------------------------------------------------------------------------

resource "aws_dynamodb_contributor_insights" "table" {
  count      = var.enable_contributor_insights ? 1 : 0
  table_name = aws_dynamodb_table.main.name
}

module "alarms" {
  source        = "../table_alarms"
  count         = var.enable_alarms ? 1 : 0
  table_name    = aws_dynamodb_table.main.name
  alarm_actions = local.alarm_actions
  tags          = local.tags
}

# --- outputs --------------------------------------------------------------------------------

output "table_name" { value = aws_dynamodb_table.main.name }
output "table_id" { value = aws_dynamodb_table.main.id }
output "table_arn" { value = aws_dynamodb_table.main.arn }
output "table_stream_arn" { value = aws_dynamodb_table.main.stream_arn }
output "hash_key" { value = aws_dynamodb_table.main.hash_key }
output "range_key" { value = aws_dynamodb_table.main.range_key }
output "kms_key_arn" { value = local.kms_key_arn }
output "global_tables_enabled" { value = local.global }
output "replica_regions" { value = local.global ? var.replica_regions : [] }
output "table_endpoints" {
  value = { for region in concat([var.aws_region], local.global ? var.replica_regions : []) :
  region => "https://dynamodb.${region}.amazonaws.com" }
}
output "backup_vault_arn" { value = one(aws_backup_vault.table[*].arn) }
output "backup_plan_id" { value = one(aws_backup_plan.table[*].id) }
output "scalable_targets" { value = merge(module.autoscaling[*].targets...) }
