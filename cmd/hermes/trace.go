package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/hermes-trace/hermes/inject"
	hrun "github.com/hermes-trace/hermes/internal/run"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

type traceOpts struct {
	output      string
	exprs       []string
	pid         int
	strSize     int
	times       timeFlags
	follow      int
	separately  bool
	noPin       bool
	inject      injectOpts
	summaryOnly bool
	summary     bool
	successful  bool
	failed      bool
	paths       []string
	fds         int
	stacks      bool
}

func newTraceCmd(stderr io.Writer) *cobra.Command {
	var o traceOpts
	cmd := &cobra.Command{
		Use:   "trace [flags] [--] CMD [ARGS...] | trace -p PID",
		Short: "Trace system calls like strace -f",
		Long: `Run CMD (or attach to PID) and print every traced system call, signal and
exit as strace -f does.

A launched command gets a seccomp-BPF filter so that only the selected calls
stop in hermes; the rest run at native speed. An attached process is traced
with syscall stops and left running when hermes is interrupted.`,
		Example: `  hermes trace -- cat /etc/hostname
  hermes trace -e trace=openat,read -o out.txt -- ls /
  hermes trace -e trace=%network -p 1234
  hermes trace -e inject=write:error=ENOSPC:when=3 -- ./app
  hermes trace --inject builtin:deny-path --param prefix=/etc/passwd -- cat /etc/passwd`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrace(&o, args, stderr)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.StringVarP(&o.output, "output", "o", "", "write the trace to `FILE` instead of stderr (mode 0600; - is standard output)")
	f.StringArrayVarP(&o.exprs, "expr", "e", nil, "qualifying `EXPR`: trace=NAME,%CLASS,... (strace syntax; repeatable)")
	f.VarP((*pidFlag)(&o.pid), "pid", "p", "attach to the running process `PID` and all its threads")
	f.IntVarP(&o.strSize, "string-limit", "s", 32, "print at most `N` bytes of each string")
	o.times.addFlags(f)
	o.inject.addFlags(f)
	addChaosFlag(f, &o.inject.chaos)
	f.BoolVar(&o.noPin, "no-pin", false, "let the command use every CPU (by default it shares hermes's CPU, as under rr: much cheaper ptrace stops on VMs)")
	f.CountVarP(&o.follow, "follow-forks", "f", "follow forks, vforks and clones (always on; accepted for strace compatibility); -ff with -o FILE writes each thread to FILE.TID")
	f.BoolVar(&o.separately, "output-separately", false, "with -o FILE, write each thread's lines to FILE.TID (as -ff)")
	f.BoolVarP(&o.summaryOnly, "summary-only", "c", false, "print strace -c's table of calls, errors and time per syscall instead of the calls")
	f.BoolVarP(&o.summary, "summary", "C", false, "print the calls, then strace -c's table")
	f.BoolVarP(&o.successful, "successful-only", "z", false, "print only the calls that succeeded")
	f.BoolVarP(&o.failed, "failed-only", "Z", false, "print only the calls that failed")
	f.StringArrayVarP(&o.paths, "trace-path", "P", nil, "print only the calls on `PATH`: named, or through a descriptor open on it (repeatable)")
	f.CountVarP(&o.fds, "decode-fds", "y", "name descriptors: paths (-y); also socket endpoints and device numbers (-yy)")
	f.BoolVarP(&o.stacks, "stack-traces", "k", false, "print the call stack after each call: frame pointers, ELF symbols, DWARF lines")
	return cmd
}

// parseExprs reads -e qualifiers: the trace= selection (nil means every
// syscall) and the inject=/fault= rules.
func parseExprs(exprs []string) ([]int, []inject.Rule, error) {
	var sel []int
	var rules []inject.Rule
	for _, e := range exprs {
		key, val, ok := strings.Cut(e, "=")
		if !ok {
			// strace treats a bare list as trace=LIST.
			key, val = "trace", e
		}
		switch key {
		case "trace", "t":
			calls, err := abi.Select(val)
			if err != nil {
				return nil, nil, fmt.Errorf("-e trace=%s: %w", val, err)
			}
			sel = make([]int, 0, len(calls))
			for _, c := range calls {
				sel = append(sel, c.Nr)
			}
		case "inject", "fault":
			r, err := inject.ParseStrace(e)
			if err != nil {
				return nil, nil, fmt.Errorf("-e %s: %w", e, err)
			}
			rules = append(rules, r)
		default:
			return nil, nil, fmt.Errorf("-e %s: unknown qualifier %q (supported: trace, inject, fault)", e, key)
		}
	}
	return sel, rules, nil
}

func runTrace(o *traceOpts, args []string, stderr io.Writer) error {
	if o.pid != 0 && len(args) > 0 {
		return &usageError{errors.New("give either -p PID or a command, not both")}
	}
	if o.pid == 0 && len(args) == 0 {
		return &usageError{errors.New("missing command: hermes trace [flags] -- CMD [ARGS...] or -p PID")}
	}
	if o.strSize < 0 {
		return &usageError{fmt.Errorf("-s %d: must not be negative", o.strSize)}
	}
	if o.successful && o.failed {
		return &usageError{errors.New("-z and -Z exclude each other: every call either succeeds or fails")}
	}
	if o.summary && o.summaryOnly {
		return &usageError{errors.New("-c and -C exclude each other (-c: the table only; -C: the calls, then the table)")}
	}
	if o.fds > 2 {
		return &usageError{fmt.Errorf("-%s: at most -yy", strings.Repeat("y", o.fds))}
	}
	perThread := o.follow >= 2 || o.separately
	if perThread && o.output == "" {
		return &usageError{errors.New("-ff needs -o FILE: each thread's trace goes to FILE.TID")}
	}
	sel, rules, err := parseExprs(o.exprs)
	if err != nil {
		return &usageError{err}
	}
	paths, err := tracePaths(o.paths, stderr)
	if err != nil {
		return &usageError{err}
	}
	inj, err := o.inject.toInject(rules, stderr)
	if err != nil {
		return err
	}
	if err := chaosSpaced(o.inject.chaos, args); err != nil {
		return err
	}
	results := tracer.AllResults
	switch {
	case o.successful:
		results = tracer.SuccessfulOnly
	case o.failed:
		results = tracer.FailedOnly
	}
	var notes io.Writer
	if o.pid != 0 {
		notes = stderr
	}
	ctl, done := forwardSignals(stderr)
	defer done()
	res, err := hrun.Trace(context.Background(), hrun.TraceOptions{
		Argv: args, Pid: o.pid, Trace: sel, Output: o.output, Writer: stderr, StrSize: o.strSize,
		Times: o.times.timestamps(0), NoPin: o.noPin, Inject: inj, Control: ctl, Logf: logTo(stderr),
		Summary: o.summary, SummaryOnly: o.summaryOnly, Results: results, Paths: paths, FDNames: o.fds,
		Stacks: o.stacks, PerThread: perThread, Notes: notes,
	})
	return exitOf(res, err, o.pid != 0)
}

// tracePaths returns -P's paths with their canonical forms, saying (as
// strace does) when a path resolves to another.
func tracePaths(paths []string, stderr io.Writer) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "" {
			return nil, errors.New("-P: empty path")
		}
		out = append(out, p)
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil || real == p {
			continue
		}
		fmt.Fprintf(stderr, "hermes: Requested path %s resolved into %s\n",
			decode.AppendQuoted(nil, []byte(p), false), decode.AppendQuoted(nil, []byte(real), false))
		out = append(out, real)
	}
	return out, nil
}

// logTo returns the Logf of a run: "hermes: ..." lines on stderr.
func logTo(stderr io.Writer) func(string, ...any) {
	return func(format string, a ...any) { fmt.Fprintf(stderr, "hermes: "+format+"\n", a...) }
}

// forwardSignals turns Ctrl-C and SIGTERM into a stop of the run and
// SIGHUP into a reload of its script; done stops forwarding.
func forwardSignals(stderr io.Writer) (ctl *hrun.Control, done func()) {
	ctl = &hrun.Control{}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP)
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == unix.SIGHUP {
					if err := ctl.Reload(); err != nil {
						logTo(stderr)("reload: %v", err)
					}
					continue
				}
				ctl.Stop(int(s.(unix.Signal)))
			case <-quit:
				return
			}
		}
	}()
	return ctl, func() {
		signal.Stop(sigs)
		close(quit)
	}
}

// exitOf turns how a trace or record run ended into hermes's exit status.
func exitOf(res hrun.Result, err error, attached bool) error {
	if err != nil {
		if errors.Is(err, hrun.ErrBrokenPipe) {
			return exitCode(exitBrokenPipe)
		}
		var ee *tracer.ExecError
		if errors.As(err, &ee) {
			return &codedError{ee.Code, err}
		}
		return err
	}
	if attached && res.Interrupted {
		return nil
	}
	if res.ExitCode != 0 {
		return exitCode(res.ExitCode)
	}
	return nil
}

// exitBrokenPipe is hermes's exit status when the reader of its trace
// output went away: 128+SIGPIPE, what a program killed by SIGPIPE (strace
// in the same place) exits with.
const exitBrokenPipe = 128 + int(unix.SIGPIPE)
