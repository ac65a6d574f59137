# A stand-in for cloudposse/dynamodb/aws ~> 0.35 (which seed 000 pulls from the registry,
# unreachable offline): the same inputs it is called with, and the same resources — one
# table (SSE with an optional KMS key, PITR, TTL, optional stream, GSIs) plus, when
# autoscaling is on, what cloudposse/dynamodb-autoscaler/aws creates: a scalable target
# and a target tracking policy for read and write capacity of the table and of each GSI
# (../table_autoscaling).
# The streaming-logs tables (seed 001) are made with it too.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "table_name" { type = string }
variable "hash_key" { type = string }
variable "hash_key_type" {
  type    = string
  default = "S"
}
variable "range_key" {
  type    = string
  default = ""
}
variable "range_key_type" {
  type    = string
  default = "S"
}
variable "dynamodb_attributes" {
  type    = list(object({ name = string, type = string }))
  default = []
}
variable "global_secondary_index_map" {
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
variable "billing_mode" {
  type    = string
  default = "PROVISIONED"
}
variable "read_capacity" {
  type    = number
  default = 5
}
variable "write_capacity" {
  type    = number
  default = 5
}
variable "enable_encryption" {
  type    = bool
  default = true
}
variable "server_side_encryption_kms_key_arn" {
  type    = string
  default = null
}
variable "enable_point_in_time_recovery" {
  type    = bool
  default = true
}
variable "point_in_time_recovery_period_in_days" {
  description = "how far back point-in-time recovery reaches (1 to 35 days; 35 when null)"
  type        = number
  default     = null
}
variable "ttl_enabled" {
  type    = bool
  default = true
}
variable "ttl_attribute" {
  type    = string
  default = "Expires"
}
variable "enable_streams" {
  type    = bool
  default = false
}
variable "stream_view_type" {
  type    = string
  default = ""
}
variable "enable_autoscaler" {
  type    = bool
  default = true
}
variable "autoscale_read_target" {
  type    = number
  default = 50
}
variable "autoscale_write_target" {
  type    = number
  default = 50
}
variable "autoscale_min_read_capacity" {
  type    = number
  default = 5
}
variable "autoscale_max_read_capacity" {
  type    = number
  default = 20
}
variable "autoscale_min_write_capacity" {
  type    = number
  default = 5
}
variable "autoscale_max_write_capacity" {
  type    = number
  default = 20
}
variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  provisioned = var.billing_mode == "PROVISIONED"
  autoscaled  = var.enable_autoscaler && local.provisioned
  key_attributes = concat(
    [{ name = var.hash_key, type = var.hash_key_type }],
    var.range_key != "" ? [{ name = var.range_key, type = var.range_key_type }] : [],
  )
  # One definition per attribute name (a GSI key may also be a table key).
  attributes = values(merge(
    { for a in var.dynamodb_attributes : a.name => a },
    { for a in local.key_attributes : a.name => a },
  ))
  indexes = { for i in var.global_secondary_index_map : i.name => i }
}

resource "aws_dynamodb_table" "default" {
  name             = var.table_name
  billing_mode     = var.billing_mode
  read_capacity    = local.provisioned ? var.read_capacity : null
  write_capacity   = local.provisioned ? var.write_capacity : null
  hash_key         = var.hash_key
  range_key        = var.range_key != "" ? var.range_key : null
  stream_enabled   = var.enable_streams
  stream_view_type = var.enable_streams ? var.stream_view_type : null

  server_side_encryption {
    enabled     = var.enable_encryption
    kms_key_arn = var.enable_encryption ? var.server_side_encryption_kms_key_arn : null
  }

  point_in_time_recovery {
    enabled                 = var.enable_point_in_time_recovery
    recovery_period_in_days = var.enable_point_in_time_recovery ? var.point_in_time_recovery_period_in_days : null
  }

  dynamic "attribute" {
    for_each = local.attributes
    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  dynamic "global_secondary_index" {
    for_each = local.indexes
    content {
      name               = global_secondary_index.value.name
      hash_key           = global_secondary_index.value.hash_key
      range_key          = global_secondary_index.value.range_key
      projection_type    = global_secondary_index.value.projection_type
      non_key_attributes = global_secondary_index.value.non_key_attributes
      read_capacity      = local.provisioned ? coalesce(global_secondary_index.value.read_capacity, var.read_capacity) : null
      write_capacity     = local.provisioned ? coalesce(global_secondary_index.value.write_capacity, var.write_capacity) : null
    }
  }

  ttl {
    attribute_name = var.ttl_enabled ? var.ttl_attribute : ""
    enabled        = var.ttl_enabled
  }

  # Auto scaling owns the capacities once it is on.
  lifecycle {
    ignore_changes = [read_capacity, write_capacity]
  }

  tags = var.tags
}

# The autoscaler's scalable targets and target tracking policies (named as it names them).
module "autoscaling" {
  source      = "../table_autoscaling"
  count       = local.autoscaled ? 1 : 0
  table_name  = aws_dynamodb_table.default.name
  index_names = keys(local.indexes)
  read        = { min = var.autoscale_min_read_capacity, max = var.autoscale_max_read_capacity, target = var.autoscale_read_target }
  write       = { min = var.autoscale_min_write_capacity, max = var.autoscale_max_write_capacity, target = var.autoscale_write_target }
}

output "table_name" { value = aws_dynamodb_table.default.name }
output "table_id" { value = aws_dynamodb_table.default.id }
output "table_arn" { value = aws_dynamodb_table.default.arn }
output "table_stream_arn" { value = aws_dynamodb_table.default.stream_arn }
output "global_secondary_index_names" {
  value = [for i in aws_dynamodb_table.default.global_secondary_index : i.name]
}
output "scalable_targets" {
  value = { for k, id in merge(module.autoscaling[*].targets...) : "${var.table_name}:${k}" => id }
}
