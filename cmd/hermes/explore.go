package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hermes-trace/hermes/internal/explore"
	hrun "github.com/hermes-trace/hermes/internal/run"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

type exploreOpts struct {
	chaos    string
	check    string
	faults   []string
	paths    []string
	perSite  int
	jobs     int
	budget   string
	timeout  time.Duration
	out      string
	report   string
	junit    string
	failOn   string
	minimize string
	schema   bool
}

func newExploreCmd(stdout, stderr io.Writer) *cobra.Command {
	var o exploreOpts
	cmd := &cobra.Command{
		Use:   "explore [flags] -- CMD [ARGS...] | explore --minimize TRACE [--check CMD]",
		Short: "Try the faults a command could meet, one at a time, and judge each",
		Long: `Record one clean run of CMD in a private view of the files (the real tree is
left as it was), list the calls where a fault could land, group them into
sites by their call stack, and try each site's faults: the recording is
replayed with that one fault, in a view of its own, --check runs in the
files it left, and the try is judged:

  ok           exit 0, the check passes
  handled      non-zero exit (or the crash it was given), the check passes
  crashed      killed by a signal it was not sent
  hung         still running after --timeout
  corrupt      the check fails
  not-reached  the fault's call never came, or the run diverged before it
  error        hermes could not run the try

--faults chooses the space: SET:FAULT[,FAULT...] items separated by ";"
(repeatable), where SET is a syscall name, %class or /regex and FAULT an
errno name, short (a short read or write), crash (SIGKILL at the call) or
delay=DURATION; "default" is the default table (see README.md), which
keeps to the program's own files. Every failing try prints a reproducer
that needs only the trace in --out.

--minimize TRACE replays a recording that failed under many injected faults
(say builtin:random-eio) with subsets of them left out until a 1-minimal
set still fails the same way, and prints it with its reproducer.

Exit status: 1 if a try's outcome is in --fail-on, 0 if none is, 125 when
hermes fails (a clean run that fails, a --check that fails on it, bad
flags, no private view of the files).`,
		Example: `  hermes explore --check 'test "$(wc -c < data)" = 65536' -- ./save data
  hermes explore --faults 'write:ENOSPC,short;fsync:EIO' --junit junit.xml -- ./app
  hermes explore --minimize flaky.trace --check ./verify`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.schema {
				_, err := stdout.Write(explore.Schema)
				return err
			}
			if o.minimize != "" {
				if len(args) > 0 {
					return &usageError{errors.New("--minimize takes a TRACE, not a command")}
				}
				return runMinimize(&o, stdout, stderr)
			}
			if len(args) == 0 {
				return &usageError{errors.New("explore needs a command: hermes explore [flags] -- CMD [ARGS...]")}
			}
			return runExplore(&o, args, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.StringVar(&o.check, "check", "", "shell `CMD` run in the files each try left, in the working directory; a non-zero status is corrupt")
	f.StringArrayVar(&o.faults, "faults", nil, "the fault `SPEC`: SET:FAULT[,FAULT...] items separated by ; (repeatable; default: the default table)")
	f.StringArrayVar(&o.paths, "paths", nil, "try only calls on paths matching `GLOB` (repeatable)")
	f.IntVar(&o.perSite, "per-site", explore.DefaultPerSite, "try the first `N` calls of each site")
	f.IntVar(&o.jobs, "jobs", 0, "run `N` tries at once (default: the number of CPUs)")
	f.StringVar(&o.budget, "budget", "", "at most `N` tries, or no try started after DURATION (e.g. 200, 5m)")
	f.DurationVar(&o.timeout, "timeout", 0, "a try still running after `DURATION` is hung (default: ten times the clean run, at least 10s)")
	f.StringVar(&o.out, "out", explore.DefaultOut, "keep the recording, and the files of tries that failed, in `DIR` (hidden from the command)")
	f.StringVar(&o.report, "report", "", "write the JSON report to `FILE`")
	f.StringVar(&o.junit, "junit", "", "write a JUnit XML report to `FILE` (one test case per try)")
	f.StringVar(&o.failOn, "fail-on", "crashed,hung,corrupt", "exit 1 if a try ends in one of these `OUTCOMES`")
	f.StringVar(&o.minimize, "minimize", "", "minimise the faults of the recording `TRACE` instead")
	f.BoolVar(&o.schema, "schema", false, "print the JSON Schema of --report and exit")
	addChaosFlag(f, &o.chaos)
	return cmd
}

// exploreContext is cancelled by SIGINT or SIGTERM.
func exploreContext() (context.Context, func()) {
	return signal.NotifyContext(context.Background(), unix.SIGINT, unix.SIGTERM)
}

func runExplore(o *exploreOpts, argv []string, stdout, stderr io.Writer) error {
	space, err := explore.ParseFaults(o.faults)
	if err != nil {
		return &usageError{err}
	}
	failOn, err := explore.ParseOutcomes(o.failOn)
	if err != nil {
		return &usageError{fmt.Errorf("--fail-on: %w", err)}
	}
	opts := explore.Options{
		Argv: argv, Check: o.check, Space: space, Paths: o.paths, PerSite: o.perSite, Jobs: o.jobs,
		Timeout: o.timeout, Out: o.out, FailOn: failOn, Hermes: hermesName(),
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, "hermes: "+format+"\n", args...) },
	}
	var chaosIn hrun.Inject
	if err := chaosSeed(o.chaos, &chaosIn); err != nil {
		return err
	}
	if err := chaosSpaced(o.chaos, argv); err != nil {
		return err
	}
	opts.Chaos, opts.ChaosSeed, opts.ChaosSeedSet = chaosIn.Chaos, chaosIn.Seed, chaosIn.SeedSet
	if o.perSite < 1 {
		return &usageError{fmt.Errorf("--per-site %d: want 1 or more", o.perSite)}
	}
	if o.jobs < 0 {
		return &usageError{fmt.Errorf("--jobs %d: want 1 or more", o.jobs)}
	}
	if o.timeout < 0 {
		return &usageError{fmt.Errorf("--timeout %v: want a positive duration", o.timeout)}
	}
	if o.budget != "" {
		if n, err := strconv.Atoi(o.budget); err == nil && n > 0 {
			opts.Budget = n
		} else if d, err := time.ParseDuration(o.budget); err == nil && d > 0 {
			opts.BudgetTime = d
		} else {
			return &usageError{fmt.Errorf("--budget %q: want a number of tries or a duration", o.budget)}
		}
	}
	// The report files are opened first: a path that cannot be written
	// is found before any run.
	var report, junit *os.File
	for _, r := range []struct {
		path string
		f    **os.File
	}{{o.report, &report}, {o.junit, &junit}} {
		if r.path == "" {
			continue
		}
		f, err := hrun.CreateText(r.path)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		defer f.Close()
		*r.f = f
		if abs, err := filepath.Abs(r.path); err == nil {
			opts.Hide = append(opts.Hide, abs)
		}
	}
	if isTerminal(stderr) {
		opts.Progress = func(done, total, failing int) {
			fmt.Fprintf(stderr, "\rexplore: %d/%d tries, %d failing ", done, total, failing)
			if done == total {
				fmt.Fprint(stderr, "\r\033[K")
			}
		}
	}
	ctx, stop := exploreContext()
	defer stop()
	rep, err := explore.Explore(ctx, opts)
	if err != nil {
		return err
	}
	if err := rep.WriteSummary(stdout); err != nil {
		return err
	}
	if report != nil {
		if err := rep.WriteJSON(report); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	if junit != nil {
		if err := rep.WriteJUnit(junit); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	if rep.Counts[explore.Failed] > 0 {
		fmt.Fprintf(stderr, "hermes: explore: hermes could not run %d tries (outcome error; see the report)\n", rep.Counts[explore.Failed])
		return exitCode(exitError)
	}
	if len(rep.Failing()) > 0 {
		return exitCode(1)
	}
	return nil
}

func runMinimize(o *exploreOpts, stdout, stderr io.Writer) error {
	ctx, stop := exploreContext()
	defer stop()
	isTTY := isTerminal(stderr)
	m, err := explore.Minimize(ctx, explore.MinimizeOptions{
		Trace: o.minimize, Check: o.check, Timeout: o.timeout, Hermes: hermesName(),
		Replays: func(n, kept int) {
			if isTTY {
				fmt.Fprintf(stderr, "\rminimize: replay %d, %d faults kept ", n, kept)
			}
		},
	})
	if isTTY {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	how := fmt.Sprintf("%s, exit status %d", m.Outcome, m.ExitStatus)
	if m.Check != nil {
		how += fmt.Sprintf(", check exit status %d", *m.Check)
	}
	fmt.Fprintf(stdout, "minimize: %d of the %d recorded faults still fail the same way (%s); %d replays\n", len(m.Faults), m.Of, how, m.Replays)
	for _, f := range m.Faults {
		fmt.Fprintf(stdout, "  %s#%d %s: -e %s\n", f.Lineage, f.Index, f.Name, f.Spec)
	}
	fmt.Fprintf(stdout, "reproduce: %s\n", m.Reproducer)
	return nil
}

// hermesName is how reproducers name this hermes: its path when it is
// not the one on $PATH.
func hermesName() string {
	self, err := os.Executable()
	if err != nil {
		return "hermes"
	}
	if onPath, err := exec.LookPath("hermes"); err == nil && sameFile(onPath, self) {
		return "hermes"
	}
	if strings.HasSuffix(self, ".test") {
		return "hermes"
	}
	return self
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
