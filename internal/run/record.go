package run

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/policies"
	"github.com/hermes-trace/hermes/record"
	"github.com/hermes-trace/hermes/replay/fsview"
	"github.com/hermes-trace/hermes/tracer"
	"golang.org/x/sys/unix"
)

var newSeed = inject.NewSeed

// RecordOptions configure Record.
type RecordOptions struct {
	Argv []string // the command (with Pid 0)
	Env  []string // nil: hermes's own
	Dir  string   // "": hermes's
	// Stdin, Stdout and Stderr of the target; nil inherits.
	Stdin, Stdout, Stderr *os.File
	Pid                   int // attach instead of launching
	// Output is the trace's path: a regular file (written as
	// FILE.partial, renamed at the end), or "-", a pipe, a FIFO, a
	// character device: a stream (see openOutput).
	Output string
	Trace  []int // x86_64 syscall numbers to record; nil all (what -e trace= gives)
	Inject Inject
	// Stacks records each call's call-site frames.
	Stacks bool
	// View runs the target in a private view of the file system
	// (fsview.New with no images): the real tree is left as it was. An
	// error wraps fsview.ErrUnavailable where none can be made.
	View bool
	Hide []string // paths the view hides from the target (besides the trace)
	// Check is a shell command run after the target, in the view (or live
	// without View), in Dir: Result.CheckStatus.
	Check                    string
	CheckStdout, CheckStderr *os.File

	Summarize bool // keep a summary of data that can be had again
	Fsync     bool // fsync the trace when complete
	// RedactEnv are --redact-env's patterns (see EnvRedactor).
	RedactEnv        []string
	Nondeterministic bool  // leave ASLR on and the vDSO unpatched
	NoPreimages      bool  // keep no pre-images of changed files
	PreimageMax      int64 // 0: record.DefaultPreimageMax
	// TimePrecision is the resolution of event times (0: 1µs).
	TimePrecision time.Duration
	NoPin         bool
	// Progress, if a terminal, shows a one-line progress display.
	Progress io.Writer
	Control  *Control
	Logf     func(format string, args ...any) // hermes's own notes; nil discards
}

// HiddenOutputs returns the absolute paths of a regular-file trace output
// and its FILE.partial, which the recorded program must not see; none for
// an output that is a stream (standard output, a pipe, a device).
func HiddenOutputs(path string) []string {
	if path == "-" {
		return nil
	}
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		return nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(dir, filepath.Base(abs))
	}
	return []string{abs, abs + ".partial"}
}

// Record runs (or attaches to) a command and records its syscalls into a
// trace. A non-zero status of the target is Result.ExitCode, not an error.
func Record(ctx context.Context, o RecordOptions) (Result, error) {
	logf := logger(o.Logf)
	red, err := NewRedactor(o.RedactEnv)
	if err != nil {
		return Result{}, err
	}
	if o.Output == "" {
		o.Output = "hermes.trace"
	}
	if o.PreimageMax == 0 {
		o.PreimageMax = record.DefaultPreimageMax
	}
	if o.TimePrecision == 0 {
		o.TimePrecision = time.Microsecond
	}
	// Opened (and checked) before the command starts; see openOutput.
	out, err := openOutput(o.Output, true)
	if err != nil {
		return Result{}, err
	}
	defer out.Close()
	// One seed per run, stored: a replay that departs from the recording
	// draws what it needs from it.
	inj, err := o.Inject.build(seedOf(o.Inject), logf)
	if err != nil {
		return Result{}, err
	}
	closeEng := inj.close
	// Event times count from the header's start time, so that dump -tt
	// prints the wall clock of each call.
	epoch := time.Now()
	hdr := header(o.Argv, o.Pid, o.Env, o.Dir, epoch)
	secrets := red.Secrets(hdr.Env) // before settings redacts them
	settings(hdr, &o, red, secrets, inj, logf)
	hdr.Seed = inj.seed
	trapped := o.Trace
	if inj.active() {
		trapped = union(o.Trace, inj.trapped())
	}
	// A launched run keeps pre-images of the files it changes, so that
	// replay can show them as they were, and hides its own trace: with
	// -e trace= narrowing what is recorded, the calls those need are
	// trapped, not recorded.
	preimages := o.Pid == 0 && !o.NoPreimages
	recorded := trapped
	hide := HiddenOutputs(o.Output)
	if preimages && trapped != nil {
		trapped = union(trapped, record.FSCalls())
	}
	if len(hide) > 0 && trapped != nil {
		trapped = union(trapped, record.HideCalls())
	}
	for _, nr := range recorded {
		hdr.Traced = append(hdr.Traced, int32(nr))
	}
	if len(hide) > 0 {
		hdr.OutputPath = hide[0]
	}
	hdr.Preimages = preimages
	if preimages {
		hdr.PreimageMax = o.PreimageMax
	}
	slices.Sort(hdr.Traced)
	hdr.Traced = slices.Compact(hdr.Traced)
	hdr.Deterministic = o.Pid == 0 && !o.Nondeterministic
	// Reads of the time stamp counter fault, and the recorder gives and
	// records their values (off with --nondeterministic, and for -p).
	hdr.TscTrapped = hdr.Deterministic
	hdr.TimeResolutionNs = int64(o.TimePrecision)
	var view *fsview.View
	if o.View {
		if o.Pid != 0 {
			closeEng()
			return Result{}, errors.New("a private view of the file system is for a launched command, not an attached one")
		}
		if view, err = fsview.New(fsview.Options{Hide: append(slices.Clone(hide), o.Hide...)}); err != nil {
			closeEng()
			return Result{}, err
		}
		defer view.Close()
		for _, p := range view.Problems() {
			logf("view: %s", p)
		}
	}
	w, err := out.create(hdr, format.WriterOptions{Sync: o.Fsync})
	if err != nil {
		closeEng()
		return Result{}, err
	}
	ropts := record.Options{Summarize: o.Summarize, Only: recorded, TimeResolution: hdr.TimeResolutionNs,
		Hide: hide, Preimages: preimages, PreimageMax: o.PreimageMax, Stacks: o.Stacks, TrapTSC: hdr.TscTrapped}
	if len(red.Patterns()) > 0 {
		ropts.Redact, ropts.RedactValues = red.Match, secrets
	}
	rec := record.New(w, ropts)
	cfg := tracer.Config{
		Trace:         trapped,
		Env:           o.Env,
		Dir:           o.Dir,
		Stdin:         o.Stdin,
		Stdout:        o.Stdout,
		Stderr:        o.Stderr,
		NoPin:         o.NoPin,
		Deterministic: hdr.Deterministic,
		Epoch:         epoch,
		TrackFDs:      true,
		Handlers:      []tracer.Handler{rec},
		Logf:          logf,
	}
	o.Inject.ioUring(&cfg, true)
	if view != nil {
		cfg.Setup = view.Setup()
	}
	if hdr.TscTrapped {
		cfg.Setup = append(cfg.Setup, tracer.TrapTSCStep())
	}
	if inj.active() {
		// The injection decides, the recorder writes down what it decided.
		cfg.Handlers = append(inj.handlers(), rec)
	}
	out.redirect(&cfg, o.Pid != 0, logf)
	stop := startProgress(o.Progress, w)
	res, err := runTracer(ctx, cfg, o.Pid, o.Argv, o.Control, inj, out.setup, func(tracer.Result) error {
		stop()
		rec.Finish()
		err := rec.Err()
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing trace: %w", err)
		}
		return nil
	})
	r := result(res, inj)
	r.View = view != nil
	if err = out.result(err); err != nil {
		return r, err
	}
	if o.Check != "" {
		env := o.Env
		if env == nil {
			env = os.Environ()
		}
		if err := runCheck(&r, view, o.Check, env, o.Dir, o.CheckStdout, o.CheckStderr, logf); err != nil {
			return r, err
		}
	}
	return r, nil
}

// header describes the run for the trace file; start is the zero of its
// event times.
func header(args []string, pid int, env []string, dir string, start time.Time) *tracepb.TraceHeader {
	if env == nil {
		env = os.Environ()
	}
	h := &tracepb.TraceHeader{
		Argv: args, Env: env, Arch: "x86_64",
		StartTimeUnixNs: start.UnixNano(), HermesVersion: Version, Tool: "hermes record",
	}
	if pid != 0 {
		h.Extra = map[string]string{"attached_pid": fmt.Sprint(pid)}
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
			h.Argv = strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		}
	}
	if dir != "" {
		if abs, err := filepath.Abs(dir); err == nil {
			h.Cwd = abs
		}
	} else if wd, err := os.Getwd(); err == nil {
		h.Cwd = wd
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.KernelRelease = unix.ByteSliceToString(u.Release[:])
	}
	return h
}

// settings fills in the header what the recording does and how: what it
// redacts (and redacts it in env and argv, where it looks for secrets
// too), its fault injection (inj,
// built), and its settings for repeatable runs and what the events carry.
func settings(h *tracepb.TraceHeader, o *RecordOptions, red *Redactor, secrets []string, inj *injection, logf func(string, ...any)) {
	h.Env, h.Argv = red.Env(h.Env), red.Argv(h.Argv, secrets)
	h.Chaos = o.Inject.Chaos
	h.RedactEnv = red.Patterns()
	in := &o.Inject
	for _, r := range in.Rules {
		h.FaultRules = append(h.FaultRules, r.Spec)
	}
	for i, name := range in.Scripts {
		// Each script has the params it declares (see checkParams).
		params := map[string]string{}
		if i < len(inj.engines) {
			for _, k := range inj.engines[i].Declared() {
				if v, ok := in.Params[k]; ok {
					params[k] = v
				}
			}
		}
		h.FaultScripts = append(h.FaultScripts, faultScript(name, params, logf))
	}
	if len(in.Scripts) > 0 || len(in.Rules) > 0 {
		h.FaultOnError = in.OnError.String()
		h.FaultStrict = in.Strict
	}
	h.SeedGiven = in.SeedSet
	h.IoUringAllowed = in.AllowIOUring
	h.Pinned = o.Pid == 0 && !o.NoPin
	h.Summarized, h.Stacks = o.Summarize, o.Stacks
}

// faultScript describes a fault script (a file, or builtin:NAME) and its
// params for the header: its source's digest and size as it is now,
// after it was loaded (a script that cannot be read again is noted, and
// described without them).
func faultScript(name string, params map[string]string, logf func(string, ...any)) *tracepb.FaultScript {
	fs := &tracepb.FaultScript{Name: name, Params: params}
	var src []byte
	var err error
	if b, ok := strings.CutPrefix(name, "builtin:"); ok {
		fs.Builtin = b
		if src, ok = policies.Get(b); !ok {
			err = errors.New("no such builtin")
		}
	} else {
		src, err = readScript(name)
	}
	if err != nil {
		logf("%s: its digest is not in the trace: %v", name, err)
		return fs
	}
	sum := sha256.Sum256(src)
	fs.Sha256, fs.Size = sum[:], int64(len(src))
	return fs
}

// maxScript is the largest script source inject loads.
const maxScript = 1 << 20

// readScript reads a script file that inject has loaded: a regular file
// (it is opened without blocking, and checked again once open, in case it
// was replaced by a FIFO or a device) of at most maxScript bytes.
func readScript(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	src, err := io.ReadAll(io.LimitReader(f, maxScript+1))
	if err == nil && len(src) > maxScript {
		err = fmt.Errorf("over %d bytes", maxScript)
	}
	return src, err
}

// startProgress shows a one-line progress display on a terminal, and
// returns the function that erases it.
func startProgress(stderr io.Writer, w *format.Writer) func() {
	if stderr == nil || !IsTerminal(stderr) {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		start := time.Now()
		for {
			select {
			case <-done:
				fmt.Fprint(stderr, "\r\x1b[K")
				return
			case <-tick.C:
				st := w.Stats()
				rate := float64(st.Events) / time.Since(start).Seconds()
				fmt.Fprintf(stderr, "\r\x1b[Khermes: %d events, %.1f MiB written, %.0f events/s", st.Events, float64(st.Bytes)/(1<<20), rate)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}

// runCheck runs a check after the target: in the view (or on the live
// file system where there is none), in dir, and says the statuses.
func runCheck(r *Result, view *fsview.View, check string, env []string, dir string, stdout, stderr *os.File, logf func(string, ...any)) error {
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	argv := []string{"/bin/sh", "-c", check}
	var status int
	var err error
	if view != nil {
		status, err = view.Run(argv, env, dir, stdout, stderr)
	} else {
		status, err = runLive(argv, env, dir, stdout, stderr)
	}
	if err != nil {
		return fmt.Errorf("--check %q: %w", check, err)
	}
	r.CheckRan, r.CheckStatus = true, status
	logf("the target exited with status %d; --check exited with status %d", r.ExitCode, status)
	return nil
}

// runLive runs argv on the live file system and returns its exit status.
func runLive(argv, env []string, dir string, stdout, stderr *os.File) (int, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, stdout, stderr
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
