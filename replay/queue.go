package replay

import (
	"fmt"
	"strings"
	"time"

	"github.com/hermes-trace/hermes/format/recorded"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// entry is one recorded syscall, with what matching needs decoded once.
type entry struct {
	s       *tracepb.Syscall
	args    [6]uint64
	idx     int      // index among the recorded calls of its thread, from 0
	noise   bool     // isNoise: its count in a thread depends on timing
	valued  bool     // a noise call whose result the program uses (getpid, gettid)
	restart bool     // a signal interrupted it (ERESTARTSYS and friends)
	entered bool     // ordered replay: entered, or dropped (see orderBook)
	exited  bool     // ordered replay: returned, or dropped
	sigs    []sigRec // signals the recording delivered before it
}

// thread is the replay state of one lineage: the recorded calls not yet
// matched, and the call in flight.
type thread struct {
	lineage string
	proc    string   // lineage of its process
	q       []*entry // q[head:] are the recorded calls not yet matched
	head    int
	nrec    int // recorded calls read so far: the next one's idx
	live    int // calls this run made in the thread (matched or not)

	cur *entry // the recorded counterpart of the call in flight
	// clock is the recorded reading the clock read in flight was given:
	// its place in the order (exact ordered replay).
	clock *entry
	mode  uint8     // what was done to the call in flight
	args  [6]uint64 // the call in flight's arguments, as made
	// ungot is the entry of a call a signal interrupted in this run, put
	// back for its restart; the restart re-enters with the arguments
	// replay gave it.
	ungot *entry

	// partial is a read that got less than when recorded, being completed
	// by running it again for the rest (see completeRead).
	partial *partialRead
	copying bool // the call in flight is a copy made a sendfile (copyToOutside)

	pendingSigs []sigRec  // read from the trace, for the thread's next call
	expect      []*sigRec // signals replay sent, not yet at their delivery stop

	hist   [historyLen]*entry // the last matched calls
	nhist  int
	mapped bool
	execs  [][]byte         // AT_RANDOM of recorded execs not yet replayed
	exit   *tracepb.Process // the recorded exit of the thread, once read
	tscs   []tsc            // recorded reads of the time stamp counter not yet given

	// Ordered replay (order.go).
	hold     uint8          // what the thread waits for in its stop
	holdE    *entry         // the call it waits with
	heldFrom time.Duration  // since when
	blocking bool           // the call it is released into may block
	atExit   bool           // it is held at the exit of its call
	exiting  bool           // its call is exit or exit_group
	gone     bool           // it ended in this run: its calls left do not count
	tt       *tracer.Thread // the live thread, as of its last stop
}

// matcher holds the recorded calls not yet matched: a queue per thread,
// filled from the prefetcher as matching needs, with clock reads in queues
// of their own by process and clock, and what the trace says of each
// thread's end. Its methods find the recorded counterpart of a live call:
// the thread's next one, one a little further (look-ahead), or another
// thread's (steal).
type matcher struct {
	threads  map[string]*thread
	procs    map[string][]*thread              // threads by process lineage
	clockQs  map[string]map[uint64]*clockQueue // recorded clock reads by process and clock
	pf       *prefetcher                       // the trace's events, read ahead
	pids     *pidMap                           // recorded and live ids, by lineage
	rootExit *tracepb.Process                  // the recorded exit of the root process
	// declared are the x86_64 calls the trace says it recorded (nil:
	// all); an event outside them ends the replay (foreign).
	declared *[512]bool
	foreign  *OutsideError
	book     *orderBook // nil: calls are not ordered across threads
}

// OutsideError is a trace holding a call outside the set its header
// declares: replay traps what the header declares, so such an event could
// never be matched honestly.
type OutsideError struct {
	Lineage string
	Seq     uint64
	Name    string
}

func (e *OutsideError) Error() string {
	return fmt.Sprintf("the trace holds %s (event %d, in %s), a call outside the set its header says was recorded: a damaged or crafted trace", e.Name, e.Seq, e.Lineage)
}

func newMatcher(pf *prefetcher) *matcher {
	return &matcher{threads: make(map[string]*thread), procs: make(map[string][]*thread),
		clockQs: make(map[string]map[uint64]*clockQueue), pf: pf, pids: newPidMap()}
}

// thread returns the state of a lineage.
func (rp *matcher) thread(lineage string) *thread {
	th := rp.threads[lineage]
	if th == nil {
		th = &thread{lineage: lineage, proc: procLineage(lineage)}
		rp.threads[lineage] = th
		rp.procs[th.proc] = append(rp.procs[th.proc], th)
	}
	return th
}

// procLineage is the lineage of the process a thread lineage belongs to.
func procLineage(lineage string) string {
	if i := strings.Index(lineage, "/t"); i >= 0 {
		return lineage[:i]
	}
	return lineage
}

// pull reads the next event of the trace into the queues; false at the end.
func (rp *matcher) pull() bool {
	ev, ok := rp.pf.next()
	if !ok {
		return false
	}
	switch k := ev.Kind.(type) {
	case *tracepb.Event_Syscall:
		s := k.Syscall
		a := recorded.Arch(s.Arch)
		if rp.declared != nil && a == abi.ArchX86_64 && (s.Nr < 0 || int(s.Nr) >= len(rp.declared) || !rp.declared[s.Nr]) {
			if rp.foreign == nil {
				rp.foreign = &OutsideError{Lineage: s.Lineage, Seq: s.Seq, Name: recorded.Name(s)}
			}
			return false
		}
		e := &entry{s: s, args: format.Args(s)}
		if rp.book != nil && s.Order == 0 {
			rp.book = nil // an older trace: the order calls were entered in is not known
		}
		// A clock read the run's end cut off (entry only) has no reading
		// to give; where the order is exact it still holds the place of
		// its thread's next read, which must not take another's.
		if key, ok := clockKey(a, int(s.Nr), e.args[0]); ok && (!s.EntryOnly || rp.exact()) {
			q := rp.clockQueue(procLineage(s.Lineage), key)
			q.recs = append(q.recs, e)
			// Clock reads count in the order only where it is exact, and
			// not once their thread ended in this run.
			e.entered = rp.book == nil || !rp.book.exact
			if th := rp.threads[s.Lineage]; th != nil && th.gone {
				e.entered, e.exited = true, true
			}
			if rp.book != nil {
				rp.book.add(e)
			}
			break
		}
		// A call a signal interrupted (its restart, if any, comes later)
		// is matched only when nothing better is there: see match.
		e.restart = isRestart(s.Ret) && s.Injected == nil
		e.noise = e.restart || isNoise(a, int(s.Nr), &e.args)
		e.valued = e.noise && isValued(a, int(s.Nr))
		th := rp.thread(s.Lineage)
		e.idx = th.nrec
		th.nrec++
		e.sigs, th.pendingSigs = th.pendingSigs, nil
		e.entered, e.exited = th.gone, th.gone
		th.push(e)
		if rp.book != nil {
			rp.book.add(e)
		}
	case *tracepb.Event_Process:
		p := k.Process
		th := rp.thread(p.Lineage)
		switch p.Kind {
		case tracepb.ProcessKind_PROCESS_KIND_EXEC:
			th.execs = append(th.execs, p.AtRandom)
		case tracepb.ProcessKind_PROCESS_KIND_TSC:
			th.tscs = append(th.tscs, tsc{p.Tsc, p.TscAux})
		case tracepb.ProcessKind_PROCESS_KIND_SIGNAL:
			if deferredInfo(int(p.Signal), p.Siginfo) {
				th.pendingSigs = append(th.pendingSigs, sigRec{sig: int(p.Signal), info: p.Siginfo})
			}
		case tracepb.ProcessKind_PROCESS_KIND_EXIT:
			th.exit = p
			if p.Lineage == "1" {
				rp.rootExit = p
			}
		case tracepb.ProcessKind_PROCESS_KIND_FORK, tracepb.ProcessKind_PROCESS_KIND_THREAD:
			rp.pids.setRecorded(p.ChildPid, p.ChildLineage)
		}
	}
	return true
}

// Close stops reading the trace ahead. The Replayer reads no more after it.
func (rp *Replayer) Close() { rp.pf.close() }

// push appends a recorded call, compacting the queue now and then.
func (th *thread) push(e *entry) {
	if th.head > 1024 && th.head > len(th.q)/2 {
		n := copy(th.q, th.q[th.head:])
		clear(th.q[n:])
		th.q, th.head = th.q[:n], 0
	}
	th.q = append(th.q, e)
}

// at returns the i-th unmatched recorded call of the thread (0 is the
// next), reading the trace as far as needed; nil if there is none.
func (rp *matcher) at(th *thread, i int) *entry { return rp.atWithin(th, i, -1) }

// atWithin is at, reading at most budget more events of the trace (-1:
// no limit): looking into another thread must not read a whole trace into
// memory when that thread has no more calls.
func (rp *matcher) atWithin(th *thread, i, budget int) *entry {
	for th.head+i >= len(th.q) {
		if budget == 0 || !rp.pull() {
			return nil
		}
		budget--
	}
	return th.q[th.head+i]
}

// stealBudget bounds how far ahead in the trace steal looks for another
// thread's next call.
const stealBudget = 4096

// take removes and returns the i-th unmatched call; the ones before it
// are dropped (calls the recording made that this run does not).
func (th *thread) take(i int) *entry {
	e := th.q[th.head+i]
	for _, d := range th.q[th.head : th.head+i] {
		d.entered, d.exited = true, true // not made in this run
	}
	clear(th.q[th.head : th.head+i+1])
	th.head += i + 1
	return e
}

// unget puts back the call just taken.
func (th *thread) unget(e *entry) {
	if th.head > 0 {
		th.head--
		th.q[th.head] = e
		return
	}
	th.q = append([]*entry{e}, th.q...)
}

// maxLookahead bounds how many recorded scheduling calls a thread may skip
// to find the call it makes.
const maxLookahead = 64

// lookahead returns the index of the first unmatched recorded call of th
// that is the call sc, if only scheduling calls come before it; else -1.
// A call that floats itself never skips a recorded pid read: those carry
// values the program uses.
func (rp *matcher) lookahead(th *thread, sc callView, floats bool) int {
	for i := 0; i < maxLookahead; i++ {
		e := rp.at(th, i)
		if e == nil {
			return -1
		}
		if sameCall(sc, e) {
			return i
		}
		if !e.noise || (floats && e.valued) {
			return -1
		}
	}
	return -1
}

// lookaheadInterrupted is lookahead for a recorded call a signal
// interrupted: the only record of a call that ended in EINTR.
func (rp *matcher) lookaheadInterrupted(th *thread, sc callView) int {
	for i := 0; i < maxLookahead; i++ {
		e := rp.at(th, i)
		if e == nil || !e.noise {
			return -1
		}
		if e.restart && sameNr(sc.sc, e) {
			return i
		}
	}
	return -1
}

// steal looks for sc among the next recorded calls of the other threads of
// its process: a Go program's goroutine runs on whichever thread is free,
// so a call one thread made when recorded can be made by another in
// replay. Of the threads whose next call (scheduling calls aside) is this
// one, with the same arguments, the one that made it first gives it up.
func (rp *matcher) steal(th *thread, sc callView, same func(*entry) bool) *entry {
	var best *thread
	bestI := 0
	for _, o := range rp.procs[th.proc] {
		if o == th || (o.exit != nil && o.head >= len(o.q)) {
			continue
		}
		i := 0
		for {
			e := rp.atWithin(o, i, stealBudget)
			if e == nil || !e.noise || (sc.valued && e.valued) {
				break
			}
			i++
		}
		e := rp.atWithin(o, i, stealBudget)
		if e == nil || !sameCall(sc, e) || !same(e) {
			continue
		}
		if best == nil || e.s.Seq < best.q[best.head+bestI].s.Seq {
			best, bestI = o, i
		}
	}
	if best == nil {
		return nil
	}
	// Only this call moves; the scheduling calls before it stay.
	e := best.q[best.head+bestI]
	copy(best.q[best.head+1:best.head+bestI+1], best.q[best.head:best.head+bestI])
	best.q[best.head] = nil
	best.head++
	return e
}

// clockQueue holds the recorded readings of one clock in one process.
// Clock reads are matched per process and clock, in order, not per
// thread: which thread of a Go program reads the clock for time.Now
// depends on where its goroutine runs, but the n-th reading of a clock in
// the process is the n-th reading when recorded. Readings are handed out
// in order, so a clock stays monotonic across threads.
type clockQueue struct {
	recs []*entry
}

// clockKey returns the queue key of a clock read: the syscall number and
// the clock id.
func clockKey(a abi.Arch, nr int, arg0 uint64) (uint64, bool) {
	if a != abi.ArchX86_64 {
		return 0, false
	}
	switch nr {
	case unix.SYS_CLOCK_GETTIME:
		return uint64(nr)<<32 | uint64(uint32(arg0)), true
	case unix.SYS_GETTIMEOFDAY, unix.SYS_TIME:
		return uint64(nr) << 32, true
	}
	return 0, false
}

func (rp *matcher) clockQueue(proc string, key uint64) *clockQueue {
	m := rp.clockQs[proc]
	if m == nil {
		m = make(map[uint64]*clockQueue)
		rp.clockQs[proc] = m
	}
	q := m[key]
	if q == nil {
		q = &clockQueue{}
		m[key] = q
	}
	return q
}

// clockPullLimit bounds how far ahead in the trace replay looks for the
// next reading of a clock before it gives up and lets time run on from the
// last one.
const clockPullLimit = 1 << 14

// nextClock returns the process's next recorded reading of a clock, or nil.
// Where the order is exact, threads keep the goroutines they had when
// recorded, and a thread gets its own next reading, if the trace has one
// (read ahead as far as clockPullLimit), or none: the readings of the
// others are theirs, at their own places in the order.
func (rp *matcher) nextClock(lineage string, key uint64) *entry {
	q := rp.clockQueue(procLineage(lineage), key)
	for i := 0; len(q.recs) == 0 && i < clockPullLimit && rp.pull(); i++ {
	}
	if len(q.recs) == 0 {
		return nil
	}
	at := 0
	if rp.exact() {
		at = q.own(lineage)
		for i := 0; at < 0 && i < clockPullLimit && rp.pull(); i++ {
			at = q.own(lineage)
		}
		if at < 0 {
			return nil // the thread read the clock more than when recorded
		}
	}
	e := q.recs[at]
	copy(q.recs[1:at+1], q.recs[:at])
	q.recs[0] = nil
	q.recs = q.recs[1:]
	return e
}

// dropClocks notes that the recorded clock reads of th not given yet will
// not be made: th ended in this run.
func (rp *matcher) dropClocks(th *thread) {
	for _, q := range rp.clockQs[th.proc] {
		for _, e := range q.recs {
			if e.s.Lineage == th.lineage {
				e.entered, e.exited = true, true
			}
		}
	}
}

// exact reports whether every recorded call takes part in the order
// (orderBook.exact).
func (rp *matcher) exact() bool { return rp.book != nil && rp.book.exact }

// own returns the index of the first reading of lineage in the queue, or
// -1.
func (q *clockQueue) own(lineage string) int {
	for i, e := range q.recs {
		if e.s.Lineage == lineage {
			return i
		}
	}
	return -1
}
