package tracer

import "golang.org/x/sys/unix"

// waitFlags are the loop's wait4 flags. __WNOTHREAD: only this thread's
// children and tracees (it forked the tracees and the doorbell, and
// attached): the other children of the process (os/exec's, another run's
// tracees) are not ours to reap.
const waitFlags = unix.WALL | unix.WUNTRACED | wNoThread

// maxRound bounds the statuses one round collects.
const maxRound = 4096

// waitQueue hands the loop its tracees' wait statuses in rounds, so that
// none of them starves.
//
// wait4(-1) is not fair: the kernel looks at the tracer's own children
// first, then at its other tracees newest first (each attach goes to the
// head of its list of tracees), and reports the first it finds with
// something to report. Taking one status at a time, a tracee that forked
// many busy children (a test harness's process, whose children each stop
// again as soon as they are resumed) is reported only when none of its
// children has a stop pending: it waited many seconds in a ptrace stop,
// and, say, the waiters it was about to wake with FUTEX_WAKE timed out.
// So once wait4 has returned one status, next collects with WNOHANG every
// other status ready at that moment and hands them out in that order
// before it waits again: each tracee with a stop pending is served within
// one round, as strace does.
//
// A round costs a wait4 that, while the tracer keeps up (one tracee
// running at a time: a shell waiting for its child), finds nothing. So a
// round that finds nothing doubles the number of statuses taken before
// the next one, up to maxSkip; one that finds any makes every status start
// a round again. A tracee is then served at most maxSkip statuses plus one
// round after its stop.
type waitQueue struct {
	q    []waited
	head int
	skip int // statuses to take before the next round
	gap  int // the skip after the last round
}

// maxSkip bounds the statuses taken between two rounds.
const maxSkip = 64

type waited struct {
	pid int
	ws  unix.WaitStatus
}

// queued reports whether statuses of the current round are left.
func (w *waitQueue) queued() bool { return w.head < len(w.q) }

// next returns the next status of the round, or blocks in wait4 for a
// new round. With round false (a single tracee: there is no one to
// starve) it collects nothing more, saving a wait4 per stop.
func (w *waitQueue) next(ws *unix.WaitStatus, round bool) (int, error) {
	if w.head < len(w.q) {
		e := w.q[w.head]
		w.head++
		if w.head == len(w.q) {
			w.q, w.head = w.q[:0], 0
		}
		*ws = e.ws
		return e.pid, nil
	}
	pid, err := unix.Wait4(-1, ws, waitFlags, nil)
	if err != nil || !round {
		return pid, err
	}
	if w.skip > 0 {
		w.skip--
		return pid, nil
	}
	for len(w.q) < maxRound {
		var more unix.WaitStatus
		p, err := unix.Wait4(-1, &more, waitFlags|unix.WNOHANG, nil)
		if err != nil || p <= 0 {
			break
		}
		w.q = append(w.q, waited{p, more})
	}
	if len(w.q) == 0 {
		w.gap = min(max(2*w.gap, 1), maxSkip)
	} else {
		w.gap = 0
	}
	w.skip = w.gap
	return pid, nil
}
