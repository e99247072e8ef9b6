// Package statemachine embeds the flowlogs2netflow Step Functions definition
// (Amazon States Language, JSONPath flavour) and renders it for local runs
// and tests. Terraform renders the same file with templatefile()
// (terraform/sfn.tf), passing exactly Placeholders.
//
// The file is a Terraform template, so it holds no "${" other than the
// placeholders and no "%{" (a template directive); numeric placeholders are
// unquoted, so the file is JSON only once rendered.
package statemachine

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// File is the definition's file name in this directory.
const File = "flowlogs2netflow.asl.json"

//go:embed flowlogs2netflow.asl.json
var template string

// Placeholders are the template variables the definition uses; Terraform's
// templatefile() call passes exactly these (a test in terraform/ checks it).
var Placeholders = []string{
	"splitter_arn",
	"parser_arn",
	"allocator_arn",
	"sender_arn",
	"parse_max_concurrency",
	"send_max_concurrency",
	"execution_timeout_seconds",
	"small_object_bytes",
}

// TaskStates maps each Task state to the function it invokes (Convert is
// the sender function's whole-object mode, for small objects). Map
// iterations run ParseChunk (in Parse) and SendChunk (in SendStream, itself
// an iteration of Send). scripts/sfn-local.mjs takes a Task-state-to-endpoint
// mapping keyed by these names.
var TaskStates = map[string]string{
	"Convert":    "sender",
	"Plan":       "splitter",
	"ParseChunk": "parser",
	"Reserve":    "allocator",
	"SendChunk":  "sender",
}

// Template returns the unrendered definition.
func Template() string { return template }

var placeholderRe = regexp.MustCompile(`\$\{([^}]*)\}`)

// Render substitutes vars into the definition. It fails when vars misses a
// placeholder or has a name that is not one, when the template holds an
// unknown placeholder or a Terraform escape or directive, and when the
// result is not JSON.
func Render(vars map[string]string) ([]byte, error) {
	var errs []error
	if strings.Contains(template, "$${") || strings.Contains(template, "%{") {
		errs = append(errs, errors.New(`template holds "$${" or "%{", which Terraform would rewrite`))
	}
	for _, m := range placeholderRe.FindAllStringSubmatch(template, -1) {
		if !slices.Contains(Placeholders, m[1]) {
			errs = append(errs, fmt.Errorf("template uses unknown placeholder ${%s}", m[1]))
		}
	}
	var unknown []string
	for k := range vars {
		if !slices.Contains(Placeholders, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		errs = append(errs, fmt.Errorf("unknown variable %q", k))
	}
	for _, p := range Placeholders {
		if _, ok := vars[p]; !ok {
			errs = append(errs, fmt.Errorf("missing variable %q", p))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("render %s: %w", File, err)
	}
	out := placeholderRe.ReplaceAllStringFunc(template, func(s string) string {
		return vars[s[2:len(s)-1]]
	})
	if !json.Valid([]byte(out)) {
		var v any
		err := json.Unmarshal([]byte(out), &v)
		return nil, fmt.Errorf("render %s: result is not JSON: %w", File, err)
	}
	return []byte(out), nil
}

// LocalVars returns variables for local runs and tests: Lambda ARNs of
// functions named flowlogs2netflow-<fn> in account 123456789012, us-east-1,
// small concurrency limits, and a 64 KiB small-object threshold.
func LocalVars() map[string]string {
	arn := func(fn string) string {
		return "arn:aws:lambda:us-east-1:123456789012:function:flowlogs2netflow-" + fn
	}
	return map[string]string{
		"splitter_arn":              arn("splitter"),
		"parser_arn":                arn("parser"),
		"allocator_arn":             arn("allocator"),
		"sender_arn":                arn("sender"),
		"parse_max_concurrency":     "4",
		"send_max_concurrency":      "2",
		"execution_timeout_seconds": "3600",
		"small_object_bytes":        "65536",
	}
}
