package inject

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	randv2 "math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hermes-trace/hermes/policies"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// OnError is what happens to a syscall whose callback failed.
type OnError uint8

// Fallbacks for a callback that fails (runtime error or timeout).
const (
	Continue OnError = iota // let the call run unchanged (default)
	Deny                    // fail it with EPERM (at exit: make it return -EPERM)
	Kill                    // kill the calling process
)

func (o OnError) String() string {
	switch o {
	case Deny:
		return "deny"
	case Kill:
		return "kill"
	}
	return "continue"
}

// ParseOnError parses --on-error: "continue", "deny" or "kill".
func ParseOnError(s string) (OnError, error) {
	switch s {
	case "continue", "":
		return Continue, nil
	case "deny":
		return Deny, nil
	case "kill":
		return Kill, nil
	}
	return Continue, fmt.Errorf("invalid --on-error %q (want continue, deny or kill)", s)
}

// DefaultTimeout bounds each callback when Options.Timeout is zero.
const DefaultTimeout = 100 * time.Millisecond

// Options configure an Engine.
type Options struct {
	// Seed seeds hermes.rand (PCG). The caller picks it (NewSeed for a
	// random one), prints it and stores it, so a run can be repeated.
	Seed uint64
	// OnError applies to a syscall whose callback failed.
	OnError OnError
	// Timeout bounds each callback; zero means DefaultTimeout. The top
	// level of a script gets at least one second.
	Timeout time.Duration
	// Log receives hermes.log output, runtime errors and reload reports:
	// hermes's stderr. Nil discards them.
	Log io.Writer
	// Reload watches the script file and swaps in new versions.
	Reload bool
	// ReloadInterval is how often the file is polled; zero means 200ms.
	ReloadInterval time.Duration
	// Params fill the script's global table params (--param key=value).
	Params map[string]string
	// Failed, if set, is called on the tracer goroutine after each failing
	// callback (a runtime error or a timeout) has been reported and
	// OnError applied, with the message of the report (--strict stops the
	// run there).
	Failed func(error)
	// Strict says that Failed ends the run at the first failing callback
	// (hermes's --strict): reports name that, not OnError, which the
	// call the callback failed on got anyway.
	Strict bool
}

// policy names, in reports, what a failing callback leads to.
func (o *Options) policy() string {
	if o.Strict {
		return "--strict: the run ends"
	}
	return "on-error=" + o.OnError.String()
}

// NewSeed returns a random seed for Options.Seed.
func NewSeed() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return binary.LittleEndian.Uint64(b[:])
}

// Stats count what an Engine did.
type Stats struct {
	Calls    uint64 // Lua syscall callbacks run
	Injected uint64 // syscalls whose action the engine changed (Lua or rules)
	Errors   uint64 // callbacks that failed (runtime error or timeout)
	Reloads  uint64 // successful hot reloads
}

// Engine runs one Lua script (and/or strace-style rules) for one traced
// run. It implements tracer.Handler and tracer.ProcessHandler; all its
// callbacks run on the tracer goroutine.
type Engine struct {
	opts    Options
	timeout time.Duration
	name    string // script name for messages and Action.By; "" without a script
	path    string // file to reload from; "" for builtins and sources

	cur   *script                // owned by the tracer goroutine
	next  atomic.Pointer[script] // a reloaded version waiting to be swapped in
	trap  []int                  // the trap set the filter was built from (nil: all)
	rules *ruleSet

	logMu sync.Mutex
	rngMu sync.Mutex
	rng   *randv2.Rand

	reloadMu sync.Mutex // serialises compiles of new versions
	stopW    chan struct{}
	doneW    chan struct{}
	closed   bool

	comms        map[int]lua.LValue
	stdio        stdioFiles
	stats        Stats
	errMsg       int  // runtime errors reported so far (reports are capped)
	saidNoAccess bool // the fail-closed denial for unreadable memory was reported
}

// maxErrorReports caps how many runtime errors are printed.
const maxErrorReports = 20

func newEngine(opts Options) *Engine {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.ReloadInterval <= 0 {
		opts.ReloadInterval = 200 * time.Millisecond
	}
	return &Engine{
		opts:    opts,
		timeout: opts.Timeout,
		rng:     randv2.New(randv2.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
	}
}

// Load compiles the script at path, or the shipped policy builtin:NAME,
// and runs its top level. A script that does not compile or fails at its
// top level gives a *LoadError ("file:line: message"): hermes exits 125
// before the target starts.
func Load(path string, opts Options) (*Engine, error) {
	if name, ok := strings.CutPrefix(path, "builtin:"); ok {
		src, ok := policies.Get(name)
		if !ok {
			return nil, fmt.Errorf("unknown builtin policy %q (have: %s)", name, strings.Join(policies.List(), ", "))
		}
		opts.Reload = false
		return LoadSource(path, src, opts)
	}
	src, err := readScript(path)
	if err != nil {
		return nil, err
	}
	e := newEngine(opts)
	e.name, e.path = path, path
	if err := e.start(src); err != nil {
		return nil, err
	}
	if opts.Reload {
		e.watch()
	}
	return e, nil
}

// warn prints the load-time warnings of the current version on the log.
func (e *Engine) warn() {
	for _, w := range e.Warnings() {
		e.write("hermes: " + w + "\n")
	}
}

// LoadSource is Load for a script given as source; name is used in
// messages ("name:line: ..."). Reload is not available.
func LoadSource(name string, src []byte, opts Options) (*Engine, error) {
	e := newEngine(opts)
	e.name = name
	if err := e.start(src); err != nil {
		return nil, err
	}
	return e, nil
}

// NewRules returns an Engine that applies strace-style rules only.
func NewRules(rules []Rule, opts Options) *Engine {
	e := newEngine(opts)
	e.AddRules(rules...)
	return e
}

// AddRules adds strace-style rules (-e inject=, -e fault=) to e, applied
// before the script at each entry (the script may override them). Call it
// before the run starts.
func (e *Engine) AddRules(rules ...Rule) {
	if len(rules) == 0 {
		return
	}
	if e.rules == nil {
		e.rules = newRuleSet()
	}
	for _, r := range rules {
		e.rules.add(r)
	}
}

func (e *Engine) start(src []byte) error {
	s, err := compile(e, e.name, src)
	if err != nil {
		return err
	}
	e.cur = s
	e.warn()
	if s.trapDeclared {
		e.trap = trapList(s.trapSet)
	} else if s.onSyscall == nil && s.onReturn == nil {
		e.trap = []int{}
	}
	return nil
}

func trapList(set []bool) []int {
	out := []int{}
	for nr, ok := range set {
		if ok {
			out = append(out, nr)
		}
	}
	return out
}

// Check compiles and validates a script (hermes check): syntax, its top
// level, trap names, errno and signal names in literal uses. Nothing is
// traced. It returns the warnings of a script that loads (see Warnings).
func Check(path string) ([]string, error) {
	e, err := Load(path, Options{Log: io.Discard})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	return e.Warnings(), nil
}

// Warnings returns what looks wrong in a script that loads,
// "file:line: warning: ...": global functions named like a hook that are
// not one (on_syscal), which hermes never calls. Load prints them on the
// log.
func (e *Engine) Warnings() []string {
	if e.cur == nil {
		return nil
	}
	return e.cur.warnings
}

// Declared returns, sorted, the parameters the script declared by calling
// hermes.param at its top level.
func (e *Engine) Declared() []string {
	if e.cur == nil {
		return nil
	}
	out := make([]string, 0, len(e.cur.declared))
	for k := range e.cur.declared {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Name returns the script's name ("" for a rules-only engine).
func (e *Engine) Name() string { return e.name }

// Reloadable reports whether the script was loaded from a file, which
// Reload re-reads.
func (e *Engine) Reloadable() bool { return e.path != "" }

// Seed returns the seed of hermes.rand.
func (e *Engine) Seed() uint64 { return e.opts.Seed }

// Stats returns what the engine did so far. Call it from the tracer
// goroutine or after the run.
func (e *Engine) Stats() Stats { return e.stats }

// Trapped returns the x86_64 syscall numbers the script and rules act on,
// for tracer.Config.Trace: nil means all (a script that declares no
// hermes.trap). A script with neither on_syscall nor on_return traps
// nothing. Hot-reloaded versions cannot widen this set: the filter is
// installed once.
func (e *Engine) Trapped() []int {
	if e.cur != nil && e.trap == nil {
		return nil
	}
	set := make(map[int]bool)
	for _, nr := range e.trap {
		set[nr] = true
	}
	if e.rules != nil {
		for _, nr := range e.rules.trapped() {
			set[nr] = true
		}
	}
	out := make([]int, 0, len(set))
	for nr := range set {
		out = append(out, nr)
	}
	sort.Ints(out)
	return out
}

// traps reports whether the current script handles sc.
func (s *script) traps(sc *tracer.Syscall) bool {
	if !s.trapDeclared {
		return true
	}
	return sc.Arch == abi.ArchX86_64 && sc.Nr >= 0 && sc.Nr < len(s.trapSet) && s.trapSet[sc.Nr]
}

// Enter implements tracer.Handler: strace rules, then on_syscall.
func (e *Engine) Enter(sc *tracer.Syscall, act *tracer.Action) {
	if e.next.Load() != nil {
		e.swap()
	}
	if e.rules != nil && e.rules.enter(sc, act) {
		e.stats.Injected++
	}
	s := e.cur
	if s == nil || (s.onSyscall == nil && s.onReturn == nil) || !s.traps(sc) {
		return
	}
	if s.onReturn != nil {
		act.WantExit = true
	}
	if s.onSyscall != nil {
		e.run(s, s.onSyscall, sc, act, phaseEnter)
	}
}

// Exit implements tracer.Handler: strace rules' delay_exit, then on_return.
func (e *Engine) Exit(sc *tracer.Syscall, act *tracer.Action) {
	if e.rules != nil && e.rules.exit(sc, act) {
		e.stats.Injected++
	}
	s := e.cur
	if s == nil || s.onReturn == nil || !s.traps(sc) {
		return
	}
	e.run(s, s.onReturn, sc, act, phaseExit)
}

// run calls a syscall hook and applies its actions to act.
func (e *Engine) run(s *script, fn *lua.LFunction, sc *tracer.Syscall, act *tracer.Action, ph phase) {
	e.stats.Calls++
	c := &s.c
	c.begin(sc, ph)
	L := s.L
	s.dl.arm(e.timeout)
	L.Push(fn)
	L.Push(s.ev)
	err := L.PCall(1, 0, nil)
	s.dl.disarm()
	c.end()
	if err != nil {
		e.stats.Errors++
		e.reportError(s, err, sc, ph)
		switch e.opts.OnError {
		case Deny:
			act.Skip, act.Value = true, -int64(unix.EPERM)
			act.By = s.name
			e.stats.Injected++
		case Kill:
			act.Kill = true
			act.By = s.name
			e.stats.Injected++
		}
		return
	}
	if c.noAccess != nil && ph == phaseEnter {
		// Fail closed: what the script decided on was not what the call
		// holds (hermes could not read it).
		if !e.saidNoAccess {
			e.saidNoAccess = true
			e.write(fmt.Sprintf("hermes: %s: [%s] %s denied with EPERM, and every call after it whose memory the script reads: hermes cannot read that memory (%v)\n",
				s.name, sc.Thread.Lineage, sc.Name(), c.noAccess))
		}
		act.Skip, act.Value, act.By = true, -int64(unix.EPERM), s.name
		e.stats.Injected++
		return
	}
	p := &c.p
	if !p.any {
		return
	}
	changed := false
	if p.skip {
		if !(p.denied && ph == phaseEnter && failUnchanged(sc, act)) {
			act.Skip, act.Value = true, p.value
		}
		changed = true
	}
	for i := 0; i < 6; i++ {
		if p.setArgs&(1<<i) != 0 {
			act.SetArgs |= 1 << i
			act.Args[i] = p.args[i]
			changed = true
		}
	}
	if len(p.strings) > 0 {
		act.Strings = append(act.Strings, p.strings...)
		changed = true
	}
	if p.delay > 0 {
		act.Delay += p.delay
		changed = true
	}
	if p.signal != 0 {
		act.Signal = p.signal
		changed = true
	}
	if p.kill {
		act.Kill = true
		changed = true
	}
	if changed {
		act.By = s.name
		e.stats.Injected++
	}
}

// reportError prints a failing callback (the first maxErrorReports) and
// tells Options.Failed.
func (e *Engine) reportError(s *script, err error, sc *tracer.Syscall, ph phase) {
	e.errMsg++
	ctx := ph.hook()
	if sc != nil {
		ctx = fmt.Sprintf("%s, [%s] %s #%d", ctx, sc.Thread.Lineage, sc.Name(), sc.Nth)
	}
	msg := fmt.Sprintf("%s (in %s)", luaMessage(err), ctx)
	switch {
	case e.errMsg <= maxErrorReports:
		e.write(fmt.Sprintf("hermes: %s (in %s; %s)\n", luaMessage(err), ctx, e.opts.policy()))
	case e.errMsg == maxErrorReports+1:
		e.write("hermes: " + s.name + ": too many errors; further ones are counted, not printed\n")
	}
	if e.opts.Failed != nil {
		e.opts.Failed(errors.New(msg))
	}
}

// Process implements tracer.ProcessHandler: on_process, and bookkeeping.
func (e *Engine) Process(pev *tracer.ProcessEvent) {
	if e.next.Load() != nil {
		e.swap()
	}
	e.stdio.process(pev)
	if pev.Thread != nil {
		switch pev.Kind {
		case tracer.EventExec, tracer.EventExit:
			delete(e.comms, pev.Thread.Proc.Pid)
			if e.rules != nil && pev.Kind == tracer.EventExit {
				e.rules.forget(pev.Thread)
			}
		}
	}
	s := e.cur
	if s == nil || s.onProcess == nil {
		return
	}
	L := s.L
	t := L.NewTable()
	t.RawSetString("kind", lua.LString(processKind(pev.Kind)))
	if th := pev.Thread; th != nil {
		t.RawSetString("pid", lua.LNumber(th.Proc.Pid))
		t.RawSetString("tid", lua.LNumber(th.Tid))
		t.RawSetString("lineage", lua.LString(th.Lineage))
		if th.Proc.Exe != "" {
			t.RawSetString("exe", lua.LString(th.Proc.Exe))
		}
	}
	if ch := pev.Child; ch != nil {
		t.RawSetString("child_pid", lua.LNumber(ch.Proc.Pid))
		t.RawSetString("child_tid", lua.LNumber(ch.Tid))
		t.RawSetString("child_lineage", lua.LString(ch.Lineage))
	}
	if pev.Signal != 0 {
		t.RawSetString("signal", lua.LNumber(pev.Signal))
		t.RawSetString("signame", lua.LString(abi.SignalName(pev.Signal)))
	}
	if pev.Kind == tracer.EventExit {
		t.RawSetString("status", lua.LNumber(pev.Status))
		t.RawSetString("core", lua.LBool(pev.Core))
	}
	if pev.OldTid != 0 {
		t.RawSetString("old_tid", lua.LNumber(pev.OldTid))
	}
	s.c.phase, s.c.pev = phaseProcess, pev
	err := s.callTable(s.onProcess, t)
	s.c.end()
	if err != nil {
		e.stats.Errors++
		e.reportError(s, err, nil, phaseProcess)
	}
}

func (s *script) callTable(fn *lua.LFunction, arg lua.LValue) error {
	s.dl.arm(s.callbackTimeLimit)
	s.L.Push(fn)
	s.L.Push(arg)
	err := s.L.PCall(1, 0, nil)
	s.dl.disarm()
	return err
}

// Finish runs on_exit(summary) with how the run ended, then closes the
// engine. Call it once, after the tracer returned. Its error is on_exit's,
// which is reported and counted in Stats like any failing callback. If
// callbacks failed, it says on the log how many.
func (e *Engine) Finish(res tracer.Result) error {
	e.stopWatch()
	if e.next.Load() != nil {
		e.swap()
	}
	defer e.Close()
	defer e.summary()
	s := e.cur
	if s == nil || s.onExit == nil {
		return nil
	}
	L := s.L
	t := L.NewTable()
	t.RawSetString("exit_code", lua.LNumber(res.ExitCode))
	t.RawSetString("signal", lua.LNumber(res.Signal))
	t.RawSetString("core", lua.LBool(res.Core))
	t.RawSetString("interrupted", lua.LBool(res.Interrupted))
	t.RawSetString("calls", lua.LNumber(e.stats.Calls))
	t.RawSetString("injected", lua.LNumber(e.stats.Injected))
	t.RawSetString("errors", lua.LNumber(e.stats.Errors))
	t.RawSetString("reloads", lua.LNumber(e.stats.Reloads))
	t.RawSetString("seed", lua.LString(fmt.Sprint(e.opts.Seed)))
	s.c.phase = phaseFinish
	err := s.callTable(s.onExit, t)
	s.c.end()
	if err != nil {
		e.stats.Errors++
		e.reportError(s, err, nil, phaseFinish)
		return errors.New(luaMessage(err))
	}
	return nil
}

// summary says, in the closing lines of a run, how many callbacks failed:
// a script that fails in every callback injects nothing.
func (e *Engine) summary() {
	if n := e.stats.Errors; n > 0 {
		what := "callbacks"
		if n == 1 {
			what = "callback"
		}
		policy := e.opts.policy()
		if e.opts.Strict {
			policy = "--strict"
		}
		e.write(fmt.Sprintf("hermes: %s: %d %s failed (%s); %d calls injected\n", e.name, n, what, policy, e.stats.Injected))
	}
}

// Close stops the reload watcher and frees the Lua states. Finish calls it.
func (e *Engine) Close() {
	e.stopWatch()
	if e.closed {
		return
	}
	e.closed = true
	if p := e.next.Swap(nil); p != nil {
		p.close()
	}
	if e.cur != nil {
		e.cur.close()
	}
}

func (e *Engine) write(s string) {
	if e.opts.Log == nil {
		return
	}
	e.logMu.Lock()
	defer e.logMu.Unlock()
	io.WriteString(e.opts.Log, s)
}

func (e *Engine) randFloat() float64 {
	e.rngMu.Lock()
	defer e.rngMu.Unlock()
	return e.rng.Float64()
}

func (e *Engine) randN(n int64) int64 {
	e.rngMu.Lock()
	defer e.rngMu.Unlock()
	return e.rng.Int64N(n)
}

var (
	_ tracer.Handler        = (*Engine)(nil)
	_ tracer.ProcessHandler = (*Engine)(nil)
)
