package tracer

import (
	"time"

	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// Handler sees trapped syscalls. The tracer calls Enter for every syscall
// the seccomp filter trapped, in handler order, each seeing the action the
// handlers before it chose; Exit runs only for calls where some handler
// asked for the result (Action.WantExit), or where the call was skipped
// (then without a second ptrace stop). Both run on the tracer's locked
// thread: they must not block, and should not allocate.
type Handler interface {
	Enter(sc *Syscall, act *Action)
	Exit(sc *Syscall, act *Action)
}

// ProcessHandler is implemented by handlers that want process events:
// fork/clone, exec, signals, exits.
type ProcessHandler interface {
	Process(ev *ProcessEvent)
}

// AttachHandler is implemented by handlers that want to know which
// threads of a running process Tracer.Attach seized, and which threads
// Stop lets go alive (attach mode). Threads found later are announced by
// ProcessEvents as in a launched run.
type AttachHandler interface {
	// Attached is called once per thread found at attach, the leader
	// first, after all of them are seized.
	Attached(th *Thread)
	// Detached is called just before th is detached.
	Detached(th *Thread)
}

// MemWrite is one write into tracee memory.
type MemWrite struct {
	Addr uint64
	Data []byte
}

// StringArg replaces argument Index by a pointer to a copy of Data (plus a
// NUL) written into the tracee.
type StringArg struct {
	Index int
	Data  []byte
}

// Action is what the handlers decided for one syscall stop. The zero value
// continues the call unchanged. Fields compose: a call can be modified and
// delayed, skipped and given a signal.
type Action struct {
	// Skip skips the syscall and makes it return Value (a negative errno
	// for failures). At the exit stop, Skip replaces the return value.
	Skip  bool
	Value int64
	// Writes are done in tracee memory before the call returns (emulation
	// of out-parameters); only with Skip. They are made as the kernel
	// would make them: never into memory the process cannot write.
	Writes []MemWrite
	// SetArgs is a bitmask of Args to replace (bit i = argument i, 0-based).
	SetArgs uint8
	Args    [6]uint64
	// Strings replace arguments by pointers to new strings.
	Strings []StringArg
	// SetNr makes the thread run syscall Nr (x86_64) instead of the one it
	// made, with the (possibly replaced) arguments; only at entry, and not
	// with Skip. Handlers still see the call under its original number.
	SetNr bool
	Nr    int
	// Delay holds the calling thread this long before the call runs (at
	// entry) or before it returns (at exit). Other threads keep running.
	Delay time.Duration
	// Hold keeps the calling thread in its stop until the Scheduler among
	// the handlers releases it: at entry before the action is applied, at
	// exit before the thread returns. Without a Scheduler it is ignored.
	Hold bool
	// Signal, if non-zero, is sent to the calling thread.
	Signal int
	// Kill kills the whole process with SIGKILL.
	Kill bool
	// WantExit asks for the exit stop, to see the result.
	WantExit bool
	// Redo, at the exit of a call that ran (launched tracees, x86_64), has
	// the thread make the call again instead of returning, with SetArgs
	// and Args applied: the handlers see a new entry. Replay uses it to
	// complete a read that got less than when recorded.
	Redo bool
	// By names the handler that injected the action, for the record.
	By string
}

// A Scheduler is a handler that holds threads in their stops (Action.Hold)
// and says when they go on. Release is asked on the tracer loop after every
// stop the loop handles and every HoldPoll while a thread is held; it
// reports whether th may go on now. Threads are released when the run
// stops, whatever Release says.
type Scheduler interface {
	Release(th *Thread) bool
}

// An Admitter is a handler told when a call that runs is let into the
// kernel: after the Delay or Hold its entry got, if any (Enter saw it
// before them). A recorder numbers calls in the order they ran with it.
type Admitter interface {
	Admitted(sc *Syscall)
}

// A Returner is a handler told when a thread held at the exit of its call
// (a Hold in the exit's Action) goes back to its program: a recorder
// writes such a call then, so that the trace has calls in the order their
// threads went on after them, which is what a replay of a schedule needs.
type Returner interface {
	Returned(sc *Syscall)
}

// HoldPoll is how often a Scheduler is asked about held threads when
// nothing else happens.
const HoldPoll = 500 * time.Microsecond

// Deny returns an action that skips the call and fails it with errno.
func Deny(errno unix.Errno) Action { return Action{Skip: true, Value: -int64(errno)} }

// Return returns an action that skips the call and returns v.
func Return(v int64) Action { return Action{Skip: true, Value: v} }

// Emulate returns an action that skips the call, writes the given memory
// and returns v.
func Emulate(v int64, writes ...MemWrite) Action {
	return Action{Skip: true, Value: v, Writes: writes}
}

// ByHermes is Action.By for hermes's own answers (the tracer's guard:
// clone3 refused, a filter hidden): they are not faults injected by
// anyone, and are recorded as the call's plain result.
const ByHermes = "hermes"

// Injected reports whether a handler's action changes what the tracee
// sees (hermes's own answers, By ByHermes, do not count).
func (a *Action) Injected() bool {
	if a.By == ByHermes {
		return false
	}
	return a.Skip || a.SetArgs != 0 || len(a.Strings) > 0 || a.SetNr || a.Delay > 0 || a.Signal != 0 || a.Kill
}

// reset clears the action, keeping the capacity of its slices.
func (a *Action) reset() {
	w, s := a.Writes[:0], a.Strings[:0]
	*a = Action{Writes: w, Strings: s}
}

// Syscall is one trapped system call, reused for every call of a thread.
// Handlers must not keep it past their callback.
type Syscall struct {
	Seq     uint64 // global sequence number of this stop, from 1
	Thread  *Thread
	Arch    abi.Arch
	Nr      int          // number in its arch's table (x32: with the x32 bit)
	Info    *abi.Syscall // x86_64 model, nil for unknown and foreign calls
	Args    [6]uint64
	IP, SP  uint64
	Ret     int64 // the result, valid when Exited
	Exited  bool
	Skipped bool   // the call did not run: a handler skipped it
	Enter   int64  // monotonic nanoseconds at the entry stop
	Leave   int64  // at the exit stop
	Nth     uint64 // how many times this process has made this syscall, from 1

	regs      unix.PtraceRegs
	regsValid bool
	regsDirty bool
	mem       *Memory
	stackBuf  [16]byte // Stack's reads
}

// Name returns the syscall's name in its arch's table.
func (sc *Syscall) Name() string {
	if sc.Info != nil {
		return sc.Info.Name
	}
	return abi.Name(sc.Arch, sc.Nr)
}

// Pid returns the process id (tgid) of the caller.
func (sc *Syscall) Pid() int { return sc.Thread.Proc.Pid }

// Tid returns the thread id of the caller.
func (sc *Syscall) Tid() int { return sc.Thread.Tid }

// Mem returns the thread's memory.
func (th *Thread) Mem() *Memory { return th.sc.mem }

// Mem returns the caller's memory.
func (sc *Syscall) Mem() *Memory { return sc.mem }

// Regs returns the caller's registers, fetched on first use at this stop.
func (sc *Syscall) Regs() (*unix.PtraceRegs, error) {
	if !sc.regsValid {
		if err := ptraceGetRegs(sc.Thread.Tid, &sc.regs); err != nil {
			return nil, err
		}
		sc.regsValid = true
	}
	return &sc.regs, nil
}

// Errno returns the error number of a failed call, or 0.
func (sc *Syscall) Errno() unix.Errno {
	if sc.Exited && sc.Ret < 0 && sc.Ret >= -4095 {
		return unix.Errno(-sc.Ret)
	}
	return 0
}

// ProcessEventKind says what happened to a process or thread.
type ProcessEventKind uint8

// Process events.
const (
	EventFork   ProcessEventKind = iota // a new process (fork, vfork, clone without CLONE_THREAD)
	EventThread                         // a new thread
	EventExec                           // successful execve
	EventSignal                         // a signal is about to be delivered
	EventExit                           // a thread exited or was killed
	EventStop                           // a group-stop (job control)
)

// ProcessEvent describes a process event.
type ProcessEvent struct {
	Kind    ProcessEventKind
	Thread  *Thread // the thread it happened to (the parent for fork/thread)
	Child   *Thread // for fork and thread: the new one
	Signal  int     // EventSignal, EventStop: the signal; EventExit: the killing signal or 0
	Status  int     // EventExit: exit status when Signal is 0
	Core    bool    // EventExit: core dumped
	Siginfo *Siginfo
	OldTid  int // EventExec: the tid that called execve, when it was not the leader
	// EventSignal: a handler sets Suppress to discard the signal (the
	// thread goes on without it; a syscall it interrupted restarts), or
	// changes *Siginfo and sets SetSiginfo to deliver that instead.
	Suppress   bool
	SetSiginfo bool
	// EventExec with Config.Deterministic: address of the 16 AT_RANDOM
	// bytes the kernel put on the new image's stack (libc's stack canary,
	// Go's first random seed), or 0 if it was not found.
	AtRandom uint64
	Time     int64 // monotonic nanoseconds since the run started, as Syscall.Enter
}

// Chain runs handlers in order as one Handler (and ProcessHandler): each
// sees the action the ones before it chose.
type Chain []Handler

// Enter implements Handler.
func (c Chain) Enter(sc *Syscall, act *Action) {
	for _, h := range c {
		h.Enter(sc, act)
	}
}

// Exit implements Handler.
func (c Chain) Exit(sc *Syscall, act *Action) {
	for _, h := range c {
		h.Exit(sc, act)
	}
}

// Process implements ProcessHandler for the handlers that want events.
func (c Chain) Process(ev *ProcessEvent) {
	for _, h := range c {
		if ph, ok := h.(ProcessHandler); ok {
			ph.Process(ev)
		}
	}
}

// Attached implements AttachHandler for the handlers that want it.
func (c Chain) Attached(th *Thread) {
	for _, h := range c {
		if ah, ok := h.(AttachHandler); ok {
			ah.Attached(th)
		}
	}
}

// Detached implements AttachHandler for the handlers that want it.
func (c Chain) Detached(th *Thread) {
	for _, h := range c {
		if ah, ok := h.(AttachHandler); ok {
			ah.Detached(th)
		}
	}
}
