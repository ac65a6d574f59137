# The provider block every example uses: every service endpoint points at Dynastore.
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = false
  skip_region_validation      = true

  endpoints {
    dynamodb               = var.endpoint
    sts                    = var.endpoint
    kms                    = var.endpoint
    cloudwatch             = var.endpoint
    sns                    = var.endpoint
    applicationautoscaling = var.endpoint
    backup                 = var.endpoint
  }
}
