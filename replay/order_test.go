package replay

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"golang.org/x/sys/unix"
)

// orderedReplayer returns a strict replay of a chaos trace of the given
// calls (Syscall.order is their place in the list, from 1).
func orderedReplayer(t *testing.T, calls ...*tracepb.Syscall) *Replayer {
	return strictReplayer(t, true, calls...)
}

// strictReplayer returns a strict replay of a trace of the given calls,
// recorded under chaos or not: each call's seq and order is its place in
// the list, from 1, and a call that returned did so before the next.
func strictReplayer(t *testing.T, chaos bool, calls ...*tracepb.Syscall) *Replayer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.trace")
	w, err := format.Create(path, &tracepb.TraceHeader{Arch: "x86_64", Chaos: chaos}, format.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range calls {
		s.Seq, s.Order, s.ExitAfter = uint64(i+1), uint64(i+1), 0
		if !s.EntryOnly {
			s.ExitAfter = s.Order
		}
		if err := w.Append(&tracepb.Event{Kind: &tracepb.Event_Syscall{Syscall: s}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	rp, err := New(r, Options{Order: OrderStrict})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rp.Close)
	return rp
}

// TestNoRelaxWhileOneMayGo: a thread held past relaxAfter, while no thread
// runs, goes on out of order only if no held thread may go in order. The
// tracer asks about its held threads one by one; before, the first one
// asked, not in turn, was let go although the thread whose turn had come
// was held too, waiting to be asked (gofinish replays diverged on a
// busy machine).
func TestNoRelaxWhileOneMayGo(t *testing.T) {
	rp := orderedReplayer(t,
		&tracepb.Syscall{Lineage: "1/t1", Tid: 2, Nr: unix.SYS_WRITE},
		&tracepb.Syscall{Lineage: "1/t2", Tid: 3, Nr: unix.SYS_WRITE},
	)
	rp.book.t0 = time.Now().Add(-time.Hour) // both held for an hour
	hold := func(lineage string) *tracer.Thread {
		th := rp.thread(lineage)
		th.hold, th.holdE, th.heldFrom = holdEntry, rp.at(th, 0), 0
		if th.holdE == nil {
			t.Fatalf("%s has no recorded call", lineage)
		}
		return &tracer.Thread{Lineage: lineage}
	}
	t1, t2 := hold("1/t1"), hold("1/t2")
	if rp.Release(t2) {
		t.Fatal("1/t2 (order 2) went on while 1/t1, whose turn it is, was held")
	}
	if !rp.Release(t1) {
		t.Fatal("1/t1 (order 1, its turn) was held")
	}
	rp.threads["1/t1"].q[0].exited = true // its call returns
	if !rp.Release(t2) {
		t.Fatal("1/t2 was held after its turn came")
	}
	if n, _ := rp.Relaxed(); n != 0 {
		t.Errorf("relaxed %d times, want 0", n)
	}
}

// TestEndedThreadsClocksDoNotHold: the recorded clock reads of a thread
// that ended in this run (an exec or exit_group took it first) no longer
// hold the order, whether read from the trace before it ended or after.
func TestEndedThreadsClocksDoNotHold(t *testing.T) {
	for _, early := range []bool{true, false} {
		rp := orderedReplayer(t,
			&tracepb.Syscall{Lineage: "1/t1", Tid: 2, Nr: unix.SYS_WRITE},
			&tracepb.Syscall{Lineage: "1/t1", Tid: 2, Nr: unix.SYS_CLOCK_GETTIME, Regs: arg0Regs(unix.CLOCK_MONOTONIC), EntryOnly: true},
			&tracepb.Syscall{Lineage: "1", Tid: 1, Nr: unix.SYS_WRITE},
		)
		t1 := rp.thread("1/t1")
		if early {
			rp.turn() // the whole trace read: the clock read is queued
		}
		rp.at(t1, 0)
		t1.take(0).entered = true // its write was made
		rp.Process(&tracer.ProcessEvent{Kind: tracer.EventExit, Thread: &tracer.Thread{Lineage: "1/t1"}})
		if got := rp.turn(); got != 3 {
			t.Errorf("read before the thread ended=%v: turn %d, want 3 (1/t1's clock read dropped)", early, got)
		}
	}
}
