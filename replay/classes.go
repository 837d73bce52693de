package replay

import (
	"fmt"
	"strings"

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

	Default = Time | Random | Pid | Uname | Proc | Net | Input | Poll
	All     = Default | File
)

var classNames = []struct {
	name string
	c    Classes
}{
	{"time", Time}, {"random", Random}, {"pid", Pid}, {"uname", Uname}, {"proc", Proc},
	{"net", Net}, {"input", Input}, {"poll", Poll}, {"file", File},
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
	fTime    uint16 = 1 << iota // Time class
	fRandom                     // Random class (getrandom)
	fPidRet                     // returns a pid of the caller's family: emulated in Pid
	fUname                      // Uname class
	fPoll                       // Poll class
	fRead                       // reads data from its fd (arg 0) into memory
	fWrite                      // writes data to its fd (arg 0)
	fSock                       // other socket calls on fd arg 0 whose outcome the peer decides
	fAccept                     // accept, accept4
	fFork                       // returns a new pid
	fWait                       // wait4: the pid it reaps
	fPidArgs                    // has pid arguments (see pidArgs)
	fSocket                     // creates a socket
	fNoise                      // its count depends on timing (see isNoise)
	fFDInfo                     // asks what its fd (arg 0) is: fstat, ioctl, lseek
)

var callFlags [512]uint16

// pidArgs lists, for calls with fPidArgs, which arguments are pids.
var pidArgs = map[int][]int{
	unix.SYS_KILL: {0}, unix.SYS_TKILL: {0}, unix.SYS_TGKILL: {0, 1},
	unix.SYS_RT_SIGQUEUEINFO: {0}, unix.SYS_RT_TGSIGQUEUEINFO: {0, 1},
	unix.SYS_SETPGID: {0, 1}, unix.SYS_GETPGID: {0}, unix.SYS_GETSID: {0},
	unix.SYS_SCHED_SETAFFINITY: {0}, unix.SYS_SCHED_GETAFFINITY: {0},
	unix.SYS_SCHED_SETPARAM: {0}, unix.SYS_SCHED_GETPARAM: {0},
	unix.SYS_SCHED_SETSCHEDULER: {0}, unix.SYS_SCHED_GETSCHEDULER: {0},
	unix.SYS_PRLIMIT64: {0}, unix.SYS_PIDFD_OPEN: {0},
	unix.SYS_PROCESS_VM_READV: {0}, unix.SYS_PROCESS_VM_WRITEV: {0},
}

func init() {
	set := func(f uint16, nrs ...int) {
		for _, nr := range nrs {
			callFlags[nr] |= f
		}
	}
	set(fTime, unix.SYS_CLOCK_GETTIME, unix.SYS_GETTIMEOFDAY, unix.SYS_TIME, unix.SYS_CLOCK_NANOSLEEP,
		unix.SYS_NANOSLEEP, unix.SYS_TIMES, unix.SYS_GETRUSAGE, unix.SYS_SYSINFO, unix.SYS_CLOCK_GETRES)
	set(fRandom, unix.SYS_GETRANDOM)
	set(fPidRet, unix.SYS_GETPID, unix.SYS_GETPPID, unix.SYS_GETTID, unix.SYS_SET_TID_ADDRESS,
		unix.SYS_GETPGRP)
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
	set(fFork, unix.SYS_FORK, unix.SYS_VFORK, unix.SYS_CLONE, unix.SYS_CLONE3)
	set(fWait, unix.SYS_WAIT4)
	set(fSocket, unix.SYS_SOCKET)
	set(fFDInfo, unix.SYS_FSTAT, unix.SYS_NEWFSTATAT, unix.SYS_STATX, unix.SYS_IOCTL, unix.SYS_LSEEK,
		unix.SYS_FSTATFS)
	set(fNoise, unix.SYS_FUTEX, unix.SYS_NANOSLEEP, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_SCHED_YIELD,
		unix.SYS_CLOCK_GETTIME, unix.SYS_TGKILL, unix.SYS_GETPID, unix.SYS_RT_SIGRETURN,
		unix.SYS_EPOLL_WAIT, unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2,
		// What a thread does around starting or parking a thread, and the
		// runtime's periodic look at its CPU limits.
		unix.SYS_RT_SIGPROCMASK, unix.SYS_SIGALTSTACK, unix.SYS_GETTID, unix.SYS_SCHED_GETAFFINITY,
		unix.SYS_MADVISE, unix.SYS_MUNMAP)
	for nr := range pidArgs {
		callFlags[nr] |= fPidArgs
	}
}
