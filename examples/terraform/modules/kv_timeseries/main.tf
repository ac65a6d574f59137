# Seed 003: key-value and time-series tables from one map of table configurations.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "project_name" { type = string }
variable "environment" { type = string }
variable "tags" {
  type    = map(string)
  default = {}
}
variable "tables" {
  type = map(object({
    partition_key                 = string
    sort_key                      = optional(string)
    attribute_types               = optional(map(string), {})
    type                          = optional(string, "key-value")
    billing_mode                  = optional(string, "PAY_PER_REQUEST")
    enable_ttl                    = optional(bool, false)
    ttl_attribute                 = optional(string, "ttl")
    enable_point_in_time_recovery = optional(bool, false)
    enable_stream                 = optional(bool, false)
    stream_view_type              = optional(string, "NEW_AND_OLD_IMAGES")
    kms_key_id                    = optional(string)
    purpose                       = optional(string, "Application Data Storage")
  }))
  default = {}
}

resource "aws_dynamodb_table" "this" {
  for_each = var.tables

  name         = "${var.project_name}-${var.environment}-${each.key}"
  billing_mode = each.value.billing_mode
  hash_key     = each.value.partition_key
  range_key    = each.value.sort_key

  read_capacity  = each.value.billing_mode == "PROVISIONED" ? 5 : null
  write_capacity = each.value.billing_mode == "PROVISIONED" ? 5 : null

  attribute {
    name = each.value.partition_key
    type = lookup(each.value.attribute_types, each.value.partition_key, "S")
  }

  dynamic "attribute" {
    for_each = each.value.sort_key == null ? [] : [each.value.sort_key]
    content {
      name = attribute.value
      type = lookup(each.value.attribute_types, attribute.value, "S")
    }
  }

  ttl {
    enabled        = each.value.enable_ttl
    attribute_name = each.value.enable_ttl ? each.value.ttl_attribute : ""
  }

  point_in_time_recovery {
    enabled = each.value.enable_point_in_time_recovery
  }

  stream_enabled   = each.value.enable_stream
  stream_view_type = each.value.enable_stream ? each.value.stream_view_type : null

  server_side_encryption {
    enabled = true
  }

  tags = merge(var.tags, {
    Name    = "${var.project_name}-${var.environment}-${each.key}"
    Type    = each.value.type
    Purpose = each.value.purpose
  })
}

output "table_names" {
  value = { for k, t in aws_dynamodb_table.this : k => t.name }
}
output "table_arns" {
  value = { for k, t in aws_dynamodb_table.this : k => t.arn }
}
output "table_stream_arns" {
  value = { for k, t in aws_dynamodb_table.this : k => (t.stream_enabled ? t.stream_arn : null) }
}
output "tables" {
  value = {
    for k, t in aws_dynamodb_table.this : k => {
      name       = t.name
      arn        = t.arn
      stream_arn = t.stream_enabled ? t.stream_arn : null
    }
  }
}
