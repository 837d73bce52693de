// Command hermes records, replays and tampers with the system calls of
// Linux programs.
//
//	hermes trace [flags] -- CMD ARGS...   trace like strace -f
//	hermes trace -p PID                    attach to a running process
//
// hermes exits with the traced program's exit status (128+N if a signal N
// killed it), 125 for its own errors, 126 when the command cannot be
// executed, 127 when it cannot be found and 123 when a replay diverged
// from its recording (README.md, "Exit statuses", has them all).
package main

import (
	"errors"
	"fmt"
	hrun "github.com/hermes-trace/hermes/internal/run"
	"io"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// Exit codes of hermes's own failures, as env(1) and timeout(1) use them,
// and of a replay that diverged from its recording.
const (
	exitDiverged   = 123
	exitError      = 125
	exitCannotExec = 126
	exitNotFound   = 127
)

// exitCode carries a status to exit with through cobra's error return.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	if path := os.Getenv("HERMES_CPUPROFILE"); path != "" {
		// A development aid: profile hermes itself (go tool pprof).
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			code := run(os.Args[1:], os.Stdout, os.Stderr)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "hermes: %v\n", ue.err)
		return exitError
	}
	var ce *codedError
	if errors.As(err, &ce) {
		fmt.Fprintf(stderr, "hermes: %v\n", ce.err)
		return ce.code
	}
	fmt.Fprintf(stderr, "hermes: %v\n", err)
	return exitError
}

// usageError is a bad command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

// codedError is an error with its own exit status.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	hrun.Version = version
	root := &cobra.Command{
		Use:   "hermes",
		Short: "Record, replay and tamper with the system calls of Linux programs",
		Long: `hermes traces the system calls of Linux programs with ptrace and seccomp-BPF.

Exit status: the traced program's (128+N when signal N killed it); 125 when
hermes itself fails (or, with --strict, its fault script did); 126 when the
command cannot be executed; 127 when it cannot be found; 123 when a replay
diverged from its recording; replay --check: the check's. When several
apply, the first of these wins: hermes's failure, a divergence, --check's
status, the target's.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Suggestions make the error several lines long.
		DisableSuggestions: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(newTraceCmd(stderr), newRecordCmd(stderr), newReplayCmd(stderr), newDumpCmd(stdout, stderr), newStatsCmd(stdout, stderr),
		newCheckCmd(), newPoliciesCmd(), newExploreCmd(stdout, stderr), newExportCmd(stderr), newInfoCmd(stdout, stderr),
		newVersionCmd(stdout))
	return root
}
