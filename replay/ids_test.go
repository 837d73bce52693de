package replay

import (
	"encoding/binary"
	"testing"

	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// TestKernelIDs checks the translation of ids between a recording and a
// replay: pids (a negative one is a process group) through the lineage,
// kernel ids through what each call returned, one map per kind.
func TestKernelIDs(t *testing.T) {
	rp := &Replayer{matcher: &matcher{pids: newPidMap()}}
	rp.pids.setRecorded(100, "1")
	rp.pids.setReal(5000, "1")
	rp.kids(abi.IDMsq).learn(1, 0)     // msgget returned 1 when recorded, 0 now
	rp.kids(abi.IDSem).learn(1, 32768) // another kind: its own map
	rp.kids(abi.IDKey).learn(7, 9)
	rp.kids(abi.IDKey).learn(8, 9) // 9 is reused: 7 is forgotten
	for _, tc := range []struct {
		kind       abi.IDKind
		rec, live  int32
		toLive     bool // liveID(rec) == live
		toRecorded bool // recordedID(live) == rec
	}{
		{abi.IDPid, 100, 5000, true, true},
		{abi.IDPid, -100, -5000, true, true},
		{abi.IDPid, 0, 0, false, false},
		{abi.IDPid, -1, -1, false, false},
		{abi.IDPid, 4242, 4242, false, false}, // not a tracee
		{abi.IDMsq, 1, 0, true, true},
		{abi.IDSem, 1, 32768, true, true},
		{abi.IDShm, 1, 1, false, false}, // never learned
		{abi.IDKey, 8, 9, true, true},
		{abi.IDKey, 7, 0, false, false},
	} {
		live, ok := rp.liveID(tc.kind, tc.rec)
		if ok != tc.toLive || (ok && live != tc.live) {
			t.Errorf("liveID(%s, %d) = %d, %v; want %d, %v", tc.kind, tc.rec, live, ok, tc.live, tc.toLive)
		}
		rec, ok := rp.recordedID(tc.kind, tc.live)
		if tc.live != 0 && (ok != tc.toRecorded || (ok && rec != tc.rec)) {
			t.Errorf("recordedID(%s, %d) = %d, %v; want %d, %v", tc.kind, tc.live, rec, ok, tc.rec, tc.toRecorded)
		}
	}
}

// TestTimerSignalsDeferred checks which signals replay moves to where the
// recording had them: the deferred ones by number, and any a POSIX timer
// sent (si_code SI_TIMER), by its siginfo.
func TestTimerSignalsDeferred(t *testing.T) {
	info := func(code int32) []byte {
		b := make([]byte, 128)
		binary.LittleEndian.PutUint32(b[8:], uint32(code))
		return b
	}
	for _, tc := range []struct {
		sig  int
		info []byte
		want bool
	}{
		{int(unix.SIGALRM), info(0x80), true},
		{int(unix.SIGUSR1), nil, true},
		{35, info(siTimer), true}, // a real-time signal from a timer
		{35, info(-6), false},     // from tgkill
		{35, nil, false},          // no siginfo
		{int(unix.SIGSEGV), info(0x80), false},
	} {
		if got := deferredInfo(tc.sig, tc.info); got != tc.want {
			t.Errorf("deferredInfo(%d, code %v) = %v, want %v", tc.sig, tc.info != nil, got, tc.want)
		}
	}
}

// TestInterrupted checks which failed calls wrote the time they had left.
func TestInterrupted(t *testing.T) {
	for _, tc := range []struct {
		call string
		ret  int64
		want bool
	}{
		{"clock_nanosleep", -516, true}, // ERESTART_RESTARTBLOCK
		{"nanosleep", -4, true},         // EINTR
		{"nanosleep", -512, true},       // ERESTARTSYS
		{"nanosleep", -22, false},       // EINVAL
		{"read", -4, false},
	} {
		if got := abi.Interrupted(abi.Lookup(tc.call), tc.ret); got != tc.want {
			t.Errorf("Interrupted(%s, %d) = %v, want %v", tc.call, tc.ret, got, tc.want)
		}
	}
}
