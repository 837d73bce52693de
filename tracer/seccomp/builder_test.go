package seccomp

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const (
	opJEQ = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJGE = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	opADD = unix.BPF_ALU | unix.BPF_ADD | unix.BPF_K
	opXOR = unix.BPF_ALU | unix.BPF_XOR | unix.BPF_K
	opLDI = unix.BPF_LD | unix.BPF_IMM
)

// filler adds n "add #1" instructions.
func filler(b *Builder, n int) {
	for range n {
		b.Stmt(opADD, 1)
	}
}

// countTrampolines counts instructions beyond the builder's own.
func countTrampolines(b *Builder, prog []unix.SockFilter) int {
	return len(prog) - b.Len()
}

func TestBuilderFarJumps(t *testing.T) {
	tests := []struct {
		name  string
		gap   int // filler instructions between the branch and its target
		retA  bool
		tramp int // expected trampolines
	}{
		// Both branches jump gap+1 instructions forward.
		{"near", 10, false, 0},
		{"exactly255", 254, false, 0},
		{"just256", 255, false, 2},
		{"far-ret", 1000, false, 2},
		{"far-ret-a", 1000, true, 2},
		{"very-far", 3000, false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// ld nr; jeq #5, L5, next; jeq #6, L6, next (falls into fillers)
			// fillers...; ret #1; L5: ret #5 (or ret a); L6: ld #6; ret a
			b := NewBuilder()
			b.LoadAbs(OffNr)
			b.JumpIf(opJEQ, 5, "L5", "")
			b.JumpIf(opJEQ, 6, "L6", "")
			filler(b, tc.gap-1)
			b.Ret(1)
			b.Label("L5")
			if tc.retA {
				b.Stmt(unix.BPF_RET|unix.BPF_A, 0)
			} else {
				b.Ret(5)
			}
			b.Label("L6")
			b.Stmt(opLDI, 6)
			b.Stmt(unix.BPF_RET|unix.BPF_A, 0)
			prog, err := b.Assemble()
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(prog); err != nil {
				t.Fatalf("%v\n%s", err, Disassemble(prog))
			}
			if got := countTrampolines(b, prog); got != tc.tramp {
				t.Errorf("trampolines = %d, want %d\n%s", got, tc.tramp, Disassemble(prog))
			}
			for _, c := range []struct {
				nr   int32
				want uint32
			}{{5, 5}, {6, 6}, {7, 1}, {0, 1}} {
				if tc.retA && c.nr == 5 {
					c.want = 5 // A still holds nr
				}
				got, steps, err := RunSteps(prog, Data{Nr: c.nr})
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("nr=%d: got %d, want %d\n%s", c.nr, got, c.want, Disassemble(prog))
				}
				// A trampoline to a RET is a copy of it: no extra step.
				if c.nr == 5 && steps != 3 {
					t.Errorf("nr=5: %d steps, want 3 (ld, jeq, ret)", steps)
				}
			}
		})
	}
}

// TestBuilderTrampolineJA covers a far conditional jump whose target is
// not a RET (so the trampoline must be a JA) and chains where adding one
// trampoline pushes other jumps out of range.
func TestBuilderTrampolineJA(t *testing.T) {
	b := NewBuilder()
	b.LoadAbs(OffNr)
	// Instructions 1..20 branch to L, each just within 255 at first;
	// instructions 21..40 branch to the far T and get trampolines, which
	// push L out of reach of the first twenty: the layout must iterate.
	for i := range 20 {
		b.JumpIf(opJEQ, uint32(i), "L", "")
	}
	for i := range 20 {
		b.JumpIf(opJEQ, uint32(100+i), "T", "")
	}
	filler(b, 215)
	b.Ret(1000)
	b.Label("L")
	b.Stmt(opXOR, 0x200) // not a RET: trampolines must be JAs
	b.Stmt(unix.BPF_RET|unix.BPF_A, 0)
	filler(b, 300)
	b.Label("T")
	b.Stmt(opXOR, 0x100)
	b.Stmt(unix.BPF_RET|unix.BPF_A, 0)
	prog, err := b.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(prog); err != nil {
		t.Fatal(err)
	}
	if got := countTrampolines(b, prog); got != 40 {
		t.Errorf("trampolines = %d, want 40\n%s", got, Disassemble(prog))
	}
	for nr := int32(0); nr < 130; nr++ {
		var want uint32
		switch {
		case nr < 20:
			want = uint32(nr) ^ 0x200
		case nr >= 100 && nr < 120:
			want = uint32(nr) ^ 0x100
		default:
			want = 1000
		}
		got, err := Run(prog, Data{Nr: nr})
		if err != nil || got != want {
			t.Errorf("nr=%d: got %d, %v; want %d", nr, got, err, want)
		}
	}
}

func TestBuilderErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *Builder)
		want  string
	}{
		{"undefined", func(b *Builder) { b.JumpIf(opJEQ, 1, "nowhere", ""); b.Ret(0) }, "undefined label"},
		{"backward", func(b *Builder) { b.Label("L"); b.Ret(0); b.Jump("L"); b.Ret(0) }, "backward"},
		{"self", func(b *Builder) { b.Label("L"); b.Jump("L"); b.Ret(0) }, "backward"},
		{"past-end", func(b *Builder) { b.Jump("L"); b.Ret(0); b.Label("L") }, "past the end"},
		{"fallthrough-past-end", func(b *Builder) { b.Ret(0); b.JumpIf(opJEQ, 1, "", "") }, "past the end"},
		{"duplicate", func(b *Builder) { b.Label("L"); b.Label("L"); b.Ret(0) }, "twice"},
		{"stmt-jump", func(b *Builder) { b.Stmt(opJEQ, 0); b.Ret(0) }, "Stmt used for jump"},
		{"jumpif-ja", func(b *Builder) { b.JumpIf(unix.BPF_JMP|unix.BPF_JA, 0, "", ""); b.Ret(0) }, "non-conditional"},
		{"empty", func(b *Builder) {}, "empty program"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuilder()
			tc.build(b)
			prog, err := b.Assemble()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want error containing %q", prog, err, tc.want)
			}
		})
	}
}

// refRun executes the builder's instructions before layout (labels
// resolved directly, no 8-bit limit), as a reference for Assemble.
func refRun(t *testing.T, b *Builder, d Data) uint32 {
	t.Helper()
	var a uint32
	pc := 0
	for {
		p := b.insns[pc]
		switch {
		case p.isJA:
			tgt, err := b.target(pc, p.ja)
			if err != nil {
				t.Fatal(err)
			}
			pc = tgt
			continue
		case p.isCond:
			lbl := p.jf
			if a == p.ins.K {
				lbl = p.jt
			}
			tgt, err := b.target(pc, lbl)
			if err != nil {
				t.Fatal(err)
			}
			pc = tgt
			continue
		}
		switch p.ins.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			a = d.word(p.ins.K)
		case opADD:
			a += p.ins.K
		case opXOR:
			a ^= p.ins.K
		case unix.BPF_RET | unix.BPF_A:
			return a
		case unix.BPF_RET | unix.BPF_K:
			return p.ins.K
		default:
			t.Fatalf("refRun: unexpected opcode %#x", p.ins.Code)
		}
		pc++
	}
}

// TestBuilderRandom assembles random programs with many long forward jumps
// and compares the interpreter on the result with a reference run of the
// unassembled instructions.
func TestBuilderRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := range 60 {
		n := 50 + rng.Intn(1500)
		b := NewBuilder()
		kinds := make([]int, n)
		targets := make([]int, n)
		used := make(map[int]bool)
		for i := range n - 1 {
			kinds[i] = rng.Intn(6)
			if kinds[i] >= 4 { // jump: pick a forward target, often far
				targets[i] = i + 1 + rng.Intn(n-1-i)
				used[targets[i]] = true
			}
		}
		for i := range n {
			if used[i] {
				b.Label(fmt.Sprintf("L%d", i))
			}
			if i == n-1 {
				b.Stmt(unix.BPF_RET|unix.BPF_A, 0)
				break
			}
			switch kinds[i] {
			case 0:
				b.LoadAbs(OffArgs + 4*uint32(rng.Intn(12)))
			case 1:
				b.Stmt(opADD, uint32(rng.Intn(3)))
			case 2:
				b.Stmt(opXOR, uint32(rng.Intn(4)))
			case 3:
				if rng.Intn(8) == 0 {
					b.Ret(uint32(rng.Intn(1000)))
				} else {
					b.Stmt(opADD, 0)
				}
			case 4:
				b.JumpIf(opJEQ, uint32(rng.Intn(4)), fmt.Sprintf("L%d", targets[i]), "")
			case 5:
				if rng.Intn(2) == 0 {
					b.Jump(fmt.Sprintf("L%d", targets[i]))
				} else {
					b.JumpIf(opJEQ, uint32(rng.Intn(4)), "", fmt.Sprintf("L%d", targets[i]))
				}
			}
		}
		prog, err := b.Assemble()
		if err != nil {
			t.Fatal(err)
		}
		if len(prog) > unix.BPF_MAXINSNS {
			continue
		}
		for range 30 {
			var d Data
			for j := range d.Args {
				d.Args[j] = uint64(rng.Intn(4)) | uint64(rng.Intn(4))<<32
			}
			want := refRun(t, b, d)
			got, err := Run(prog, d)
			if err != nil || got != want {
				t.Fatalf("iter %d (%d insns, %d trampolines): got %d, %v; want %d",
					iter, len(prog), countTrampolines(b, prog), got, err, want)
			}
		}
	}
}
