package tracer

import (
	"errors"

	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// Scratch memory: a private anonymous mapping hermes makes in a tracee, for
// the strings it passes to a call in place of the program's own
// (Action.Strings, Lua's modify_arg). Nothing of the program's lives there,
// so a replacement never lands on the program's stack or data, whatever its
// stack pointer says (an unmapped one, a small makecontext stack).
//
// hermes makes the mapping by having the stopped thread run mmap instead
// of its call: at the entry stop the registers are set for mmap, the exit
// stop reads the address, then the thread is put back on its syscall
// instruction with its own registers, so it makes its call again; at that
// second entry the action (kept from the first) is applied, without the
// handlers seeing the call twice.
//
// A thread keeps its slot until it exits; then another thread of the
// process may take it. Exec drops them all (a new address space).

// scratchMin is the smallest mapping made: room for a few paths.
const scratchMin = 16 << 10

// scratchSlot is one mapping in a process and the thread using it.
type scratchSlot struct {
	addr, size uint64
	owner      *Thread
}

// remoteMmap is an mmap hermes has a thread make in place of its call.
type remoteMmap struct {
	saved unix.PtraceRegs // the thread's registers at the entry of its own call
	size  uint64
}

// scratchOf returns th's slot, or nil.
func (p *Process) scratchOf(th *Thread) *scratchSlot {
	for i := range p.scratch {
		if p.scratch[i].owner == th {
			return &p.scratch[i]
		}
	}
	return nil
}

// takeScratch gives th a free slot of at least n bytes, if there is one.
func (p *Process) takeScratch(th *Thread, n uint64) *scratchSlot {
	if s := p.scratchOf(th); s != nil {
		if s.size >= n {
			return s
		}
		s.owner = nil
	}
	for i := range p.scratch {
		if s := &p.scratch[i]; s.owner == nil && s.size >= n {
			s.owner = th
			return s
		}
	}
	return nil
}

// releaseScratch frees th's slot for the other threads.
func (p *Process) releaseScratch(th *Thread) {
	if s := p.scratchOf(th); s != nil {
		s.owner = nil
	}
}

func roundUp(n, to uint64) uint64 { return (n + to - 1) &^ (to - 1) }

// stringsSize is the scratch room the strings need, each NUL-terminated
// and 16-byte aligned.
func stringsSize(ss []StringArg) uint64 {
	var n uint64
	for _, s := range ss {
		n += roundUp(uint64(len(s.Data)+1), 16)
	}
	return n
}

// needScratch makes sure th has scratch room for act's strings. If it has
// to be made, it starts the remote mmap and returns true: the caller stops
// there, and the action is applied at the call's second entry. If it
// cannot be made, the action becomes a denial (fail closed) and it
// returns false.
func (t *Tracer) needScratch(th *Thread, act *Action) bool {
	sc := &th.sc
	n := stringsSize(act.Strings)
	if th.Proc.takeScratch(th, n) != nil {
		return false
	}
	fail := func(why string) bool {
		t.logf("%s: %s denied with EPERM: cannot pass it a replacement string: %s", th.Lineage, sc.Name(), why)
		act.Skip, act.Value = true, -int64(unix.EPERM) // by whoever asked for the string
		act.Strings = act.Strings[:0]
		return false
	}
	if sc.Arch != abi.ArchX86_64 {
		return fail("a 32-bit call cannot point above 4 GiB")
	}
	regs, err := sc.Regs()
	if err != nil {
		return fail(err.Error())
	}
	r := &remoteMmap{saved: *regs, size: max(roundUp(n, pageSize), scratchMin)}
	regs.Orig_rax = unix.SYS_MMAP
	regs.Rdi, regs.Rsi = 0, r.size
	regs.Rdx = unix.PROT_READ | unix.PROT_WRITE
	regs.R10 = unix.MAP_PRIVATE | unix.MAP_ANONYMOUS
	regs.R8, regs.R9 = ^uint64(0), 0
	if err := ptraceSetRegs(th.Tid, regs); err != nil {
		sc.regsValid = false
		return fail(err.Error())
	}
	sc.regsValid, sc.regsDirty = false, false
	th.remote = r
	th.wantExit = true
	t.resume(th, 0)
	return true
}

// finishMmap runs at the exit stop of a remote mmap.
func (t *Tracer) finishMmap(th *Thread, rval int64) {
	sc := &th.sc
	r := th.remote
	th.remote = nil
	sc.regs = r.saved
	sc.regsValid, sc.regsDirty = true, true
	if rval < 0 && rval > -4096 {
		// The call fails closed, returning from here.
		t.logf("%s: %s denied with EPERM: cannot map scratch memory for a replacement string: %v",
			th.Lineage, sc.Name(), unix.Errno(-rval))
		act := &th.act
		act.Skip, act.Value = true, -int64(unix.EPERM)
		sc.regs.Rax = uint64(act.Value)
		sc.Exited, sc.Skipped, sc.Ret = true, true, act.Value
		sc.Leave = t.now()
		delay := t.runExit(th)
		t.flushRegs(th)
		th.inSyscall, th.wantExit = false, false
		if delay > 0 {
			t.park(th, delay, 0)
			return
		}
		t.resume(th, 0)
		return
	}
	th.Proc.scratch = append(th.Proc.scratch, scratchSlot{addr: uint64(rval), size: r.size, owner: th})
	// Back onto the syscall instruction with the call's own registers.
	sc.regs.Rip -= 2
	sc.regs.Rax = sc.regs.Orig_rax
	t.flushRegs(th)
	th.redo = true
	th.inSyscall, th.wantExit = false, false
	t.resume(th, 0)
}

// isRedo reports whether an entry of th is the second entry of the call a
// remote mmap interrupted. Anything else in between (a signal handler's
// calls) means the kept action is stale: the call will be new.
func (th *Thread) isRedo(info *syscallInfo) bool {
	if !th.redo {
		return false
	}
	th.redo = false
	sc := &th.sc
	return int(info.nr) == sc.Nr && info.ip == sc.IP && info.sp == sc.SP
}

// errNoScratch: the strings were to go into a slot that is not there.
var errNoScratch = errors.New("no scratch memory in the process")
