package decode

import "github.com/hermes-trace/hermes/tracer/abi"

// futex commands (the op without FUTEX_PRIVATE_FLAG and
// FUTEX_CLOCK_REALTIME).
const (
	futexWait          = 0
	futexWake          = 1
	futexFD            = 2
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexLockPI        = 6
	futexUnlockPI      = 7
	futexTrylockPI     = 8
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexWaitRequeuePI = 11
	futexCmpRequeuePI  = 12
	futexLockPI2       = 13
)

// FUTEX_WAKE_OP's operations and comparisons (val3 >> 28 & 7, val3 >> 24 & 15).
var (
	futexWakeOps  = [...]string{"FUTEX_OP_SET", "FUTEX_OP_ADD", "FUTEX_OP_OR", "FUTEX_OP_ANDN", "FUTEX_OP_XOR"}
	futexWakeCmps = [...]string{"FUTEX_OP_CMP_EQ", "FUTEX_OP_CMP_NE", "FUTEX_OP_CMP_LT", "FUTEX_OP_CMP_LE", "FUTEX_OP_CMP_GT", "FUTEX_OP_CMP_GE"}
)

// appendFutex appends futex(uaddr, op, ...) as strace's futex decoder
// does: which of val, timeout (or val2), uaddr2 and val3 follow, and how,
// depends on the command. All of it is printed at entry.
func (st *state) appendFutex(dst []byte) []byte {
	if !st.wants(true) {
		return dst
	}
	c := st.c
	op := c.Args[1]
	val, timeout, uaddr2, val3 := uint32(c.Args[2]), c.Args[3], c.Args[4], uint32(c.Args[5])
	dst = appendPtr(dst, c.Args[0])
	dst = append(dst, ", "...)
	dst = abi.FlagFutexOp.Append(dst, uint64(uint32(op)))
	switch uint32(op) & 0x7f {
	case futexWait:
		dst = st.appendFutexVal(dst, val)
		dst = st.appendFutexTimeout(dst, timeout)
	case futexLockPI, futexLockPI2:
		dst = st.appendFutexTimeout(dst, timeout)
	case futexWaitBitset:
		dst = st.appendFutexVal(dst, val)
		dst = st.appendFutexTimeout(dst, timeout)
		dst = appendFutexBitset(dst, val3)
	case futexWakeBitset:
		dst = st.appendFutexVal(dst, val)
		dst = appendFutexBitset(dst, val3)
	case futexRequeue:
		dst = st.appendFutexVal(dst, val)
		dst = st.appendFutexVal(dst, uint32(timeout))
		dst = append(dst, ", "...)
		dst = appendPtr(dst, uaddr2)
	case futexCmpRequeue, futexCmpRequeuePI:
		dst = st.appendFutexVal(dst, val)
		dst = st.appendFutexVal(dst, uint32(timeout))
		dst = append(dst, ", "...)
		dst = appendPtr(dst, uaddr2)
		dst = st.appendFutexVal(dst, val3)
	case futexWakeOp:
		dst = st.appendFutexVal(dst, val)
		dst = st.appendFutexVal(dst, uint32(timeout))
		dst = append(dst, ", "...)
		dst = appendPtr(dst, uaddr2)
		dst = append(dst, ", "...)
		dst = appendFutexWakeOp(dst, val3)
	case futexWaitRequeuePI:
		dst = st.appendFutexVal(dst, val)
		dst = st.appendFutexTimeout(dst, timeout)
		dst = append(dst, ", "...)
		dst = appendPtr(dst, uaddr2)
	case futexWake, futexFD:
		dst = st.appendFutexVal(dst, val)
	case futexUnlockPI, futexTrylockPI:
	default:
		dst = st.appendFutexVal(dst, val)
		dst = append(dst, ", "...)
		dst = appendHexZero(dst, uint64(uint32(timeout)))
		dst = append(dst, ", "...)
		dst = appendPtr(dst, uaddr2)
		dst = append(dst, ", "...)
		dst = appendHexZero(dst, uint64(val3))
	}
	return dst
}

func (st *state) appendFutexVal(dst []byte, v uint32) []byte {
	dst = append(dst, ", "...)
	return appendUint(dst, uint64(v))
}

func (st *state) appendFutexTimeout(dst []byte, v uint64) []byte {
	dst = append(dst, ", "...)
	return st.appendStructAt(dst, "struct __kernel_timespec", 16, v)
}

// appendFutexBitset appends val3 of the bitset commands.
func appendFutexBitset(dst []byte, v uint32) []byte {
	dst = append(dst, ", "...)
	if v == 0xffffffff {
		return append(dst, "FUTEX_BITSET_MATCH_ANY"...)
	}
	return appendHexZero(dst, uint64(v))
}

// appendFutexWakeOp appends FUTEX_WAKE_OP's encoded operation:
// FUTEX_OP_ADD<<28|0x1<<12|FUTEX_OP_CMP_GT<<24|0.
func appendFutexWakeOp(dst []byte, v uint32) []byte {
	if v>>28&8 != 0 {
		dst = append(dst, "FUTEX_OP_OPARG_SHIFT<<28|"...)
	}
	dst = appendFutexField(dst, v>>28&7, futexWakeOps[:], "<<28", " /* FUTEX_OP_??? */")
	dst = append(dst, '|')
	dst = appendHexZero(dst, uint64(v>>12&0xfff))
	dst = append(dst, "<<12|"...)
	dst = appendFutexField(dst, v>>24&0xf, futexWakeCmps[:], "<<24", " /* FUTEX_OP_CMP_??? */")
	dst = append(dst, '|')
	return appendHexZero(dst, uint64(v&0xfff))
}

func appendFutexField(dst []byte, v uint32, names []string, shift, unknown string) []byte {
	if int(v) < len(names) {
		dst = append(dst, names[v]...)
		return append(dst, shift...)
	}
	dst = appendHexZero(dst, uint64(v))
	dst = append(dst, shift...)
	return append(dst, unknown...)
}
