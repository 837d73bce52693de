package replay

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/record"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
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
	// Lua engine): an action it injects replaces the replayer's at that
	// call. If it also implements tracer.ProcessHandler it gets process
	// events.
	Overlay tracer.Handler
	// Command is set when the command was given instead of taken from the
	// trace: the first exec is then not compared.
	Command bool
	// Report receives divergence reports (one block each).
	Report io.Writer
	// Stop ends the run (kills the target); called on the tracer thread.
	Stop func()
}

// historyLen is how many calls before a divergence its report shows.
const historyLen = 4

// maxReports bounds the reports of a lenient replay.
const maxReports = 20

// thread is the replay state of one recorded thread (by lineage).
type thread struct {
	lineage string
	queue   []*tracepb.Syscall // recorded calls read from the trace, not yet matched
	next    int                // index of the next call, from 0
	cur     *tracepb.Syscall   // recorded counterpart of the call in flight
	mode    uint8              // what was done to the call in flight
	hist    [historyLen]*tracepb.Syscall
	nhist   int
	mapped  bool
	args    [6]uint64 // the arguments of the call in flight, as made
	execs   [][]byte  // AT_RANDOM of recorded execs not yet replayed
	// The exit status of the recorded thread, if it was in the trace.
	exitSeen bool
	exit     *tracepb.Process
}

// Modes of a call in flight.
const (
	modeReal       uint8 = iota // runs for real; compare its result at exit
	modeEmulated                // skipped, recorded result and memory given
	modeInjected                // the recording's injection re-applied
	modeOverlay                 // the overlay changed it: no comparison
	modeUnchecked               // runs for real, nothing to compare (diverged, or no recording)
	modeAccept                  // accept emulated by dup3 onto the recorded fd
	modeExitInject              // the recording changed the result at exit
	modeFloat                   // a scheduling call with no recorded counterpart
)

// Divergence is a difference between the replay and the recording.
type Divergence struct {
	Lineage string
	Index   int    // the call's index in its thread, from 0
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

// Replayer is the tracer handler of `hermes replay`.
type Replayer struct {
	r       *format.Reader
	hdr     *tracepb.TraceHeader
	opts    Options
	traced  [512]bool
	threads map[string]*thread
	eof     bool
	events  int // events read from the trace
	calls   int // calls matched
	emul    int // calls emulated

	// Pids: recorded tids by lineage and back, real ones likewise.
	recTid  map[string]int32
	recLin  map[int32]string
	realTid map[string]int
	realLin map[int]string

	outside map[string]bool // what the root's inherited descriptors are
	netSock map[string]bool // sockets the target made ("socket:[ino]")

	clockOff map[uint64]int64                  // recorded minus real time, by clock id
	clockQs  map[string]map[uint64]*clockQueue // recorded clock reads by process and clock

	rootExit *tracepb.Process
	first    *Divergence
	reports  int
	end      *EndError
	stopped  bool

	ov      tracer.Action
	ovx     tracer.Action
	buf     []byte
	str     []byte
	scratch []byte
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
		r: r, hdr: hdr, opts: opts,
		threads: make(map[string]*thread),
		recTid:  make(map[string]int32), recLin: make(map[int32]string),
		realTid: make(map[string]int), realLin: make(map[int]string),
		netSock: make(map[string]bool), clockOff: make(map[uint64]int64),
		clockQs: make(map[string]map[uint64]*clockQueue),
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

// SetStop sets the function that ends the run (Options.Stop).
func (rp *Replayer) SetStop(stop func()) { rp.opts.Stop = stop }

// Calls returns how many calls were matched, and how many of them emulated.
func (rp *Replayer) Calls() (matched, emulated int) { return rp.calls, rp.emul }

// Divergences returns how many divergences were found.
func (rp *Replayer) Divergences() int { return rp.reports }

// thread returns the state of a lineage.
func (rp *Replayer) thread(lineage string) *thread {
	th := rp.threads[lineage]
	if th == nil {
		th = &thread{lineage: lineage}
		rp.threads[lineage] = th
	}
	return th
}

// pull reads the next event of the trace into the queues; false at the end.
func (rp *Replayer) pull() bool {
	if rp.eof {
		return false
	}
	ev, err := rp.r.Next()
	if err != nil {
		rp.eof = true
		return false
	}
	rp.events++
	switch k := ev.Kind.(type) {
	case *tracepb.Event_Syscall:
		s := k.Syscall
		if key, ok := clockKey(record.Arch(s.Arch), int(s.Nr), format.Args(s)[0]); ok && !s.EntryOnly && s.Injected == nil {
			q := rp.clockQueue(procLineage(s.Lineage), key)
			q.recs = append(q.recs, s)
			break
		}
		th := rp.thread(s.Lineage)
		th.queue = append(th.queue, s)
	case *tracepb.Event_Process:
		p := k.Process
		th := rp.thread(p.Lineage)
		switch p.Kind {
		case tracepb.ProcessKind_PROCESS_KIND_EXEC:
			th.execs = append(th.execs, p.AtRandom)
		case tracepb.ProcessKind_PROCESS_KIND_EXIT:
			th.exitSeen, th.exit = true, p
			if p.Lineage == "1" {
				rp.rootExit = p
			}
		case tracepb.ProcessKind_PROCESS_KIND_FORK, tracepb.ProcessKind_PROCESS_KIND_THREAD:
			rp.recTid[p.ChildLineage] = p.ChildPid
			rp.recLin[p.ChildPid] = p.ChildLineage
		}
	}
	return true
}

// expect returns the recorded call with the thread's next index, reading
// the trace as far as needed; nil if the recording has no such call.
func (rp *Replayer) expect(th *thread) *tracepb.Syscall {
	for len(th.queue) == 0 {
		if !rp.pull() {
			return nil
		}
	}
	s := th.queue[0]
	th.queue[0] = nil
	th.queue = th.queue[1:]
	return s
}

// Enter implements tracer.Handler.
func (rp *Replayer) Enter(sc *tracer.Syscall, act *tracer.Action) {
	if rp.stopped {
		return
	}
	if sc.Arch == abi.ArchX86_64 && (sc.Nr < 0 || sc.Nr >= len(rp.traced) || !rp.traced[sc.Nr]) {
		// Trapped only for the overlay: not in the recording.
		rp.overlayEnter(sc, act)
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
	act.WantExit = true
	th.cur, th.mode = nil, modeUnchecked
	rec := rp.expect(th)
	for rec != nil && isRestart(rec.Ret) && rec.Injected == nil {
		// A signal interrupted this call when recorded and the kernel
		// restarted it: the restarted call is the one to match (this run's
		// signals come when they come).
		th.next++
		rec = rp.expect(th)
	}
	floats := rec != nil && !sameCall(sc, rec) && rp.floats(sc)
	if rec != nil && !sameCall(sc, rec) && recNoise(rec) && !(floats && valued(rec)) {
		// Scheduling calls the recording made here and this run does not:
		// look past them for this call.
		if i := rp.lookahead(th, sc, floats); i >= 0 {
			th.next += i + 1
			rec = th.queue[i]
			th.queue = th.queue[i+1:]
		}
	}
	if (rec == nil || !sameCall(sc, rec)) && valuedCall(sc) {
		// A clock or id read another thread made when recorded.
		if stolen := rp.steal(th, sc); stolen != nil {
			if rec != nil {
				th.queue = append([]*tracepb.Syscall{rec}, th.queue...)
			}
			rec = stolen
		}
	}
	if rec != nil && !sameCall(sc, rec) && rp.floats(sc) {
		// A scheduling call the recorded thread did not make here: run it,
		// and match the next call against the same record.
		th.queue = append([]*tracepb.Syscall{rec}, th.queue...)
		rp.floating(th, sc, act)
		return
	}
	for rec != nil && !sameCall(sc, rec) && recNoise(rec) {
		th.next++
		rec = rp.expect(th)
	}
	if rec == nil || !sameCall(sc, rec) {
		// Goroutines and the like move between threads: the call may be
		// the next of another thread of the process in the recording.
		if stolen := rp.steal(th, sc); stolen != nil {
			if rec != nil {
				th.queue = append([]*tracepb.Syscall{rec}, th.queue...)
			}
			rec = stolen
		}
	}
	idx := th.next
	th.next++
	th.cur = rec
	if rec == nil {
		if rp.end == nil && rp.floats(sc) {
			if _, _, complete := rp.r.Recovered(); complete {
				rp.floating(th, sc, act)
				return
			}
		}
		rp.noRecord(th, idx, sc)
		return
	}
	rp.calls++
	if !th.mapped {
		th.mapped = true
		rp.recTid[th.lineage] = rec.Tid
		rp.recLin[rec.Tid] = th.lineage
		rp.recLin[rec.Pid] = sc.Thread.Proc.Lineage
		rp.setReal(sc.Tid(), th.lineage)
		rp.setReal(sc.Pid(), sc.Thread.Proc.Lineage)
	}
	if reason := rp.compareEntry(sc, rec, idx); reason != "" {
		rp.diverge(th, idx, sc, rec, false, reason)
		if rp.stopped {
			act.Kill = true
		}
		rp.remember(th, rec)
		return
	}
	rp.remember(th, rec)
	emulate := rp.opts.Emulate
	if emulate&Pid != 0 {
		rp.translatePidArgs(sc, act)
	}
	switch {
	case rec.Injected != nil && rec.Injected.Note != "at exit":
		th.mode = modeInjected
		rp.reinject(rec, act)
	case rec.Injected != nil:
		th.mode = modeExitInject
	case rec.EntryOnly:
		// It did not return when recorded (the thread died in it): run it,
		// expect nothing.
	default:
		th.mode = rp.decide(sc, rec, act)
		th.args = sc.Args
		if th.mode == modeReal && isNoise(sc.Arch, sc.Nr, &sc.Args) {
			th.mode = modeUnchecked // how many a futex woke is up to timing
		}
	}
	rp.overlayEnter(sc, act)
	if rp.overridden(&rp.ov) {
		th.mode = modeOverlay
	}
}

// overlayEnter runs the overlay with its own action; if it injects
// something, that replaces act.
func (rp *Replayer) overlayEnter(sc *tracer.Syscall, act *tracer.Action) {
	rp.ov = tracer.Action{Writes: rp.ov.Writes[:0], Strings: rp.ov.Strings[:0]}
	if rp.opts.Overlay == nil {
		return
	}
	rp.opts.Overlay.Enter(sc, &rp.ov)
	if rp.ov.Injected() {
		want := act.WantExit || rp.ov.WantExit
		*act = rp.ov
		act.WantExit = want
	} else if rp.ov.WantExit {
		act.WantExit = true
	}
}

func (rp *Replayer) overridden(a *tracer.Action) bool {
	return rp.opts.Overlay != nil && a.Injected()
}

func sameNr(sc *tracer.Syscall, rec *tracepb.Syscall) bool {
	return record.Arch(rec.Arch) == sc.Arch && int(rec.Nr) == sc.Nr
}

// sameCall is sameNr, and for clock reads the same clock: a thread's
// clock reads of different clocks are different calls.
func sameCall(sc *tracer.Syscall, rec *tracepb.Syscall) bool {
	if !sameNr(sc, rec) {
		return false
	}
	if sc.Arch == abi.ArchX86_64 && (sc.Nr == unix.SYS_CLOCK_GETTIME || sc.Nr == unix.SYS_CLOCK_NANOSLEEP) {
		return uint32(sc.Args[0]) == uint32(format.Args(rec)[0])
	}
	return true
}

// isNoise reports whether a call is one whose number of occurrences in a
// thread depends on timing: the lock, sleep and clock calls of a runtime's
// scheduler (Go's sysmon, idle Ms, preemption signals). Where a thread's
// calls and the recording's differ only by such calls, replay lets them
// float instead of calling it a divergence; a call that matches is still
// emulated or compared as usual.
func isNoise(a abi.Arch, nr int, args *[6]uint64) bool {
	if a != abi.ArchX86_64 || nr < 0 || nr >= len(callFlags) {
		return false
	}
	switch nr {
	case unix.SYS_CLONE:
		// A runtime starts threads when it finds work waiting.
		return args[0]&unix.CLONE_THREAD != 0
	case unix.SYS_MMAP:
		// Anonymous memory: heaps grow when a collector running beside
		// the program says so.
		return args[3]&unix.MAP_ANONYMOUS != 0
	}
	return callFlags[nr]&fNoise != 0
}

// floats reports whether a call this run makes may go unmatched: a
// scheduling call, or a read of kernel state under /proc or /sys (a
// runtime's periodic look at its cgroup limits).
func (rp *Replayer) floats(sc *tracer.Syscall) bool {
	if isNoise(sc.Arch, sc.Nr, &sc.Args) {
		return true
	}
	return sc.Arch == abi.ArchX86_64 && callFlags[sc.Nr]&fRead != 0 &&
		rp.fdClass(sc.Thread.Proc.FDPath(int(int32(sc.Args[0])))) == Proc
}

func recNoise(rec *tracepb.Syscall) bool {
	args := format.Args(rec)
	return isNoise(record.Arch(rec.Arch), int(rec.Nr), &args)
}

// maxLookahead bounds how many recorded scheduling calls a thread may skip
// to find the call it makes.
const maxLookahead = 64

// lookahead returns the index in th.queue of the call sc, if only
// scheduling calls come before it there; else -1. th.queue is the part
// after the head the caller holds.
// A call that floats itself never skips a recorded clock or pid read:
// those carry the values the program sees.
func (rp *Replayer) lookahead(th *thread, sc *tracer.Syscall, floats bool) int {
	for i := 0; i < maxLookahead; i++ {
		for i >= len(th.queue) {
			if !rp.pull() {
				return -1
			}
		}
		rec := th.queue[i]
		if sameCall(sc, rec) {
			return i
		}
		if !recNoise(rec) || (floats && valued(rec)) {
			return -1
		}
	}
	return -1
}

// valuedCall is valued for a live call.
func valuedCall(sc *tracer.Syscall) bool {
	switch sc.Nr {
	case unix.SYS_GETPID, unix.SYS_GETTID:
		return sc.Arch == abi.ArchX86_64
	}
	return false
}

// valued reports whether a recorded scheduling call returns a value the
// program uses: a clock or an id.
func valued(rec *tracepb.Syscall) bool {
	switch rec.Nr {
	case unix.SYS_GETPID, unix.SYS_GETTID:
		return rec.Arch == tracepb.Arch_ARCH_X86_64
	}
	return false
}

// steal looks for sc among the next recorded calls of the other threads of
// its process: a Go program's goroutine runs on whichever thread is free,
// and a call made by one thread when recorded can be made by another in
// replay. The first thread whose next call (scheduling calls aside) has the
// same number and arguments gives it up.
func (rp *Replayer) steal(th *thread, sc *tracer.Syscall) *tracepb.Syscall {
	prefix := sc.Thread.Proc.Lineage
	if rp.lone(prefix) {
		return nil
	}
	for lin, o := range rp.threads {
		if o == th || (lin != prefix && !strings.HasPrefix(lin, prefix+"/t")) {
			continue
		}
		i := 0
		for {
			for i >= len(o.queue) {
				if !rp.pull() {
					break
				}
			}
			if i >= len(o.queue) || !recNoise(o.queue[i]) || (valuedCall(sc) && valued(o.queue[i])) {
				break
			}
			i++
		}
		if i >= len(o.queue) {
			continue
		}
		rec := o.queue[i]
		if !sameNr(sc, rec) || rp.compareEntry(sc, rec, -1) != "" {
			continue
		}
		o.queue = append(o.queue[:i], o.queue[i+1:]...)
		return rec
	}
	return nil
}

// lone reports whether the recording has only one thread in the process
// of the given lineage, as far as it has been read.
func (rp *Replayer) lone(proc string) bool {
	for lin := range rp.threads {
		if strings.HasPrefix(lin, proc+"/t") {
			return false
		}
	}
	return true
}

// isRestart reports whether ret is one of the kernel's restart codes a
// tracer sees when a signal interrupts a call (ERESTARTSYS and friends).
func isRestart(ret int64) bool { return ret <= -512 && ret >= -516 }

// decide chooses how to run a call that the recording did not inject:
// emulated from the recording, or for real.
func (rp *Replayer) decide(sc *tracer.Syscall, rec *tracepb.Syscall, act *tracer.Action) uint8 {
	if sc.Arch != abi.ArchX86_64 {
		return modeReal
	}
	c := rp.opts.Emulate
	f := callFlags[sc.Nr]
	emulate := false
	switch {
	case f&fTime != 0:
		emulate = c&Time != 0
	case f&fRandom != 0:
		emulate = c&Random != 0
	case f&fPidRet != 0:
		emulate = c&Pid != 0
	case f&fUname != 0:
		emulate = c&Uname != 0
	case f&fPoll != 0:
		emulate = c&Poll != 0
	case f&fWait != 0 && c&Pid != 0:
		return rp.targetWait(sc, rec, act)
	case f&(fRead|fWrite|fSock|fAccept|fFDInfo) != 0:
		kind := rp.fdClass(sc.Thread.Proc.FDPath(int(int32(sc.Args[0]))))
		switch {
		case f&fFDInfo != 0:
			// What the outside descriptor is (a tty, a file) decides how
			// libc buffers: give the program the recorded answer.
			emulate = kind == Input && c&Input != 0 && aboutFD(sc)
		case f&fRead != 0:
			emulate = kind != 0 && c&kind != 0
			if !emulate && kind == 0 && rec.Ret > 0 && (sc.Nr == unix.SYS_READ || sc.Nr == unix.SYS_RECVFROM) && sc.Args[2] > uint64(rec.Ret) {
				// A pipe or socket inside the target may hold more now than
				// it did when recorded: read no more than the recording did.
				act.SetArgs |= 1 << 2
				act.Args[2] = uint64(rec.Ret)
			}
		case kind == Net && c&Net != 0 && f&fAccept != 0:
			return rp.emulateAccept(sc, rec, act)
		default:
			emulate = kind == Net && c&Net != 0
		}
	}
	if !emulate || summarized(rec) {
		return modeReal // a summary cannot be given back: run it and compare
	}
	rp.emulate(sc, rec, act)
	return modeEmulated
}

// aboutFD reports whether a call with fFDInfo asks about the descriptor
// in its first argument (stat calls with AT_EMPTY_PATH and an empty path).
func aboutFD(sc *tracer.Syscall) bool {
	switch sc.Nr {
	case unix.SYS_NEWFSTATAT:
		return sc.Args[3]&unix.AT_EMPTY_PATH != 0 && emptyString(sc, 1)
	case unix.SYS_STATX:
		return sc.Args[2]&unix.AT_EMPTY_PATH != 0 && emptyString(sc, 1)
	}
	return true
}

func emptyString(sc *tracer.Syscall, arg int) bool {
	var b [1]byte
	n, _ := sc.Mem().ReadAt(b[:], sc.Args[arg])
	return n == 1 && b[0] == 0
}

// summarized reports whether the recording kept only a summary of what
// the call wrote.
func summarized(rec *tracepb.Syscall) bool {
	for _, m := range rec.Mem {
		if m.Kind == tracepb.MemKind_MEM_KIND_OUT && len(m.Digest) > 0 {
			return true
		}
	}
	return false
}

// emulate skips the call and gives it the recorded result and out-memory.
func (rp *Replayer) emulate(sc *tracer.Syscall, rec *tracepb.Syscall, act *tracer.Action) {
	rp.emulateAt(sc, &sc.Args, rec, act)
}

// emulateAt is emulate with the arguments the call was made with.
func (rp *Replayer) emulateAt(sc *tracer.Syscall, args *[6]uint64, rec *tracepb.Syscall, act *tracer.Action) {
	rp.emul++
	act.Skip, act.Value, act.By = true, rec.Ret, "replay"
	act.Writes = act.Writes[:0]
	if rec.Ret < 0 {
		return
	}
	for _, m := range rec.Mem {
		if m.Kind != tracepb.MemKind_MEM_KIND_OUT || len(m.Data) == 0 {
			continue
		}
		act.Writes = append(act.Writes, tracer.MemWrite{Addr: relocate(args, rec, m), Data: m.Data})
		if sc.Nr == unix.SYS_CLOCK_GETTIME && len(m.Data) == 16 {
			rp.learnClock(sc.Args[0], m.Data)
		}
	}
}

// Clock reads are matched per process and clock, in order, not per
// thread: which thread of a Go program reads the clock for time.Now
// depends on where its goroutine runs, but the n-th reading of a clock in
// the process is the n-th reading when recorded. Readings are handed out
// in order, so a clock stays monotonic across threads.

// clockQueue holds the recorded readings of one clock in one process.
type clockQueue struct {
	recs []*tracepb.Syscall
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

// procLineage is the lineage of the process a thread lineage belongs to.
func procLineage(lineage string) string {
	if i := strings.Index(lineage, "/t"); i >= 0 {
		return lineage[:i]
	}
	return lineage
}

func (rp *Replayer) clockQueue(proc string, key uint64) *clockQueue {
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

// clockRead gives a clock read the process's next recorded reading of that
// clock; past the recorded ones, time runs on from the last (floating).
func (rp *Replayer) clockRead(sc *tracer.Syscall, key uint64, act *tracer.Action) {
	th := rp.thread(sc.Thread.Lineage)
	th.cur, th.mode = nil, modeFloat
	if rp.opts.Emulate&Time != 0 {
		q := rp.clockQueue(sc.Thread.Proc.Lineage, key)
		for i := 0; len(q.recs) == 0 && i < clockPullLimit && rp.pull(); i++ {
		}
		if len(q.recs) > 0 {
			rec := q.recs[0]
			q.recs[0] = nil
			q.recs = q.recs[1:]
			rp.calls++
			rp.emulate(sc, rec, act)
			th.mode = modeUnchecked
			rp.overlayEnter(sc, act)
			return
		}
	}
	rp.floating(th, sc, act)
}

// floating lets a scheduling call with no recorded counterpart run. A clock
// read among them must not jump from recorded time to today's: its result
// is moved by how far the recording's clock was from the real one when it
// was last emulated.
func (rp *Replayer) floating(th *thread, sc *tracer.Syscall, act *tracer.Action) {
	th.cur, th.mode = nil, modeFloat
	act.WantExit = sc.Nr == unix.SYS_CLOCK_GETTIME
	if rp.opts.Emulate&Pid != 0 && (sc.Nr == unix.SYS_GETPID || sc.Nr == unix.SYS_GETTID) {
		// The program keeps seeing its recorded ids.
		real := sc.Pid()
		if sc.Nr == unix.SYS_GETTID {
			real = sc.Tid()
		}
		if v, ok := rp.toRecorded(real); ok {
			act.Skip, act.Value, act.By = true, int64(v), "replay"
		}
	}
	rp.overlayEnter(sc, act)
}

// clocks whose offset replay keeps: the system-wide ones.
func clockKept(id uint64) bool {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_RAW,
		unix.CLOCK_REALTIME_COARSE, unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_BOOTTIME:
		return true
	}
	return false
}

// learnClock notes how far a recorded clock reading is from the real clock.
func (rp *Replayer) learnClock(id uint64, ts []byte) {
	if !clockKept(id) {
		return
	}
	var now unix.Timespec
	if unix.ClockGettime(int32(id), &now) != nil {
		return
	}
	rec := int64(binary.LittleEndian.Uint64(ts))*1e9 + int64(binary.LittleEndian.Uint64(ts[8:]))
	rp.clockOff[id] = rec - now.Nano()
}

// shiftClock moves the result of a real clock_gettime into recorded time.
func (rp *Replayer) shiftClock(sc *tracer.Syscall) {
	if sc.Nr != unix.SYS_CLOCK_GETTIME || sc.Ret != 0 || !clockKept(sc.Args[0]) {
		return
	}
	off, ok := rp.clockOff[sc.Args[0]]
	if !ok {
		return
	}
	var ts [16]byte
	if n, _ := sc.Mem().ReadAt(ts[:], sc.Args[1]); n != len(ts) {
		return
	}
	ns := int64(binary.LittleEndian.Uint64(ts[:]))*1e9 + int64(binary.LittleEndian.Uint64(ts[8:])) + off
	binary.LittleEndian.PutUint64(ts[:], uint64(ns/1e9))
	binary.LittleEndian.PutUint64(ts[8:], uint64(ns%1e9))
	_ = sc.Mem().WriteAt(ts[:], sc.Args[1])
}

// relocate returns where a recorded capture goes in the replay: at the
// same offset from the argument that pointed at it. With ASLR off the
// addresses are the same anyway.
func relocate(args *[6]uint64, rec *tracepb.Syscall, m *tracepb.Mem) uint64 {
	if m.Arg < 6 {
		if recArg := format.Args(rec)[m.Arg]; recArg == m.Addr {
			return args[m.Arg]
		}
	}
	return m.Addr
}

// emulateAccept gives an accept the recorded connection: the call becomes
// dup3(listener, recorded fd), so a real descriptor exists at the number
// the program expects, and the peer address is written at exit.
func (rp *Replayer) emulateAccept(sc *tracer.Syscall, rec *tracepb.Syscall, act *tracer.Action) uint8 {
	if rec.Ret < 0 {
		rp.emulate(sc, rec, act)
		return modeEmulated
	}
	if sc.Thread.Proc.FDPath(int(rec.Ret)) != "" {
		return modeReal // the number is taken: run it and let the comparison report it
	}
	rp.emul++
	flags := uint64(0)
	if sc.Nr == unix.SYS_ACCEPT4 && sc.Args[3]&unix.SOCK_CLOEXEC != 0 {
		flags = unix.O_CLOEXEC
	}
	act.SetNr, act.Nr = true, unix.SYS_DUP3
	act.SetArgs |= 0b111
	act.Args[0], act.Args[1], act.Args[2] = sc.Args[0], uint64(rec.Ret), flags
	act.By = "replay"
	return modeAccept
}

// targetWait makes a wait4 reap the child the recording says it reaped, so
// that children are reaped in the recorded order.
func (rp *Replayer) targetWait(sc *tracer.Syscall, rec *tracepb.Syscall, act *tracer.Action) uint8 {
	switch {
	case rec.Ret == 0:
		// WNOHANG and nothing had exited: say so again.
		rp.emulate(sc, rec, act)
		return modeEmulated
	case rec.Ret > 0:
		if real, ok := rp.toReal(int32(rec.Ret)); ok {
			act.SetArgs |= 1
			act.Args[0] = uint64(uint32(real))
		}
	}
	return modeReal
}

// translatePidArgs rewrites recorded pids in arguments to the real ones.
func (rp *Replayer) translatePidArgs(sc *tracer.Syscall, act *tracer.Action) {
	if sc.Arch != abi.ArchX86_64 || callFlags[sc.Nr]&fPidArgs == 0 {
		return
	}
	for _, i := range pidArgs[sc.Nr] {
		v := int32(sc.Args[i])
		neg := v < -1
		if neg {
			v = -v
		}
		if v <= 0 {
			continue
		}
		real, ok := rp.toReal(v)
		if !ok || real == int(v) {
			continue
		}
		if neg {
			real = -real
		}
		act.SetArgs |= 1 << i
		act.Args[i] = uint64(uint32(int32(real)))
	}
}

// toReal maps a recorded pid or tid to the live one.
func (rp *Replayer) toReal(v int32) (int, bool) {
	lin, ok := rp.recLin[v]
	if !ok {
		return 0, false
	}
	tid, ok := rp.realTid[lin]
	return tid, ok
}

func (rp *Replayer) setReal(tid int, lineage string) {
	rp.realLin[tid] = lineage
	rp.realTid[lineage] = tid
}

// toRecorded maps a live pid or tid to the recorded one.
func (rp *Replayer) toRecorded(v int) (int32, bool) {
	lin, ok := rp.realLin[v]
	if !ok {
		return 0, false
	}
	t, ok := rp.recTid[lin]
	return t, ok
}

// reinject applies what the recording injected at this call.
func (rp *Replayer) reinject(rec *tracepb.Syscall, act *tracer.Action) {
	inj := rec.Injected
	act.By = "replay of " + inj.By
	switch inj.Action {
	case tracepb.Action_ACTION_DENY, tracepb.Action_ACTION_RETURN, tracepb.Action_ACTION_EMULATE:
		act.Skip, act.Value = true, rec.Ret
		for _, w := range inj.Writes {
			if w.Kind == tracepb.MemKind_MEM_KIND_OUT {
				act.Writes = append(act.Writes, tracer.MemWrite{Addr: w.Addr, Data: w.Data})
			}
		}
	case tracepb.Action_ACTION_KILL:
		act.Kill = true
	}
	if inj.SetArgs != 0 && !act.Skip {
		for i := 0; i < 6 && i < len(inj.Args); i++ {
			if inj.SetArgs&(1<<i) != 0 {
				act.SetArgs |= 1 << i
				act.Args[i] = inj.Args[i]
			}
		}
		for _, w := range inj.Writes {
			if w.Kind == tracepb.MemKind_MEM_KIND_IN {
				act.SetArgs &^= 1 << w.Arg
				act.Strings = append(act.Strings, tracer.StringArg{Index: int(w.Arg), Data: w.Data})
			}
		}
	}
	act.Delay = time.Duration(inj.DelayNs)
	act.Signal = int(inj.Signal)
}

// Exit implements tracer.Handler.
func (rp *Replayer) Exit(sc *tracer.Syscall, act *tracer.Action) {
	if sc.Arch == abi.ArchX86_64 && (sc.Nr < 0 || sc.Nr >= len(rp.traced) || !rp.traced[sc.Nr]) {
		rp.overlayExit(sc, act)
		return
	}
	th := rp.threads[sc.Thread.Lineage]
	if th != nil && th.mode == modeFloat && !rp.stopped {
		rp.shiftClock(sc)
	}
	if th == nil || th.cur == nil || rp.stopped {
		rp.overlayExit(sc, act)
		return
	}
	rec := th.cur
	th.cur = nil
	if isRestart(sc.Ret) && !isRestart(rec.Ret) {
		// Interrupted by a signal this time: the kernel restarts it after
		// the handler, and that call is the one to match with rec.
		th.queue = append([]*tracepb.Syscall{rec}, th.queue...)
		th.next--
		th.nhist--
		rp.calls--
		if th.mode == modeEmulated {
			rp.emul--
		}
		rp.overlayExit(sc, act)
		return
	}
	switch th.mode {
	case modeReal:
		if reason := rp.compareExit(sc, rec, act); reason != "" {
			rp.diverge(th, th.next-1, sc, rec, true, reason)
		}
	case modeAccept:
		if sc.Ret != rec.Ret {
			rp.diverge(th, th.next-1, sc, rec, true, fmt.Sprintf("accept emulated on fd %d, got %d", rec.Ret, sc.Ret))
			break
		}
		rp.emulateAt(sc, &th.args, rec, act) // sc.Args are dup3's now
	case modeExitInject:
		act.Skip, act.Value, act.By = true, rec.Ret, "replay of "+rec.Injected.By
	}
	rp.overlayExit(sc, act)
}

func (rp *Replayer) overlayExit(sc *tracer.Syscall, act *tracer.Action) {
	if rp.opts.Overlay == nil {
		return
	}
	rp.ovx = tracer.Action{Writes: rp.ovx.Writes[:0], Strings: rp.ovx.Strings[:0]}
	rp.opts.Overlay.Exit(sc, &rp.ovx)
	if rp.ovx.Injected() {
		*act = rp.ovx
	}
}

// Process implements tracer.ProcessHandler.
func (rp *Replayer) Process(ev *tracer.ProcessEvent) {
	switch ev.Kind {
	case tracer.EventFork, tracer.EventThread:
		if ev.Child != nil {
			rp.setReal(ev.Child.Tid, ev.Child.Lineage)
		}
	case tracer.EventExec:
		rp.setReal(ev.Thread.Tid, ev.Thread.Lineage)
		th := rp.thread(ev.Thread.Lineage)
		for len(th.execs) == 0 && rp.pull() {
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
func (rp *Replayer) remember(th *thread, rec *tracepb.Syscall) {
	th.hist[th.nhist%historyLen] = rec
	th.nhist++
}

// compareEntry compares a call at entry with its recording: number and the
// path and string arguments.
func (rp *Replayer) compareEntry(sc *tracer.Syscall, rec *tracepb.Syscall, idx int) string {
	if !sameNr(sc, rec) {
		return fmt.Sprintf("the recording made %s here", record.Name(rec))
	}
	if sc.Info == nil {
		return ""
	}
	if rp.opts.Command && idx == 0 && sc.Thread.Lineage == "1" {
		return "" // the exec of a command given instead of the recorded one
	}
	recArgs := format.Args(rec)
	noise := isNoise(sc.Arch, sc.Nr, &sc.Args)
	for i, a := range sc.Info.Args {
		switch {
		case noise && !(i == 0 && (sc.Nr == unix.SYS_CLOCK_GETTIME || sc.Nr == unix.SYS_CLOCK_NANOSLEEP)):
			// A lock word or a sleep: only which clock is read matters.
		case a.Kind == abi.KindFD || a.Kind == abi.KindDirFD || a.Kind == abi.KindInt || a.Kind == abi.KindFlags ||
			a.Kind == abi.KindSignal || a.Kind == abi.KindMode:
			if uint32(sc.Args[i]) != uint32(recArgs[i]) {
				return fmt.Sprintf("argument %d (%s) is %d, recorded %d", i+1, a.Name, int32(sc.Args[i]), int32(recArgs[i]))
			}
		}
	}
	if (sc.Nr == unix.SYS_WRITE || sc.Nr == unix.SYS_PWRITE64 || sc.Nr == unix.SYS_SENDTO) && sc.Args[2] > 0 {
		// What the program writes is what it computed: the first place a
		// difference in its state shows.
		for _, m := range rec.Mem {
			if m.Kind == tracepb.MemKind_MEM_KIND_IN && m.Arg == 1 {
				if reason := rp.compareBuf(sc, rec, m, int(min(sc.Args[2], 1<<30)), "writes"); reason != "" {
					return reason
				}
			}
		}
	}
	for _, m := range rec.Mem {
		if m.Kind != tracepb.MemKind_MEM_KIND_IN || int(m.Arg) >= len(sc.Info.Args) {
			continue
		}
		a := sc.Info.Args[m.Arg]
		if a.Kind != abi.KindPath && a.Kind != abi.KindString {
			continue
		}
		if m.Addr != recArgs[m.Arg] {
			continue // a string inside an array, not the argument itself
		}
		s, _, _ := decode.ReadString(sc.Mem(), sc.Args[m.Arg], len(m.Data)+256, rp.str[:0])
		rp.str = s
		want := bytes.TrimSuffix(m.Data, []byte{0})
		if !bytes.Equal(s, want) {
			return fmt.Sprintf("argument %d (%s) is %q, recorded %q", m.Arg+1, a.Name, s, want)
		}
	}
	return ""
}

// compareExit compares the result of a call run for real with the
// recording, and gives the program recorded pids where pids are emulated.
func (rp *Replayer) compareExit(sc *tracer.Syscall, rec *tracepb.Syscall, act *tracer.Action) string {
	if sc.Arch != abi.ArchX86_64 {
		if sc.Ret != rec.Ret {
			return fmt.Sprintf("returned %d, recorded %d", sc.Ret, rec.Ret)
		}
		return ""
	}
	f := callFlags[sc.Nr]
	if f&fSocket != 0 && sc.Ret >= 0 {
		switch sc.Args[0] {
		case unix.AF_INET, unix.AF_INET6, unix.AF_UNIX, unix.AF_NETLINK:
			rp.netSock[sc.Thread.Proc.FDPath(int(sc.Ret))] = true
		}
	}
	ret := sc.Ret
	if f&(fFork|fWait) != 0 && ret > 0 && rp.opts.Emulate&Pid != 0 {
		if sc.Nr == unix.SYS_CLONE && sc.Args[0]&unix.CLONE_THREAD != 0 {
			rp.recTid[rp.realLin[int(ret)]] = int32(rec.Ret)
		}
		if recPid, ok := rp.toRecorded(int(ret)); ok {
			ret = int64(recPid)
		} else if lin, ok := rp.realLin[int(ret)]; ok && rec.Ret > 0 {
			// A child the recording has not named yet: its recorded pid is
			// what this call returned then.
			rp.recTid[lin] = int32(rec.Ret)
			rp.recLin[int32(rec.Ret)] = lin
			ret = rec.Ret
		}
		if ret != sc.Ret {
			act.Skip, act.Value, act.By = true, ret, "replay"
		}
	}
	if ret != rec.Ret {
		if sc.Info != nil && sc.Info.Ret == abi.RetHex && (!rp.hdr.Deterministic || sc.Thread.Proc.Threads() > 1) {
			// Addresses differ between runs with ASLR on, and where the
			// threads of a process map memory in another order.
			return ""
		}
		return fmt.Sprintf("returned %s, recorded %s", retString(ret), retString(rec.Ret))
	}
	if f&fRead != 0 && ret > 0 && (sc.Nr == unix.SYS_READ || sc.Nr == unix.SYS_PREAD64) {
		return rp.compareData(sc, rec, int(ret))
	}
	return ""
}

// compareData compares what a real read put in the buffer with the
// recording: a file that changed since the recording is found at the read.
func (rp *Replayer) compareData(sc *tracer.Syscall, rec *tracepb.Syscall, n int) string {
	for _, m := range rec.Mem {
		if m.Kind == tracepb.MemKind_MEM_KIND_OUT && m.Arg == 1 {
			return rp.compareBuf(sc, rec, m, n, "read")
		}
	}
	return ""
}

// compareBuf compares n bytes of live memory at the address of capture m
// with it: byte for byte as far as m holds data, then, for a summary, by
// its CRC-32C over all of them. what names the data in the reason.
func (rp *Replayer) compareBuf(sc *tracer.Syscall, rec *tracepb.Syscall, m *tracepb.Mem, n int, what string) string {
	if len(m.Digest) == 4 {
		n = min(n, int(m.Size))
	} else {
		n = min(n, len(m.Data))
	}
	if cap(rp.scratch) < n {
		rp.scratch = make([]byte, n)
	}
	got := rp.scratch[:n]
	k, _ := sc.Mem().ReadAt(got, relocate(&sc.Args, rec, m))
	got = got[:k]
	want := m.Data[:min(len(m.Data), n)]
	if p := got[:min(len(got), len(want))]; !bytes.Equal(p, want) || len(got) < len(want) {
		at := 0
		for at < len(p) && p[at] == want[at] {
			at++
		}
		return fmt.Sprintf("%s different data: byte %d is %s, recorded %s", what, at, quoteAt(got, at), quoteAt(want, at))
	}
	if len(m.Digest) == 4 && crc32.Checksum(got, castagnoli) != binary.LittleEndian.Uint32(m.Digest) {
		return fmt.Sprintf("%s different data: the first %d bytes are as recorded, the %d bytes in all are not (CRC-32C)", what, len(want), len(got))
	}
	return ""
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func quoteAt(b []byte, at int) string {
	if at >= len(b) {
		return "the end"
	}
	end := min(len(b), at+16)
	return strconv.Quote(string(b[at:end]))
}

func retString(v int64) string {
	if v < 0 && v >= -4095 {
		return fmt.Sprintf("-1 %s", abi.ErrnoName(int(-v)))
	}
	return strconv.FormatInt(v, 10)
}

// fdClass says which emulation class reads (and, for Net, writes) of a
// descriptor belong to, from what it refers to.
func (rp *Replayer) fdClass(path string) Classes {
	switch {
	case path == "":
		return 0
	case strings.HasPrefix(path, "/proc/") || strings.HasPrefix(path, "/sys/"):
		return Proc
	case path == "/dev/urandom" || path == "/dev/random":
		return Random
	case rp.outside[path]:
		return Input
	case strings.HasPrefix(path, "socket:"):
		if rp.netSock[path] {
			return Net
		}
		return 0
	case strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "/dev/"):
		return File
	}
	return 0 // pipes, socket pairs, devices: inside the target
}

// inherited lists what the descriptors the root process started with
// refer to: reads of them are input from outside.
func inherited(pid int) map[string]bool {
	out := make(map[string]bool)
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range ents {
		if target, err := os.Readlink(dir + e.Name()); err == nil {
			out[target] = true
		}
	}
	return out
}

// noRecord handles a call the recording does not have.
func (rp *Replayer) noRecord(th *thread, idx int, sc *tracer.Syscall) {
	if n, reason, complete := rp.r.Recovered(); !complete {
		if rp.end == nil {
			rp.end = &EndError{Lineage: th.lineage, Index: idx, Events: n, Reason: reason}
		}
		rp.stop()
		return
	}
	reason := "the recording has no more calls in this thread"
	if th.nhist == 0 {
		reason = "the recording has no thread " + th.lineage
	}
	rp.diverge(th, idx, sc, nil, false, reason)
}

func (rp *Replayer) stop() {
	if !rp.stopped {
		rp.stopped = true
		if rp.opts.Stop != nil {
			rp.opts.Stop()
		}
	}
}

// diverge reports a divergence; unless lenient, the replay stops.
func (rp *Replayer) diverge(th *thread, idx int, sc *tracer.Syscall, rec *tracepb.Syscall, atExit bool, reason string) {
	th.mode = modeUnchecked
	d := &Divergence{Lineage: th.lineage, Index: idx, Reason: reason}
	if rec != nil {
		d.Seq = rec.Seq
	}
	if rp.first == nil {
		rp.first = d
	}
	rp.reports++
	if rp.reports <= maxReports {
		rp.report(th, d, sc, rec, atExit)
	} else if rp.reports == maxReports+1 {
		fmt.Fprintf(rp.opts.Report, "hermes: replay: more divergences; not reporting them\n")
	}
	if !rp.opts.Lenient {
		rp.stop()
	}
}

// report prints one divergence: where, the recorded and the actual call,
// and the calls before it in the thread.
func (rp *Replayer) report(th *thread, d *Divergence, sc *tracer.Syscall, rec *tracepb.Syscall, atExit bool) {
	opts := &decode.Options{StrSize: 64}
	b := rp.buf[:0]
	b = fmt.Appendf(b, "hermes: replay diverged at %s call #%d", d.Lineage, d.Index)
	if rec != nil {
		b = fmt.Appendf(b, " (trace seq %d)", rec.Seq)
	}
	b = append(b, ":\n  recorded: "...)
	if rec != nil {
		b = record.AppendSyscall(b, rec, opts)
	} else {
		b = append(b, "(nothing)"...)
	}
	b = append(b, "\n  actual:   "...)
	c := decode.Call{Arch: sc.Arch, Nr: sc.Nr, Info: sc.Info, Args: sc.Args, Ret: sc.Ret, Exited: atExit}
	b = decode.AppendCall(b, &c, sc.Mem(), opts)
	if atExit {
		b = decode.AppendRet(b, &c)
	}
	b = append(b, "\n  reason:   "...)
	b = append(b, d.Reason...)
	b = append(b, '\n')
	n := th.nhist
	if rec != nil {
		n-- // the diverging call itself is the newest entry
	}
	first := max(0, n-(historyLen-1))
	if first < n {
		b = fmt.Appendf(b, "  before it in %s:\n", th.lineage)
	}
	for i := first; i < n; i++ {
		h := th.hist[i%historyLen]
		b = fmt.Appendf(b, "    #%d %s\n", d.Index-(n-i), record.AppendSyscall(nil, h, opts))
	}
	rp.buf = b
	rp.opts.Report.Write(b)
}

// Finish ends the replay: it compares the exit status with the recorded
// one and returns the first divergence, the end of a partial recording, or
// nil.
func (rp *Replayer) Finish(res tracer.Result) error {
	if rp.end != nil {
		return rp.end
	}
	if rp.first != nil && !rp.opts.Lenient {
		return rp.first
	}
	for rp.rootExit == nil && rp.pull() {
	}
	if rp.rootExit != nil && !res.Interrupted {
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
	// Calls the recording has that the replay never made.
	for rp.pull() {
	}
	for _, th := range rp.threads {
		for len(th.queue) > 0 && recNoise(th.queue[0]) {
			th.queue = th.queue[1:]
		}
		if len(th.queue) > 0 && th.nhist > 0 {
			rec := th.queue[0]
			d := &Divergence{Lineage: th.lineage, Index: th.next, Seq: rec.Seq,
				Reason: fmt.Sprintf("the recording has %d more calls in this thread, from %s", len(th.queue), record.AppendSyscall(nil, rec, &decode.Options{StrSize: 32}))}
			fmt.Fprintf(rp.opts.Report, "hermes: replay diverged at %s call #%d: %s\n", d.Lineage, d.Index, d.Reason)
			return rp.lastDivergence(d)
		}
	}
	return nil
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

// ErrNotDeterministic is wrapped by the warning for traces recorded with
// ASLR on and the vDSO visible.
var ErrNotDeterministic = errors.New("the trace was recorded with --nondeterministic: clocks and addresses will not replay")
