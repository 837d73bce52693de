package seccomp

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Data mirrors the kernel's struct seccomp_data, the input of a filter.
type Data struct {
	Nr                 int32
	Arch               uint32
	InstructionPointer uint64
	Args               [6]uint64
}

// Offsets of the fields of struct seccomp_data, for "ld [off]". The 64-bit
// fields are read as two 32-bit words, low half first (little endian).
const (
	OffNr   = 0
	OffArch = 4
	OffIP   = 8
	OffArgs = 16 // args[i] low word at OffArgs+8*i, high word 4 bytes later

	// SizeofData is sizeof(struct seccomp_data); "ld len" loads it.
	SizeofData = 64
)

// word returns the 32-bit word at byte offset off (a multiple of 4, below
// SizeofData).
func (d *Data) word(off uint32) uint32 {
	switch {
	case off == OffNr:
		return uint32(d.Nr)
	case off == OffArch:
		return d.Arch
	case off < OffArgs:
		return half(d.InstructionPointer, off-OffIP)
	default:
		i := (off - OffArgs) / 8
		return half(d.Args[i], (off-OffArgs)%8)
	}
}

func half(v uint64, off uint32) uint32 {
	if off == 0 {
		return uint32(v)
	}
	return uint32(v >> 32)
}

// ErrDivideByZero is returned (wrapped) by Run when a program divides by a
// zero X register. The kernel would return 0 from the filter instead
// (SECCOMP_RET_KILL_THREAD).
var ErrDivideByZero = errors.New("division by zero")

// ProgramError reports an instruction that seccomp would refuse to load.
type ProgramError struct {
	PC     int // index of the offending instruction, -1 for the whole program
	Reason string
}

func (e *ProgramError) Error() string {
	if e.PC < 0 {
		return "seccomp: invalid program: " + e.Reason
	}
	return fmt.Sprintf("seccomp: invalid program: instruction %d: %s", e.PC, e.Reason)
}

func perr(pc int, format string, args ...any) error {
	return &ProgramError{PC: pc, Reason: fmt.Sprintf(format, args...)}
}

// validCode reports whether seccomp accepts opcode code
// (kernel/seccomp.c seccomp_check_filter, on top of the generic
// classic-BPF checks). Codes are compared exactly.
func validCode(code uint16) bool {
	switch code {
	case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS,
		unix.BPF_LD | unix.BPF_W | unix.BPF_LEN,
		unix.BPF_LDX | unix.BPF_W | unix.BPF_LEN,
		unix.BPF_LD | unix.BPF_IMM,
		unix.BPF_LDX | unix.BPF_IMM,
		unix.BPF_LD | unix.BPF_MEM,
		unix.BPF_LDX | unix.BPF_MEM,
		unix.BPF_ST,
		unix.BPF_STX,
		unix.BPF_MISC | unix.BPF_TAX,
		unix.BPF_MISC | unix.BPF_TXA,
		unix.BPF_RET | unix.BPF_K,
		unix.BPF_RET | unix.BPF_A,
		unix.BPF_ALU | unix.BPF_NEG,
		unix.BPF_JMP | unix.BPF_JA:
		return true
	}
	switch code &^ unix.BPF_X {
	case unix.BPF_ALU | unix.BPF_ADD, unix.BPF_ALU | unix.BPF_SUB,
		unix.BPF_ALU | unix.BPF_MUL, unix.BPF_ALU | unix.BPF_DIV,
		unix.BPF_ALU | unix.BPF_AND, unix.BPF_ALU | unix.BPF_OR,
		unix.BPF_ALU | unix.BPF_XOR, unix.BPF_ALU | unix.BPF_LSH,
		unix.BPF_ALU | unix.BPF_RSH,
		unix.BPF_JMP | unix.BPF_JEQ, unix.BPF_JMP | unix.BPF_JGE,
		unix.BPF_JMP | unix.BPF_JGT, unix.BPF_JMP | unix.BPF_JSET:
		return true
	}
	return false
}

func isCondJump(code uint16) bool {
	return code&0x07 == unix.BPF_JMP && code&0xf0 != unix.BPF_JA
}

// Validate checks prog the way the kernel does when a seccomp filter is
// loaded: length 1..BPF_MAXINSNS, only opcodes seccomp allows (no MOD, no
// byte/half-word or packet loads), "ld [k]" aligned and inside struct
// seccomp_data, scratch indexes below BPF_MEMWORDS, no division by constant
// zero, shifts by constants below 32, every jump landing inside the program,
// a RET as last instruction, and every scratch word stored on all paths
// before it is loaded. It returns a *ProgramError.
func Validate(prog []unix.SockFilter) error {
	n := len(prog)
	if n == 0 || n > unix.BPF_MAXINSNS {
		return perr(-1, "length %d not in 1..%d", n, unix.BPF_MAXINSNS)
	}
	usesMem := false
	for pc, ins := range prog {
		if !validCode(ins.Code) {
			return perr(pc, "opcode %#04x not allowed in seccomp filters", ins.Code)
		}
		switch ins.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if ins.K >= SizeofData || ins.K%4 != 0 {
				return perr(pc, "load offset %d outside struct seccomp_data or unaligned", ins.K)
			}
		case unix.BPF_LD | unix.BPF_MEM, unix.BPF_LDX | unix.BPF_MEM, unix.BPF_ST, unix.BPF_STX:
			usesMem = true
			if ins.K >= unix.BPF_MEMWORDS {
				return perr(pc, "scratch index %d out of range", ins.K)
			}
		case unix.BPF_ALU | unix.BPF_DIV | unix.BPF_K:
			if ins.K == 0 {
				return perr(pc, "division by constant zero")
			}
		case unix.BPF_ALU | unix.BPF_LSH | unix.BPF_K, unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K:
			if ins.K >= 32 {
				return perr(pc, "shift by %d", ins.K)
			}
		case unix.BPF_JMP | unix.BPF_JA:
			if uint64(ins.K) >= uint64(n-1-pc) {
				return perr(pc, "jump offset %d past the end", ins.K)
			}
		default:
			if isCondJump(ins.Code) && (pc+int(ins.Jt)+1 >= n || pc+int(ins.Jf)+1 >= n) {
				return perr(pc, "jump offsets %d/%d past the end", ins.Jt, ins.Jf)
			}
		}
	}
	if !isRet(prog[n-1].Code) {
		return perr(n-1, "last instruction is not a RET")
	}
	if !usesMem {
		return nil
	}
	return checkMemory(prog)
}

// checkMemory mirrors the kernel's check_load_and_stores: a scratch word
// must be written on every path before it is read.
func checkMemory(prog []unix.SockFilter) error {
	masks := make([]uint16, len(prog))
	for i := range masks {
		masks[i] = 0xffff
	}
	var valid uint16
	for pc, ins := range prog {
		valid &= masks[pc]
		switch {
		case ins.Code == unix.BPF_ST || ins.Code == unix.BPF_STX:
			valid |= 1 << ins.K
		case ins.Code == unix.BPF_LD|unix.BPF_MEM || ins.Code == unix.BPF_LDX|unix.BPF_MEM:
			if valid&(1<<ins.K) == 0 {
				return perr(pc, "scratch word M[%d] may be read before it is written", ins.K)
			}
		case ins.Code == unix.BPF_JMP|unix.BPF_JA:
			masks[pc+1+int(ins.K)] &= valid
			valid = 0xffff
		case isCondJump(ins.Code):
			masks[pc+1+int(ins.Jt)] &= valid
			masks[pc+1+int(ins.Jf)] &= valid
			valid = 0xffff
		}
	}
	return nil
}

// Run validates prog (see Validate) and executes it over d, returning the
// filter's result (a SECCOMP_RET_* action with its data).
func Run(prog []unix.SockFilter, d Data) (uint32, error) {
	r, _, err := RunSteps(prog, d)
	return r, err
}

// RunSteps is Run that also reports how many instructions were executed,
// the RET included.
//
// Register shifts by X use the low 5 bits of X, as the kernel's eBPF
// translation does; division by a zero X is an error wrapping
// ErrDivideByZero.
func RunSteps(prog []unix.SockFilter, d Data) (ret uint32, steps int, err error) {
	if err := Validate(prog); err != nil {
		return 0, 0, err
	}
	var (
		a, x uint32
		mem  [unix.BPF_MEMWORDS]uint32
	)
	pc := 0
	for {
		if pc >= len(prog) { // unreachable after Validate; kept as a guard
			return 0, steps, perr(pc, "fell off the end of the program")
		}
		ins := prog[pc]
		steps++
		pc++
		switch ins.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			a = d.word(ins.K)
		case unix.BPF_LD | unix.BPF_W | unix.BPF_LEN:
			a = SizeofData
		case unix.BPF_LDX | unix.BPF_W | unix.BPF_LEN:
			x = SizeofData
		case unix.BPF_LD | unix.BPF_IMM:
			a = ins.K
		case unix.BPF_LDX | unix.BPF_IMM:
			x = ins.K
		case unix.BPF_LD | unix.BPF_MEM:
			a = mem[ins.K]
		case unix.BPF_LDX | unix.BPF_MEM:
			x = mem[ins.K]
		case unix.BPF_ST:
			mem[ins.K] = a
		case unix.BPF_STX:
			mem[ins.K] = x
		case unix.BPF_MISC | unix.BPF_TAX:
			x = a
		case unix.BPF_MISC | unix.BPF_TXA:
			a = x
		case unix.BPF_RET | unix.BPF_K:
			return ins.K, steps, nil
		case unix.BPF_RET | unix.BPF_A:
			return a, steps, nil
		case unix.BPF_ALU | unix.BPF_NEG:
			a = -a
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(ins.K)
		default:
			src := ins.K
			if ins.Code&unix.BPF_X != 0 {
				src = x
			}
			switch ins.Code & 0x07 {
			case unix.BPF_ALU:
				if a, err = alu(ins.Code&0xf0, a, src); err != nil {
					return 0, steps, fmt.Errorf("seccomp: instruction %d: %w", pc-1, err)
				}
			case unix.BPF_JMP:
				var taken bool
				switch ins.Code & 0xf0 {
				case unix.BPF_JEQ:
					taken = a == src
				case unix.BPF_JGT:
					taken = a > src
				case unix.BPF_JGE:
					taken = a >= src
				case unix.BPF_JSET:
					taken = a&src != 0
				}
				if taken {
					pc += int(ins.Jt)
				} else {
					pc += int(ins.Jf)
				}
			default: // unreachable after Validate
				return 0, steps, perr(pc-1, "opcode %#04x not implemented", ins.Code)
			}
		}
	}
}

func alu(op uint16, a, src uint32) (uint32, error) {
	switch op {
	case unix.BPF_ADD:
		return a + src, nil
	case unix.BPF_SUB:
		return a - src, nil
	case unix.BPF_MUL:
		return a * src, nil
	case unix.BPF_DIV:
		if src == 0 {
			return 0, ErrDivideByZero
		}
		return a / src, nil
	case unix.BPF_AND:
		return a & src, nil
	case unix.BPF_OR:
		return a | src, nil
	case unix.BPF_XOR:
		return a ^ src, nil
	case unix.BPF_LSH:
		return a << (src & 31), nil
	case unix.BPF_RSH:
		return a >> (src & 31), nil
	}
	return 0, fmt.Errorf("ALU operation %#x not implemented", op)
}

// ConstAllow reports whether the kernel's seccomp action cache (kernel >=
// 5.11, seccomp_is_const_allow) would mark system call nr of architecture
// arch as always allowed by prog, so that the filter is skipped for it. It
// emulates prog the way the kernel does: only loads of nr and arch, RET K,
// JA, JEQ/JGE/JGT/JSET with a constant and AND with a constant are
// understood; anything else means "not cacheable". prog must be valid.
func ConstAllow(prog []unix.SockFilter, arch uint32, nr int32) bool {
	var reg uint32
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		switch ins.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			switch ins.K {
			case OffNr:
				reg = uint32(nr)
			case OffArch:
				reg = arch
			default:
				return false
			}
		case unix.BPF_RET | unix.BPF_K:
			return ins.K == unix.SECCOMP_RET_ALLOW
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(ins.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var taken bool
			switch ins.Code & 0xf0 {
			case unix.BPF_JEQ:
				taken = reg == ins.K
			case unix.BPF_JGE:
				taken = reg >= ins.K
			case unix.BPF_JGT:
				taken = reg > ins.K
			case unix.BPF_JSET:
				taken = reg&ins.K != 0
			}
			if taken {
				pc += int(ins.Jt)
			} else {
				pc += int(ins.Jf)
			}
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			reg &= ins.K
		default:
			return false
		}
	}
	return false
}
