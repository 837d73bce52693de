package replay

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/hermes-trace/hermes/format/recorded"

	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// ClockStep is how far a virtual clock moves at each read after a replay
// departed from its recording: the program sees time go on from the last
// recorded reading, by this much a read, the same way every run.
const ClockStep = 1000 // nanoseconds

// firstVirtualPid is the first pid given to a process the recording did
// not have (one made after a departure).
const firstVirtualPid = 100000

// Departure says where a replay left its recording: the call whose
// outcome replay was told to change (an --inject), from which the program
// ran live, to its own end.
type Departure struct {
	Lineage  string
	Index    int    // the recorded call's index in its thread (-1: a call the recording does not have)
	Call     string // the call, decoded
	Recorded string // its recorded outcome
	Actual   string // the outcome replay gave it
	After    int    // calls made after it
}

func (d *Departure) String() string {
	where := fmt.Sprintf("%s call #%d", d.Lineage, d.Index)
	if d.Index < 0 {
		where = d.Lineage + " at a call the recording did not keep"
	}
	return fmt.Sprintf("replay departed from the recording at %s, %s: recorded %s, now %s; %d calls ran after it",
		where, d.Call, d.Recorded, d.Actual, d.After)
}

// departed is what a replay keeps deterministic once it has departed:
// clocks go on from their last recorded reading by ClockStep a read,
// random bytes come from a stream derived from the run's seed, and pids
// stay the recorded ones (new processes get new virtual pids).
type departed struct {
	d   Departure
	rng *rand.ChaCha8
	buf []byte
}

func newDeparted(seed uint64) *departed {
	var key [8]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return &departed{rng: rand.NewChaCha8(sha256.Sum256(append([]byte("hermes departure "), key[:]...)))}
}

// Departure returns where the replay departed from its recording, or nil.
func (rp *Replayer) Departure() *Departure {
	if rp.dep == nil {
		return nil
	}
	d := rp.dep.d
	return &d
}

// changes reports whether an overlay's action gives a call another outcome
// than the recording's (and so makes the replay depart): a skip with
// another value, or of a call the recording ran; a kill; changed
// arguments; a signal.
func changes(ov *tracer.Action, e *entry, atExit bool) bool {
	if ov.Kill || ov.SetArgs != 0 || len(ov.Strings) > 0 || ov.SetNr || ov.Signal != 0 {
		return true
	}
	if !ov.Skip {
		return false
	}
	if e == nil || e.s == nil {
		return true
	}
	if ov.Value != e.s.Ret {
		return true
	}
	// The same value: the same outcome only if the recording did not run
	// the call either (or the value is given at its exit).
	inj := e.s.Injected
	return !atExit && (inj == nil || inj.AtExit)
}

// depart makes the replay leave its recording at sc (recorded as e, or
// nil): from now on every call runs live.
func (rp *Replayer) depart(th *thread, e *entry, sc *tracer.Syscall, act *tracer.Action) {
	if rp.dep != nil {
		return
	}
	rp.dep = newDeparted(rp.seed)
	d := &rp.dep.d
	d.Lineage, d.Index = sc.Thread.Lineage, -1
	d.Recorded = "nothing"
	if e != nil && e.s != nil {
		d.Index = e.idx
		d.Recorded = "= " + retString(e.s.Ret)
	}
	c := decode.Call{Arch: sc.Arch, Nr: sc.Nr, Info: sc.Info, Args: sc.Args}
	d.Call = string(decode.AppendCall(nil, &c, sc.Mem(), &decode.Options{StrSize: 32}))
	switch {
	case act.Kill:
		d.Actual = "killed"
	case act.Skip:
		d.Actual = "= " + retString(act.Value)
	case act.Signal != 0:
		d.Actual = "signal " + abi.SignalName(act.Signal)
	default:
		d.Actual = "run with other arguments"
	}
	if act.By != "" {
		d.Actual += " (" + act.By + ")"
	}
	if th != nil {
		th.mode = modeUnchecked
	}
}

// departedEnter handles a call after the departure.
func (rp *Replayer) departedEnter(sc *tracer.Syscall, act *tracer.Action) {
	dp := rp.dep
	dp.d.After++
	if sc.Arch != abi.ArchX86_64 {
		rp.overlayEnter(sc, act, nil)
		return
	}
	f := callFlags[sc.Nr]
	switch {
	case sc.Nr == unix.SYS_CLOCK_GETTIME || sc.Nr == unix.SYS_GETTIMEOFDAY || sc.Nr == unix.SYS_TIME:
		rp.virtualClock(sc, act)
	case sc.Nr == unix.SYS_GETRANDOM:
		rp.randomRead(sc, act, sc.Args[0], sc.Args[1])
	case f&fPidRet != 0:
		real := sc.Pid()
		switch sc.Nr {
		case unix.SYS_GETTID:
			real = sc.Tid()
		case unix.SYS_GETPPID, unix.SYS_GETPGRP:
			act.WantExit = true // translated at exit
			real = 0
		}
		if real != 0 {
			act.Skip, act.Value, act.By = true, int64(rp.pids.virtual(real)), "replay"
		}
	case f&(fRead|fWrite|fSock) != 0 && int32(sc.Args[0]) >= 0:
		switch rp.fdClass(sc.Thread.Proc.FDPath(int(int32(sc.Args[0])))) {
		case Random:
			if f&fRead != 0 && (sc.Nr == unix.SYS_READ || sc.Nr == unix.SYS_PREAD64) {
				rp.randomRead(sc, act, sc.Args[1], sc.Args[2])
			}
		case Net:
			// The peer the recording talked to is gone: a closed peer.
			act.Skip, act.By = true, "replay"
			if f&fWrite != 0 {
				act.Value = -int64(unix.EPIPE)
			}
		case Input:
			if f&fRead != 0 {
				act.Skip, act.Value, act.By = true, 0, "replay" // what was recorded ran out: end of file
			}
		}
	default:
		rp.translatePidArgs(sc, act)
		if f&(fPidResult|fWait) != 0 {
			act.WantExit = true
		}
	}
	rp.overlayEnter(sc, act, nil)
}

// departedExit translates pids in results after the departure.
func (rp *Replayer) departedExit(sc *tracer.Syscall, act *tracer.Action) {
	if sc.Arch == abi.ArchX86_64 && !sc.Skipped && sc.Ret > 0 {
		switch f := callFlags[sc.Nr]; {
		case f&fPidResult != 0 || sc.Nr == unix.SYS_GETPPID || sc.Nr == unix.SYS_GETPGRP:
			if v := rp.pids.virtual(int(sc.Ret)); int64(v) != sc.Ret {
				act.Skip, act.Value, act.By = true, int64(v), "replay"
			}
		}
		if sc.Nr == unix.SYS_WAITID && sc.Ret == 0 {
			rp.waitidPid(sc)
		}
	}
	rp.overlayExit(sc, act)
}

// virtualClock answers a clock read after the departure.
func (rp *Replayer) virtualClock(sc *tracer.Syscall, act *tracer.Action) {
	dp := rp.dep
	id := uint32(unix.CLOCK_REALTIME)
	var addr uint64
	switch sc.Nr {
	case unix.SYS_CLOCK_GETTIME:
		id, addr = uint32(sc.Args[0]), sc.Args[1]
		if !recorded.SystemClock(id) {
			return // a CPU clock: how much the process ran, live
		}
	case unix.SYS_GETTIMEOFDAY:
		addr = sc.Args[0]
	case unix.SYS_TIME:
		addr = sc.Args[0]
	}
	start := rp.hdr.StartTimeUnixNs
	if id != unix.CLOCK_REALTIME && id != unix.CLOCK_REALTIME_COARSE && id != unix.CLOCK_TAI {
		start = 1e9
	}
	v := rp.clocks.virtual(id, start)
	act.Skip, act.Value, act.By = true, 0, "replay"
	b := dp.buf[:0]
	switch sc.Nr {
	case unix.SYS_CLOCK_GETTIME:
		b = binary.LittleEndian.AppendUint64(b, uint64(v/1e9))
		b = binary.LittleEndian.AppendUint64(b, uint64(v%1e9))
	case unix.SYS_GETTIMEOFDAY:
		b = binary.LittleEndian.AppendUint64(b, uint64(v/1e9))
		b = binary.LittleEndian.AppendUint64(b, uint64(v%1e9/1e3))
	case unix.SYS_TIME:
		act.Value = v / 1e9
		b = binary.LittleEndian.AppendUint64(b, uint64(v/1e9))
	}
	dp.buf = b
	act.Writes = act.Writes[:0]
	if addr != 0 {
		act.Writes = append(act.Writes, tracer.MemWrite{Addr: addr, Data: b})
	}
}

// randomRead gives a read of random bytes the run's seeded stream.
func (rp *Replayer) randomRead(sc *tracer.Syscall, act *tracer.Action, addr, n uint64) {
	dp := rp.dep
	n = min(n, 1<<20)
	if uint64(cap(dp.buf)) < n {
		dp.buf = make([]byte, n)
	}
	b := dp.buf[:n]
	_, _ = dp.rng.Read(b)
	act.Skip, act.Value, act.By = true, int64(n), "replay"
	act.Writes = append(act.Writes[:0], tracer.MemWrite{Addr: addr, Data: b})
}
