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

// What replay needs to know of a syscall: the generated table's facts
// (abi.ReplayFacts, from tracer/abi/internal/mkabi/spec_replay.go), by
// x86_64 number, under shorter names.
const (
	fTime      = abi.ReplayTime
	fRandom    = abi.ReplayRandom
	fPidRet    = abi.ReplayPidRet
	fUname     = abi.ReplayUname
	fPoll      = abi.ReplayPoll
	fRead      = abi.ReplayRead
	fWrite     = abi.ReplayWrite
	fSock      = abi.ReplaySock
	fAccept    = abi.ReplayAccept
	fPidResult = abi.ReplayPidResult
	fWait      = abi.ReplayWait
	fPidArgs   = abi.ReplayPidArgs
	fSocket    = abi.ReplaySocket
	fNoise     = abi.ReplayNoise
	fFDInfo    = abi.ReplayFDInfo
	fMeta      = abi.ReplayMeta
	fVisible   = abi.ReplayVisible
	fTimeSet   = abi.ReplayTimeSet
)

var callFlags [512]abi.ReplayFacts

func init() {
	for _, sc := range abi.All() {
		if sc.Nr >= 0 && sc.Nr < len(callFlags) {
			callFlags[sc.Nr] = sc.Replay
		}
	}
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
