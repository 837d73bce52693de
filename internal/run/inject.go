package run

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/hermes-trace/hermes/internal/chaos"

	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/tracer"
)

// Inject is the fault injection of a run.
type Inject struct {
	// Scripts are Lua files or builtin:NAME, composed in this order: at
	// each call every script runs, each seeing what the ones before it
	// decided, and a later one wins where two act.
	Scripts []string
	// Params are the scripts' parameters: each goes to every script that
	// declares it (hermes.param at its top level); one that no script
	// declares is an error.
	Params  map[string]string
	Rules   []inject.Rule  // strace-style -e inject=/fault= rules (inject.ParseStrace)
	Handler tracer.Handler // a Go handler, run after the scripts and rules; nil none
	// Seed seeds hermes.rand; with SeedSet false, replay uses the trace's
	// and the others a random one. The first script draws from Seed, each
	// later one from a stream of its own derived from it.
	Seed    uint64
	SeedSet bool
	OnError inject.OnError
	// Strict ends the run at the first script error (a callback that
	// fails or times out, on_exit's included): the target is killed and
	// the run returns an error.
	Strict bool
	Reload bool // reload the scripts when their files change
	// AllowIOUring lets io_uring_setup through, with a warning, in the
	// runs that refuse it with ENOSYS by default: record, replay, and any
	// run with a script or rules (the operations of a ring never pass
	// through a system call hermes could see).
	AllowIOUring bool
	// Log receives the scripts' hermes.log output, their runtime errors
	// and warnings (nil discards them).
	Log io.Writer
	// Chaos perturbs the schedule at trapped calls (futex too) with
	// decisions drawn from a stream derived from the run's seed (trace,
	// record and explore; see package chaos).
	Chaos bool
}

// injection is the built injection of a run.
type injection struct {
	engines []*inject.Engine // the scripts in order; the first also has the rules
	handler *counted
	chaos   *chaos.Chaos
	seed    uint64
	failed  error  // with Strict, the first script error
	stop    func() // ends the run; set once the tracer exists
}

// scriptSeed is the seed of script i of a run seeded with seed: seed for
// the first, a splitmix64 step away for each later one.
func scriptSeed(seed uint64, i int) uint64 {
	if i == 0 {
		return seed
	}
	z := seed + uint64(i)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// build loads the scripts (and the rules) and wraps the Go handler; seed
// is the seed to use.
func (in *Inject) build(seed uint64, logf func(string, ...any)) (*injection, error) {
	inj := &injection{seed: seed}
	if in.Handler != nil {
		inj.handler = &counted{h: in.Handler}
	}
	if in.Chaos {
		inj.chaos = chaos.New(seed)
		logf("chaos: seed %d (--chaos=%d makes the same decisions again; a recording replays this very run)", seed, seed)
	}
	opts := inject.Options{OnError: in.OnError, Log: in.Log, Reload: in.Reload, Params: in.Params}
	if opts.Params == nil {
		opts.Params = map[string]string{}
	}
	if in.Strict {
		opts.Failed, opts.Strict = inj.fail, true
	}
	for i, path := range in.Scripts {
		opts.Seed = scriptSeed(seed, i)
		e, err := inject.Load(path, opts)
		if err != nil {
			inj.close()
			return nil, err
		}
		inj.engines = append(inj.engines, e)
	}
	if err := inj.checkParams(in.Params); err != nil {
		inj.close()
		return nil, err
	}
	if len(inj.engines) > 0 {
		names := make([]string, len(inj.engines))
		for i, e := range inj.engines {
			names[i] = e.Name()
		}
		logf("%s: seed %d (repeat with --seed %d)", strings.Join(names, ", "), seed, seed)
		inj.engines[0].AddRules(in.Rules...)
	} else if len(in.Rules) > 0 {
		opts.Seed = seed
		inj.engines = append(inj.engines, inject.NewRules(in.Rules, opts))
	}
	return inj, nil
}

// checkParams refuses a parameter that no script declares: a typo
// (nht=3 for nth=3) would otherwise be silently ignored.
func (inj *injection) checkParams(params map[string]string) error {
	declared := map[string]bool{}
	var have []string
	for _, e := range inj.engines {
		if e.Name() == "" {
			continue // strace-style rules only
		}
		d := e.Declared()
		for _, k := range d {
			declared[k] = true
		}
		if len(d) > 0 {
			have = append(have, e.Name()+" declares "+strings.Join(d, ", "))
		} else {
			have = append(have, e.Name()+" declares none")
		}
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if declared[k] {
			continue
		}
		if len(have) == 0 {
			return fmt.Errorf("parameter %s=%s: there is no script to take it", k, params[k])
		}
		return fmt.Errorf("parameter %s=%s: no script declares %s (%s)", k, params[k], k, strings.Join(have, "; "))
	}
	return nil
}

// fail is inject.Options.Failed with Strict: the first script error ends
// the run.
func (inj *injection) fail(err error) {
	if inj.failed != nil {
		return
	}
	inj.failed = err
	if inj.stop != nil {
		inj.stop()
	}
}

// active reports whether anything injects.
func (inj *injection) active() bool {
	return len(inj.engines) > 0 || inj.handler != nil || inj.chaos != nil
}

// handlers are the injecting handlers, in order.
func (inj *injection) handlers() []tracer.Handler {
	var hs []tracer.Handler
	if inj.chaos != nil {
		hs = append(hs, inj.chaos)
	}
	for _, e := range inj.engines {
		hs = append(hs, e)
	}
	if inj.handler != nil {
		hs = append(hs, inj.handler)
	}
	return hs
}

// trapped is what the injection needs trapped: nil (all) with a Go handler
// or a script that declares no hermes.trap.
func (inj *injection) trapped() []int {
	if inj.handler != nil || (len(inj.engines) == 0 && inj.chaos == nil) {
		return nil
	}
	var all []int
	if inj.chaos != nil {
		all = append(all, chaos.Trapped()...)
	}
	for _, e := range inj.engines {
		t := e.Trapped()
		if t == nil {
			return nil
		}
		all = append(all, t...)
	}
	sort.Ints(all)
	return compactInts(all)
}

// compactInts drops the repeats of a sorted list, keeping it non-nil.
func compactInts(s []int) []int {
	out := []int{}
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// injected counts the calls the injection changed.
func (inj *injection) injected() int {
	n := 0
	for _, e := range inj.engines {
		n += int(e.Stats().Injected)
	}
	if inj.handler != nil {
		n += inj.handler.n
	}
	return n
}

// chaosDecisions returns the chaos decisions of the run (the first 65536)
// and how many held a thread.
func (inj *injection) chaosDecisions() ([]chaos.Decision, int) {
	if inj.chaos == nil {
		return nil, 0
	}
	return inj.chaos.Decisions()
}

// bind makes a script error end the run on t (with Strict).
func (inj *injection) bind(t *tracer.Tracer) {
	inj.stop = func() { t.Stop(-1) }
}

// finish runs each script's on_exit and closes it. A failing on_exit is a
// script error like any other: reported, counted, and not the run's
// failure unless Strict.
func (inj *injection) finish(res tracer.Result) error {
	inj.stop = nil // the run is over: nothing left to stop
	for _, e := range inj.engines {
		e.Finish(res) // its error is reported on the log, and counted
	}
	if inj.failed != nil {
		return fmt.Errorf("--strict: %w", inj.failed)
	}
	return nil
}

// close frees the scripts of a run that does not start.
func (inj *injection) close() {
	for _, e := range inj.engines {
		e.Close()
	}
}

// reload re-reads the scripts loaded from files (SIGHUP).
func (inj *injection) reload() error {
	var errs []error
	n := 0
	for _, e := range inj.engines {
		if !e.Reloadable() {
			continue
		}
		n++
		if err := e.Reload(); err != nil {
			errs = append(errs, err)
		}
	}
	if n == 0 && len(inj.engines) > 0 {
		return errors.New("reload: no script was loaded from a file")
	}
	return errors.Join(errs...)
}

// counted runs a Go handler and counts the calls it changed.
type counted struct {
	h tracer.Handler
	n int
}

func (c *counted) Enter(sc *tracer.Syscall, act *tracer.Action) {
	before := act.Injected()
	c.h.Enter(sc, act)
	c.note(before, act)
}

func (c *counted) Exit(sc *tracer.Syscall, act *tracer.Action) {
	before := act.Injected()
	c.h.Exit(sc, act)
	c.note(before, act)
}

func (c *counted) note(before bool, act *tracer.Action) {
	if !before && act.Injected() {
		c.n++
		if act.By == "" {
			act.By = "go"
		}
	}
}

func (c *counted) Process(ev *tracer.ProcessEvent) {
	if ph, ok := c.h.(tracer.ProcessHandler); ok {
		ph.Process(ev)
	}
}
