variable "region" {
  description = "AWS Region to deploy the example in."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Name prefix of the example's resources."
  type        = string
  default     = "fl2nf-example"
}

variable "vpc_cidr" {
  description = "CIDR block of the example VPC (the one whose flow logs are exported, and where the sender runs)."
  type        = string
  default     = "10.42.0.0/16"
}

variable "receivers" {
  description = "NetFlow/IPFIX collectors the sender reaches from the example VPC (see the module's receivers variable)."
  type        = list(string)
  default = [
    "netflow9://10.42.1.10:2055?source-id=1",
    "ipfix://10.42.1.11:4739?domain=1&mtu=1400",
  ]
}
