package tracer

import (
	"os"
	"strconv"
	"strings"

	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// fdNamer names descriptors for the Printer's -y and -yy, as strace does:
// what /proc/PID/fd/N links to, "(deleted)" after a file that is gone,
// the device number of a device (-yy) and the endpoints of a socket (-yy).
// The descriptors a call passes are named when it is made (close(3</x>)
// still names 3); those it returns when it returns.
type fdNamer struct {
	pid   int      // the calling process
	names []fdName // the current call's descriptors, named at entry
	yy    bool
	socks *sockNames
	buf   []byte
}

type fdName struct {
	fd   int
	text string // the whole decoration: "</path>", "</path>(deleted)"
}

var _ decode.FDNamer = (*fdNamer)(nil)

// AppendFDName implements decode.FDNamer.
func (n *fdNamer) AppendFDName(dst []byte, fd int, fresh bool) []byte {
	if !fresh {
		for _, e := range n.names {
			if e.fd == fd {
				return append(dst, e.text...)
			}
		}
	}
	return append(dst, n.name(n.pid, fd)...)
}

// snapshot names the descriptors the call c of process pid passes, into
// names (reusing its storage).
func (n *fdNamer) snapshot(pid int, c *decode.Call, names []fdName) []fdName {
	names = names[:0]
	decode.FDArgs(c, func(fd int) {
		if fd < 0 && fd != -100 {
			return
		}
		for _, e := range names {
			if e.fd == fd {
				return
			}
		}
		names = append(names, fdName{fd, n.name(pid, fd)})
	})
	return names
}

// name returns the decoration of fd in process pid ("" when fd is not
// open): -100 is the working directory.
func (n *fdNamer) name(pid int, fd int) string {
	if fd < 0 && fd != -100 {
		return ""
	}
	link := "/proc/" + strconv.Itoa(pid) + "/"
	if fd == -100 {
		link += "cwd"
	} else {
		link += "fd/" + strconv.Itoa(fd)
	}
	target, err := os.Readlink(link)
	if err != nil {
		return ""
	}
	deleted := false
	if p, ok := strings.CutSuffix(target, " (deleted)"); ok && strings.HasPrefix(target, "/") {
		// The kernel appends " (deleted)" to a file that is gone; a file
		// whose name really ends so is still there.
		var sl, sp unix.Stat_t
		if unix.Stat(link, &sl) == nil && (unix.Lstat(p, &sp) != nil || sl.Ino != sp.Ino || sl.Dev != sp.Dev) {
			target, deleted = p, true
		}
	}
	b := append(n.buf[:0], '<')
	switch {
	case n.yy && strings.HasPrefix(target, "socket:["):
		ino, err := strconv.ParseUint(strings.TrimSuffix(target[len("socket:["):], "]"), 10, 64)
		if details := n.socks.details(link, ino); err == nil && details != "" {
			b = append(b, details...) // strace prints them unescaped
		} else {
			b = decode.AppendFDPath(b, target)
		}
	default:
		b = decode.AppendFDPath(b, target)
		if n.yy && strings.HasPrefix(target, "/") {
			var st unix.Stat_t
			if unix.Stat(link, &st) == nil {
				switch st.Mode & unix.S_IFMT {
				case unix.S_IFCHR:
					b = appendDevice(b, "<char ", st.Rdev)
				case unix.S_IFBLK:
					b = appendDevice(b, "<block ", st.Rdev)
				}
			}
		}
	}
	b = append(b, '>')
	if deleted {
		b = append(b, "(deleted)"...)
	}
	n.buf = b
	return string(b)
}

// appendDevice appends -yy's device number: "<char 1:3>".
func appendDevice(b []byte, kind string, rdev uint64) []byte {
	b = append(b, kind...)
	b = strconv.AppendUint(b, uint64(unix.Major(rdev)), 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(unix.Minor(rdev)), 10)
	return append(b, '>')
}
