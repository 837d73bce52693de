package replay

import (
	"fmt"
	"os"

	"github.com/hermes-trace/hermes/tracer"
	"golang.org/x/sys/unix"
)

// Asynchronous signals (a child's SIGCHLD, a timer's SIGALRM, a kill from
// another process) arrive when they arrive: a shell's SIGCHLD handler that
// runs one call earlier than it did when recorded makes the shell's calls
// come in another order. Replay moves them to where the recording had
// them: between the same two calls of the same thread. A signal that
// arrives early is held back (at its delivery stop); at the exit of the
// call the recording delivered it after, replay sends it (tgkill) and
// gives it the recorded siginfo; a signal the recording never delivered
// to that thread is dropped. Faults (SIGSEGV...), job control and SIGURG
// (Go's preemption) are left alone.

// sigRec is a signal the recording delivered to a thread before a call.
type sigRec struct {
	sig  int
	info []byte // raw siginfo_t as delivered
	done bool   // delivered, or sent, in this run
}

// deferred reports whether replay moves a signal to its recorded place.
func deferred(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGALRM, unix.SIGVTALRM, unix.SIGPROF, unix.SIGIO, unix.SIGWINCH,
		unix.SIGUSR1, unix.SIGUSR2, unix.SIGPIPE, unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM:
		return true
	}
	return false
}

// deliverDue sends, at the exit of a call, the signals the recording
// delivered to the thread before its next call.
func (rp *Replayer) deliverDue(sc *tracer.Syscall, th *thread) {
	sigs := th.pendingSigs // after the thread's last recorded call
	if e := rp.at(th, 0); e != nil {
		sigs = e.sigs
	}
	for i := range sigs {
		s := &sigs[i]
		if s.done {
			continue
		}
		if debugMatch {
			fmt.Fprintf(os.Stderr, "SEND %s %d\n", th.lineage, s.sig)
		}
		s.done = true
		th.expect = append(th.expect, s)
		_ = unix.Tgkill(sc.Pid(), sc.Tid(), unix.Signal(s.sig))
	}
}

// signal handles a signal-delivery stop: a signal replay sent, or one that
// arrives where the recording had it, goes through with the recorded
// siginfo; any other deferred signal is held back.
func (rp *Replayer) signal(ev *tracer.ProcessEvent) {
	var info []byte
	if ev.Siginfo != nil {
		info = ev.Siginfo[:]
	}
	if (!deferredInfo(ev.Signal, info) && !rp.expecting(ev)) || rp.stopped {
		return
	}
	th := rp.thread(ev.Thread.Lineage)
	if debugMatch {
		defer func() { fmt.Fprintf(os.Stderr, "SIGNAL %s %d suppress=%v\n", th.lineage, ev.Signal, ev.Suppress) }()
	}
	for i, s := range th.expect {
		if s.sig == ev.Signal {
			th.expect = append(th.expect[:i], th.expect[i+1:]...)
			rp.setSiginfo(ev, s)
			return
		}
	}
	e := rp.at(th, 0)
	if e == nil {
		// The recording has no more calls of this thread: it ended, quite
		// possibly by this signal (pendingSigs holds what it was given
		// after its last call). Never hold back what may end it.
		for i := range th.pendingSigs {
			if s := &th.pendingSigs[i]; !s.done && s.sig == ev.Signal {
				s.done = true
				rp.setSiginfo(ev, s)
				break
			}
		}
		return
	}
	for i := range e.sigs {
		if s := &e.sigs[i]; !s.done && s.sig == ev.Signal {
			s.done = true
			rp.setSiginfo(ev, s)
			return
		}
	}
	ev.Suppress = true
}

// setSiginfo gives a delivered signal the recorded siginfo (whose pids are
// the recorded ones the program sees).
func (rp *Replayer) setSiginfo(ev *tracer.ProcessEvent, s *sigRec) {
	if rp.opts.Emulate&Pid == 0 || ev.Siginfo == nil || len(s.info) != len(ev.Siginfo) {
		return
	}
	copy(ev.Siginfo[:], s.info)
	ev.SetSiginfo = true
}
