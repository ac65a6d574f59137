# Application Auto Scaling of one provisioned DynamoDB table and its global secondary
# indexes, as cloudposse/dynamodb-autoscaler/aws and the stackkit addon make it: for the
# read and the write capacity of the table and of each index, a scalable target and a
# target tracking policy on the matching DynamoDB utilization metric.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "table_name" { type = string }
variable "index_names" {
  type    = list(string)
  default = []
}
variable "read" {
  description = "read capacity: { min, max } units and the target utilization (percent)"
  type        = object({ min = number, max = number, target = number })
}
variable "write" {
  description = "write capacity: { min, max } units and the target utilization (percent)"
  type        = object({ min = number, max = number, target = number })
}
variable "policy_name_prefix" {
  description = "policies are named <prefix>-<target key>-scaling; <metric>:<resource id> when null"
  type        = string
  default     = null
}
variable "cooldown" {
  description = "seconds after a scale-in or scale-out before the next one; the service's default when null"
  type        = number
  default     = null
}

locals {
  resources = merge(
    { table = { id = "table/${var.table_name}", kind = "table" } },
    { for name in var.index_names : name => { id = "table/${var.table_name}/index/${name}", kind = "index" } },
  )
  # <table or index>-<read or write> => what to scale
  scaling = merge([for key, r in local.resources : {
    "${key}-read"  = { resource = r.id, dimension = "dynamodb:${r.kind}:ReadCapacityUnits", metric = "DynamoDBReadCapacityUtilization", capacity = var.read }
    "${key}-write" = { resource = r.id, dimension = "dynamodb:${r.kind}:WriteCapacityUnits", metric = "DynamoDBWriteCapacityUtilization", capacity = var.write }
  }]...)
}

resource "aws_appautoscaling_target" "this" {
  for_each           = local.scaling
  resource_id        = each.value.resource
  scalable_dimension = each.value.dimension
  service_namespace  = "dynamodb"
  min_capacity       = each.value.capacity.min
  max_capacity       = each.value.capacity.max
}

resource "aws_appautoscaling_policy" "this" {
  for_each           = aws_appautoscaling_target.this
  name               = var.policy_name_prefix != null ? "${var.policy_name_prefix}-${each.key}-scaling" : "${local.scaling[each.key].metric}:${each.value.resource_id}"
  policy_type        = "TargetTrackingScaling"
  resource_id        = each.value.resource_id
  scalable_dimension = each.value.scalable_dimension
  service_namespace  = each.value.service_namespace

  target_tracking_scaling_policy_configuration {
    predefined_metric_specification {
      predefined_metric_type = local.scaling[each.key].metric
    }
    target_value       = local.scaling[each.key].capacity.target
    scale_in_cooldown  = var.cooldown
    scale_out_cooldown = var.cooldown
  }
}

output "targets" {
  description = "target key (table-read, <index>-write, ...) => resource id"
  value       = { for k, t in aws_appautoscaling_target.this : k => t.resource_id }
}
