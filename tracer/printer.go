package tracer

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// Printer is the handler behind `hermes trace`: it prints every selected
// syscall, signal and exit as strace -f does. A call's line is printed when
// it returns, decoded from the tracee's memory at that point; execve and
// the calls that do not return are decoded at entry, while their arguments
// still exist.
//
// When another thread's line comes between a call's entry and its return,
// the call is shown as strace shows it: the part strace prints at entry
// with " <unfinished ...>" (decoded when the other line is printed, while
// the call is still in progress), and "<... read resumed>" with the rest
// when it returns.
type Printer struct {
	w        *bufio.Writer
	flush    bool
	selected []bool // x86_64 numbers to print; nil prints all
	opts     decode.Options
	call     decode.Call
	ucall    decode.Call // the call an unfinished line shows
	line     []byte
	threads  map[int]*pthread
	open     *pthread // the thread whose call is the last one entered, if no line came since
	barePids bool
	times    *decode.Timestamps

	status  ResultFilter
	paths   *pathSet
	stacks  bool
	stack   [maxStackFrames]uint64
	frames  []byte // -k lines of the call being printed
	summary *decode.Summary
	quiet   bool
	perFile func(tid int) (io.WriteCloser, error)
	notes   io.Writer
	namer   *fdNamer
	err     error // the first error opening or writing a -ff file
}

// pthread is what the Printer keeps of a thread.
type pthread struct {
	th         *Thread
	tid        int
	arch       abi.Arch // of the last call printed (personality changes)
	inCall     bool     // entered a printed call, not returned
	unfinished bool     // its entry half was printed
	skip       bool     // -P: this call is not one of the paths'
	enter      int64    // when the call in progress was made
	entry      []byte   // the entry half decoded at entry (execve)
	frames     []byte   // -k: the stack of an execve, taken at entry
	prev       string   // the previous syscall's name (restart_syscall)
	fds        []fdName // -y: the descriptors the call passes, named at entry
	injected   bool     // a handler injected into the call at its entry
	by         string   // who answered the call at its entry (Action.By)
	w          *bufio.Writer
	file       io.WriteCloser
}

// ResultFilter selects calls by outcome, as strace's -z and -Z.
type ResultFilter uint8

// Result filters.
const (
	AllResults     ResultFilter = iota
	SuccessfulOnly              // -z: calls that returned without an error
	FailedOnly                  // -Z: calls that returned an error
)

// maxStackFrames bounds a -k stack trace (strace's is 256 deep; a frame
// pointer walk rarely gets a tenth of that).
const maxStackFrames = 64

// PrinterOptions tune a Printer.
type PrinterOptions struct {
	// Selected lists the x86_64 syscall numbers to print; nil prints all.
	Selected []int
	// FlushLines writes each line as soon as it is complete (for a terminal
	// or a pipe someone reads live).
	FlushLines bool
	// ToFile prefixes every line with the thread id, as strace -f -o FILE
	// does; otherwise "[pid N] " appears while there are several threads,
	// as on strace's stderr.
	ToFile bool
	// Times prints strace's -t/-tt/-ttt, -r and -T timestamps; nil
	// prints none. Its Start must be Config.Epoch.
	Times *decode.Timestamps
	// Results prints only the calls that succeeded (-z) or failed (-Z).
	Results ResultFilter
	// Paths prints only the calls that name one of these paths, directly
	// or through a descriptor (strace's -P). The caller adds the paths'
	// canonical forms.
	Paths []string
	// FDNames names descriptors: 1 as -y (paths), 2 as -yy (also socket
	// endpoints and device numbers).
	FDNames int
	// Stacks prints the call stack after each call, as strace -k.
	Stacks bool
	// Summary counts the printed calls (strace -c and -C): selected, and
	// of Paths when given, whatever Results says.
	Summary *decode.Summary
	// Quiet prints no lines (strace -c): only Summary is kept.
	Quiet bool
	// PerThread gives every thread a file of its own (strace -ff -o F);
	// the lines then have no thread id. The Printer closes the files.
	PerThread func(tid int) (io.WriteCloser, error)
	// Notes, if set, gets strace's "Process N attached" and "detached"
	// lines (for Tracer.Attach).
	Notes io.Writer
}

// NewPrinter returns a Printer writing to w.
func NewPrinter(w io.Writer, opts decode.Options, po PrinterOptions) *Printer {
	selected := po.Selected
	p := &Printer{
		w:        bufio.NewWriterSize(w, 64<<10),
		flush:    po.FlushLines,
		barePids: po.ToFile,
		times:    po.Times,
		opts:     opts,
		line:     make([]byte, 0, 4096),
		threads:  make(map[int]*pthread),
		status:   po.Results,
		stacks:   po.Stacks,
		summary:  po.Summary,
		quiet:    po.Quiet,
		perFile:  po.PerThread,
		notes:    po.Notes,
	}
	if len(po.Paths) > 0 {
		p.paths = newPathSet(po.Paths)
	}
	if po.FDNames > 0 {
		p.namer = &fdNamer{yy: po.FDNames > 1}
		if p.namer.yy {
			p.namer.socks = &sockNames{}
		}
		p.opts.FDs = p.namer
	}
	if selected != nil {
		p.selected = make([]bool, maxNr)
		for _, nr := range selected {
			if nr >= 0 && nr < maxNr {
				p.selected[nr] = true
			}
		}
	}
	return p
}

// Flush writes out buffered lines.
func (p *Printer) Flush() error {
	err := p.w.Flush()
	for _, pt := range p.threads {
		if pt.w != nil {
			if e := pt.w.Flush(); e != nil && p.err == nil {
				p.err = e
			}
		}
	}
	if p.err != nil {
		return p.err
	}
	return err
}

// Close flushes and closes the per-thread files (PerThread).
func (p *Printer) Close() error {
	err := p.Flush()
	for _, pt := range p.threads {
		p.closeFile(pt)
	}
	if err == nil {
		err = p.err
	}
	return err
}

func (p *Printer) wants(sc *Syscall) bool {
	if sc.Arch != abi.ArchX86_64 || p.selected == nil {
		return true
	}
	return sc.Nr >= 0 && sc.Nr < len(p.selected) && p.selected[sc.Nr]
}

// interleaves reports whether lines of different threads share an output
// and calls are printed as they come, so that a call another line
// interrupts is shown unfinished and resumed. -z and -Z print a call only
// once its outcome is known, whole, as strace does.
func (p *Printer) interleaves() bool {
	return p.perFile == nil && p.status == AllResults && !p.quiet
}

// thread returns the Printer's state of th.
func (p *Printer) thread(th *Thread) *pthread {
	pt := p.threads[th.Tid]
	if pt == nil {
		pt = &pthread{tid: th.Tid, arch: abi.ArchX86_64}
		p.threads[th.Tid] = pt
	}
	pt.th = th
	return pt
}

// drop forgets a thread that is gone.
func (p *Printer) drop(pt *pthread) {
	if p.open == pt {
		p.open = nil
	}
	p.closeFile(pt)
	delete(p.threads, pt.tid)
}

// decodesAtEntry reports calls whose arguments are gone at exit (execve
// replaces the memory image) or that never exit.
func decodesAtEntry(sc *Syscall) bool {
	if sc.Info == nil {
		return false
	}
	if sc.Info.Ret == abi.RetNone {
		return true
	}
	return sc.Arch == abi.ArchX86_64 && (sc.Nr == unix.SYS_EXECVE || sc.Nr == unix.SYS_EXECVEAT)
}

// restarts reports restart_syscall, which strace shows with the call it
// resumes.
func restarts(c *decode.Call) bool {
	return c.Arch == abi.ArchX86_64 && c.Nr == unix.SYS_RESTART_SYSCALL
}

func setCall(c *decode.Call, sc *Syscall) {
	*c = decode.Call{Arch: sc.Arch, Nr: sc.Nr, Info: sc.Info, Args: sc.Args, Ret: sc.Ret, Exited: sc.Exited}
}

// options returns the decoding options for a call of pt, with -y's names
// of its descriptors.
func (p *Printer) options(pt *pthread) *decode.Options {
	if p.namer != nil {
		p.namer.pid = pt.th.Proc.Pid
		p.namer.names = pt.fds
	}
	return &p.opts
}

// appendHalf appends the entry or exit half of c (or both).
func (p *Printer) appendHalf(dst []byte, pt *pthread, c *decode.Call, mem decode.Memory, entry, exit bool) []byte {
	if restarts(c) {
		if entry {
			dst = append(dst, "restart_syscall(<... resuming interrupted "...)
			if pt.prev != "" {
				dst = append(dst, pt.prev...)
			} else {
				dst = append(dst, "system call"...)
			}
			dst = append(dst, " ...>"...)
		}
		if exit {
			dst = append(dst, ')')
		}
		return dst
	}
	o := p.options(pt)
	switch {
	case entry && exit:
		return decode.AppendCall(dst, c, mem, o)
	case entry:
		return decode.AppendCallEntry(dst, c, mem, o)
	}
	return decode.AppendCallExit(dst, c, mem, o)
}

// Enter implements Handler.
func (p *Printer) Enter(sc *Syscall, act *Action) {
	if !p.wants(sc) {
		return
	}
	pt := p.thread(sc.Thread)
	pt.enter = sc.Enter
	if sc.Arch != abi.ArchX86_64 || sc.Nr != unix.SYS_RESTART_SYSCALL {
		pt.prev = sc.Name()
	}
	if p.paths != nil && !p.paths.matches(sc) {
		pt.skip = true
		return
	}
	pt.skip = false
	act.WantExit = true
	pt.injected, pt.by = act.Injected(), act.By
	if p.namer != nil {
		setCall(&p.call, sc)
		pt.fds = p.namer.snapshot(sc.Pid(), &p.call, pt.fds)
	}
	if p.quiet {
		return
	}
	if !decodesAtEntry(sc) {
		pt.inCall = true
		if p.interleaves() {
			if p.open != nil && p.open != pt {
				p.unfinish(p.open)
			}
			p.open = pt
		}
		return
	}
	setCall(&p.call, sc)
	pt.entry = p.appendHalf(pt.entry[:0], pt, &p.call, sc.Mem(), true, false)
	pt.frames = p.appendStack(pt.frames[:0], sc)
	if sc.Info.Ret != abi.RetNone {
		pt.inCall = true
		if p.interleaves() {
			if p.open != nil && p.open != pt {
				p.unfinish(p.open)
			}
			p.open = pt
		}
		return
	}
	// exit, exit_group: printed now, whole.
	if p.status != AllResults {
		return // "= ?" is neither a success nor a failure
	}
	p.start(pt, sc.Enter)
	p.line = append(p.line, pt.entry...)
	p.line = append(p.line, ") = ?"...)
	p.end(pt)
	p.writeRaw(pt, pt.frames)
}

// Exit implements Handler.
func (p *Printer) Exit(sc *Syscall, act *Action) {
	if !p.wants(sc) || (sc.Info != nil && sc.Info.Ret == abi.RetNone) {
		return
	}
	pt := p.thread(sc.Thread)
	inCall, unfinished := pt.inCall, pt.unfinished
	pt.inCall, pt.unfinished = false, false
	if pt.skip {
		pt.skip = false
		return
	}
	if p.summary != nil {
		p.summary.Add(sc.Arch, sc.Nr, sc.Leave-sc.Enter, sc.Errno() != 0)
	}
	if p.quiet {
		return
	}
	if p.open == pt {
		p.open = nil
	}
	setCall(&p.call, sc)
	if act.Skip {
		p.call.Ret = act.Value // an exit handler replaced the result: print what the program gets
	}
	if p.status != AllResults {
		failed := p.call.Ret < 0 && p.call.Ret >= -4095
		if failed != (p.status == FailedOnly) {
			return
		}
	}
	by, injected := pt.by, pt.injected
	pt.by, pt.injected = "", false
	if act.Injected() {
		by, injected = act.By, true
	}
	if sc.Arch != pt.arch {
		p.personality(pt, sc.Arch, sc.Enter)
	}
	atEntry := decodesAtEntry(sc) && inCall
	if unfinished {
		p.start(pt, sc.Leave)
		p.line = append(p.line, "<... "...)
		p.line = append(p.line, sc.Name()...)
		p.line = append(p.line, " resumed>"...)
		if atEntry {
			p.line = append(p.line, ')')
		} else {
			p.line = p.appendHalf(p.line, pt, &p.call, sc.Mem(), false, true)
		}
	} else {
		p.start(pt, sc.Enter)
		if atEntry {
			p.line = append(p.line, pt.entry...)
			p.line = append(p.line, ')')
		} else {
			p.line = p.appendHalf(p.line, pt, &p.call, sc.Mem(), true, true)
		}
	}
	p.line = decode.AppendResult(p.line, &p.call, &p.opts)
	if injected || (sc.Skipped && by != ByHermes) {
		// hermes's own answers (its guard's) are what the kernel would say
		// without hermes, not faults: printed plain, as dump shows them.
		p.line = decode.AppendInjected(p.line, by)
	}
	p.line = p.times.AppendDuration(p.line, sc.Leave-sc.Enter)
	p.end(pt)
	if p.stacks {
		if atEntry {
			p.writeRaw(pt, pt.frames)
		} else {
			p.frames = p.appendStack(p.frames[:0], sc)
			p.writeRaw(pt, p.frames)
		}
	}
}

// appendStack appends the -k lines of the call sc: the syscall's own
// instruction, then the return addresses a frame pointer walk finds.
func (p *Printer) appendStack(dst []byte, sc *Syscall) []byte {
	if !p.stacks || sc.Arch == abi.ArchI386 {
		return dst
	}
	f := sc.Describe(sc.IP, true)
	dst = f.AppendStrace(dst, sc.IP)
	for _, a := range sc.Stack(p.stack[:]) {
		f := sc.Describe(a, false)
		dst = f.AppendStrace(dst, a)
	}
	return dst
}

// unfinish prints the entry half of pt's call in progress, ended with
// " <unfinished ...>", because another line comes before its return.
func (p *Printer) unfinish(pt *pthread) {
	pt.unfinished = true
	p.startLine(pt, pt.enter)
	p.appendEntryHalf(pt)
	p.line = append(p.line, " <unfinished ...>"...)
	p.end(pt)
}

// appendEntryHalf appends the entry half of pt's call in progress.
func (p *Printer) appendEntryHalf(pt *pthread) {
	sc := &pt.th.sc
	if decodesAtEntry(sc) {
		p.line = append(p.line, pt.entry...)
		return
	}
	setCall(&p.ucall, sc)
	p.ucall.Exited = false
	p.line = p.appendHalf(p.line, pt, &p.ucall, sc.Mem(), true, false)
}

func (p *Printer) personality(pt *pthread, a abi.Arch, t int64) {
	pt.arch = a
	p.start(pt, t)
	p.line = append(p.line, "[ Process PID="...)
	p.line = strconv.AppendInt(p.line, int64(pt.th.Proc.Pid), 10)
	switch a {
	case abi.ArchI386:
		p.line = append(p.line, " runs in 32 bit mode. ]"...)
	case abi.ArchX32:
		p.line = append(p.line, " runs in x32 mode. ]"...)
	default:
		p.line = append(p.line, " runs in 64 bit mode. ]"...)
	}
	p.end(pt)
}

// Process implements ProcessHandler.
func (p *Printer) Process(ev *ProcessEvent) {
	switch ev.Kind {
	case EventFork, EventThread:
		p.thread(ev.Thread)
		if ev.Child != nil {
			p.thread(ev.Child)
			if p.notes != nil {
				p.note("Process " + strconv.Itoa(ev.Child.Tid) + " attached")
			}
		}
	case EventSignal:
		if p.quiet {
			return
		}
		pt := p.thread(ev.Thread)
		p.start(pt, ev.Time)
		p.line = append(p.line, "--- "...)
		p.line = append(p.line, abi.SignalName(ev.Signal)...)
		p.line = append(p.line, ' ')
		p.line = decode.AppendSiginfoBytes(p.line, ev.Siginfo[:])
		p.line = append(p.line, " ---"...)
		p.end(pt)
	case EventStop:
		if p.quiet {
			return
		}
		pt := p.thread(ev.Thread)
		p.start(pt, ev.Time)
		p.line = append(p.line, "--- stopped by "...)
		p.line = append(p.line, abi.SignalName(ev.Signal)...)
		p.line = append(p.line, " ---"...)
		p.end(pt)
	case EventExec:
		if ev.OldTid != 0 {
			// The exec'ing thread took the leader's tid: its state (and
			// -ff file) goes with it; the old leader is gone.
			if leader := p.threads[ev.Thread.Tid]; leader != nil {
				p.drop(leader)
			}
			if pt := p.threads[ev.OldTid]; pt != nil {
				delete(p.threads, ev.OldTid)
				pt.tid = ev.Thread.Tid
				p.threads[pt.tid] = pt
			}
		}
		// Every other thread of the process is gone, without an exit.
		for _, o := range p.threads {
			if o.th != nil && o.th.Proc == ev.Thread.Proc && o.tid != ev.Thread.Tid {
				p.drop(o)
			}
		}
		p.thread(ev.Thread)
	case EventExit:
		pt := p.thread(ev.Thread)
		if p.quiet {
			p.drop(pt)
			return
		}
		if pt.inCall && !pt.skip && p.status == AllResults {
			// Died inside a call: strace's "<unfinished ...>) = ?".
			if pt.unfinished {
				p.start(pt, ev.Time)
				p.line = append(p.line, "<... "...)
				p.line = append(p.line, pt.th.sc.Name()...)
				p.line = append(p.line, " resumed>"...)
			} else {
				p.open = nil
				p.start(pt, pt.enter)
				p.appendEntryHalf(pt)
			}
			p.line = append(p.line, " <unfinished ...>) = ?"...)
			p.end(pt)
		}
		pt.inCall = false
		p.start(pt, ev.Time)
		if ev.Signal != 0 {
			p.line = append(p.line, "+++ killed by "...)
			p.line = append(p.line, abi.SignalName(ev.Signal)...)
			if ev.Core {
				p.line = append(p.line, " (core dumped)"...)
			}
			p.line = append(p.line, " +++"...)
		} else {
			p.line = append(p.line, "+++ exited with "...)
			p.line = strconv.AppendInt(p.line, int64(ev.Status), 10)
			p.line = append(p.line, " +++"...)
		}
		p.end(pt)
		p.drop(pt)
	}
}

// Attached implements AttachHandler: strace's "Process N attached" (with
// the number of threads of a threaded process), and the name of the call
// each thread is in, which a restart_syscall will resume.
func (p *Printer) Attached(th *Thread) {
	pt := p.thread(th)
	if nr, ok := blockedIn(th.Tid); ok {
		pt.prev = abi.Name(abi.ArchX86_64, nr)
	}
	if p.notes == nil || th.Tid != th.Proc.Pid {
		return
	}
	msg := "Process " + strconv.Itoa(th.Tid) + " attached"
	if n := th.Proc.Threads(); n > 1 {
		msg += " with " + strconv.Itoa(n) + " threads"
	}
	p.note(msg)
}

// Detached implements AttachHandler: a call in progress whose line was
// not printed yet is shown "<detached ...>", then "Process N detached".
func (p *Printer) Detached(th *Thread) {
	pt := p.thread(th)
	if pt.inCall && !pt.unfinished && !pt.skip && !p.quiet && p.status == AllResults {
		p.open = nil
		p.startLine(pt, pt.enter)
		p.appendEntryHalf(pt)
		p.line = append(p.line, " <detached ...>"...)
		p.end(pt)
	}
	if p.notes != nil {
		p.note("Process " + strconv.Itoa(th.Tid) + " detached")
	}
	// Kept, so that the lines of the threads detached after it still
	// count it, as strace's do: the run ends with the detach.
	p.closeFile(pt)
	pt.inCall = false
}

// blockedIn reads which x86_64 syscall a thread was in when it was
// seized: the interrupt Attach sent it stops it within microseconds, and
// until then the kernel says "running".
func blockedIn(tid int) (int, bool) {
	for try := 0; try < 100; try++ {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/syscall")
		if err != nil {
			return 0, false
		}
		f, _, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
		if f != "running" {
			nr, err := strconv.Atoi(f)
			return nr, err == nil && nr >= 0
		}
		time.Sleep(100 * time.Microsecond)
	}
	return 0, false
}

// note writes an attach or detach line after the lines before it.
func (p *Printer) note(msg string) {
	_ = p.Flush()
	_, _ = io.WriteString(p.notes, "hermes: "+msg+"\n")
}

// start begins the line of an event of pt at time t, after ending a call
// of another thread left open with " <unfinished ...>".
func (p *Printer) start(pt *pthread, t int64) {
	if o := p.open; o != nil && o != pt {
		p.open = nil
		p.unfinish(o)
	}
	p.startLine(pt, t)
}

// startLine begins a line: the thread id as strace puts it, and the time.
func (p *Printer) startLine(pt *pthread, t int64) {
	p.line = p.line[:0]
	switch {
	case p.perFile != nil:
	case p.barePids:
		p.line = appendPadded(p.line, pt.tid)
		p.line = append(p.line, ' ')
	case len(p.threads) > 1:
		p.line = append(p.line, "[pid "...)
		p.line = appendRight(p.line, pt.tid, 5)
		p.line = append(p.line, "] "...)
	}
	p.line = p.times.AppendPrefix(p.line, t)
}

// appendPadded appends n left-aligned in 5 columns (strace's "%-5d").
func appendPadded(dst []byte, n int) []byte {
	start := len(dst)
	dst = strconv.AppendInt(dst, int64(n), 10)
	for len(dst)-start < 5 {
		dst = append(dst, ' ')
	}
	return dst
}

// appendRight appends n right-aligned in w columns ("%5u").
func appendRight(dst []byte, n, w int) []byte {
	var b [20]byte
	s := strconv.AppendInt(b[:0], int64(n), 10)
	for i := len(s); i < w; i++ {
		dst = append(dst, ' ')
	}
	return append(dst, s...)
}

func (p *Printer) end(pt *pthread) {
	p.line = append(p.line, '\n')
	p.writeRaw(pt, p.line)
}

// writeRaw writes finished lines of pt to its output.
func (p *Printer) writeRaw(pt *pthread, b []byte) {
	if len(b) == 0 {
		return
	}
	w := p.w
	if p.perFile != nil {
		if w = p.fileOf(pt); w == nil {
			return
		}
	}
	_, _ = w.Write(b)
	if p.flush {
		if err := w.Flush(); err != nil && p.err == nil && w != p.w {
			p.err = err
		}
	}
}

// fileOf returns pt's -ff output, opening it on first use.
func (p *Printer) fileOf(pt *pthread) *bufio.Writer {
	if pt.w != nil {
		return pt.w
	}
	f, err := p.perFile(pt.tid)
	if err != nil {
		if p.err == nil {
			p.err = err
		}
		return nil
	}
	pt.file, pt.w = f, bufio.NewWriterSize(f, 4096)
	return pt.w
}

func (p *Printer) closeFile(pt *pthread) {
	if pt.file == nil {
		return
	}
	if err := pt.w.Flush(); err != nil && p.err == nil {
		p.err = err
	}
	if err := pt.file.Close(); err != nil && p.err == nil {
		p.err = err
	}
	pt.file, pt.w = nil, nil
}
