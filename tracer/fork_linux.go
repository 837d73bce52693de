package tracer

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The runtime's fork hooks, as package syscall uses them: BeforeFork blocks
// every signal on this thread and arms a stack guard so that any stack growth
// in the child crashes loudly instead of corrupting state; AfterFork undoes it
// in the parent; AfterForkInChild resets the Go signal handlers in the child
// and restores the signal mask it had before BeforeFork.
//
//go:linkname runtimeBeforeFork syscall.runtime_BeforeFork
func runtimeBeforeFork()

//go:linkname runtimeAfterFork syscall.runtime_AfterFork
func runtimeAfterFork()

//go:linkname runtimeAfterForkInChild syscall.runtime_AfterForkInChild
func runtimeAfterForkInChild()

// Steps of the child between fork and exec, reported back to the parent with
// the errno when one fails.
const (
	stepNone uint32 = iota
	stepSync
	stepNoNewPrivs
	stepSeccomp
	stepChdir
	stepExec
	stepPdeathsig
	stepStdio
	stepPersonality
	// stepSetup+i is step i of childSpec.setup.
	stepSetup = 1000
	// stepDone is what a child with no program to exec reports once its
	// steps have run (Spawn with no Path).
	stepDone = 0xffffffff
)

var stepNames = [...]string{
	stepNone:        "fork",
	stepSync:        "wait for tracer",
	stepNoNewPrivs:  "prctl(PR_SET_NO_NEW_PRIVS)",
	stepSeccomp:     "seccomp(SECCOMP_SET_MODE_FILTER)",
	stepChdir:       "chdir",
	stepExec:        "execve",
	stepPdeathsig:   "prctl(PR_SET_PDEATHSIG)",
	stepStdio:       "dup3 of standard descriptors",
	stepPersonality: "personality(ADDR_NO_RANDOMIZE)",
}

// Step is one raw system call a launched child makes after fork, before
// anything else it does (before its standard descriptors, its filter and
// exec): joining namespaces, mounting, writing a file. The child cannot
// allocate: pointer arguments point into memory the caller keeps alive
// until the launch returns.
type Step struct {
	Nr   uintptr
	Args [6]uintptr
	// PrevArg, if 1 to 6, replaces argument PrevArg-1 by the result of
	// the step before (an fd that open returned, for write and close).
	PrevArg int8
	// MayFail lets the child go on when the call fails.
	MayFail bool
	// Name describes the step in errors ("mount overlay on /tmp").
	Name string
}

// ChildError is a failure of the launched child before its program started,
// tagged with the step that failed.
type ChildError struct {
	Step  string
	Errno unix.Errno
}

func (e *ChildError) Error() string { return e.Step + ": " + e.Errno.Error() }

func (e *ChildError) Unwrap() error { return e.Errno }

// childSpec is everything the child needs, prepared by the parent so that
// the child allocates nothing.
type childSpec struct {
	path   *byte
	argv   []*byte
	envv   []*byte
	dir    *byte
	fprog  *unix.SockFprog // nil: no filter
	syncFd int             // child blocks reading it until the tracer has seized it
	errFd  int             // CLOEXEC; the child writes {step, errno} on failure
	stdio  [3]int          // descriptors (all >= 3) to put on 0, 1, 2; -1 keeps hermes's
	noASLR bool            // turn address space randomization off for the new image
	nnp    bool            // set NO_NEW_PRIVS before the filter (without CAP_SYS_ADMIN it is required)
	setup  []Step          // run first (after the sync)
}

// forkChild forks a single-threaded child that runs spec: it waits on
// syncFd for the tracer to seize it, sets no_new_privs if asked, installs the seccomp
// filter, and execs. It returns the child's pid.
func forkChild(spec *childSpec) (int, error) {
	syscall.ForkLock.Lock()
	runtimeBeforeFork()
	pid, errno := rawForkExec(spec)
	runtimeAfterFork()
	syscall.ForkLock.Unlock()
	if errno != 0 {
		return 0, fmt.Errorf("fork: %w", errno)
	}
	return pid, nil
}

// rawForkExec is the part that runs in both parent and child. After the
// clone returns in the child, only raw system calls are allowed: no
// allocation, no locks, no stack growth, no write barriers.
//
//go:norace
//go:nosplit
func rawForkExec(spec *childSpec) (int, unix.Errno) {
	r1, _, errno := syscall.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 || r1 != 0 {
		return int(r1), unix.Errno(errno)
	}
	// In the child.
	runtimeAfterForkInChild()
	var step uint32
	var buf [1]byte
	var i int
	var st *Step
	var a [6]uintptr
	var prev uintptr
	// Wait until the tracer has seized us: the seccomp filter's RET_TRACE
	// needs PTRACE_O_TRACESECCOMP set first, or traced calls get ENOSYS.
	if spec.syncFd >= 0 {
		step = stepSync
		_, _, errno = syscall.RawSyscall(unix.SYS_READ, uintptr(spec.syncFd), uintptr(unsafe.Pointer(&buf[0])), 1)
		if errno != 0 {
			goto fail
		}
	}
	for i = 0; i < len(spec.setup); i++ {
		st = &spec.setup[i]
		a = st.Args
		if st.PrevArg >= 1 && st.PrevArg <= 6 {
			a[st.PrevArg-1] = prev
		}
		prev, _, errno = syscall.RawSyscall6(st.Nr, a[0], a[1], a[2], a[3], a[4], a[5])
		if errno != 0 && !st.MayFail {
			step = stepSetup + uint32(i)
			goto fail
		}
	}
	step = stepStdio
	for i = 0; i < 3; i++ {
		if spec.stdio[i] >= 0 {
			_, _, errno = syscall.RawSyscall(unix.SYS_DUP3, uintptr(spec.stdio[i]), uintptr(i), 0)
			if errno != 0 {
				goto fail
			}
		}
	}
	if spec.fprog != nil && spec.nnp {
		step = stepNoNewPrivs
		_, _, errno = syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0)
		if errno != 0 {
			goto fail
		}
	}
	if spec.noASLR {
		// personality(0xffffffff) queries; the result is the current
		// persona, which we keep and extend.
		step = stepPersonality
		r1, _, errno = syscall.RawSyscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
		if errno == 0 {
			_, _, errno = syscall.RawSyscall(unix.SYS_PERSONALITY, r1|addrNoRandomize, 0, 0)
		}
		if errno != 0 {
			goto fail
		}
	}
	if spec.dir != nil {
		step = stepChdir
		_, _, errno = syscall.RawSyscall(unix.SYS_CHDIR, uintptr(unsafe.Pointer(spec.dir)), 0, 0)
		if errno != 0 {
			goto fail
		}
	}
	if spec.fprog != nil {
		step = stepSeccomp
		_, _, errno = syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(spec.fprog)))
		if errno != 0 {
			goto fail
		}
	}
	if spec.path == nil {
		// Nothing to exec: say the steps are done, and stay (Spawn).
		{
			msg := [2]uint32{stepDone, 0}
			syscall.RawSyscall(unix.SYS_WRITE, uintptr(spec.errFd), uintptr(unsafe.Pointer(&msg[0])), 8)
		}
		for {
			syscall.RawSyscall(unix.SYS_PAUSE, 0, 0, 0)
		}
	}
	step = stepExec
	_, _, errno = syscall.RawSyscall(unix.SYS_EXECVE,
		uintptr(unsafe.Pointer(spec.path)),
		uintptr(unsafe.Pointer(&spec.argv[0])),
		uintptr(unsafe.Pointer(&spec.envv[0])))
fail:
	{
		msg := [2]uint32{step, uint32(errno)}
		syscall.RawSyscall(unix.SYS_WRITE, uintptr(spec.errFd), uintptr(unsafe.Pointer(&msg[0])), 8)
		for {
			syscall.RawSyscall(unix.SYS_EXIT_GROUP, 127, 0, 0)
		}
	}
}

// readChildError reads the child's {step, errno} report from the error
// pipe, if it wrote one. It returns nil when the pipe was closed by a
// successful exec.
func readChildError(fd int, setup []Step) error {
	var msg [8]byte
	var n int
	var err error
	for {
		n, err = unix.Read(fd, msg[:])
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("reading child status: %w", err)
	}
	if n < len(msg) {
		return nil
	}
	step := *(*uint32)(unsafe.Pointer(&msg[0]))
	errno := unix.Errno(*(*uint32)(unsafe.Pointer(&msg[4])))
	if step == stepDone {
		return nil
	}
	name := "unknown step"
	switch {
	case int(step) < len(stepNames):
		name = stepNames[step]
	case step >= stepSetup && int(step-stepSetup) < len(setup):
		name = setup[step-stepSetup].Name
	}
	return &ChildError{Step: name, Errno: errno}
}

// cStrings converts Go strings to a NULL-terminated array of C strings.
func cStrings(ss []string) ([]*byte, error) {
	out := make([]*byte, 0, len(ss)+1)
	for _, s := range ss {
		p, err := unix.BytePtrFromString(s)
		if err != nil {
			return nil, fmt.Errorf("argument %q: %w", s, err)
		}
		out = append(out, p)
	}
	return append(out, nil), nil
}

// doorbell is a child process of the tracer thread that does nothing but
// pause. The ptrace loop blocks in wait4(-1); to wake it from another
// goroutine (Ctrl-C, a delay timer expiring) we stop the doorbell with
// SIGSTOP, which wait4 reports like any other child. The loop then sends it
// SIGCONT. The child lives in its own process group with every signal
// blocked, so a terminal's Ctrl-C does not kill it; it dies with the
// tracer thread (PR_SET_PDEATHSIG). It is signalled through a pidfd, so a
// ring can never reach another process that reused its pid.
type doorbell struct {
	pid   int
	mu    sync.Mutex
	pidfd int // -1 once closed
}

func newDoorbell() (*doorbell, error) {
	syscall.ForkLock.Lock()
	runtimeBeforeFork()
	pid, errno := rawDoorbell()
	runtimeAfterFork()
	syscall.ForkLock.Unlock()
	if errno != 0 {
		return nil, fmt.Errorf("fork doorbell: %w", errno)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		return nil, fmt.Errorf("pidfd_open doorbell: %w", err)
	}
	return &doorbell{pid: pid, pidfd: fd}, nil
}

//go:norace
//go:nosplit
func rawDoorbell() (int, unix.Errno) {
	r1, _, errno := syscall.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 || r1 != 0 {
		return int(r1), unix.Errno(errno)
	}
	runtimeAfterForkInChild()
	all := ^uint64(0)
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&all)), 0, 8, 0, 0)
	syscall.RawSyscall(unix.SYS_SETPGID, 0, 0, 0)
	syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0, 0)
	for {
		syscall.RawSyscall(unix.SYS_PAUSE, 0, 0, 0)
	}
}

func (d *doorbell) signal(sig unix.Signal) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pidfd >= 0 {
		_ = unix.PidfdSendSignal(d.pidfd, sig, nil, 0)
	}
}

// ring wakes the ptrace loop. Safe from any goroutine.
func (d *doorbell) ring() { d.signal(unix.SIGSTOP) }

// rearm lets the doorbell be rung again; the loop calls it before it
// handles a ring, so that a ring during the handling is not lost.
func (d *doorbell) rearm() { d.signal(unix.SIGCONT) }

func (d *doorbell) close() {
	d.signal(unix.SIGKILL)
	d.mu.Lock()
	fd := d.pidfd
	d.pidfd = -1
	d.mu.Unlock()
	if fd >= 0 {
		unix.Close(fd)
	}
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(d.pid, &ws, unix.WALL, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// probeNoASLR checks, on the calling thread, that the personality the child
// will set is allowed, and puts the thread's own back.
func probeNoASLR() error {
	cur, _, errno := syscall.RawSyscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	if errno != 0 {
		return fmt.Errorf("personality: %w", errno)
	}
	if _, _, errno = syscall.RawSyscall(unix.SYS_PERSONALITY, cur|addrNoRandomize, 0, 0); errno != 0 {
		return fmt.Errorf("personality(ADDR_NO_RANDOMIZE): %w", errno)
	}
	syscall.RawSyscall(unix.SYS_PERSONALITY, cur, 0, 0)
	return nil
}

// addrNoRandomize is ADDR_NO_RANDOMIZE from <linux/personality.h>.
const addrNoRandomize = 0x0040000
