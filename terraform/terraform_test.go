package terraform

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/contract"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/tfcheck"
	"github.com/flowlogs2netflow/flowlogs2netflow/statemachine"
)

// TestFmt runs terraform fmt -check -recursive on this directory (module
// and examples).
func TestFmt(t *testing.T) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		// Terraform is part of the machine image, not something make deps
		// can install (providers and releases cannot be downloaded here):
		// say so and skip, even in CI.
		t.Skip("terraform not on PATH: skipping terraform fmt -check (install Terraform >= 1.5 or OpenTofu as terraform)")
	}
	cfg := filepath.Join(t.TempDir(), "terraformrc")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), bin, "fmt", "-check", "-recursive", "-diff", ".")
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cfg, "CHECKPOINT_DISABLE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("terraform fmt -check -recursive terraform: %v (run terraform fmt -recursive terraform)\n%s", err, out)
	}
}

// TestDocumented: every variable has a type and a description, every output
// a description, in the module and the example.
func TestDocumented(t *testing.T) {
	for _, dir := range []string{module, example} {
		c := load(t, dir)
		for name, b := range c.variables {
			if _, ok := b.Body.Attributes["type"]; !ok {
				t.Errorf("%s: variable %s has no type", dir, name)
			}
			if !hasText(b, "description") {
				t.Errorf("%s: variable %s has no description", dir, name)
			}
		}
		for name, b := range c.outputs {
			if !hasText(b, "description") {
				t.Errorf("%s: output %s has no description", dir, name)
			}
		}
	}
	// The module's required inputs (no default) are exactly these.
	var required []string
	for name, b := range load(t, module).variables {
		if _, ok := b.Body.Attributes["default"]; !ok {
			required = append(required, name)
		}
	}
	sort.Strings(required)
	if diff := cmp.Diff([]string{"flow_log_bucket_name", "receivers", "subnet_ids", "vpc_id"}, required); diff != "" {
		t.Errorf("required variables (-want +got):\n%s", diff)
	}
}

func hasText(b *hclsyntax.Block, name string) bool {
	a, ok := b.Body.Attributes[name]
	if !ok {
		return false
	}
	v, diags := a.Expr.Value(nil)
	return !diags.HasErrors() && v.Type().FriendlyName() == "string" && strings.TrimSpace(v.AsString()) != ""
}

// TestVersions: the module accepts Terraform >= 1.5 and AWS provider 6.x
// (6.25 included); the example pins ~> 6.25.
func TestVersions(t *testing.T) {
	for dir, want := range map[string]string{module: ">= 6.0, < 7.0", example: "~> 6.25"} {
		c := load(t, dir)
		if len(c.terraform) != 1 {
			t.Fatalf("%s: %d terraform blocks", dir, len(c.terraform))
		}
		tb := c.terraform[0]
		if got := c.source(tb.Body.Attributes["required_version"].Expr.Range()); got != `">= 1.5"` {
			t.Errorf("%s: required_version = %s", dir, got)
		}
		var rp *hclsyntax.Block
		for _, b := range tb.Body.Blocks {
			if b.Type == "required_providers" {
				rp = b
			}
		}
		if rp == nil {
			t.Fatalf("%s: no required_providers", dir)
		}
		aws := objectKeys(t, rp.Body.Attributes["aws"].Expr)
		v, _ := aws["version"].Value(nil)
		s, _ := aws["source"].Value(nil)
		if v.AsString() != want || s.AsString() != "hashicorp/aws" {
			t.Errorf("%s: aws provider %s %q, want hashicorp/aws %q", dir, s.AsString(), v.AsString(), want)
		}
	}
}

// TestTemplatefile: the state machine's definition is templatefile() of the
// statemachine package's file with exactly statemachine.Placeholders, each
// ARN placeholder the matching function's ARN.
func TestTemplatefile(t *testing.T) {
	c := load(t, module)
	sm := c.resources["aws_sfn_state_machine.this"]
	if sm == nil {
		t.Fatal("no aws_sfn_state_machine.this")
	}
	call, ok := attr(t, sm, "definition").Expr.(*hclsyntax.FunctionCallExpr)
	if !ok || call.Name != "templatefile" || len(call.Args) != 2 {
		t.Fatalf("definition is not templatefile(path, vars)")
	}
	if got, want := c.source(call.Args[0].Range()), `"${path.module}/../statemachine/`+statemachine.File+`"`; got != want {
		t.Errorf("templatefile path = %s, want %s", got, want)
	}
	if _, err := os.Stat(filepath.Join("..", "statemachine", statemachine.File)); err != nil {
		t.Error(err)
	}
	vars := objectKeys(t, call.Args[1])
	var got []string
	for k := range vars {
		got = append(got, k)
	}
	sort.Strings(got)
	want := slices.Sorted(slices.Values(statemachine.Placeholders))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("templatefile variables (-statemachine.Placeholders +passed):\n%s", diff)
	}
	for _, fn := range statemachine.TaskStates {
		e, ok := vars[fn+"_arn"]
		if !ok {
			continue
		}
		if diff := cmp.Diff([]string{`aws_lambda_function.this["` + fn + `"].arn`}, refs(e)); diff != "" {
			t.Errorf("%s_arn (-want +got):\n%s", fn, diff)
		}
	}
	for _, p := range []string{"parse_max_concurrency", "send_max_concurrency", "execution_timeout_seconds"} {
		if e, ok := vars[p]; ok && !slices.Equal(refs(e), []string{"var." + p}) {
			t.Errorf("%s = %v, want var.%s", p, refs(e), p)
		}
	}
	// The module's defaults render to valid JSON.
	rv := statemachine.LocalVars()
	for _, p := range []string{"parse_max_concurrency", "send_max_concurrency", "execution_timeout_seconds"} {
		rv[p] = c.source(attr(t, c.variables[p], "default").Expr.Range())
	}
	if _, err := statemachine.Render(rv); err != nil {
		t.Errorf("render with the module's defaults: %v", err)
	}
}

// TestWiring: the pieces exist and reference each other.
func TestWiring(t *testing.T) {
	c := load(t, module)
	need := func(kind map[string]*hclsyntax.Block, key string) *hclsyntax.Block {
		t.Helper()
		b := kind[key]
		if b == nil {
			t.Fatalf("missing %s", key)
		}
		return b
	}
	refTo := func(b *hclsyntax.Block, path []string, target string) {
		t.Helper()
		if e := attr(t, b, path...).Expr; !refersTo(e, target) {
			t.Errorf("%v %v = %v, want a reference to %s", b.Labels, path, refs(e), target)
		}
	}
	literal := func(b *hclsyntax.Block, path []string, want string) {
		t.Helper()
		v, diags := attr(t, b, path...).Expr.Value(nil)
		if diags.HasErrors() || v.AsString() != want {
			t.Errorf("%v %v is not %q", b.Labels, path, want)
		}
	}

	// Four functions, one per Task state, in one for_each.
	fns := need(c.resources, "aws_lambda_function.this")
	refTo(fns, []string{"for_each"}, "local.function_settings")
	var names []string
	for k := range objectKeys(t, c.locals["function_settings"].Expr) {
		names = append(names, k)
	}
	sort.Strings(names)
	var tasks []string
	for _, fn := range statemachine.TaskStates {
		tasks = append(tasks, fn)
	}
	sort.Strings(tasks)
	tasks = slices.Compact(tasks) // the sender runs SendChunk and Convert
	if diff := cmp.Diff(tasks, names); diff != "" {
		t.Errorf("functions (-statemachine.TaskStates +local.function_settings):\n%s", diff)
	}
	literal(fns, []string{"runtime"}, "provided.al2023")
	literal(fns, []string{"handler"}, "bootstrap")
	refTo(fns, []string{"role"}, "aws_iam_role.lambda")
	refTo(fns, []string{"environment", "variables"}, "local.function_env")

	// Rule -> target -> state machine, with a role, a retry policy and the DLQ.
	need(c.resources, "aws_cloudwatch_event_rule.object_created")
	target := need(c.resources, "aws_cloudwatch_event_target.sfn")
	refTo(target, []string{"rule"}, "aws_cloudwatch_event_rule.object_created")
	refTo(target, []string{"arn"}, "aws_sfn_state_machine.this")
	refTo(target, []string{"role_arn"}, "aws_iam_role.events")
	refTo(target, []string{"dead_letter_config", "arn"}, "aws_sqs_queue.events_dlq")
	refTo(target, []string{"input_transformer", "input_template"}, "local.event_input_template")
	refTo(target, []string{"retry_policy", "maximum_retry_attempts"}, "var.event_max_retry_attempts")

	// DLQ and its policy: events.amazonaws.com, this rule only.
	need(c.resources, "aws_sqs_queue.events_dlq")
	qp := need(c.resources, "aws_sqs_queue_policy.events_dlq")
	refTo(qp, []string{"queue_url"}, "aws_sqs_queue.events_dlq")
	refTo(qp, []string{"policy"}, "data.aws_iam_policy_document.events_dlq")
	refTo(need(c.data, "aws_iam_policy_document.events_dlq"), []string{"statement", "condition", "values"}, "aws_cloudwatch_event_rule.object_created")

	// State machine: standard, own role, logs.
	sm := need(c.resources, "aws_sfn_state_machine.this")
	literal(sm, []string{"type"}, "STANDARD")
	refTo(sm, []string{"role_arn"}, "aws_iam_role.sfn")
	refTo(sm, []string{"logging_configuration", "log_destination"}, "aws_cloudwatch_log_group.sfn")

	// Sequence table, read by the allocator.
	tbl := need(c.resources, "aws_dynamodb_table.sequence")
	literal(tbl, []string{"billing_mode"}, "PAY_PER_REQUEST")
	literal(tbl, []string{"hash_key"}, "pk")
	refTo(tbl, []string{"deletion_protection_enabled"}, "var.sequence_table_deletion_protection")
	attr(t, tbl, "point_in_time_recovery", "enabled")
	attr(t, tbl, "server_side_encryption", "enabled")
	if v, _ := attr(t, tbl, "ttl", "attribute_name").Expr.Value(nil); v.AsString() != "expires_at" {
		t.Error("the sequence table's TTL attribute is not expires_at (shared/dedup.TTLAttribute)")
	}
	env := objectKeys(t, c.locals["function_env"].Expr)
	if e := objectKeys(t, env["allocator"])["FL2NF_SEQUENCE_TABLE"]; e == nil || !refersTo(e, "aws_dynamodb_table.sequence") {
		t.Error("the allocator's FL2NF_SEQUENCE_TABLE does not reference aws_dynamodb_table.sequence")
	}

	// Roles: the state machine invokes the functions, the rule starts it.
	docRefers := func(doc, target string) {
		t.Helper()
		for _, st := range statements(need(c.data, doc)) {
			if r := st.body.Attributes["resources"]; r != nil && refersTo(r.Expr, target) {
				return
			}
		}
		t.Errorf("no statement of %s is on %s", doc, target)
	}
	docRefers("aws_iam_policy_document.sfn", "aws_lambda_function.this")
	docRefers("aws_iam_policy_document.events", "aws_sfn_state_machine.this")

	// The sender is in the VPC with the module's security group.
	sg := need(c.resources, "aws_security_group.sender")
	refTo(sg, []string{"vpc_id"}, "var.vpc_id")
	rule := need(c.resources, "aws_vpc_security_group_egress_rule.receiver")
	literal(rule, []string{"ip_protocol"}, "udp")
	// One subnet (one source address) unless allowed otherwise; HTTPS to
	// DynamoDB for the send progress records.
	fn := c.source(need(c.resources, "aws_lambda_function.this").Range())
	if !strings.Contains(fn, "length(var.subnet_ids) == 1 || var.allow_multiple_sender_subnets") {
		t.Error("aws_lambda_function.this has no precondition limiting the sender to one subnet")
	}
	ddb := need(c.resources, "aws_vpc_security_group_egress_rule.dynamodb")
	refTo(ddb, []string{"prefix_list_id"}, "data.aws_prefix_list.dynamodb")

	// Staging: lifecycle expiry on the prefix, public access blocked.
	lc := need(c.resources, "aws_s3_bucket_lifecycle_configuration.staging")
	refTo(lc, []string{"rule", "filter", "prefix"}, "var.staging_prefix")
	refTo(lc, []string{"rule", "expiration", "days"}, "var.staging_expiration_days")
	need(c.resources, "aws_s3_bucket_public_access_block.staging")
	need(c.resources, "aws_s3_bucket_policy.staging")

	// Monitoring.
	for _, k := range []string{"aws_cloudwatch_metric_alarm.sfn", "aws_cloudwatch_metric_alarm.dlq", "aws_cloudwatch_metric_alarm.lambda_errors", "aws_cloudwatch_dashboard.this",
		"aws_cloudwatch_metric_alarm.idle", "aws_cloudwatch_metric_alarm.sequence_skipped", "aws_cloudwatch_event_rule.execution_failed", "aws_cloudwatch_event_target.execution_failed", "aws_sns_topic_policy.alarms"} {
		need(c.resources, k)
	}
	// Silence alarms: no datapoint at all is the broken input it is for.
	idle := c.source(need(c.resources, "aws_cloudwatch_metric_alarm.idle").Range())
	for _, want := range []string{`"ExecutionsStarted"`, `"LessThanThreshold"`, `treat_missing_data  = "breaching"`} {
		if !strings.Contains(idle, want) {
			t.Errorf("aws_cloudwatch_metric_alarm.idle lacks %s", want)
		}
	}
	// One notification per failed, timed-out or aborted execution.
	if rule := c.source(need(c.resources, "aws_cloudwatch_event_rule.execution_failed").Range()); !strings.Contains(rule, `"FAILED", "TIMED_OUT", "ABORTED"`) || !strings.Contains(rule, "Step Functions Execution Status Change") {
		t.Errorf("aws_cloudwatch_event_rule.execution_failed does not match failed executions:\n%s", rule)
	}
	if got := c.source(c.locals["sfn_alarms"].Expr.Range()); !strings.Contains(got, "ExecutionsFailed") || !strings.Contains(got, "ExecutionsTimedOut") {
		t.Error("local.sfn_alarms lacks ExecutionsFailed or ExecutionsTimedOut")
	}
	if v, _ := c.locals["metrics_namespace"].Expr.Value(nil); v.AsString() != "flowlogs2netflow" {
		t.Errorf("metrics namespace = %v", v)
	}

	// max_chunks cannot exceed the contract's bound.
	if got := c.source(c.variables["max_chunks"].Body.Blocks[0].Body.Attributes["condition"].Expr.Range()); !strings.Contains(got, "<= "+strconv.Itoa(contract.MaxChunks)) {
		t.Errorf("max_chunks validation %q does not bound it by contract.MaxChunks = %d", got, contract.MaxChunks)
	}
}

// Env is the Lambda environment contract: the variables each function
// reads (the lead's config loader reads exactly these).
var Env = map[string][]string{
	"splitter": {"FL2NF_CHUNK_SIZE", "FL2NF_FORMAT", "FL2NF_LOG_LEVEL", "FL2NF_MAX_CHUNKS", "FL2NF_RECEIVERS",
		"FL2NF_SEQUENCE_TABLE", "FL2NF_SMALL_OBJECT_BYTES", "FL2NF_STAGING_BUCKET", "FL2NF_STAGING_PREFIX"},
	"parser":    {"FL2NF_ADDRESS_MODE", "FL2NF_LOG_LEVEL", "FL2NF_MAX_LINE_BYTES", "FL2NF_STAGING_BUCKET"},
	"allocator": {"FL2NF_LOG_LEVEL", "FL2NF_SENDER_TIMEOUT_SECONDS", "FL2NF_SEQUENCE_TABLE", "FL2NF_STAGING_BUCKET"},
	"sender": {"FL2NF_ADDRESS_MODE", "FL2NF_CHUNK_SIZE", "FL2NF_FORMAT", "FL2NF_LOG_LEVEL", "FL2NF_MAX_CHUNKS", "FL2NF_MAX_LINE_BYTES",
		"FL2NF_RECEIVERS", "FL2NF_SENDER_TIMEOUT_SECONDS", "FL2NF_SEQUENCE_TABLE", "FL2NF_SMALL_OBJECT_BYTES", "FL2NF_STAGING_BUCKET", "FL2NF_STAGING_PREFIX", "FL2NF_TEMPLATE_REFRESH_PACKETS", "FL2NF_TEMPLATE_REFRESH_SECONDS"},
}

// TestEnvironment: each function gets exactly its variables, and README.md
// documents every one.
func TestEnvironment(t *testing.T) {
	c := load(t, module)
	env := objectKeys(t, c.locals["function_env"].Expr)
	got := map[string][]string{}
	all := map[string]bool{}
	for fn, e := range env {
		for k := range objectKeys(t, e) {
			got[fn] = append(got[fn], k)
			all[k] = true
		}
		sort.Strings(got[fn])
	}
	if diff := cmp.Diff(Env, got); diff != "" {
		t.Errorf("function environment (-want +got):\n%s", diff)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for k := range all {
		if !bytes.Contains(readme, []byte("`"+k+"`")) {
			t.Errorf("README.md does not document %s", k)
		}
	}
}

// TestIAM: every policy is an aws_iam_policy_document; Allow statements
// name no wildcard actions; "*" resources only where allowlisted; no
// NotAction/NotResource; flow-log objects are only read and only staging
// objects are written or deleted.
func TestIAM(t *testing.T) {
	// "*" resources: document/sid -> why the API needs it.
	allow := map[string]string{
		"lambda_base/XRay":            "X-Ray trace submission has no resource-level permissions",
		"sender/VpcNetworkInterfaces": "Lambda VPC ENIs are created at run time; ec2:Describe* has no resource-level permissions",
		"sfn/LogDelivery":             "CloudWatch Logs vended log delivery has no resource-level permissions",
		"sfn/XRay":                    "X-Ray trace submission has no resource-level permissions",
	}
	used := map[string]bool{}
	flowLogReads := []string{"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"}
	writes := []string{"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload"}
	c := load(t, module)
	for key, doc := range c.data {
		name, ok := strings.CutPrefix(key, "aws_iam_policy_document.")
		if !ok {
			continue
		}
		for _, st := range statements(doc) {
			where := name + "/" + st.sid
			if st.body.Attributes["not_actions"] != nil || st.body.Attributes["not_resources"] != nil {
				t.Errorf("%s: NotAction/NotResource", where)
			}
			actions, ok := literalStrings(st.body.Attributes["actions"].Expr)
			if !ok {
				t.Errorf("%s: actions are not literal strings", where)
			}
			allowEffect := true
			if e := st.body.Attributes["effect"]; e != nil {
				v, _ := e.Expr.Value(nil)
				allowEffect = v.AsString() == "Allow"
			}
			for _, a := range actions {
				if allowEffect && strings.Contains(a, "*") {
					t.Errorf("%s: Allow statement with wildcard action %q", where, a)
				}
			}
			res := st.body.Attributes["resources"]
			if res == nil {
				if !st.principals || !slices.Equal(actions, []string{"sts:AssumeRole"}) {
					t.Errorf("%s: no resources", where)
				}
				continue
			}
			if tup, ok := res.Expr.(*hclsyntax.TupleConsExpr); ok {
				for _, x := range tup.Exprs {
					v, diags := x.Value(nil)
					if len(x.Variables()) == 0 && !diags.HasErrors() && v.AsString() == "*" {
						if _, ok := allow[where]; !ok {
							t.Errorf("%s: resource \"*\" is not allowlisted", where)
						}
						used[where] = true
					}
				}
			}
			identity := !st.principals
			resRefs := refs(res.Expr)
			for _, a := range actions {
				if identity && slices.Contains(writes, a) && !slices.Equal(resRefs, []string{"local.staging_objects_arn"}) {
					t.Errorf("%s: %s on %v, want only local.staging_objects_arn", where, a, resRefs)
				}
			}
			if identity && (refersTo(res.Expr, "local.flow_log_objects_arn") || refersTo(res.Expr, "local.flow_log_bucket_arn")) {
				for _, a := range actions {
					if !slices.Contains(flowLogReads, a) {
						t.Errorf("%s: %s on the flow-log bucket", where, a)
					}
				}
			}
		}
	}
	for k := range allow {
		if !used[k] {
			t.Errorf("allowlist entry %s is not used any more", k)
		}
	}
	// Policies come from policy documents, never inline JSON.
	for key, b := range c.resources {
		for _, a := range []string{"policy", "assume_role_policy"} {
			at, ok := b.Body.Attributes[a]
			if !ok {
				continue
			}
			src := c.source(at.Expr.Range())
			if strings.Contains(src, "jsonencode") || !(refersTo(at.Expr, "data.aws_iam_policy_document") || refersTo(at.Expr, "local.lambda_policies")) {
				t.Errorf("%s.%s = %s, want a data.aws_iam_policy_document", key, a, src)
			}
		}
	}
	lp := objectKeys(t, c.locals["lambda_policies"].Expr)
	for _, fn := range statemachine.TaskStates {
		if e := lp[fn]; e == nil || !refersTo(e, "data.aws_iam_policy_document."+fn) {
			t.Errorf("local.lambda_policies[%s] is not data.aws_iam_policy_document.%s", fn, fn)
		}
	}
}

type statement struct {
	sid        string
	body       *hclsyntax.Body
	principals bool
}

// statements returns a policy document's statements, dynamic ones included.
func statements(doc *hclsyntax.Block) []statement {
	var out []statement
	for _, b := range doc.Body.Blocks {
		body := b.Body
		switch {
		case b.Type == "statement":
		case b.Type == "dynamic" && len(b.Labels) == 1 && b.Labels[0] == "statement":
			for _, inner := range b.Body.Blocks {
				if inner.Type == "content" {
					body = inner.Body
				}
			}
		default:
			continue
		}
		st := statement{body: body}
		if a := body.Attributes["sid"]; a != nil {
			v, _ := a.Expr.Value(nil)
			st.sid = v.AsString()
		}
		for _, inner := range body.Blocks {
			st.principals = st.principals || inner.Type == "principals"
		}
		out = append(out, st)
	}
	return out
}

// TestSchema checks every resource and data block of the module and the
// example against the hashicorp/aws 6.25.0 provider schema
// (<repo>/../shared/terraform/aws-provider-6.25-schema.json), and that the
// checker finds exactly the three planted problems of
// shared/tfcheck/testdata/broken.tf with the real schema too.
func TestSchema(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "terraform", "aws-provider-6.25-schema.json")
	if _, err := os.Stat(path); err != nil {
		integration(t, "AWS provider schema not found at "+path+" (CI has ../shared next to the repository): skipping the schema check")
	}
	s, err := tfcheck.LoadSchema(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != "6.25.0" {
		t.Errorf("schema version %q, want 6.25.0", s.Version)
	}
	t.Logf("checking against hashicorp/aws %s (%d resources, %d data sources)", s.Version, len(s.Resources), len(s.DataSources))
	problems, err := s.CheckDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s", p)
	}
	src, err := os.ReadFile(filepath.Join("..", "shared", "tfcheck", "testdata", "broken.tf"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.CheckFile("broken.tf", src)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, p := range got {
		msgs = append(msgs, p.String())
	}
	want := []string{
		`broken.tf:6: aws_lambda_function.broken: unknown argument "memory_sise"`,
		`broken.tf:9: aws_lambda_function.broken.environment: unknown block "varaibles"`,
		`broken.tf:4: aws_lambda_function.broken: missing required argument "role"`,
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("problems in broken.tf (-want +got):\n%s", diff)
	}
}

// TestModuleCall: the example passes only the module's variables and all
// its required ones.
func TestModuleCall(t *testing.T) {
	m := load(t, module)
	ex := load(t, example)
	call := ex.modules["flowlogs2netflow"]
	if call == nil {
		t.Fatal("examples/complete does not call the module")
	}
	if got := ex.source(call.Body.Attributes["source"].Expr.Range()); got != `"../.."` {
		t.Errorf("module source = %s", got)
	}
	for name := range call.Body.Attributes {
		if name == "source" || name == "providers" || name == "depends_on" {
			continue
		}
		if m.variables[name] == nil {
			t.Errorf("examples/complete passes unknown module argument %q", name)
		}
	}
	for name, v := range m.variables {
		if _, hasDefault := v.Body.Attributes["default"]; !hasDefault && call.Body.Attributes[name] == nil {
			t.Errorf("examples/complete misses required module argument %q", name)
		}
	}
	// The flow log uses the same format string as the module.
	fl := ex.resources["aws_flow_log.this"]
	if fl == nil {
		t.Fatal("examples/complete has no aws_flow_log.this")
	}
	if !refersTo(fl.Body.Attributes["log_format"].Expr, "local.log_format") || !refersTo(call.Body.Attributes["log_format"].Expr, "local.log_format") {
		t.Error("the flow log and the module do not share local.log_format")
	}
}
