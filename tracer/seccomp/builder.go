package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// maxJump is the largest offset a conditional jump can encode (jt, jf are
// 8-bit).
const maxJump = 255

// Builder assembles a classic-BPF program with named labels.
//
// Jump targets are labels defined later with Label; the empty label ""
// means "the next instruction" (fall through). Classic BPF only jumps
// forward, so a label must be defined after every jump that uses it.
// Conditional targets farther than 255 instructions are reached through
// trampolines that Assemble inserts. Errors are sticky and reported by
// Assemble.
type Builder struct {
	insns  []pending
	labels map[string]int // label -> index into insns
	err    error
}

// pending is one instruction before layout.
type pending struct {
	ins    unix.SockFilter
	jt, jf string // targets of a conditional jump
	ja     string // target of a JA
	isCond bool
	isJA   bool
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{labels: make(map[string]int)}
}

func (b *Builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("seccomp: "+format, args...)
	}
}

// Len returns the number of instructions added so far, trampolines not
// counted.
func (b *Builder) Len() int { return len(b.insns) }

// Stmt adds a non-jump instruction (load, store, ALU, misc, RET).
func (b *Builder) Stmt(code uint16, k uint32) {
	if code&0x07 == unix.BPF_JMP {
		b.fail("Stmt used for jump opcode %#x; use Jump or JumpIf", code)
		return
	}
	b.insns = append(b.insns, pending{ins: unix.SockFilter{Code: code, K: k}})
}

// LoadAbs adds "ld [off]": load the 32-bit word at offset off of struct
// seccomp_data into A (see OffNr, OffArch, OffIP, OffArgs).
func (b *Builder) LoadAbs(off uint32) {
	b.Stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, off)
}

// Ret adds "ret #k".
func (b *Builder) Ret(k uint32) {
	b.Stmt(unix.BPF_RET|unix.BPF_K, k)
}

// JumpIf adds a conditional jump. cond is the full opcode, for instance
// BPF_JMP|BPF_JGE|BPF_K; jt and jf are labels ("" = next instruction).
func (b *Builder) JumpIf(cond uint16, k uint32, jt, jf string) {
	if cond&0x07 != unix.BPF_JMP || cond&0xf0 == unix.BPF_JA {
		b.fail("JumpIf used with non-conditional opcode %#x", cond)
		return
	}
	b.insns = append(b.insns, pending{
		ins: unix.SockFilter{Code: cond, K: k}, jt: jt, jf: jf, isCond: true,
	})
}

// Jump adds an unconditional jump (JA) to label.
func (b *Builder) Jump(label string) {
	if label == "" {
		b.fail("Jump to empty label")
		return
	}
	b.insns = append(b.insns, pending{
		ins: unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA}, ja: label, isJA: true,
	})
}

// Label names the next instruction added.
func (b *Builder) Label(name string) {
	if name == "" {
		b.fail("empty label name")
		return
	}
	if _, dup := b.labels[name]; dup {
		b.fail("label %q defined twice", name)
		return
	}
	b.labels[name] = len(b.insns)
}

// target resolves the label used by instruction i ("" = i+1).
func (b *Builder) target(i int, label string) (int, error) {
	t := i + 1
	if label != "" {
		var ok bool
		if t, ok = b.labels[label]; !ok {
			return 0, fmt.Errorf("seccomp: instruction %d: undefined label %q", i, label)
		}
	}
	switch {
	case t <= i:
		return 0, fmt.Errorf("seccomp: instruction %d: backward jump to %q", i, label)
	case t >= len(b.insns):
		return 0, fmt.Errorf("seccomp: instruction %d: jump to %q past the end of the program", i, label)
	}
	return t, nil
}

// Trampoline flags, per conditional instruction.
const (
	trampT = 1 << iota
	trampF
)

// Assemble lays out the program, resolving labels and inserting
// trampolines where a conditional jump cannot reach its target. It does not
// check the result against seccomp's rules (use Validate) nor its length.
func (b *Builder) Assemble() ([]unix.SockFilter, error) {
	if b.err != nil {
		return nil, b.err
	}
	n := len(b.insns)
	if n == 0 {
		return nil, fmt.Errorf("seccomp: empty program")
	}
	// Resolve targets once.
	jt := make([]int, n)
	jf := make([]int, n)
	for i, p := range b.insns {
		var err error
		switch {
		case p.isCond:
			if jt[i], err = b.target(i, p.jt); err != nil {
				return nil, err
			}
			if jf[i], err = b.target(i, p.jf); err != nil {
				return nil, err
			}
		case p.isJA:
			if jt[i], err = b.target(i, p.ja); err != nil {
				return nil, err
			}
		}
	}

	// Iterate to a fixed point: adding a trampoline only moves targets
	// farther away, so the set of trampolines only grows and the loop ends
	// (at most two per conditional jump).
	tramp := make([]uint8, n)
	pos := make([]int, n+1)
	for {
		p := 0
		for i := range b.insns {
			pos[i] = p
			p += 1 + trampCount(tramp[i])
		}
		pos[n] = p
		changed := false
		for i, ins := range b.insns {
			if !ins.isCond {
				continue
			}
			if tramp[i]&trampT == 0 && pos[jt[i]]-(pos[i]+1) > maxJump {
				tramp[i] |= trampT
				changed = true
			}
			if tramp[i]&trampF == 0 && pos[jf[i]]-(pos[i]+1) > maxJump {
				tramp[i] |= trampF
				changed = true
			}
		}
		if !changed {
			break
		}
	}

	out := make([]unix.SockFilter, 0, pos[n])
	for i, p := range b.insns {
		ins := p.ins
		switch {
		case p.isJA:
			ins.K = uint32(pos[jt[i]] - (pos[i] + 1))
			out = append(out, ins)
		case p.isCond:
			slot := 0
			var tramps []int // targets of trampolines, in slot order
			if tramp[i]&trampT != 0 {
				ins.Jt = uint8(slot)
				slot++
				tramps = append(tramps, jt[i])
			} else {
				ins.Jt = uint8(pos[jt[i]] - (pos[i] + 1))
			}
			if tramp[i]&trampF != 0 {
				ins.Jf = uint8(slot)
				tramps = append(tramps, jf[i])
			} else {
				ins.Jf = uint8(pos[jf[i]] - (pos[i] + 1))
			}
			out = append(out, ins)
			for _, t := range tramps {
				if tgt := b.insns[t].ins; isRet(tgt.Code) {
					// A copy of the RET is as short as a JA and saves a step.
					out = append(out, tgt)
				} else {
					out = append(out, unix.SockFilter{
						Code: unix.BPF_JMP | unix.BPF_JA,
						K:    uint32(pos[t] - (len(out) + 1)),
					})
				}
			}
		default:
			out = append(out, ins)
		}
	}
	if len(out) != pos[n] {
		panic("seccomp: internal error: layout mismatch")
	}
	return out, nil
}

func trampCount(f uint8) int {
	return int(f&trampT) + int(f&trampF)>>1
}

func isRet(code uint16) bool {
	return code == unix.BPF_RET|unix.BPF_K || code == unix.BPF_RET|unix.BPF_A
}
