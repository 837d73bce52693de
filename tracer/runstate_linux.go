package tracer

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// Waiting reports whether the thread waits for something else than a CPU
// or the tracer: it sleeps inside a system call (a call that waits: a
// wake-up another thread makes finds it waiting), the scheduler holds it
// at a stop (or a delay does), it is in a group stop, or it is gone. A
// thread on a CPU or waiting for one, blocked outside any call (a page
// fault, a lock of its memory map), or at a stop the tracer has not served
// yet (it runs on after that), is not waiting: it will go on by itself.
func (th *Thread) Waiting() bool {
	if th.gone || th.parked {
		return true
	}
	st, ok := th.runState()
	switch {
	case !ok:
		return true
	case st == 'R' || st == 't':
		return false
	case st == 'S' || st == 'D':
		return th.blockedInCall()
	}
	return true // T (a group stop), Z, X
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

// blockedInCall reports whether the thread waits inside a system call:
// /proc/PID/task/TID/syscall names the call ("202 0x..."), not "running"
// nor "-1 ..." (blocked outside any call: a page fault, a lock taken for
// a memory map).
func (th *Thread) blockedInCall() bool {
	b, err := os.ReadFile(th.procPath("syscall"))
	if err != nil || len(b) == 0 {
		return false
	}
	return b[0] >= '0' && b[0] <= '9'
}

// Solo is the thread a Scheduler lets run alone between trapped calls
// (one thread at a time), and tells when the others may go. Whether it
// still runs is read from /proc, not from the wall clock: a machine busy
// with other programs makes a thread wait for a CPU, and the schedule
// must not change for that.
type Solo struct {
	th      *Thread
	exiting bool // let into exit or exit_group
	since   time.Time
	checked time.Time     // when /proc was last read for it (zero: never)
	cpu     time.Duration // its CPU time when /proc was first read
}

// SoloBudget is the CPU time a thread running alone may spend without a
// trapped call before the others may go (a long loop, or a spin on
// memory a held thread would write).
const SoloBudget = 2 * time.Millisecond

// soloWall bounds, in multiples of SoloBudget, the wall time a thread
// runs alone when its CPU time cannot tell (a starved machine, a thread
// stopped for good).
const soloWall = 100

// soloRecheck bounds how often /proc is read for the thread running
// alone: a turn costs no read at all when it ends in a trapped call
// within it, as most do.
const soloRecheck = 100 * time.Microsecond

// Set makes th the thread running alone (nil: none). exiting says it was
// let into exit or exit_group: it runs alone until it is gone, for what it
// does on its way out (a thread clears its id for pthread_join and wakes
// the joiner) is no trapped call, and a joiner let go before must not find
// it half gone.
func (s *Solo) Set(th *Thread, exiting bool) {
	*s = Solo{th: th, exiting: exiting}
	if th != nil {
		s.since = time.Now()
	}
}

// Thread returns the thread running alone, nil if none.
func (s *Solo) Thread() *Thread { return s.th }

// Over reports whether the others may go: no thread runs alone, or it is
// Waiting (one let into exit or exit_group: it is dead), or it ran on a
// CPU for SoloBudget without reaching a trapped call (a long loop, or a spin
// on memory another thread writes: where it is when the others go then
// depends on timing).
func (s *Solo) Over() bool {
	th := s.th
	if th == nil || th.gone { // reaped: dead, its thread id cleared
		return true
	}
	now := time.Now()
	if now.Sub(s.checked) < soloRecheck || now.Sub(s.since) < soloRecheck {
		return false
	}
	first := s.checked.IsZero()
	s.checked = now
	if s.exiting {
		if st, ok := th.runState(); !ok || st == 'Z' || st == 'X' {
			return true
		}
	} else if th.Waiting() {
		return true
	}
	cpu, ok := th.CPUTime()
	if first {
		s.cpu = cpu
	}
	if !ok || cpu-s.cpu > SoloBudget {
		return true
	}
	return now.Sub(s.since) > soloWall*SoloBudget
}
