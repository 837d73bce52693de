package seccomp

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompMode returns the "Seccomp:" line of /proc/thread-self/status.
func seccompMode(t *testing.T) string {
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		t.Error(err)
		return ""
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("Seccomp:")); ok {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}

// onFilteredThread runs fn on a fresh OS thread with prog installed
// (without TSYNC, so only that thread is filtered). The goroutine exits
// locked, so the runtime discards the thread afterwards.
func onFilteredThread(t *testing.T, prog []unix.SockFilter, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies with us
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			t.Errorf("PR_SET_NO_NEW_PRIVS: %v", err)
			return
		}
		if err := Install(prog, 0); err != nil {
			t.Errorf("Install: %v", err)
			return
		}
		if got := seccompMode(t); got != "2" {
			t.Errorf("filtered thread: Seccomp: %q, want 2", got)
		}
		fn()
	}()
	<-done
}

func TestInstallThreadLocal(t *testing.T) {
	prog, err := Build(Policy{Traced: []int{unix.SYS_GETPPID}})
	if err != nil {
		t.Fatal(err)
	}
	ppid := os.Getppid()
	onFilteredThread(t, prog, func() {
		// RET_TRACE without a tracer: the call is skipped with ENOSYS.
		r, _, errno := unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
		if errno != unix.ENOSYS {
			t.Errorf("getppid on the filtered thread = %d, %v; want ENOSYS", r, errno)
		}
		r, _, errno = unix.RawSyscall(unix.SYS_GETPID, 0, 0, 0)
		if errno != 0 || int(r) != os.Getpid() {
			t.Errorf("getpid on the filtered thread = %d, %v; want %d", r, errno, os.Getpid())
		}
	})
	// Other threads are not filtered.
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if got := seccompMode(t); got != "0" {
			t.Errorf("other thread: Seccomp: %q, want 0", got)
		}
		r, _, errno := unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
		if errno != 0 || int(r) != ppid {
			t.Errorf("getppid on another thread = %d, %v; want %d", r, errno, ppid)
		}
	}()
	<-done
}

// TestInstallForeign checks the x32 path in the kernel: with
// ForeignAction set to an errno, x32-numbered calls and out-of-range
// numbers are refused with that errno rather than run or reported as the
// kernel's own ENOSYS.
func TestInstallForeign(t *testing.T) {
	const refused = unix.EXDEV
	prog, err := Build(Policy{
		Traced:        []int{unix.SYS_GETPPID},
		ForeignAction: unix.SECCOMP_RET_ERRNO | uint32(refused),
	})
	if err != nil {
		t.Fatal(err)
	}
	onFilteredThread(t, prog, func() {
		for _, nr := range []uintptr{X32Bit | unix.SYS_GETPID, X32Bit + 512, 0x7fffffff, ^uintptr(0)} {
			r, _, errno := unix.RawSyscall(nr, 0, 0, 0)
			if errno != refused {
				t.Errorf("syscall %#x = %d, %v; want %v", nr, r, errno, refused)
			}
		}
		if _, _, errno := unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0); errno != unix.ENOSYS {
			t.Errorf("getppid = %v, want ENOSYS", errno)
		}
		if r, _, errno := unix.RawSyscall(unix.SYS_GETPID, 0, 0, 0); errno != 0 || int(r) != os.Getpid() {
			t.Errorf("getpid = %d, %v", r, errno)
		}
	})
}

// TestProgRaw installs through Prog and a raw system call, the way the
// launcher's forked child does.
func TestProgRaw(t *testing.T) {
	prog, err := Build(Policy{Traced: []int{unix.SYS_GETPPID}})
	if err != nil {
		t.Fatal(err)
	}
	fprog, err := Prog(prog)
	if err != nil {
		t.Fatal(err)
	}
	if int(fprog.Len) != len(prog) || fprog.Filter != &prog[0] {
		t.Fatalf("Prog = %+v", fprog)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			t.Error(err)
			return
		}
		_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(fprog)))
		if errno != 0 {
			t.Errorf("seccomp: %v", errno)
			return
		}
		if _, _, errno := unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0); errno != unix.ENOSYS {
			t.Errorf("getppid = %v, want ENOSYS", errno)
		}
	}()
	<-done
	runtime.KeepAlive(fprog)
}

func TestInstallErrors(t *testing.T) {
	if err := Install(nil, 0); err == nil {
		t.Error("Install(nil) succeeded")
	}
	var pe *ProgramError
	if _, err := Prog([]unix.SockFilter{ldImm(0)}); !errors.As(err, &pe) {
		t.Errorf("Prog(no RET) = %v", err)
	}
	if err := Install([]unix.SockFilter{ret(unix.SECCOMP_RET_ALLOW)}, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER); err == nil {
		t.Error("Install with NEW_LISTENER succeeded")
	}
}
