# Seed 000: the observability index tables. A Mimir index table (metric_name/timestamp,
# with tenant-timestamp and labels indexes) and an optional Loki index table
# (stream_id/chunk_id, with tenant-service and log-level indexes), each through the
# CloudPosse-style table module (../autoscaled_table stands in for
# cloudposse/dynamodb/aws ~> 0.35): KMS encryption, point-in-time recovery, PROVISIONED
# billing with Application Auto Scaling of the table and its indexes, or PAY_PER_REQUEST.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "environment" { type = string }
variable "project_name" {
  type    = string
  default = "observability"
}
variable "mimir_table_name" {
  type    = string
  default = null
}
variable "loki_table_name" {
  type    = string
  default = null
}
variable "create_mimir_table" {
  type    = bool
  default = true
}
variable "create_loki_table" {
  type    = bool
  default = false
}
variable "billing_mode" {
  type    = string
  default = "PAY_PER_REQUEST"
}
variable "read_capacity" {
  type    = number
  default = 5
}
variable "write_capacity" {
  type    = number
  default = 5
}
variable "kms_key_arn" {
  type    = string
  default = null
}
variable "server_side_encryption_enabled" {
  type    = bool
  default = true
}
variable "point_in_time_recovery_enabled" {
  type    = bool
  default = true
}
variable "autoscaling_enabled" {
  type    = bool
  default = false
}
variable "autoscaling_read" {
  type = object({
    min_capacity = number
    max_capacity = number
    target_value = optional(number, 70)
  })
  default = { min_capacity = 5, max_capacity = 100 }
}
variable "autoscaling_write" {
  type = object({
    min_capacity = number
    max_capacity = number
    target_value = optional(number, 70)
  })
  default = { min_capacity = 5, max_capacity = 100 }
}
variable "global_secondary_indexes" {
  type = list(object({
    name               = string
    hash_key           = string
    range_key          = optional(string)
    projection_type    = string
    non_key_attributes = optional(list(string))
    read_capacity      = optional(number)
    write_capacity     = optional(number)
  }))
  default = []
}
variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  mimir_name = coalesce(var.mimir_table_name, "${var.project_name}-mimir-index-${var.environment}")
  loki_name  = coalesce(var.loki_table_name, "${var.project_name}-loki-index-${var.environment}")
  # Attribute definitions of the extra indexes' keys (all strings, as the seed's are).
  extra_attributes = flatten([
    for i in var.global_secondary_indexes : concat(
      [{ name = i.hash_key, type = "S" }],
      i.range_key != null ? [{ name = i.range_key, type = "S" }] : [],
    )
  ])
  common = {
    billing_mode                       = var.billing_mode
    read_capacity                      = var.read_capacity
    write_capacity                     = var.write_capacity
    enable_encryption                  = var.server_side_encryption_enabled
    server_side_encryption_kms_key_arn = var.kms_key_arn
    enable_point_in_time_recovery      = var.point_in_time_recovery_enabled
    enable_autoscaler                  = var.autoscaling_enabled
  }
}

module "mimir_index_table" {
  source = "../autoscaled_table"
  count  = var.create_mimir_table ? 1 : 0

  table_name     = local.mimir_name
  hash_key       = "metric_name"
  range_key      = "timestamp"
  range_key_type = "S"
  dynamodb_attributes = concat([
    { name = "tenant_id", type = "S" },
    { name = "labels_hash", type = "S" },
  ], local.extra_attributes)
  global_secondary_index_map = concat([
    { name = "tenant-timestamp-index", hash_key = "tenant_id", range_key = "timestamp", projection_type = "ALL" },
    { name = "labels-index", hash_key = "labels_hash", range_key = "timestamp", projection_type = "ALL" },
  ], var.global_secondary_indexes)

  billing_mode                       = local.common.billing_mode
  read_capacity                      = local.common.read_capacity
  write_capacity                     = local.common.write_capacity
  enable_encryption                  = local.common.enable_encryption
  server_side_encryption_kms_key_arn = local.common.server_side_encryption_kms_key_arn
  enable_point_in_time_recovery      = local.common.enable_point_in_time_recovery
  ttl_enabled                        = false
  enable_streams                     = true
  stream_view_type                   = "NEW_AND_OLD_IMAGES"

  enable_autoscaler            = local.common.enable_autoscaler
  autoscale_min_read_capacity  = var.autoscaling_read.min_capacity
  autoscale_max_read_capacity  = var.autoscaling_read.max_capacity
  autoscale_read_target        = var.autoscaling_read.target_value
  autoscale_min_write_capacity = var.autoscaling_write.min_capacity
  autoscale_max_write_capacity = var.autoscaling_write.max_capacity
  autoscale_write_target       = var.autoscaling_write.target_value

  tags = merge(var.tags, { Name = local.mimir_name, Component = "mimir" })
}

module "loki_index_table" {
  source = "../autoscaled_table"
  count  = var.create_loki_table ? 1 : 0

  table_name = local.loki_name
  hash_key   = "stream_id"
  range_key  = "chunk_id"
  dynamodb_attributes = [
    { name = "tenant_id", type = "S" },
    { name = "log_level", type = "S" },
    { name = "service_name", type = "S" },
  ]
  global_secondary_index_map = [
    { name = "tenant-service-index", hash_key = "tenant_id", range_key = "service_name", projection_type = "ALL" },
    { name = "log-level-index", hash_key = "log_level", range_key = "chunk_id", projection_type = "ALL" },
  ]

  billing_mode                       = local.common.billing_mode
  read_capacity                      = local.common.read_capacity
  write_capacity                     = local.common.write_capacity
  enable_encryption                  = local.common.enable_encryption
  server_side_encryption_kms_key_arn = local.common.server_side_encryption_kms_key_arn
  enable_point_in_time_recovery      = local.common.enable_point_in_time_recovery
  ttl_enabled                        = true
  ttl_attribute                      = "expires_at"

  enable_autoscaler            = local.common.enable_autoscaler
  autoscale_min_read_capacity  = var.autoscaling_read.min_capacity
  autoscale_max_read_capacity  = var.autoscaling_read.max_capacity
  autoscale_read_target        = var.autoscaling_read.target_value
  autoscale_min_write_capacity = var.autoscaling_write.min_capacity
  autoscale_max_write_capacity = var.autoscaling_write.max_capacity
  autoscale_write_target       = var.autoscaling_write.target_value

  tags = merge(var.tags, { Name = local.loki_name, Component = "loki" })
}

output "mimir_table_name" { value = one(module.mimir_index_table[*].table_name) }
output "mimir_table_id" { value = one(module.mimir_index_table[*].table_id) }
output "mimir_table_arn" { value = one(module.mimir_index_table[*].table_arn) }
output "mimir_table_stream_arn" { value = one(module.mimir_index_table[*].table_stream_arn) }
output "mimir_global_secondary_indexes" {
  value = one(module.mimir_index_table[*].global_secondary_index_names)
}
output "loki_table_name" { value = one(module.loki_index_table[*].table_name) }
output "loki_table_arn" { value = one(module.loki_index_table[*].table_arn) }
output "scalable_targets" {
  value = merge(
    one(module.mimir_index_table[*].scalable_targets),
    one(module.loki_index_table[*].scalable_targets),
  )
}
