package seccomp

import (
	"math"
	"math/bits"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// want is the stated semantics of Build, written independently of it.
func want(p Policy, arch uint32, nr int32) uint32 {
	foreign := func(data uint32) uint32 {
		if p.ForeignAction != 0 {
			return p.ForeignAction
		}
		return unix.SECCOMP_RET_TRACE | data
	}
	switch arch {
	case unix.AUDIT_ARCH_X86_64:
		if uint32(nr) >= 0x40000000 {
			return foreign(DataX32)
		}
		if slices.Contains(p.Traced, int(nr)) {
			return unix.SECCOMP_RET_TRACE | DataNative
		}
		return unix.SECCOMP_RET_ALLOW
	case unix.AUDIT_ARCH_I386:
		return foreign(DataI386)
	default:
		return unix.SECCOMP_RET_KILL_PROCESS
	}
}

func rangeInts(lo, hi int) []int {
	var out []int
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}

// randomSet returns n distinct numbers below limit, isolated from each
// other (no two adjacent: even numbers only) when scattered is set.
func randomSet(seed int64, n, limit int, scattered bool) []int {
	rng := rand.New(rand.NewSource(seed))
	step := 1
	if scattered {
		step = 2
	}
	if n > (limit+step-1)/step {
		panic("randomSet: set too large")
	}
	set := map[int]bool{}
	for len(set) < n {
		set[rng.Intn((limit+step-1)/step)*step] = true
	}
	var out []int
	for nr := range set {
		out = append(out, nr)
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func testPolicies() []struct {
	name string
	p    Policy
} {
	return []struct {
		name string
		p    Policy
	}{
		{"empty", Policy{}},
		{"one", Policy{Traced: []int{39}}},
		{"small", Policy{Traced: []int{0, 1, 2, 3, 59, 60, 231}}},
		{"unsorted-dups", Policy{Traced: []int{231, 2, 60, 2, 0, 59, 1, 3, 231}}},
		{"all-0-460", Policy{Traced: rangeInts(0, 460)}},
		{"zero-only", Policy{Traced: []int{0}}},
		{"top", Policy{Traced: []int{X32Bit - 1}}},
		{"everything", Policy{Traced: rangeInts(0, 460)}},
		{"random-150", Policy{Traced: randomSet(42, 150, 461, false)}},
		{"scattered-200", Policy{Traced: randomSet(7, 200, 461, true)}},
		{"odd-230", Policy{Traced: func() []int {
			var s []int
			for nr := 1; nr <= 460; nr += 2 {
				s = append(s, nr)
			}
			return s
		}()}},
		{"refuse-foreign", Policy{Traced: []int{39}, ForeignAction: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)}},
		{"kill-foreign", Policy{Traced: rangeInts(100, 300), ForeignAction: unix.SECCOMP_RET_KILL_PROCESS}},
	}
}

var (
	testArches = []uint32{unix.AUDIT_ARCH_X86_64, unix.AUDIT_ARCH_I386, unix.AUDIT_ARCH_AARCH64, 0, 0x40000003}
	specialNrs = []uint32{0x40000000 | 39, 0x40000000, 0x40000000 + 512, 0x3fffffff,
		0xffffffff, 0x7fffffff, 0x80000000, 0xbfffffff, 0xc0000000 | 39}
)

func TestBuildSemantics(t *testing.T) {
	for _, tc := range testPolicies() {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := Build(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(prog); err != nil {
				t.Fatal(err)
			}
			nrs := specialNrs
			for nr := uint32(0); nr <= 600; nr++ {
				nrs = append(nrs, nr)
			}
			for _, tr := range tc.p.Traced { // and the neighbours of each bound
				nrs = append(nrs, uint32(tr)-1, uint32(tr), uint32(tr)+1)
			}
			maxSteps := 0
			for _, arch := range testArches {
				for _, nr := range nrs {
					d := Data{Nr: int32(nr), Arch: arch, InstructionPointer: 0xdeadbeef, Args: [6]uint64{1, 2, 3}}
					got, steps, err := RunSteps(prog, d)
					if err != nil {
						t.Fatal(err)
					}
					w := want(tc.p, arch, int32(nr))
					if got != w {
						t.Fatalf("arch=%#x nr=%#x: got %s, want %s\n%s", arch, nr, ActionString(got), ActionString(w), Disassemble(prog))
					}
					// Allowed calls must be cacheable by the kernel; the
					// others must not (ConstAllow is only true for ALLOW).
					if ca := ConstAllow(prog, arch, int32(nr)); ca != (w == unix.SECCOMP_RET_ALLOW) {
						t.Fatalf("arch=%#x nr=%#x: ConstAllow = %v for %s", arch, nr, ca, ActionString(w))
					}
					if arch == unix.AUDIT_ARCH_X86_64 && steps > maxSteps {
						maxSteps = steps
					}
				}
			}
			// Per-call cost: ld arch, jeq, ld nr, jge x32, at most
			// 2*depth tree steps (each level may pass a JA trampoline), ret.
			segs, _ := segments(tc.p.Traced)
			depth := bits.Len(uint(len(segs) - 1))
			if limit := 5 + 2*depth; maxSteps > limit {
				t.Errorf("%d steps for a x86_64 call, want <= %d (%d segments)", maxSteps, limit, len(segs))
			}
			t.Logf("%d traced, %d segments: %d instructions, <= %d steps per x86_64 call",
				len(tc.p.Traced), len(segs), len(prog), maxSteps)
		})
	}
}

// TestBuildRandomSets checks many random sets, over the whole nr range
// that matters plus random 32-bit values.
func TestBuildRandomSets(t *testing.T) {
	rng := rand.New(rand.NewSource(99))
	for iter := range 200 {
		n := rng.Intn(461)
		limit := 461 + rng.Intn(600)
		p := Policy{Traced: randomSet(int64(iter), n, limit, rng.Intn(2) == 0 && n < 200)}
		prog, err := Build(p)
		if err != nil {
			t.Fatal(err)
		}
		for range 3000 {
			var nr uint32
			if rng.Intn(10) == 0 {
				nr = rng.Uint32()
			} else {
				nr = uint32(rng.Intn(limit + 10))
			}
			arch := uint32(unix.AUDIT_ARCH_X86_64)
			if rng.Intn(20) == 0 {
				arch = testArches[rng.Intn(len(testArches))]
			}
			got, err := Run(prog, Data{Nr: int32(nr), Arch: arch})
			if w := want(p, arch, int32(nr)); err != nil || got != w {
				t.Fatalf("iter %d, arch=%#x nr=%#x: got %s, %v, want %s", iter, arch, nr, ActionString(got), err, ActionString(w))
			}
		}
	}
}

// TestBuildSize checks that the program grows with the number of traced
// ranges, not with the numbers they contain, and that the tree is balanced.
func TestBuildSize(t *testing.T) {
	tests := []struct {
		name     string
		traced   []int
		maxLen   int
		maxSteps int
	}{
		{"empty", nil, 9, 5},
		{"all-0-460", rangeInts(0, 460), 11, 6},
		{"200-in-5-runs", slices.Concat(rangeInts(0, 39), rangeInts(100, 139), rangeInts(200, 239),
			rangeInts(300, 339), rangeInts(400, 439)), 20, 9},
		// 200 isolated numbers make 401 segments: a comparison tree needs
		// one JGE per segment boundary, but a call runs only about
		// log2(401) of them.
		{"200-scattered", randomSet(7, 200, 461, true), 420, 14},
		{"1000-scattered", randomSet(8, 1000, 1<<20, true), 2045, 18},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := Build(Policy{Traced: tc.traced})
			if err != nil {
				t.Fatal(err)
			}
			if len(prog) > tc.maxLen {
				t.Errorf("%d instructions, want <= %d", len(prog), tc.maxLen)
			}
			// Generic bound: one JGE per segment boundary, the fixed
			// prologue and epilogue, two verdict RETs per island and a few
			// JA trampolines high in the tree.
			segs, _ := segments(tc.traced)
			if bound := len(segs) + 10 + len(segs)/64; len(prog) > bound {
				t.Errorf("%d instructions for %d segments, want <= %d", len(prog), len(segs), bound)
			}
			maxSteps := 0
			for _, nr := range append(slices.Clone(tc.traced), rangeInts(0, 600)...) {
				_, steps, err := RunSteps(prog, Data{Nr: int32(nr), Arch: unix.AUDIT_ARCH_X86_64})
				if err != nil {
					t.Fatal(err)
				}
				maxSteps = max(maxSteps, steps)
			}
			if maxSteps > tc.maxSteps {
				t.Errorf("%d steps per call, want <= %d", maxSteps, tc.maxSteps)
			}
			t.Logf("%d instructions, <= %d steps", len(prog), maxSteps)
		})
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		want string
	}{
		{"negative", Policy{Traced: []int{1, -1}}, "out of range"},
		{"x32-number", Policy{Traced: []int{0x40000000 | 39}}, "out of range"},
		{"huge", Policy{Traced: []int{math.MaxInt32 + 10}}, "out of range"},
		{"too-many", Policy{Traced: randomSet(3, 3000, 1<<24, true)}, "BPF_MAXINSNS"},
		{"foreign-allow", Policy{ForeignAction: unix.SECCOMP_RET_ALLOW}, "bypass"},
		{"foreign-log", Policy{ForeignAction: unix.SECCOMP_RET_LOG}, "bypass"},
		{"foreign-junk", Policy{ForeignAction: 0x12340000}, "bypass"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := Build(tc.p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build = %d insns, %v; want error containing %q", len(prog), err, tc.want)
			}
		})
	}
}

func TestSegments(t *testing.T) {
	tests := []struct {
		traced []int
		want   []segment
	}{
		{nil, []segment{{0, false}}},
		{[]int{0}, []segment{{0, true}, {1, false}}},
		{[]int{39}, []segment{{0, false}, {39, true}, {40, false}}},
		{[]int{3, 1, 2, 7}, []segment{{0, false}, {1, true}, {4, false}, {7, true}, {8, false}}},
		{[]int{X32Bit - 1}, []segment{{0, false}, {X32Bit - 1, true}}},
		{[]int{0, 1, X32Bit - 2, X32Bit - 1}, []segment{{0, true}, {2, false}, {X32Bit - 2, true}}},
	}
	for _, tc := range tests {
		got, err := segments(tc.traced)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("segments(%v) = %v, %v; want %v", tc.traced, got, err, tc.want)
		}
	}
}

// FuzzBuild checks arbitrary traced sets against the stated semantics.
func FuzzBuild(f *testing.F) {
	f.Add([]byte{39, 0, 1, 0, 2, 0}, uint32(39), false)
	f.Add([]byte{0xff, 0xff}, uint32(0xffffffff), true)
	f.Fuzz(func(t *testing.T, set []byte, nr uint32, refuse bool) {
		p := Policy{}
		for i := 0; i+1 < len(set); i += 2 {
			p.Traced = append(p.Traced, int(set[i])|int(set[i+1]&3)<<8)
		}
		if refuse {
			p.ForeignAction = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
		}
		prog, err := Build(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []uint32{nr, nr & 0x3ff, nr&0x3ff | X32Bit} {
			for _, arch := range testArches {
				got, err := Run(prog, Data{Nr: int32(n), Arch: arch})
				if w := want(p, arch, int32(n)); err != nil || got != w {
					t.Fatalf("arch=%#x nr=%#x: got %s, %v, want %s", arch, n, ActionString(got), err, ActionString(w))
				}
			}
		}
	})
}
