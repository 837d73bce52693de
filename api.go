package hermes

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/internal/chaos"
	"github.com/hermes-trace/hermes/internal/run"
	"github.com/hermes-trace/hermes/replay"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
)

// Injection says how a run tampers with the system calls of its command.
// The zero value injects nothing.
type Injection struct {
	// Script is a Lua fault-injection script: a file, or "builtin:NAME"
	// for a built-in policy (hermes policies lists them).
	Script string
	// Scripts are more scripts, composed after Script in this order: at
	// each call every one runs, a later one winning where two act.
	Scripts []string
	// Params are the scripts' parameters: each goes to every script that
	// declares it (hermes.param at its top level); a parameter that no
	// script declares is an error.
	Params map[string]string
	// Rules are strace-style fault rules, as after -e:
	// "inject=write:error=ENOSPC:when=3", "fault=openat:error=EACCES".
	Rules []string
	// Handler is a Go handler run after the script and rules: it sees every
	// trapped call (all of them, when set) and may change its Action.
	// Setting Action.By names it in the trace.
	Handler tracer.Handler
	// Seed seeds the script's hermes.rand when SeedSet; otherwise Replay
	// uses the trace's seed and the others a random one (Result.Seed).
	Seed    uint64
	SeedSet bool
	// OnError is what a call gets when its Lua callback fails: "continue"
	// (the default), "deny" or "kill".
	OnError string
	// Strict ends the run at the first script error (a callback that
	// fails or times out): the command is killed and the run returns an
	// error.
	Strict bool
	// Reload reloads the script when its file changes.
	Reload bool
	// Chaos perturbs the schedule (Trace and Record): at trapped calls,
	// futex waits and wakes included, it holds the calling thread or lets
	// another go first, one thread at a time between calls, by decisions
	// drawn from the run's seed (Seed, or a random one in Result.Seed).
	// The same seed gives the same decisions at the same calls
	// (Result.ChaosDecisions); a recording made with it replays in its
	// order.
	Chaos bool
	// Log receives the script's hermes.log output and its errors; nil
	// discards them.
	Log io.Writer
}

func (in *Injection) internal() (run.Inject, error) {
	out := run.Inject{Params: in.Params, Handler: in.Handler, Seed: in.Seed, SeedSet: in.SeedSet,
		Strict: in.Strict, Reload: in.Reload, Log: in.Log, Chaos: in.Chaos}
	if in.Script != "" {
		out.Scripts = append(out.Scripts, in.Script)
	}
	out.Scripts = append(out.Scripts, in.Scripts...)
	if in.OnError != "" {
		oe, err := inject.ParseOnError(in.OnError)
		if err != nil {
			return out, err
		}
		out.OnError = oe
	}
	for _, r := range in.Rules {
		rule, err := inject.ParseStrace(r)
		if err != nil {
			return out, fmt.Errorf("%s: %w", r, err)
		}
		out.Rules = append(out.Rules, rule)
	}
	return out, nil
}

// Result is how a run ended.
type Result struct {
	// ExitCode is the command's exit status, 128+N if signal N killed it.
	ExitCode int
	// Signal is the signal that killed the command, or 0.
	Signal int
	// Interrupted is set when the context was cancelled before the command
	// ended; its processes were killed.
	Interrupted bool
	// Seed is the seed of the run's hermes.rand: give it back as
	// Injection.Seed to repeat the run's random choices.
	Seed uint64
	// Injected counts the calls the injection changed.
	Injected int
	// Departure is, in a replay, where an injection made the run depart
	// from the recording, or nil.
	Departure *replay.Departure
	// Divergence is, in a replay, the first call that differed from the
	// recording, or nil.
	Divergence *replay.Divergence
	// Divergences counts, in a replay, the divergences reported: with
	// ReplayOptions.Lenient the run goes on after them and Divergence
	// stays nil.
	Divergences int
	// Matched counts, in a replay, the calls that matched the recording.
	Matched int
	// CheckRan and CheckStatus say whether the Check command ran and how it
	// exited.
	CheckRan    bool
	CheckStatus int
	// View is set when the command ran in a private view of the file
	// system.
	View bool
	// Relaxed counts, in an ordered replay, the waits for a thread's turn
	// that were cut short because the program could not go on in the
	// recorded order there.
	Relaxed int
	// ChaosDecisions are, in a run with Injection.Chaos, the decisions that
	// held a thread or let another go first (the first 65536, in order);
	// ChaosHolds counts them all.
	ChaosDecisions []ChaosDecision
	ChaosHolds     int
}

// ChaosDecision is one choice chaos scheduling made at a call.
type ChaosDecision struct {
	Lineage string        // the thread, as a lineage ("1", "1.2")
	Syscall string        // the call's name
	Nth     int           // calls of that syscall the thread made before this one
	Kind    string        // "hold" (the thread waits Hold) or "yield" (another thread goes first, at most Hold)
	Hold    time.Duration // how long at most
}

func (d ChaosDecision) String() string {
	return fmt.Sprintf("%s %s#%d %s %v", d.Lineage, d.Syscall, d.Nth, d.Kind, d.Hold)
}

func chaosDecisions(ds []chaos.Decision) []ChaosDecision {
	if ds == nil {
		return nil
	}
	out := make([]ChaosDecision, len(ds))
	for i, d := range ds {
		out[i] = ChaosDecision{Lineage: d.Lineage, Syscall: abi.Name(abi.ArchX86_64, d.Nr), Nth: d.Nth, Kind: d.Kind.String(), Hold: d.Hold}
	}
	return out
}

func result(r run.Result) Result {
	return Result{ExitCode: r.ExitCode, Signal: r.Signal, Interrupted: r.Interrupted, Seed: r.Seed, Injected: r.Injected,
		Departure: r.Departure, Divergence: r.Divergence, Divergences: r.Divergences, Matched: r.Matched, CheckRan: r.CheckRan,
		CheckStatus: r.CheckStatus, View: r.View, Relaxed: r.Relaxed, ChaosDecisions: chaosDecisions(r.ChaosDecisions), ChaosHolds: r.ChaosHolds}
}

// syscalls reads a syscall selection in strace's syntax.
func syscalls(spec string) ([]int, error) {
	if spec == "" {
		return nil, nil
	}
	calls, err := abi.Select(spec)
	if err != nil {
		return nil, err
	}
	nrs := make([]int, 0, len(calls))
	for _, c := range calls {
		nrs = append(nrs, c.Nr)
	}
	return nrs, nil
}

// TraceOptions configure Trace.
type TraceOptions struct {
	// Env is the command's environment; nil means this process's.
	Env []string
	// Dir is the command's working directory; "" means this process's.
	Dir string
	// Stdin, Stdout and Stderr of the command; nil inherits this
	// process's.
	Stdin, Stdout, Stderr *os.File
	// Pid attaches to this running process (and all its threads) instead
	// of launching argv, which must then be empty. Cancelling the context
	// detaches and leaves it running.
	Pid int
	// Output receives the strace-like text; nil means os.Stderr.
	Output io.Writer
	// Syscalls selects the calls to trace, in strace's -e trace= syntax
	// ("openat,read", "%file,%network"); "" traces all.
	Syscalls string
	// StringLimit is how many bytes of each string are printed (0: 32).
	StringLimit int
	// Inject tampers with the calls.
	Inject Injection
	// NoPin lets the command run on every CPU; by default it shares one
	// with the tracer, which makes ptrace stops much cheaper on VMs.
	NoPin bool
	// Logf receives hermes's own notes; nil discards them.
	Logf func(format string, args ...any)
}

// Trace runs argv (looked up in PATH), or attaches to opts.Pid, and
// prints its system calls, signals and exits as strace -f does.
func Trace(ctx context.Context, argv []string, opts TraceOptions) (Result, error) {
	sel, err := syscalls(opts.Syscalls)
	if err != nil {
		return Result{}, err
	}
	in, err := opts.Inject.internal()
	if err != nil {
		return Result{}, err
	}
	if opts.StringLimit == 0 {
		opts.StringLimit = 32
	}
	r, err := run.Trace(ctx, run.TraceOptions{Argv: argv, Pid: opts.Pid, Env: opts.Env, Dir: opts.Dir, Stdin: opts.Stdin, Stdout: opts.Stdout,
		Stderr: opts.Stderr, Trace: sel, Writer: opts.Output, StrSize: opts.StringLimit, NoPin: opts.NoPin, Inject: in, Logf: opts.Logf})
	return result(r), err
}

// RecordOptions configure Record.
type RecordOptions struct {
	// Output is the trace file ("hermes.trace" if empty), mode 0600,
	// written as Output.partial and renamed when complete; "-", a pipe or
	// a device is written as a stream.
	Output string
	// Pid attaches to this running process, as in TraceOptions.
	Pid int
	// Env, Dir, Stdin, Stdout and Stderr are as in TraceOptions.
	Env                   []string
	Dir                   string
	Stdin, Stdout, Stderr *os.File
	// Syscalls selects the calls to record, in strace's -e trace= syntax;
	// "" records all.
	Syscalls string
	// Inject tampers with the calls; the trace says what was injected.
	Inject Injection
	// Stacks records each call's call-site frames.
	Stacks bool
	// View runs the command in a private view of the file system: the real
	// files are left as they were. Where no view can be made, Record fails
	// with an error wrapping fsview.ErrUnavailable.
	View bool
	// Hide lists more paths the view hides from the command.
	Hide []string
	// Check is a shell command run after the command, in the view (or on
	// the real files without View), in Dir: Result.CheckStatus.
	Check                    string
	CheckStdout, CheckStderr *os.File
	// Summarize keeps only a digest of data that can be read again.
	Summarize bool
	// NoPreimages keeps no pre-images of the files the command changes
	// (replay then runs on the files as they are).
	NoPreimages bool
	// Nondeterministic leaves address randomization on and the vDSO as
	// the kernel made it (clocks are read without syscalls): cheaper, but
	// the trace will not replay exactly.
	Nondeterministic bool
	// NoPin is as in TraceOptions.
	NoPin bool
	// Logf receives hermes's own notes; nil discards them.
	Logf func(format string, args ...any)
}

// Record runs argv and records its system calls into a trace file that
// Replay and the hermes command can read.
func Record(ctx context.Context, argv []string, opts RecordOptions) (Result, error) {
	sel, err := syscalls(opts.Syscalls)
	if err != nil {
		return Result{}, err
	}
	in, err := opts.Inject.internal()
	if err != nil {
		return Result{}, err
	}
	r, err := run.Record(ctx, run.RecordOptions{Argv: argv, Pid: opts.Pid, Env: opts.Env, Dir: opts.Dir, Stdin: opts.Stdin, Stdout: opts.Stdout,
		Stderr: opts.Stderr, Output: opts.Output, Trace: sel, Inject: in, Stacks: opts.Stacks, View: opts.View, Hide: opts.Hide,
		Check: opts.Check, CheckStdout: opts.CheckStdout, CheckStderr: opts.CheckStderr, Summarize: opts.Summarize,
		NoPreimages: opts.NoPreimages, Nondeterministic: opts.Nondeterministic, NoPin: opts.NoPin, Logf: opts.Logf})
	return result(r), err
}

// ReplayOptions configure Replay.
type ReplayOptions struct {
	// Argv runs this command instead of the recorded one (nil: recorded).
	Argv []string
	// Env are KEY=VALUE overrides of the recorded environment.
	Env []string
	// Emulate adds or removes emulation classes, as hermes replay
	// --emulate: "file", "-net", "none"; "" is the default set.
	Emulate string
	// Lenient reports divergences and carries on.
	Lenient bool
	// Order is the order in which the threads' calls are let go, as hermes
	// replay --order: "strict" (the default: the recorded order, one
	// thread at a time between calls), "relaxed" or "off".
	Order string
	// Inject tampers with the replayed calls: where it changes a call the
	// run departs from the recording (Result.Departure).
	Inject Injection
	// LiveFS replays on the real files instead of a private view restored
	// from the trace's pre-images.
	LiveFS bool
	// RequireView fails (an error wrapping fsview.ErrUnavailable) where no
	// private view can be made, instead of replaying on the real files.
	RequireView bool
	// Hide lists more paths the view hides.
	Hide []string
	// KeepFS keeps in this directory the files the run created or changed.
	KeepFS string
	// Check is a shell command run after the command, in the view, in the
	// recorded working directory: Result.CheckStatus.
	Check                    string
	CheckStdout, CheckStderr *os.File
	// Stdin, Stdout and Stderr of the command; nil inherits.
	Stdin, Stdout, Stderr *os.File
	// Report receives the divergence reports; nil discards them.
	Report io.Writer
	// NoPin is as in TraceOptions.
	NoPin bool
	// Logf receives hermes's own notes; nil discards them.
	Logf func(format string, args ...any)
}

// Replay runs the command of the trace again and makes it see what it saw
// when recorded. A divergence is Result.Divergence, not an error.
func Replay(ctx context.Context, trace string, opts ReplayOptions) (Result, error) {
	classes, err := replay.ParseClasses(opts.Emulate)
	if err != nil {
		return Result{}, err
	}
	order, err := replay.ParseOrder(opts.Order)
	if err != nil {
		return Result{}, err
	}
	in, err := opts.Inject.internal()
	if err != nil {
		return Result{}, err
	}
	r, err := run.Replay(ctx, run.ReplayOptions{Trace: trace, Argv: opts.Argv, Env: opts.Env, Emulate: classes, Lenient: opts.Lenient, Order: order,
		Inject: in, LiveFS: opts.LiveFS, RequireView: opts.RequireView, Hide: opts.Hide, KeepFS: opts.KeepFS, Check: opts.Check,
		CheckStdout: opts.CheckStdout, CheckStderr: opts.CheckStderr, Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr,
		Report: opts.Report, NoPin: opts.NoPin, Logf: opts.Logf})
	return result(r), err
}

// Explore is in explore.go.
