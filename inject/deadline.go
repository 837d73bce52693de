package inject

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// deadline is the context.Context given to an LState with SetContext.
// gopher-lua checks Done() before every instruction, so a callback stuck in
// a loop stops at its deadline.
//
// Unlike context.WithTimeout it is reused for every callback, and arming it
// costs two atomic stores: a watchdog goroutine looks at the running
// callback a few times per limit and closes the channel when it has run too
// long. (Arming a runtime timer per callback was measured at 1-2 us of wall
// time per event: resetting the earliest timer wakes another thread.) A
// callback is stopped between limit and limit plus one watchdog period.
//
// The watchdog also looks at hermes's Go heap at every tick, and stops a
// callback while the heap is over the memory limits below (a script
// filling tables); once it is over, callbacks fail as soon as they are
// armed, so many short callbacks cannot add to it between two ticks.
// Patched gopher-lua bounds what one instruction or library call
// allocates, so what a script can add between two ticks is bounded too.
//
// Done and Err are called only by the goroutine running the LState, which
// is also the only one that arms and disarms; the watchdog closes the
// channel under mu, and disarm replaces a closed one under mu.
type deadline struct {
	mu     sync.Mutex
	done   chan struct{}
	fired  bool
	reason error // why done was closed: *timeoutError or *memoryError
	heap   []metrics.Sample
	over   atomic.Pointer[memoryError] // the heap at the last tick, if over the limits
	start  atomic.Int64                // ns since base when armed; 0 when idle
	limit  atomic.Int64                // ns
	base   time.Time
	stopc  chan struct{}
	once   sync.Once
}

// timeoutError is what a callback that ran out of time fails with.
type timeoutError struct{ limit time.Duration }

func (e *timeoutError) Error() string {
	return "timeout: the callback ran longer than " + e.limit.String() + " (endless loop?)"
}

func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// Memory limits on hermes's Go heap while a callback runs (see doc.go).
// The live heap is measured at the end of each garbage collection; the
// heap in use (live and not yet collected) at every look of the watchdog,
// and the GC keeps it under twice the live heap.
const (
	heapLiveLimit = 192 << 20
	heapUseLimit  = 320 << 20
)

// heapGC is set while a collection forced by a watchdog runs.
var heapGC atomic.Bool

// memoryError is what a callback fails with when hermes's heap grew past
// the limits while it ran.
type memoryError struct{ live, inUse uint64 }

func (e *memoryError) Error() string {
	return fmt.Sprintf("memory limit: hermes's heap reached %d MiB live, %d MiB in use (limits %d and %d MiB)",
		e.live>>20, e.inUse>>20, heapLiveLimit>>20, heapUseLimit>>20)
}

// heapCheck returns a *memoryError when the heap is over the limits. When
// only garbage may put it over (the heap in use is, the live heap is not),
// it starts a collection, so that the next tick sees the truth even if no
// callback allocates any more.
func (d *deadline) heapCheck() *memoryError {
	metrics.Read(d.heap)
	var v [2]uint64
	for i, s := range d.heap {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	live, inUse := v[0], v[1]
	if inUse > heapUseLimit && live <= heapLiveLimit && heapGC.CompareAndSwap(false, true) {
		go func() {
			runtime.GC()
			heapGC.Store(false)
		}()
	}
	if live > heapLiveLimit || inUse > heapUseLimit {
		return &memoryError{live: live, inUse: inUse}
	}
	return nil
}

// newDeadline starts a watchdog that checks every period.
func newDeadline(period time.Duration) *deadline {
	d := &deadline{done: make(chan struct{}), base: time.Now(), stopc: make(chan struct{})}
	d.heap = []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	go d.watch(period)
	return d
}

func (d *deadline) now() int64 { return int64(time.Since(d.base)) + 1 }

func (d *deadline) watch(period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-d.stopc:
			return
		case <-t.C:
		}
		over := d.heapCheck()
		d.over.Store(over)
		d.mu.Lock()
		if s := d.start.Load(); s != 0 && !d.fired {
			if d.now()-s >= d.limit.Load() {
				d.fire(&timeoutError{time.Duration(d.limit.Load())})
			} else if over != nil {
				d.fire(over)
			}
		}
		d.mu.Unlock()
	}
}

// fire stops the running callback with err. Called with mu held.
func (d *deadline) fire(err error) {
	d.fired, d.reason = true, err
	close(d.done)
}

// arm starts the clock for one callback of at most limit.
func (d *deadline) arm(limit time.Duration) {
	d.limit.Store(int64(limit))
	d.start.Store(d.now())
	if over := d.over.Load(); over != nil {
		// the heap was over the limits at the last tick: fail at once
		d.mu.Lock()
		if !d.fired {
			d.fire(over)
		}
		d.mu.Unlock()
	}
}

// disarm stops the clock; it reports whether the deadline had passed.
func (d *deadline) disarm() bool {
	d.mu.Lock()
	d.start.Store(0)
	fired := d.fired
	if fired {
		d.done = make(chan struct{})
		d.fired, d.reason = false, nil
	}
	d.mu.Unlock()
	return fired
}

func (d *deadline) stop() { d.once.Do(func() { close(d.stopc) }) }

func (d *deadline) Deadline() (time.Time, bool) { return time.Time{}, false }
func (d *deadline) Done() <-chan struct{}       { return d.done }
func (d *deadline) Value(any) any               { return nil }

func (d *deadline) Err() error {
	select {
	case <-d.done:
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.reason
	default:
		return nil
	}
}

// watchPeriod is how often the watchdog looks for a callback bounded by
// limit: at least every 10ms, which also bounds how much a script can
// allocate between two looks at the heap.
func watchPeriod(limit time.Duration) time.Duration {
	return min(max(limit/4, time.Millisecond), 10*time.Millisecond)
}
