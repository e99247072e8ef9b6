package functions_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/dynalite"
)

// lambdaFn is one function's bootstrap running under its own Lambda
// Runtime Interface Emulator.
type lambdaFn struct {
	name string
	url  string
	cmd  *exec.Cmd
	log  *syncBuffer
}

// invocations counts the invocations the RIE has started ("START
// RequestId" lines in its log).
func (f *lambdaFn) invocations() int { return strings.Count(f.log.String(), "START RequestId") }

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// findRIE locates aws-lambda-rie on PATH or in the repository's .cache/bin
// (make deps installs it there).
func findRIE(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	p := filepath.Join(repoRoot(t), ".cache", "bin", "aws-lambda-rie")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if os.Getenv("FL2NF_REQUIRE_INTEGRATION") == "1" {
		t.Fatal("aws-lambda-rie not found (make deps installs it into .cache/bin)")
	}
	t.Skip("aws-lambda-rie not installed (make deps)")
	return ""
}

// buildBootstraps builds the four functions as Lambda bootstraps.
func buildBootstraps(t *testing.T, names ...string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	root := repoRoot(t)
	out := map[string]string{}
	for _, n := range names {
		bin := filepath.Join(dir, n, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./functions/"+n)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", n, err, b)
		}
		out[n] = bin
	}
	return out
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRIE runs bootstrap under the emulator with env and waits until it
// accepts connections.
func startRIE(t *testing.T, rie, name, bootstrap string, env []string) *lambdaFn {
	t.Helper()
	p, q := freeTCPPort(t), freeTCPPort(t)
	f := &lambdaFn{name: name, url: fmt.Sprintf("http://127.0.0.1:%d", p), log: &syncBuffer{}}
	f.cmd = exec.Command(rie,
		"--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", p),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", q),
		bootstrap)
	f.cmd.Dir = filepath.Dir(bootstrap)
	f.cmd.Env = append(append([]string{}, env...), "AWS_LAMBDA_FUNCTION_NAME=flowlogs2netflow-"+name, "AWS_LAMBDA_FUNCTION_TIMEOUT=300")
	f.cmd.Stdout, f.cmd.Stderr = f.log, f.log
	if err := f.cmd.Start(); err != nil {
		t.Fatalf("start RIE for %s: %v", name, err)
	}
	t.Cleanup(func() {
		f.cmd.Process.Kill()
		f.cmd.Wait()
		if t.Failed() {
			t.Logf("== %s log ==\n%s", name, tail(f.log.String(), 4000))
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			c.Close()
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("RIE for %s did not open its port: %v\n%s", name, err, f.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func repoRoot(t *testing.T) string {
	t.Helper()
	r, err := dynalite.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}
