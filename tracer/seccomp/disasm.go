package seccomp

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Program is a classic-BPF program whose String method disassembles it.
type Program []unix.SockFilter

// String returns Disassemble(p).
func (p Program) String() string { return Disassemble(p) }

// Disassemble returns one line per instruction, such as
//
//	0003: jeq #0xc000003e, 4, 9
//
// Jump targets are absolute instruction indexes. Loads from seccomp_data
// and RET actions carry a comment naming the field or action.
func Disassemble(prog []unix.SockFilter) string {
	var sb strings.Builder
	for pc, ins := range prog {
		fmt.Fprintf(&sb, "%04d: %s\n", pc, FormatInstruction(pc, ins))
	}
	return sb.String()
}

var aluNames = map[uint16]string{
	unix.BPF_ADD: "add", unix.BPF_SUB: "sub", unix.BPF_MUL: "mul",
	unix.BPF_DIV: "div", unix.BPF_MOD: "mod", unix.BPF_AND: "and",
	unix.BPF_OR: "or", unix.BPF_XOR: "xor", unix.BPF_LSH: "lsh",
	unix.BPF_RSH: "rsh",
}

var jmpNames = map[uint16]string{
	unix.BPF_JEQ: "jeq", unix.BPF_JGT: "jgt", unix.BPF_JGE: "jge",
	unix.BPF_JSET: "jset",
}

// FormatInstruction disassembles the instruction at index pc (needed to
// print absolute jump targets).
func FormatInstruction(pc int, ins unix.SockFilter) string {
	k := ins.K
	switch ins.Code {
	case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
		return fmt.Sprintf("ld [%d]%s", k, fieldComment(k))
	case unix.BPF_LD | unix.BPF_W | unix.BPF_LEN:
		return "ld #len"
	case unix.BPF_LDX | unix.BPF_W | unix.BPF_LEN:
		return "ldx #len"
	case unix.BPF_LD | unix.BPF_IMM:
		return fmt.Sprintf("ld #%#x", k)
	case unix.BPF_LDX | unix.BPF_IMM:
		return fmt.Sprintf("ldx #%#x", k)
	case unix.BPF_LD | unix.BPF_MEM:
		return fmt.Sprintf("ld M[%d]", k)
	case unix.BPF_LDX | unix.BPF_MEM:
		return fmt.Sprintf("ldx M[%d]", k)
	case unix.BPF_ST:
		return fmt.Sprintf("st M[%d]", k)
	case unix.BPF_STX:
		return fmt.Sprintf("stx M[%d]", k)
	case unix.BPF_MISC | unix.BPF_TAX:
		return "tax"
	case unix.BPF_MISC | unix.BPF_TXA:
		return "txa"
	case unix.BPF_RET | unix.BPF_K:
		return fmt.Sprintf("ret #%#x ; %s", k, ActionString(k))
	case unix.BPF_RET | unix.BPF_A:
		return "ret a"
	case unix.BPF_ALU | unix.BPF_NEG:
		return "neg"
	case unix.BPF_JMP | unix.BPF_JA:
		return fmt.Sprintf("ja %d", uint64(pc)+1+uint64(k))
	}
	op := ins.Code & 0xf0
	src := fmt.Sprintf("#%#x", k)
	if ins.Code&unix.BPF_X != 0 {
		src = "x"
	}
	switch ins.Code & 0x07 {
	case unix.BPF_ALU:
		if name, ok := aluNames[op]; ok {
			return name + " " + src
		}
	case unix.BPF_JMP:
		if name, ok := jmpNames[op]; ok {
			return fmt.Sprintf("%s %s, %d, %d", name, src, pc+1+int(ins.Jt), pc+1+int(ins.Jf))
		}
	}
	return fmt.Sprintf(".insn code=%#04x jt=%d jf=%d k=%#x", ins.Code, ins.Jt, ins.Jf, k)
}

func fieldComment(off uint32) string {
	switch {
	case off == OffNr:
		return " ; nr"
	case off == OffArch:
		return " ; arch"
	case off == OffIP:
		return " ; ip.lo"
	case off == OffIP+4:
		return " ; ip.hi"
	case off >= OffArgs && off < SizeofData && off%4 == 0:
		hl := "lo"
		if off%8 == 4 {
			hl = "hi"
		}
		return fmt.Sprintf(" ; args[%d].%s", (off-OffArgs)/8, hl)
	}
	return ""
}

// ActionString names a seccomp filter result, e.g. "TRACE|2" or
// "ERRNO|38".
func ActionString(r uint32) string {
	data := r & unix.SECCOMP_RET_DATA
	var name string
	switch r & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_KILL_PROCESS:
		name = "KILL_PROCESS"
	case unix.SECCOMP_RET_KILL_THREAD:
		name = "KILL_THREAD"
	case unix.SECCOMP_RET_TRAP:
		name = "TRAP"
	case unix.SECCOMP_RET_ERRNO:
		name = "ERRNO"
	case unix.SECCOMP_RET_USER_NOTIF:
		name = "USER_NOTIF"
	case unix.SECCOMP_RET_TRACE:
		name = "TRACE"
	case unix.SECCOMP_RET_LOG:
		name = "LOG"
	case unix.SECCOMP_RET_ALLOW:
		name = "ALLOW"
	default:
		return fmt.Sprintf("%#x", r)
	}
	if data != 0 {
		return fmt.Sprintf("%s|%d", name, data)
	}
	return name
}
