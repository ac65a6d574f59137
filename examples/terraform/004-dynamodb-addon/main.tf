# Seed 004 against Dynastore: the README's "Advanced Configuration with Global Tables"
# (users, replicated to three regions, GSIs, TTL, stream, AWS Backup, Contributor
# Insights) and its "Event-Driven Architecture with Streams" orders table, provisioned
# with auto scaling. The global table is on-demand: DynamoDB refuses replicas of a
# PROVISIONED table whose write capacity is not auto scaled yet ("Table write capacity
# should either be Pay-Per-Request or AutoScaled."), and Terraform creates the table (with
# its replicas) before the scaling targets that name it.
variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:8000"
}

variable "aws_region" {
  type    = string
  default = "ap-northeast-2"
}

module "global_user_table" {
  source = "../modules/dynamodb_addon"

  shared_state_bucket = "" # S3 remote state: not served by Dynastore
  aws_region          = var.aws_region

  project_name = "global-app"
  environment  = "prod"
  table_name   = "users"

  hash_key  = "user_id"
  range_key = "created_at"
  attributes = [
    { name = "user_id", type = "S" },
    { name = "created_at", type = "S" },
    { name = "email", type = "S" },
    { name = "status", type = "S" },
  ]

  enable_global_tables = true
  replica_regions      = ["us-east-1", "eu-west-1", "ap-southeast-1"]

  billing_mode = "PAY_PER_REQUEST"

  global_secondary_indexes = [
    {
      name            = "email-index"
      hash_key        = "email"
      range_key       = "created_at"
      projection_type = "ALL"
    },
    {
      name               = "status-index"
      hash_key           = "status"
      range_key          = "created_at"
      projection_type    = "INCLUDE"
      non_key_attributes = ["user_id", "email"]
    },
  ]

  ttl_enabled        = true
  ttl_attribute_name = "expires_at"

  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  enable_backup             = true
  backup_schedule           = "cron(0 3 ? * * *)"
  backup_cold_storage_after = 30
  backup_delete_after       = 365

  enable_contributor_insights = true
  deletion_protection_enabled = false # prod turns it on; off so the example can be destroyed

  common_tags = {
    Owner  = "backend-team"
    Cost   = "application"
    Global = "true"
  }
}

module "orders_table" {
  source = "../modules/dynamodb_addon"

  aws_region   = var.aws_region
  project_name = "ecommerce"
  environment  = "prod"
  table_name   = "orders"

  hash_key   = "order_id"
  attributes = [{ name = "order_id", type = "S" }]

  billing_mode   = "PROVISIONED"
  read_capacity  = 10
  write_capacity = 10

  enable_autoscaling             = true
  autoscaling_read_min_capacity  = 5
  autoscaling_read_max_capacity  = 200
  autoscaling_write_min_capacity = 5
  autoscaling_write_max_capacity = 200

  stream_enabled                 = true
  stream_view_type               = "NEW_AND_OLD_IMAGES"
  point_in_time_recovery_enabled = true
  deletion_protection_enabled    = false

  common_tags = {
    Component = "orders"
    Critical  = "true"
  }
}

output "users_table_name" { value = module.global_user_table.table_name }
output "users_table_arn" { value = module.global_user_table.table_arn }
output "users_stream_arn" { value = module.global_user_table.table_stream_arn }
output "users_replica_regions" { value = module.global_user_table.replica_regions }
output "users_table_endpoints" { value = module.global_user_table.table_endpoints }
output "orders_table_name" { value = module.orders_table.table_name }
output "orders_kms_key_arn" { value = module.orders_table.kms_key_arn }
output "orders_scalable_targets" { value = module.orders_table.scalable_targets }
