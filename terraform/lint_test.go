package terraform

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tool finds a linter on PATH, or skips (fails with
// FL2NF_REQUIRE_INTEGRATION=1).
func tool(t *testing.T, name, install string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		integration(t, name+" not on PATH: "+install)
	}
	return bin
}

// TestTFLint runs tflint (bundled terraform ruleset, offline) with
// .tflint.hcl on the module and the example.
func TestTFLint(t *testing.T) {
	bin := tool(t, "tflint", "go install github.com/terraform-linters/tflint@v0.64.0")
	cfg, err := filepath.Abs(".tflint.hcl")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{module, example} {
		cmd := exec.CommandContext(t.Context(), bin, "--chdir="+dir, "--config="+cfg, "--no-color")
		cmd.Env = append(os.Environ(), "TFLINT_LOG=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("tflint --chdir=%s: %v\n%s", dir, err, out)
		}
	}
}

// TestTFSec runs tfsec on the module and the example: no unignored finding
// of any severity.
func TestTFSec(t *testing.T) {
	bin := tool(t, "tfsec", "go install github.com/aquasecurity/tfsec/cmd/tfsec@v1.26.0")
	for _, dir := range []string{module, example} {
		cmd := exec.CommandContext(t.Context(), bin, dir, "--no-color", "--format", "json", "--soft-fail", "--no-module-downloads")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tfsec %s: %v\n%s", dir, err, out)
		}
		var res struct {
			Results []struct {
				RuleID      string `json:"rule_id"`
				LongID      string `json:"long_id"`
				Severity    string `json:"severity"`
				Description string `json:"description"`
				Location    struct {
					Filename  string `json:"filename"`
					StartLine int    `json:"start_line"`
				} `json:"location"`
			} `json:"results"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("tfsec %s output: %v\n%s", dir, err, out)
		}
		for _, r := range res.Results {
			t.Errorf("tfsec %s: %s:%d: %s %s (%s): %s", dir, r.Location.Filename, r.Location.StartLine,
				r.Severity, r.LongID, r.RuleID, r.Description)
		}
	}
}

// TestIgnoresHaveReasons: every inline tfsec/trivy ignore names its rule
// and says why.
func TestIgnoresHaveReasons(t *testing.T) {
	re := regexp.MustCompile(`#\s*(tfsec|trivy):ignore:(\S*)(.*)`)
	n := 0
	for _, dir := range []string{module, example} {
		for name, src := range load(t, dir).src {
			for i, line := range strings.Split(string(src), "\n") {
				m := re.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				n++
				if !regexp.MustCompile(`^[a-z0-9-]+$`).MatchString(m[2]) || len(strings.Fields(m[3])) < 3 {
					t.Errorf("%s/%s:%d: ignore without a rule id and a reason: %s", dir, name, i+1, strings.TrimSpace(line))
				}
			}
		}
	}
	if n == 0 {
		t.Error("no tfsec ignores found; update this test if none are needed any more")
	}
}
