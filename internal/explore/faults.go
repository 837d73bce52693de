package explore

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// Kind is what a fault does to the call it lands on.
type Kind uint8

// The kinds of fault.
const (
	Errno Kind = iota // the call fails with Fault.Errno without running
	Short             // the call runs with its byte count halved: a short read or write
	Crash             // the process is killed with SIGKILL at the call
	Delay             // the call is held for Fault.Delay before it runs
)

// Fault is one fault explore can inject into a call.
type Fault struct {
	Kind  Kind
	Errno int           // for Errno
	Delay time.Duration // for Delay
}

// String is the fault as --faults spells it: ENOSPC, short, crash,
// delay=10ms.
func (f Fault) String() string {
	switch f.Kind {
	case Short:
		return "short"
	case Crash:
		return "crash"
	case Delay:
		return "delay=" + f.Delay.String()
	}
	return abi.ErrnoName(f.Errno)
}

// parseFault parses one fault of --faults.
func parseFault(s string) (Fault, error) {
	switch {
	case s == "short":
		return Fault{Kind: Short}, nil
	case s == "crash":
		return Fault{Kind: Crash}, nil
	case strings.HasPrefix(s, "delay="):
		d, err := time.ParseDuration(strings.TrimPrefix(s, "delay="))
		if err != nil || d <= 0 || d > time.Hour {
			return Fault{}, fmt.Errorf("fault %q: want delay=DURATION, e.g. delay=50ms, at most 1h", s)
		}
		return Fault{Kind: Delay, Delay: d}, nil
	}
	if e, ok := abi.ErrnoByName(strings.ToUpper(s)); ok {
		return Fault{Kind: Errno, Errno: e}, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= abi.MaxErrno {
		return Fault{Kind: Errno, Errno: n}, nil
	}
	return Fault{}, fmt.Errorf("unknown fault %q: want an errno name (ENOSPC, EIO, ...), short, crash or delay=DURATION", s)
}

// Space is the fault space: the faults to try on each syscall (x86_64
// numbers). Own reports whether a call's path must be one of the
// program's own files (not the dynamic loader's, /proc, /sys or /dev).
type Space struct {
	faults [][]Fault
	own    bool
}

// Faults returns the faults of syscall nr.
func (s *Space) Faults(nr int) []Fault {
	if s == nil || nr < 0 || nr >= len(s.faults) {
		return nil
	}
	return s.faults[nr]
}

func (s *Space) add(nr int, fs ...Fault) {
	if nr < 0 {
		return
	}
	if nr >= len(s.faults) {
		s.faults = slices.Grow(s.faults, nr+1-len(s.faults))[:nr+1]
	}
	for _, f := range fs {
		if f.Kind == Short && !shortable(nr) {
			continue
		}
		if !slices.Contains(s.faults[nr], f) {
			s.faults[nr] = append(s.faults[nr], f)
		}
	}
}

// Empty reports whether the space has no fault at all.
func (s *Space) Empty() bool {
	for _, fs := range s.faults {
		if len(fs) > 0 {
			return false
		}
	}
	return true
}

// shortable reports whether a call has a plain byte count to lower.
func shortable(nr int) bool {
	switch nr {
	case unix.SYS_READ, unix.SYS_WRITE, unix.SYS_PREAD64, unix.SYS_PWRITE64, unix.SYS_RECVFROM, unix.SYS_SENDTO:
		return true
	}
	return false
}

func errnos(names ...unix.Errno) []Fault {
	out := make([]Fault, len(names))
	for i, e := range names {
		out[i] = Fault{Kind: Errno, Errno: int(e)}
	}
	return out
}

var (
	crash = Fault{Kind: Crash}
	short = Fault{Kind: Short}
)

// DefaultTable is the default fault space: the faults each kind of call
// really gets, on the program's own files. README's "Chaos tests in CI"
// prints the same table.
var DefaultTable = []struct {
	Calls  []int
	Faults []Fault
}{
	{[]int{unix.SYS_OPEN, unix.SYS_OPENAT, unix.SYS_OPENAT2, unix.SYS_CREAT}, errnos(unix.ENOENT, unix.EACCES, unix.EMFILE)},
	{[]int{unix.SYS_READ, unix.SYS_PREAD64, unix.SYS_READV, unix.SYS_PREADV, unix.SYS_PREADV2}, append(errnos(unix.EIO), short)},
	{[]int{unix.SYS_WRITE, unix.SYS_PWRITE64, unix.SYS_WRITEV, unix.SYS_PWRITEV, unix.SYS_PWRITEV2}, append(errnos(unix.ENOSPC, unix.EIO, unix.EDQUOT), short, crash)},
	{[]int{unix.SYS_FSYNC, unix.SYS_FDATASYNC}, append(errnos(unix.EIO), crash)},
	{[]int{unix.SYS_RENAME, unix.SYS_RENAMEAT, unix.SYS_RENAMEAT2}, append(errnos(unix.EACCES, unix.ENOSPC), crash)},
	{[]int{unix.SYS_UNLINK, unix.SYS_UNLINKAT, unix.SYS_MKDIR, unix.SYS_MKDIRAT}, errnos(unix.EACCES, unix.ENOSPC)},
	{[]int{unix.SYS_CONNECT}, errnos(unix.ECONNREFUSED, unix.ETIMEDOUT)},
	{[]int{unix.SYS_SENDTO, unix.SYS_SENDMSG, unix.SYS_SENDMMSG, unix.SYS_RECVFROM, unix.SYS_RECVMSG, unix.SYS_RECVMMSG}, errnos(unix.ECONNRESET, unix.EPIPE)},
	{[]int{unix.SYS_MMAP, unix.SYS_BRK}, errnos(unix.ENOMEM)},
	{[]int{unix.SYS_CLONE, unix.SYS_CLONE3, unix.SYS_FORK, unix.SYS_VFORK}, errnos(unix.EAGAIN)},
}

// DefaultSpace returns the default fault space (DefaultTable, on the
// program's own files).
func DefaultSpace() *Space {
	s := &Space{own: true}
	for _, row := range DefaultTable {
		for _, nr := range row.Calls {
			s.add(nr, row.Faults...)
		}
	}
	return s
}

// ParseFaults parses --faults values into a space. Each value is one or
// more items separated by ";":
//
//	SET:FAULT[,FAULT...]   the faults for the calls of SET
//	default                the default table
//
// SET is strace's -e trace= syntax for one name, %class or /regex
// (write, %file, /^pwrite); FAULT is an errno name or number, short,
// crash or delay=DURATION. An empty list means the default table. The
// default table keeps to the program's own files; a space given here
// covers every path unless it includes "default".
func ParseFaults(values []string) (*Space, error) {
	if len(values) == 0 {
		return DefaultSpace(), nil
	}
	s := &Space{}
	for _, v := range values {
		for item := range strings.SplitSeq(v, ";") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			if item == "default" {
				d := DefaultSpace()
				for nr, fs := range d.faults {
					s.add(nr, fs...)
				}
				s.own = true
				continue
			}
			set, list, ok := strings.Cut(item, ":")
			if !ok || set == "" || list == "" {
				return nil, fmt.Errorf("--faults %q: want SET:FAULT[,FAULT...] (e.g. write:ENOSPC,short) or default", item)
			}
			calls, err := abi.Select(set)
			if err != nil || len(calls) == 0 {
				return nil, fmt.Errorf("--faults %q: unknown syscall or class %q", item, set)
			}
			var fs []Fault
			for name := range strings.SplitSeq(list, ",") {
				f, err := parseFault(strings.TrimSpace(name))
				if err != nil {
					return nil, fmt.Errorf("--faults %q: %w", item, err)
				}
				fs = append(fs, f)
			}
			for _, c := range calls {
				for _, f := range fs {
					if f.Kind == Short && !shortable(c.Nr) {
						if len(calls) == 1 {
							return nil, fmt.Errorf("--faults %q: %s has no byte count to shorten", item, c.Name)
						}
						continue
					}
					s.add(c.Nr, f)
				}
			}
		}
	}
	if s.Empty() {
		return nil, fmt.Errorf("--faults: no fault chosen")
	}
	return s, nil
}
