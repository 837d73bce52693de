package tracer

import (
	"errors"
	"fmt"
	"sync/atomic"
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
)

var stepNames = [...]string{
	stepNone:       "fork",
	stepSync:       "wait for tracer",
	stepNoNewPrivs: "prctl(PR_SET_NO_NEW_PRIVS)",
	stepSeccomp:    "seccomp(SECCOMP_SET_MODE_FILTER)",
	stepChdir:      "chdir",
	stepExec:       "execve",
	stepPdeathsig:  "prctl(PR_SET_PDEATHSIG)",
	stepStdio:      "dup3 of standard descriptors",
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
}

// forkChild forks a single-threaded child that runs spec: it waits on
// syncFd for the tracer to seize it, sets no_new_privs, installs the seccomp
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
	// Wait until the tracer has seized us: the seccomp filter's RET_TRACE
	// needs PTRACE_O_TRACESECCOMP set first, or traced calls get ENOSYS.
	step = stepSync
	_, _, errno = syscall.RawSyscall(unix.SYS_READ, uintptr(spec.syncFd), uintptr(unsafe.Pointer(&buf[0])), 1)
	if errno != 0 {
		goto fail
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
	if spec.fprog != nil {
		step = stepNoNewPrivs
		_, _, errno = syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0)
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
func readChildError(fd int) error {
	var msg [8]byte
	n, err := unix.Read(fd, msg[:])
	if err != nil {
		return fmt.Errorf("reading child status: %w", err)
	}
	if n < len(msg) {
		return nil
	}
	step := *(*uint32)(unsafe.Pointer(&msg[0]))
	errno := unix.Errno(*(*uint32)(unsafe.Pointer(&msg[4])))
	name := "unknown step"
	if int(step) < len(stepNames) {
		name = stepNames[step]
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
// SIGCONT. It dies with the tracer thread (PR_SET_PDEATHSIG).
type doorbell struct {
	pid    int
	closed atomic.Bool // no ring after close: the pid may be reused
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
	return &doorbell{pid: pid}, nil
}

//go:norace
//go:nosplit
func rawDoorbell() (int, unix.Errno) {
	r1, _, errno := syscall.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 || r1 != 0 {
		return int(r1), unix.Errno(errno)
	}
	runtimeAfterForkInChild()
	syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0, 0)
	for {
		syscall.RawSyscall(unix.SYS_PAUSE, 0, 0, 0)
	}
}

// ring wakes the ptrace loop. Safe from any goroutine.
func (d *doorbell) ring() {
	if !d.closed.Load() {
		_ = unix.Kill(d.pid, unix.SIGSTOP)
	}
}

// rearm lets the doorbell be rung again; called by the loop after it
// handled a ring.
func (d *doorbell) rearm() { _ = unix.Kill(d.pid, unix.SIGCONT) }

func (d *doorbell) close() {
	d.closed.Store(true)
	_ = unix.Kill(d.pid, unix.SIGKILL)
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(d.pid, &ws, unix.WALL, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}
