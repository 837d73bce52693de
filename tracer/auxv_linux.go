package tracer

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// auxv entry types from <linux/auxvec.h>.
const (
	auxNull        = 0
	auxIgnore      = 1
	auxRandom      = 25
	auxSysinfoEhdr = 33
)

// maxStackScan bounds the walk over argv and envp to the auxiliary vector:
// the kernel limits them to a quarter of the stack rlimit, and a process
// with more than this is not one we can make deterministic anyway.
const maxStackScan = 8 << 20

// auxvInfo is what the exec stop of a 64-bit image learns from its
// auxiliary vector.
type auxvInfo struct {
	atRandom uint64 // address of the 16 AT_RANDOM bytes, or 0
	vdso     uint64 // AT_SYSINFO_EHDR: where the vDSO image starts, or 0
	vdsoAt   uint64 // address of that auxv entry's type word on the stack
}

// readAuxv runs at the exec stop of an image: the stack pointer is at
// argc, followed by argv, NULL, envp, NULL and the auxiliary vector. It
// reports ok false, and nothing else, for a 32-bit image (its auxv has
// 32-bit words).
func readAuxv(th *Thread) (a auxvInfo, ok bool, err error) {
	var regs unix.PtraceRegs
	if err := ptraceGetRegs(th.Tid, &regs); err != nil {
		return a, false, err
	}
	if regs.Cs != 0x33 { // not a 64-bit code segment
		return a, false, nil
	}
	r := stackWords{mem: th.sc.mem, addr: regs.Rsp}
	argc, err := r.next()
	if err != nil {
		return a, true, fmt.Errorf("reading argc: %w", err)
	}
	if argc > maxStackScan/8 {
		return a, true, fmt.Errorf("argc %d is not plausible", argc)
	}
	r.skip(argc + 1) // argv and its NULL
	for {            // envp up to its NULL
		w, err := r.next()
		if err != nil {
			return a, true, fmt.Errorf("reading envp: %w", err)
		}
		if w == 0 {
			break
		}
		if r.addr-regs.Rsp > maxStackScan {
			return a, true, fmt.Errorf("no end of envp in %d bytes", maxStackScan)
		}
	}
	for i := 0; i < 64; i++ {
		at := r.addr
		typ, err := r.next()
		if err != nil {
			return a, true, fmt.Errorf("reading auxv: %w", err)
		}
		val, err := r.next()
		if err != nil {
			return a, true, fmt.Errorf("reading auxv: %w", err)
		}
		switch typ {
		case auxNull:
			return a, true, nil
		case auxRandom:
			a.atRandom = val
		case auxSysinfoEhdr:
			a.vdso, a.vdsoAt = val, at
		}
	}
	return a, true, fmt.Errorf("auxv has no end")
}

// hideVDSO turns the image's AT_SYSINFO_EHDR into AT_IGNORE, so that
// neither libc nor the Go runtime finds the vDSO and clocks are read with
// syscalls the tracer sees (the vDSO stays mapped; only its announcement
// goes). It is the fallback for a vDSO that cannot be patched: a program
// that looks the vDSO up itself then finds none.
func hideVDSO(th *Thread, a auxvInfo) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], auxIgnore)
	if err := th.sc.mem.WriteAt(b[:], a.vdsoAt); err != nil {
		return fmt.Errorf("rewriting auxv: %w", err)
	}
	return nil
}

// stackWords reads consecutive 64-bit words of tracee memory, a page's
// worth per read.
type stackWords struct {
	mem  *Memory
	addr uint64
	buf  [512]byte
	base uint64 // address of buf[0]
	n    int    // valid bytes in buf
}

func (s *stackWords) skip(words uint64) { s.addr += 8 * words }

func (s *stackWords) next() (uint64, error) {
	if s.addr < s.base || s.addr+8 > s.base+uint64(s.n) {
		n, err := s.mem.ReadAt(s.buf[:], s.addr)
		if n < 8 {
			if err == nil {
				err = unix.EFAULT
			}
			return 0, err
		}
		s.base, s.n = s.addr, n
	}
	off := s.addr - s.base
	s.addr += 8
	return binary.LittleEndian.Uint64(s.buf[off:]), nil
}
