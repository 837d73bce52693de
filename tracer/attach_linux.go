package tracer

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// attachOptions are ptraceOptions without EXITKILL (an attached process
// must outlive hermes) and without TRACESECCOMP (no filter of ours).
const attachOptions = ptraceOptions &^ (unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACESECCOMP)

// attachAll seizes every thread of pid, re-reading /proc/PID/task until no
// new thread appears (threads made by a not-yet-seized thread are not
// auto-attached), and interrupts each so the loop starts it with syscall
// stops.
func (t *Tracer) attachAll(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("attach: invalid pid %d", pid)
	}
	if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("attach %d: no such process", pid)
	}
	if pid == os.Getpid() {
		return fmt.Errorf("attach %d: that is hermes itself", pid)
	}
	if tgid, err := tgidOf(pid); err == nil {
		pid = tgid // -p of a thread traces its whole process, like strace
	}
	p := t.newProcess(pid, "1", nil, newFDTable())
	t.root = p
	for {
		tids, err := taskList(pid)
		if err != nil {
			return fmt.Errorf("attach %d: %w", pid, err)
		}
		added := 0
		for _, tid := range tids {
			if t.threads[tid] != nil {
				continue
			}
			if err := ptraceSeize(tid, attachOptions); err != nil {
				if errors.Is(err, unix.ESRCH) {
					continue // exited meanwhile
				}
				if len(t.threads) == 0 {
					return fmt.Errorf("attach %d: %w", pid, err)
				}
				t.logf("attach thread %d: %v", tid, err)
				continue
			}
			// From the seize on, the thread sees hermes as its tracer
			// (TracerPid) but runs untrapped until this interrupt stops
			// it: the next call, with nothing in between, keeps that
			// window as short as two system calls.
			ierr := ptraceInterrupt(tid)
			lineage := p.Lineage
			if tid != pid {
				lineage = p.nextThreadLineage()
			}
			t.newThread(tid, p, lineage)
			if ierr != nil && !errors.Is(ierr, unix.ESRCH) {
				t.logf("interrupt thread %d: %v", tid, ierr)
			}
			added++
		}
		if added == 0 {
			break
		}
	}
	if len(t.threads) == 0 {
		return fmt.Errorf("attach %d: no such process", pid)
	}
	// Announce the threads, the leader first.
	tids := make([]int, 0, len(t.threads))
	for tid := range t.threads {
		tids = append(tids, tid)
	}
	sort.Slice(tids, func(i, j int) bool {
		if (tids[i] == pid) != (tids[j] == pid) {
			return tids[i] == pid
		}
		return tids[i] < tids[j]
	})
	for _, h := range t.cfg.Handlers {
		if ah, ok := h.(AttachHandler); ok {
			for _, tid := range tids {
				ah.Attached(t.threads[tid])
			}
		}
	}
	return nil
}

// tgidOf reads the thread group id of tid from /proc.
func tgidOf(tid int) (int, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("no Tgid in /proc/%d/status", tid)
}

func taskList(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("no such process")
		}
		return nil, err
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// detachAll starts detaching every thread: threads we hold (delays) are
// detached at once, running ones are interrupted and detached at their next
// stop by the loop.
func (t *Tracer) detachAll() {
	if t.detaching {
		return
	}
	t.detaching = true
	for _, th := range t.parked {
		if !th.gone && th.parked {
			th.parked = false
			th.hold = 0
			t.detach(th, th.resumeSig)
		}
	}
	t.parked = t.parked[:0]
	for _, th := range t.threads {
		if err := ptraceInterrupt(th.Tid); err != nil && errors.Is(err, unix.ESRCH) {
			t.forget(th)
		}
	}
	// New children whose parent's event we have not seen are stopped now.
	for tid := range t.pending {
		_ = ptraceDetach(tid, 0)
		delete(t.pending, tid)
	}
}

// detach lets th go, delivering sig if it was stopped for one. A thread
// stopped at a syscall we skipped would see -ENOSYS: give it its value
// first.
func (t *Tracer) detach(th *Thread, sig int) {
	if th.skipRet != nil {
		var regs unix.PtraceRegs
		if ptraceGetRegs(th.Tid, &regs) == nil {
			regs.Rax = uint64(*th.skipRet)
			_ = ptraceSetRegs(th.Tid, &regs)
		}
		th.skipRet = nil
	}
	for _, h := range t.cfg.Handlers {
		if ah, ok := h.(AttachHandler); ok {
			ah.Detached(th)
		}
	}
	if err := ptraceDetach(th.Tid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		t.logf("detach %d: %v", th.Tid, err)
	}
	t.forget(th)
}

// forget drops a thread from the model without an exit event.
func (t *Tracer) forget(th *Thread) {
	if th.gone {
		return
	}
	th.gone = true
	delete(t.threads, th.Tid)
	p := th.Proc
	p.threads--
	if p.threads <= 0 {
		delete(t.procs, p.Pid)
		t.liveMu.Lock()
		delete(t.live, p.Pid)
		t.liveMu.Unlock()
	}
}
