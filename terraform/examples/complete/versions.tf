terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # A root configuration pins the provider it was tested with.
      version = "~> 6.25"
    }
  }
}
