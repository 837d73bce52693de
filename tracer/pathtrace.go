package tracer

import (
	"os"
	"strconv"
	"strings"

	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// pathSet is strace's -P: the calls that name one of the paths, as a
// path argument or through a descriptor open on it, decided as the call
// is made with strace's rules (which arguments of which calls are looked
// at).
type pathSet struct {
	paths []string
	buf   []byte
}

// PathClasses are the classes a call must be in for -P to select it.
const PathClasses = abi.ClassFile | abi.ClassDesc | abi.ClassNetwork

// pathArgs says where a call keeps its paths and descriptors: the
// argument indexes of each, -1 for none.
type pathArgs struct{ fds, paths [2]int8 }

var noArgs = [2]int8{-1, -1}

// pathRules are the calls strace does not judge by their first argument.
var pathRules = map[string]pathArgs{}

func init() {
	add := func(fds, paths [2]int8, names ...string) {
		for _, n := range names {
			pathRules[n] = pathArgs{fds, paths}
		}
	}
	add([2]int8{0, 1}, noArgs, "dup2", "dup3", "kexec_file_load", "sendfile", "tee")
	add([2]int8{0, -1}, [2]int8{1, -1}, "execveat", "faccessat", "faccessat2", "fchmodat", "fchmodat2",
		"fchownat", "fspick", "futimesat", "getxattrat", "inotify_add_watch", "mkdirat", "mknodat",
		"mount_setattr", "name_to_handle_at", "newfstatat", "open_tree", "openat", "openat2", "readlinkat",
		"setxattrat", "statx", "unlinkat", "utimensat")
	add(noArgs, [2]int8{0, 1}, "link", "mount", "pivot_root")
	add(noArgs, [2]int8{1, -1}, "quotactl", "symlink")
	add([2]int8{0, 2}, [2]int8{1, 3}, "linkat", "move_mount", "renameat2", "renameat")
	add([2]int8{4, -1}, noArgs, "mmap")
	add([2]int8{1, -1}, [2]int8{2, -1}, "symlinkat")
	add([2]int8{0, 2}, noArgs, "copy_file_range", "splice")
	add([2]int8{2, -1}, noArgs, "epoll_ctl")
	add([2]int8{3, -1}, [2]int8{4, -1}, "fanotify_mark")
	// Calls that make descriptors have none to look at.
	add(noArgs, noArgs, "bpf", "epoll_create", "epoll_create1", "eventfd2", "eventfd", "fanotify_init",
		"fsopen", "inotify_init", "inotify_init1", "io_uring_setup", "landlock_create_ruleset",
		"memfd_create", "memfd_secret", "mq_open", "perf_event_open", "pidfd_open", "pipe", "pipe2",
		"socket", "socketpair", "timerfd_create", "userfaultfd")
}

// newPathSet returns the set of paths, each with its canonical form.
func newPathSet(paths []string) *pathSet {
	ps := &pathSet{buf: make([]byte, 0, 4097)}
	for _, p := range paths {
		ps.add(p)
	}
	return ps
}

func (ps *pathSet) add(p string) {
	for _, q := range ps.paths {
		if q == p {
			return
		}
	}
	ps.paths = append(ps.paths, p)
}

func (ps *pathSet) has(p string) bool {
	for _, q := range ps.paths {
		if q == p {
			return true
		}
	}
	return false
}

// matches reports whether the call sc, at its entry, names a path of the
// set.
func (ps *pathSet) matches(sc *Syscall) bool {
	info := sc.Info
	if info == nil || !info.In(PathClasses) {
		return false
	}
	var r pathArgs
	switch info.Name {
	case "select", "pselect6":
		return ps.selectMatch(sc)
	case "poll", "ppoll":
		return ps.pollMatch(sc)
	case "fsconfig":
		switch sc.Args[1] {
		case 3, 4: // FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY
			r = pathArgs{[2]int8{4, -1}, [2]int8{3, -1}}
		case 5: // FSCONFIG_SET_FD
			r = pathArgs{[2]int8{4, -1}, noArgs}
		default:
			return false
		}
	default:
		var ok bool
		if r, ok = pathRules[info.Name]; !ok {
			switch {
			case info.In(abi.ClassFile):
				r = pathArgs{noArgs, [2]int8{0, -1}}
			default:
				r = pathArgs{[2]int8{0, -1}, noArgs}
			}
		}
	}
	for _, i := range r.fds {
		if i >= 0 && ps.fdMatch(sc.Pid(), int(int32(sc.Args[i]))) {
			return true
		}
	}
	for _, i := range r.paths {
		if i >= 0 && ps.pathMatch(sc, sc.Args[i]) {
			return true
		}
	}
	return false
}

// pathMatch reads the path at addr and looks it up.
func (ps *pathSet) pathMatch(sc *Syscall, addr uint64) bool {
	if addr == 0 {
		return false
	}
	s, complete, _ := decode.ReadString(sc.Mem(), addr, 4096, ps.buf)
	if cap(s) > cap(ps.buf) {
		ps.buf = s[:0]
	}
	return complete && len(s) > 0 && ps.has(string(s))
}

// fdMatch looks up what fd of process pid is open on, as strace does:
// without the " (deleted)" of a file that is gone.
func (ps *pathSet) fdMatch(pid, fd int) bool {
	if fd < 0 {
		return false
	}
	link := "/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(fd)
	target, err := os.Readlink(link)
	if err != nil {
		return false
	}
	if p, ok := strings.CutSuffix(target, " (deleted)"); ok {
		var sl, sp unix.Stat_t
		if unix.Stat(link, &sl) == nil && (unix.Lstat(p, &sp) != nil || sl.Ino != sp.Ino || sl.Dev != sp.Dev) {
			target = p
		}
	}
	return ps.has(target)
}

// selectMatch looks at the descriptors of select's three sets.
func (ps *pathSet) selectMatch(sc *Syscall) bool {
	nfds := int(int32(sc.Args[0]))
	if nfds <= 0 {
		return false
	}
	nfds = min(nfds, 1024*1024)
	size := (nfds + 63) / 64 * 8
	set := make([]byte, size)
	for i := 1; i <= 3; i++ {
		if sc.Args[i] == 0 {
			continue
		}
		if n, _ := sc.Mem().ReadAt(set, sc.Args[i]); n != size {
			continue
		}
		for fd := 0; fd < nfds; fd++ {
			if set[fd/8]&(1<<(fd%8)) != 0 && ps.fdMatch(sc.Pid(), fd) {
				return true
			}
		}
	}
	return false
}

// pollMatch looks at the descriptors of a pollfd array.
func (ps *pathSet) pollMatch(sc *Syscall) bool {
	n := min(uint32(sc.Args[1]), 1024*1024)
	var b [8]byte
	for i := uint32(0); i < n; i++ {
		if k, _ := sc.Mem().ReadAt(b[:], sc.Args[0]+8*uint64(i)); k != 8 {
			break
		}
		if ps.fdMatch(sc.Pid(), int(int32(uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16|uint32(b[3])<<24))) {
			return true
		}
	}
	return false
}
