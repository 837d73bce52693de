// Package chaos perturbs the schedule of a traced program on purpose
// (hermes trace/record/explore --chaos): at trapped calls, a choice drawn
// from a seed holds the calling thread for a while, or lets another thread
// go first, so that interleavings that happen once in a thousand native
// runs happen often. A run that fails under chaos and was recorded is a
// trace that ordered replay reproduces.
//
// Decisions are a pure function of the seed and of the call: its thread's
// lineage, its number, and how many calls of that number the thread made
// before it. The same seed therefore gives the same decisions at the same
// calls, whatever else the schedule did.
package chaos

import (
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// Kind is what a decision does.
type Kind uint8

const (
	None  Kind = iota // the call goes on
	Hold              // the thread is held for Decision.Hold before its call
	Yield             // the thread waits until another thread reaches a call (or Decision.Hold passed)
)

func (k Kind) String() string {
	switch k {
	case Hold:
		return "hold"
	case Yield:
		return "yield"
	}
	return "none"
}

// Decision is one choice chaos made at a call.
type Decision struct {
	Lineage string
	Nr      int
	Nth     int // calls of Nr the thread made before this one
	Kind    Kind
	Hold    time.Duration
}

func (d Decision) String() string {
	return fmt.Sprintf("%s %s#%d %s %v", d.Lineage, abi.Name(abi.ArchX86_64, d.Nr), d.Nth, d.Kind, d.Hold)
}

// StreamSeed derives chaos's own stream from the run's seed, so that its
// choices do not move when other users of the seed (hermes.rand) change.
func StreamSeed(seed uint64) uint64 { return mix(seed ^ 0x6368616f73) } // "chaos"

// maxLog bounds the decisions kept for Decisions.
const maxLog = 1 << 16

// Bounds of the schedule. A thread running alone lets another go when it
// sleeps in the kernel (a call that waits), or when it ran tracer.SoloBudget on a
// CPU without a trapped call (busy, or spinning on memory another thread
// would write): see tracer.Solo. A thread held longer than starve goes
// whatever its priority, once no thread runs alone.
const starve = 50 * time.Millisecond

// Chaos is the tracer handler, and the run's tracer.Scheduler: it runs one
// thread at a time between trapped calls (as rr and Hermit do), and at
// each call picks which of the threads waiting in their stops goes next,
// by seeded priorities, holds and yields. One thread at a time is also
// what makes the recording replayable: between two of its calls a thread
// ran alone, so the order of the calls decides what it saw in memory.
// It must come before the handlers that record what it did.
type Chaos struct {
	stream  uint64
	threads map[*tracer.Thread]*thread
	stops   uint64 // stops of any thread seen so far
	t0      time.Time

	solo tracer.Solo // the thread running alone

	mu    sync.Mutex
	log   []Decision
	holds int
}

type thread struct {
	lineage string
	nth     map[int]int
	held    bool
	prio    uint64
	after   time.Duration // eligible from then (a hold)
	since   uint64        // a yield: eligible once stops passed this
	from    time.Duration // held since
	exiting bool          // at exit or exit_group
}

// New returns a Chaos drawing from the stream of seed (StreamSeed).
func New(seed uint64) *Chaos {
	return &Chaos{stream: StreamSeed(seed), threads: make(map[*tracer.Thread]*thread), t0: time.Now()}
}

func (c *Chaos) now() time.Duration { return time.Since(c.t0) }

// Trapped is what chaos needs trapped besides the run's own calls: the
// futex waits and wakes threads synchronize with.
func Trapped() []int { return []int{unix.SYS_FUTEX} }

// Decide returns the decision for the nth call of nr in thread lineage,
// and the priority of the thread at that call.
func (c *Chaos) Decide(lineage string, nr, nth int) (Decision, uint64) {
	h := fnv.New64a()
	h.Write([]byte(lineage))
	x := mix(c.stream ^ h.Sum64() ^ uint64(nr)<<40 ^ uint64(nth)*0x9e3779b97f4a7c15)
	d := Decision{Lineage: lineage, Nr: nr, Nth: nth}
	switch r := x % 64; {
	case r < 6: // a hold of 20 µs to 2.5 ms
		d.Kind, d.Hold = Hold, time.Duration(20<<((x>>8)%8))*time.Microsecond
	case r < 7: // a long one: 5 to 20 ms
		d.Kind, d.Hold = Hold, time.Duration(5+(x>>8)%16)*time.Millisecond
	case r < 14:
		d.Kind, d.Hold = Yield, 2*time.Millisecond
	}
	return d, mix(x)
}

func (c *Chaos) thread(t *tracer.Thread) *thread {
	th := c.threads[t]
	if th == nil || th.lineage != t.Lineage {
		th = &thread{lineage: t.Lineage, nth: map[int]int{}}
		c.threads[t] = th
	}
	return th
}

// Enter implements tracer.Handler.
func (c *Chaos) Enter(sc *tracer.Syscall, act *tracer.Action) {
	c.stops++
	if c.solo.Thread() == sc.Thread {
		c.solo.Set(nil, false)
	}
	if sc.Arch != abi.ArchX86_64 || act.Kill {
		return
	}
	th := c.thread(sc.Thread)
	nth := th.nth[sc.Nr]
	th.nth[sc.Nr] = nth + 1
	d, prio := c.Decide(th.lineage, sc.Nr, nth)
	now := c.now()
	th.prio, th.after, th.since, th.from = prio, now, 0, now
	th.exiting = sc.Nr == unix.SYS_EXIT || sc.Nr == unix.SYS_EXIT_GROUP
	switch d.Kind {
	case Hold:
		th.after = now + d.Hold
	case Yield:
		th.prio, th.since = 0, c.stops
	}
	if d.Kind != None {
		c.mu.Lock()
		if len(c.log) < maxLog {
			c.log = append(c.log, d)
		}
		c.holds++
		c.mu.Unlock()
	}
	th.held = true
	if c.Release(sc.Thread) {
		return // its turn now: no need to stop
	}
	act.Hold = true
}

// Exit implements tracer.Handler: a thread back from a call that waited
// goes on only when no other runs.
func (c *Chaos) Exit(sc *tracer.Syscall, act *tracer.Action) {
	if r := c.solo.Thread(); r == nil || r == sc.Thread || c.solo.Over() {
		c.solo.Set(sc.Thread, false)
		return
	}
	th := c.thread(sc.Thread)
	now := c.now()
	th.held, th.prio, th.after, th.since, th.from, th.exiting = true, ^uint64(0), now, 0, now, false
	if !c.Release(sc.Thread) {
		act.Hold = true
	}
}

// Release implements tracer.Scheduler: th goes on when no thread runs
// alone and th is the waiting thread of highest priority that is not
// held back (or it waited too long).
func (c *Chaos) Release(t *tracer.Thread) bool {
	th := c.threads[t]
	if th == nil || !th.held {
		return true
	}
	if r := c.solo.Thread(); r != nil && r != t && !c.solo.Over() {
		return false
	}
	now := c.now()
	if now-th.from < starve {
		if !c.eligible(th, now) {
			return false
		}
		for o, oth := range c.threads {
			if o != t && oth.held && !o.Gone() && c.eligible(oth, now) && oth.prio > th.prio {
				return false
			}
		}
	}
	th.held = false
	// Into a call that waits too: the others go once it waits, so that
	// a wake-up finds it waiting (replay waits for that as well).
	c.solo.Set(t, th.exiting)
	return true
}

func (c *Chaos) eligible(th *thread, now time.Duration) bool {
	return now >= th.after && (th.since == 0 || c.stops > th.since || now-th.from > 2*time.Millisecond)
}

// Process implements tracer.ProcessHandler: it forgets threads that ended.
func (c *Chaos) Process(ev *tracer.ProcessEvent) {
	if ev.Kind == tracer.EventExit {
		if c.solo.Thread() == ev.Thread {
			c.solo.Set(nil, false)
		}
		delete(c.threads, ev.Thread)
	}
}

// Decisions returns the decisions that held a thread, in the order they
// were made (the first 65536), and how many there were.
func (c *Chaos) Decisions() ([]Decision, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Decision(nil), c.log...), c.holds
}

// mix is SplitMix64's finalizer.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
