package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/replay"
	"github.com/hermes-trace/hermes/replay/fsview"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
)

// ReplayOptions configure Replay.
type ReplayOptions struct {
	Trace string   // path of the trace
	Argv  []string // run this instead of the recorded command (nil: recorded)
	Env   []string // KEY=VALUE overrides of the recorded environment
	// Emulate are the classes emulated from the recording: replay.Default
	// is what hermes replay does without --emulate (the zero value
	// emulates nothing, and pids, clocks and the like then diverge).
	Emulate replay.Classes
	Lenient bool
	Inject  Inject
	// DropFaults leaves out the faults the recording injected: each such
	// call runs, and the replay departs there (Inject can put some back).
	DropFaults bool
	// Order is how the calls of different threads are ordered
	// (replay.OrderStrict, the zero value, by default).
	Order  replay.Order
	LiveFS bool // replay on the real files
	// RequireView fails (an error wrapping fsview.ErrUnavailable) instead
	// of falling back to the live file system.
	RequireView bool
	Hide        []string // more paths the view hides
	// KeepFS keeps in this directory what the run created or changed.
	KeepFS                   string
	Check                    string
	CheckStdout, CheckStderr *os.File
	Stdin, Stdout, Stderr    *os.File
	NoPin                    bool
	// Report receives divergence reports (nil discards them).
	Report  io.Writer
	Control *Control
	Logf    func(format string, args ...any)
}

// Replay re-runs a recorded command under the recording. A divergence is
// Result.Divergence, not an error.
func Replay(ctx context.Context, o ReplayOptions) (Result, error) {
	logf := logger(o.Logf)
	path := o.Trace
	if o.Report == nil {
		o.Report = io.Discard
	}
	if o.Inject.Chaos {
		return Result{}, errors.New("chaos scheduling is for trace, record and explore: a replay keeps the recorded order (see --order)")
	}
	r, err := format.Open(path)
	if err != nil {
		return Result{}, err
	}
	defer r.Close()
	rp, err := replay.New(r, replay.Options{Lenient: o.Lenient, Emulate: o.Emulate, Command: len(o.Argv) > 0, Report: o.Report, DropFaults: o.DropFaults, Order: o.Order})
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", path, err)
	}
	defer rp.Close()
	hdr := r.Header()
	if pid, ok := hdr.Extra["attached_pid"]; ok {
		// Its calls start in the middle of a run whose beginning (the
		// descriptors, memory and children it already had) is not in it.
		return Result{}, fmt.Errorf("%s was recorded by attaching to a running process (-p %s): it has no start to replay from", path, pid)
	}
	argv := RestoreRedactedArgs(hdr.Argv, o.Env, logf)
	if len(o.Argv) > 0 {
		if !slices.Equal(o.Argv, hdr.Argv) {
			logf("warning: replaying %q, but the trace recorded %q", strings.Join(o.Argv, " "), strings.Join(hdr.Argv, " "))
		}
		argv = o.Argv
	}
	if len(argv) == 0 {
		return Result{}, fmt.Errorf("%s: the trace has no command line; give one after --", path)
	}
	if !hdr.Deterministic {
		logf("warning: %v", replay.ErrNotDeterministic)
	}
	if n, reason, complete := r.Recovered(); !complete {
		logf("%s: partial trace: %d events recovered (%s); replaying what it has", path, n, reason)
	}
	if o.KeepFS != "" {
		if o.LiveFS {
			return Result{}, errors.New("--keep-fs needs the private view: it cannot go with --live-fs")
		}
		if err := fsview.CheckKeepDir(o.KeepFS); err != nil {
			return Result{}, err
		}
	}
	var view *fsview.View
	if !o.LiveFS {
		view, err = openView(path, hdr, o.Hide, o.RequireView, logf)
		if err != nil {
			return Result{}, err
		}
		if view != nil {
			defer view.Close()
			rp.SetViewLimits(view.Limits())
		}
	}
	if view == nil {
		if o.KeepFS != "" {
			return Result{}, errors.New("--keep-fs: no private view of the file system could be made here")
		}
		if hdr.Cwd != "" {
			if st, err := os.Stat(hdr.Cwd); err != nil || !st.IsDir() {
				return Result{}, fmt.Errorf("the recorded working directory %s is not there", hdr.Cwd)
			}
		}
	}
	seed := o.Inject.Seed
	if !o.Inject.SeedSet {
		seed = hdr.Seed
		if seed == 0 {
			seed = newSeed()
		}
	}
	inj, err := o.Inject.build(seed, logf)
	if err != nil {
		return Result{}, err
	}
	if inj.active() {
		hs := inj.handlers()
		if len(hs) == 1 {
			rp.SetOverlay(hs[0])
		} else {
			rp.SetOverlay(tracer.Chain(hs))
		}
		rp.SetSeed(seed)
		if note := unrecordedNote(hdr.Traced, inj); note != "" {
			logf("%s", note)
		}
	}
	env, err := SetEnv(RestoreRedactedEnv(hdr.Env, o.Env, logf), o.Env)
	if err != nil {
		inj.close()
		return Result{}, err
	}
	cfg := tracer.Config{
		Trace:         rp.Trace(),
		Env:           env,
		Dir:           hdr.Cwd,
		Stdin:         o.Stdin,
		Stdout:        o.Stdout,
		Stderr:        o.Stderr,
		NoPin:         o.NoPin,
		TrackFDs:      true,
		Deterministic: hdr.Deterministic,
		Handlers:      []tracer.Handler{rp},
		Logf:          logf,
	}
	o.Inject.ioUring(&cfg, true)
	if view != nil {
		cfg.Setup = view.Setup()
	}
	if hdr.TscTrapped {
		// Reads of the time stamp counter fault, and replay gives them
		// the recorded values.
		cfg.Setup = append(cfg.Setup, tracer.TrapTSCStep())
	}
	if inj.active() {
		cfg.Trace = union(cfg.Trace, inj.trapped())
	}
	var out Result
	res, err := runTracer(ctx, cfg, 0, argv, o.Control, inj, func(t *tracer.Tracer) { rp.SetStop(func() { t.Stop(-1) }) },
		func(res tracer.Result) error {
			ferr := rp.Finish(res)
			unchaotic := func() {
				if !hdr.Chaos && rp.Threaded() {
					logf("replay: note: the trace was recorded without --chaos, with its threads running at once: what they did between their calls came in an order the trace does not hold. Record with --chaos to replay threads exactly (README, \"Threads: ordered replay and chaos scheduling\"); --order=off may get further")
				}
			}
			var d *replay.Divergence
			if errors.As(ferr, &d) {
				out.Divergence = d // reported already
				unchaotic()
				return nil
			}
			if ferr != nil {
				return ferr
			}
			if !rp.Started() {
				return nil // the launch failed: its error says why
			}
			matched, emulated := rp.Calls()
			out.Matched = matched
			if n, notes := rp.Relaxed(); n > 0 {
				out.Relaxed = n
				logf("replay: the recorded order of calls across threads was relaxed %d time(s) (--order=%s); first, by thread lineage and call index: %s", n, rp.OrderMode(), strings.Join(notes, "; "))
			}
			out.Divergences = rp.Divergences()
			if res.Interrupted {
				// Stopped from outside: what the rest of the run would have
				// done is unknown.
				logf("replay: interrupted: %d calls matched the recording before it (%d emulated)", matched, emulated)
				return nil
			}
			if d := rp.Departure(); d != nil {
				out.Departure = d
				logf("%s; the target exited with status %d", d, res.ExitCode)
				return nil
			}
			if n := rp.Divergences(); n > 0 {
				unchaotic()
				logf("replay: %d divergences (--lenient); %d calls matched the recording (%d emulated)", n, matched, emulated)
				return nil
			}
			logf("replay: no divergence: %d calls matched the recording (%d emulated)", matched, emulated)
			return nil
		})
	r0 := result(res, inj)
	r0.Departure, r0.Divergence, r0.Divergences, r0.Matched, r0.View = out.Departure, out.Divergence, out.Divergences, out.Matched, view != nil
	r0.Relaxed = out.Relaxed
	if r0.Divergence != nil && r0.Divergences == 0 {
		r0.Divergences = 1
	}
	if r0.Divergence != nil && ctx.Err() == nil {
		// The replayer stopped the target at the divergence: that is
		// Divergence, not an interruption.
		r0.Interrupted = false
	}
	if r0.Matched == 0 && rp.Started() {
		r0.Matched, _ = rp.Calls()
	}
	if view != nil && r0.Divergence == nil && o.KeepFS != "" {
		kept, deleted, kerr := view.Keep(o.KeepFS)
		if kerr != nil {
			return r0, kerr
		}
		logf("--keep-fs %s: %d created or changed, %d deleted", o.KeepFS, kept, deleted)
	}
	if err != nil {
		return r0, err
	}
	if o.Check != "" && r0.Divergence == nil {
		if err := runCheck(&r0, view, o.Check, env, hdr.Cwd, o.CheckStdout, o.CheckStderr, logf); err != nil {
			return r0, err
		}
	}
	return r0, nil
}

// openView builds the private view of the files the replay runs in, with
// the trace's pre-images restored; nil (and a one-line note) where none
// can be made here, or an error with require.
func openView(path string, hdr *tracepb.TraceHeader, more []string, require bool, logf func(string, ...any)) (*fsview.View, error) {
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
	hide = append(hide, more...)
	v, err := fsview.New(fsview.Options{Images: images, Hide: hide, Dir: dir})
	if err != nil {
		os.RemoveAll(dir)
		if errors.Is(err, fsview.ErrUnavailable) && !require {
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

// SetEnv returns env with the KEY=VALUE settings applied.
func SetEnv(env, set []string) ([]string, error) {
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

// unrecordedNote says, in one line, which calls the injection acts on that
// a recording narrowed with -e trace= did not keep: nothing of them is
// replayed, so a fault there is not one the recording had, and the replay
// departs from the recording where the injection changes one. "" when the
// recording kept them all.
func unrecordedNote(recorded []int32, inj *injection) string {
	if len(recorded) == 0 {
		return "" // it kept every call
	}
	kept := make(map[int]bool, len(recorded))
	for _, nr := range recorded {
		kept[int(nr)] = true
	}
	what := fmt.Sprintf("%d syscalls", len(recorded))
	if len(recorded) == 1 {
		what = "1 syscall"
	}
	const then = "they are not replayed, and where the injection changes one the replay departs from the recording"
	trapped := inj.trapped()
	if trapped == nil {
		return fmt.Sprintf("note: the recording kept only %s (-e trace=), and the injection acts on every call: %s", what, then)
	}
	var missing []string
	for _, nr := range trapped {
		if !kept[nr] {
			missing = append(missing, abi.Name(abi.ArchX86_64, nr))
		}
	}
	if len(missing) == 0 {
		return ""
	}
	const show = 6
	list := strings.Join(missing[:min(len(missing), show)], ", ")
	if len(missing) > show {
		list += fmt.Sprintf(" and %d more", len(missing)-show)
	}
	return fmt.Sprintf("note: the recording did not keep %s (it kept %s: -e trace=), on which the injection acts: %s", list, what, then)
}
