// Package dynalite starts dynalite (a DynamoDB stand-in on LevelDB or in
// memory, from scripts/node/node_modules) for tests, and builds SDK clients
// for it.
//
// The server is a child process of the test binary: Start picks a free
// loopback port itself (dynalite's --port 0 means 4567), waits until dynalite
// says it listens and the port accepts, and stops it (SIGTERM, then wait) in
// t.Cleanup. When node or the dynalite module is missing the test is skipped,
// unless FL2NF_REQUIRE_INTEGRATION=1, when it fails.
package dynalite

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// RequireEnv names the environment variable that turns a missing node or
// dynalite into a test failure instead of a skip.
const RequireEnv = "FL2NF_REQUIRE_INTEGRATION"

// cliPath is dynalite's command-line entry point, relative to the repository
// root.
const cliPath = "scripts/node/node_modules/dynalite/cli.js"

// Options configure a dynalite server.
type Options struct {
	// Path is the LevelDB directory. Empty keeps the data in memory, and it
	// is lost when the server stops; with a Path, a restart (or a new server
	// on the same Path) sees the same tables and items.
	Path string
	// MaxItemSizeKB overrides dynalite's item-size limit (default 400, as
	// DynamoDB).
	MaxItemSizeKB int
}

// Server is a running dynalite process.
type Server struct {
	opts     Options
	node     string
	cli      string
	port     int
	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	output   *syncBuffer
	stopOnce *sync.Once
}

// Start starts dynalite for t and returns its endpoint URL
// ("http://127.0.0.1:PORT"). It stops in t.Cleanup.
func Start(t testing.TB, opts Options) string {
	t.Helper()
	return StartServer(t, opts).Endpoint()
}

// StartServer is Start returning the server, for tests that stop or restart
// it.
func StartServer(t testing.TB, opts Options) *Server {
	t.Helper()
	node, cli := locate(t)
	s := &Server{opts: opts, node: node, cli: cli}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var port int
		port, err = freePort()
		if err != nil {
			break
		}
		if err = s.start(port); err == nil {
			t.Cleanup(func() {
				if err := s.Stop(); err != nil {
					t.Errorf("stop dynalite: %v", err)
				}
			})
			return s
		}
		// Someone else may have taken the port between our probe and
		// dynalite's listen: try another.
	}
	t.Fatalf("start dynalite: %v", err)
	return nil
}

// Endpoint is the server's URL.
func (s *Server) Endpoint() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://127.0.0.1:" + strconv.Itoa(s.port)
}

// Stop terminates the server (SIGTERM, then SIGKILL after 5 s) and waits for
// it to exit. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	cmd, exited, once := s.cmd, s.exited, s.stopOnce
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	once.Do(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	return nil
}

// Restart stops the server and starts it again with the same options and,
// if it is still free, the same port (so existing clients keep working).
// With Options.Path set the data survives. It returns the endpoint.
func (s *Server) Restart(t testing.TB) string {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Fatalf("restart dynalite: %v", err)
	}
	s.mu.Lock()
	port := s.port
	s.mu.Unlock()
	err := s.start(port)
	for attempt := 0; err != nil && attempt < 5; attempt++ {
		if port, err = freePort(); err == nil {
			err = s.start(port)
		}
	}
	if err != nil {
		t.Fatalf("restart dynalite: %v", err)
	}
	return s.Endpoint()
}

// Output is what dynalite printed so far (stdout and stderr), for failure
// messages.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.output == nil {
		return ""
	}
	return s.output.String()
}

func (s *Server) start(port int) error {
	args := []string{s.cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}
	if s.opts.Path != "" {
		if err := os.MkdirAll(s.opts.Path, 0o755); err != nil {
			return fmt.Errorf("dynalite data dir: %w", err)
		}
		args = append(args, "--path", s.opts.Path)
	}
	if s.opts.MaxItemSizeKB > 0 {
		args = append(args, "--maxItemSizeKb", strconv.Itoa(s.opts.MaxItemSizeKB))
	}
	cmd := exec.Command(s.node, args...)
	cmd.SysProcAttr = sysProcAttr()
	out := &syncBuffer{}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s %s: %w", s.node, strings.Join(args, " "), err)
	}
	exited := make(chan struct{})
	listening := make(chan struct{})
	go func() {
		// Copy stdout into the buffer, noticing the "listening" line.
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			out.Write(append(sc.Bytes(), '\n'))
			if !signalled && strings.Contains(sc.Text(), "listening at") {
				close(listening)
				signalled = true
			}
		}
		_, _ = io.Copy(out, stdout)
		_ = cmd.Wait()
		close(exited)
	}()

	s.mu.Lock()
	s.cmd, s.exited, s.output, s.port, s.stopOnce = cmd, exited, out, port, &sync.Once{}
	s.mu.Unlock()

	fail := func(why string) error {
		_ = cmd.Process.Kill()
		<-exited
		s.mu.Lock()
		s.cmd = nil
		s.mu.Unlock()
		return fmt.Errorf("dynalite on port %d %s; output:\n%s", port, why, out.String())
	}
	deadline := time.After(20 * time.Second)
	select {
	case <-listening:
	case <-exited:
		return fail("exited before listening")
	case <-deadline:
		return fail("did not listen within 20s")
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return fail("exited")
		case <-deadline:
			return fail("port did not accept within 20s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// locate finds node and dynalite's cli.js, or skips (fails) t.
func locate(t testing.TB) (node, cli string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s (%s=1)", msg, RequireEnv)
		}
		t.Skipf("%s; run `npm ci --prefix scripts/node` (set %s=1 to fail instead)", msg, RequireEnv)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("dynalite needs node, not found on PATH")
	}
	root, err := RepoRoot()
	if err != nil {
		missing("dynalite: %v", err)
	}
	cli = filepath.Join(root, cliPath)
	if _, err := os.Stat(cli); err != nil {
		missing("dynalite is not installed: %v", err)
	}
	return node, cli
}

// RepoRoot walks up from the working directory to the directory holding
// go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Client returns a DynamoDB client for endpoint with static test credentials
// in us-east-1, keeping up to 128 idle connections (the SDK's default of 10
// makes concurrent tests reconnect all the time). optFns adjust it further.
func Client(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = 128
		tr.MaxIdleConnsPerHost = 128
	})
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDDYNALITE", "dynalite", ""),
		HTTPClient:   httpClient,
	}, optFns...)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
