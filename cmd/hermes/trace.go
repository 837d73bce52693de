package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

type traceOpts struct {
	output  string
	exprs   []string
	pid     int
	strSize int
	times   timeFlags
	follow  bool
	noPin   bool
	inject  injectOpts
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
  hermes trace --inject builtin:deny-path --param path=/etc/passwd -- cat /etc/passwd`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrace(&o, args, stderr)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.StringVarP(&o.output, "output", "o", "", "write the trace to `FILE` instead of stderr (mode 0600; - is standard output)")
	f.StringArrayVarP(&o.exprs, "expr", "e", nil, "qualifying `EXPR`: trace=NAME,%CLASS,... (strace syntax; repeatable)")
	f.IntVarP(&o.pid, "pid", "p", 0, "attach to the running process `PID` and all its threads")
	f.IntVarP(&o.strSize, "string-limit", "s", 32, "print at most `N` bytes of each string")
	o.times.addFlags(f)
	o.inject.addFlags(f)
	f.BoolVar(&o.noPin, "no-pin", false, "let the command use every CPU (by default it shares hermes's CPU, as under rr: much cheaper ptrace stops on VMs)")
	f.BoolVarP(&o.follow, "follow-forks", "f", true, "follow forks, vforks and clones (always on; accepted for strace compatibility)")
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
	sel, rules, err := parseExprs(o.exprs)
	if err != nil {
		return &usageError{err}
	}
	eng, err := o.inject.engine(rules, stderr)
	if err != nil {
		return err
	}
	var out io.Writer = stderr
	epoch := time.Now()
	po := tracer.PrinterOptions{Selected: sel, FlushLines: true, Times: o.times.timestamps(epoch.UnixNano())}
	var tout *output
	if o.output != "" {
		// Write-only, 0600, never through a planted link: see openOutput.
		if tout, err = openOutput(o.output, false); err != nil {
			return err
		}
		defer tout.Close()
		out = tout
		// A pipe's reader (| head) wants the lines as they come.
		po.FlushLines, po.ToFile = tout.live, true
	}
	pr := tracer.NewPrinter(out, decode.Options{StrSize: o.strSize}, po)
	cfg := tracer.Config{
		Trace:    sel,
		NoPin:    o.noPin,
		Epoch:    epoch,
		Handlers: []tracer.Handler{pr},
		Logf:     func(format string, a ...any) { fmt.Fprintf(stderr, "hermes: "+format+"\n", a...) },
	}
	if eng != nil {
		// The engine decides first; the printer shows the outcome.
		cfg.Handlers = []tracer.Handler{eng, pr}
		// Only what the script acts on is trapped: ev.fdpath then comes
		// from /proc rather than from trapping every open and close.
		cfg.Trace = union(sel, eng.Trapped())
	}
	tout.redirect(&cfg, o.pid != 0, stderr)
	err = runTracer(cfg, o.pid, args, eng, tout.setup, func(tracer.Result) error {
		if err := pr.Flush(); err != nil {
			return fmt.Errorf("writing trace: %w", err)
		}
		return nil
	})
	return tout.result(err)
}

// runTracer launches or attaches, forwards Ctrl-C and SIGTERM to the
// tracer, and turns the result into hermes's exit status.
func runTracer(cfg tracer.Config, pid int, args []string, eng *inject.Engine, setup func(*tracer.Tracer), finish func(tracer.Result) error) error {
	t := tracer.New(cfg)
	if setup != nil {
		setup(t)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == unix.SIGHUP && eng != nil {
					if err := eng.Reload(); err != nil {
						cfg.Logf("reload: %v", err)
					}
					continue
				}
				t.Stop(int(s.(unix.Signal)))
			case <-done:
				return
			}
		}
	}()
	var res tracer.Result
	var err error
	if pid != 0 {
		res, err = t.Attach(pid)
	} else {
		res, err = t.Launch(args)
	}
	signal.Stop(sigs)
	close(done)
	if eng != nil {
		if ferr := eng.Finish(res); ferr != nil && err == nil {
			err = ferr
		}
	}
	if ferr := finish(res); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		var ee *tracer.ExecError
		if errors.As(err, &ee) {
			return &codedError{ee.Code, err}
		}
		if pid != 0 {
			return fmt.Errorf("%w", err)
		}
		return err
	}
	if pid != 0 && res.Interrupted {
		return nil
	}
	if res.ExitCode != 0 {
		return exitCode(res.ExitCode)
	}
	return nil
}
