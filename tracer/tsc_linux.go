package tracer

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Time read without a system call: rdtsc and rdtscp read the CPU's time
// stamp counter in user space. A thread with prctl(PR_SET_TSC,
// PR_TSC_SIGSEGV) (kept across fork and exec) faults on them instead, with
// a SIGSEGV whose si_code is SI_KERNEL, at the instruction; a handler of
// that signal stop can complete the instruction with a value of its
// choosing and suppress the signal (as rr does).

// TrapTSCStep is the Config.Setup step that makes the launched command's
// reads of the time stamp counter fault. It may fail (a kernel or a CPU
// without the feature): the command then reads the counter itself.
func TrapTSCStep() Step {
	const prSetTSC, prTSCSigsegv = 26, 2
	return Step{Nr: unix.SYS_PRCTL, Args: [6]uintptr{prSetTSC, prTSCSigsegv}, MayFail: true, Name: "prctl PR_SET_TSC"}
}

// ReadTSC reads this CPU's time stamp counter, and its TSC_AUX (what
// rdtscp gives in ecx: on Linux the CPU and node number).
func ReadTSC() (tsc uint64, aux uint32) { return readTSC() }

func readTSC() (tsc uint64, aux uint32)

// TSCRead reports whether the signal ev stops at is a faulted read of the
// time stamp counter, and whether it is rdtscp (3 bytes) or rdtsc (2).
func (ev *ProcessEvent) TSCRead() (rdtscp, ok bool) {
	const siKernel = 0x80
	if ev.Kind != EventSignal || ev.Signal != int(unix.SIGSEGV) || ev.Siginfo == nil || ev.Thread == nil {
		return false, false
	}
	if int32(binary.LittleEndian.Uint32(ev.Siginfo[8:])) != siKernel {
		return false, false
	}
	var regs unix.PtraceRegs
	if unix.PtraceGetRegs(ev.Thread.Tid, &regs) != nil {
		return false, false
	}
	var insn [3]byte
	if n, _ := ev.Thread.Mem().ReadAt(insn[:], regs.Rip); n < 2 {
		return false, false
	}
	switch {
	case insn[0] == 0x0f && insn[1] == 0x31:
		return false, true
	case insn[0] == 0x0f && insn[1] == 0x01 && insn[2] == 0xf9:
		return true, true
	}
	return false, false
}

// CompleteTSC finishes the faulted read of the time stamp counter ev stops
// at as the CPU would have, with tsc (and aux in ecx for rdtscp), and
// suppresses the signal.
func (ev *ProcessEvent) CompleteTSC(rdtscp bool, tsc uint64, aux uint32) error {
	var regs unix.PtraceRegs
	if err := unix.PtraceGetRegs(ev.Thread.Tid, &regs); err != nil {
		return err
	}
	regs.Rax, regs.Rdx = tsc&0xffffffff, tsc>>32
	regs.Rip += 2
	if rdtscp {
		regs.Rcx = uint64(aux)
		regs.Rip++
	}
	if err := unix.PtraceSetRegs(ev.Thread.Tid, &regs); err != nil {
		return err
	}
	ev.Suppress = true
	return nil
}
