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
  # The two tables: what differs between them (the rest is the variables above).
  tables = {
    mimir = {
      name      = local.mimir_name
      hash_key  = "metric_name"
      range_key = "timestamp"
      attributes = concat([
        { name = "tenant_id", type = "S" },
        { name = "labels_hash", type = "S" },
      ], local.extra_attributes)
      indexes = concat([
        { name = "tenant-timestamp-index", hash_key = "tenant_id", range_key = "timestamp", projection_type = "ALL" },
        { name = "labels-index", hash_key = "labels_hash", range_key = "timestamp", projection_type = "ALL" },
      ], var.global_secondary_indexes)
      ttl_attribute = null # no TTL
      stream        = true
      component     = "mimir"
    }
    loki = {
      name      = local.loki_name
      hash_key  = "stream_id"
      range_key = "chunk_id"
      attributes = [
        { name = "tenant_id", type = "S" },
        { name = "log_level", type = "S" },
        { name = "service_name", type = "S" },
      ]
      indexes = [
        { name = "tenant-service-index", hash_key = "tenant_id", range_key = "service_name", projection_type = "ALL" },
        { name = "log-level-index", hash_key = "log_level", range_key = "chunk_id", projection_type = "ALL" },
      ]
      ttl_attribute = "expires_at"
      stream        = false
      component     = "loki"
    }
  }
  created = [for k, on in { mimir = var.create_mimir_table, loki = var.create_loki_table } : k if on]
}

module "index_table" {
  source   = "../autoscaled_table"
  for_each = toset(local.created)

  table_name                 = local.tables[each.key].name
  hash_key                   = local.tables[each.key].hash_key
  range_key                  = local.tables[each.key].range_key
  dynamodb_attributes        = local.tables[each.key].attributes
  global_secondary_index_map = local.tables[each.key].indexes
  ttl_enabled                = local.tables[each.key].ttl_attribute != null
  ttl_attribute              = coalesce(local.tables[each.key].ttl_attribute, "Expires")
  enable_streams             = local.tables[each.key].stream
  stream_view_type           = local.tables[each.key].stream ? "NEW_AND_OLD_IMAGES" : ""

  billing_mode                       = var.billing_mode
  read_capacity                      = var.read_capacity
  write_capacity                     = var.write_capacity
  enable_encryption                  = var.server_side_encryption_enabled
  server_side_encryption_kms_key_arn = var.kms_key_arn
  enable_point_in_time_recovery      = var.point_in_time_recovery_enabled

  enable_autoscaler            = var.autoscaling_enabled
  autoscale_min_read_capacity  = var.autoscaling_read.min_capacity
  autoscale_max_read_capacity  = var.autoscaling_read.max_capacity
  autoscale_read_target        = var.autoscaling_read.target_value
  autoscale_min_write_capacity = var.autoscaling_write.min_capacity
  autoscale_max_write_capacity = var.autoscaling_write.max_capacity
  autoscale_write_target       = var.autoscaling_write.target_value

  tags = merge(var.tags, { Name = local.tables[each.key].name, Component = local.tables[each.key].component })
}

output "mimir_table_name" { value = try(module.index_table["mimir"].table_name, null) }
output "mimir_table_id" { value = try(module.index_table["mimir"].table_id, null) }
output "mimir_table_arn" { value = try(module.index_table["mimir"].table_arn, null) }
output "mimir_table_stream_arn" { value = try(module.index_table["mimir"].table_stream_arn, null) }
output "mimir_global_secondary_indexes" {
  value = try(module.index_table["mimir"].global_secondary_index_names, null)
}
output "loki_table_name" { value = try(module.index_table["loki"].table_name, null) }
output "loki_table_arn" { value = try(module.index_table["loki"].table_arn, null) }
output "scalable_targets" {
  value = merge([for t in module.index_table : t.scalable_targets]...)
}
