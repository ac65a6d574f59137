# Seed 001 against Dynastore: the streaming-logs DynamoDB module as its README's usage
# configures it (dev: on-demand, PITR for 7 days, alarms, a KMS key with a 7-day deletion
# window), and its production configuration: provisioned with auto scaling, streams on,
# 30 days of PITR.
variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:8000"
}

module "dynamodb" {
  source = "../modules/streaming_logs_dynamodb"

  project_name = "streaming-logs"
  environment  = "dev"

  # Billing configuration
  billing_mode = "PAY_PER_REQUEST" # Cost-effective for development

  # Backup and recovery
  enable_point_in_time_recovery = true
  backup_retention_days         = 7

  # Monitoring
  enable_cloudwatch_alarms = true

  # Security
  kms_deletion_window = 7
}

module "dynamodb_prod" {
  source = "../modules/streaming_logs_dynamodb"

  project_name = "streaming-logs"
  environment  = "prod"

  billing_mode             = "PROVISIONED"
  read_capacity            = 10
  write_capacity           = 10
  enable_autoscaling       = true
  autoscaling_min_capacity = 5
  autoscaling_max_capacity = 200

  enable_point_in_time_recovery = true
  backup_retention_days         = 30
  enable_streams                = true
  enable_ttl                    = true
  enable_cloudwatch_alarms      = true
  kms_deletion_window           = 30
}

output "dev" { value = module.dynamodb }
output "prod" { value = module.dynamodb_prod }
