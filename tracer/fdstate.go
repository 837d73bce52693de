package tracer

import (
	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// updateState applies a finished syscall to the fd table. New descriptors
// are forgotten rather than guessed (a relative path, a socket's inode): the
// next lookup resolves them from /proc while they are open.
func (t *Tracer) updateState(th *Thread) {
	sc := &th.sc
	if !t.cfg.TrackFDs || sc.Arch != abi.ArchX86_64 || sc.Ret < 0 {
		return
	}
	fds := th.Proc.FDs
	fd0 := int(int32(sc.Args[0]))
	ret := int(sc.Ret)
	switch sc.Nr {
	case unix.SYS_CLOSE:
		fds.Close(fd0)
	case unix.SYS_CLOSE_RANGE:
		first, last := uint32(sc.Args[0]), uint32(sc.Args[1])
		for fd, e := range fds.fds {
			if uint32(fd) >= first && uint32(fd) <= last {
				if sc.Args[2]&unix.CLOSE_RANGE_CLOEXEC != 0 {
					e.Cloexec = true
					fds.fds[fd] = e
				} else {
					delete(fds.fds, fd)
				}
			}
		}
	case unix.SYS_DUP, unix.SYS_DUP2:
		fds.Dup(fd0, ret, false)
	case unix.SYS_DUP3:
		fds.Dup(fd0, ret, sc.Args[2]&unix.O_CLOEXEC != 0)
	case unix.SYS_FCNTL:
		switch sc.Args[1] {
		case unix.F_DUPFD:
			fds.Dup(fd0, ret, false)
		case unix.F_DUPFD_CLOEXEC:
			fds.Dup(fd0, ret, true)
		case unix.F_SETFD:
			fds.SetCloexec(fd0, sc.Args[2]&unix.FD_CLOEXEC != 0)
		}
	case unix.SYS_PIPE, unix.SYS_PIPE2, unix.SYS_SOCKETPAIR:
		addr := sc.Args[0]
		if sc.Nr == unix.SYS_SOCKETPAIR {
			addr = sc.Args[3]
		}
		var b [8]byte
		if _, err := sc.mem.ReadAt(b[:], addr); err == nil {
			fds.Close(int(int32(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)))
			fds.Close(int(int32(uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24)))
		}
	default:
		if sc.Info != nil && sc.Info.Ret == abi.RetFD {
			fds.Close(ret)
		}
	}
}
