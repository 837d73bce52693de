package replay

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"golang.org/x/sys/unix"
)

// mkEntry returns a recorded x86_64 call of nr with index idx.
func mkEntry(nr, idx int, ret int64) *entry {
	e := &entry{s: &tracepb.Syscall{Nr: int32(nr), Ret: ret, Seq: uint64(idx + 1)}, idx: idx}
	e.restart = isRestart(ret)
	e.noise = e.restart || isNoise(0, nr, &e.args)
	return e
}

// queueOf returns a thread holding the given calls and a Replayer that
// has read its whole (empty) trace.
func queueOf(nrs ...int) (*Replayer, *thread) {
	rp := &Replayer{matcher: newMatcher(&prefetcher{eof: true})}
	th := rp.thread("1")
	for i, nr := range nrs {
		th.push(mkEntry(nr, i, 0))
	}
	return rp, th
}

func live(nr int) callView { return callView{sc: &tracer.Syscall{Nr: nr}} }

func TestQueueTakeUnget(t *testing.T) {
	rp, th := queueOf(unix.SYS_OPENAT, unix.SYS_FUTEX, unix.SYS_READ, unix.SYS_CLOSE)
	if e := th.take(0); e.idx != 0 {
		t.Fatalf("take(0) = #%d", e.idx)
	}
	// take(1) drops the futex before the read.
	e := th.take(1)
	if e.idx != 2 || rp.at(th, 0).idx != 3 {
		t.Fatalf("take(1) = #%d, next #%d", e.idx, rp.at(th, 0).idx)
	}
	th.unget(e)
	if got := rp.at(th, 0); got != e {
		t.Fatalf("after unget, next is #%d", got.idx)
	}
	th.take(0)
	th.take(0)
	if rp.at(th, 0) != nil {
		t.Fatal("queue not empty")
	}
}

func TestQueueCompaction(t *testing.T) {
	_, th := queueOf()
	for i := 0; i < 5000; i++ {
		th.push(mkEntry(unix.SYS_READ, i, 0))
		if i%3 != 2 {
			e := th.take(0)
			if i > 10 && i%100 == 0 {
				th.unget(e) // in flight across a compaction, then put back
				th.take(0)
			}
		}
	}
	if th.head > 1024 && th.head > len(th.q)/2 {
		t.Errorf("queue not compacted: head %d of %d", th.head, len(th.q))
	}
	last := -1
	for i := th.head; i < len(th.q); i++ {
		if th.q[i].idx <= last {
			t.Fatalf("order lost: #%d after #%d", th.q[i].idx, last)
		}
		last = th.q[i].idx
	}
}

func TestLookahead(t *testing.T) {
	for _, tc := range []struct {
		name   string
		queue  []int
		call   int
		floats bool
		want   int
	}{
		{"past scheduling calls", []int{unix.SYS_FUTEX, unix.SYS_NANOSLEEP, unix.SYS_WRITE}, unix.SYS_WRITE, false, 2},
		{"not past a real call", []int{unix.SYS_READ, unix.SYS_WRITE}, unix.SYS_WRITE, false, -1},
		{"not past a pid read when floating", []int{unix.SYS_GETPID, unix.SYS_FUTEX}, unix.SYS_FUTEX, true, -1},
		{"past a pid read otherwise", []int{unix.SYS_GETPID, unix.SYS_WRITE}, unix.SYS_WRITE, false, 1},
	} {
		rp, th := queueOf(tc.queue...)
		for _, e := range th.q {
			e.valued = e.noise && isValued(0, int(e.s.Nr))
		}
		if got := rp.lookahead(th, live(tc.call), tc.floats); got != tc.want {
			t.Errorf("%s: lookahead = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestInterruptedMatch: a recorded call a signal interrupted is matched
// only when its restart is not there.
func TestInterruptedMatch(t *testing.T) {
	rp, th := queueOf()
	th.push(mkEntry(unix.SYS_WAIT4, 0, -512))
	th.push(mkEntry(unix.SYS_RT_SIGRETURN, 1, 0))
	th.push(mkEntry(unix.SYS_WAIT4, 2, 42))
	e, float := rp.match(th, live(unix.SYS_WAIT4))
	if float || e == nil || e.idx != 2 {
		t.Fatalf("wait4 matched %+v, float %v; want the restarted #2", e, float)
	}
	rp, th = queueOf()
	th.push(mkEntry(unix.SYS_PAUSE, 0, -514))
	th.push(mkEntry(unix.SYS_RT_SIGRETURN, 1, -4))
	th.push(mkEntry(unix.SYS_WRITE, 2, 5))
	if e, _ := rp.match(th, live(unix.SYS_PAUSE)); e == nil || e.idx != 0 {
		t.Fatalf("pause matched %+v; want the interrupted #0", e)
	}
}

// TestPrefetchClose: the prefetcher hands over every event in order, and
// Close stops it early, more than once, or before it started.
func TestPrefetchClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.trace")
	w, err := format.Create(path, &tracepb.TraceHeader{Arch: "x86_64"}, format.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 3*prefetchBatch + 7
	for i := 1; i <= n; i++ {
		ev := &tracepb.Event{Kind: &tracepb.Event_Syscall{Syscall: &tracepb.Syscall{Seq: uint64(i), Lineage: "1", Nr: unix.SYS_GETPPID}}}
		if err := w.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	open := func() *Replayer {
		r, err := format.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		rp, err := New(r, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return rp
	}
	rp := open()
	th := rp.thread("1")
	for i := 0; i < n; i++ {
		e := rp.at(th, 0)
		if e == nil || e.s.Seq != uint64(i+1) {
			t.Fatalf("event %d: %+v", i, e)
		}
		th.take(0)
	}
	if rp.at(th, 0) != nil || !rp.pf.complete {
		t.Fatalf("after the last event: complete=%v", rp.pf.complete)
	}
	rp.Close()

	rp = open()
	rp.at(rp.thread("1"), 0) // started, more batches waiting
	rp.Close()
	rp.Close()
	open().Close() // never started
}

// TestClockReadingsByThread: where the order is exact (a chaos recording,
// strict replay), a thread gets its own recorded readings of a clock, and
// the read its recorded run was cut off in (entry only: exit_group came
// first) holds its place; it never takes another thread's reading. Where
// the order is not exact, readings go by process, in order. Before, the
// thread took the main thread's reading, ran on, and woke a thread the
// recording never woke (gofinish and gotempdir diverged).
func TestClockReadingsByThread(t *testing.T) {
	const mono = unix.CLOCK_MONOTONIC
	evs := []*tracepb.Syscall{
		{Lineage: "1/t1", Tid: 2, Nr: unix.SYS_CLOCK_GETTIME, Regs: arg0Regs(mono)},
		{Lineage: "1", Tid: 1, Nr: unix.SYS_CLOCK_GETTIME, Regs: arg0Regs(mono)},
		{Lineage: "1", Tid: 1, Nr: unix.SYS_EXIT_GROUP, EntryOnly: true},
		{Lineage: "1/t1", Tid: 2, Nr: unix.SYS_CLOCK_GETTIME, Regs: arg0Regs(mono), EntryOnly: true},
	}
	for _, tc := range []struct {
		name  string
		chaos bool
		reads []string // lineages reading the clock, in turn
		want  []uint64 // the seq each gets (0: none)
	}{
		{"exact", true, []string{"1/t1", "1/t1", "1", "1/t1"}, []uint64{1, 4, 2, 0}},
		{"by process", false, []string{"1/t1", "1/t1", "1"}, []uint64{1, 2, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rp := strictReplayer(t, tc.chaos, evs...)
			key, _ := clockKey(0, unix.SYS_CLOCK_GETTIME, mono)
			for i, l := range tc.reads {
				var got uint64
				if e := rp.nextClock(l, key); e != nil {
					got = e.s.Seq
				}
				if got != tc.want[i] {
					t.Errorf("read %d by %s: seq %d, want %d", i, l, got, tc.want[i])
				}
			}
		})
	}
}

// arg0Regs returns x86_64 entry registers whose first argument (rdi) is v.
func arg0Regs(v uint64) []byte {
	regs := make([]byte, 216)
	binary.LittleEndian.PutUint64(regs[14*8:], v)
	return regs
}
