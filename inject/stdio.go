package inject

import (
	"strconv"

	"github.com/hermes-trace/hermes/tracer"
	"golang.org/x/sys/unix"
)

// fileID names an open file by device and inode.
type fileID struct{ dev, ino uint64 }

// fdFile returns the file behind fd of process pid.
func fdFile(pid, fd int) (fileID, bool) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/fd/"+strconv.Itoa(fd), &st); err != nil {
		return fileID{}, false
	}
	return fileID{st.Dev, st.Ino}, true
}

// stdioFiles are the files behind the standard descriptors (0, 1, 2) the
// run's first process started with: what hermes's caller gave it, such as a
// terminal, a pipe to a CI log, or a file in /tmp that stderr goes to.
// Policies leave them alone by default, so that a program's own error
// message reaches its reader.
type stdioFiles struct {
	known bool
	files []fileID
}

// capture notes the standard descriptors of p, once.
func (s *stdioFiles) capture(p *tracer.Process) {
	if s.known {
		return
	}
	s.known = true
	for fd := 0; fd <= 2; fd++ {
		if id, ok := fdFile(p.Pid, fd); ok {
			s.files = append(s.files, id)
		}
	}
}

// process notes the standard descriptors at the first process's exec,
// before the program runs.
func (s *stdioFiles) process(pev *tracer.ProcessEvent) {
	if pev.Kind == tracer.EventExec && pev.Thread != nil && pev.Thread.Proc.Parent == nil {
		s.capture(pev.Thread.Proc)
	}
}

// has reports whether fd of sc's process is one of the standard files. An
// attached run, whose first process did not exec under hermes, takes them
// from that process when first asked.
func (s *stdioFiles) has(sc *tracer.Syscall, fd int) bool {
	if fd < 0 {
		return false
	}
	if !s.known {
		root := sc.Thread.Proc
		for root.Parent != nil {
			root = root.Parent
		}
		s.capture(root)
	}
	if len(s.files) == 0 {
		return false
	}
	id, ok := fdFile(sc.Pid(), fd)
	if !ok {
		return false
	}
	for _, f := range s.files {
		if f == id {
			return true
		}
	}
	return false
}
