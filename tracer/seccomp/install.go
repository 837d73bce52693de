package seccomp

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Prog validates prog (see Validate) and returns the struct sock_fprog that
// seccomp(SECCOMP_SET_MODE_FILTER, flags, &fprog) takes. The result points
// into prog's backing array: keep it reachable (and prog unmodified) until
// the system call has returned, for instance in a forked child that may not
// allocate:
//
//	fprog, err := seccomp.Prog(prog) // before fork
//	...
//	unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0,
//		uintptr(unsafe.Pointer(fprog))) // in the child
//	...
//	runtime.KeepAlive(fprog)
func Prog(prog []unix.SockFilter) (*unix.SockFprog, error) {
	if err := Validate(prog); err != nil {
		return nil, err
	}
	return &unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}, nil
}

// Install loads prog as a seccomp filter on the calling thread (on all
// threads of the process with SECCOMP_FILTER_FLAG_TSYNC) with
// seccomp(SECCOMP_SET_MODE_FILTER, flags, &fprog). The caller must have set
// PR_SET_NO_NEW_PRIVS on this thread or hold CAP_SYS_ADMIN. A Go caller
// that installs a filter without TSYNC should do so on a goroutine that
// called runtime.LockOSThread and never unlocks it, so the filtered thread
// dies with the goroutine.
//
// SECCOMP_FILTER_FLAG_NEW_LISTENER is refused: Install would lose the
// listener descriptor; use Prog and a raw system call instead.
func Install(prog []unix.SockFilter, flags uintptr) error {
	if flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		return fmt.Errorf("seccomp: Install does not support SECCOMP_FILTER_FLAG_NEW_LISTENER")
	}
	fprog, err := Prog(prog)
	if err != nil {
		return err
	}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(fprog)))
	if errno != 0 {
		return fmt.Errorf("seccomp(SET_MODE_FILTER): %w", errno)
	}
	if r != 0 {
		// With TSYNC (and without TSYNC_ESRCH) a positive result is the id
		// of a thread that could not be synchronized.
		return fmt.Errorf("seccomp(SET_MODE_FILTER): thread %d could not be synchronized", r)
	}
	return nil
}
