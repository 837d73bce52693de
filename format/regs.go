package format

import (
	"encoding/binary"
	"errors"
	"math/bits"

	"github.com/hermes-trace/hermes/format/tracepb"
)

// regsDeltable reports whether cur can be delta-encoded against base.
func regsDeltable(cur, base []byte) bool {
	n := len(cur)
	return n > 0 && n == len(base) && n%8 == 0 && n/8 <= maxRegsWords
}

// appendRegsDelta appends the delta encoding of cur against base (see
// doc.go) to dst. cur and base must satisfy regsDeltable.
func appendRegsDelta(dst, cur, base []byte) []byte {
	var mask uint64
	for i := 0; i < len(cur); i += 8 {
		if binary.LittleEndian.Uint64(cur[i:]) != binary.LittleEndian.Uint64(base[i:]) {
			mask |= 1 << (i / 8)
		}
	}
	dst = binary.AppendUvarint(dst, mask)
	for m := mask; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m) * 8
		dst = binary.AppendUvarint(dst, binary.LittleEndian.Uint64(cur[i:])^binary.LittleEndian.Uint64(base[i:]))
	}
	return dst
}

var errBadDelta = errors.New("bad register delta")

// applyRegsDelta decodes delta against base into a new slice.
func applyRegsDelta(delta, base []byte) ([]byte, error) {
	if len(base) == 0 || len(base)%8 != 0 || len(base)/8 > maxRegsWords {
		return nil, errors.New("register delta without a base")
	}
	out := make([]byte, len(base))
	if err := applyRegsDeltaTo(out, delta, base); err != nil {
		return nil, err
	}
	return out, nil
}

// applyRegsDeltaTo decodes delta against base (a valid base: see
// applyRegsDelta) into out, which is as long as base.
func applyRegsDeltaTo(out, delta, base []byte) error {
	mask, n := binary.Uvarint(delta)
	if n <= 0 {
		return errBadDelta
	}
	delta = delta[n:]
	words := len(base) / 8
	if words < 64 && mask>>words != 0 {
		return errBadDelta
	}
	copy(out, base)
	for m := mask; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m) * 8
		x, n := binary.Uvarint(delta)
		if n <= 0 {
			return errBadDelta
		}
		delta = delta[n:]
		binary.LittleEndian.PutUint64(out[i:], binary.LittleEndian.Uint64(base[i:])^x)
	}
	if len(delta) != 0 {
		return errBadDelta
	}
	return nil
}

// Word indexes, in x86_64 struct user_regs_struct, of the registers that
// hold syscall arguments 0-5, per ABI.
var (
	argWords64 = [6]int{14, 13, 12, 7, 9, 8}  // rdi rsi rdx r10 r8 r9
	argWords32 = [6]int{5, 11, 12, 13, 14, 4} // rbx rcx rdx rsi rdi rbp
)

// argValue returns syscall argument i from raw entry registers, or 0 when
// the registers are not a 216-byte x86_64 user_regs_struct or i is not an
// argument. On disk, Mem.addr of a Syscall's mem is stored XORed with it,
// so the usual capture (at the address the argument points to) stores 0.
func argValue(regs []byte, arch tracepb.Arch, i uint32) uint64 {
	if len(regs) != 216 || i >= 6 {
		return 0
	}
	w := argWords64[i]
	if arch == tracepb.Arch_ARCH_I386 {
		w = argWords32[i]
	}
	return binary.LittleEndian.Uint64(regs[w*8:])
}

// Args returns the six syscall arguments of sc from its entry registers
// (zeros when the registers were not captured).
func Args(sc *tracepb.Syscall) [6]uint64 {
	var a [6]uint64
	for i := range a {
		a[i] = argValue(sc.Regs, sc.Arch, uint32(i))
	}
	return a
}
