package recorded

import "golang.org/x/sys/unix"

// Legacy ioctls x/sys/unix does not name (<asm-generic/ioctls.h>).
const (
	fionread = 0x541B
	fionbio  = 0x5421
	fionclex = 0x5450
	fioclex  = 0x5451
	fioasync = 0x5452
	ficlone  = 0x40049409 // _IOW(0x94, 9, int): the argument is a descriptor
)

// IoctlOutSize returns how many bytes an ioctl writes through its third
// argument: _IOC_SIZE for commands with _IOC_READ, the struct size for the
// legacy tty commands numbered before that encoding, 0 otherwise.
func IoctlOutSize(cmd uint64) int {
	c := uint32(cmd)
	const iocRead = 2
	if (c>>30)&iocRead != 0 {
		return int((c >> 16) & 0x3fff)
	}
	switch c {
	case unix.TCGETS:
		return 36 // struct termios (the kernel's, without speeds)
	case unix.TIOCGWINSZ:
		return 8 // struct winsize
	case unix.TIOCGPGRP, unix.TIOCGSID, fionread, unix.TIOCOUTQ, unix.TIOCMGET, unix.TIOCGETD:
		return 4
	}
	return 0
}

// IoctlInSize returns how many bytes an ioctl reads through its third
// argument, what the recording captures at entry: _IOC_SIZE for commands
// with _IOC_WRITE (but FICLONE's, a descriptor), the struct size for the
// legacy tty commands that take one, 0 otherwise.
func IoctlInSize(cmd uint64) int {
	c := uint32(cmd)
	const iocWrite = 1
	if c == ficlone {
		return 0
	}
	if (c>>30)&iocWrite != 0 {
		return int((c >> 16) & 0x3fff)
	}
	switch c {
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF:
		return 36
	case unix.TIOCSWINSZ:
		return 8
	case unix.TIOCSPGRP, fionbio, fioasync:
		return 4
	case unix.TIOCSTI:
		return 1
	}
	return 0
}

// IoctlOut reports whether an ioctl command writes memory the recording
// captures.
func IoctlOut(cmd uint64) bool { return IoctlOutSize(cmd) > 0 }

// IoctlNoOut reports whether an ioctl command is known to write nothing:
// new-style commands without _IOC_READ, and the legacy tty commands that
// only set.
func IoctlNoOut(cmd uint64) bool {
	c := uint32(cmd)
	if dir := c >> 30; dir != 0 {
		return dir&2 == 0
	}
	switch c {
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF, unix.TIOCSWINSZ, unix.TIOCSPGRP, fionbio,
		fioclex, fionclex, unix.TCFLSH, unix.TCXONC, unix.TIOCSCTTY, unix.TIOCNOTTY, fioasync:
		return true
	}
	return false
}
