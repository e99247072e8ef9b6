// Package tfcheck checks Terraform configurations without Terraform or
// provider binaries: it parses .tf files with hcl/v2 and checks every
// resource and data block of an aws_* type against a provider schema file
// (../shared/terraform/aws-provider-<version>-schema.json: arguments,
// required flags and nested blocks of every resource and data source,
// derived from the provider's own schema).
//
// It reports unknown types, unknown arguments, unknown nested blocks,
// arguments written as blocks and blocks written as arguments, missing
// required arguments and blocks, and computed-only attributes that are set.
// Meta-arguments (count, for_each, provider, depends_on) and the lifecycle,
// provisioner and connection blocks are allowed at the top of a block;
// dynamic "x" { content { ... } } counts as block x and its content is
// checked as x.
//
// The schema omits computed-only attributes (they can be referenced, not
// set), so an unlisted argument is reported as "not settable" when its name
// is a well-known computed attribute (ComputedNames) and as unknown
// otherwise.
package tfcheck

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Attribute is one argument in the schema.
type Attribute struct {
	Required bool   `json:"required"`
	Type     string `json:"type"`
}

// Block is the schema of a resource, data source or nested block.
type Block struct {
	Attributes map[string]Attribute `json:"attributes"`
	Blocks     map[string]*Nested   `json:"blocks"`
}

// Nested is a nested block: its schema plus whether it is required and
// repeatable.
type Nested struct {
	Block
	Required bool `json:"required"`
	List     bool `json:"list"`
}

// Schema is a provider schema file.
type Schema struct {
	Version       string            `json:"version"`
	Source        string            `json:"source"`
	MetaArguments []string          `json:"meta_arguments"`
	Resources     map[string]*Block `json:"resources"`
	DataSources   map[string]*Block `json:"data_sources"`
}

// LoadSchema reads a schema file.
func LoadSchema(path string) (*Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load schema: %w", err)
	}
	var s Schema
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("load schema %s: %w", path, err)
	}
	if len(s.Resources) == 0 {
		return nil, fmt.Errorf("load schema %s: no resources", path)
	}
	return &s, nil
}

// Problem is one finding, at a file and line.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// ComputedNames are attribute names that providers compute and never take
// as arguments; set on a block whose schema does not list them, they are
// reported as not settable.
var ComputedNames = []string{
	"arn", "arn_suffix", "bucket_domain_name", "bucket_regional_domain_name", "creation_date",
	"create_date", "creation_time", "dns_entry", "dns_name", "hosted_zone_id", "invoke_arn",
	"last_modified", "network_interface_ids", "owner_id", "qualified_arn", "qualified_invoke_arn",
	"requester_managed", "revision_id", "security_group_rule_id", "signing_job_arn",
	"signing_profile_version_arn", "source_code_size", "state_machine_version_arn", "status",
	"stream_arn", "stream_label", "unique_id", "url", "version", "website_domain", "website_endpoint",
}

// Top-level meta-arguments and blocks of resource and data blocks.
var (
	metaArguments = []string{"count", "for_each", "provider", "depends_on"}
	metaBlocks    = []string{"lifecycle", "provisioner", "connection"}
)

// ParseFile parses one .tf file in native syntax.
func ParseFile(path string, src []byte) (*hclsyntax.Body, error) {
	f, diags := hclparse.NewParser().ParseHCL(src, path)
	if diags.HasErrors() {
		return nil, fmt.Errorf("parse %s: %s", path, diags.Error())
	}
	return f.Body.(*hclsyntax.Body), nil
}

// CheckFile checks the resource and data blocks of one file; name is used
// in problem positions.
func (s *Schema) CheckFile(name string, src []byte) ([]Problem, error) {
	body, err := ParseFile(name, src)
	if err != nil {
		return nil, err
	}
	var c checker
	c.file = name
	for _, b := range body.Blocks {
		if len(b.Labels) < 2 || !strings.HasPrefix(b.Labels[0], "aws_") {
			continue
		}
		var (
			types map[string]*Block
			kind  string
		)
		switch b.Type {
		case "resource":
			types, kind = s.Resources, "resource"
		case "data":
			types, kind = s.DataSources, "data source"
		default:
			continue
		}
		where := b.Labels[0] + "." + b.Labels[1]
		if b.Type == "data" {
			where = "data." + where
		}
		schema, ok := types[b.Labels[0]]
		if !ok {
			c.add(b.TypeRange, "%s: unknown %s type %q", where, kind, b.Labels[0])
			continue
		}
		c.body(where, b.TypeRange, b.Body, schema, true)
	}
	return c.problems, nil
}

// CheckDir checks every .tf file under root (skipping .terraform
// directories); problem file names are relative to root.
func (s *Schema) CheckDir(root string) ([]Problem, error) {
	var all []Problem
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if d.IsDir() || filepath.Ext(path) != ".tf" {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		ps, err := s.CheckFile(rel, src)
		all = append(all, ps...)
		return err
	})
	return all, err
}

type checker struct {
	file     string
	problems []Problem
}

func (c *checker) add(r hcl.Range, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: c.file, Line: r.Start.Line, Msg: fmt.Sprintf(format, args...)})
}

// body checks one block body against its schema; at is the block's
// position, for missing arguments and blocks.
func (c *checker) body(where string, at hcl.Range, body *hclsyntax.Body, schema *Block, top bool) {
	names := make([]string, 0, len(body.Attributes))
	for n := range body.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := body.Attributes[n]
		switch {
		case top && slices.Contains(metaArguments, n):
		case hasAttr(schema, n):
		case schema.Blocks[n] != nil:
			c.add(a.NameRange, "%s: %q is a block, not an argument", where, n)
		case slices.Contains(ComputedNames, n):
			c.add(a.NameRange, "%s: argument %q is computed-only, not settable", where, n)
		default:
			c.add(a.NameRange, "%s: unknown argument %q", where, n)
		}
	}
	seen := map[string]bool{}
	for _, b := range body.Blocks {
		name := b.Type
		content := b.Body
		if b.Type == "dynamic" {
			if len(b.Labels) != 1 {
				c.add(b.TypeRange, "%s: dynamic block without a name", where)
				continue
			}
			name = b.Labels[0]
			content = nil
			for _, inner := range b.Body.Blocks {
				if inner.Type == "content" {
					content = inner.Body
				}
			}
			if content == nil {
				c.add(b.TypeRange, "%s: dynamic %q has no content block", where, name)
				continue
			}
		}
		if top && slices.Contains(metaBlocks, name) {
			continue
		}
		seen[name] = true
		nested, ok := schema.Blocks[name]
		switch {
		case ok:
			c.body(where+"."+name, b.TypeRange, content, &nested.Block, false)
		case hasAttr(schema, name) && blockLike(schema.Attributes[name].Type):
			// An attribute of object type written as a block
			// (attributes-as-blocks, e.g. aws_security_group ingress).
		case hasAttr(schema, name):
			c.add(b.TypeRange, "%s: %q is an argument, not a block", where, name)
		default:
			c.add(b.TypeRange, "%s: unknown block %q", where, name)
		}
	}
	for _, n := range sortedKeys(schema.Attributes) {
		if schema.Attributes[n].Required && body.Attributes[n] == nil {
			c.add(at, "%s: missing required argument %q", where, n)
		}
	}
	for _, n := range sortedKeys(schema.Blocks) {
		if schema.Blocks[n].Required && !seen[n] {
			c.add(at, "%s: missing required block %q", where, n)
		}
	}
}

func hasAttr(b *Block, n string) bool {
	_, ok := b.Attributes[n]
	return ok
}

func blockLike(typ string) bool { return typ == "array" || typ == "object" || typ == "any" }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
