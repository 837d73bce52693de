package inject

import (
	"context"
	"sync"
	"time"
)

// deadline is the context.Context given to an LState with SetContext.
// gopher-lua checks Done() before every instruction, so a callback stuck in
// a loop stops at its deadline. Unlike context.WithTimeout it is reused for
// every callback: arming it is a timer Reset, with no allocation.
//
// Done and Err are called only by the goroutine running the LState, which
// is also the only one that arms and disarms; the timer goroutine only
// closes the channel, under mu.
type deadline struct {
	mu     sync.Mutex
	done   chan struct{}
	at     time.Time // when the armed callback times out
	active bool
	fired  bool
	limit  time.Duration
	timer  *time.Timer
	err    error
}

// timeoutError is what a callback that ran out of time fails with.
type timeoutError struct{ limit time.Duration }

func (e *timeoutError) Error() string {
	return "timeout: the callback ran longer than " + e.limit.String() + " (endless loop?)"
}

func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

func newDeadline() *deadline {
	d := &deadline{done: make(chan struct{})}
	d.timer = time.AfterFunc(time.Hour, d.fire)
	d.timer.Stop()
	return d
}

func (d *deadline) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.active && !d.fired && !time.Now().Before(d.at) {
		d.fired = true
		close(d.done)
	}
}

// arm starts the clock for one callback of at most limit.
func (d *deadline) arm(limit time.Duration) {
	d.mu.Lock()
	d.active = true
	d.limit = limit
	d.at = time.Now().Add(limit)
	d.mu.Unlock()
	d.timer.Reset(limit)
}

// disarm stops the clock; it reports whether the deadline had passed.
func (d *deadline) disarm() bool {
	d.timer.Stop()
	d.mu.Lock()
	fired := d.fired
	d.active = false
	if fired {
		d.done = make(chan struct{})
		d.fired = false
	}
	d.mu.Unlock()
	return fired
}

func (d *deadline) stop() { d.timer.Stop() }

func (d *deadline) Deadline() (time.Time, bool) { return time.Time{}, false }
func (d *deadline) Done() <-chan struct{}       { return d.done }
func (d *deadline) Value(any) any               { return nil }

func (d *deadline) Err() error {
	select {
	case <-d.done:
		return &timeoutError{d.limit}
	default:
		return nil
	}
}
