# Seed 003 against Dynastore: a key-value table, a time-series table with TTL and a
# stream, and a session table with its own TTL attribute.
variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:8000"
}

locals {
  common_tags = {
    Project     = "dynastore-example"
    Environment = "test"
    ManagedBy   = "terraform"
  }
}

module "dynamodb" {
  source       = "../modules/kv_timeseries"
  project_name = "kv"
  environment  = "test"

  tables = {
    "user-data" = {
      partition_key                 = "user_id"
      type                          = "key-value"
      attribute_types               = { user_id = "S" }
      enable_point_in_time_recovery = true
    }
    "events" = {
      partition_key   = "event_type"
      sort_key        = "timestamp"
      type            = "time-series"
      attribute_types = { event_type = "S", timestamp = "N" }
      enable_ttl      = true
      ttl_attribute   = "ttl"
      enable_stream   = true
    }
    "sessions" = {
      partition_key = "session_id"
      type          = "key-value"
      enable_ttl    = true
      ttl_attribute = "expires_at"
    }
  }
  tags = local.common_tags
}

output "table_names" { value = module.dynamodb.table_names }
output "table_arns" { value = module.dynamodb.table_arns }
output "table_stream_arns" { value = module.dynamodb.table_stream_arns }
