# CloudWatch alarms on one DynamoDB table's AWS/DynamoDB metrics: read and write throttle
# events and system errors, plus, when asked, the average latency of chosen operations
# and (for a provisioned table) consumed capacity above a share of what is provisioned.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "table_name" { type = string }
variable "alarm_name_prefix" {
  description = "alarm names are <prefix>-<alarm>; the table name when null"
  type        = string
  default     = null
}
variable "period" {
  type    = number
  default = 300
}
variable "throttle_threshold" {
  type    = number
  default = 0
}
variable "throttle_evaluation_periods" {
  type    = number
  default = 2
}
variable "latency_operations" {
  description = "operations whose SuccessfulRequestLatency is watched"
  type        = list(string)
  default     = []
}
variable "latency_threshold_ms" {
  type    = number
  default = 100
}
variable "provisioned_capacity" {
  description = "{ read = units, write = units } of a provisioned table; empty for on-demand"
  type        = map(number)
  default     = {}
}
variable "capacity_threshold_percent" {
  type    = number
  default = 80
}
variable "alarm_actions" {
  type    = list(string)
  default = []
}
variable "ok_actions" {
  type    = list(string)
  default = []
}
variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  prefix = coalesce(var.alarm_name_prefix, var.table_name)
  table  = { TableName = var.table_name }
  alarms = merge(
    { for metric in ["ReadThrottleEvents", "WriteThrottleEvents"] : metric => {
      metric             = metric
      statistic          = "Sum"
      threshold          = var.throttle_threshold
      evaluation_periods = var.throttle_evaluation_periods
      dimensions         = local.table
      description        = "${metric} on ${var.table_name}"
    } },
    { SystemErrors = {
      metric             = "SystemErrors"
      statistic          = "Sum"
      threshold          = 0
      evaluation_periods = 1
      dimensions         = local.table
      description        = "System errors on ${var.table_name}"
    } },
    { for op in var.latency_operations : "${op}Latency" => {
      metric             = "SuccessfulRequestLatency"
      statistic          = "Average"
      threshold          = var.latency_threshold_ms
      evaluation_periods = 3
      dimensions         = merge(local.table, { Operation = op })
      description        = "${op} latency on ${var.table_name} above ${var.latency_threshold_ms} ms"
    } },
    # Consumed capacity is a Sum over the period: compare it with capacity x seconds.
    { for kind, units in var.provisioned_capacity : "Consumed${title(kind)}Capacity" => {
      metric             = "Consumed${title(kind)}CapacityUnits"
      statistic          = "Sum"
      threshold          = units * var.period * var.capacity_threshold_percent / 100
      evaluation_periods = 2
      dimensions         = local.table
      description        = "${kind} capacity of ${var.table_name} above ${var.capacity_threshold_percent}%"
    } },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.alarms
  alarm_name          = "${local.prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = "AWS/DynamoDB"
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  period              = var.period
  evaluation_periods  = each.value.evaluation_periods
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  dimensions          = each.value.dimensions
  alarm_actions       = var.alarm_actions
  ok_actions          = var.ok_actions
  tags                = var.tags
}

output "alarm_names" { value = [for a in aws_cloudwatch_metric_alarm.this : a.alarm_name] }
output "alarm_arns" { value = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.arn } }
