package replay

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hermes-trace/hermes/format/recorded"

	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// errRestartBlock is ERESTART_RESTARTBLOCK: the kernel restarts the call
// as restart_syscall.
const errRestartBlock = 516

// isRestart reports whether ret is one of the kernel's restart codes a
// tracer sees when a signal interrupts a call (ERESTARTSYS and friends).
func isRestart(ret int64) bool { return ret <= -512 && ret >= -errRestartBlock }

// decide chooses how to run a call that the recording did not skip:
// emulated from the recording, or for real.
func (rp *Replayer) decide(sc *tracer.Syscall, e *entry, act *tracer.Action) uint8 {
	if sc.Arch != abi.ArchX86_64 {
		return modeReal
	}
	c := rp.opts.Emulate
	f := callFlags[sc.Nr]
	if c&Meta != 0 && sc.Info != nil && sc.Info.StatCmd(&sc.Args) && e.s.Ret >= 0 && rp.givesBack(sc, e) {
		// A SysV IPC object's state (IPC_STAT): the pids of its last
		// users and its times are this run's, not the recording's.
		rp.emulate(sc, e, act)
		return modeEmulated
	}
	if f&fMeta != 0 && c&Meta != 0 && rp.givesBack(sc, e) {
		// What a file's inode, times, owner and block count were, and
		// the order of a directory: the view has the files' contents
		// but not their identity (see fsview). A pipe's, a socket's, an
		// anonymous file's inode and times, what is under /proc, and
		// the free counts of pseudo file systems cannot be the same
		// twice either.
		rp.emulate(sc, e, act)
		return modeEmulated
	}
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
		return rp.targetWait(sc, e, act)
	case f&(fRead|fWrite|fSock|fAccept|fFDInfo) != 0 && int32(sc.Args[0]) >= 0:
		if f&fFDInfo != 0 && !aboutFD(sc) {
			break // a stat of a path
		}
		kind := rp.fdClass(sc.Thread.Proc.FDPath(int(int32(sc.Args[0]))))
		switch {
		case f&fFDInfo != 0:
			// What the outside descriptor is (a tty, a file) decides how
			// libc buffers: give the program the recorded answer.
			emulate = kind == Input && c&Input != 0
		case f&fAccept != 0:
			if (kind == Net && c&Net != 0) || (kind == Input && c&Input != 0) {
				return rp.emulateAccept(sc, e, act)
			}
		case f&fRead != 0:
			emulate = kind != 0 && c&kind != 0
			if !emulate && kind == 0 && e.s.Ret > 0 && (sc.Nr == unix.SYS_READ || sc.Nr == unix.SYS_RECVFROM) && sc.Args[2] > uint64(e.s.Ret) {
				// A pipe or socket inside the target may hold more now than
				// it did when recorded: read no more than the recording did.
				act.SetArgs |= 1 << 2
				act.Args[2] = uint64(e.s.Ret)
			}
		default:
			emulate = kind == Net && c&Net != 0
		}
	}
	if !emulate {
		return modeReal
	}
	if !rp.givesBack(sc, e) {
		if f&(fRead|fWrite|fSock|fAccept|fFDInfo) == 0 {
			return modeReal // a clock, a random source: running it is harmless
		}
		// A socket or an outside descriptor: for real, the call would wait
		// for a peer that is not there, or read what is not recorded.
		rp.diverge(rp.threads[sc.Thread.Lineage], e, sc, false,
			"cannot give back what the recording read here: the buffers it points to moved, or were not captured in full")
		if rp.stopped {
			act.Kill = true
			return modeUnchecked
		}
		act.Skip, act.Value, act.By = true, e.s.Ret, "replay"
		return modeUnchecked
	}
	rp.emulate(sc, e, act)
	return modeEmulated
}

// givesBack reports whether the recording of a call can be given back:
// everything the call writes was captured in full, and what it wrote
// through pointers inside structures (iovecs, a msghdr) lands where the
// program now points: the structures it passed hold what they held then.
func (rp *Replayer) givesBack(sc *tracer.Syscall, e *entry) bool {
	if e.s.Ret < 0 {
		return true
	}
	if sc.Info != nil {
		for _, a := range sc.Info.Args {
			if a.Kind == abi.KindOutUnknown {
				return false // written, but the model does not know how much
			}
		}
	}
	if sc.Nr == unix.SYS_IOCTL && !recorded.IoctlOut(sc.Args[1]) && !recorded.IoctlNoOut(sc.Args[1]) {
		return false // whether it writes is not known
	}
	indirect := false
	for _, m := range e.s.Mem {
		if m.Kind != tracepb.MemKind_MEM_KIND_OUT {
			continue
		}
		if len(m.Digest) > 0 || m.Size != 0 {
			return false // a summary, or cut short
		}
		if m.Arg < 6 && m.Addr != e.args[m.Arg] {
			indirect = true
		}
	}
	if !indirect {
		return true
	}
	for _, m := range e.s.Mem {
		if m.Kind != tracepb.MemKind_MEM_KIND_IN || len(m.Data) == 0 {
			continue
		}
		if cap(rp.scratch) < len(m.Data) {
			rp.scratch = make([]byte, len(m.Data))
		}
		live := rp.scratch[:len(m.Data)]
		if n, _ := sc.Mem().ReadAt(live, relocate(&sc.Args, e, m)); n != len(live) || !bytes.Equal(live, m.Data) {
			return false
		}
	}
	return true
}

// aboutFD reports whether a call with fFDInfo asks about the descriptor
// in its first argument (stat calls with AT_EMPTY_PATH and an empty path).
func aboutFD(sc *tracer.Syscall) bool {
	switch sc.Nr {
	case unix.SYS_FCNTL:
		// Its open flags (a file's O_LARGEFILE, a pipe's none): what
		// the descriptor was when recorded, wherever it leads now.
		return sc.Args[1] == unix.F_GETFL || sc.Args[1] == unix.F_SETFL
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

// emulate skips the call and gives it the recorded result and out-memory.
func (rp *Replayer) emulate(sc *tracer.Syscall, e *entry, act *tracer.Action) {
	act.Writes = act.Writes[:0]
	rp.emulateAt(&sc.Args, e, act)
}

// emulateAt gives the call the recorded result and out-memory, placed
// relative to args, the arguments the call was made with.
func (rp *Replayer) emulateAt(args *[6]uint64, e *entry, act *tracer.Action) {
	rp.emul++
	act.Skip, act.Value, act.By = true, e.s.Ret, "replay"
	if e.s.Ret < 0 {
		return
	}
	for _, m := range e.s.Mem {
		if m.Kind != tracepb.MemKind_MEM_KIND_OUT || len(m.Data) == 0 {
			continue
		}
		act.Writes = append(act.Writes, tracer.MemWrite{Addr: relocate(args, e, m), Data: m.Data})
		if len(m.Data) == 16 && m.Arg < 2 && e.s.Arch == tracepb.Arch_ARCH_X86_64 {
			switch {
			case e.s.Nr == unix.SYS_CLOCK_GETTIME && m.Arg == 1:
				rp.clocks.learn(uint32(e.args[0]), m.Data, 1)
			case e.s.Nr == unix.SYS_GETTIMEOFDAY && m.Arg == 0:
				rp.clocks.learn(unix.CLOCK_REALTIME, m.Data, 1000)
			}
		}
	}
}

// relocate returns where a recorded capture goes in the replay: at the
// same offset from the argument that pointed at it. With ASLR off the
// addresses are the same anyway.
func relocate(args *[6]uint64, e *entry, m *tracepb.Mem) uint64 {
	if m.Arg < 6 && e.args[m.Arg] == m.Addr {
		return args[m.Arg]
	}
	return m.Addr
}

// emulateAccept gives an accept the recorded connection: the call becomes
// dup3(listener, recorded fd), so a real descriptor exists at the number
// the program expects, and the peer address is written at exit.
func (rp *Replayer) emulateAccept(sc *tracer.Syscall, e *entry, act *tracer.Action) uint8 {
	if e.s.Ret < 0 {
		rp.emulate(sc, e, act)
		return modeEmulated
	}
	if sc.Thread.Proc.FDPath(int(e.s.Ret)) != "" {
		// The number is taken: dup3 would close it. The program's fds
		// already differ from the recording's.
		rp.diverge(rp.threads[sc.Thread.Lineage], e, sc, false,
			"accept returned fd "+strconv.FormatInt(e.s.Ret, 10)+" when recorded, and it is in use")
		act.Skip, act.Value = true, -int64(unix.EMFILE)
		return modeUnchecked
	}
	flags := uint64(0)
	if sc.Nr == unix.SYS_ACCEPT4 && sc.Args[3]&unix.SOCK_CLOEXEC != 0 {
		flags = unix.O_CLOEXEC
	}
	act.SetNr, act.Nr = true, unix.SYS_DUP3
	act.SetArgs |= 0b111
	act.Args[0], act.Args[1], act.Args[2] = sc.Args[0], uint64(e.s.Ret), flags
	act.By = "replay"
	return modeAccept
}

// targetWait makes a wait4 reap the child the recording says it reaped, so
// that children are reaped in the recorded order.
func (rp *Replayer) targetWait(sc *tracer.Syscall, e *entry, act *tracer.Action) uint8 {
	switch {
	case e.s.Ret == 0:
		// WNOHANG and nothing had exited: say so again.
		rp.emulate(sc, e, act)
		return modeEmulated
	case e.s.Ret > 0:
		if real, ok := rp.pids.toReal(int32(e.s.Ret)); ok {
			// That child, and waiting for it: it did exit.
			act.SetArgs |= 1<<0 | 1<<2
			act.Args[0] = uint64(uint32(real))
			act.Args[2] = sc.Args[2] &^ unix.WNOHANG
		}
	}
	return modeReal
}

// diedIn handles a call the recorded thread never returned from. If a
// signal killed the process in it, the same signal does now; otherwise
// (another thread exited the group, or exec'd) it runs and the same thing
// ends it.
func (rp *Replayer) diedIn(th *thread, sc *tracer.Syscall, e *entry, act *tracer.Action) uint8 {
	if sc.Info != nil && sc.Info.Ret == abi.RetNone {
		return modeUnchecked // exit, exit_group
	}
	proc := rp.thread(th.proc)
	for proc.exit == nil && rp.pull() {
	}
	if proc.exit != nil && proc.exit.Signal != 0 {
		act.Skip, act.Value, act.By = true, -int64(unix.EINTR), "replay"
		act.Signal = int(proc.exit.Signal)
	}
	return modeUnchecked
}

// translateProcPaths rewrites /proc/PID paths, where PID is a recorded
// pid the program learned from replay, to the live process's.
func (rp *Replayer) translateProcPaths(sc *tracer.Syscall, e *entry, act *tracer.Action) {
	if rp.opts.Emulate&Pid == 0 || sc.Info == nil {
		return
	}
	for _, m := range e.s.Mem {
		if m.Kind != tracepb.MemKind_MEM_KIND_IN || int(m.Arg) >= len(sc.Info.Args) ||
			sc.Info.Args[m.Arg].Kind != abi.KindPath || m.Addr != e.args[m.Arg] {
			continue
		}
		rest, ok := strings.CutPrefix(strings.TrimSuffix(string(m.Data), "\x00"), "/proc/")
		if !ok {
			continue
		}
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		pid, err := strconv.Atoi(rest[:j])
		if err != nil {
			continue
		}
		if real, ok := rp.pids.toReal(int32(pid)); ok && real != pid {
			act.Strings = append(act.Strings, tracer.StringArg{Index: int(m.Arg), Data: []byte("/proc/" + strconv.Itoa(real) + rest[j:])})
		}
	}
}

// reinject applies at entry what the recording injected at this call: a
// skip (deny, return, emulate) with its result and memory, a kill, and on
// top of any of them changed arguments, a delay or a signal.
func (rp *Replayer) reinject(e *entry, act *tracer.Action) {
	act.By = "replay"
	recorded.DecodeInjected(e.s.Injected, e.s.Ret, act, false)
}

// reinjectExit applies what the recording injected at this call's exit:
// the result it gave, its memory, a delay or a signal.
func (rp *Replayer) reinjectExit(e *entry, act *tracer.Action) {
	act.By = "replay"
	recorded.DecodeInjected(e.s.Injected, e.s.Ret, act, true)
}

// clockRead gives a clock read the process's next recorded reading of that
// clock (or what the recording injected there); past the recorded ones,
// time runs on from the last (floating).
func (rp *Replayer) clockRead(sc *tracer.Syscall, key uint64, act *tracer.Action) {
	th := rp.thread(sc.Thread.Lineage)
	th.cur, th.mode = nil, modeFloat
	e := rp.nextClock(th.lineage, key)
	th.clock = e
	if debugMatch {
		where := "none"
		if e != nil {
			where = fmt.Sprintf("seq %d", e.s.Seq)
		}
		fmt.Fprintf(os.Stderr, "CLOCK %s %s clock %d -> %s\n", th.lineage, sc.Name(), sc.Args[0], where)
	}
	if e != nil && e.s.EntryOnly {
		// The recorded run ended while its thread was entering this read
		// (exact order only): it holds its place in the order, and if
		// the replay gets that far, it reads the clock as a read with
		// no recorded counterpart does.
		rp.floating(th, sc, act)
		return
	}
	if e != nil {
		rp.calls++
		switch {
		case e.s.Injected != nil && e.s.Injected.AtExit:
			th.cur, th.mode = e, modeExitInject
			act.WantExit = true
		case e.s.Injected != nil:
			th.mode = modeUnchecked
			rp.reinject(e, act)
		case rp.opts.Emulate&Time != 0:
			th.mode = modeUnchecked
			rp.emulate(sc, e, act)
		default:
			th.mode = modeUnchecked
		}
		rp.overlayEnter(sc, act, th)
		if rp.opts.Overlay != nil && changes(&rp.ov, e, false) {
			rp.depart(th, e, sc, act)
		}
		return
	}
	rp.floating(th, sc, act)
}

// floating lets a scheduling call with no recorded counterpart run. A clock
// read among them must not jump from recorded time to today's: its result
// is moved by how far the recording's clock was from the real one when it
// was last emulated. The program keeps seeing its recorded ids.
func (rp *Replayer) floating(th *thread, sc *tracer.Syscall, act *tracer.Action) {
	th.cur, th.mode = nil, modeFloat
	if sc.Arch != abi.ArchX86_64 {
		rp.overlayEnter(sc, act, th)
		return
	}
	act.WantExit = callFlags[sc.Nr]&fTime != 0
	if callFlags[sc.Nr]&fPoll != 0 && rp.opts.Emulate&Poll != 0 {
		// Readiness this run would wait for may never come (the peer of an
		// emulated socket does not exist): poll, and let the program ask
		// again.
		switch sc.Nr {
		case unix.SYS_POLL:
			act.SetArgs, act.Args[2] = act.SetArgs|1<<2, 0
		case unix.SYS_EPOLL_WAIT, unix.SYS_EPOLL_PWAIT:
			act.SetArgs, act.Args[3] = act.SetArgs|1<<3, 0
		}
	}
	if rp.opts.Emulate&Pid != 0 && (sc.Nr == unix.SYS_GETPID || sc.Nr == unix.SYS_GETTID) {
		real := sc.Pid()
		if sc.Nr == unix.SYS_GETTID {
			real = sc.Tid()
		}
		if v, ok := rp.pids.toRecorded(real); ok {
			act.Skip, act.Value, act.By = true, int64(v), "replay"
		}
	}
	rp.translatePidArgs(sc, act)
	rp.overlayEnter(sc, act, th)
	if rp.opts.Overlay != nil && changes(&rp.ov, nil, false) {
		rp.depart(th, nil, sc, act)
	}
}

// clockKept says whether replay keeps the offset of a clock: the
// system-wide ones.
func clockKept(id uint32) bool { return recorded.SystemClock(id) }

// shiftClock moves the result of a real clock read into recorded time.
func (rp *Replayer) shiftClock(sc *tracer.Syscall, act *tracer.Action) {
	if sc.Arch != abi.ArchX86_64 || sc.Ret < 0 {
		return
	}
	var id uint32
	var addr uint64
	var unit int64 // of the second word: ns or us
	switch sc.Nr {
	case unix.SYS_CLOCK_GETTIME:
		id, addr, unit = uint32(sc.Args[0]), sc.Args[1], 1
	case unix.SYS_GETTIMEOFDAY:
		id, addr, unit = unix.CLOCK_REALTIME, sc.Args[0], 1000
	case unix.SYS_TIME:
		id, addr = unix.CLOCK_REALTIME, sc.Args[0]
	default:
		return
	}
	if sc.Nr == unix.SYS_TIME {
		ns, ok := rp.clocks.shift(id, sc.Ret*1e9)
		if !ok {
			return
		}
		t := ns / 1e9
		if addr != 0 {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], uint64(t))
			_ = sc.Mem().WriteAt(b[:], addr)
		}
		act.Skip, act.Value, act.By = true, t, "replay"
		return
	}
	var ts [16]byte
	if addr == 0 {
		return
	}
	if n, _ := sc.Mem().ReadAt(ts[:], addr); n != len(ts) {
		return
	}
	ns, ok := rp.clocks.shift(id, timespecNs(ts[:], unit))
	if !ok {
		return
	}
	binary.LittleEndian.PutUint64(ts[:], uint64(ns/1e9))
	binary.LittleEndian.PutUint64(ts[8:], uint64(ns%1e9/unit))
	_ = sc.Mem().WriteAt(ts[:], addr)
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
	case recorded.FileBacked(path):
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

// partialRead is a read of a pipe or socket inside the target that got
// less than when recorded: its writer had not written it all yet.
type partialRead struct {
	e    *entry
	args [6]uint64 // the read as the program made it
	got  int64     // bytes read so far
	copy bool      // a copy into an outside descriptor (completeCopy), not a read
}

// shortRead reports whether a real read of a descriptor inside the target
// (a pipe between two of its processes) returned less than when recorded.
func (rp *Replayer) shortRead(sc *tracer.Syscall, e *entry) bool {
	return sc.Arch == abi.ArchX86_64 && sc.Nr == unix.SYS_READ && sc.Ret > 0 && sc.Ret < e.s.Ret &&
		rp.fdClass(sc.Thread.Proc.FDPath(int(int32(sc.Args[0])))) == 0
}

// completeRead makes a read that got less than when recorded read on
// until it has what the recording got (or the end of the data, or an
// error): the thread makes the call again for the rest of the buffer, and
// the program sees one read that returns the sum. How much a pipe read
// gets depends on how far its writer has got, which is timing.
func (rp *Replayer) completeRead(th *thread, sc *tracer.Syscall, e *entry, act *tracer.Action) {
	p := th.partial
	if p == nil {
		p = &partialRead{e: e, args: th.args, copy: th.copying}
		th.partial = p
	}
	if isRestart(sc.Ret) {
		// A signal interrupted the rest: the kernel makes the same call
		// again after the handler.
		th.cur, th.mode = e, modeContinue
		return
	}
	if sc.Ret > 0 {
		p.got += sc.Ret
	}
	if sc.Ret > 0 && p.got < e.s.Ret {
		act.Redo = true
		if p.copy {
			// The sendfile of copyToOutside: the rest of the count.
			act.SetArgs, act.Args[3] = 1<<3, uint64(e.s.Ret-p.got)
		} else {
			act.SetArgs = 1<<1 | 1<<2
			act.Args[1] = p.args[1] + uint64(p.got)
			act.Args[2] = uint64(e.s.Ret - p.got)
		}
		th.cur, th.mode = e, modeContinue
		return
	}
	th.partial, th.copying = nil, false
	act.Skip, act.Value, act.By = true, p.got, "replay"
	if p.got == 0 {
		act.Value = sc.Ret // the first read failed: nothing to add to
	}
	reason := ""
	if p.got != e.s.Ret {
		reason = fmt.Sprintf("returned %s, recorded %s", retString(act.Value), retString(e.s.Ret))
	} else {
		for _, m := range e.s.Mem {
			if m.Kind == tracepb.MemKind_MEM_KIND_OUT && m.Arg == 1 {
				reason = rp.compareBufAt(sc, m, p.args[1], int(p.got), "read")
				break
			}
		}
	}
	if reason != "" {
		rp.diverge(th, e, sc, true, reason)
	}
}
