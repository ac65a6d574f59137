# Seed 002: the job-tracking table with its status and user indexes, TTL cleanup,
# point-in-time recovery, Contributor Insights and a system status item.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "project_name" { type = string }
variable "environment" { type = string }
variable "resource_suffix" { type = string }
variable "table_name" {
  type    = string
  default = "CloudToolsJobs"
}
variable "billing_mode" {
  type    = string
  default = "PAY_PER_REQUEST"
}
variable "enable_point_in_time_recovery" {
  type    = bool
  default = true
}
variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  provisioned = var.billing_mode == "PROVISIONED"
  name        = "${var.project_name}-${var.environment}-${var.table_name}-${var.resource_suffix}"
}

resource "aws_dynamodb_table" "main" {
  name           = local.name
  billing_mode   = var.billing_mode
  hash_key       = "jobId"
  read_capacity  = local.provisioned ? 5 : null
  write_capacity = local.provisioned ? 5 : null

  attribute {
    name = "jobId"
    type = "S"
  }
  attribute {
    name = "status"
    type = "S"
  }
  attribute {
    name = "userId"
    type = "S"
  }
  attribute {
    name = "createdAt"
    type = "S"
  }

  global_secondary_index {
    name            = "StatusIndex"
    hash_key        = "status"
    range_key       = "createdAt"
    projection_type = "ALL"
    read_capacity   = local.provisioned ? 5 : null
    write_capacity  = local.provisioned ? 5 : null
  }

  global_secondary_index {
    name            = "UserIndex"
    hash_key        = "userId"
    range_key       = "createdAt"
    projection_type = "ALL"
    read_capacity   = local.provisioned ? 5 : null
    write_capacity  = local.provisioned ? 5 : null
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.enable_point_in_time_recovery
  }

  server_side_encryption {
    enabled = true
  }

  tags = merge(var.tags, { Name = local.name })
}

resource "aws_dynamodb_contributor_insights" "main" {
  table_name = aws_dynamodb_table.main.name
}

resource "aws_dynamodb_table_item" "system_status" {
  table_name = aws_dynamodb_table.main.name
  hash_key   = aws_dynamodb_table.main.hash_key
  item = jsonencode({
    jobId     = { S = "system-status" }
    status    = { S = "completed" }
    userId    = { S = "system" }
    createdAt = { S = "2024-01-01T00:00:00Z" }
    jobType   = { S = "health-check" }
    ttl       = { N = "4102444800" }
  })
}

output "table_name" { value = aws_dynamodb_table.main.name }
output "table_id" { value = aws_dynamodb_table.main.id }
output "table_arn" { value = aws_dynamodb_table.main.arn }
output "table_stream_arn" { value = aws_dynamodb_table.main.stream_arn }
output "global_secondary_indexes" { value = aws_dynamodb_table.main.global_secondary_index }
