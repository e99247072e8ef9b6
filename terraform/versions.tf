terraform {
  # optional() object attributes with defaults (1.3), check blocks (1.5).
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # A module states a range; root configurations pin (examples/complete).
      # Written against provider 6.25 (the schema the static checks use).
      version = ">= 6.0, < 7.0"
    }
  }
}
