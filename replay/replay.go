package replay

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hermes-trace/hermes/format/recorded"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// Options configure a replay.
type Options struct {
	// Lenient reports divergences and carries on instead of stopping at the
	// first one.
	Lenient bool
	// Emulate is the set of classes emulated from the recording.
	Emulate Classes
	// Overlay, if set, sees every call after the replayer has decided (a
	// Lua engine). Where it skips, kills or changes arguments, its action
	// replaces the replayer's; a delay or a signal is added to it. If it
	// also implements tracer.ProcessHandler it gets process events.
	Overlay tracer.Handler
	// Command is set when the command was given instead of taken from the
	// trace: the first exec is then not compared.
	Command bool
	// Report receives divergence reports (one block each).
	Report io.Writer
	// ViewLimits, if set, says what the view of the files the run is in
	// cannot do (a user namespace's overlay renames no directory that was
	// there before): a divergence it causes says so.
	ViewLimits string
	// Stop ends the run (kills the target); called on the tracer thread.
	Stop func()
	// DropFaults leaves out the faults the recording injected: such a
	// call runs for real, and the replay departs there. An Overlay can put
	// some of them back (hermes explore --minimize does).
	DropFaults bool
	// Order is how calls of different threads are ordered (OrderStrict,
	// the zero value, by default).
	Order Order
}

// historyLen is how many calls before a divergence its report shows.
const historyLen = 4

// maxReports bounds the divergences a lenient replay reports and goes on
// after.
const maxReports = 20

// Modes of a call in flight.
const (
	modeReal       uint8 = iota // runs for real; compare its result at exit
	modeEmulated                // skipped, recorded result and memory given
	modeUnchecked               // runs for real, nothing to compare
	modeAccept                  // accept emulated by dup3 onto the recorded fd
	modeExitInject              // the recording changed the result at exit
	modeFloat                   // a scheduling call with no recorded counterpart
	modeContinue                // the rest of a short read (see completeRead)
)

// Divergence is a difference between the replay and the recording.
type Divergence struct {
	Lineage string
	Index   int    // the recorded call's index in its thread, from 0
	Seq     uint64 // the recorded call's sequence number, 0 if none
	Reason  string
}

func (d *Divergence) Error() string {
	return fmt.Sprintf("replay diverged from the recording at %s call #%d: %s", d.Lineage, d.Index, d.Reason)
}

// EndError is returned when the run went past the end of a recording that
// was cut short (its writer was killed).
type EndError struct {
	Lineage string
	Index   int
	Events  int
	Reason  string
}

func (e *EndError) Error() string {
	return fmt.Sprintf("the recording ends at %s call #%d (partial trace, %d events recovered: %s); replay stopped there",
		e.Lineage, e.Index, e.Events, e.Reason)
}

// ErrNotDeterministic is wrapped by the warning for traces recorded with
// ASLR on and the vDSO as the kernel made it.
var ErrNotDeterministic = errors.New("the trace was recorded with --nondeterministic: clocks and addresses will not replay")

// Replayer is the tracer handler of `hermes replay`.
type Replayer struct {
	*matcher
	r      *format.Reader
	hdr    *tracepb.TraceHeader
	opts   Options
	traced [512]bool
	calls  int // calls matched
	emul   int // calls emulated

	outside map[string]bool // what the root's inherited descriptors are
	netSock map[string]bool // sockets the target made ("socket:[ino]")

	clocks *clockBook // recorded clocks: offsets, last readings

	dep     *departed // set once the replay departed from its recording
	seed    uint64    // of the departed run's randomness
	first   *Divergence
	reports int
	end     *EndError
	unsafe  *UnsafeWriteError // a write outside a call's buffers ended the run
	stopped bool
	regions []region // scratch for bound
	// entryArgs keeps the arguments of calls the replay changed, for
	// bound at their exit.
	entryArgs map[*tracer.Thread]*[6]uint64
	gaveUp    bool // a lenient replay stopped after too many divergences
	// idMaps maps the ids the kernel hands out, by kind (see ids.go);
	// moved keeps the structures replay passed in scratch memory.
	idMaps map[abi.IDKind]*idMap
	moved  map[*tracer.Thread]movedStruct
	tsc    tsc // the last time stamp counter given

	ov      tracer.Action
	ovx     tracer.Action
	buf     []byte
	str     []byte
	scratch []byte
	iovBuf  []byte         // compareIov's live iovec array
	iovRecs []*tracepb.Mem // compareIov's recorded buffers
}

// New prepares a replay of the trace r.
func New(r *format.Reader, opts Options) (*Replayer, error) {
	hdr := r.Header()
	if hdr.Arch != "" && hdr.Arch != "x86_64" {
		return nil, fmt.Errorf("trace recorded on %s; this hermes replays x86_64 traces", hdr.Arch)
	}
	if opts.Report == nil {
		opts.Report = io.Discard
	}
	rp := &Replayer{
		matcher: newMatcher(&prefetcher{r: r}),
		r:       r, hdr: hdr, opts: opts,
		netSock: make(map[string]bool), clocks: newClockBook(),
		seed: hdr.Seed,
	}
	if len(hdr.Traced) == 0 {
		for i := range rp.traced {
			rp.traced[i] = true
		}
	}
	for _, nr := range hdr.Traced {
		if nr >= 0 && int(nr) < len(rp.traced) {
			rp.traced[nr] = true
		}
	}
	if len(hdr.Traced) > 0 {
		rp.declared = &rp.traced
	}
	if opts.Order != OrderOff {
		// A recording made one thread at a time (chaos) is replayed in
		// its exact order when the order is strict.
		rp.book = newOrderBook(opts.Order, opts.Order == OrderStrict && hdr.Chaos)
	}
	return rp, nil
}

// Trace returns the syscall numbers to trap: those the recording trapped
// (nil: all).
func (rp *Replayer) Trace() []int {
	if len(rp.hdr.Traced) == 0 {
		return nil
	}
	out := make([]int, len(rp.hdr.Traced))
	for i, nr := range rp.hdr.Traced {
		out[i] = int(nr)
	}
	return out
}

// SetOverlay sets Options.Overlay.
func (rp *Replayer) SetOverlay(h tracer.Handler) { rp.opts.Overlay = h }

// SetSeed sets the seed a departed replay draws from (the recording's by
// default).
func (rp *Replayer) SetSeed(seed uint64) { rp.seed = seed }

// SetDropFaults sets Options.DropFaults.
func (rp *Replayer) SetDropFaults(drop bool) { rp.opts.DropFaults = drop }

// SetViewLimits sets Options.ViewLimits.
func (rp *Replayer) SetViewLimits(s string) { rp.opts.ViewLimits = s }

// SetStop sets the function that ends the run (Options.Stop).
func (rp *Replayer) SetStop(stop func()) { rp.opts.Stop = stop }

// Calls returns how many calls were matched, and how many of them emulated.
func (rp *Replayer) Calls() (matched, emulated int) { return rp.calls, rp.emul }

// Started reports whether the target made any call the replay saw.
func (rp *Replayer) Started() bool { return len(rp.threads) > 0 }

// Divergences returns how many divergences were found.
func (rp *Replayer) Divergences() int { return rp.reports }

var debugMatch = os.Getenv("HERMES_DEBUG_MATCH") != ""

// callView is a live call as matching sees it.
type callView struct {
	sc     *tracer.Syscall
	valued bool // a noise call whose result the program uses
}

func sameNr(sc *tracer.Syscall, e *entry) bool {
	return recorded.Arch(e.s.Arch) == sc.Arch && int(e.s.Nr) == sc.Nr
}

// sameCall is sameNr, and for sleeps on a clock the same clock. A call a
// signal interrupted when recorded is not the same: its restart is.
func sameCall(cv callView, e *entry) bool {
	sc := cv.sc
	if e.restart || !sameNr(sc, e) {
		return false
	}
	if sc.Arch == abi.ArchX86_64 && sc.Nr == unix.SYS_CLOCK_NANOSLEEP {
		return uint32(sc.Args[0]) == uint32(e.args[0])
	}
	return true
}

func (rp *Replayer) untraced(sc *tracer.Syscall) bool {
	return sc.Arch == abi.ArchX86_64 && (sc.Nr < 0 || sc.Nr >= len(rp.traced) || !rp.traced[sc.Nr])
}

// Enter implements tracer.Handler.
func (rp *Replayer) Enter(sc *tracer.Syscall, act *tracer.Action) {
	if th := rp.threads[sc.Thread.Lineage]; th != nil {
		th.clock = nil
	}
	rp.enter(sc, act)
	rp.orderEnter(sc, act)
	rp.bound(sc, &sc.Args, act)
	if act.SetArgs != 0 || act.SetNr || (len(act.Strings) > 0 && !act.Skip) {
		// The exit sees the arguments the call ran with; its writes are
		// bounded by the ones the program made it with.
		if rp.entryArgs == nil {
			rp.entryArgs = map[*tracer.Thread]*[6]uint64{}
		}
		args := sc.Args
		rp.entryArgs[sc.Thread] = &args
	}
}

func (rp *Replayer) enter(sc *tracer.Syscall, act *tracer.Action) {
	if rp.stopped {
		return
	}
	if rp.dep != nil {
		rp.departedEnter(sc, act)
		return
	}
	if rp.untraced(sc) {
		// Trapped only for the overlay: not in the recording.
		if rp.overlayEnter(sc, act, nil) || changes(&rp.ov, nil, false) {
			rp.depart(nil, nil, sc, act)
		}
		return
	}
	if rp.outside == nil {
		rp.outside = inherited(sc.Thread.Proc.Pid)
	}
	if key, ok := clockKey(sc.Arch, sc.Nr, sc.Args[0]); ok {
		rp.clockRead(sc, key, act)
		return
	}
	th := rp.thread(sc.Thread.Lineage)
	if p := th.partial; p != nil && ((sc.Nr == unix.SYS_READ && sc.Args[0] == p.args[0]) || (p.copy && sc.Nr == unix.SYS_SENDFILE)) {
		// The rest of a read that got less than when recorded.
		th.cur, th.mode = p.e, modeContinue
		act.WantExit = true
		return
	}
	th.partial = nil
	th.copying = false
	th.live++
	act.WantExit = true
	th.cur, th.mode = nil, modeUnchecked
	cv := callView{sc: sc, valued: isValued(sc.Arch, sc.Nr)}
	e, float := rp.match(th, cv)
	if debugMatch {
		where := "none"
		if e != nil {
			where = fmt.Sprintf("%s#%d %s", e.s.Lineage, e.idx, recorded.Name(e.s))
		}
		fmt.Fprintf(os.Stderr, "MATCH %s live#%d %s -> %s float=%v\n", th.lineage, th.live, sc.Name(), where, float)
	}
	if float {
		rp.floating(th, sc, act)
		return
	}
	if e == nil {
		rp.noRecord(th, sc, act)
		return
	}
	th.cur = e
	rp.calls++
	if !th.mapped && e.s.Lineage == th.lineage {
		th.mapped = true
		rp.pids.setRecorded(e.s.Tid, th.lineage)
		rp.pids.recLin[e.s.Pid] = th.proc
		rp.pids.setReal(sc.Tid(), th.lineage)
		rp.pids.setReal(sc.Pid(), th.proc)
	}
	rp.remember(th, e)
	// A restart re-enters with the arguments replay gave it the first
	// time (or the program retries after EINTR): not compared again.
	restarted := th.ungot == e
	th.ungot = nil
	if reason := rp.compareEntry(sc, e, true); reason != "" && !restarted {
		rp.diverge(th, e, sc, false, reason)
		if rp.stopped {
			act.Kill = true
		}
		return
	}
	th.args = sc.Args
	dropped := false
	switch inj := e.s.Injected; {
	case inj != nil && rp.opts.DropFaults:
		// A recorded fault left out: the call runs, live from here on.
		dropped = true
		rp.translatePidArgs(sc, act)
		th.mode = modeUnchecked
	case inj != nil && inj.AtExit:
		th.mode = modeExitInject
		rp.translatePidArgs(sc, act)
	case inj != nil && inj.Action != tracepb.Action_ACTION_NONE && (inj.Action <= tracepb.Action_ACTION_EMULATE || inj.Action == tracepb.Action_ACTION_KILL):
		// The recording skipped the call (or killed the process) here.
		th.mode = modeUnchecked
		rp.reinject(e, act)
	case e.s.EntryOnly:
		th.mode = rp.diedIn(th, sc, e, act)
	case e.restart:
		// A signal interrupted it when recorded: it runs (a restart code is
		// never given to a program), and the signals that interrupted it
		// are sent now, so that it does not wait for what replay held back.
		rp.translatePidArgs(sc, act)
		rp.deliverDue(sc, th)
		th.mode = modeUnchecked
	default:
		rp.translatePidArgs(sc, act)
		th.mode = rp.decide(sc, e, act)
		if th.mode == modeReal && sc.Info != nil && sc.Info.Class&abi.ClassFile != 0 {
			rp.translateProcPaths(sc, e, act)
		}
		if th.mode == modeReal {
			placeMapping(sc, e, act)
			th.copying = rp.copyToOutside(sc, act)
		}
		if inj != nil {
			// Changed arguments, a delay or a signal: on top of whatever
			// the call's class says.
			rp.reinject(e, act)
		}
		if th.mode == modeReal && e.noise {
			th.mode = modeUnchecked // how many a futex woke is up to timing
		}
	}
	if rp.overlayEnter(sc, act, th) {
		th.mode = modeUnchecked
	}
	if rp.opts.Overlay != nil && changes(&rp.ov, e, false) {
		rp.depart(th, e, sc, act)
	} else if dropped && rp.ov.Skip && rp.ov.Value == e.s.Ret {
		// The overlay puts the very fault back: nothing departs.
	} else if dropped {
		rp.depart(th, e, sc, act)
		rp.dep.d.Actual = "run (its recorded fault left out)"
	}
}

// match finds the recorded call that sc is: the thread's next one, or one
// after recorded scheduling calls this run does not make, or another
// thread's (goroutines move). float means sc is a scheduling call with no
// counterpart, to run as it is.
func (rp *Replayer) match(th *thread, cv callView) (e *entry, float bool) {
	if u := th.ungot; u != nil {
		// The call a signal interrupted: its restart, or, if it ended in
		// EINTR, the program went on to other calls.
		if e := rp.at(th, 0); e == u && sameNr(cv.sc, u) {
			return th.take(0), false
		}
		if !isNoise(cv.sc.Arch, cv.sc.Nr, &cv.sc.Args) {
			if rp.at(th, 0) == u {
				th.take(0)
			}
			th.ungot = nil
		}
	}
	if e := rp.at(th, 0); e != nil && sameCall(cv, e) {
		return th.take(0), false
	}
	noise := isNoise(cv.sc.Arch, cv.sc.Nr, &cv.sc.Args)
	floats := noise || rp.kernelRead(cv.sc)
	if i := rp.lookahead(th, cv, floats); i >= 0 {
		return th.take(i), false
	}
	if i := rp.lookaheadInterrupted(th, cv); i >= 0 {
		return th.take(i), false
	}
	if cv.valued || !noise {
		if e := rp.steal(th, cv, func(e *entry) bool { return rp.compareEntry(cv.sc, e, false) == "" }); e != nil {
			return e, false
		}
	}
	if floats {
		return nil, true
	}
	// A call that differs: show the first of the thread's next calls that
	// is not a scheduling one.
	for e := rp.at(th, 0); e != nil && e.noise; e = rp.at(th, 0) {
		th.take(0)
	}
	if rp.at(th, 0) == nil {
		return nil, false
	}
	return th.take(0), false
}

// overlayEnter runs the overlay with its own action and applies what it
// injects to act; it reports whether the overlay changed the call's
// outcome (then nothing is compared).
func (rp *Replayer) overlayEnter(sc *tracer.Syscall, act *tracer.Action, th *thread) bool {
	if rp.opts.Overlay == nil {
		return false
	}
	rp.ov = tracer.Action{Writes: rp.ov.Writes[:0], Strings: rp.ov.Strings[:0]}
	rp.opts.Overlay.Enter(sc, &rp.ov)
	return rp.applyOverlay(sc, act, &rp.ov, th != nil)
}

// applyOverlay merges an overlay's action into act.
func (rp *Replayer) applyOverlay(sc *tracer.Syscall, act, ov *tracer.Action, entry bool) bool {
	if ov.WantExit {
		act.WantExit = true
	}
	if !ov.Injected() {
		return false
	}
	if ov.Delay > 0 {
		act.Delay = ov.Delay
	}
	if ov.Signal != 0 {
		act.Signal = ov.Signal
	}
	if !ov.Skip && !ov.Kill && ov.SetArgs == 0 && len(ov.Strings) == 0 {
		return false // a delay or a signal on top of what replay does
	}
	want := act.WantExit
	writes, strs := act.Writes[:0], act.Strings[:0]
	*act = *ov
	act.Writes = append(writes, ov.Writes...)
	act.Strings = append(strs, ov.Strings...)
	act.WantExit = want
	if entry && !act.Skip {
		rp.translatePidArgs(sc, act)
	}
	return true
}

// Exit implements tracer.Handler.
func (rp *Replayer) Exit(sc *tracer.Syscall, act *tracer.Action) {
	if _, ok := rp.moved[sc.Thread]; ok {
		if sc.Skipped {
			delete(rp.moved, sc.Thread)
		} else {
			rp.restoreMoved(sc, act)
		}
	}
	var cur *entry
	if th := rp.threads[sc.Thread.Lineage]; th != nil {
		cur = th.cur
		if cur == nil {
			cur = th.clock
		}
	}
	rp.exit(sc, act)
	rp.orderExit(sc, cur, act)
	args := &sc.Args
	if a, ok := rp.entryArgs[sc.Thread]; ok {
		args = a
		delete(rp.entryArgs, sc.Thread)
	}
	rp.bound(sc, args, act)
}

func (rp *Replayer) exit(sc *tracer.Syscall, act *tracer.Action) {
	if rp.dep != nil {
		rp.departedExit(sc, act)
		return
	}
	if rp.untraced(sc) {
		rp.overlayExit(sc, act)
		if rp.opts.Overlay != nil && changes(&rp.ovx, nil, true) {
			rp.depart(nil, nil, sc, act)
		}
		return
	}
	th := rp.threads[sc.Thread.Lineage]
	if th == nil || rp.stopped {
		return
	}
	defer func() {
		if th.partial == nil {
			rp.deliverDue(sc, th)
		}
	}()
	if th.mode == modeFloat {
		rp.shiftClock(sc, act)
	}
	e := th.cur
	th.cur = nil
	if e == nil {
		rp.overlayExit(sc, act)
		return
	}
	if th.mode == modeContinue || (th.mode == modeReal && (rp.shortRead(sc, e) || th.copying && sc.Ret > 0 && sc.Ret < e.s.Ret)) {
		rp.completeRead(th, sc, e, act)
		return
	}
	if isRestart(sc.Ret) && !sc.Skipped {
		if !e.restart && sc.Ret != -errRestartBlock {
			// Interrupted by a signal this time: the kernel restarts it
			// after the handler, and that call is the one to match with e
			// (see match). A sleep's restart is restart_syscall, a
			// scheduling call.
			th.unget(e)
			th.ungot = e
			th.nhist--
			rp.calls--
		}
		if e.restart && abi.Interrupted(sc.Info, sc.Ret) && rp.opts.Emulate&Time != 0 {
			rp.giveTimeLeft(sc, e, act)
		}
		rp.overlayExit(sc, act)
		return
	}
	if e.restart {
		// Interrupted when recorded, not now: nothing to compare.
		rp.overlayExit(sc, act)
		return
	}
	rp.translateResult(sc, e, act)
	if th.mode == modeReal && rp.opts.Emulate&Time != 0 && rp.timerOutcome(sc) {
		rp.giveRecorded(sc, e, act)
	}
	switch th.mode {
	case modeReal:
		if reason := rp.compareExit(sc, e, act); reason != "" {
			rp.diverge(th, e, sc, true, reason)
		}
	case modeAccept:
		if sc.Ret != e.s.Ret {
			rp.diverge(th, e, sc, true, fmt.Sprintf("accept emulated on fd %d, got %d", e.s.Ret, sc.Ret))
			break
		}
		rp.emulateAt(&th.args, e, act) // sc.Args are dup3's now
	case modeExitInject:
		rp.reinjectExit(e, act)
	}
	rp.overlayExit(sc, act)
	if rp.opts.Overlay != nil && changes(&rp.ovx, e, true) {
		rp.depart(th, e, sc, act)
	}
}

func (rp *Replayer) overlayExit(sc *tracer.Syscall, act *tracer.Action) {
	if rp.opts.Overlay == nil {
		return
	}
	rp.ovx = tracer.Action{Writes: rp.ovx.Writes[:0], Strings: rp.ovx.Strings[:0]}
	rp.opts.Overlay.Exit(sc, &rp.ovx)
	rp.applyOverlay(sc, act, &rp.ovx, false)
}

// Process implements tracer.ProcessHandler.
func (rp *Replayer) Process(ev *tracer.ProcessEvent) {
	switch ev.Kind {
	case tracer.EventSignal:
		if rp.hdr.TscTrapped && rp.tscRead(ev) {
			return
		}
		if rp.dep == nil {
			rp.signal(ev) // after a departure, signals come when they come
		}
	case tracer.EventExit:
		if th := rp.threads[ev.Thread.Lineage]; th != nil {
			th.gone = true
			rp.atStop(th)
			for _, e := range th.q[th.head:] {
				e.entered, e.exited = true, true
			}
			rp.dropClocks(th)
			if e := th.holdE; e != nil {
				e.entered, e.exited = true, true
			}
		}
	case tracer.EventFork, tracer.EventThread:
		if ev.Child != nil {
			rp.pids.setReal(ev.Child.Tid, ev.Child.Lineage)
		}
	case tracer.EventExec:
		rp.pids.setReal(ev.Thread.Tid, ev.Thread.Lineage)
		if rp.outside == nil && ev.Thread.Lineage == "1" {
			rp.outside = inherited(ev.Thread.Proc.Pid)
		}
		th := rp.thread(ev.Thread.Lineage)
		for i := 0; len(th.execs) == 0 && i < stealBudget && rp.pull(); i++ {
		}
		if len(th.execs) > 0 {
			at := th.execs[0]
			th.execs = th.execs[1:]
			if ev.AtRandom != 0 && len(at) == 16 {
				// The image's random seed (Go's, and libc's canary) as recorded.
				_ = ev.Thread.Mem().WriteAt(at, ev.AtRandom)
			}
		}
	}
	if ph, ok := rp.opts.Overlay.(tracer.ProcessHandler); ok {
		ph.Process(ev)
	}
}

// remember keeps a matched call for the history of later reports.
func (rp *Replayer) remember(th *thread, e *entry) {
	th.hist[th.nhist%historyLen] = e
	th.nhist++
}

func (rp *Replayer) stop() {
	if !rp.stopped {
		rp.stopped = true
		if rp.opts.Stop != nil {
			rp.opts.Stop()
		}
	}
}

// noRecord handles a call the recording does not have.
func (rp *Replayer) noRecord(th *thread, sc *tracer.Syscall, act *tracer.Action) {
	if rp.foreign != nil {
		// The trace is not to be trusted past this point: Finish says why.
		act.Kill = true
		rp.stop()
		return
	}
	if !rp.pf.complete {
		if rp.end == nil {
			n, reason, _ := rp.r.Recovered()
			rp.end = &EndError{Lineage: th.lineage, Index: th.nrec, Events: n, Reason: reason}
		}
		act.Kill = true
		rp.stop()
		return
	}
	if th.exit != nil && th.exit.Signal != 0 {
		// A signal killed it when recorded, before it got this far; the
		// same signal is on its way now.
		rp.floating(th, sc, act)
		return
	}
	reason := "the recording has no more calls in this thread"
	if th.nrec == 0 {
		reason = "the recording has no thread " + th.lineage
	}
	rp.diverge(th, &entry{idx: th.nrec}, sc, false, reason)
	if rp.stopped {
		act.Kill = true
	}
}

// Finish ends the replay: it compares the exit status with the recorded
// one and returns the first divergence, the end of a partial recording, or
// nil.
func (rp *Replayer) Finish(res tracer.Result) error {
	if rp.unsafe != nil {
		return rp.unsafe
	}
	if rp.foreign != nil {
		return rp.foreign
	}
	if rp.end != nil {
		return rp.end
	}
	if rp.first != nil && (!rp.opts.Lenient || rp.gaveUp) {
		return rp.first
	}
	if res.Interrupted {
		return nil // stopped from outside: the end of the run is not the target's
	}
	if len(rp.threads) == 0 {
		return nil // the target never started: the launch error says why
	}
	if rp.dep != nil {
		return nil // it ran to its own end: nothing left to compare
	}
	for rp.rootExit == nil && rp.pull() {
	}
	if rp.rootExit != nil {
		want := int(rp.rootExit.ExitStatus)
		if rp.rootExit.Signal != 0 {
			want = 128 + int(rp.rootExit.Signal)
		}
		if res.ExitCode != want {
			d := &Divergence{Lineage: "1", Reason: fmt.Sprintf("the target exited with status %d, recorded %d", res.ExitCode, want)}
			fmt.Fprintf(rp.opts.Report, "hermes: replay diverged: %s\n", d.Reason)
			return rp.lastDivergence(d)
		}
	}
	// Calls the recording has that the replay never made, in threads that
	// ran or not.
	for rp.pull() {
	}
	// Only calls whose effect reaches outside the process count: a runtime's
	// background thread that read its cgroup limits one time fewer, or a
	// thread that was never started because its work was done elsewhere,
	// is not a difference the program or its user can see (and what it
	// would have changed shows in the calls that are compared).
	for _, th := range rp.threads {
		if th.exit != nil && th.exit.Signal != 0 {
			continue // killed by a signal: how far it got is up to timing
		}
		for th.head < len(th.q) && !visible(th.q[th.head]) {
			th.take(0)
		}
		if th.head < len(th.q) {
			e := th.q[th.head]
			d := &Divergence{Lineage: th.lineage, Index: e.idx, Seq: e.s.Seq,
				Reason: fmt.Sprintf("the recording has %d more calls in this thread, from %s", len(th.q)-th.head, rp.render(e))}
			if th.live == 0 {
				d.Reason = "the thread never ran; the recording has it make " + rp.render(e)
			}
			fmt.Fprintf(rp.opts.Report, "hermes: replay diverged at %s call #%d: %s\n", d.Lineage, d.Index, d.Reason)
			return rp.lastDivergence(d)
		}
	}
	return nil
}

// visible reports whether a recorded call changes what is seen outside its
// process: it writes, creates or ends processes, signals, or changes files.
func visible(e *entry) bool {
	if e.noise || e.s.Arch != tracepb.Arch_ARCH_X86_64 || e.s.Nr < 0 || int(e.s.Nr) >= len(callFlags) {
		return false
	}
	return callFlags[e.s.Nr]&fVisible != 0
}

// lastDivergence counts a divergence found at the end: an error, unless
// the replay is lenient.
func (rp *Replayer) lastDivergence(d *Divergence) error {
	rp.reports++
	if rp.opts.Lenient {
		return nil
	}
	return d
}

// placeMapping asks the kernel to put a new mapping where the recording
// got it (MAP_FIXED_NOREPLACE at the recorded address), as rr does: where
// a mapping lands also depends on the file system (a large file on ext4 is
// aligned to a huge page, the same file seen through the replay's overlay
// is not), and every later address follows from it.
func placeMapping(sc *tracer.Syscall, e *entry, act *tracer.Action) {
	const mapFixed, mapFixedNoReplace = 0x10, 0x100000
	if sc.Arch != abi.ArchX86_64 || sc.Nr != unix.SYS_MMAP || sc.Args[0] != 0 || sc.Args[3]&(mapFixed|mapFixedNoReplace) != 0 {
		return
	}
	ret := uint64(e.s.Ret)
	if e.s.Ret <= 0 || ret&0xfff != 0 || act.SetArgs&(1<<0|1<<3) != 0 {
		return
	}
	act.SetArgs |= 1<<0 | 1<<3
	act.Args[0] = ret
	act.Args[3] = sc.Args[3] | mapFixedNoReplace
}

// copyToOutside turns a copy_file_range with no offsets into an outside
// descriptor (the standard output the replay inherited) into the sendfile
// that does the same: the recording's output may have been a file, which
// copy_file_range writes to, and the replay's a pipe or a terminal, which
// it refuses (EINVAL) and sendfile takes.
func (rp *Replayer) copyToOutside(sc *tracer.Syscall, act *tracer.Action) bool {
	if sc.Arch != abi.ArchX86_64 || sc.Nr != unix.SYS_COPY_FILE_RANGE || sc.Args[1] != 0 || sc.Args[3] != 0 ||
		act.SetNr || act.SetArgs != 0 {
		return false
	}
	if rp.fdClass(sc.Thread.Proc.FDPath(int(int32(sc.Args[2])))) != Input {
		return false
	}
	act.SetNr, act.Nr = true, unix.SYS_SENDFILE
	act.SetArgs = 0xf
	act.Args[0], act.Args[1], act.Args[2], act.Args[3] = sc.Args[2], sc.Args[0], 0, sc.Args[4]
	return true
}
