// Package shared_test holds repository-wide hygiene checks.
package shared_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/flowlogs2netflow/flowlogs2netflow/"

// codecs may import only the standard library and the listed packages of
// this module: parsing and encoding never depend on AWS or on I/O
// frameworks, so they can be fuzzed, benchmarked and reused alone.
var codecs = map[string][]string{
	"shared/flow":          nil,
	"shared/flowlog":       {"shared/flow"},
	"shared/flowgen":       {"shared/flowlog"},
	"shared/netflow":       {"shared/flow"},
	"shared/netflow/ie":    {"shared/flow"},
	"shared/netflow/nfv5":  {"shared/flow", "shared/netflow"},
	"shared/netflow/nfv9":  {"shared/flow", "shared/netflow", "shared/netflow/ie"},
	"shared/netflow/ipfix": {"shared/flow", "shared/netflow", "shared/netflow/ie"},
	"shared/inflate":       nil,
	"shared/gzindex":       {"shared/inflate"},
	"shared/chunk":         {"shared/gzindex", "shared/inflate"},
	"shared/staging":       {"shared/netflow"},
}

// awsAllowed are the only packages that may import the AWS SDK or the
// Lambda runtime: the adapters, the stores, the handlers and the mains.
var awsAllowed = []string{
	"shared/awsio", "shared/lambdaboot", "shared/handler", "shared/seq/dynamoseq", "shared/progress/dynamoprogress", "shared/dedup",
	"shared/reprocess", "shared/fakes3", "shared/dynalite", "cmd/", "functions/",
}

func listImports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkgs[strings.TrimPrefix(f[0], module)] = f[1:]
	}
	return pkgs
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func TestCodecImports(t *testing.T) {
	pkgs := listImports(t)
	for pkg, allowed := range codecs {
		imports, ok := pkgs[pkg]
		if !ok {
			t.Errorf("package %s not found", pkg)
			continue
		}
	next:
		for _, imp := range imports {
			if isStd(imp) {
				continue
			}
			for _, a := range allowed {
				if imp == module+a {
					continue next
				}
			}
			t.Errorf("%s imports %s; codec packages may import only the standard library and %v", pkg, imp, allowed)
		}
	}
}

func TestAWSImportsStayAtTheEdges(t *testing.T) {
	for pkg, imports := range listImports(t) {
		for _, imp := range imports {
			if !strings.HasPrefix(imp, "github.com/aws/") {
				continue
			}
			ok := false
			for _, a := range awsAllowed {
				if pkg == a || strings.HasPrefix(pkg, a) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s imports %s; only %v may use the AWS SDK", pkg, imp, awsAllowed)
			}
		}
	}
}
