// Package terraform holds only tests: static checks of the Terraform module
// in this directory and of examples/complete (terraform fmt, documentation,
// wiring, IAM, the ASL placeholders, the EventBridge input shape and the
// AWS provider schema).
package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/tfcheck"
)

// config is the parsed .tf files of one directory.
type config struct {
	dir       string
	src       map[string][]byte // file name -> source
	resources map[string]*hclsyntax.Block
	data      map[string]*hclsyntax.Block
	variables map[string]*hclsyntax.Block
	outputs   map[string]*hclsyntax.Block
	modules   map[string]*hclsyntax.Block
	locals    map[string]*hclsyntax.Attribute
	localFile map[string]string // local name -> file
	terraform []*hclsyntax.Block
}

func load(t *testing.T, dir string) *config {
	t.Helper()
	c := &config{
		dir: dir, src: map[string][]byte{},
		resources: map[string]*hclsyntax.Block{}, data: map[string]*hclsyntax.Block{},
		variables: map[string]*hclsyntax.Block{}, outputs: map[string]*hclsyntax.Block{},
		modules: map[string]*hclsyntax.Block{}, locals: map[string]*hclsyntax.Attribute{},
		localFile: map[string]string{},
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .tf files in %s (%v)", dir, err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		c.src[name] = src
		body, err := tfcheck.ParseFile(name, src)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range body.Blocks {
			key := strings.Join(b.Labels, ".")
			var m map[string]*hclsyntax.Block
			switch b.Type {
			case "resource":
				m = c.resources
			case "data":
				m = c.data
			case "variable":
				m = c.variables
			case "output":
				m = c.outputs
			case "module":
				m = c.modules
			case "terraform":
				c.terraform = append(c.terraform, b)
				continue
			case "locals":
				for n, a := range b.Body.Attributes {
					if _, dup := c.locals[n]; dup {
						t.Errorf("%s: local %s defined twice", name, n)
					}
					c.locals[n] = a
					c.localFile[n] = name
				}
				continue
			default:
				continue
			}
			if _, dup := m[key]; dup {
				t.Errorf("%s: %s %s defined twice", name, b.Type, key)
			}
			m[key] = b
		}
	}
	return c
}

var (
	module  = "."
	example = filepath.Join("examples", "complete")
)

// source returns the source text of a node.
func (c *config) source(r hcl.Range) string {
	return string(r.SliceBytes(c.src[r.Filename]))
}

// attr returns a block's attribute or fails.
func attr(t *testing.T, b *hclsyntax.Block, path ...string) *hclsyntax.Attribute {
	t.Helper()
	body := b.Body
	for _, p := range path[:len(path)-1] {
		var next *hclsyntax.Body
		for _, nb := range body.Blocks {
			if nb.Type == p {
				next = nb.Body
			}
		}
		if next == nil {
			t.Fatalf("%s %v: no block %q", b.Type, b.Labels, p)
		}
		body = next
	}
	a, ok := body.Attributes[path[len(path)-1]]
	if !ok {
		t.Fatalf("%s %v: no attribute %v", b.Type, b.Labels, path)
	}
	return a
}

// refs renders the traversals an expression references, like
// aws_lambda_function.this["splitter"].arn or var.name.
func refs(e hclsyntax.Expression) []string {
	var out []string
	for _, tr := range e.Variables() {
		var sb strings.Builder
		for i, step := range tr {
			switch s := step.(type) {
			case hcl.TraverseRoot:
				sb.WriteString(s.Name)
			case hcl.TraverseAttr:
				sb.WriteString("." + s.Name)
			case hcl.TraverseIndex:
				if s.Key.Type().FriendlyName() == "string" {
					fmt.Fprintf(&sb, "[%q]", s.Key.AsString())
				} else {
					sb.WriteString("[*]")
				}
			default:
				_ = i
			}
		}
		out = append(out, sb.String())
	}
	sort.Strings(out)
	return out
}

// refersTo reports whether e references something starting with prefix
// (e.g. "aws_sfn_state_machine.this").
func refersTo(e hclsyntax.Expression, prefix string) bool {
	for _, r := range refs(e) {
		if r == prefix || strings.HasPrefix(r, prefix+".") || strings.HasPrefix(r, prefix+"[") {
			return true
		}
	}
	return false
}

// literalStrings returns the literal strings of a tuple expression, and
// false if any element is not a literal string.
func literalStrings(e hclsyntax.Expression) ([]string, bool) {
	tup, ok := e.(*hclsyntax.TupleConsExpr)
	if !ok {
		return nil, false
	}
	var out []string
	for _, x := range tup.Exprs {
		if len(x.Variables()) > 0 {
			return out, false
		}
		v, diags := x.Value(nil)
		if diags.HasErrors() || v.Type().FriendlyName() != "string" {
			return out, false
		}
		out = append(out, v.AsString())
	}
	return out, true
}

// objectKeys returns the keys of an object constructor expression.
func objectKeys(t *testing.T, e hclsyntax.Expression) map[string]hclsyntax.Expression {
	t.Helper()
	obj, ok := e.(*hclsyntax.ObjectConsExpr)
	if !ok {
		t.Fatalf("%s: not an object constructor", e.Range())
	}
	out := map[string]hclsyntax.Expression{}
	for _, it := range obj.Items {
		k := hcl.ExprAsKeyword(it.KeyExpr)
		if k == "" {
			v, diags := it.KeyExpr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("%s: key is not a literal", it.KeyExpr.Range())
			}
			k = v.AsString()
		}
		out[k] = it.ValueExpr
	}
	return out
}

// integration skips (or, with FL2NF_REQUIRE_INTEGRATION=1, fails) a test
// whose external input is missing.
func integration(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("FL2NF_REQUIRE_INTEGRATION") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
