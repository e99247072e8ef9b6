# Exactly three problems: an unknown argument (line 6), an unknown block
# (line 9) and a missing required argument (role, at line 4).

resource "aws_lambda_function" "broken" {
  function_name = "f"
  memory_sise   = 128

  environment {
    varaibles {
      A = "b"
    }
  }
}
