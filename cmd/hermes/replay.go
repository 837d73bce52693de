package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/replay/fsview"

	"github.com/hermes-trace/hermes/replay"
	"github.com/hermes-trace/hermes/tracer"
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
a divergence: replay prints a report and stops, exit status 125 (--lenient
reports and goes on). A replay without divergence says so on stderr and exits
with the target's status, which equals the recorded one.

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
	o.inject.addFlags(f)
	return cmd
}

func runReplay(o *replayOpts, path string, command []string, stderr io.Writer) error {
	classes, err := replay.ParseClasses(o.emulate)
	if err != nil {
		return &usageError{err}
	}
	r, err := format.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	rp, err := replay.New(r, replay.Options{Lenient: o.lenient, Emulate: classes, Command: len(command) > 0, Report: stderr})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer rp.Close()
	hdr := r.Header()
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "hermes: "+format+"\n", a...) }
	argv := hdr.Argv
	if len(command) > 0 {
		if !slices.Equal(command, hdr.Argv) {
			logf("warning: replaying %q, but the trace recorded %q", strings.Join(command, " "), strings.Join(hdr.Argv, " "))
		}
		argv = command
	}
	if len(argv) == 0 {
		return fmt.Errorf("%s: the trace has no command line; give one after --", path)
	}
	if _, ok := hdr.Extra["attached_pid"]; ok {
		logf("warning: the trace was recorded by attaching to a running process; replaying it as a new run of %q", strings.Join(argv, " "))
	}
	if !hdr.Deterministic {
		logf("warning: %v", replay.ErrNotDeterministic)
	}
	if n, reason, complete := r.Recovered(); !complete {
		logf("%s: partial trace: %d events recovered (%s); replaying what it has", path, n, reason)
	}
	if o.keepFS != "" {
		if o.liveFS {
			return &usageError{errors.New("--keep-fs needs the private view: it cannot go with --live-fs")}
		}
		if err := fsview.CheckKeepDir(o.keepFS); err != nil {
			return err
		}
	}
	var view *fsview.View
	if !o.liveFS {
		view, err = openView(path, hdr, logf)
		if err != nil {
			return err
		}
		if view != nil {
			defer view.Close()
			rp.SetViewLimits(view.Limits())
		}
	}
	if view == nil {
		if o.keepFS != "" {
			return errors.New("--keep-fs: no private view of the file system could be made here")
		}
		if hdr.Cwd != "" {
			if st, err := os.Stat(hdr.Cwd); err != nil || !st.IsDir() {
				return fmt.Errorf("the recorded working directory %s is not there", hdr.Cwd)
			}
		}
	}
	if o.inject.seed == "" && hdr.Seed != 0 {
		o.inject.seed = strconv.FormatUint(hdr.Seed, 10)
	}
	eng, err := o.inject.engine(nil, stderr)
	if err != nil {
		return err
	}
	if eng != nil {
		rp.SetOverlay(eng)
		rp.SetSeed(eng.Seed())
	}
	env, err := setEnv(RestoreRedactedEnv(hdr.Env, o.env, logf), o.env)
	if err != nil {
		return &usageError{err}
	}
	cfg := tracer.Config{
		Trace:         rp.Trace(),
		Env:           env,
		Dir:           hdr.Cwd,
		NoPin:         o.noPin,
		TrackFDs:      true,
		Deterministic: hdr.Deterministic,
		Handlers:      []tracer.Handler{rp},
		Logf:          logf,
	}
	if view != nil {
		cfg.Setup = view.Setup()
	}
	if eng != nil {
		cfg.Trace = union(cfg.Trace, eng.Trapped())
	}
	var divergence bool
	err = runTracer(cfg, 0, argv, eng, func(t *tracer.Tracer) { rp.SetStop(func() { t.Stop(-1) }) },
		func(res tracer.Result) error {
			ferr := rp.Finish(res)
			var d *replay.Divergence
			if errors.As(ferr, &d) {
				divergence = true // reported on stderr already
				return nil
			}
			if ferr != nil {
				return ferr
			}
			if !rp.Started() {
				return nil // the launch failed: its error says why
			}
			if d := rp.Departure(); d != nil {
				logf("%s; the target exited with status %d", d, res.ExitCode)
				return nil
			}
			matched, emulated := rp.Calls()
			if n := rp.Divergences(); n > 0 {
				logf("replay: %d divergences (--lenient); %d calls matched the recording (%d emulated)", n, matched, emulated)
				return nil
			}
			logf("replay: no divergence: %d calls matched the recording (%d emulated)", matched, emulated)
			return nil
		})
	if view != nil && !divergence && o.keepFS != "" {
		kept, deleted, kerr := view.Keep(o.keepFS)
		if kerr != nil {
			return kerr
		}
		logf("--keep-fs %s: %d created or changed, %d deleted", o.keepFS, kept, deleted)
	}
	if o.check != "" && !divergence {
		return runCheck(view, o.check, env, hdr.Cwd, err, logf)
	}
	if divergence {
		return exitCode(exitError)
	}
	return err
}

// openView builds the private view of the files the replay runs in, with
// the trace's pre-images restored; nil (and a one-line note) where none
// can be made here.
func openView(path string, hdr *tracepb.TraceHeader, logf func(string, ...any)) (*fsview.View, error) {
	dir, err := os.MkdirTemp("", "hermes-view-")
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	var images *fsview.Images
	if hdr.Preimages {
		r, err := format.Open(path)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		images, err = fsview.Collect(r, filepath.Join(dir, "contents"))
		r.Close()
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	} else {
		logf("note: %s has no pre-images (recorded before hermes kept them, or with --no-preimages): the replay sees the files as they are now", path)
	}
	var hide []string
	if hdr.OutputPath != "" {
		hide = append(hide, hdr.OutputPath, hdr.OutputPath+".partial")
	}
	if abs, err := filepath.Abs(path); err == nil {
		hide = append(hide, abs)
	}
	v, err := fsview.New(fsview.Options{Images: images, Hide: hide, Dir: dir})
	if err != nil {
		os.RemoveAll(dir)
		if errors.Is(err, fsview.ErrUnavailable) {
			logf("%v; replaying on the live file system (--live-fs)", err)
			return nil, nil
		}
		return nil, err
	}
	for _, p := range v.Problems() {
		logf("view: cannot restore %s", p)
	}
	for _, n := range v.Notes() {
		logf("view: %s", n)
	}
	return v, nil
}

// runCheck runs --check after the target: in the view (or on the live
// file system where there is none), in the recorded working directory.
// hermes then exits with the check's status, and says the target's.
func runCheck(view *fsview.View, check string, env []string, dir string, runErr error, logf func(string, ...any)) error {
	target := 0
	var ec exitCode
	switch {
	case errors.As(runErr, &ec):
		target = int(ec)
	case runErr != nil:
		return runErr
	}
	argv := []string{"/bin/sh", "-c", check}
	var status int
	var err error
	if view != nil {
		status, err = view.Run(argv, env, dir, os.Stdout, os.Stderr)
	} else {
		status, err = runLive(argv, env, dir)
	}
	if err != nil {
		return fmt.Errorf("--check %q: %w", check, err)
	}
	logf("the target exited with status %d; --check exited with status %d", target, status)
	if status != 0 {
		return exitCode(status)
	}
	return nil
}

// runLive runs argv on the live file system and returns its exit status.
func runLive(argv, env []string, dir string) (int, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 0, err
}

// setEnv returns env with the KEY=VALUE settings applied.
func setEnv(env, set []string) ([]string, error) {
	out := slices.Clone(env)
	for _, kv := range set {
		key, _, ok := strings.Cut(kv, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("--env %q: want KEY=VALUE", kv)
		}
		out = slices.DeleteFunc(out, func(e string) bool { return strings.HasPrefix(e, key+"=") })
		out = append(out, kv)
	}
	return out, nil
}
