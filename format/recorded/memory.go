// Package recorded is the read side of a recorded syscall: rendering it
// from its captured memory, which table it belongs to, the syscall-model
// facts that record and replay both need (which descriptors are files,
// which clocks are system-wide, which ioctls write memory), and the codec
// between what a handler injected (tracer.Action) and what the trace keeps
// of it (tracepb.Injected), in both directions. record writes with it,
// replay and dump read with it.
package recorded

import (
	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// Captured is tracee memory as a recorded syscall captured it: a decode.Memory
// that serves reads from the Mem ranges of one event, so that `hermes dump`
// renders a call from the trace exactly as `hermes trace` rendered it live.
// Ranges the kernel wrote (OUT) take precedence over what was read at entry.
type Captured []*tracepb.Mem

// ReadAt implements decode.Memory.
func (c Captured) ReadAt(p []byte, addr uint64) (int, error) {
	done := 0
	for done < len(p) {
		n := c.readOne(p[done:], addr+uint64(done))
		if n == 0 {
			return done, unix.EFAULT
		}
		done += n
	}
	return done, nil
}

// readOne copies from the range that holds addr, preferring OUT captures.
func (c Captured) readOne(p []byte, addr uint64) int {
	best := -1
	for i, m := range c {
		if addr >= m.Addr && addr < m.Addr+uint64(len(m.Data)) {
			if best < 0 || m.Kind == tracepb.MemKind_MEM_KIND_OUT {
				best = i
			}
		}
	}
	if best < 0 {
		return 0
	}
	m := c[best]
	return copy(p, m.Data[addr-m.Addr:])
}

// AppendSyscall renders a recorded syscall as `hermes trace` rendered it
// live, decoded from its captured memory, with a note if hermes injected
// something into it.
func AppendSyscall(dst []byte, s *tracepb.Syscall, opts *decode.Options) []byte {
	c := decode.Call{Arch: Arch(s.Arch), Nr: int(s.Nr), Args: format.Args(s), Ret: s.Ret, Exited: !s.EntryOnly}
	if c.Arch == abi.ArchX86_64 {
		c.Info = abi.X86_64(c.Nr)
	}
	dst = decode.AppendCall(dst, &c, Captured(s.Mem), opts)
	dst = decode.AppendRet(dst, &c)
	if s.Injected != nil {
		dst = decode.AppendInjected(dst, s.Injected.By)
	}
	return dst
}

// Name returns a recorded syscall's name in its table.
func Name(s *tracepb.Syscall) string { return abi.Name(Arch(s.Arch), int(s.Nr)) }
