package tracer

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// Asleep reports whether the thread sleeps in the kernel (state S or D in
// /proc/PID/task/TID/stat), is stopped, or is gone. A thread let into a
// call that waits is asleep once the call waits; only then is a wake-up
// another thread makes sure to find it, as it found it when recorded.
func (th *Thread) Asleep() bool {
	st, ok := th.runState()
	return !ok || st != 'R'
}

// runState returns the state letter of the thread in /proc (R, S, D, t...),
// false if it cannot be read (the thread is gone).
func (th *Thread) runState() (byte, bool) {
	b, err := os.ReadFile(th.procPath("stat"))
	if err != nil {
		return 0, false
	}
	// "TID (COMM) S ...": COMM may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, false
	}
	return b[i+2], true
}

// CPUTime returns how long the thread ran on a CPU so far (the first field
// of /proc/PID/task/TID/schedstat), false if it cannot be read. Unlike the
// wall clock, it does not grow while the thread waits for a CPU that other
// programs use.
func (th *Thread) CPUTime() (time.Duration, bool) {
	b, err := os.ReadFile(th.procPath("schedstat"))
	if err != nil {
		return 0, false
	}
	f, _, _ := bytes.Cut(b, []byte{' '})
	ns, err := strconv.ParseInt(string(f), 10, 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(ns), true
}

func (th *Thread) procPath(name string) string {
	return "/proc/" + strconv.Itoa(th.Proc.Pid) + "/task/" + strconv.Itoa(th.Tid) + "/" + name
}

// Solo is the thread a Scheduler lets run alone between trapped calls
// (one thread at a time), and tells when the others may go. Whether it
// still runs is read from /proc, not from the wall clock: a machine busy
// with other programs makes a thread wait for a CPU, and the schedule
// must not change for that.
type Solo struct {
	th      *Thread
	exiting bool          // let into exit or exit_group
	cpu     time.Duration // its CPU time when it was let go
	since   time.Time
}

// soloWall bounds, in multiples of the CPU budget, the wall time a thread
// runs alone when its CPU time cannot tell (a starved machine).
const soloWall = 100

// Set makes th the thread running alone (nil: none). exiting says it was
// let into exit or exit_group: it runs alone until it is gone, for what it
// does on its way out (a thread clears its id for pthread_join and wakes
// the joiner) is no trapped call, and a joiner let go before must not find
// it half gone.
func (s *Solo) Set(th *Thread, exiting bool) {
	s.th, s.exiting = th, exiting
	if th != nil {
		s.cpu, _ = th.CPUTime()
		s.since = time.Now()
	}
}

// Thread returns the thread running alone, nil if none.
func (s *Solo) Thread() *Thread { return s.th }

// Over reports whether the others may go: no thread runs alone, or it
// sleeps in the kernel (in a call that waits: a wake-up another thread
// makes finds it waiting, as when recorded), stopped or ended, or it ran
// on a CPU for budget without reaching a trapped call (a long loop, or a
// spin on memory another thread writes: where it is when the others go
// then depends on timing).
func (s *Solo) Over(budget time.Duration) bool {
	th := s.th
	if th == nil || th.gone {
		return true
	}
	if st, ok := th.runState(); !ok || st == 'Z' || st == 'X' || (!s.exiting && st != 'R') {
		return true
	}
	if cpu, ok := th.CPUTime(); !ok || cpu-s.cpu > budget {
		return true
	}
	return time.Since(s.since) > soloWall*budget
}
