// Package record is hermes's record mode: a tracer handler that writes
// every trapped syscall, with its registers and the memory the syscall
// model says matters, and every process event into a trace file (package
// format).
//
// Events are numbered in the order they complete: a syscall is written at
// its exit (when its result and out-buffers are known), so a call that
// blocks is written after calls other threads made meanwhile. Within one
// thread, the order of its calls in the file is the order it made them,
// which is what replay matches on.
package record

import (
	"encoding/binary"
	"os"
	"slices"
	"strconv"
	"unsafe"

	"github.com/hermes-trace/hermes/format/recorded"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// regsSize is sizeof(struct user_regs_struct) on x86_64.
const regsSize = int(unsafe.Sizeof(unix.PtraceRegs{}))

// call is one syscall between its entry and exit.
type call struct {
	sc     tracepb.Syscall
	inj    tracepb.Injected
	regs   [regsSize]byte
	cap    capturer
	clock  bool     // a clock read answered by readClock
	ts     [16]byte // its timespec
	frames []string // reused for sc.Frames (Options.Stacks)
	admit  bool     // its order is taken when it goes into the kernel (Admitted)
	// noReturn: exit or exit_group held at its entry, written when it is
	// admitted (it has its place in the order only then: a joiner's wait
	// depends on when the thread really went).
	noReturn bool
	// held: its thread is held at its exit (chaos); the call is written
	// when the thread goes on (Returned), in the order threads went on.
	held bool
}

// Recorder is the tracer handler of `hermes record`. Put it last in the
// handler chain, so that it sees the actions the others chose.
type Recorder struct {
	w         *format.Writer
	opts      Options
	skip      *[maxNr]bool // calls not to record (Options.Only)
	timeNS    map[*tracer.Process]bool
	ownTimeNS string
	seq       uint64
	order     uint64   // recorded calls entered so far (Syscall.order)
	secrets   []string // values redactExec masks wherever an argument holds them
	ev        tracepb.Event
	evs       tracepb.Event_Syscall
	evp       tracepb.Event_Process
	pe        tracepb.Process
	pend      map[*tracer.Thread]*call
	free      []*call
	err       error
	events    uint64
	atRandom  [16]byte
	hide      *hidden    // hermes's own files, which the program does not see
	pre       *preimages // nil unless Options.Preimages
	tmp       capturer   // the paths of calls trapped only to hide files
	stack     []uint64   // Options.Stacks: the walk's buffer
}

// Options configure a Recorder.
type Options struct {
	// TrapTSC: the command's reads of the time stamp counter fault
	// (tracer.TrapTSCStep); the recorder completes each with the counter
	// it reads itself, and records the value as a TSC event, for replay.
	TrapTSC bool
	// Summarize keeps only a summary (the first SummaryPrefix bytes and a
	// CRC-32C of all of it, see tracepb.Mem.digest) of the data whose
	// contents can be had again: what write-like calls passed in, and what
	// reads of regular files and directories returned. Pipes, sockets,
	// devices, /proc and /sys are always recorded in full. The tracer must
	// run with Config.TrackFDs, so that a descriptor's path costs no
	// syscall.
	Summarize bool
	// Only, if not nil, lists the x86_64 syscall numbers to record; the
	// tracer may trap more (its fd model needs the calls that make and
	// close descriptors), and those are left out. i386 and x32 calls are
	// always recorded.
	Only []int
	// TimeResolution, if above 1, rounds every event time down to a
	// multiple of it, in nanoseconds; store it in the trace header's
	// time_resolution_ns. A tracer reads the clock microseconds after the
	// tracee stopped, so the nanosecond digits are its own noise, and they
	// cost about 2.5 bytes an event after compression; strace prints
	// microseconds.
	TimeResolution int64
	// Hide lists absolute paths of files hermes writes beside the program
	// (the trace and its FILE.partial): lookups of them fail with ENOENT
	// and listings of their directories leave them out, at record time, so
	// that recording changes nothing the program can see.
	Hide []string
	// Preimages keeps, before the first change the program makes to any
	// path, what that path was (tracepb.FileImage, carried on the events),
	// so that replay can show the files as they were when the recording
	// started. Calls that change files must be recorded (see FSCalls).
	Preimages bool
	// PreimageMax is the file size past which a pre-image keeps only a
	// digest (0: DefaultPreimageMax).
	PreimageMax int64
	// Stacks fills every recorded call's frames at its entry: the call
	// sites of a frame-pointer walk (tracer.Syscall.Stack), symbolized
	// (tracer.Syscall.Symbolize), innermost first, at most StackDepth.
	Stacks bool
	// StackDepth bounds the frames of a call (0: DefaultStackDepth).
	StackDepth int
	// Redact, if set, says which environment variables' values are kept
	// out of the trace (hermes record --redact-env): in the strings of
	// the argv and envp arrays execve and execveat calls pass,
	// "NAME=value" keeps its name and length, and its value becomes '*'s
	// (in argv, only where NAME is a variable name).
	Redact func(name string) bool
	// RedactValues are, with Redact, secrets known from the start (the
	// values the launch environment gives the variables Redact names):
	// masked wherever an exec's argument holds them, as the values such
	// variables get in the environment of any exec are from then on.
	RedactValues []string
}

// DefaultStackDepth is Options.StackDepth's default.
const DefaultStackDepth = 8

// round applies Options.TimeResolution to an event time.
func (r *Recorder) round(t int64) int64 { return roundTime(t, r.opts.TimeResolution) }

// roundTime rounds t down to a multiple of res nanoseconds (res <= 1: t).
func roundTime(t, res int64) int64 {
	if res > 1 {
		return t - t%res
	}
	return t
}

// exitTime is the exit_ns of a call that returned at leave: rounded, but
// never 0, which says the exit was not seen (a call that ended in the
// first tick of a coarse resolution ends at 1 tick).
func exitTime(leave, res int64) int64 {
	if e := roundTime(leave, res); e != 0 || leave <= 0 {
		return e
	}
	return max(res, 1)
}

// SummaryPrefix is how much of a summarized buffer is kept: enough for
// `hermes dump` to print what strace prints by default (32 bytes and more).
const SummaryPrefix = 64

// New returns a Recorder writing to w.
func New(w *format.Writer, opts Options) *Recorder {
	r := &Recorder{w: w, opts: opts, pend: make(map[*tracer.Thread]*call), timeNS: make(map[*tracer.Process]bool),
		secrets: slices.Clone(opts.RedactValues)}
	if len(opts.Hide) > 0 {
		r.hide = newHidden(opts.Hide)
	}
	if opts.Preimages {
		r.pre = newPreimages(opts.PreimageMax, r.hide)
	}
	if opts.Stacks {
		if r.opts.StackDepth <= 0 {
			r.opts.StackDepth = DefaultStackDepth
		}
		r.stack = make([]uint64, r.opts.StackDepth)
	}
	if opts.Only != nil {
		r.skip = new([maxNr]bool)
		for i := range r.skip {
			r.skip[i] = true
		}
		for _, nr := range opts.Only {
			if nr >= 0 && nr < maxNr {
				r.skip[nr] = false
			}
		}
	}
	return r
}

// maxNr bounds the x86_64 syscall numbers Options.Only may name.
const maxNr = 1024

// skipped reports whether a call is left out of the recording.
func (r *Recorder) skipped(sc *tracer.Syscall) bool {
	return r.skip != nil && sc.Arch == abi.ArchX86_64 && (sc.Nr < 0 || sc.Nr >= maxNr || r.skip[sc.Nr])
}

// Finish writes the pre-images still waiting for an event, on events of
// their own (process events of no kind, which readers skip). Call it after
// the run, before closing the writer.
func (r *Recorder) Finish() {
	for r.pre != nil && len(r.pre.pending) > 0 {
		p := &tracepb.Process{Seq: r.nextSeq(), Lineage: "1", Preimages: r.pre.next(nil)}
		r.evp.Process = p
		r.ev.Kind = &r.evp
		r.append(&r.ev)
	}
}

// Preimaged returns how many pre-images were taken and how many bytes of
// file contents they hold.
func (r *Recorder) Preimaged() (files int, bytes int64) {
	if r.pre == nil {
		return 0, 0
	}
	return r.pre.files, r.pre.bytes
}

// FSCalls returns the x86_64 syscalls a recording that keeps pre-images
// traps whatever it records: those that change files by name or their
// metadata. The calls that write data through a descriptor (write, mmap,
// copy_file_range...) are left out: the open that gave the program a
// descriptor it can write through was trapped, and took the pre-image; what
// is left are descriptors it inherited (its standard output), which replay
// does not write to anyway.
func FSCalls() []int {
	var out []int
	for _, s := range abi.All() {
		if s.FS == nil {
			continue
		}
		if !dataWrite(s.Nr) {
			out = append(out, s.Nr)
		}
	}
	return out
}

// HideCalls returns the x86_64 syscalls a recording traps to keep
// Options.Hide hidden: those that take a path, and getdents64.
func HideCalls() []int {
	out := []int{unix.SYS_GETDENTS64}
	for _, s := range abi.All() {
		for _, a := range s.Args {
			if a.Kind == abi.KindPath {
				out = append(out, s.Nr)
				break
			}
		}
	}
	return out
}

// Err returns the first error writing the trace.
func (r *Recorder) Err() error { return r.err }

// Events returns how many events were written.
func (r *Recorder) Events() uint64 { return r.events }

func (r *Recorder) append(ev *tracepb.Event) {
	if r.err != nil {
		return
	}
	if r.opts.Redact != nil {
		if sc := ev.GetSyscall(); sc != nil {
			r.secrets = redactExec(sc, r.opts.Redact, r.secrets)
		}
	}
	if err := r.w.Append(ev); err != nil {
		r.err = err
		return
	}
	r.events++
}

func (r *Recorder) nextSeq() uint64 {
	r.seq++
	return r.seq
}

// Admitted implements tracer.Admitter: a call held at its entry (chaos)
// takes its place in the order when it goes into the kernel.
func (r *Recorder) Admitted(sc *tracer.Syscall) {
	if c := r.pend[sc.Thread]; c != nil && c.admit {
		r.admit(c)
		if c.noReturn {
			c.noReturn = false
			r.flush(sc.Thread, c)
		}
	}
}

func (r *Recorder) admit(c *call) {
	c.admit = false
	r.order++
	c.sc.Order = r.order
}

// Enter implements tracer.Handler: it captures the registers and what the
// kernel will read.
func (r *Recorder) Enter(sc *tracer.Syscall, act *tracer.Action) {
	if r.skipped(sc) {
		if (r.hide != nil || r.pre != nil) && sc.Info != nil && !act.Skip && !act.Kill {
			// Trapped so that hermes's files stay hidden (HideCalls) and
			// the files the program changes have pre-images (FSCalls).
			r.tmp.reset()
			r.tmp.entry(sc)
			switch {
			case r.hide.lookup(sc, &r.tmp):
				act.Skip, act.Value = true, -int64(unix.ENOENT)
			case r.pre != nil:
				r.pre.before(sc, &r.tmp)
			}
			act.WantExit = act.WantExit || (r.hide != nil && sc.Nr == unix.SYS_GETDENTS64)
		}
		return
	}
	act.WantExit = true
	c := r.pend[sc.Thread]
	if c != nil && c.held {
		// Held at its exit, and let go without a word (a tracer that
		// does not hold attached threads).
		c.held = false
		r.flush(sc.Thread, c)
		c = nil
	}
	if c == nil {
		if n := len(r.free); n > 0 {
			c, r.free = r.free[n-1], r.free[:n-1]
		} else {
			c = &call{}
		}
		r.pend[sc.Thread] = c
	}
	th := sc.Thread
	s := &c.sc
	*s = tracepb.Syscall{
		Lineage: th.Lineage, Pid: int32(th.Proc.Pid), Tid: int32(th.Tid),
		Nr: int32(sc.Nr), Arch: recorded.ArchPB(sc.Arch), EnterNs: r.round(sc.Enter),
		Regs: c.regs[:0], ExitRegs: s.ExitRegs[:0],
	}
	c.admit = (act.Delay > 0 || act.Hold) && !act.Skip
	if !c.admit {
		r.order++
		s.Order = r.order
	}
	if regs, err := sc.Regs(); err == nil {
		// The registers as the call was made, before any modification.
		s.Regs = append(s.Regs, unsafe.Slice((*byte)(unsafe.Pointer(regs)), regsSize)...)
	}
	if r.stack != nil {
		s.Frames = c.frames[:0]
		for _, pc := range sc.Stack(r.stack) {
			s.Frames = append(s.Frames, sc.Symbolize(pc))
		}
		c.frames = s.Frames
	}
	c.cap.reset()
	c.cap.summarize = r.opts.Summarize && writeLike(sc)
	c.cap.entry(sc)
	r.injected(c, act, false)
	if !act.Skip && !act.Kill {
		// Not an injection: for the program, hermes's files do not exist.
		if r.hide.lookup(sc, &c.cap) {
			act.Skip, act.Value = true, -int64(unix.ENOENT)
		} else if r.pre != nil {
			r.pre.before(sc, &c.cap)
		}
	}
	c.clock = false
	if sc.Info != nil && sc.Info.Ret == abi.RetNone {
		// exit and exit_group never return.
		s.EntryOnly, s.Exited = true, true
		if c.admit {
			c.noReturn = true // written when it goes (Admitted), or dies held
			return
		}
		r.flush(th, c)
		return
	}
	if !act.Injected() {
		r.readClock(sc, act, c)
	}
}

// readClock answers a clock_gettime of a system-wide clock at its entry
// stop with hermes's own reading of that clock: what the kernel would have
// written a moment later, at the cost of one ptrace stop instead of two.
// With the vDSO patched into syscalls (deterministic runs), clock reads
// are many.
func (r *Recorder) readClock(sc *tracer.Syscall, act *tracer.Action, c *call) {
	if sc.Arch != abi.ArchX86_64 || sc.Nr != unix.SYS_CLOCK_GETTIME || sc.Args[1] == 0 {
		return
	}
	id := int32(sc.Args[0])
	if !recorded.SystemClock(uint32(id)) || (id != unix.CLOCK_REALTIME && id != unix.CLOCK_REALTIME_COARSE &&
		id != unix.CLOCK_TAI && !r.sameTimeNS(sc.Thread.Proc)) {
		return // the process's own clock, or offsets of another time namespace
	}
	var ts unix.Timespec
	if unix.ClockGettime(id, &ts) != nil {
		return
	}
	binary.LittleEndian.PutUint64(c.ts[:], uint64(ts.Sec))
	binary.LittleEndian.PutUint64(c.ts[8:], uint64(ts.Nsec))
	if sc.Mem().WriteAsKernel(c.ts[:], sc.Args[1]) != nil {
		return // not writable by the process: let the kernel say EFAULT
	}
	act.Skip, act.Value = true, 0
	c.clock = true
}

// sameTimeNS reports whether p is in hermes's time namespace, where the
// monotonic and boot clocks read as they do for hermes. Asked once per
// process.
func (r *Recorder) sameTimeNS(p *tracer.Process) bool {
	same, ok := r.timeNS[p]
	if !ok {
		if r.ownTimeNS == "" {
			r.ownTimeNS, _ = os.Readlink("/proc/self/ns/time")
		}
		ns, err := os.Readlink("/proc/" + strconv.Itoa(p.Pid) + "/ns/time")
		same = err == nil && ns == r.ownTimeNS
		r.timeNS[p] = same
	}
	return same
}

// writeLike reports whether a call's in-buffers are data it writes out
// (summarized with Options.Summarize), not arguments the kernel reads.
func writeLike(sc *tracer.Syscall) bool {
	if sc.Arch != abi.ArchX86_64 {
		return false
	}
	switch sc.Nr {
	case unix.SYS_WRITE, unix.SYS_PWRITE64, unix.SYS_WRITEV, unix.SYS_PWRITEV, unix.SYS_PWRITEV2,
		unix.SYS_SENDTO, unix.SYS_SENDMSG:
		return true
	}
	return false
}

// injected records what the handlers before us did to the call.
func (r *Recorder) injected(c *call, act *tracer.Action, atExit bool) {
	if !act.Injected() {
		return
	}
	inj := &c.inj
	if c.sc.Injected == nil {
		*inj = tracepb.Injected{Args: inj.Args[:0], Writes: inj.Writes[:0]}
		c.sc.Injected = inj
	}
	recorded.EncodeInjected(inj, act, atExit)
}

// Exit implements tracer.Handler: it captures the result and what the
// kernel wrote, and writes the event.
func (r *Recorder) Exit(sc *tracer.Syscall, act *tracer.Action) {
	hid := false
	if !sc.Skipped {
		if n, ok := r.hide.dirents(sc); ok {
			sc.Ret, hid = n, true
		}
	}
	c := r.pend[sc.Thread]
	if c == nil {
		if hid {
			act.Skip, act.Value = true, sc.Ret
		}
		return // attached in the middle of this call, or not recorded
	}
	s := &c.sc
	s.Ret, s.ExitNs = sc.Ret, exitTime(sc.Leave, r.opts.TimeResolution)
	if c.admit {
		r.admit(c)
	}
	s.ExitAfter = r.order
	if !sc.Skipped {
		c.cap.summarize = r.opts.Summarize && fileData(sc)
		c.cap.exit(sc)
	} else if c.clock {
		c.cap.addData(tracepb.MemKind_MEM_KIND_OUT, 1, sc.Args[1], c.ts[:])
	}
	if act.Skip {
		// A handler before us changes the result (the tracer applies it
		// after all exit handlers ran): record what the program gets.
		s.Ret = act.Value
	}
	r.injected(c, act, true)
	if sc.Arch == abi.ArchX86_64 && (sc.Nr == unix.SYS_EXECVE || sc.Nr == unix.SYS_EXECVEAT || sc.Nr == unix.SYS_RT_SIGRETURN) {
		// These replace the registers; the rest leave all but rax as they
		// were (rcx and r11 are already clobbered at entry).
		if regs, err := sc.Regs(); err == nil {
			s.ExitRegs = append(s.ExitRegs[:0], unsafe.Slice((*byte)(unsafe.Pointer(regs)), regsSize)...)
		}
	}
	if act.Hold {
		c.held = true // written when its thread goes on (Returned)
	} else {
		r.flush(sc.Thread, c)
	}
	if hid && !act.Skip {
		act.Skip, act.Value = true, sc.Ret
	}
}

// fileData reports whether what a call read came from a regular file or a
// directory: contents that can be read again, not a stream.
func fileData(sc *tracer.Syscall) bool {
	if sc.Arch != abi.ArchX86_64 {
		return false
	}
	switch sc.Nr {
	case unix.SYS_READ, unix.SYS_PREAD64, unix.SYS_READV, unix.SYS_PREADV, unix.SYS_PREADV2,
		unix.SYS_GETDENTS64, unix.SYS_GETDENTS:
	default:
		return false
	}
	return recorded.FileBacked(sc.Thread.Proc.FDPath(int(int32(sc.Args[0]))))
}

func (r *Recorder) flush(th *tracer.Thread, c *call) {
	if c.admit {
		r.admit(c) // never admitted (killed while held): numbered now
	}
	c.noReturn = false
	c.sc.Seq = r.nextSeq()
	c.sc.Mem = c.cap.list()
	c.sc.Preimages = c.sc.Preimages[:0]
	if r.pre != nil && len(r.pre.pending) > 0 {
		c.sc.Preimages = r.pre.next(c.sc.Preimages)
	}
	r.evs.Syscall = &c.sc
	r.ev.Kind = &r.evs
	r.append(&r.ev)
	c.sc.Injected = nil
	delete(r.pend, th)
	r.free = append(r.free, c)
}

// Returned implements tracer.Returner: a call whose thread was held at its
// exit returned now, after the calls entered so far.
func (r *Recorder) Returned(sc *tracer.Syscall) {
	if c := r.pend[sc.Thread]; c != nil && c.held {
		c.held = false
		c.sc.ExitAfter = r.order
		r.flush(sc.Thread, c)
	}
}

// Process implements tracer.ProcessHandler.
func (r *Recorder) Process(ev *tracer.ProcessEvent) {
	th := ev.Thread
	if r.opts.TrapTSC && ev.Kind == tracer.EventSignal {
		if rdtscp, ok := ev.TSCRead(); ok {
			tsc, aux := tracer.ReadTSC()
			if !rdtscp {
				aux = 0
			}
			if ev.CompleteTSC(rdtscp, tsc, aux) == nil {
				p := &r.pe
				*p = tracepb.Process{
					Kind: tracepb.ProcessKind_PROCESS_KIND_TSC, Seq: r.nextSeq(), Lineage: th.Lineage,
					Pid: int32(th.Proc.Pid), Tid: int32(th.Tid), TimeNs: r.round(ev.Time), Tsc: tsc, TscAux: aux, Tscp: rdtscp,
				}
				r.evp.Process = p
				r.ev.Kind = &r.evp
				r.append(&r.ev)
				return
			}
		}
	}
	if ev.Kind == tracer.EventExit {
		if th.Tid == th.Proc.Pid {
			delete(r.timeNS, th.Proc)
		}
		if c := r.pend[th]; c != nil && c.held {
			// Died while held at the exit of its call: it returned.
			c.held = false
			r.flush(th, c)
		} else if c != nil {
			// Died inside a syscall.
			c.sc.EntryOnly, c.sc.Exited = true, true
			r.flush(th, c)
		}
	}
	p := &r.pe
	*p = tracepb.Process{
		Seq: r.nextSeq(), Lineage: th.Lineage, Pid: int32(th.Proc.Pid), Tid: int32(th.Tid),
		Signal: int32(ev.Signal), TimeNs: r.round(ev.Time),
	}
	switch ev.Kind {
	case tracer.EventFork:
		p.Kind = tracepb.ProcessKind_PROCESS_KIND_FORK
	case tracer.EventThread:
		p.Kind = tracepb.ProcessKind_PROCESS_KIND_THREAD
	case tracer.EventExec:
		p.Kind = tracepb.ProcessKind_PROCESS_KIND_EXEC
		p.ExecPath, p.OldTid = th.Proc.Exe, int32(ev.OldTid)
		if ev.AtRandom != 0 {
			if n, _ := th.Mem().ReadAt(r.atRandom[:], ev.AtRandom); n == len(r.atRandom) {
				p.AtRandom = r.atRandom[:]
			}
		}
	case tracer.EventSignal:
		p.Kind = tracepb.ProcessKind_PROCESS_KIND_SIGNAL
		if ev.Siginfo != nil {
			p.Siginfo = ev.Siginfo[:]
		}
	case tracer.EventExit:
		p.Kind = tracepb.ProcessKind_PROCESS_KIND_EXIT
		p.ExitStatus, p.Core = int32(ev.Status), ev.Core
	case tracer.EventStop:
		p.Kind = tracepb.ProcessKind_PROCESS_KIND_STOP
	}
	if ev.Child != nil {
		p.ChildLineage, p.ChildPid = ev.Child.Lineage, int32(ev.Child.Tid)
	}
	if r.pre != nil && len(r.pre.pending) > 0 {
		p.Preimages = r.pre.next(nil)
	}
	r.evp.Process = p
	r.ev.Kind = &r.evp
	r.append(&r.ev)
}
