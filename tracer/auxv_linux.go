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

// hideVDSO runs at the exec stop of a 64-bit image: the stack pointer is at
// argc, followed by argv, NULL, envp, NULL and the auxiliary vector. It
// turns AT_SYSINFO_EHDR into AT_IGNORE, so that neither libc nor the Go
// runtime finds the vDSO and clocks are read with syscalls the tracer sees
// (the vDSO stays mapped; only its announcement goes). It returns the
// address of the AT_RANDOM bytes. 32-bit images are left alone.
func hideVDSO(th *Thread) (atRandom uint64, err error) {
	var regs unix.PtraceRegs
	if err := ptraceGetRegs(th.Tid, &regs); err != nil {
		return 0, err
	}
	if regs.Cs != 0x33 { // not a 64-bit code segment
		return 0, nil
	}
	r := stackWords{mem: th.sc.mem, addr: regs.Rsp}
	argc, err := r.next()
	if err != nil {
		return 0, fmt.Errorf("reading argc: %w", err)
	}
	if argc > maxStackScan/8 {
		return 0, fmt.Errorf("argc %d is not plausible", argc)
	}
	r.skip(argc + 1) // argv and its NULL
	for {            // envp up to its NULL
		w, err := r.next()
		if err != nil {
			return 0, fmt.Errorf("reading envp: %w", err)
		}
		if w == 0 {
			break
		}
		if r.addr-regs.Rsp > maxStackScan {
			return 0, fmt.Errorf("no end of envp in %d bytes", maxStackScan)
		}
	}
	found := false
	for i := 0; i < 64; i++ {
		at := r.addr
		typ, err := r.next()
		if err != nil {
			return 0, fmt.Errorf("reading auxv: %w", err)
		}
		val, err := r.next()
		if err != nil {
			return 0, fmt.Errorf("reading auxv: %w", err)
		}
		switch typ {
		case auxNull:
			if !found {
				return atRandom, fmt.Errorf("no AT_SYSINFO_EHDR in auxv")
			}
			return atRandom, nil
		case auxRandom:
			atRandom = val
		case auxSysinfoEhdr:
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], auxIgnore)
			if err := th.sc.mem.WriteAt(b[:], at); err != nil {
				return atRandom, fmt.Errorf("rewriting auxv: %w", err)
			}
			found = true
		}
	}
	return atRandom, fmt.Errorf("auxv has no end")
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
