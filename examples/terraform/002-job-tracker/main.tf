# Seed 002 against Dynastore: the production configuration of the job tracker.
variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:8000"
}

module "dynamodb" {
  source          = "../modules/job_tracker"
  project_name    = "cloud-tools"
  environment     = "production"
  resource_suffix = "abc123"
  table_name      = "CustomJobsTable"
  billing_mode    = "PROVISIONED"

  enable_point_in_time_recovery = true

  tags = {
    Environment = "production"
    Owner       = "platform-team"
    Project     = "cloud-tools"
    CostCenter  = "engineering"
    Backup      = "daily"
    DataClass   = "operational"
  }
}

output "table_name" { value = module.dynamodb.table_name }
output "table_arn" { value = module.dynamodb.table_arn }
