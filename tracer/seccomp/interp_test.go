package seccomp

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

var (
	retA = stmt(unix.BPF_RET|unix.BPF_A, 0)
	tax  = stmt(unix.BPF_MISC|unix.BPF_TAX, 0)
	txa  = stmt(unix.BPF_MISC|unix.BPF_TXA, 0)
)

func ldAbs(off uint32) unix.SockFilter { return stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, off) }
func ldImm(k uint32) unix.SockFilter   { return stmt(unix.BPF_LD|unix.BPF_IMM, k) }
func ldxImm(k uint32) unix.SockFilter  { return stmt(unix.BPF_LDX|unix.BPF_IMM, k) }
func aluK(op uint16, k uint32) unix.SockFilter {
	return stmt(unix.BPF_ALU|op|unix.BPF_K, k)
}
func aluX(op uint16) unix.SockFilter { return stmt(unix.BPF_ALU|op|unix.BPF_X, 0) }
func ret(k uint32) unix.SockFilter   { return stmt(unix.BPF_RET|unix.BPF_K, k) }

var testData = Data{
	Nr:                 -2,
	Arch:               unix.AUDIT_ARCH_X86_64,
	InstructionPointer: 0x1122334455667788,
	Args:               [6]uint64{0xa0a0a0a0b0b0b0b0, 1, 2 << 32, 3, 4, 0xffffffff00000005},
}

func TestRun(t *testing.T) {
	tests := []struct {
		name  string
		prog  []unix.SockFilter
		want  uint32
		steps int
	}{
		{"ret-k", []unix.SockFilter{ret(42)}, 42, 1},
		{"ld-nr", []unix.SockFilter{ldAbs(OffNr), retA}, 0xfffffffe, 2},
		{"ld-arch", []unix.SockFilter{ldAbs(OffArch), retA}, unix.AUDIT_ARCH_X86_64, 2},
		{"ld-ip-lo", []unix.SockFilter{ldAbs(OffIP), retA}, 0x55667788, 2},
		{"ld-ip-hi", []unix.SockFilter{ldAbs(OffIP + 4), retA}, 0x11223344, 2},
		{"ld-arg0-lo", []unix.SockFilter{ldAbs(OffArgs), retA}, 0xb0b0b0b0, 2},
		{"ld-arg0-hi", []unix.SockFilter{ldAbs(OffArgs + 4), retA}, 0xa0a0a0a0, 2},
		{"ld-arg1-lo", []unix.SockFilter{ldAbs(OffArgs + 8), retA}, 1, 2},
		{"ld-arg2-hi", []unix.SockFilter{ldAbs(OffArgs + 20), retA}, 2, 2},
		{"ld-arg5-lo", []unix.SockFilter{ldAbs(OffArgs + 40), retA}, 5, 2},
		{"ld-arg5-hi", []unix.SockFilter{ldAbs(60), retA}, 0xffffffff, 2},
		{"ld-len", []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_LEN, 0), retA}, 64, 2},
		{"ldx-len", []unix.SockFilter{stmt(unix.BPF_LDX|unix.BPF_W|unix.BPF_LEN, 0), txa, retA}, 64, 3},
		{"ld-imm", []unix.SockFilter{ldImm(7), retA}, 7, 2},
		{"ldx-imm-txa", []unix.SockFilter{ldxImm(9), txa, retA}, 9, 3},
		{"tax", []unix.SockFilter{ldImm(3), tax, ldImm(0), aluX(unix.BPF_ADD), retA}, 3, 5},
		{"add", []unix.SockFilter{ldImm(0xffffffff), aluK(unix.BPF_ADD, 2), retA}, 1, 3},
		{"sub", []unix.SockFilter{ldImm(1), aluK(unix.BPF_SUB, 2), retA}, 0xffffffff, 3},
		{"mul", []unix.SockFilter{ldImm(0x10000), aluK(unix.BPF_MUL, 0x10001), retA}, 0x10000, 3},
		{"div", []unix.SockFilter{ldImm(100), aluK(unix.BPF_DIV, 7), retA}, 14, 3},
		{"div-x", []unix.SockFilter{ldxImm(7), ldImm(100), aluX(unix.BPF_DIV), retA}, 14, 4},
		{"and", []unix.SockFilter{ldImm(0xf0f0), aluK(unix.BPF_AND, 0xff00), retA}, 0xf000, 3},
		{"or", []unix.SockFilter{ldImm(0xf0f0), aluK(unix.BPF_OR, 0xff00), retA}, 0xfff0, 3},
		{"xor", []unix.SockFilter{ldImm(0xf0f0), aluK(unix.BPF_XOR, 0xff00), retA}, 0x0ff0, 3},
		{"lsh", []unix.SockFilter{ldImm(3), aluK(unix.BPF_LSH, 31), retA}, 0x80000000, 3},
		{"rsh", []unix.SockFilter{ldImm(0x80000000), aluK(unix.BPF_RSH, 31), retA}, 1, 3},
		{"lsh-x-masked", []unix.SockFilter{ldxImm(33), ldImm(1), aluX(unix.BPF_LSH), retA}, 2, 4},
		{"neg", []unix.SockFilter{ldImm(1), stmt(unix.BPF_ALU|unix.BPF_NEG, 0), retA}, 0xffffffff, 3},
		{"mem", []unix.SockFilter{ldImm(5), stmt(unix.BPF_ST, 3), ldxImm(6), stmt(unix.BPF_STX, 15),
			ldImm(0), stmt(unix.BPF_LD|unix.BPF_MEM, 3), stmt(unix.BPF_LDX|unix.BPF_MEM, 15),
			aluX(unix.BPF_MUL), retA}, 30, 9},
		{"ja", []unix.SockFilter{stmt(unix.BPF_JMP|unix.BPF_JA, 1), ret(1), ret(2)}, 2, 2},
		{"ja-0", []unix.SockFilter{stmt(unix.BPF_JMP|unix.BPF_JA, 0), ret(1)}, 1, 2},
		{"jeq-taken", []unix.SockFilter{ldImm(5), jump(opJEQ, 5, 1, 0), ret(1), ret(2)}, 2, 3},
		{"jeq-not", []unix.SockFilter{ldImm(6), jump(opJEQ, 5, 1, 0), ret(1), ret(2)}, 1, 3},
		{"jgt-eq", []unix.SockFilter{ldImm(5), jump(unix.BPF_JMP|unix.BPF_JGT|unix.BPF_K, 5, 1, 0), ret(1), ret(2)}, 1, 3},
		{"jgt-unsigned", []unix.SockFilter{ldImm(0xffffffff), jump(unix.BPF_JMP|unix.BPF_JGT|unix.BPF_K, 5, 1, 0), ret(1), ret(2)}, 2, 3},
		{"jge-eq", []unix.SockFilter{ldImm(5), jump(opJGE, 5, 1, 0), ret(1), ret(2)}, 2, 3},
		{"jge-less", []unix.SockFilter{ldImm(4), jump(opJGE, 5, 1, 0), ret(1), ret(2)}, 1, 3},
		{"jset", []unix.SockFilter{ldImm(6), jump(unix.BPF_JMP|unix.BPF_JSET|unix.BPF_K, 4, 1, 0), ret(1), ret(2)}, 2, 3},
		{"jset-not", []unix.SockFilter{ldImm(6), jump(unix.BPF_JMP|unix.BPF_JSET|unix.BPF_K, 1, 1, 0), ret(1), ret(2)}, 1, 3},
		{"jeq-x", []unix.SockFilter{ldxImm(9), ldImm(9), jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_X, 0, 0, 1), ret(1), ret(2)}, 1, 4},
		{"jf-far", []unix.SockFilter{ldImm(0), jump(opJEQ, 1, 0, 2), ret(1), ret(2), ret(3)}, 3, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, steps, err := RunSteps(tc.prog, testData)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || steps != tc.steps {
				t.Errorf("got %#x in %d steps, want %#x in %d\n%s", got, steps, tc.want, tc.steps, Disassemble(tc.prog))
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	long := make([]unix.SockFilter, unix.BPF_MAXINSNS+1)
	for i := range long {
		long[i] = ret(0)
	}
	tests := []struct {
		name string
		prog []unix.SockFilter
		want string
	}{
		{"empty", nil, "length 0"},
		{"too-long", long, "length 4097"},
		{"no-ret", []unix.SockFilter{ldImm(1)}, "not a RET"},
		{"ret-not-last", []unix.SockFilter{ret(1), ldImm(1)}, "not a RET"},
		{"ld-abs-oob", []unix.SockFilter{ldAbs(64), retA}, "outside"},
		{"ld-abs-huge", []unix.SockFilter{ldAbs(0xfffffffc), retA}, "outside"},
		{"ld-abs-unaligned", []unix.SockFilter{ldAbs(2), retA}, "unaligned"},
		{"ld-half", []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_H|unix.BPF_ABS, 0), retA}, "not allowed"},
		{"ld-byte", []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_B|unix.BPF_ABS, 0), retA}, "not allowed"},
		{"ld-ind", []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_IND, 0), retA}, "not allowed"},
		{"mod", []unix.SockFilter{ldImm(1), aluK(unix.BPF_MOD, 3), retA}, "not allowed"},
		{"ret-x", []unix.SockFilter{stmt(unix.BPF_RET|unix.BPF_X, 0)}, "not allowed"},
		{"junk-opcode", []unix.SockFilter{stmt(0xffff, 0), ret(0)}, "not allowed"},
		{"div-zero-k", []unix.SockFilter{ldImm(1), aluK(unix.BPF_DIV, 0), retA}, "division by constant zero"},
		{"lsh-32", []unix.SockFilter{aluK(unix.BPF_LSH, 32), retA}, "shift"},
		{"rsh-big", []unix.SockFilter{aluK(unix.BPF_RSH, 1<<31), retA}, "shift"},
		{"mem-oob", []unix.SockFilter{stmt(unix.BPF_ST, 16), ret(0)}, "scratch index"},
		{"ldmem-oob", []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_MEM, 0xffffffff), ret(0)}, "scratch index"},
		{"mem-uninit", []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_MEM, 0), retA}, "before it is written"},
		{"mem-one-path", []unix.SockFilter{
			ldAbs(OffNr), jump(opJEQ, 1, 0, 1), stmt(unix.BPF_ST, 2),
			stmt(unix.BPF_LDX|unix.BPF_MEM, 2), retA}, "M[2]"},
		{"ja-past-end", []unix.SockFilter{stmt(unix.BPF_JMP|unix.BPF_JA, 1), ret(0)}, "past the end"},
		{"ja-huge", []unix.SockFilter{stmt(unix.BPF_JMP|unix.BPF_JA, 0xffffffff), ret(0)}, "past the end"},
		{"jt-past-end", []unix.SockFilter{jump(opJEQ, 0, 1, 0), ret(0)}, "past the end"},
		{"jf-past-end", []unix.SockFilter{jump(opJEQ, 0, 0, 255), ret(0)}, "past the end"},
		{"jump-last", []unix.SockFilter{ret(0), jump(opJEQ, 0, 0, 0)}, "past the end"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.prog)
			var pe *ProgramError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want *ProgramError containing %q", err, tc.want)
			}
			// Run must refuse too, never panic.
			if r, err := Run(tc.prog, testData); err == nil {
				t.Fatalf("Run = %#x, nil", r)
			}
			_ = ConstAllow(tc.prog, unix.AUDIT_ARCH_X86_64, 0) // must not panic
			_ = Disassemble(tc.prog)
		})
	}
}

func TestValidateMemoryPaths(t *testing.T) {
	// Stored on both paths: accepted.
	prog := []unix.SockFilter{
		ldAbs(OffNr),
		jump(opJEQ, 1, 0, 2),
		stmt(unix.BPF_ST, 2),
		stmt(unix.BPF_JMP|unix.BPF_JA, 1),
		stmt(unix.BPF_ST, 2),
		stmt(unix.BPF_LD|unix.BPF_MEM, 2),
		retA,
	}
	for _, nr := range []int32{1, 2} {
		if got, err := Run(prog, Data{Nr: nr}); err != nil || got != uint32(nr) {
			t.Errorf("nr=%d: got %d, %v", nr, got, err)
		}
	}
	// After a jump the next instruction's state comes only from the jumps
	// to it, as in the kernel: instruction 5 is reached only from 3, where
	// M[0] is set, although the JA before it runs without M[0].
	prog = []unix.SockFilter{
		ldAbs(OffNr),
		jump(opJEQ, 1, 0, 2),
		stmt(unix.BPF_ST, 0),
		jump(opJEQ, 5, 1, 0),
		stmt(unix.BPF_JMP|unix.BPF_JA, 1),
		stmt(unix.BPF_LD|unix.BPF_MEM, 0),
		retA,
	}
	if err := Validate(prog); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestRunDivideByZero(t *testing.T) {
	prog := []unix.SockFilter{ldImm(1), ldxImm(0), aluX(unix.BPF_DIV), retA}
	if _, err := Run(prog, testData); !errors.Is(err, ErrDivideByZero) {
		t.Fatalf("got %v, want ErrDivideByZero", err)
	}
}

func TestConstAllow(t *testing.T) {
	tests := []struct {
		name string
		prog []unix.SockFilter
		want bool
	}{
		{"allow", []unix.SockFilter{ret(unix.SECCOMP_RET_ALLOW)}, true},
		{"trace", []unix.SockFilter{ret(unix.SECCOMP_RET_TRACE)}, false},
		{"nr-check", []unix.SockFilter{ldAbs(OffNr), jump(opJEQ, 39, 0, 1), ret(unix.SECCOMP_RET_ALLOW), ret(0)}, true},
		{"and", []unix.SockFilter{ldAbs(OffNr), aluK(unix.BPF_AND, 0xff00), jump(opJEQ, 0, 0, 1), ret(unix.SECCOMP_RET_ALLOW), ret(0)}, true},
		{"arg-check", []unix.SockFilter{ldAbs(OffArgs), jump(opJEQ, 0, 0, 1), ret(unix.SECCOMP_RET_ALLOW), ret(0)}, false},
		{"ret-a", []unix.SockFilter{ldImm(unix.SECCOMP_RET_ALLOW), retA}, false},
		{"tax", []unix.SockFilter{ldAbs(OffNr), tax, ret(unix.SECCOMP_RET_ALLOW)}, false},
	}
	for _, tc := range tests {
		if got := ConstAllow(tc.prog, unix.AUDIT_ARCH_X86_64, 39); got != tc.want {
			t.Errorf("%s: ConstAllow = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDisassemble(t *testing.T) {
	prog := []unix.SockFilter{
		ldAbs(OffArch),
		jump(opJEQ, unix.AUDIT_ARCH_X86_64, 0, 5),
		ldAbs(OffArgs + 12),
		aluX(unix.BPF_ADD),
		stmt(unix.BPF_JMP|unix.BPF_JA, 1),
		ret(unix.SECCOMP_RET_ERRNO | 38),
		ret(unix.SECCOMP_RET_TRACE | DataX32),
		{Code: 0xffff},
	}
	want := `0000: ld [4] ; arch
0001: jeq #0xc000003e, 2, 7
0002: ld [28] ; args[1].hi
0003: add x
0004: ja 6
0005: ret #0x50026 ; ERRNO|38
0006: ret #0x7ff04802 ; TRACE|18434
0007: .insn code=0xffff jt=0 jf=0 k=0x0
`
	if got := Program(prog).String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// decodeProg turns bytes into instructions, 8 bytes each as in struct
// sock_filter (little endian).
func decodeProg(b []byte) []unix.SockFilter {
	prog := make([]unix.SockFilter, 0, len(b)/8)
	for ; len(b) >= 8; b = b[8:] {
		prog = append(prog, unix.SockFilter{
			Code: binary.LittleEndian.Uint16(b),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.LittleEndian.Uint32(b[4:]),
		})
	}
	return prog
}

func decodeData(b []byte) Data {
	var buf [SizeofData]byte
	copy(buf[:], b)
	d := Data{
		Nr:                 int32(binary.LittleEndian.Uint32(buf[0:])),
		Arch:               binary.LittleEndian.Uint32(buf[4:]),
		InstructionPointer: binary.LittleEndian.Uint64(buf[8:]),
	}
	for i := range d.Args {
		d.Args[i] = binary.LittleEndian.Uint64(buf[16+8*i:])
	}
	return d
}

func encodeProg(prog []unix.SockFilter) []byte {
	var out []byte
	for _, ins := range prog {
		out = binary.LittleEndian.AppendUint16(out, ins.Code)
		out = append(out, ins.Jt, ins.Jf)
		out = binary.LittleEndian.AppendUint32(out, ins.K)
	}
	return out
}

func TestDecodeDataMatchesLoads(t *testing.T) {
	// Loading word i of the raw bytes must equal the i-th little-endian word.
	raw := make([]byte, SizeofData)
	for i := range raw {
		raw[i] = byte(i*7 + 3)
	}
	d := decodeData(raw)
	for off := uint32(0); off < SizeofData; off += 4 {
		got, err := Run([]unix.SockFilter{ldAbs(off), retA}, d)
		if want := binary.LittleEndian.Uint32(raw[off:]); err != nil || got != want {
			t.Errorf("ld [%d] = %#x, %v; want %#x", off, got, err, want)
		}
	}
}

func FuzzRun(f *testing.F) {
	p, err := Build(Policy{Traced: []int{0, 1, 2, 59, 231}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(encodeProg(p), []byte{39, 0, 0, 0, 0x3e, 0, 0, 0xc0})
	f.Add(encodeProg([]unix.SockFilter{ldAbs(OffNr), jump(opJEQ, 1, 0, 1), ret(1), retA}), []byte{1})
	f.Add(encodeProg([]unix.SockFilter{ldxImm(0), aluX(unix.BPF_DIV), retA}), []byte{})
	f.Add(encodeProg([]unix.SockFilter{stmt(unix.BPF_ST, 1), stmt(unix.BPF_LD|unix.BPF_MEM, 1), retA}), []byte{})
	f.Fuzz(func(t *testing.T, progBytes, dataBytes []byte) {
		prog := decodeProg(progBytes)
		d := decodeData(dataBytes)
		r, steps, err := RunSteps(prog, d)
		_ = Disassemble(prog)
		allowed := ConstAllow(prog, d.Arch, d.Nr)
		if err != nil {
			return
		}
		// Jumps only go forward, so no instruction runs twice.
		if steps < 1 || steps > len(prog) {
			t.Fatalf("%d steps for %d instructions", steps, len(prog))
		}
		// The kernel's cache may only mark a call allowed if the filter
		// really allows it.
		if allowed && r != unix.SECCOMP_RET_ALLOW {
			t.Fatalf("ConstAllow true but filter returns %#x\n%s", r, Disassemble(prog))
		}
	})
}

func BenchmarkRun(b *testing.B) {
	var traced []int
	for nr := 0; nr < 460; nr += 3 {
		traced = append(traced, nr)
	}
	prog, err := Build(Policy{Traced: traced})
	if err != nil {
		b.Fatal(err)
	}
	d := Data{Nr: 100, Arch: unix.AUDIT_ARCH_X86_64}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(prog, d); err != nil {
			b.Fatal(err)
		}
	}
}
