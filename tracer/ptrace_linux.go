package tracer

import (
	"fmt"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Thin wrappers over ptrace(2). They use RawSyscall: every request is short
// and non-blocking, and all of them run on the one locked tracer thread, so
// there is nothing to gain from telling the scheduler about them.

// ptraceOptions are set on every tracee. EXITKILL makes the tracees die with
// hermes; TRACESECCOMP must be set before the filter loads, or RET_TRACE
// calls fail with ENOSYS.
const ptraceOptions = unix.PTRACE_O_TRACESYSGOOD |
	unix.PTRACE_O_TRACESECCOMP |
	unix.PTRACE_O_EXITKILL |
	unix.PTRACE_O_TRACEFORK |
	unix.PTRACE_O_TRACEVFORK |
	unix.PTRACE_O_TRACECLONE |
	unix.PTRACE_O_TRACEEXEC

func ptrace(req int, pid int, addr, data uintptr) error {
	_, _, e := syscall.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(pid), addr, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func ptraceSeize(pid int, options int) error {
	return ptrace(unix.PTRACE_SEIZE, pid, 0, uintptr(options))
}

func ptraceCont(pid int, sig int) error {
	return ptrace(unix.PTRACE_CONT, pid, 0, uintptr(sig))
}

func ptraceSyscall(pid int, sig int) error {
	return ptrace(unix.PTRACE_SYSCALL, pid, 0, uintptr(sig))
}

func ptraceListen(pid int) error { return ptrace(unix.PTRACE_LISTEN, pid, 0, 0) }

func ptraceInterrupt(pid int) error { return ptrace(unix.PTRACE_INTERRUPT, pid, 0, 0) }

func ptraceDetach(pid int, sig int) error {
	return ptrace(unix.PTRACE_DETACH, pid, 0, uintptr(sig))
}

func ptraceGetRegs(pid int, regs *unix.PtraceRegs) error {
	return ptrace(unix.PTRACE_GETREGS, pid, 0, uintptr(unsafe.Pointer(regs)))
}

func ptraceSetRegs(pid int, regs *unix.PtraceRegs) error {
	return ptrace(unix.PTRACE_SETREGS, pid, 0, uintptr(unsafe.Pointer(regs)))
}

func ptraceGetEventMsg(pid int) (uint64, error) {
	var msg uint64
	err := ptrace(unix.PTRACE_GETEVENTMSG, pid, 0, uintptr(unsafe.Pointer(&msg)))
	return msg, err
}

func ptraceGetSiginfo(pid int, si *Siginfo) error {
	return ptrace(unix.PTRACE_GETSIGINFO, pid, 0, uintptr(unsafe.Pointer(si)))
}

func ptraceSetSiginfo(pid int, si *Siginfo) error {
	return ptrace(unix.PTRACE_SETSIGINFO, pid, 0, uintptr(unsafe.Pointer(si)))
}

// Siginfo is the kernel's siginfo_t as raw bytes; the first three int32s are
// si_signo, si_errno and si_code.
type Siginfo [128]byte

// Signo returns si_signo.
func (s *Siginfo) Signo() int { return int(*(*int32)(unsafe.Pointer(&s[0]))) }

// Code returns si_code.
func (s *Siginfo) Code() int { return int(*(*int32)(unsafe.Pointer(&s[8]))) }

// syscallInfo is struct ptrace_syscall_info (linux/ptrace.h), 88 bytes.
// For op ENTRY and SECCOMP, nr and args are valid (and retData for
// SECCOMP); for op EXIT, rval and isError alias the first fields of the
// union, read them with the accessors.
type syscallInfo struct {
	op      uint8
	_       [3]uint8
	arch    uint32
	ip      uint64
	sp      uint64
	nr      uint64 // exit: rval
	args    [6]uint64
	retData uint32
	_       uint32
}

func (s *syscallInfo) rval() int64 { return int64(s.nr) }

func ptraceGetSyscallInfo(pid int, info *syscallInfo) error {
	return ptrace(unix.PTRACE_GET_SYSCALL_INFO, pid, unsafe.Sizeof(*info), uintptr(unsafe.Pointer(info)))
}

// Stop kinds a wait status can hold for a traced thread.
const (
	syscallTrap = unix.SIGTRAP | 0x80 // TRACESYSGOOD syscall-stop
)

func eventOf(ws unix.WaitStatus) int { return int(ws>>16) & 0xff }

// kernelSigaction is the kernel's struct sigaction (x86_64).
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// sigchld counts the runs that hold SIGCHLD at SIG_DFL, and keeps the
// disposition they found, to put back when the last one ends.
var sigchld struct {
	mu  sync.Mutex
	n   int
	old kernelSigaction
}

// acquireSIGCHLD sets SIGCHLD to SIG_DFL behind the Go runtime's back, for
// as long as some run holds it (releaseSIGCHLD puts back what was there).
//
// Every ptrace stop sends SIGCHLD to the tracer. The Go runtime installs a
// handler for every signal, so each stop would also run that handler on
// some thread (often interrupting our own wait4, which is then restarted):
// a few microseconds per stop, on the hottest path we have. With SIG_DFL
// the kernel discards SIGCHLD when it is generated. Unlike SIG_IGN, SIG_DFL
// keeps zombies, so wait4 still reports our children's exit statuses, and
// the other children of the process (os/exec's) are reaped by their own
// waiters as before. A program embedding the tracer that asks os/signal
// for SIGCHLD does not get it while a run goes on.
func acquireSIGCHLD() error {
	sigchld.mu.Lock()
	defer sigchld.mu.Unlock()
	if sigchld.n == 0 {
		var dfl kernelSigaction // SIG_DFL is 0
		if err := rtSigaction(unix.SIGCHLD, &dfl, &sigchld.old); err != nil {
			return err
		}
	}
	sigchld.n++
	return nil
}

// releaseSIGCHLD ends a hold of acquireSIGCHLD.
func releaseSIGCHLD() {
	sigchld.mu.Lock()
	defer sigchld.mu.Unlock()
	sigchld.n--
	if sigchld.n == 0 {
		_ = rtSigaction(unix.SIGCHLD, &sigchld.old, nil)
	}
}

func rtSigaction(sig unix.Signal, act, old *kernelSigaction) error {
	_, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// cpus counts the pinned runs on each CPU, so that runs at once in one
// process spread over the CPUs instead of sharing one.
var cpus struct {
	mu   sync.Mutex
	used map[int]int
}

// pinCPU binds the calling thread (the tracer thread; children it forks
// inherit the mask) to one CPU: the one it runs on if no other run of this
// process is pinned there, else the allowed CPU with the fewest runs. The
// returned function gives the CPU back.
func pinCPU() (release func(), err error) {
	var cur uint32
	if _, _, e := syscall.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cur)), 0, 0); e != 0 {
		return nil, fmt.Errorf("getcpu: %w", e)
	}
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	cpus.mu.Lock()
	defer cpus.mu.Unlock()
	if cpus.used == nil {
		cpus.used = make(map[int]int)
	}
	pick := int(cur)
	if cpus.used[pick] > 0 || !allowed.IsSet(pick) {
		best := -1
		n := len(allowed) * 64
		// Round the CPUs from the current one on, so that ties go on
		// spreading.
		for i := range n {
			c := (int(cur) + 1 + i) % n
			if allowed.IsSet(c) && (best < 0 || cpus.used[c] < cpus.used[best]) {
				best = c
			}
		}
		if best >= 0 {
			pick = best
		}
	}
	var set unix.CPUSet
	set.Set(pick)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_setaffinity: %w", err)
	}
	cpus.used[pick]++
	return func() {
		cpus.mu.Lock()
		cpus.used[pick]--
		cpus.mu.Unlock()
	}, nil
}
