package replay

import (
	"fmt"
	"strings"

	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// Classes is a set of kinds of syscalls whose results replay emulates from
// the recording instead of running them.
type Classes uint16

// The emulation classes. Default holds the ones whose outcome is
// nondeterministic by nature; File is extra.
const (
	Time   Classes = 1 << iota // clocks, sleeps, times, getrusage, sysinfo
	Random                     // getrandom, reads of /dev/urandom and /dev/random
	Pid                        // getpid and friends; pids in arguments and results are translated
	Uname                      // uname
	Proc                       // reads of files under /proc and /sys
	Net                        // the data side of sockets: connect, accept, send, recv, read/write
	Input                      // reads of descriptors inherited from outside (stdin, a pipe, a tty), and fstat, ioctl, lseek on them
	Poll                       // poll, select, epoll_wait: readiness depends on timing
	File                       // reads of regular files (not default: files replay for real)
	Meta                       // stat and statfs of files, listings of directories: identity a view cannot give back

	Default = Time | Random | Pid | Uname | Proc | Net | Input | Poll | Meta
	All     = Default | File
)

var classNames = []struct {
	name string
	c    Classes
}{
	{"time", Time}, {"random", Random}, {"pid", Pid}, {"uname", Uname}, {"proc", Proc},
	{"net", Net}, {"input", Input}, {"poll", Poll}, {"file", File}, {"meta", Meta},
}

// ParseClasses parses --emulate: a comma-separated list of class names
// added to the default set; "none" clears the default first, "all" adds
// every class, and "-NAME" removes one.
func ParseClasses(s string) (Classes, error) {
	c := Default
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		remove := strings.HasPrefix(f, "-")
		f = strings.TrimPrefix(f, "-")
		switch f {
		case "":
			if remove {
				return 0, fmt.Errorf("emulation class missing after -")
			}
			continue
		case "none":
			c = 0
			continue
		case "all":
			c = All
			continue
		}
		found := false
		for _, n := range classNames {
			if n.name == f {
				if remove {
					c &^= n.c
				} else {
					c |= n.c
				}
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown emulation class %q (want none, all or %s)", f, classList())
		}
	}
	return c, nil
}

func classList() string {
	var names []string
	for _, n := range classNames {
		names = append(names, n.name)
	}
	return strings.Join(names, ", ")
}

// String lists the classes in c.
func (c Classes) String() string {
	var names []string
	for _, n := range classNames {
		if c&n.c != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// What replay needs to know of a syscall, by x86_64 number.
const (
	fTime      uint16 = 1 << iota // Time class
	fRandom                       // Random class (getrandom)
	fPidRet                       // returns a pid of the caller's family: emulated in Pid
	fUname                        // Uname class
	fPoll                         // Poll class
	fRead                         // reads data from its fd (arg 0) into memory
	fWrite                        // writes data to its fd (arg 0)
	fSock                         // other socket calls on fd arg 0 whose outcome the peer decides
	fAccept                       // accept, accept4
	fPidResult                    // returns a pid: fork, clone, wait4, setsid, getsid, getpgid
	fWait                         // wait4: the pid it reaps
	fPidArgs                      // has pid arguments (see pidArgs)
	fSocket                       // creates a socket
	fNoise                        // its count depends on timing (see isNoise)
	fFDInfo                       // asks what its fd (arg 0) is: fstat, ioctl, lseek
	fMeta                         // stat, statfs or a directory listing of a file (Meta class)
)

var callFlags [512]uint16

// pidArgIndexes returns which arguments of a call with fPidArgs are pids.
func pidArgIndexes(nr int, args *[6]uint64) []int {
	switch nr {
	case unix.SYS_TGKILL, unix.SYS_RT_TGSIGQUEUEINFO, unix.SYS_SETPGID:
		return pidArgs01
	case unix.SYS_WAITID:
		if args[0] == unix.P_PID || args[0] == unix.P_PGID {
			return pidArgs1
		}
		return nil
	}
	return pidArgs0
}

var (
	pidArgs0  = []int{0}
	pidArgs1  = []int{1}
	pidArgs01 = []int{0, 1}
)

func init() {
	set := func(f uint16, nrs ...int) {
		for _, nr := range nrs {
			callFlags[nr] |= f
		}
	}
	set(fTime, unix.SYS_CLOCK_GETTIME, unix.SYS_GETTIMEOFDAY, unix.SYS_TIME, unix.SYS_CLOCK_NANOSLEEP,
		unix.SYS_NANOSLEEP, unix.SYS_TIMES, unix.SYS_GETRUSAGE, unix.SYS_SYSINFO, unix.SYS_CLOCK_GETRES)
	set(fRandom, unix.SYS_GETRANDOM)
	set(fPidRet, unix.SYS_GETPID, unix.SYS_GETPPID, unix.SYS_GETTID, unix.SYS_GETPGRP)
	set(fUname, unix.SYS_UNAME)
	set(fPoll, unix.SYS_POLL, unix.SYS_PPOLL, unix.SYS_SELECT, unix.SYS_PSELECT6, unix.SYS_EPOLL_WAIT,
		unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2)
	set(fRead, unix.SYS_READ, unix.SYS_PREAD64, unix.SYS_READV, unix.SYS_PREADV, unix.SYS_PREADV2,
		unix.SYS_RECVFROM, unix.SYS_RECVMSG, unix.SYS_RECVMMSG, unix.SYS_GETDENTS64, unix.SYS_GETDENTS)
	set(fWrite, unix.SYS_WRITE, unix.SYS_PWRITE64, unix.SYS_WRITEV, unix.SYS_PWRITEV, unix.SYS_PWRITEV2,
		unix.SYS_SENDTO, unix.SYS_SENDMSG, unix.SYS_SENDMMSG)
	set(fSock, unix.SYS_CONNECT, unix.SYS_GETPEERNAME, unix.SYS_GETSOCKNAME, unix.SYS_GETSOCKOPT,
		unix.SYS_SHUTDOWN)
	set(fAccept, unix.SYS_ACCEPT, unix.SYS_ACCEPT4)
	// set_tid_address must run (it sets the tid the kernel clears and
	// wakes at exit, which pthread_join waits on): only its result, the
	// caller's tid, is translated.
	set(fPidResult, unix.SYS_FORK, unix.SYS_VFORK, unix.SYS_CLONE, unix.SYS_CLONE3, unix.SYS_WAIT4,
		unix.SYS_SETSID, unix.SYS_GETSID, unix.SYS_GETPGID, unix.SYS_SET_TID_ADDRESS)
	set(fWait, unix.SYS_WAIT4)
	set(fSocket, unix.SYS_SOCKET)
	set(fMeta, unix.SYS_STAT, unix.SYS_LSTAT, unix.SYS_FSTAT, unix.SYS_NEWFSTATAT, unix.SYS_STATX,
		unix.SYS_GETDENTS64, unix.SYS_GETDENTS, unix.SYS_STATFS, unix.SYS_FSTATFS)
	set(fFDInfo, unix.SYS_FSTAT, unix.SYS_NEWFSTATAT, unix.SYS_STATX, unix.SYS_IOCTL, unix.SYS_LSEEK,
		unix.SYS_FSTATFS, unix.SYS_FCNTL, unix.SYS_FADVISE64)
	set(fNoise, unix.SYS_FUTEX, unix.SYS_NANOSLEEP, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_SCHED_YIELD,
		unix.SYS_CLOCK_GETTIME, unix.SYS_TGKILL, unix.SYS_GETPID, unix.SYS_RT_SIGRETURN,
		unix.SYS_EPOLL_WAIT, unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2,
		// What a thread does around starting or parking a thread, and the
		// runtime's periodic look at its CPU limits.
		unix.SYS_RT_SIGPROCMASK, unix.SYS_SIGALTSTACK, unix.SYS_GETTID, unix.SYS_SCHED_GETAFFINITY,
		unix.SYS_MADVISE, unix.SYS_MUNMAP,
		// A sleep a signal interrupted is restarted as restart_syscall.
		unix.SYS_RESTART_SYSCALL)
	set(fPidArgs, unix.SYS_KILL, unix.SYS_TKILL, unix.SYS_TGKILL, unix.SYS_RT_SIGQUEUEINFO,
		unix.SYS_RT_TGSIGQUEUEINFO, unix.SYS_SETPGID, unix.SYS_GETPGID, unix.SYS_GETSID,
		unix.SYS_SCHED_SETAFFINITY, unix.SYS_SCHED_GETAFFINITY, unix.SYS_SCHED_SETPARAM,
		unix.SYS_SCHED_GETPARAM, unix.SYS_SCHED_SETSCHEDULER, unix.SYS_SCHED_GETSCHEDULER,
		unix.SYS_PRLIMIT64, unix.SYS_PIDFD_OPEN, unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV,
		unix.SYS_WAITID)
}

// isNoise reports whether a call is one whose number of occurrences in a
// thread depends on timing: the lock, sleep and clock calls of a runtime's
// scheduler (Go's sysmon, idle Ms, preemption signals), thread starts,
// anonymous memory. Where a thread's calls and the recording's differ only
// by such calls, replay lets them float instead of calling it a
// divergence; a call that matches is still emulated or compared as usual.
func isNoise(a abi.Arch, nr int, args *[6]uint64) bool {
	if a != abi.ArchX86_64 || nr < 0 || nr >= len(callFlags) {
		return false
	}
	switch nr {
	case unix.SYS_CLONE:
		// A runtime starts threads when it finds work waiting.
		return args[0]&unix.CLONE_THREAD != 0
	case unix.SYS_MMAP:
		// Anonymous memory: heaps grow when a collector running beside
		// the program says so.
		return args[3]&unix.MAP_ANONYMOUS != 0
	}
	return callFlags[nr]&fNoise != 0
}

// isValued reports whether a noise call returns a value the program uses
// (its ids): such a call is matched, not skipped, where it can be.
func isValued(a abi.Arch, nr int) bool {
	return a == abi.ArchX86_64 && (nr == unix.SYS_GETPID || nr == unix.SYS_GETTID)
}

// kernelRead reports whether a call reads kernel state under /proc or
// /sys: one with no counterpart may go unmatched (a runtime's periodic
// look at its cgroup limits), as scheduling calls do.
func (rp *Replayer) kernelRead(sc *tracer.Syscall) bool {
	return sc.Arch == abi.ArchX86_64 && callFlags[sc.Nr]&fRead != 0 &&
		rp.fdClass(sc.Thread.Proc.FDPath(int(int32(sc.Args[0])))) == Proc
}
