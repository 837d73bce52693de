package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	hrun "github.com/hermes-trace/hermes/internal/run"

	"github.com/hermes-trace/hermes/replay"
	"github.com/spf13/cobra"
)

type replayOpts struct {
	keepFS  string
	check   string
	liveFS  bool
	lenient bool
	emulate string
	noPin   bool
	env     []string
	exprs   []string
	noFault bool
	order   string
	inject  injectOpts
}

func newReplayCmd(stderr io.Writer) *cobra.Command {
	var o replayOpts
	cmd := &cobra.Command{
		Use:   "replay [flags] TRACE [-- CMD [ARGS...]]",
		Short: "Re-run a recorded command and make it see what it saw when recorded",
		Long: `Re-run the command of TRACE (its argv, environment and working directory, or
CMD if given) under ptrace. Every thread is matched to the recording by its
lineage, every syscall by its index in its thread:

  - faults the recording injected are injected again at the same calls;
  - calls whose outcome is nondeterministic by nature are emulated from the
    recording: clocks, getrandom and /dev/urandom, /proc and /sys, pids,
    uname, poll/select/epoll, reads of inherited descriptors (stdin), and the
    data side of sockets (a server the program talked to need not run);
  - everything else runs for real and its result is compared.

A call that differs from the recording (number, path argument, or result) is
a divergence: replay prints a report and stops, exit status 123 (--lenient
reports and goes on, and ends with 123 if it reported any). A replay without
divergence says so on stderr and exits with the target's status, which equals
the recorded one; with --check, with the check's status. 125 is for hermes's
own failures. When several apply, a divergence wins over --check, and
--check over the target's status.

--emulate adds classes to the default set (time, random, pid, uname, proc,
net, input, poll), or removes them with -NAME; "none" emulates nothing,
"file" also emulates reads of regular files.`,
		Example: `  hermes record -o run.trace -- ./app
  hermes replay run.trace
  hermes replay --inject faults.lua run.trace
  hermes replay --emulate=file --lenient run.trace`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var command []string
			if n := cmd.ArgsLenAtDash(); n >= 0 {
				command = args[n:]
				args = args[:n]
			}
			if len(args) != 1 {
				return &usageError{errors.New("replay takes one TRACE (then -- CMD to run another command)")}
			}
			return runReplay(&o, args[0], command, stderr)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.lenient, "lenient", false, "report divergences and carry on")
	f.StringVar(&o.keepFS, "keep-fs", "", "keep in `DIR` the files the replayed run created or changed (at their absolute paths; deletions listed in DIR/.hermes-deleted)")
	f.StringVar(&o.check, "check", "", "after the target ends, run the shell command `CMD` in the replay's view of the files, in the recorded working directory; hermes exits with its status")
	f.BoolVar(&o.liveFS, "live-fs", false, "replay on the live file system, not in a private view restored from the recording")
	f.StringVar(&o.emulate, "emulate", "", "emulation `CLASSES` beyond the default, -CLASS to remove one, or none")
	f.StringArrayVar(&o.env, "env", nil, "replay as if the recorded environment had `KEY=VALUE` (repeatable)")
	f.BoolVar(&o.noPin, "no-pin", false, "let the command use every CPU (see hermes trace --help)")
	f.StringArrayVarP(&o.exprs, "expr", "e", nil, "fault `EXPR`: inject=..., fault=... (strace syntax; repeatable)")
	f.BoolVar(&o.noFault, "no-recorded-faults", false, "leave out the faults the recording injected: the replay departs at the first (-e inject= rules can put some back; hermes explore --minimize prints such reproducers)")
	f.StringVar(&o.order, "order", "strict", "the order, `MODE`, in which the calls of different threads go: strict (the recorded order, one thread at a time between calls), relaxed (the recorded order, threads at once between calls) or off (as they come)")
	o.inject.addFlags(f)
	return cmd
}

func runReplay(o *replayOpts, path string, command []string, stderr io.Writer) error {
	classes, err := replay.ParseClasses(o.emulate)
	if err != nil {
		return &usageError{err}
	}
	if o.order == "" {
		return &usageError{errors.New("--order=: empty (strict, relaxed or off)")}
	}
	order, err := replay.ParseOrder(o.order)
	if err != nil {
		return &usageError{err}
	}
	sel, rules, err := parseExprs(o.exprs)
	if err != nil {
		return &usageError{err}
	}
	if sel != nil {
		return &usageError{errors.New("-e trace=: replay traces what the recording needs; only inject= and fault= go with replay")}
	}
	if o.keepFS != "" && o.liveFS {
		return &usageError{errors.New("--keep-fs needs the private view: it cannot go with --live-fs")}
	}
	for _, kv := range o.env {
		if key, _, ok := strings.Cut(kv, "="); !ok || key == "" {
			return &usageError{fmt.Errorf("--env %q: want KEY=VALUE", kv)}
		}
	}
	inj, err := o.inject.toInject(rules, stderr)
	if err != nil {
		return err
	}
	ctl, done := forwardSignals(stderr)
	defer done()
	res, err := hrun.Replay(context.Background(), hrun.ReplayOptions{
		Trace: path, Argv: command, Env: o.env, Emulate: classes, Lenient: o.lenient, Inject: inj, DropFaults: o.noFault, Order: order,
		LiveFS: o.liveFS, KeepFS: o.keepFS, Check: o.check, NoPin: o.noPin,
		Report: stderr, Control: ctl, Logf: logTo(stderr),
	})
	// Which status wins when several apply: hermes's own failure, then a
	// divergence, then --check's status, then the target's.
	if err != nil {
		return exitOf(res, err, false)
	}
	if res.Divergences > 0 {
		return exitCode(exitDiverged)
	}
	if res.CheckRan {
		if res.CheckStatus != 0 {
			return exitCode(res.CheckStatus)
		}
		return nil
	}
	return exitOf(res, nil, false)
}
