// Package tracer is hermes's Interceptor and Core: it launches a program
// under ptrace with a seccomp-BPF filter (or attaches to a running one),
// runs the ptrace loop on one locked OS thread, keeps the state model of
// processes, threads and file descriptors, and hands every trapped syscall
// to a chain of Handlers whose Action it enforces.
//
// Only the syscalls in Config.Trace are trapped; the filter allows the rest
// in the kernel. A trapped call costs one ptrace stop (the seccomp stop),
// two if a handler wants to see the result.
//
// Kernel behaviour this package relies on, and where it bites:
//
//   - A seccomp RET_TRACE with no tracer, or before PTRACE_O_TRACESECCOMP is
//     set, fails the call with ENOSYS: the child waits on a pipe until the
//     tracer has seized it with its options, then loads the filter.
//   - Since Linux 4.8 the seccomp stop comes after the syscall-entry stop;
//     resuming it with PTRACE_SYSCALL yields the syscall-exit stop. Setting
//     orig_rax to -1 there skips the call, and the kernel re-runs the filter
//     on a changed number (without a second stop).
//   - All ptrace requests must come from the thread that attached: the loop
//     runs on one goroutine locked to its OS thread, which must not exit
//     while tracees live (with EXITKILL they would die with it).
//   - wait4 is restarted after Go's SA_RESTART signal handlers, so the loop
//     cannot be woken with a signal: a "doorbell" child that another
//     goroutine stops with SIGSTOP wakes it instead.
//   - execve from a non-leader thread changes the caller's tid to the
//     leader's; the old tid comes with PTRACE_EVENT_EXEC's message, and the
//     old leader vanishes without an exit report.
//   - Children of a PTRACE_SEIZEd tracee start with a PTRACE_EVENT_STOP that
//     can arrive before the parent's fork event: such stops wait in pending
//     until the parent's event names them.
package tracer

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/seccomp"
	"github.com/hermes-trace/hermes/tracer/symbols"
	"golang.org/x/sys/unix"
)

// Config says what to trace and who sees it.
type Config struct {
	// Trace lists the x86_64 syscall numbers to trap. Nil traps all of them.
	// i386 and x32 calls are always trapped.
	Trace []int
	// Handlers see every trapped call, in order.
	Handlers []Handler
	// Env is the environment of a launched command; nil means hermes's own.
	Env []string
	// Dir is the working directory of a launched command; "" means hermes's.
	Dir string
	// Stdin, Stdout and Stderr of a launched command; nil inherits hermes's.
	Stdin, Stdout, Stderr *os.File
	// TrackFDs keeps the fd table in the state model exact by trapping the
	// calls that make, duplicate and close descriptors. Without it, fd paths
	// are looked up in /proc when asked for.
	TrackFDs bool
	// NoPin lets a launched command run on every CPU. By default the tracer
	// thread and all tracees share one CPU, as rr does: on a virtual
	// machine a ptrace stop that crosses CPUs costs several times more than
	// one on the same CPU (measured by cmd/hermes-bench), and one CPU also
	// makes runs more repeatable. The CPU is the one the run starts on,
	// unless another run of the same process is pinned there: runs at once
	// spread over the allowed CPUs. Attached processes are never pinned.
	NoPin bool
	// Deterministic makes a launched command's runs repeatable, for record
	// and replay: address space randomization is off (personality
	// ADDR_NO_RANDOMIZE, as rr does), and at every exec each function the
	// vDSO exports (clock_gettime, gettimeofday, time, clock_getres,
	// getcpu, getrandom) is patched, as rr does, into a stub that makes its
	// system call, so libc and Go read clocks with real, trappable
	// syscalls while the vDSO stays visible (see vdso_linux.go; a vDSO
	// that cannot be patched is hidden instead). The exec ProcessEvent
	// then carries the address of the image's AT_RANDOM bytes.
	Deterministic bool
	// Epoch is the zero of event times (Syscall.Enter, .Leave,
	// ProcessEvent.Time, all nanoseconds since it); the zero Time means the
	// moment the run starts. Give one with a monotonic reading (time.Now),
	// so that the times also say when, by the wall clock, a call was made.
	Epoch time.Time
	// Logf reports hermes's own warnings (nil: discarded).
	Logf func(format string, args ...any)
	// RefuseIOUring fails io_uring_setup with ENOSYS (with one notice):
	// the operations of a ring never pass through a system call, so hermes
	// could not see, record, replay or police them. Runtimes fall back to
	// plain system calls. WarnIOUring lets it through with one warning.
	RefuseIOUring, WarnIOUring bool
	// Setup are raw system calls the launched child makes before anything
	// else, untraced: joining the namespaces of a private view of the file
	// system (setns), for replay. The child's working directory is set
	// after them.
	Setup []Step
}

// Result is how a traced run ended.
type Result struct {
	// ExitCode is what hermes should exit with: the root process's exit
	// status, or 128+N if a signal N killed it.
	ExitCode int
	Signal   int // the signal that killed the root process, or 0
	Core     bool
	// Interrupted is set when Stop ended the run.
	Interrupted bool
}

// ExecError means the command could not be started: Code is 127 when it
// was not found, 126 when it could not be executed.
type ExecError struct {
	Cmd  string
	Code int
	Err  error
}

func (e *ExecError) Error() string { return e.Cmd + ": " + e.Err.Error() }

func (e *ExecError) Unwrap() error { return e.Err }

// Tracer runs one traced session. Create it with New, then call Launch or
// Attach once. Stop may be called from any goroutine.
type Tracer struct {
	cfg       Config
	procH     []ProcessHandler
	traced    []bool // x86_64 numbers trapped; consulted in attach mode
	selected  []bool // x86_64 numbers the handlers see (traced, less the guard's own)
	exitFor   []bool // numbers whose exit the state model needs
	attach    bool
	threads   map[int]*Thread
	procs     map[int]*Process
	pending   map[int]unix.WaitStatus // stops of threads not yet announced by their parent
	root      *Process
	result    Result
	seq       uint64
	start     time.Time
	bell      *doorbell
	info      syscallInfo
	parked    []*Thread
	sched     Scheduler
	admitH    []Admitter
	returnH   []Returner
	nheld     int // threads held by a Hold
	errFd     int
	execSeen  bool
	childErr  error
	timer     *time.Timer
	timerMu   sync.Mutex
	stopReq   atomic.Int32
	stopSig   int
	killAt    time.Time
	detaching bool
	cmd       string
	pev       ProcessEvent
	siginfo   Siginfo

	liveMu sync.Mutex
	live   map[int]bool // tgids, for Stop from other goroutines

	syms *symbols.Cache // ELF symbol tables for Syscall.Symbolize, made on first process

	guard guard
}

// New returns a Tracer for cfg.
func New(cfg Config) *Tracer {
	t := &Tracer{
		cfg:     cfg,
		threads: make(map[int]*Thread),
		procs:   make(map[int]*Process),
		pending: make(map[int]unix.WaitStatus),
		live:    make(map[int]bool),
		errFd:   -1,
	}
	for _, h := range cfg.Handlers {
		if ph, ok := h.(ProcessHandler); ok {
			t.procH = append(t.procH, ph)
		}
		if a, ok := h.(Admitter); ok {
			t.admitH = append(t.admitH, a)
		}
		if r, ok := h.(Returner); ok {
			t.returnH = append(t.returnH, r)
		}
		if s, ok := h.(Scheduler); ok && t.sched == nil {
			t.sched = s
		}
	}
	t.traced = make([]bool, maxNr)
	t.exitFor = make([]bool, maxNr)
	if cfg.Trace == nil {
		for i := range t.traced {
			t.traced[i] = true
		}
	} else {
		for _, nr := range cfg.Trace {
			if nr >= 0 && nr < len(t.traced) {
				t.traced[nr] = true
			}
		}
	}
	if cfg.TrackFDs {
		for _, nr := range fdSyscalls {
			t.traced[nr] = true
			t.exitFor[nr] = true
		}
	}
	t.selected = slices.Clone(t.traced)
	for _, nr := range guardNrs {
		t.traced[nr] = true
	}
	t.exitFor[unix.SYS_CLONE] = true
	t.exitFor[unix.SYS_CLONE3] = true
	return t
}

// maxNr bounds the x86_64 syscall numbers (the table ends below 512).
const maxNr = 1024

// fdSyscalls change the fd table; with TrackFDs they are trapped with their
// exit stops.
var fdSyscalls = []int{
	unix.SYS_OPEN, unix.SYS_OPENAT, unix.SYS_OPENAT2, unix.SYS_CREAT, unix.SYS_CLOSE, unix.SYS_CLOSE_RANGE,
	unix.SYS_DUP, unix.SYS_DUP2, unix.SYS_DUP3, unix.SYS_FCNTL,
	unix.SYS_SOCKET, unix.SYS_SOCKETPAIR, unix.SYS_ACCEPT, unix.SYS_ACCEPT4,
	unix.SYS_PIPE, unix.SYS_PIPE2, unix.SYS_EVENTFD, unix.SYS_EVENTFD2,
	unix.SYS_EPOLL_CREATE, unix.SYS_EPOLL_CREATE1, unix.SYS_MEMFD_CREATE,
	unix.SYS_TIMERFD_CREATE, unix.SYS_SIGNALFD, unix.SYS_SIGNALFD4,
	unix.SYS_INOTIFY_INIT, unix.SYS_INOTIFY_INIT1, unix.SYS_PIDFD_OPEN, unix.SYS_PIDFD_GETFD,
	unix.SYS_OPEN_BY_HANDLE_AT, unix.SYS_FANOTIFY_INIT, unix.SYS_USERFAULTFD, unix.SYS_PERF_EVENT_OPEN,
	unix.SYS_IO_URING_SETUP,
}

func (t *Tracer) logf(format string, args ...any) {
	if t.cfg.Logf != nil {
		t.cfg.Logf(format, args...)
	}
}

// Root returns the root process once the run has started.
func (t *Tracer) Root() *Process { return t.root }

// Launch runs argv under the tracer and returns when every traced process
// has exited. argv[0] is looked up in PATH.
func (t *Tracer) Launch(argv []string) (Result, error) {
	if len(argv) == 0 {
		return Result{}, errors.New("no command given")
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		code := 126
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			code = 127
		}
		return Result{}, &ExecError{Cmd: argv[0], Code: code, Err: unwrapExec(err)}
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return Result{}, &ExecError{Cmd: argv[0], Code: 126, Err: errors.New("is a directory")}
	}
	t.cmd = argv[0]
	return t.run(func() error { return t.launch(path, argv) })
}

// unwrapExec strips the wrapping LookPath adds, leaving the reason.
func unwrapExec(err error) error {
	if errors.Is(err, exec.ErrNotFound) {
		return errors.New("command not found")
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	return err
}

// Attach traces the running process pid and all its threads, with syscall
// stops (no filter can be installed from outside). Stop detaches and leaves
// the process running.
func (t *Tracer) Attach(pid int) (Result, error) {
	t.attach = true
	for _, nr := range killNrs {
		t.traced[nr] = true // every call stops anyway: let the guard see these
	}
	return t.run(func() error { return t.attachAll(pid) })
}

// Stop ends the run: launched tracees are killed, attached ones detached.
// sig is the signal hermes received, reported in the exit code if the root
// process had to be killed. Safe from any goroutine.
func (t *Tracer) Stop(sig int) {
	if t.attach && t.guard.expected(sig) {
		return // a tracee signalled a process group that hermes is in
	}
	if t.stopReq.Swap(int32(sig)) != 0 {
		// Second request: do not wait any longer.
		t.stopReq.Store(-1)
	}
	t.ringBell()
}

// ringBell wakes the loop through the current doorbell. Any goroutine.
func (t *Tracer) ringBell() {
	t.liveMu.Lock()
	bell := t.bell
	t.liveMu.Unlock()
	if bell != nil {
		bell.ring()
	}
}

// run runs start and then the loop on one locked OS thread.
func (t *Tracer) run(start func() error) (Result, error) {
	type out struct {
		r   Result
		err error
	}
	ch := make(chan out, 1)
	// The loop waits for every child of its thread (wait4(-1) with
	// __WNOTHREAD), so the thread must have none but the tracees: a Go
	// thread that once forked for os/exec is the parent of that child, and
	// the loop would reap its exit from under its Wait (ECHILD). A thread
	// with children is held busy, so that the next goroutine gets another
	// one, until one has none (the runtime makes a new thread, childless,
	// when all are held); then the held ones go back to the runtime.
	held := make(chan struct{})
	for hops := 0; ; hops++ {
		clean := make(chan bool, 1)
		go func() {
			// Never unlocked: if this goroutine ever exits with tracees
			// still attached, its thread dies with it and EXITKILL takes
			// them along, rather than another goroutine inheriting a
			// thread that is a tracer.
			runtime.LockOSThread()
			if hops < maxThreadHops && !threadChildless() {
				clean <- false
				<-held
				runtime.UnlockOSThread()
				return
			}
			clean <- true
			r, err := t.loopMain(start)
			ch <- out{r, err}
		}()
		if <-clean {
			break
		}
	}
	close(held)
	o := <-ch
	return o.r, o.err
}

// maxThreadHops bounds the threads run holds looking for a childless one.
const maxThreadHops = 256

// threadChildless reports whether the calling thread has no children
// (/proc/thread-self/children, which lists zombies too). Where the kernel
// does not say (no CONFIG_PROC_CHILDREN), it assumes so.
func threadChildless() bool {
	b, err := os.ReadFile("/proc/thread-self/children")
	return err != nil || len(bytes.TrimSpace(b)) == 0
}

func (t *Tracer) loopMain(start func() error) (Result, error) {
	if err := acquireSIGCHLD(); err != nil {
		return Result{}, fmt.Errorf("rt_sigaction(SIGCHLD): %w", err)
	}
	defer releaseSIGCHLD()
	if !t.attach && !t.cfg.NoPin {
		release, err := pinCPU()
		if err != nil {
			t.logf("cannot pin to one CPU (traced calls will be slower): %v", err)
		} else {
			defer release()
		}
	}
	bell, err := newDoorbell()
	if err != nil {
		return Result{}, err
	}
	t.liveMu.Lock()
	t.bell = bell
	t.liveMu.Unlock()
	defer func() {
		t.liveMu.Lock()
		bell := t.bell
		t.bell = nil
		t.liveMu.Unlock()
		t.timerMu.Lock()
		if t.timer != nil {
			t.timer.Stop()
		}
		t.timerMu.Unlock()
		bell.close()
	}()
	t.start = t.cfg.Epoch
	if t.start.IsZero() {
		t.start = time.Now()
	}
	if err := start(); err != nil {
		return Result{}, err
	}
	if t.stopReq.Load() != 0 {
		t.handleBell()
	}
	if err := t.loop(); err != nil {
		return t.result, err
	}
	if t.childErr != nil {
		return Result{}, t.childErr
	}
	return t.result, nil
}

func (t *Tracer) launch(path string, argv []string) error {
	var spec childSpec
	var err error
	if spec.path, err = unix.BytePtrFromString(path); err != nil {
		return fmt.Errorf("command path: %w", err)
	}
	if spec.argv, err = cStrings(argv); err != nil {
		return err
	}
	env := t.cfg.Env
	if env == nil {
		env = os.Environ()
	}
	if spec.envv, err = cStrings(env); err != nil {
		return err
	}
	if t.cfg.Dir != "" {
		if spec.dir, err = unix.BytePtrFromString(t.cfg.Dir); err != nil {
			return err
		}
	}
	var traced []int
	for nr, on := range t.traced {
		if on {
			traced = append(traced, nr)
		}
	}
	filter, err := seccomp.Build(seccomp.Policy{Traced: traced})
	if err != nil {
		return fmt.Errorf("building seccomp filter: %w", err)
	}
	spec.fprog = &unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	// A filter needs NO_NEW_PRIVS or CAP_SYS_ADMIN. With the capability
	// (root), no NO_NEW_PRIVS: setuid programs keep working as natively.
	mode, nnp, admin := ownState()
	spec.nnp = !admin
	t.guard.hermesNNP = !admin && !nnp
	t.guard.baseMode = mode
	if t.cfg.Deterministic {
		if err := probeNoASLR(); err != nil {
			// Container seccomp profiles (Docker's) allow only a few
			// personalities.
			t.logf("cannot turn address space randomization off (%v): addresses will differ between runs", err)
		} else {
			spec.noASLR = true
		}
	}

	var syncP, errP [2]int
	if err := unix.Pipe2(syncP[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("pipe: %w", err)
	}
	defer unix.Close(syncP[1])
	if err := unix.Pipe2(errP[:], unix.O_CLOEXEC); err != nil {
		unix.Close(syncP[0])
		return fmt.Errorf("pipe: %w", err)
	}
	spec.syncFd, spec.errFd = syncP[0], errP[1]
	spec.setup = t.cfg.Setup
	// The child dup3s these onto 0..2; dup them above 2 first so that no
	// source is overwritten by an earlier target.
	for i, f := range []*os.File{t.cfg.Stdin, t.cfg.Stdout, t.cfg.Stderr} {
		spec.stdio[i] = -1
		if f == nil {
			continue
		}
		fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return fmt.Errorf("standard descriptor %d: %w", i, err)
		}
		defer unix.Close(fd)
		spec.stdio[i] = fd
	}
	pid, err := forkChild(&spec)
	runtime.KeepAlive(filter)
	unix.Close(syncP[0])
	unix.Close(errP[1])
	if err != nil {
		unix.Close(errP[0])
		return err
	}
	t.errFd = errP[0]
	if err := ptraceSeize(pid, ptraceOptions); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		return fmt.Errorf("ptrace seize %d: %w", pid, err)
	}
	p := t.newProcess(pid, "1", nil, newFDTable())
	t.root = p
	t.newThread(pid, p, p.Lineage)
	// Let the child go on to load the filter and exec.
	if _, err := unix.Write(syncP[1], []byte{0}); err != nil {
		return fmt.Errorf("releasing child: %w", err)
	}
	return nil
}

func (t *Tracer) newProcess(pid int, lineage string, parent *Process, fds *FDTable) *Process {
	if t.syms == nil {
		t.syms = symbols.NewCache(0)
	}
	p := &Process{Pid: pid, Lineage: lineage, Parent: parent, FDs: fds, cacheFDs: t.cfg.TrackFDs, syms: t.syms}
	p.maps.Pid = pid
	t.procs[pid] = p
	t.liveMu.Lock()
	t.live[pid] = true
	t.liveMu.Unlock()
	return p
}

func (t *Tracer) newThread(tid int, p *Process, lineage string) *Thread {
	th := &Thread{Tid: tid, Lineage: lineage, Proc: p, attached: t.attach}
	th.sc.Thread = th
	th.sc.mem = NewMemory(tid)
	p.threads++
	t.threads[tid] = th
	return th
}

// loop is the ptrace loop. It returns when no tracee is left.
func (t *Tracer) loop() error {
	var ws unix.WaitStatus
	var wq waitQueue // fair rounds of wait4 statuses: see wait_linux.go
	// While detaching, new children that have not reported yet are not
	// waited for: when the tracer thread exits the kernel detaches them,
	// and they run on (attach mode sets no EXITKILL).
	for len(t.threads) > 0 || (len(t.pending) > 0 && !t.detaching) || wq.queued() {
		wpid, err := wq.next(&ws, len(t.threads) > 1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.ECHILD) {
				return nil
			}
			return fmt.Errorf("wait4: %w", err)
		}
		if wpid == t.bell.pid {
			switch {
			case ws.Stopped():
				t.bell.rearm()
				t.handleBell()
			case ws.Exited() || ws.Signaled():
				// Killed from outside: without a doorbell nothing could
				// wake the loop again.
				if err := t.replaceBell(); err != nil {
					return err
				}
			}
			continue
		}
		th := t.threads[wpid]
		if th == nil && t.detaching {
			// A child auto-attached while we detach: let it go too.
			if ws.Stopped() {
				_ = ptraceDetach(wpid, 0)
			}
			delete(t.pending, wpid)
			continue
		}
		if th == nil {
			if ws.Stopped() {
				// A new child reporting before its parent's fork event.
				t.pending[wpid] = ws
			} else {
				delete(t.pending, wpid)
			}
			continue
		}
		t.handle(th, ws)
		if t.nheld > 0 {
			t.pollHeld()
			t.armTimer()
		}
	}
	return nil
}

// wNoThread is __WNOTHREAD: wait only for the calling thread's children
// and tracees, not those of the other threads of the process.
const wNoThread = 0x20000000

// handle acts on one wait status of a known thread.
func (t *Tracer) handle(th *Thread, ws unix.WaitStatus) {
	switch {
	case ws.Exited() || ws.Signaled():
		t.threadGone(th, ws)
		return
	case !ws.Stopped():
		return
	}
	sig := ws.StopSignal()
	if t.detaching {
		// Whatever stop this is, let the thread go; pass on a signal it
		// was about to receive. (A child it just forked is let go at its
		// first stop, or by the kernel when the tracer thread exits.)
		dsig := 0
		if sig != syscallTrap && sig != unix.SIGTRAP && eventOf(ws) == 0 {
			dsig = int(sig)
		}
		t.detach(th, dsig)
		return
	}
	if sig == syscallTrap {
		t.syscallStop(th)
		return
	}
	if sig == unix.SIGTRAP {
		switch eventOf(ws) {
		case unix.PTRACE_EVENT_SECCOMP:
			t.seccompStop(th)
			return
		case unix.PTRACE_EVENT_FORK, unix.PTRACE_EVENT_VFORK, unix.PTRACE_EVENT_CLONE:
			t.forkEvent(th, eventOf(ws))
			t.resume(th, 0)
			return
		case unix.PTRACE_EVENT_EXEC:
			th = t.execEvent(th)
			t.resume(th, 0)
			return
		case unix.PTRACE_EVENT_STOP:
			// Initial stop of a new tracee, or PTRACE_INTERRUPT.
			t.resume(th, 0)
			return
		case unix.PTRACE_EVENT_VFORK_DONE, unix.PTRACE_EVENT_EXIT:
			t.resume(th, 0)
			return
		}
	}
	if eventOf(ws) == unix.PTRACE_EVENT_STOP {
		// Group-stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU): LISTEN keeps the
		// tracee stopped the way job control expects, without holding it
		// in a ptrace stop; SIGCONT will wake it.
		t.processEvent(EventStop, th, nil, int(sig))
		if err := ptraceListen(th.Tid); err != nil {
			t.resume(th, 0)
		}
		return
	}
	// Signal-delivery stop: pass the signal on.
	t.signalStop(th, int(sig))
}

func (t *Tracer) signalStop(th *Thread, sig int) {
	if len(t.procH) > 0 {
		if err := ptraceGetSiginfo(th.Tid, &t.siginfo); err == nil {
			t.pev = ProcessEvent{Kind: EventSignal, Thread: th, Signal: sig, Siginfo: &t.siginfo, Time: t.now()}
			for _, h := range t.procH {
				h.Process(&t.pev)
			}
			if t.pev.Suppress {
				t.resume(th, 0)
				return
			}
			if t.pev.SetSiginfo {
				if err := ptraceSetSiginfo(th.Tid, &t.siginfo); err != nil {
					t.logf("%s: set siginfo: %v", th.Lineage, err)
				}
			}
		}
	}
	t.resume(th, sig)
}

// resume restarts a stopped thread: with PTRACE_SYSCALL when the next stop
// we need is a syscall stop (attach mode, or a call whose exit we want),
// else PTRACE_CONT.
func (t *Tracer) resume(th *Thread, sig int) {
	var err error
	if th.attached || th.wantExit {
		err = ptraceSyscall(th.Tid, sig)
	} else {
		err = ptraceCont(th.Tid, sig)
	}
	if err != nil && !errors.Is(err, unix.ESRCH) {
		t.logf("resume %d: %v", th.Tid, err)
	}
}

func (t *Tracer) processEvent(kind ProcessEventKind, th, child *Thread, sig int) {
	if len(t.procH) == 0 {
		return
	}
	t.pev = ProcessEvent{Kind: kind, Thread: th, Child: child, Signal: sig, Time: t.now()}
	for _, h := range t.procH {
		h.Process(&t.pev)
	}
}

func (t *Tracer) now() int64 { return int64(time.Since(t.start)) }

// seccompStop handles a PTRACE_EVENT_SECCOMP stop: a trapped syscall entry.
func (t *Tracer) seccompStop(th *Thread) {
	info := &t.info
	if err := ptraceGetSyscallInfo(th.Tid, info); err != nil {
		t.resume(th, 0)
		return
	}
	if info.op != unix.PTRACE_SYSCALL_INFO_SECCOMP && info.op != unix.PTRACE_SYSCALL_INFO_ENTRY {
		t.resume(th, 0)
		return
	}
	t.enter(th, info, info.op == unix.PTRACE_SYSCALL_INFO_SECCOMP && !ownData(info.retData))
}

// syscallStop handles a PTRACE_SYSCALL stop: an exit we asked for, or in
// attach mode an entry or exit.
func (t *Tracer) syscallStop(th *Thread) {
	info := &t.info
	if err := ptraceGetSyscallInfo(th.Tid, info); err != nil {
		t.resume(th, 0)
		return
	}
	switch info.op {
	case unix.PTRACE_SYSCALL_INFO_ENTRY:
		if th.attached {
			nr := int(info.nr)
			if info.arch == auditArchX86_64 && nr >= 0 && nr < len(t.traced) && !t.traced[nr] {
				th.inSyscall, th.wantExit = true, false
				th.sc.Nr, th.sc.Arch = -1, abi.ArchX86_64 // not this call's: forkEvent must not read it
				t.resume(th, 0)
				return
			}
		}
		t.enter(th, info, false)
	case unix.PTRACE_SYSCALL_INFO_EXIT:
		if th.remote != nil {
			t.finishMmap(th, info.rval())
			return
		}
		if th.inSyscall && (th.wantExit || th.skipRet != nil) {
			t.exit(th, info.rval())
			return
		}
		th.inSyscall = false
		t.resume(th, 0)
	default:
		t.resume(th, 0)
	}
}

const (
	auditArchX86_64 = 0xc000003e
	auditArchI386   = 0x40000003
)

// enter runs the handlers at a syscall entry and enforces their action.
// foreign is a stop that the target's own filter asked for.
func (t *Tracer) enter(th *Thread, info *syscallInfo, foreign bool) {
	sc := &th.sc
	if th.isRedo(info) {
		// The call again, after the mmap of its scratch memory: the
		// handlers have decided already.
		th.inSyscall = true
		sc.regsValid, sc.regsDirty = false, false
		t.apply(th)
		return
	}
	sc.Nr = int(info.nr)
	sc.Args = info.args
	sc.IP, sc.SP = info.ip, info.sp
	sc.Ret, sc.Exited, sc.Skipped = 0, false, false
	sc.regsValid, sc.regsDirty = false, false
	sc.Enter = t.now()
	sc.Leave = 0
	switch {
	case info.arch == auditArchI386:
		sc.Arch, sc.Info = abi.ArchI386, nil
		sc.Nth = 0
	case info.nr&abi.X32Bit != 0:
		sc.Arch, sc.Info = abi.ArchX32, nil
		sc.Nth = 0
	default:
		sc.Arch = abi.ArchX86_64
		sc.Info = abi.X86_64(sc.Nr)
		sc.Nth = th.Proc.count(sc.Nr)
	}
	if !t.execSeen && th.Proc == t.root && !t.attach && !isExec(sc) {
		// The launched child's own steps after a failed execve (reporting
		// the error to hermes, exiting): not the target's.
		t.resume(th, 0)
		return
	}
	th.inSyscall = true
	th.skipRet = nil
	act := &th.act
	act.reset()
	// Calls trapped only for the guard are not the handlers' business.
	handlers := t.cfg.Handlers
	th.unseen = sc.Arch == abi.ArchX86_64 && (sc.Nr < 0 || sc.Nr >= len(t.selected) || !t.selected[sc.Nr])
	if th.unseen {
		handlers = nil
	} else {
		t.seq++
		sc.Seq = t.seq
	}
	if sc.Arch == abi.ArchX86_64 && sc.Nr < len(t.exitFor) && t.exitFor[sc.Nr] {
		act.WantExit = true
	}
	forced := t.guardEnter(th, act, foreign)
	guardVal := act.Value
	for _, h := range handlers {
		h.Enter(sc, act)
	}
	if forced && !act.Skip {
		act.Skip, act.Value, act.By = true, guardVal, ByHermes // the call must not run
	}
	if act.Kill {
		t.kill(th)
		return
	}
	if act.Hold && t.sched != nil && !th.attached {
		t.holdThread(th, holdApply)
		return
	}
	t.proceed(th)
}

// proceed applies the entry action of th's current call (after its
// scratch memory is mapped, if it needs it) and resumes it.
func (t *Tracer) proceed(th *Thread) {
	act := &th.act
	if len(act.Strings) > 0 && !act.Skip && t.needScratch(th, act) {
		return // the thread maps it first, then makes the call again: apply then
	}
	t.apply(th)
}

// apply enforces the entry action of th's current call and resumes it.
func (t *Tracer) apply(th *Thread) {
	sc := &th.sc
	act := &th.act
	if act.SetArgs != 0 || (len(act.Strings) > 0 && !act.Skip) {
		th.saveArgs(act.SetArgs | stringArgs(act))
		if !act.Skip {
			act.WantExit = true // to give the program its registers back
		}
		if err := t.modifyArgs(th, act); err != nil && !act.Skip {
			// Fail closed: the call must not run as the program made it.
			t.logf("%s: %s denied with EPERM: cannot change its arguments: %v", th.Lineage, sc.Name(), err)
			act.Skip, act.Value = true, -int64(unix.EPERM) // by whoever changed them
		}
	}
	if act.SetNr && !act.Skip {
		// The kernel runs the filter again on the new number, without
		// another stop.
		if regs, err := sc.Regs(); err == nil {
			regs.Orig_rax = uint64(act.Nr)
			sc.regsDirty = true
		}
	}
	delay := act.Delay
	if act.Skip {
		t.skip(th, act.Value)
		t.emulateWrites(th, sc, act.Writes)
		sc.Exited, sc.Skipped, sc.Ret = true, true, act.Value
		sc.Leave = sc.Enter
		if !th.attached {
			// The call will not run: report its exit now, without a stop.
			delay = max(delay, t.runExit(th))
			th.inSyscall = false
			th.restoreArgs()
		}
	}
	if act.Signal != 0 {
		_ = unix.Tgkill(th.Proc.Pid, th.Tid, unix.Signal(act.Signal))
	}
	t.flushRegs(th)
	th.wantExit = act.WantExit && !sc.Skipped
	if !th.wantExit && th.skipRet == nil && !th.attached {
		th.inSyscall = false
	}
	if delay > 0 {
		th.admit = !act.Skip
		t.park(th, delay, 0)
		return
	}
	if act.Skip && th.xact.Hold && t.sched != nil && !th.attached {
		t.holdThread(th, holdResume)
		return
	}
	if !act.Skip {
		t.admitted(th)
	}
	t.resume(th, 0)
}

// admitted tells the Admitters that th's current call goes into the kernel.
func (t *Tracer) admitted(th *Thread) {
	th.admit = false
	if th.unseen {
		return
	}
	for _, a := range t.admitH {
		a.Admitted(&th.sc)
	}
}

// flushRegs writes back registers a handler's action changed.
func (t *Tracer) flushRegs(th *Thread) {
	sc := &th.sc
	if !sc.regsDirty {
		return
	}
	if err := ptraceSetRegs(th.Tid, &sc.regs); err != nil && !errors.Is(err, unix.ESRCH) {
		t.logf("%s: set registers: %v", th.Lineage, err)
	}
	sc.regsDirty = false
}

func isExec(sc *Syscall) bool {
	return sc.Arch == abi.ArchX86_64 && (sc.Nr == unix.SYS_EXECVE || sc.Nr == unix.SYS_EXECVEAT)
}

// exit runs the handlers at a syscall exit.
func (t *Tracer) exit(th *Thread, rval int64) {
	sc := &th.sc
	sc.Leave = t.now()
	th.inSyscall = false
	th.wantExit = false
	sc.regsValid, sc.regsDirty = false, false
	var delay time.Duration
	if th.skipRet != nil {
		// Attach-mode skip: the kernel left -ENOSYS in rax; put in the value
		// (as the exit handlers may have changed it).
		delay = t.runExit(th)
		if regs, err := sc.Regs(); err == nil {
			regs.Rax = uint64(*th.skipRet)
			sc.regsDirty = true
		}
		th.skipRet = nil
	} else {
		sc.Ret, sc.Exited = rval, true
		t.guardAtExit(th)
		t.fixStatusRead(th)
		t.updateState(th)
		delay = t.runExit(th)
	}
	if !th.xact.Redo {
		th.restoreArgs()
	}
	t.flushRegs(th)
	if delay > 0 {
		t.park(th, delay, 0)
		return
	}
	if th.xact.Hold && t.sched != nil && !th.attached {
		t.holdThread(th, holdResume)
		return
	}
	t.resume(th, 0)
}

// runExit calls the exit handlers with their own Action (the entry's may
// still be in use) and applies what they change, leaving the registers for
// the caller to write back. It returns a delay to hold the thread.
func (t *Tracer) runExit(th *Thread) time.Duration {
	sc := &th.sc
	act := &th.xact
	act.reset()
	if !th.unseen {
		for _, h := range t.cfg.Handlers {
			h.Exit(sc, act)
		}
	}
	if act.Kill {
		t.kill(th)
		return 0
	}
	if act.Skip {
		sc.Ret = act.Value
		if regs, err := sc.Regs(); err == nil {
			regs.Rax = uint64(act.Value)
			sc.regsDirty = true
		}
		if th.skipRet != nil {
			*th.skipRet = act.Value
		}
		t.emulateWrites(th, sc, act.Writes)
	}
	if act.Redo && !sc.Skipped && !th.attached && sc.Arch == abi.ArchX86_64 {
		// Back to the syscall instruction (2 bytes), as the kernel does to
		// restart a call: the thread enters the call again, with the
		// arguments changed as asked.
		th.saveArgs(act.SetArgs)
		if regs, err := sc.Regs(); err == nil {
			regs.Rip -= 2
			regs.Rax = regs.Orig_rax
			ar := argRegs(regs, sc.Arch)
			for i := 0; i < 6; i++ {
				if act.SetArgs&(1<<i) != 0 {
					*ar[i] = act.Args[i]
				}
			}
			sc.regsDirty = true
		}
	}
	if act.Signal != 0 {
		_ = unix.Tgkill(th.Proc.Pid, th.Tid, unix.Signal(act.Signal))
	}
	return act.Delay
}

// skip makes the current call not run and return v.
func (t *Tracer) skip(th *Thread, v int64) {
	sc := &th.sc
	regs, err := sc.Regs()
	if err != nil {
		return
	}
	regs.Orig_rax = ^uint64(0)
	regs.Rax = uint64(v)
	sc.regsDirty = true
	if th.attached {
		// At a syscall-entry stop the kernel overwrites rax with -ENOSYS
		// for a skipped call; set the value at the exit stop.
		val := v
		th.skipRet = &val
	}
}

// argRegs returns pointers to the registers holding the arguments of a call
// in arch a.
func argRegs(regs *unix.PtraceRegs, a abi.Arch) [6]*uint64 {
	if a == abi.ArchI386 {
		return [6]*uint64{&regs.Rbx, &regs.Rcx, &regs.Rdx, &regs.Rsi, &regs.Rdi, &regs.Rbp}
	}
	return [6]*uint64{&regs.Rdi, &regs.Rsi, &regs.Rdx, &regs.R10, &regs.R8, &regs.R9}
}

// modifyArgs rewrites argument registers, and points string arguments at
// copies written into the thread's scratch mapping (needScratch made it).
func (t *Tracer) modifyArgs(th *Thread, act *Action) error {
	sc := &th.sc
	regs, err := sc.Regs()
	if err != nil {
		return err
	}
	ar := argRegs(regs, sc.Arch)
	for i := 0; i < 6; i++ {
		if act.SetArgs&(1<<i) != 0 {
			*ar[i] = act.Args[i]
			sc.Args[i] = act.Args[i]
		}
	}
	sc.regsDirty = true
	if len(act.Strings) == 0 || act.Skip {
		return nil // a call that does not run needs no strings
	}
	slot := th.Proc.scratchOf(th)
	if slot == nil || slot.size < stringsSize(act.Strings) {
		return errNoScratch
	}
	addr := slot.addr
	for _, s := range act.Strings {
		if s.Index < 0 || s.Index >= 6 {
			return fmt.Errorf("string argument index %d out of range", s.Index)
		}
		buf := make([]byte, len(s.Data)+1)
		copy(buf, s.Data)
		if err := sc.mem.WriteAt(buf, addr); err != nil {
			return err
		}
		*ar[s.Index] = addr
		sc.Args[s.Index] = addr
		addr += roundUp(uint64(len(buf)), 16)
	}
	return nil
}

func (t *Tracer) writeAll(sc *Syscall, ws []MemWrite) error {
	for _, w := range ws {
		// As the kernel would: never into memory the process cannot write
		// (handlers answer for syscalls; hermes's own patches use Memory).
		if err := sc.mem.WriteAsKernel(w.Data, w.Addr); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tracer) kill(th *Thread) {
	_ = unix.Kill(th.Proc.Pid, unix.SIGKILL)
}

// park holds th for d, then resumes it with sig.
func (t *Tracer) park(th *Thread, d time.Duration, sig int) {
	th.parked = true
	th.resumeSig = sig
	th.deadline = t.now() + int64(d)
	t.parked = append(t.parked, th)
	t.armTimer()
}

// What a thread held by a Hold does when released.
const (
	holdApply  uint8 = 1 + iota // apply its entry action, then resume
	holdResume                  // resume it
)

// holdThread keeps th in its stop until the Scheduler releases it.
func (t *Tracer) holdThread(th *Thread, stage uint8) {
	th.hold = stage
	t.nheld++
	t.park(th, HoldPoll, 0)
}

// emulateWrites makes the writes of a call a handler skipped. A thread
// killed at its stop (by its process's exit_group or an exec) has nothing
// left to write into: that is not worth a line.
func (t *Tracer) emulateWrites(th *Thread, sc *Syscall, writes []MemWrite) {
	if err := t.writeAll(sc, writes); err != nil && !errors.Is(err, unix.ESRCH) {
		t.logf("%s: emulate %s: %v", th.Lineage, sc.Name(), err)
	}
}

// unhold lets a held thread go on.
func (t *Tracer) unhold(th *Thread) {
	th.parked = false
	stage := th.hold
	th.hold = 0
	t.nheld--
	if stage == holdApply {
		t.proceed(th)
		return
	}
	if !th.unseen {
		for _, r := range t.returnH {
			r.Returned(&th.sc)
		}
	}
	t.resume(th, 0)
}

// pollHeld asks the Scheduler about every held thread, again as long as
// one of them went on (one going on may let another go).
func (t *Tracer) pollHeld() {
	for t.nheld > 0 {
		var next *Thread
		for _, th := range t.parked {
			if th.hold != 0 && th.parked && !th.gone && t.sched.Release(th) {
				next = th
				break
			}
		}
		if next == nil {
			return
		}
		t.unhold(next)
		kept := t.parked[:0]
		for _, th := range t.parked {
			switch {
			case th.gone && th.hold != 0:
				th.hold = 0
				t.nheld--
			case th.parked && !th.gone:
				kept = append(kept, th)
			}
		}
		clear(t.parked[len(kept):])
		t.parked = kept
	}
}

// armTimer makes sure the doorbell rings when the earliest parked thread
// is due.
func (t *Tracer) armTimer() {
	if len(t.parked) == 0 {
		return
	}
	first := t.parked[0].deadline
	for _, th := range t.parked[1:] {
		first = min(first, th.deadline)
	}
	d := time.Duration(first - t.now())
	t.timerMu.Lock()
	defer t.timerMu.Unlock()
	if t.timer == nil {
		t.timer = time.AfterFunc(d, t.ringBell)
	} else {
		t.timer.Reset(d)
	}
}

// replaceBell starts a new doorbell after the old one died.
func (t *Tracer) replaceBell() error {
	bell, err := newDoorbell()
	if err != nil {
		return err
	}
	t.liveMu.Lock()
	old := t.bell
	t.bell = bell
	t.liveMu.Unlock()
	old.mu.Lock()
	if old.pidfd >= 0 {
		unix.Close(old.pidfd)
		old.pidfd = -1
	}
	old.mu.Unlock()
	t.armTimer()
	if t.stopReq.Load() != 0 {
		bell.ring()
	}
	return nil
}

// handleBell runs on the loop after the doorbell rang: due delays, and
// stop requests.
func (t *Tracer) handleBell() {
	now := t.now()
	kept := t.parked[:0]
	var release []*Thread
	for _, th := range t.parked {
		switch {
		case th.gone:
			if th.hold != 0 {
				th.hold = 0
				t.nheld--
			}
		case th.hold != 0 && t.stopReq.Load() != 0:
			release = append(release, th)
		case th.hold != 0:
			if th.deadline <= now {
				th.deadline = now + int64(HoldPoll)
			}
			kept = append(kept, th)
		case th.deadline <= now || t.stopReq.Load() != 0:
			th.parked = false
			if th.admit {
				t.admitted(th)
			}
			t.resume(th, th.resumeSig)
		default:
			kept = append(kept, th)
		}
	}
	clear(t.parked[len(kept):])
	t.parked = kept
	for _, th := range release {
		t.unhold(th)
	}
	if t.stopReq.Load() == 0 {
		t.pollHeld()
	}
	t.armTimer()
	if sig := t.stopReq.Load(); sig != 0 {
		t.stopRun(int(sig))
	}
}

// stopRun ends the run on request: kill launched tracees (after a short
// grace period in which they may exit on their own, since a terminal's
// Ctrl-C reaches them too), detach attached ones.
func (t *Tracer) stopRun(sig int) {
	t.result.Interrupted = true
	if sig > 0 {
		t.stopSig = sig
	}
	if t.attach {
		t.detachAll()
		return
	}
	if t.killAt.IsZero() && sig > 0 {
		t.killAt = time.Now().Add(500 * time.Millisecond)
		time.AfterFunc(510*time.Millisecond, t.ringBell)
		return
	}
	if sig < 0 || !time.Now().Before(t.killAt) {
		t.liveMu.Lock()
		pids := make([]int, 0, len(t.live)+len(t.pending))
		for pid := range t.live {
			pids = append(pids, pid)
		}
		t.liveMu.Unlock()
		for tid := range t.pending {
			pids = append(pids, tid) // children whose parent's event never came
		}
		sort.Ints(pids)
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
}

// forkEvent registers the child of a fork, vfork or clone event.
func (t *Tracer) forkEvent(th *Thread, event int) {
	msg, err := ptraceGetEventMsg(th.Tid)
	if err != nil {
		return
	}
	tid := int(msg)
	if t.threads[tid] != nil {
		return
	}
	isThread := false
	flags := uint64(0)
	haveFlags := false
	if th.inSyscall && th.sc.Arch == abi.ArchX86_64 {
		switch th.sc.Nr {
		case unix.SYS_CLONE:
			flags, haveFlags = th.sc.Args[0], true
		case unix.SYS_CLONE3:
			var b [8]byte
			if _, err := th.sc.mem.ReadAt(b[:], th.sc.Args[0]); err == nil {
				flags = uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
					uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
				haveFlags = true
			}
		}
	}
	if event == unix.PTRACE_EVENT_CLONE {
		if haveFlags {
			isThread = flags&unix.CLONE_THREAD != 0
		} else {
			_, err := os.Stat("/proc/" + strconv.Itoa(th.Proc.Pid) + "/task/" + strconv.Itoa(tid))
			isThread = err == nil
		}
	}
	var child *Thread
	if isThread {
		child = t.newThread(tid, th.Proc, th.Proc.nextThreadLineage())
		inheritGuard(child, th)
		t.processEvent(EventThread, th, child, 0)
	} else {
		fds := th.Proc.FDs
		if !(haveFlags && flags&unix.CLONE_FILES != 0) {
			fds = fds.clone()
		}
		p := t.newProcess(tid, th.Proc.nextChildLineage(), th.Proc, fds)
		p.Exe = th.Proc.Exe
		child = t.newThread(tid, p, p.Lineage)
		inheritGuard(child, th)
		t.processEvent(EventFork, th, child, 0)
	}
	if ws, ok := t.pending[tid]; ok {
		delete(t.pending, tid)
		t.handle(child, ws)
	}
}

// execEvent handles PTRACE_EVENT_EXEC; it returns the thread that now has
// the leader's tid.
func (t *Tracer) execEvent(th *Thread) *Thread {
	t.execSeen = true
	if t.errFd >= 0 && th.Proc == t.root {
		unix.Close(t.errFd)
		t.errFd = -1
	}
	oldTid := th.Tid
	if msg, err := ptraceGetEventMsg(th.Tid); err == nil {
		oldTid = int(msg)
	}
	if oldTid != th.Tid {
		// A non-leader thread exec'd: it takes over the leader's tid and the
		// old leader is gone without a report.
		if execer := t.threads[oldTid]; execer != nil {
			leader := th
			delete(t.threads, oldTid)
			execer.Tid = leader.Tid
			execer.Lineage = leader.Lineage
			execer.sc.mem = leader.sc.mem
			t.threads[leader.Tid] = execer
			leader.gone = true
			th.Proc.threads--
			th = execer
		}
	}
	p := th.Proc
	// Every other thread is gone after exec; they may report their exits
	// before or after this event.
	for tid, o := range t.threads {
		if o.Proc == p && o != th {
			o.gone = true
			delete(t.threads, tid)
			p.threads--
		}
	}
	p.FDs.exec()
	p.scratch = nil
	clear(p.nth)
	p.maps.Invalidate()
	if th.inSyscall {
		th.sc.Exited = false
	}
	if exe, err := os.Readlink("/proc/" + strconv.Itoa(p.Pid) + "/exe"); err == nil {
		p.Exe = exe
	}
	t.pev = ProcessEvent{Kind: EventExec, Thread: th, Time: t.now()}
	if t.cfg.Deterministic {
		t.pev.AtRandom = t.deterministicExec(th)
	}
	if oldTid != th.Tid {
		t.pev.OldTid = oldTid
	}
	for _, h := range t.procH {
		h.Process(&t.pev)
	}
	return th
}

// threadGone handles the exit or death of a thread.
func (t *Tracer) threadGone(th *Thread, ws unix.WaitStatus) {
	delete(t.threads, th.Tid)
	th.gone = true
	p := th.Proc
	p.threads--
	p.releaseScratch(th)
	sig := 0
	if ws.Signaled() {
		sig = int(ws.Signal())
	}
	if t.execSeen || p != t.root || t.attach {
		t.pev = ProcessEvent{Kind: EventExit, Thread: th, Signal: sig, Status: ws.ExitStatus(), Core: ws.CoreDump(), Time: t.now()}
		for _, h := range t.procH {
			h.Process(&t.pev)
		}
	}
	if th.Tid != p.Pid {
		return
	}
	// The leader's exit is reported after all other threads are gone: the
	// process is gone.
	delete(t.procs, p.Pid)
	t.liveMu.Lock()
	delete(t.live, p.Pid)
	t.liveMu.Unlock()
	for tid, o := range t.threads {
		if o.Proc == p {
			delete(t.threads, tid)
		}
	}
	if p == t.root {
		if !t.execSeen && t.errFd >= 0 {
			if err := readChildError(t.errFd, t.cfg.Setup); err != nil {
				t.childErr = classifyChildError(t.cmd, err)
			}
			unix.Close(t.errFd)
			t.errFd = -1
		}
		if ws.Signaled() {
			t.result.Signal = int(ws.Signal())
			t.result.Core = ws.CoreDump()
			t.result.ExitCode = 128 + t.result.Signal
			if t.result.Signal == int(unix.SIGKILL) && t.stopSig > 0 {
				t.result.ExitCode = 128 + t.stopSig
			}
		} else {
			t.result.ExitCode = ws.ExitStatus()
		}
	}
}

func classifyChildError(cmd string, err error) error {
	var ce *ChildError
	if errors.As(err, &ce) && ce.Step == stepNames[stepExec] {
		code := 126
		if ce.Errno == unix.ENOENT {
			code = 127
		}
		return &ExecError{Cmd: cmd, Code: code, Err: ce.Errno}
	}
	return fmt.Errorf("starting command: %w", err)
}
