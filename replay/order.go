package replay

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// Order says how replay orders the calls of different threads.
type Order uint8

const (
	// OrderStrict releases calls in the recorded order (Syscall.order) and
	// runs one thread at a time between them: a thread released into a
	// call runs alone until its next stop (or until it blocks), as the
	// recorded run, pinned to one CPU, mostly did.
	OrderStrict Order = iota
	// OrderRelaxed releases calls in the recorded order; between them the
	// threads run at once.
	OrderRelaxed
	// OrderOff lets every thread go as it comes (hermes before ordered
	// replay).
	OrderOff
)

// ParseOrder parses --order's value.
func ParseOrder(s string) (Order, error) {
	switch s {
	case "", "strict":
		return OrderStrict, nil
	case "relaxed":
		return OrderRelaxed, nil
	case "off":
		return OrderOff, nil
	}
	return 0, fmt.Errorf("unknown --order %q (strict, relaxed or off)", s)
}

func (o Order) String() string {
	switch o {
	case OrderRelaxed:
		return "relaxed"
	case OrderOff:
		return "off"
	}
	return "strict"
}

// Bounds of the waits of ordered replay. A thread that waits for its turn
// longer than relaxAfter, while no thread runs (or starveAfter), goes on anyway (the
// order is relaxed there: the program cannot progress in the recorded
// order). A thread running alone (strict) lets the others go when it
// sleeps in the kernel, or when it ran tracer.SoloBudget on a CPU without a trapped
// call (busy, or spinning on memory a held thread would write): see
// tracer.Solo.
const (
	relaxAfter = 20 * time.Millisecond
	// starveAfter bounds the wait while some thread is on a CPU (one
	// spinning on memory a held thread would write never stops).
	starveAfter = 50 * relaxAfter
)

// maxRelaxNotes bounds the relaxations a replay describes (the rest are
// counted).
const maxRelaxNotes = 3

// Holds of a thread (thread.hold).
const (
	holdNone   uint8 = iota
	holdEntry        // at the entry of holdE, until its turn
	holdExit         // at the exit of holdE, until the calls up to its exit_after were entered
	holdRunner       // (strict) until the thread running alone stops
)

// orderBook keeps which recorded calls were entered, by Syscall.order.
type orderBook struct {
	mode Order
	// exact: the recording ran one thread at a time between trapped
	// calls (chaos), so every recorded call takes part in the order,
	// scheduling calls and clock reads too: the run's threads then see
	// memory as they did when recorded, and a runtime's scheduler (Go's
	// sysmon, its idle threads) makes the decisions it made.
	exact bool
	base  uint64   // every call before base was entered (or does not count)
	slots []*entry // slots[i] is the call of order base+i, nil until read
	t0    time.Time

	// exits are the calls that count, in the order of the trace, which
	// is the order they returned in; exits[0] is the first that has not
	// returned in this run.
	exits []*entry

	runner *thread     // (strict) the thread running alone, nil if none
	solo   tracer.Solo // its live thread

	relaxed int      // how many waits were cut short
	notes   []string // where, the first few
}

// orderPullLimit bounds how far ahead replay reads the trace to learn
// which call comes next in the recorded order (calls are written at their
// exits: a call that blocked long is far behind its turn in the file).
const orderPullLimit = 1 << 15

func newOrderBook(mode Order, exact bool) *orderBook {
	return &orderBook{mode: mode, exact: exact, base: 1, t0: time.Now()}
}

func (b *orderBook) now() time.Duration { return time.Since(b.t0) }

// counts reports whether a recorded call takes part in the order: calls
// whose count depends on timing (scheduling calls) and clock reads do not,
// unless the order is exact.
func (b *orderBook) counts(e *entry) bool { return e.s.Order != 0 && (b.exact || !e.noise) }

// add notes a recorded call read from the trace.
func (b *orderBook) add(e *entry) {
	if b.counts(e) && !e.entered && e.s.ExitAfter != 0 {
		b.exits = append(b.exits, e)
	}
	o := e.s.Order
	if o < b.base {
		return
	}
	i := o - b.base
	for uint64(len(b.slots)) <= i {
		b.slots = append(b.slots, nil)
	}
	b.slots[i] = e
}

// turn returns the order of the first recorded call not yet entered,
// reading the trace ahead as far as it must.
func (rp *matcher) turn() uint64 {
	b := rp.book
	pulled := 0
	for {
		if len(b.slots) == 0 {
			if pulled < orderPullLimit && rp.pull() {
				pulled++
				continue
			}
			return b.base
		}
		e := b.slots[0]
		if e == nil {
			if pulled < orderPullLimit && rp.pull() {
				pulled++
				continue
			}
			return b.base
		}
		if b.counts(e) && !e.entered {
			return b.base
		}
		b.slots[0] = nil
		b.slots = b.slots[1:]
		b.base++
	}
}

// nextExit returns the first call that counts, in the order the recorded
// calls returned, that has not returned in this run (nil: none, as far as
// the trace was read ahead).
func (rp *matcher) nextExit() *entry {
	b := rp.book
	pulled := 0
	for {
		for len(b.exits) > 0 && b.exits[0].exited {
			b.exits[0] = nil
			b.exits = b.exits[1:]
		}
		if len(b.exits) > 0 {
			return b.exits[0]
		}
		if pulled >= orderPullLimit || !rp.pull() {
			return nil
		}
		pulled++
	}
}

// mayEnter reports whether the recorded call e may be entered now: every
// call entered before it when recorded was entered, and every call that
// returned before it returned.
func (rp *Replayer) mayEnter(e *entry) bool {
	if rp.turn() < e.s.Order {
		return false
	}
	x := rp.nextExit()
	return x == nil || x == e || x.s.ExitAfter >= e.s.Order
}

// mayReturn reports whether the recorded call e may return now: every
// call entered before it returned when recorded was entered, and every
// call that returned before it returned.
func (rp *Replayer) mayReturn(e *entry) bool {
	if rp.turn() <= e.s.ExitAfter {
		return false
	}
	x := rp.nextExit()
	return x == nil || x == e || x.s.Seq > e.s.Seq
}

// blocking reports whether the call in flight lets the others go: it
// blocked when recorded (others were entered before it returned), or,
// with no recorded counterpart, it is a call that waits.
func blocking(sc *tracer.Syscall, e *entry) bool {
	if e != nil && e.s.ExitAfter != 0 {
		return e.s.ExitAfter > e.s.Order
	}
	if sc.Arch != abi.ArchX86_64 {
		return false
	}
	switch sc.Nr {
	case unix.SYS_FUTEX:
		switch sc.Args[1] & 0x7f {
		case 1, 3, 4, 5, 7, 8: // wake, requeue, cmp_requeue, wake_op, unlock_pi, trylock_pi
			return false
		}
		return true
	case unix.SYS_NANOSLEEP, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_SCHED_YIELD,
		unix.SYS_EPOLL_WAIT, unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2, unix.SYS_POLL, unix.SYS_PPOLL,
		unix.SYS_SELECT, unix.SYS_PSELECT6, unix.SYS_WAIT4, unix.SYS_WAITID, unix.SYS_PAUSE,
		unix.SYS_RT_SIGSUSPEND, unix.SYS_RT_SIGTIMEDWAIT, unix.SYS_READ, unix.SYS_ACCEPT, unix.SYS_ACCEPT4,
		unix.SYS_RECVFROM, unix.SYS_RECVMSG, unix.SYS_EXIT, unix.SYS_EXIT_GROUP:
		return true
	}
	return false
}

// unordered reports whether the replay no longer keeps the order: it
// stopped, departed (an injection changed the run), or diverged (with
// --lenient it goes on, but the recorded order no longer says what comes
// next: holding threads to it would only make them wait for calls that
// never come).
func (rp *Replayer) unordered() bool { return rp.stopped || rp.dep != nil || rp.reports > 0 }

// atStop notes that th is at a stop: if it was running alone, it is not
// any more.
func (rp *Replayer) atStop(th *thread) {
	if b := rp.book; b != nil && b.runner == th {
		b.runner = nil // (b.solo keeps its turn, which goOn may go on with)
	}
}

// orderEnter decides, after the replay decided what to do with the call
// sc, whether its thread waits for its turn.
func (rp *Replayer) orderEnter(sc *tracer.Syscall, act *tracer.Action) {
	b := rp.book
	if b == nil {
		return
	}
	th := rp.thread(sc.Thread.Lineage)
	th.tt = sc.Thread
	rp.atStop(th)
	e := th.cur
	if e == nil {
		e = th.clock
	}
	if rp.unordered() || act.Kill {
		if e != nil {
			e.entered, e.exited = true, true
		}
		return
	}
	th.blocking = blocking(sc, e)
	th.exiting = sc.Arch == abi.ArchX86_64 && (sc.Nr == unix.SYS_EXIT || sc.Nr == unix.SYS_EXIT_GROUP)
	th.holdE = e
	th.atExit = false
	switch {
	case e != nil && b.counts(e) && !e.entered:
		th.hold = holdEntry
	case b.mode == OrderStrict && b.runner != nil:
		th.hold = holdRunner
	default:
		rp.goOn(th, false)
		return
	}
	th.heldFrom = b.now()
	act.Hold = true
}

// orderExit decides whether a thread at the exit of its call waits: a
// call that blocked when recorded returns once the calls entered before
// it returned then have been entered now.
func (rp *Replayer) orderExit(sc *tracer.Syscall, e *entry, act *tracer.Action) {
	b := rp.book
	if b == nil || rp.unordered() || act.Kill {
		return
	}
	th := rp.thread(sc.Thread.Lineage)
	th.tt = sc.Thread
	rp.atStop(th)
	th.holdE = e
	switch {
	case e != nil && b.counts(e) && !e.exited && !rp.mayReturn(e):
		th.hold = holdExit
	case b.mode == OrderStrict && b.runner != nil:
		th.hold = holdRunner
	default:
		rp.goOn(th, true)
		return
	}
	th.blocking = false
	th.atExit = true
	th.heldFrom = b.now()
	act.Hold = true
}

// goOn notes that th leaves its stop.
func (rp *Replayer) goOn(th *thread, exit bool) {
	b := rp.book
	if debugMatch {
		var o, a uint64
		if th.holdE != nil {
			o, a = th.holdE.s.Order, th.holdE.s.ExitAfter
		}
		fmt.Fprintf(os.Stderr, "GO %s order=%d after=%d exit=%v turn=%d blocking=%v\n", th.lineage, o, a, exit, b.base, th.blocking)
	}
	if e := th.holdE; e != nil {
		if !exit {
			e.entered = true
		}
		if exit || e.s.ExitAfter == 0 {
			e.exited = true // or it never returns (exit)
		}
	}
	counted := th.holdE != nil && b.counts(th.holdE)
	th.hold, th.holdE = holdNone, nil
	if b.mode == OrderStrict {
		// Into a call that waits too: the others go once it waits.
		if !counted && !th.exiting && b.solo.Thread() == th.tt {
			// A call outside the order (a sched_yield, a clock read of a
			// recording made without chaos): the same turn goes on, and
			// its CPU time counts on, so that a thread spinning on such
			// calls for one replay holds back lets the others go.
			b.runner = th
			return
		}
		b.runner = th
		b.solo.Set(th.tt, !exit && th.exiting)
	}
}

// Release implements tracer.Scheduler.
func (rp *Replayer) Release(t *tracer.Thread) bool {
	b := rp.book
	th := rp.threads[t.Lineage]
	if b == nil || th == nil || th.hold == holdNone {
		return true
	}
	if rp.unordered() {
		rp.goOn(th, th.atExit)
		return true
	}
	now := b.now()
	if b.runner != nil && (b.runner == th || b.solo.Over()) {
		if debugMatch && b.runner != th {
			fmt.Fprintf(os.Stderr, "RUNALONE %s over\n", b.runner.lineage)
		}
		b.runner = nil
		b.solo.Set(nil, false)
	}
	ok := b.mode != OrderStrict || b.runner == nil
	if ok {
		switch th.hold {
		case holdEntry:
			ok = rp.mayEnter(th.holdE)
		case holdExit:
			ok = rp.mayReturn(th.holdE)
		}
	}
	if !ok && b.runner == nil && now-th.heldFrom > relaxAfter && (now-th.heldFrom > starveAfter || !rp.anyRunning()) && !rp.anyMayGo() {
		rp.relax(th)
		ok = true
	}
	if ok {
		rp.goOn(th, th.atExit)
	}
	return ok
}

// anyRunning reports whether a thread replay let go is still on a CPU, or
// waiting for one (a busy machine): the order is not relaxed while one
// may still reach its turn.
func (rp *Replayer) anyRunning() bool {
	for _, o := range rp.threads {
		if o.tt != nil && o.hold == holdNone && !o.gone && !o.exiting && !o.tt.Waiting() {
			return true
		}
	}
	return false
}

// anyMayGo reports whether a thread held at a stop may go on in the
// recorded order: the order is not relaxed for another while one may
// (whose stop the tracer has not offered to Release yet).
func (rp *Replayer) anyMayGo() bool {
	for _, o := range rp.threads {
		switch {
		case o.gone || o.holdE == nil:
		case o.hold == holdEntry && rp.mayEnter(o.holdE), o.hold == holdExit && rp.mayReturn(o.holdE):
			return true
		}
	}
	return false
}

// relax notes that th goes on out of the recorded order.
func (rp *Replayer) relax(th *thread) {
	b := rp.book
	if debugMatch {
		fmt.Fprintf(os.Stderr, "RELAX %s hold=%d\n", th.lineage, th.hold)
	}
	b.relaxed++
	if len(b.notes) >= maxRelaxNotes {
		return
	}
	e := th.holdE
	var what string
	switch {
	case th.hold == holdRunner:
		what = "went on while another thread ran"
	case e == nil:
		what = "went on out of order"
	case th.hold == holdExit:
		what = fmt.Sprintf("call #%d %s returned before recorded call %d was entered", e.idx, rp.render(e), rp.turn())
	default:
		what = fmt.Sprintf("call #%d %s was entered before recorded call %d", e.idx, rp.render(e), rp.turn())
	}
	b.notes = append(b.notes, th.lineage+" "+what)
}

// Threaded reports whether the run had more than one thread in a process
// (a lineage "P/tN").
func (rp *Replayer) Threaded() bool {
	for l := range rp.threads {
		if strings.Contains(l, "/t") {
			return true
		}
	}
	return false
}

// OrderMode returns the order the replay keeps (OrderOff for a trace
// that does not say in which order its calls were entered).
func (rp *Replayer) OrderMode() Order {
	if rp.book == nil {
		return OrderOff
	}
	return rp.book.mode
}

// Relaxed returns how many times the order was relaxed, and where, for
// the first few.
func (rp *Replayer) Relaxed() (int, []string) {
	if rp.book == nil {
		return 0, nil
	}
	return rp.book.relaxed, rp.book.notes
}
