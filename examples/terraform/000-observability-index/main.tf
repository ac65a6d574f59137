# Seed 000 against Dynastore: the "Full Production Stack" — both index tables,
# PROVISIONED with Application Auto Scaling of tables and indexes, a customer managed KMS
# key, point-in-time recovery, and an extra KEYS_ONLY index.
variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:8000"
}

resource "aws_kms_key" "dynamodb" {
  description         = "observability DynamoDB tables"
  enable_key_rotation = true
}

module "monitoring_dynamodb" {
  source       = "../modules/observability_dynamodb"
  environment  = "prod"
  project_name = "observability"

  create_mimir_table = true
  create_loki_table  = true

  billing_mode   = "PROVISIONED"
  read_capacity  = 50
  write_capacity = 50

  autoscaling_enabled = true
  autoscaling_read = {
    min_capacity = 25
    max_capacity = 500
  }
  autoscaling_write = {
    min_capacity = 25
    max_capacity = 500
  }

  global_secondary_indexes = [
    {
      name            = "custom-index"
      hash_key        = "custom_key"
      projection_type = "KEYS_ONLY"
      read_capacity   = 25
      write_capacity  = 25
    }
  ]

  server_side_encryption_enabled = true
  kms_key_arn                    = aws_kms_key.dynamodb.arn
  point_in_time_recovery_enabled = true

  tags = {
    Environment  = "prod"
    Team         = "platform"
    Compliance   = "SOC2"
    BackupPolicy = "7-days"
  }
}

output "mimir_table_name" { value = module.monitoring_dynamodb.mimir_table_name }
output "mimir_table_arn" { value = module.monitoring_dynamodb.mimir_table_arn }
output "mimir_table_stream_arn" { value = module.monitoring_dynamodb.mimir_table_stream_arn }
output "loki_table_name" { value = module.monitoring_dynamodb.loki_table_name }
output "scalable_targets" { value = module.monitoring_dynamodb.scalable_targets }
