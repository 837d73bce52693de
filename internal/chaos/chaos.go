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

// Chaos is the tracer handler. It implements tracer.Scheduler for its
// yields; it must come before the handlers that record what it did.
type Chaos struct {
	stream  uint64
	threads map[*tracer.Thread]*thread
	stops   uint64 // stops of any thread seen so far

	mu    sync.Mutex
	log   []Decision
	holds int
}

type thread struct {
	lineage string
	nth     map[int]int
	yield   bool
	since   uint64 // stops when it started to yield
	until   time.Time
}

// New returns a Chaos drawing from the stream of seed (StreamSeed).
func New(seed uint64) *Chaos {
	return &Chaos{stream: StreamSeed(seed), threads: make(map[*tracer.Thread]*thread)}
}

// Trapped is what chaos needs trapped besides the run's own calls: the
// futex waits and wakes threads synchronize with.
func Trapped() []int { return []int{unix.SYS_FUTEX} }

// Decide returns the decision for the nth call of nr in thread lineage.
func (c *Chaos) Decide(lineage string, nr, nth int) Decision {
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
	return d
}

// Enter implements tracer.Handler.
func (c *Chaos) Enter(sc *tracer.Syscall, act *tracer.Action) {
	c.stops++
	if sc.Arch != abi.ArchX86_64 || act.Kill {
		return
	}
	switch sc.Nr {
	case unix.SYS_EXIT, unix.SYS_EXIT_GROUP, unix.SYS_EXECVE, unix.SYS_EXECVEAT:
		return // no one waits for these
	}
	th := c.threads[sc.Thread]
	if th == nil || th.lineage != sc.Thread.Lineage {
		th = &thread{lineage: sc.Thread.Lineage, nth: map[int]int{}}
		c.threads[sc.Thread] = th
	}
	nth := th.nth[sc.Nr]
	th.nth[sc.Nr] = nth + 1
	d := c.Decide(th.lineage, sc.Nr, nth)
	if d.Kind == None {
		return
	}
	c.mu.Lock()
	if len(c.log) < maxLog {
		c.log = append(c.log, d)
	}
	c.holds++
	c.mu.Unlock()
	switch d.Kind {
	case Hold:
		act.Delay = max(act.Delay, d.Hold)
	case Yield:
		th.yield, th.since, th.until = true, c.stops, time.Now().Add(d.Hold)
		act.Hold = true
	}
	if act.By == "" {
		act.By = tracer.ByHermes // a schedule, not a fault: recorded as the call's plain outcome
	}
}

// Exit implements tracer.Handler.
func (c *Chaos) Exit(*tracer.Syscall, *tracer.Action) {}

// Release implements tracer.Scheduler: a yielding thread goes on once
// another thread reached a call, or its time is up.
func (c *Chaos) Release(t *tracer.Thread) bool {
	th := c.threads[t]
	if th == nil || !th.yield {
		return true
	}
	if c.stops > th.since || !time.Now().Before(th.until) {
		th.yield = false
		return true
	}
	return false
}

// Process implements tracer.ProcessHandler: it forgets threads that ended.
func (c *Chaos) Process(ev *tracer.ProcessEvent) {
	if ev.Kind == tracer.EventExit {
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
