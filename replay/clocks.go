package replay

import (
	"encoding/binary"

	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"

	"golang.org/x/sys/unix"
)

// clockBook keeps what replay knows of the recorded clocks: for each
// system-wide clock, how far its recorded readings are from the real clock
// (so a read with no recorded counterpart is moved into recorded time), and
// its last recorded reading (from which a departed replay's virtual clock
// goes on, by ClockStep a read).
type clockBook struct {
	off  map[uint32]int64 // recorded minus real, ns, by clock id
	last map[uint32]int64 // last reading given, ns, by clock id
	now  func(id uint32) (int64, bool)
}

func newClockBook() *clockBook {
	return &clockBook{off: make(map[uint32]int64), last: make(map[uint32]int64), now: realClock}
}

// realClock reads a clock of this machine.
func realClock(id uint32) (int64, bool) {
	var ts unix.Timespec
	if unix.ClockGettime(int32(id), &ts) != nil {
		return 0, false
	}
	return ts.Nano(), true
}

// learn notes a recorded reading of clock id: ts is a timespec (unit 1)
// or a timeval (unit 1000).
func (b *clockBook) learn(id uint32, ts []byte, unit int64) {
	if !clockKept(id) || len(ts) < 16 {
		return
	}
	rec := timespecNs(ts, unit)
	b.last[id] = rec
	if now, ok := b.now(id); ok {
		b.off[id] = rec - now
	}
}

// shift moves a real reading of clock id into recorded time.
func (b *clockBook) shift(id uint32, ns int64) (int64, bool) {
	off, ok := b.off[id]
	return ns + off, ok
}

// virtual returns the next reading of clock id after a departure: the last
// one given plus ClockStep (start, plus ClockStep, if it was never read).
func (b *clockBook) virtual(id uint32, start int64) int64 {
	v, ok := b.last[id]
	if !ok {
		v = start
	}
	v += ClockStep
	b.last[id] = v
	return v
}

// timespecNs reads a timespec (unit 1) or timeval (unit 1000) as ns.
func timespecNs(b []byte, unit int64) int64 {
	return int64(binary.LittleEndian.Uint64(b))*1e9 + int64(binary.LittleEndian.Uint64(b[8:]))*unit
}

// giveTimeLeft gives a sleep a signal interrupted, as it was when recorded,
// the time left the recording had, not the one this run's signal (sent
// where the recording had it, but not as late into the sleep) left.
func (rp *Replayer) giveTimeLeft(sc *tracer.Syscall, e *entry, act *tracer.Action) {
	for _, m := range e.s.Mem {
		if m.Kind != tracepb.MemKind_MEM_KIND_OUT || len(m.Data) == 0 || int(m.Arg) >= len(sc.Info.Args) ||
			sc.Info.Args[m.Arg].Kind != abi.KindStructOut || len(m.Data) != int(sc.Info.Args[m.Arg].Size) {
			continue
		}
		exitWrite(sc, act, relocate(&sc.Args, e, m), m.Data)
	}
}

// timerOutcome reports whether a call that ran is one whose outcome a
// timer's timing decides: it arms a timer (and learns what the one it
// replaces had left), or reads a timerfd (how many expiries) or a
// signalfd (the siginfo of a timer's signal: overruns, CPU times).
func (rp *Replayer) timerOutcome(sc *tracer.Syscall) bool {
	if sc.Arch != abi.ArchX86_64 {
		return false
	}
	if callFlags[sc.Nr]&fTimeSet != 0 {
		return true
	}
	if callFlags[sc.Nr]&fRead == 0 {
		return false
	}
	switch sc.Thread.Proc.FDPath(int(int32(sc.Args[0]))) {
	case "anon_inode:[timerfd]", "anon_inode:[signalfd]":
		return true
	}
	return false
}

// giveRecorded gives a call that ran the recorded result and out-memory,
// where it succeeded (or failed) as it did when recorded.
func (rp *Replayer) giveRecorded(sc *tracer.Syscall, e *entry, act *tracer.Action) {
	if (sc.Ret < 0) != (e.s.Ret < 0) || !rp.givesBack(sc, e) {
		return
	}
	args := &sc.Args
	if a, ok := rp.entryArgs[sc.Thread]; ok {
		args = a // as the program made the call
	}
	act.Skip, act.Value, act.By = true, e.s.Ret, "replay"
	for _, m := range e.s.Mem {
		if m.Kind == tracepb.MemKind_MEM_KIND_OUT && len(m.Data) > 0 {
			act.Writes = append(act.Writes, tracer.MemWrite{Addr: relocate(args, e, m), Data: m.Data})
		}
	}
}

// tsc is a read of the time stamp counter: its value, and rdtscp's aux.
type tsc struct {
	v   uint64
	aux uint32
}

// TSCStep is how far the time stamp counter moves between two reads replay
// has no recorded value for (reads after a departure, or more than the
// recording made).
const TSCStep = 1000

// tscRead completes a read of the time stamp counter that faulted (the
// recording trapped them): with the thread's next recorded value, or,
// past them, the last one given plus TSCStep. It reports whether ev was
// such a read.
func (rp *Replayer) tscRead(ev *tracer.ProcessEvent) bool {
	rdtscp, ok := ev.TSCRead()
	if !ok {
		return false
	}
	th := rp.thread(ev.Thread.Lineage)
	if rp.dep == nil {
		for len(th.tscs) == 0 && rp.pull() {
		}
	}
	var v tsc
	if rp.dep == nil && len(th.tscs) > 0 {
		v = th.tscs[0]
		th.tscs = th.tscs[1:]
	} else {
		if rp.tsc.v == 0 {
			rp.tsc.v, _ = tracer.ReadTSC()
		}
		v = tsc{rp.tsc.v + TSCStep, rp.tsc.aux}
	}
	if v.v > rp.tsc.v {
		rp.tsc = v
	}
	_ = ev.CompleteTSC(rdtscp, v.v, v.aux)
	return true
}

// siTimer is the si_code of a POSIX timer's signal.
const siTimer = -2

// deferredInfo is deferred, and any signal a POSIX timer sent (whatever its
// number): its expiry is moved to where the recording had it.
func deferredInfo(sig int, info []byte) bool {
	return deferred(sig) || (len(info) >= 12 && int32(binary.LittleEndian.Uint32(info[8:])) == siTimer)
}

// expecting reports whether replay sent the thread the signal ev stops at
// (a timer's, whose siginfo now says tgkill).
func (rp *Replayer) expecting(ev *tracer.ProcessEvent) bool {
	th := rp.threads[ev.Thread.Lineage]
	if th == nil {
		return false
	}
	for _, s := range th.expect {
		if s.sig == ev.Signal {
			return true
		}
	}
	return false
}
