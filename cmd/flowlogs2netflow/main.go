// Command flowlogs2netflow converts Amazon VPC Flow Logs into NetFlow v5,
// NetFlow v9 or IPFIX datagrams and sends them to collectors over UDP. The
// same pipeline the Lambdas run, in one process, with embedded defaults.
//
// Exit codes: 0 ok, 1 runtime failure (an object that failed, a damaged
// or locked sequence store, S3 errors, a bug), 2 usage or configuration
// error (nothing was sent).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

var version = "dev"

// usageError marks errors that exit with status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

const usage = `flowlogs2netflow converts Amazon VPC Flow Logs into NetFlow v5, v9 or IPFIX.

Usage:
  flowlogs2netflow run --to URL [--to URL]... [flags] INPUT...
  flowlogs2netflow generate --lines N [--seed S] [-o FILE] [flags]
  flowlogs2netflow plan [--chunk-size SIZE] FILE
  flowlogs2netflow reprocess --state-machine ARN (s3://bucket/key | s3://bucket/prefix/ | --bucket B --from T --to T) [flags]
  flowlogs2netflow version

Run "flowlogs2netflow COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var cmd func() error
	switch args[0] {
	case "run":
		cmd = func() error { return cmdRun(ctx, args[1:], stdin, stdout, stderr) }
	case "generate":
		cmd = func() error { return cmdGenerate(ctx, args[1:], stdout, stderr) }
	case "plan":
		cmd = func() error { return cmdPlan(ctx, args[1:], stdout, stderr) }
	case "reprocess":
		cmd = func() error { return cmdReprocess(ctx, args[1:], stdout, stderr) }
	case "version", "--version":
		fmt.Fprintln(stdout, "flowlogs2netflow", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "flowlogs2netflow: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := guarded(cmd, stderr)
	if err == nil {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		if !errors.Is(err, errHelp) {
			fmt.Fprintf(stderr, "flowlogs2netflow %s: %v\n", args[0], err)
		}
		return 2
	}
	fmt.Fprintf(stderr, "flowlogs2netflow %s: %v\n", args[0], err)
	return 1
}

var errHelp = errors.New("help requested")

// guarded runs a command and turns a panic, which is always a bug, into
// an error (exit 1) with a message asking for a report, the stack on
// stderr, instead of Go's crash and its exit 2 (the usage-error code).
func guarded(cmd func() error, stderr io.Writer) (err error) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "%s\n", debug.Stack())
			err = fmt.Errorf("internal error (a bug: please report it with this message and the stack above, %s): %v", version, p)
		}
	}()
	return cmd()
}
