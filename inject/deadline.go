package inject

import (
	"context"
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
// Done and Err are called only by the goroutine running the LState, which
// is also the only one that arms and disarms; the watchdog closes the
// channel under mu, and disarm replaces a closed one under mu.
type deadline struct {
	mu    sync.Mutex
	done  chan struct{}
	fired bool
	start atomic.Int64 // ns since base when armed; 0 when idle
	limit atomic.Int64 // ns
	base  time.Time
	stopc chan struct{}
	once  sync.Once
}

// timeoutError is what a callback that ran out of time fails with.
type timeoutError struct{ limit time.Duration }

func (e *timeoutError) Error() string {
	return "timeout: the callback ran longer than " + e.limit.String() + " (endless loop?)"
}

func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// newDeadline starts a watchdog that checks every period.
func newDeadline(period time.Duration) *deadline {
	d := &deadline{done: make(chan struct{}), base: time.Now(), stopc: make(chan struct{})}
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
		d.mu.Lock()
		if s := d.start.Load(); s != 0 && !d.fired && d.now()-s >= d.limit.Load() {
			d.fired = true
			close(d.done)
		}
		d.mu.Unlock()
	}
}

// arm starts the clock for one callback of at most limit.
func (d *deadline) arm(limit time.Duration) {
	d.limit.Store(int64(limit))
	d.start.Store(d.now())
}

// disarm stops the clock; it reports whether the deadline had passed.
func (d *deadline) disarm() bool {
	d.mu.Lock()
	d.start.Store(0)
	fired := d.fired
	if fired {
		d.done = make(chan struct{})
		d.fired = false
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
		return &timeoutError{time.Duration(d.limit.Load())}
	default:
		return nil
	}
}

// watchPeriod is how often the watchdog looks for a callback bounded by
// limit.
func watchPeriod(limit time.Duration) time.Duration {
	return min(max(limit/4, time.Millisecond), 50*time.Millisecond)
}
