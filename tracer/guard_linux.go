package tracer

import (
	"bytes"
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/seccomp"
	"golang.org/x/sys/unix"
)

// The guard keeps a tracee from getting out of hermes's sight and from
// seeing hermes's own filter. Its calls are trapped in every launched
// tracee whatever Config.Trace selects (they are rare calls), and it acts
// on them before the handlers, who see the call with the guard's action
// already in place:
//
//   - clone: CLONE_UNTRACED is removed, so every descendant is traced;
//   - clone3: fails with ENOSYS (its flags live in memory another thread
//     can change after hermes read them; libc falls back to clone);
//   - seccomp and prctl(PR_SET_SECCOMP): a filter asking for a user
//     notification listener (which the kernel ranks above hermes's TRACE,
//     so calls it answers would never reach hermes) is refused with
//     EINVAL; every other filter is announced;
//   - prctl(PR_GET_SECCOMP) and prctl(PR_GET_NO_NEW_PRIVS) answer what the
//     target would see without hermes, and so do the Seccomp, NoNewPrivs
//     and Seccomp_filters lines of /proc/PID/status where the read's exit
//     is trapped anyway (record, replay);
//   - io_uring_setup fails with ENOSYS with Config.RefuseIOUring (its
//     operations never pass through a syscall);
//   - a stop from a SECCOMP_RET_TRACE of the target's own filter (its data
//     is not one of hermes's) fails the call with ENOSYS, as it would
//     without a tracer;
//   - in attach mode, a signal the tracee sends to hermes does not reach
//     it (ESRCH, as natively: the process does not exist there).
var guardNrs = [...]int{unix.SYS_CLONE, unix.SYS_CLONE3, unix.SYS_SECCOMP, unix.SYS_PRCTL, unix.SYS_IO_URING_SETUP}

// killNrs send signals; in attach mode (where every call stops anyway) the
// guard looks at where they go.
var killNrs = [...]int{unix.SYS_KILL, unix.SYS_TKILL, unix.SYS_TGKILL, unix.SYS_RT_SIGQUEUEINFO,
	unix.SYS_RT_TGSIGQUEUEINFO, unix.SYS_PIDFD_SEND_SIGNAL}

// Things the guard must see at a call's exit.
const (
	exitFilter      uint8 = 1 << iota // a filter install: mark the thread
	exitFilterTsync                   // ... and all threads of its process
	exitNNP                           // PR_SET_NO_NEW_PRIVS
)

// guard is the tracer's state for the guard.
type guard struct {
	// hermesNNP: hermes set NO_NEW_PRIVS on the launched child (it could
	// not install its filter otherwise), which the target would not have.
	hermesNNP bool
	// baseMode is hermes's own seccomp mode, inherited by the target: what
	// PR_GET_SECCOMP says natively unless the target installs a filter.
	baseMode int
	noticed  [noticeKinds]bool
	// expect counts signals a tracee is sending to a group that includes
	// hermes (attach mode), which Stop ignores until expectUntil.
	expect      [65]atomic.Int32
	expectUntil atomic.Int64
}

const (
	noticeIOUring = iota
	noticeListener
	noticeSignal
	noticeKinds
)

// ownState reads what hermes itself has that a launched child inherits:
// its seccomp mode and whether it has NO_NEW_PRIVS and CAP_SYS_ADMIN.
func ownState() (mode int, nnp, sysAdmin bool) {
	st := procStatus("/proc/self/status")
	mode, _ = strconv.Atoi(st["Seccomp"])
	nnp = st["NoNewPrivs"] == "1"
	sysAdmin = hasCap(st["CapEff"], unix.CAP_SYS_ADMIN)
	return mode, nnp, sysAdmin
}

// procStatus reads the "Key:\tvalue" lines of a /proc status file.
func procStatus(path string) map[string]string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	m := make(map[string]string)
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// hasCap reports whether the hex capability mask has capability c.
func hasCap(mask string, c int) bool {
	v, err := strconv.ParseUint(mask, 16, 64)
	return err == nil && v&(1<<uint(c)) != 0
}

// notice logs a guard message once per run and kind.
func (t *Tracer) notice(kind int, format string, args ...any) {
	if t.guard.noticed[kind] {
		return
	}
	t.guard.noticed[kind] = true
	t.logf(format, args...)
}

// guardEnter runs before the handlers at a call's entry. It returns true
// when its action must hold whatever the handlers do (the call must not
// run).
func (t *Tracer) guardEnter(th *Thread, act *Action, foreign bool) bool {
	sc := &th.sc
	th.guardExit = 0
	if foreign {
		// Without hermes the target's own TRACE would find no tracer.
		act.Skip, act.Value, act.By = true, -int64(unix.ENOSYS), ByHermes
		return true
	}
	if th.attached {
		if sc.Arch == abi.ArchX86_64 && t.signalsHermes(th) {
			t.notice(noticeSignal, "%s: %s aimed at hermes answered ESRCH: a tracee cannot stop or detach hermes",
				th.Lineage, sc.Name())
			act.Skip, act.Value, act.By = true, -int64(unix.ESRCH), ByHermes
			return true
		}
		return false // no filter of hermes's to hide, none to refuse
	}
	nr := sc.Nr
	if sc.Arch == abi.ArchI386 {
		switch nr {
		case 120: // clone
			nr = unix.SYS_CLONE
		case 435: // clone3
			nr = unix.SYS_CLONE3
		case 172: // prctl
			nr = unix.SYS_PRCTL
		case 354: // seccomp
			nr = unix.SYS_SECCOMP
		case 425: // io_uring_setup
			nr = unix.SYS_IO_URING_SETUP
		default:
			return false
		}
	} else if sc.Arch == abi.ArchX32 {
		nr &^= abi.X32Bit // these have their x86_64 numbers in the x32 table
	} else if sc.Arch != abi.ArchX86_64 {
		return false
	}
	switch nr {
	case unix.SYS_CLONE:
		if sc.Args[0]&unix.CLONE_UNTRACED != 0 {
			act.SetArgs |= 1
			act.Args[0] = sc.Args[0] &^ unix.CLONE_UNTRACED
			act.By = ByHermes
		}
	case unix.SYS_CLONE3:
		act.Skip, act.Value, act.By = true, -int64(unix.ENOSYS), ByHermes
		return true
	case unix.SYS_IO_URING_SETUP:
		if t.cfg.RefuseIOUring {
			t.notice(noticeIOUring, "%s: io_uring_setup answered ENOSYS: io_uring operations bypass system calls, so hermes could not see, record or police them (--allow-io-uring lets it through)",
				th.Lineage)
			act.Skip, act.Value, act.By = true, -int64(unix.ENOSYS), ByHermes
			return true
		}
		if t.cfg.WarnIOUring {
			t.notice(noticeIOUring, "%s: io_uring_setup allowed: the operations of its rings are invisible to hermes (not recorded, replayed or policed)", th.Lineage)
		}
	case unix.SYS_SECCOMP:
		if sc.Args[0] == unix.SECCOMP_SET_MODE_FILTER {
			return t.filterInstall(th, act, sc.Args[1], sc.Args[2])
		}
	case unix.SYS_PRCTL:
		switch sc.Args[0] {
		case unix.PR_GET_SECCOMP:
			act.Skip, act.Value, act.By = true, int64(t.visibleMode(th)), ByHermes
			return true
		case unix.PR_GET_NO_NEW_PRIVS:
			if t.guard.hermesNNP {
				act.Skip, act.Value, act.By = true, b2i(th.ownNNP), ByHermes
				return true
			}
		case unix.PR_SET_NO_NEW_PRIVS:
			th.guardExit |= exitNNP
			act.WantExit = true
		case unix.PR_SET_SECCOMP:
			if sc.Args[1] == unix.SECCOMP_MODE_FILTER {
				return t.filterInstall(th, act, 0, sc.Args[2])
			}
		}
	}
	return false
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// visibleMode is what PR_GET_SECCOMP would return for th without hermes.
func (t *Tracer) visibleMode(th *Thread) int {
	if th.ownFilter {
		return unix.SECCOMP_MODE_FILTER
	}
	return t.guard.baseMode
}

// filterInstall looks at a filter the target installs with flags and the
// sock_fprog at prog.
func (t *Tracer) filterInstall(th *Thread, act *Action, flags, prog uint64) bool {
	sc := &th.sc
	if flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		t.notice(noticeListener, "%s: seccomp filter with a user-notification listener refused (EINVAL): the calls it answered would bypass hermes",
			th.Lineage)
		act.Skip, act.Value, act.By = true, -int64(unix.EINVAL), ByHermes
		return true
	}
	if t.guard.hermesNNP && !th.ownNNP && !hasCap(procStatus("/proc/" + strconv.Itoa(th.Tid) + "/status")["CapEff"], unix.CAP_SYS_ADMIN) {
		// Only hermes's NO_NEW_PRIVS would let this through.
		act.Skip, act.Value, act.By = true, -int64(unix.EACCES), ByHermes
		return true
	}
	var hdr [16]byte
	n := 0
	if _, err := sc.mem.ReadAt(hdr[:], prog); err == nil {
		n = int(binary.LittleEndian.Uint16(hdr[:2]))
	}
	t.logf("%s: installs its own seccomp filter (%d instructions, %s)", th.Lineage, n, filterFlags(flags))
	th.guardExit |= exitFilter
	if flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
		th.guardExit |= exitFilterTsync
	}
	act.WantExit = true
	return false
}

// filterFlags names seccomp filter flags.
func filterFlags(flags uint64) string {
	if flags == 0 {
		return "no flags"
	}
	names := []struct {
		bit  uint64
		name string
	}{
		{unix.SECCOMP_FILTER_FLAG_TSYNC, "TSYNC"}, {unix.SECCOMP_FILTER_FLAG_LOG, "LOG"},
		{unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW, "SPEC_ALLOW"}, {unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH, "TSYNC_ESRCH"},
		{unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, "WAIT_KILLABLE_RECV"},
	}
	var out []string
	for _, f := range names {
		if flags&f.bit != 0 {
			out = append(out, f.name)
			flags &^= f.bit
		}
	}
	if flags != 0 {
		out = append(out, "0x"+strconv.FormatUint(flags, 16))
	}
	return strings.Join(out, "|")
}

// guardAtExit updates the guard's per-thread state at the exit of a call
// it asked to see.
func (t *Tracer) guardAtExit(th *Thread) {
	what := th.guardExit
	th.guardExit = 0
	if what == 0 || th.sc.Skipped || th.sc.Ret < 0 {
		return
	}
	if what&exitNNP != 0 {
		th.ownNNP = true
	}
	if what&exitFilter != 0 {
		th.ownFilter = true
		if what&exitFilterTsync != 0 {
			for _, o := range t.threads {
				if o.Proc == th.Proc {
					o.ownFilter = true
				}
			}
		}
	}
}

// inheritGuard gives a new thread or process what its creator had.
func inheritGuard(child, parent *Thread) {
	child.ownFilter, child.ownNNP = parent.ownFilter, parent.ownNNP
}

// fixStatusRead makes a read of a /proc status file show what the target
// would see without hermes: at the exit of read or pread64, before the
// handlers see the bytes, in runs that keep the fd model (record, replay).
func (t *Tracer) fixStatusRead(th *Thread) {
	sc := &th.sc
	if th.attached || !th.Proc.cacheFDs || sc.Arch != abi.ArchX86_64 || sc.Ret <= 0 || sc.Skipped ||
		(sc.Nr != unix.SYS_READ && sc.Nr != unix.SYS_PREAD64) {
		return // (without the fd model, a path would cost a readlink per read)
	}
	subject := t.statusSubject(th, th.Proc.FDPath(int(int32(sc.Args[0]))))
	if subject == nil {
		return
	}
	n := min(int(sc.Ret), 64<<10)
	buf := make([]byte, n)
	if got, err := sc.mem.ReadAt(buf, sc.Args[1]); err != nil || got != n {
		return
	}
	nnp := -1
	if t.guard.hermesNNP {
		nnp = int(b2i(subject.ownNNP))
	}
	if fixStatus(buf, nnp, t.visibleMode(subject)) {
		if err := sc.mem.WriteAsKernel(buf, sc.Args[1]); err != nil {
			t.logf("%s: hiding hermes's filter in %s: %v", th.Lineage, th.Proc.FDPath(int(int32(sc.Args[0]))), err)
		}
	}
}

// statusSubject returns the traced thread whose /proc status file path
// is, or nil if it is not one.
func (t *Tracer) statusSubject(th *Thread, path string) *Thread {
	rest, ok := strings.CutPrefix(path, "/proc/")
	if !ok {
		return nil
	}
	rest, ok = strings.CutSuffix(rest, "/status")
	if !ok {
		return nil
	}
	id, task, hasTask := strings.Cut(rest, "/task/")
	if hasTask {
		rest = task
	} else {
		rest = id
	}
	switch rest {
	case "self":
		return t.threads[th.Proc.Pid]
	case "thread-self":
		return th
	}
	tid, err := strconv.Atoi(rest)
	if err != nil {
		return nil
	}
	o := t.threads[tid]
	if o == nil || o.attached {
		return nil
	}
	return o
}

// fixStatus rewrites the lines of a /proc status file that show hermes's
// filter, in place and without changing its length: NoNewPrivs to nnp
// (unless it is -1), Seccomp to mode, and Seccomp_filters one lower. It
// reports whether it changed anything.
func fixStatus(buf []byte, nnp, mode int) bool {
	changed := false
	set := func(key string, val func(old int) int) {
		i := bytes.Index(buf, []byte("\n"+key+":\t"))
		if i < 0 {
			return
		}
		start := i + len(key) + 3
		end := start
		for end < len(buf) && buf[end] >= '0' && buf[end] <= '9' {
			end++
		}
		if end == start || end == len(buf) || buf[end] != '\n' {
			return // cut off by the read: leave it
		}
		old, err := strconv.Atoi(string(buf[start:end]))
		if err != nil {
			return
		}
		s := strconv.Itoa(val(old))
		if len(s) > end-start {
			return
		}
		for len(s) < end-start {
			s = " " + s // keeps the length; strtol and atoi skip it
		}
		if string(buf[start:end]) != s {
			copy(buf[start:end], s)
			changed = true
		}
	}
	if nnp >= 0 {
		set("NoNewPrivs", func(int) int { return nnp })
	}
	set("Seccomp", func(int) int { return mode })
	set("Seccomp_filters", func(old int) int { return max(old-1, 0) })
	return changed
}

// signalsHermes reports whether the kill-family call of th (attach mode)
// sends a signal to hermes's own process. Signals to a group hermes is in
// are let through, and Stop ignores them for a moment.
func (t *Tracer) signalsHermes(th *Thread) bool {
	sc := &th.sc
	self := os.Getpid()
	target := -1
	sig := 0
	switch sc.Nr {
	case unix.SYS_KILL, unix.SYS_RT_SIGQUEUEINFO:
		pid := int(int32(sc.Args[0]))
		sig = int(sc.Args[1])
		if pid > 0 {
			target = pid
		} else if sc.Nr == unix.SYS_KILL {
			pgrp, _ := unix.Getpgid(th.Proc.Pid)
			own := unix.Getpgrp()
			if pid == -1 || (pid == 0 && pgrp == own) || -pid == own {
				t.expectSignal(sig)
			}
		}
	case unix.SYS_TGKILL, unix.SYS_RT_TGSIGQUEUEINFO:
		target = int(int32(sc.Args[0]))
	case unix.SYS_TKILL:
		target = int(int32(sc.Args[0]))
	case unix.SYS_PIDFD_SEND_SIGNAL:
		fdinfo := procStatus("/proc/" + strconv.Itoa(th.Proc.Pid) + "/fdinfo/" + strconv.Itoa(int(int32(sc.Args[0]))))
		target, _ = strconv.Atoi(fdinfo["Pid"])
	}
	if target <= 0 {
		return false
	}
	if target == self {
		return true
	}
	// Any of hermes's thread ids names hermes too (TracerPid is the tracer
	// thread's).
	_, err := os.Stat("/proc/self/task/" + strconv.Itoa(target))
	return err == nil
}

// expectSignal makes Stop ignore one sig arriving in the next second.
func (t *Tracer) expectSignal(sig int) {
	if sig <= 0 || sig >= len(t.guard.expect) {
		return
	}
	t.guard.expect[sig].Add(1)
	t.guard.expectUntil.Store(time.Now().Add(time.Second).UnixNano())
}

// expected reports (and consumes) a signal a tracee sent to hermes's group.
func (g *guard) expected(sig int) bool {
	if sig <= 0 || sig >= len(g.expect) || time.Now().UnixNano() > g.expectUntil.Load() {
		return false
	}
	for {
		n := g.expect[sig].Load()
		if n <= 0 {
			return false
		}
		if g.expect[sig].CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// ownData reports whether a SECCOMP_RET_TRACE's data is hermes's.
func ownData(d uint32) bool {
	return d == seccomp.DataNative || d == seccomp.DataI386 || d == seccomp.DataX32
}
