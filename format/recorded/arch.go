package recorded

import (
	"strings"

	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// ArchPB and Arch convert between the tracer's and the trace file's names
// of the syscall tables.
func ArchPB(a abi.Arch) tracepb.Arch {
	switch a {
	case abi.ArchI386:
		return tracepb.Arch_ARCH_I386
	case abi.ArchX32:
		return tracepb.Arch_ARCH_X32
	}
	return tracepb.Arch_ARCH_X86_64
}

// Arch returns the tracer's name for a recorded syscall table.
func Arch(a tracepb.Arch) abi.Arch {
	switch a {
	case tracepb.Arch_ARCH_I386:
		return abi.ArchI386
	case tracepb.Arch_ARCH_X32:
		return abi.ArchX32
	}
	return abi.ArchX86_64
}

// SystemClock reports whether a clock id is one of the system-wide clocks
// (not a process's or thread's CPU clock), whose reading hermes can take
// for the target.
func SystemClock(id uint32) bool {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_REALTIME_COARSE,
		unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
		return true
	}
	return false
}

// FileBacked reports whether a descriptor path names a regular file or a
// directory: contents that can be read again, not a stream, a device or
// kernel state under /proc and /sys.
func FileBacked(path string) bool {
	return strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "/proc/") && !strings.HasPrefix(path, "/sys/") &&
		!strings.HasPrefix(path, "/dev/")
}
