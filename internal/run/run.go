// Package run is the wiring of hermes's runs: it builds the tracer, the
// recorder or replayer, the fault-injection engine and the view of the
// file system for a trace, record or replay, runs the target, and says how
// it ended. cmd/hermes is flags over it; the module's root package is the
// public API over it.
//
// A run never touches the process's signal handling: the caller turns
// signals into a cancelled context (or Control.Stop) and Control.Reload.
// Several runs can go on at once in one process.
package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"

	"github.com/hermes-trace/hermes/internal/chaos"

	"github.com/hermes-trace/hermes/replay"
	"github.com/hermes-trace/hermes/tracer"
)

// Version is what Record writes as the hermes version of a trace.
var Version = "0.1.0-dev"

// Result is how a run ended.
type Result struct {
	ExitCode    int    // the target's status, 128+N if signal N killed it
	Signal      int    // the signal that killed the root process, or 0
	Interrupted bool   // ctx was cancelled (or Stop) before the target ended; tracees were killed
	Seed        uint64 // the seed the run used
	Injected    int    // how many calls the injection changed (inject.Engine Stats)
	// Departure is, in a replay, where the run departed from the
	// recording (an injection changed a call), or nil.
	Departure *replay.Departure
	// Divergence is, in a replay, the first divergence, or nil.
	Divergence *replay.Divergence
	// Divergences counts, in a replay, the divergences reported (with
	// Lenient the run goes on after them, and Divergence stays nil).
	Divergences int
	Matched     int // replay: calls matched
	// Relaxed counts, in an ordered replay, the waits for a thread's turn
	// that were cut short (the program could not go on in the recorded
	// order there).
	Relaxed int
	// ChaosDecisions are, in a run with Inject.Chaos, the decisions that
	// held a thread (the first 65536, in order); ChaosHolds counts them all.
	ChaosDecisions []chaos.Decision
	ChaosHolds     int
	CheckRan       bool // Check was run
	CheckStatus    int  // its exit status (128+N for a signal)
	View           bool // the run happened in a private view of the file system
}

// StopSignal is a cancellation cause (context.WithCancelCause) carrying
// the signal hermes received: a run whose context is cancelled with it
// stops as tracer.Stop(sig) does (a short grace period, then the tracees
// are killed, and ExitCode says 128+sig). Any other cancellation kills the
// tracees at once (attached ones are detached).
type StopSignal syscall.Signal

func (s StopSignal) Error() string { return "stopped by " + syscall.Signal(s).String() }

// Control acts on a run while it goes, from any goroutine: the CLI's
// signals. The zero value is ready; give one to one run.
type Control struct {
	mu   sync.Mutex
	t    *tracer.Tracer
	inj  *injection
	stop int
}

// Stop stops the run as if hermes had received signal sig (-1: kill at
// once); a second Stop does not wait for the grace period.
func (c *Control) Stop(sig int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t != nil {
		c.t.Stop(sig)
		return
	}
	c.stop = sig
}

// Reload re-reads the injection scripts now (SIGHUP); nothing without one.
func (c *Control) Reload() error {
	c.mu.Lock()
	inj := c.inj
	c.mu.Unlock()
	if inj == nil {
		return nil
	}
	return inj.reload()
}

func (c *Control) bind(t *tracer.Tracer, inj *injection) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t, c.inj = t, inj
	if c.stop != 0 {
		t.Stop(c.stop)
	}
}

func (c *Control) unbind() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.t, c.inj = nil, nil
	c.mu.Unlock()
}

// logger returns logf, or a function that discards.
func logger(logf func(string, ...any)) func(string, ...any) {
	if logf == nil {
		return func(string, ...any) {}
	}
	return logf
}

// union merges two trap sets, where nil means every syscall.
func union(a, b []int) []int {
	if a == nil || b == nil {
		return nil
	}
	return append(append([]int(nil), a...), b...)
}

// runTracer launches or attaches, stops the run when ctx is done or ctl
// says, finishes the injection and then the caller's finish.
func runTracer(ctx context.Context, cfg tracer.Config, pid int, argv []string, ctl *Control, inj *injection,
	setup func(*tracer.Tracer), finish func(tracer.Result) error) (tracer.Result, error) {
	t := tracer.New(cfg)
	if setup != nil {
		setup(t)
	}
	inj.bind(t)
	ctl.bind(t, inj)
	stop := context.AfterFunc(ctx, func() {
		sig := -1
		var s StopSignal
		if errors.As(context.Cause(ctx), &s) {
			sig = int(s)
		}
		t.Stop(sig)
	})
	var res tracer.Result
	var err error
	if pid != 0 {
		res, err = t.Attach(pid)
	} else {
		res, err = t.Launch(argv)
	}
	stop()
	ctl.unbind()
	if ferr := inj.finish(res); ferr != nil && err == nil {
		err = ferr
	}
	if finish != nil {
		if ferr := finish(res); ferr != nil && err == nil {
			err = ferr
		}
	}
	if err != nil {
		var ee *tracer.ExecError
		if !errors.As(err, &ee) && pid != 0 {
			err = fmt.Errorf("%w", err)
		}
	}
	return res, err
}

// result fills the common part of a Result.
func result(res tracer.Result, inj *injection) Result {
	out := Result{ExitCode: res.ExitCode, Signal: res.Signal, Interrupted: res.Interrupted, Seed: inj.seed, Injected: inj.injected()}
	out.ChaosDecisions, out.ChaosHolds = inj.chaosDecisions()
	return out
}

// ShellQuote quotes s for a POSIX shell where it needs it, for the
// reproducer command lines hermes prints.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,+%@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ioUring sets what cfg does with io_uring_setup in a run that records,
// replays or injects (guarded).
func (in Inject) ioUring(cfg *tracer.Config, guarded bool) {
	if guarded {
		cfg.RefuseIOUring = !in.AllowIOUring
		cfg.WarnIOUring = in.AllowIOUring
	}
}
