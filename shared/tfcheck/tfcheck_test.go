package tfcheck

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testdata/schema-subset.json holds five resources and one data source
// copied from aws-provider-6.25-schema.json.
func subset(t *testing.T) *Schema {
	t.Helper()
	s, err := LoadSchema(filepath.Join("testdata", "schema-subset.json"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func check(t *testing.T, s *Schema, file string) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := s.CheckFile(file, src)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

// BrokenWant is what CheckFile reports for testdata/broken.tf: exactly one
// unknown argument, one unknown block and one missing required argument.
var BrokenWant = []string{
	`broken.tf:6: aws_lambda_function.broken: unknown argument "memory_sise"`,
	`broken.tf:9: aws_lambda_function.broken.environment: unknown block "varaibles"`,
	`broken.tf:4: aws_lambda_function.broken: missing required argument "role"`,
}

func TestBroken(t *testing.T) {
	if diff := cmp.Diff(BrokenWant, check(t, subset(t), "broken.tf")); diff != "" {
		t.Errorf("problems in broken.tf (-want +got):\n%s", diff)
	}
}

func TestGood(t *testing.T) {
	if got := check(t, subset(t), "good.tf"); len(got) != 0 {
		t.Errorf("problems in good.tf: %q", got)
	}
}

func TestMore(t *testing.T) {
	want := []string{
		`more.tf:2: aws_sqs_queue.computed: argument "arn" is computed-only, not settable`,
		`more.tf:5: aws_s3_bucket_server_side_encryption_configuration.no_rule: missing required block "rule"`,
		`more.tf:12: aws_lambda_function.shapes: "environment" is a block, not an argument`,
		`more.tf:14: aws_lambda_function.shapes: "memory_size" is an argument, not a block`,
		`more.tf:19: data.aws_iam_policy_document.bad_dynamic: unknown block "statment"`,
		`more.tf:27: aws_not_a_thing.x: unknown resource type "aws_not_a_thing"`,
	}
	if diff := cmp.Diff(want, check(t, subset(t), "more.tf")); diff != "" {
		t.Errorf("problems in more.tf (-want +got):\n%s", diff)
	}
}

func TestParseError(t *testing.T) {
	if _, err := subset(t).CheckFile("bad.tf", []byte("resource \"aws_sqs_queue\" {\n")); err == nil {
		t.Error("CheckFile(unparsable) = nil error")
	}
}
