# tflint configuration: the bundled terraform ruleset only (no plugin
# download, so it runs offline): the recommended preset plus the
# documentation, typing and naming rules terraform-aws-modules use.
#
#   tflint --chdir=terraform --config="$PWD/terraform/.tflint.hcl"
#   tflint --chdir=terraform/examples/complete --config="$PWD/terraform/.tflint.hcl"

config {
  # Evaluate the example's call of the local module too.
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

rule "terraform_documented_variables" {
  enabled = true
}

rule "terraform_documented_outputs" {
  enabled = true
}

rule "terraform_typed_variables" {
  enabled = true
}

rule "terraform_naming_convention" {
  enabled = true
}

rule "terraform_standard_module_structure" {
  enabled = true
}

rule "terraform_comment_syntax" {
  enabled = true
}

rule "terraform_unused_declarations" {
  enabled = true
}
