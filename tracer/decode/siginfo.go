package decode

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/hermes-trace/hermes/tracer/abi"
)

// AppendSiginfo appends strace's rendering of a siginfo as it shows it in
// "--- SIGCHLD {...} ---" lines and in rt_sigqueueinfo/waitid:
//
//	{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=1234, si_uid=0, si_status=0, si_utime=0, si_stime=0}
//	{si_signo=SIGUSR1, si_code=SI_USER, si_pid=1234, si_uid=0}
//	{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10}
func AppendSiginfo(dst []byte, si *unix.Siginfo) []byte {
	return appendSiginfo(dst, (*[128]byte)(unsafe.Pointer(si))[:])
}

// AppendSiginfoBytes is AppendSiginfo for a raw x86_64 siginfo_t, as
// PTRACE_GETSIGINFO fills it and a trace file stores it. b must hold 128
// bytes; a shorter b prints as "{...}".
func AppendSiginfoBytes(dst []byte, b []byte) []byte {
	if len(b) < 128 {
		return append(dst, "{...}"...)
	}
	return appendSiginfo(dst, b)
}

// si_code values that come from user space or the kernel generically.
var siCodes = map[int32]string{
	0: "SI_USER", 0x80: "SI_KERNEL", -1: "SI_QUEUE", -2: "SI_TIMER", -3: "SI_MESGQ",
	-4: "SI_ASYNCIO", -5: "SI_SIGIO", -6: "SI_TKILL", -7: "SI_DETHREAD", -60: "SI_ASYNCNL",
}

// Signal-specific si_code names, indexed by code-1.
var (
	cldCodes  = [...]string{"CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"}
	segvCodes = [...]string{"SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR", "SEGV_ACCADI", "SEGV_ADIDERR", "SEGV_ADIPERR", "SEGV_MTEAERR", "SEGV_MTESERR", "SEGV_CPERR"}
	busCodes  = [...]string{"BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"}
	illCodes  = [...]string{"ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK", "ILL_BADIADDR"}
	fpeCodes  = [...]string{"FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB", "", "", "", "", "", "FPE_FLTUNK", "FPE_CONDTRAP"}
	trapCodes = [...]string{"TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT", "TRAP_UNK", "TRAP_PERF"}
	pollCodes = [...]string{"POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP"}
	sysCodes  = [...]string{"SYS_SECCOMP", "SYS_USER_DISPATCH"}
)

func codeName(names []string, code int32) string {
	if code >= 1 && int(code) <= len(names) {
		return names[code-1]
	}
	return ""
}

// Signal numbers used below.
const (
	sigILL  = 4
	sigTRAP = 5
	sigBUS  = 7
	sigFPE  = 8
	sigSEGV = 11
	sigCHLD = 17
	sigPOLL = 29
	sigSYS  = 31
)

func appendSiginfo(dst []byte, b []byte) []byte {
	signo := int32(le32(b))
	errno := int32(le32(b[4:]))
	code := int32(le32(b[8:]))
	dst = append(dst, "{si_signo="...)
	dst = appendSignal(dst, int64(signo))
	dst = append(dst, ", si_code="...)
	name := ""
	if code > 0 && code != 0x80 {
		switch signo {
		case sigCHLD:
			name = codeName(cldCodes[:], code)
		case sigSEGV:
			name = codeName(segvCodes[:], code)
		case sigBUS:
			name = codeName(busCodes[:], code)
		case sigILL:
			name = codeName(illCodes[:], code)
		case sigFPE:
			name = codeName(fpeCodes[:], code)
		case sigTRAP:
			name = codeName(trapCodes[:], code)
		case sigPOLL:
			name = codeName(pollCodes[:], code)
		case sigSYS:
			name = codeName(sysCodes[:], code)
		}
	} else {
		name = siCodes[code]
	}
	if name != "" {
		dst = append(dst, name...)
	} else {
		dst = appendInt(dst, int64(code))
	}
	if errno != 0 {
		dst = append(dst, ", si_errno="...)
		if n := abi.ErrnoName(int(errno)); n != "" {
			dst = append(dst, n...)
		} else {
			dst = appendInt(dst, int64(errno))
		}
	}
	u := b[16:]
	if code <= 0 { // sent by a process: kill, tgkill, sigqueue, timers, mq
		switch code {
		case -2: // SI_TIMER
			dst = append(dst, ", si_timerid="...)
			dst = appendHexZero(dst, uint64(le32(u)))
			dst = append(dst, ", si_overrun="...)
			dst = appendInt(dst, int64(int32(le32(u[4:]))))
			dst = appendSigval(dst, u[8:])
		case -5: // SI_SIGIO
			dst = appendPollFields(dst, u)
		default:
			dst = append(dst, ", si_pid="...)
			dst = appendInt(dst, int64(int32(le32(u))))
			dst = append(dst, ", si_uid="...)
			dst = appendUint(dst, uint64(le32(u[4:])))
			if code == -1 || code == -3 { // SI_QUEUE, SI_MESGQ carry a value
				dst = appendSigval(dst, u[8:])
			}
		}
		return append(dst, '}')
	}
	switch signo {
	case sigCHLD:
		dst = append(dst, ", si_pid="...)
		dst = appendInt(dst, int64(int32(le32(u))))
		dst = append(dst, ", si_uid="...)
		dst = appendUint(dst, uint64(le32(u[4:])))
		dst = append(dst, ", si_status="...)
		status := int64(int32(le32(u[8:])))
		if code == 1 { // CLD_EXITED: an exit code; otherwise a signal
			dst = appendInt(dst, status)
		} else {
			dst = appendSignal(dst, status)
		}
		dst = append(dst, ", si_utime="...)
		dst = appendClock(dst, le64(u[16:]))
		dst = append(dst, ", si_stime="...)
		dst = appendClock(dst, le64(u[24:]))
	case sigSEGV, sigBUS, sigILL, sigFPE, sigTRAP:
		dst = append(dst, ", si_addr="...)
		dst = appendPtr(dst, le64(u))
	case sigPOLL:
		dst = appendPollFields(dst, u)
	case sigSYS:
		dst = append(dst, ", si_call_addr="...)
		dst = appendPtr(dst, le64(u))
		dst = append(dst, ", si_syscall="...)
		nr := int32(le32(u[8:]))
		arch := le32(u[12:])
		switch arch {
		case 0xc000003e: // AUDIT_ARCH_X86_64
			if nr&abi.X32Bit != 0 {
				dst = appendSyscallNr(dst, abi.ArchX32, int(nr))
			} else {
				dst = appendSyscallNr(dst, abi.ArchX86_64, int(nr))
			}
			dst = append(dst, ", si_arch=AUDIT_ARCH_X86_64"...)
		case 0x40000003: // AUDIT_ARCH_I386
			dst = appendSyscallNr(dst, abi.ArchI386, int(nr))
			dst = append(dst, ", si_arch=AUDIT_ARCH_I386"...)
		default:
			dst = appendInt(dst, int64(nr))
			dst = append(dst, ", si_arch="...)
			dst = appendHexZero(dst, uint64(arch))
		}
	}
	return append(dst, '}')
}

// clockTicks is the clock tick rate clock_t values count in (USER_HZ,
// sysconf(_SC_CLK_TCK)): 100 on every Linux x86_64 kernel.
const clockTicks = 100

// appendClock appends a clock_t as strace does: the ticks, with the
// seconds they make in a comment when not zero: "3 /* 0.03 s */".
func appendClock(dst []byte, v uint64) []byte {
	dst = appendUint(dst, v)
	if v == 0 {
		return dst
	}
	dst = append(dst, " /* "...)
	dst = appendUint(dst, v/clockTicks)
	frac := v % clockTicks
	dst = append(dst, '.', byte('0'+frac/10), byte('0'+frac%10))
	return append(dst, " s */"...)
}

// appendSyscallNr appends __NR_name, or the number when it has no name.
func appendSyscallNr(dst []byte, arch abi.Arch, nr int) []byte {
	name := abi.Name(arch, nr)
	if len(name) >= 8 && name[:8] == "syscall_" {
		return appendInt(dst, int64(nr))
	}
	dst = append(dst, "__NR_"...)
	return append(dst, name...)
}

func appendSigval(dst []byte, u []byte) []byte {
	dst = append(dst, ", si_int="...)
	dst = appendInt(dst, int64(int32(le32(u))))
	dst = append(dst, ", si_ptr="...)
	return appendPtr(dst, le64(u))
}

func appendPollFields(dst []byte, u []byte) []byte {
	dst = append(dst, ", si_band="...)
	dst = appendInt(dst, int64(le64(u)))
	dst = append(dst, ", si_fd="...)
	return appendInt(dst, int64(int32(le32(u[8:]))))
}

// AppendWaitStatus appends a wait status as strace prints it behind a
// wait4 status pointer, brackets included:
//
//	[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]
//	[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]
//	[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGTRAP} | PTRACE_EVENT_EXEC << 16]
func AppendWaitStatus(dst []byte, status uint32) []byte {
	dst = append(dst, '[')
	dst = appendWaitStatus(dst, status)
	return append(dst, ']')
}

var ptraceEvents = [...]string{
	1: "PTRACE_EVENT_FORK", 2: "PTRACE_EVENT_VFORK", 3: "PTRACE_EVENT_CLONE", 4: "PTRACE_EVENT_EXEC",
	5: "PTRACE_EVENT_VFORK_DONE", 6: "PTRACE_EVENT_EXIT", 7: "PTRACE_EVENT_SECCOMP", 128: "PTRACE_EVENT_STOP",
}

func appendWaitStatus(dst []byte, s uint32) []byte {
	rest := s &^ 0xffff
	low := s & 0x7f
	switch {
	case s&0xff == 0x7f: // stopped
		dst = append(dst, "{WIFSTOPPED(s) && WSTOPSIG(s) == "...)
		dst = appendSignal(dst, int64(s>>8&0xff))
		dst = append(dst, '}')
		if ev := s >> 16; ev != 0 {
			if int(ev) < len(ptraceEvents) && ptraceEvents[ev] != "" {
				dst = append(dst, " | "...)
				dst = append(dst, ptraceEvents[ev]...)
				dst = append(dst, " << 16"...)
			} else {
				dst = append(dst, " | "...)
				dst = appendHexZero(dst, uint64(rest))
			}
			rest = 0
		}
	case s&0xffff == 0xffff: // continued
		dst = append(dst, "{WIFCONTINUED(s)}"...)
	case low == 0: // exited
		dst = append(dst, "{WIFEXITED(s) && WEXITSTATUS(s) == "...)
		dst = appendInt(dst, int64(s>>8&0xff))
		dst = append(dst, '}')
	default: // killed
		dst = append(dst, "{WIFSIGNALED(s) && WTERMSIG(s) == "...)
		dst = appendSignal(dst, int64(low))
		if s&0x80 != 0 {
			dst = append(dst, " && WCOREDUMP(s)"...)
		}
		dst = append(dst, '}')
	}
	if rest != 0 {
		dst = append(dst, " | "...)
		dst = appendHexZero(dst, uint64(rest))
	}
	return dst
}
