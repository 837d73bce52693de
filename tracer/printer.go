package tracer

import (
	"bufio"
	"io"
	"strconv"

	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// Printer is the handler behind `hermes trace`: it prints every selected
// syscall, signal and exit as strace -f does. A line is printed when the
// call returns, decoded from the tracee's memory at that point; execve and
// the calls that do not return are decoded at entry, while their arguments
// still exist.
type Printer struct {
	w        *bufio.Writer
	flush    bool
	selected []bool // x86_64 numbers to print; nil prints all
	opts     decode.Options
	call     decode.Call
	line     []byte
	atEntry  map[int][]byte // tid -> call text decoded at entry (execve)
	lastArch map[int]abi.Arch
	multi    bool
	firstTid int
	inCall   map[int]bool   // tid -> inside a printed call
	injBy    map[int]string // tid -> who injected into the call at its entry
	barePids bool
	times    *decode.Timestamps
}

// PrinterOptions tune a Printer.
type PrinterOptions struct {
	// Selected lists the x86_64 syscall numbers to print; nil prints all.
	Selected []int
	// FlushLines writes each line as soon as it is complete (for a terminal
	// or a pipe someone reads live).
	FlushLines bool
	// ToFile prefixes every line with the bare thread id, as strace -f -o
	// FILE does; otherwise "[pid N] " appears once there are several
	// threads, as on strace's stderr.
	ToFile bool
	// Times prints strace's -t/-tt/-ttt, -r and -T timestamps; nil
	// prints none. Its Start must be Config.Epoch.
	Times *decode.Timestamps
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
		atEntry:  make(map[int][]byte),
		lastArch: make(map[int]abi.Arch),
		inCall:   make(map[int]bool),
		injBy:    make(map[int]string),
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
func (p *Printer) Flush() error { return p.w.Flush() }

func (p *Printer) wants(sc *Syscall) bool {
	if sc.Arch != abi.ArchX86_64 || p.selected == nil {
		return true
	}
	return sc.Nr >= 0 && sc.Nr < len(p.selected) && p.selected[sc.Nr]
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

func (p *Printer) setCall(sc *Syscall) {
	p.call = decode.Call{Arch: sc.Arch, Nr: sc.Nr, Info: sc.Info, Args: sc.Args, Ret: sc.Ret, Exited: sc.Exited}
}

// Enter implements Handler.
func (p *Printer) Enter(sc *Syscall, act *Action) {
	if !p.wants(sc) {
		return
	}
	if p.firstTid == 0 {
		p.firstTid = sc.Tid()
	} else if sc.Tid() != p.firstTid {
		p.multi = true // several threads, also those found by -p
	}
	act.WantExit = true
	if act.Injected() {
		p.injBy[sc.Tid()] = act.By
	} else if len(p.injBy) > 0 {
		delete(p.injBy, sc.Tid())
	}
	if !decodesAtEntry(sc) {
		p.inCall[sc.Tid()] = true
		return
	}
	p.setCall(sc)
	buf := decode.AppendCall(p.atEntry[sc.Tid()][:0], &p.call, sc.Mem(), &p.opts)
	p.atEntry[sc.Tid()] = buf
	if sc.Info.Ret == abi.RetNone {
		p.start(sc.Thread, sc.Enter)
		p.line = append(p.line, buf...)
		p.line = append(p.line, " = ?"...)
		p.end()
	}
}

// Exit implements Handler.
func (p *Printer) Exit(sc *Syscall, act *Action) {
	if !p.wants(sc) || (sc.Info != nil && sc.Info.Ret == abi.RetNone) {
		return
	}
	p.setCall(sc)
	if act.Skip {
		p.call.Ret = act.Value // an exit handler replaced the result: print what the program gets
	}
	th := sc.Thread
	delete(p.inCall, th.Tid)
	by, injected := p.injBy[th.Tid]
	delete(p.injBy, th.Tid)
	if act.Injected() {
		by, injected = act.By, true
	}
	if sc.Arch != p.lastArch[th.Tid] {
		p.personality(th, sc.Arch, sc.Enter)
	}
	p.start(th, sc.Enter)
	if decodesAtEntry(sc) {
		p.line = append(p.line, p.atEntry[th.Tid]...)
	} else {
		p.line = decode.AppendCall(p.line, &p.call, sc.Mem(), &p.opts)
	}
	p.line = decode.AppendRet(p.line, &p.call)
	if injected || sc.Skipped {
		p.line = decode.AppendInjected(p.line, by)
	}
	p.line = p.times.AppendDuration(p.line, sc.Leave-sc.Enter)
	p.end()
}

func (p *Printer) personality(th *Thread, a abi.Arch, t int64) {
	p.lastArch[th.Tid] = a
	p.start(th, t)
	p.line = append(p.line, "[ Process PID="...)
	p.line = strconv.AppendInt(p.line, int64(th.Proc.Pid), 10)
	switch a {
	case abi.ArchI386:
		p.line = append(p.line, " runs in 32 bit mode. ]"...)
	case abi.ArchX32:
		p.line = append(p.line, " runs in x32 mode. ]"...)
	default:
		p.line = append(p.line, " runs in 64 bit mode. ]"...)
	}
	p.end()
}

// Process implements ProcessHandler.
func (p *Printer) Process(ev *ProcessEvent) {
	switch ev.Kind {
	case EventFork, EventThread:
		p.multi = true
	case EventSignal:
		p.start(ev.Thread, ev.Time)
		p.line = append(p.line, "--- "...)
		p.line = append(p.line, abi.SignalName(ev.Signal)...)
		p.line = append(p.line, ' ')
		p.line = decode.AppendSiginfoBytes(p.line, ev.Siginfo[:])
		p.line = append(p.line, " ---"...)
		p.end()
	case EventStop:
		p.start(ev.Thread, ev.Time)
		p.line = append(p.line, "--- stopped by "...)
		p.line = append(p.line, abi.SignalName(ev.Signal)...)
		p.line = append(p.line, " ---"...)
		p.end()
	case EventExec:
		if ev.OldTid != 0 {
			// The exec'ing thread took the leader's tid.
			tid := ev.Thread.Tid
			p.atEntry[tid], p.lastArch[tid] = p.atEntry[ev.OldTid], p.lastArch[ev.OldTid]
			delete(p.atEntry, ev.OldTid)
			delete(p.lastArch, ev.OldTid)
		}
	case EventExit:
		if p.inCall[ev.Thread.Tid] {
			// Died inside a call: show it unfinished, as strace does. Its
			// memory is gone, so pointers print as addresses.
			sc := &ev.Thread.sc
			p.setCall(sc)
			p.call.Exited = false
			p.start(ev.Thread, sc.Enter)
			p.line = decode.AppendCall(p.line, &p.call, nil, &p.opts)
			p.line = append(p.line, " = ?"...)
			p.end()
			delete(p.inCall, ev.Thread.Tid)
		}
		p.start(ev.Thread, ev.Time)
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
		p.end()
		delete(p.atEntry, ev.Thread.Tid)
		delete(p.lastArch, ev.Thread.Tid)
	}
}

// start begins the line of an event of th at time t.
func (p *Printer) start(th *Thread, t int64) {
	p.line = p.line[:0]
	if p.barePids {
		p.line = strconv.AppendInt(p.line, int64(th.Tid), 10)
		p.line = append(p.line, ' ')
	} else if p.multi {
		p.line = append(p.line, "[pid "...)
		p.line = strconv.AppendInt(p.line, int64(th.Tid), 10)
		p.line = append(p.line, "] "...)
	}
	p.line = p.times.AppendPrefix(p.line, t)
}

func (p *Printer) end() {
	p.line = append(p.line, '\n')
	_, _ = p.w.Write(p.line)
	if p.flush {
		_ = p.w.Flush()
	}
}
