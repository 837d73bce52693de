package seccomp

import (
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
)

// Values in the low 16 bits (SECCOMP_RET_DATA) of the SECCOMP_RET_TRACE
// results of a Build filter; the tracer reads them with PTRACE_GETEVENTMSG
// to learn which system call table the trapped call belongs to.
// They carry a tag ('H' in the high byte) so that a stop caused by a
// SECCOMP_RET_TRACE of a filter the traced program installed itself (whose
// data is most often 0) can be told apart from hermes's own.
const (
	DataNative = 0x4800 // x86_64 call whose number is in Policy.Traced
	DataI386   = 0x4801 // i386 call (int 0x80, AUDIT_ARCH_I386)
	DataX32    = 0x4802 // AUDIT_ARCH_X86_64 call with nr >= X32Bit (x32 ABI, or junk)
)

// X32Bit is __X32_SYSCALL_BIT. Any x86_64 nr at or above it, read as
// unsigned (so -1 too), is treated as foreign by Build.
const X32Bit = 0x40000000

// Policy describes the filter hermes installs in a tracee.
type Policy struct {
	// Traced lists x86_64 system call numbers to trap with
	// SECCOMP_RET_TRACE|DataNative. Every other x86_64 call is allowed by
	// nr and arch alone. Numbers must be in 0..X32Bit-1; duplicates and
	// order do not matter. Recent kernels run the x86_64 uretprobe and
	// uprobe system calls without consulting any filter, so listing them
	// has no effect there.
	Traced []int

	// ForeignAction is the result for i386 and x32 calls. The zero value
	// means trace them: SECCOMP_RET_TRACE|DataI386 or SECCOMP_RET_TRACE|
	// DataX32. Any other value is returned as is for both, for instance
	// SECCOMP_RET_ERRNO|ENOSYS to refuse them, or SECCOMP_RET_KILL_PROCESS
	// (SECCOMP_RET_KILL_THREAD, being 0, cannot be chosen). Actions that
	// would let the call run untraced (ALLOW, LOG) are rejected by Build.
	ForeignAction uint32
}

// Build compiles p into a seccomp filter:
//
//	arch == AUDIT_ARCH_X86_64:
//	    nr >= X32Bit (unsigned)  -> foreign(DataX32)
//	    nr in p.Traced           -> SECCOMP_RET_TRACE|DataNative
//	    otherwise                -> SECCOMP_RET_ALLOW
//	arch == AUDIT_ARCH_I386      -> foreign(DataI386)
//	any other arch               -> SECCOMP_RET_KILL_PROCESS
//
// where foreign(d) is SECCOMP_RET_TRACE|d, or p.ForeignAction if set.
// Traced numbers become sorted ranges searched by a balanced tree of JGE
// comparisons: the program is linear in the number of ranges (about one
// instruction per range boundary, so ~2 per isolated number), a call runs
// O(log ranges) instructions (about 14 for 200 isolated numbers). Build
// fails if the program would exceed BPF_MAXINSNS instructions (around 2000
// isolated numbers).
func Build(p Policy) ([]unix.SockFilter, error) {
	foreignI386 := uint32(unix.SECCOMP_RET_TRACE | DataI386)
	foreignX32 := uint32(unix.SECCOMP_RET_TRACE | DataX32)
	if p.ForeignAction != 0 {
		switch p.ForeignAction & unix.SECCOMP_RET_ACTION_FULL {
		case unix.SECCOMP_RET_KILL_PROCESS, unix.SECCOMP_RET_KILL_THREAD,
			unix.SECCOMP_RET_TRAP, unix.SECCOMP_RET_ERRNO,
			unix.SECCOMP_RET_USER_NOTIF, unix.SECCOMP_RET_TRACE:
		default:
			return nil, fmt.Errorf("seccomp: ForeignAction %s would let i386/x32 calls bypass the tracer",
				ActionString(p.ForeignAction))
		}
		foreignI386, foreignX32 = p.ForeignAction, p.ForeignAction
	}
	segs, err := segments(p.Traced)
	if err != nil {
		return nil, err
	}

	b := NewBuilder()
	b.LoadAbs(OffArch)
	b.JumpIf(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, unix.AUDIT_ARCH_X86_64, "", "not_x86_64")
	// x86_64.
	b.LoadAbs(OffNr)
	b.JumpIf(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, X32Bit, "x32", "")
	t := &treeGen{b: b, segs: segs}
	t.emit(0, len(segs)-1, "", "")
	b.Label("x32")
	b.Ret(foreignX32)
	// Other architectures.
	b.Label("not_x86_64")
	b.JumpIf(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, unix.AUDIT_ARCH_I386, "", "kill")
	b.Ret(foreignI386)
	b.Label("kill")
	b.Ret(unix.SECCOMP_RET_KILL_PROCESS)

	prog, err := b.Assemble()
	if err != nil {
		return nil, err
	}
	if len(prog) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp: filter for %d traced system calls needs %d instructions, more than BPF_MAXINSNS (%d)",
			len(p.Traced), len(prog), unix.BPF_MAXINSNS)
	}
	return prog, nil
}

// segment is a maximal interval [start, next segment's start) of x86_64
// numbers below X32Bit with one verdict.
type segment struct {
	start uint32
	trace bool
}

// segments turns the traced numbers into the alternating segments that
// cover 0..X32Bit-1.
func segments(traced []int) ([]segment, error) {
	nrs := slices.Clone(traced)
	slices.Sort(nrs)
	nrs = slices.Compact(nrs)
	if len(nrs) > 0 && (nrs[0] < 0 || nrs[len(nrs)-1] >= X32Bit) {
		bad := nrs[0]
		if bad >= 0 {
			bad = nrs[len(nrs)-1]
		}
		return nil, fmt.Errorf("seccomp: traced system call number %d out of range 0..%#x", bad, X32Bit-1)
	}
	var segs []segment
	next := uint32(0) // first number not yet covered
	for i := 0; i < len(nrs); {
		j := i
		for j+1 < len(nrs) && nrs[j+1] == nrs[j]+1 {
			j++
		}
		if lo := uint32(nrs[i]); lo > next {
			segs = append(segs, segment{start: next})
		}
		segs = append(segs, segment{start: uint32(nrs[i]), trace: true})
		next = uint32(nrs[j]) + 1
		i = j + 1
	}
	if next < X32Bit {
		segs = append(segs, segment{start: next})
	}
	return segs, nil
}

// treeGen emits the balanced comparison tree over segments.
//
// Leaves of the tree jump to verdict RETs. Instead of one shared pair of
// RETs at the end of the filter, which most leaves could only reach through
// trampolines, every subtree of at most islandSegs segments is followed by
// its own "ret TRACE; ret ALLOW" pair, always within 8-bit reach. (The end
// of a subtree's code is never reached by falling through: its last node
// jumps on both branches.)
type treeGen struct {
	b      *Builder
	segs   []segment
	nlabel int
}

// islandSegs bounds the subtrees sharing one pair of verdict RETs: a
// subtree of n segments has n-1 nodes, so its farthest jump to the pair
// spans n instructions.
const islandSegs = 250

func (t *treeGen) label(prefix string) string {
	t.nlabel++
	return fmt.Sprintf("%s%d", prefix, t.nlabel)
}

// emit generates code dispatching A (the nr, known to lie in segments
// lo..hi) to the verdicts. traceL and allowL are the verdict labels, or ""
// if no enclosing subtree has set up its verdict RETs yet.
func (t *treeGen) emit(lo, hi int, traceL, allowL string) {
	if lo == hi { // only at the root: a single segment covers everything
		if t.segs[lo].trace {
			t.b.Ret(unix.SECCOMP_RET_TRACE | DataNative)
		} else {
			t.b.Ret(unix.SECCOMP_RET_ALLOW)
		}
		return
	}
	if traceL == "" && hi-lo+1 <= islandSegs {
		traceL, allowL = t.label("trace"), t.label("allow")
		t.emit(lo, hi, traceL, allowL)
		t.b.Label(traceL)
		t.b.Ret(unix.SECCOMP_RET_TRACE | DataNative)
		t.b.Label(allowL)
		t.b.Ret(unix.SECCOMP_RET_ALLOW)
		return
	}
	verdict := func(s segment) string {
		if s.trace {
			return traceL
		}
		return allowL
	}
	// Here traceL != "" unless the range is larger than islandSegs, in
	// which case neither half is a single segment.
	mid := (lo + hi + 1) / 2 // first segment of the right half
	left, right := "", verdict(t.segs[hi])
	if mid-1 == lo {
		left = verdict(t.segs[lo])
	}
	if mid != hi {
		right = t.label("tree")
	}
	t.b.JumpIf(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, t.segs[mid].start, right, left)
	if left == "" {
		t.emit(lo, mid-1, traceL, allowL)
	}
	if mid != hi {
		t.b.Label(right)
		t.emit(mid, hi, traceL, allowL)
	}
}
