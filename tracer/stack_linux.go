package tracer

import (
	"encoding/binary"

	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/symbols"
)

// maxStackSpan bounds how far above the stack pointer a frame pointer may
// be: a walk never leaves the few MiB of one thread's stack.
const maxStackSpan = 8 << 20

// Stack walks the caller's frame pointers at a syscall entry stop and
// returns up to len(buf) user-space return addresses in buf, innermost
// first: the call sites that led to this syscall. It is for x86_64 and x32
// calls (none for i386) and costs one register fetch (shared with Regs),
// one process_vm_readv per frame, and a read of /proc/PID/maps when the
// process's cached copy is missing or lacks an address.
//
// The first address is the word at the stack pointer, when it points into
// executable memory: the syscall wrappers of libc (write, read...) are
// leaf functions that push nothing, so it is the return address into
// their caller, as it is for Go's runtime syscall stubs. Then the rbp
// chain: [rbp+8] is a return address and [rbp] the caller's rbp, followed
// while rbp stays a plausible frame pointer (non-zero, 8-aligned, strictly
// increasing, within 8 MiB above the stack pointer) and the return
// addresses point into executable mappings. Code built without frame
// pointers ends the walk early; it never reads more than one word and len(buf)
// pairs of words.
//
// Call it from a Handler's Enter; the addresses are valid until the
// process maps something else. Symbolize names them.
func (sc *Syscall) Stack(buf []uint64) []uint64 {
	if len(buf) == 0 || sc.Arch == abi.ArchI386 || sc.mem == nil || sc.Thread == nil {
		return buf[:0]
	}
	regs, err := sc.Regs()
	if err != nil {
		return buf[:0]
	}
	p := sc.Thread.Proc
	exec := func(a uint64) bool {
		if a == 0 {
			return false
		}
		m := p.maps.Find(a, sc.Seq)
		return m != nil && m.Exec
	}
	sp, bp := regs.Rsp, regs.Rbp
	n := 0
	b := sc.stackBuf[:]
	if sp != 0 && sp%8 == 0 {
		if k, _ := sc.mem.ReadAt(b[:8], sp); k == 8 {
			if ret := binary.LittleEndian.Uint64(b[:8]); exec(ret) {
				buf[n] = ret
				n++
			}
		}
	}
	prev := uint64(0)
	for n < len(buf) {
		if bp == 0 || bp%8 != 0 || bp < sp || bp-sp > maxStackSpan || (prev != 0 && bp <= prev) {
			break
		}
		if k, _ := sc.mem.ReadAt(b[:16], bp); k != 16 {
			break
		}
		next, ret := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:16])
		if !exec(ret) {
			break
		}
		buf[n] = ret
		n++
		prev, bp = bp, next
	}
	return buf[:n]
}

// Symbolize names a return address of the caller's process (as Stack
// gives them): "MODULE:SYMBOL+0xOFF", with MODULE the base name of the
// mapped file, SYMBOL the function (from .symtab, else .dynsym) holding
// the call and OFF the address's distance from its start; "MODULE+0xOFF",
// the offset in the file, when no symbol covers it; "MODULE+0xOFF" from
// the start of a pseudo-mapping such as [vdso]; "?" in anonymous memory or
// outside any mapping. The strings do not depend on where the modules were
// loaded. Symbol tables are cached by the tracer (per file, bounded), the
// maps per process.
func (sc *Syscall) Symbolize(addr uint64) string {
	if sc.Thread == nil || sc.Thread.Proc == nil {
		return "?"
	}
	p := sc.Thread.Proc
	if p.syms == nil {
		p.syms = symbols.NewCache(0)
	}
	return symbols.Symbolize(&p.maps, p.syms, addr, sc.Seq)
}

// Describe names an address of the caller's process as a strace -k frame
// (see symbols.Cache.Describe): a return address as Stack gives them, or
// with activation set the instruction after the syscall (sc.IP), the
// innermost frame strace prints.
func (sc *Syscall) Describe(addr uint64, activation bool) symbols.Frame {
	if sc.Thread == nil || sc.Thread.Proc == nil {
		return symbols.Frame{}
	}
	p := sc.Thread.Proc
	if p.syms == nil {
		p.syms = symbols.NewCache(0)
	}
	return p.syms.Describe(p.Pid, p.maps.Find(addr, sc.Seq), addr, activation)
}
