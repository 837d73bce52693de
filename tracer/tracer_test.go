package tracer_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// call is what the recorder keeps of one syscall.
type call struct {
	Seq     uint64
	Lineage string
	Pid     int
	Tid     int
	Arch    abi.Arch
	Name    string
	Args    [6]uint64
	Ret     int64
	Text    string // decoded like strace, at exit
	Skipped bool
	Nth     uint64
	Enter   int64
	Leave   int64
}

type procEvent struct {
	Kind    tracer.ProcessEventKind
	Lineage string
	Child   string
	Signal  int
	Status  int
	OldTid  int
}

// recorder is a Handler that keeps every call and process event; it asks
// for the exit of every call. enter, when set, decides actions.
type recorder struct {
	mu       sync.Mutex
	calls    []call
	events   []procEvent
	enter    func(sc *tracer.Syscall, act *tracer.Action)
	exit     func(sc *tracer.Syscall, act *tracer.Action)
	onCall   func(c call)
	buf      []byte
	execText string
}

func (r *recorder) Enter(sc *tracer.Syscall, act *tracer.Action) {
	act.WantExit = true
	if r.enter != nil {
		r.enter(sc, act)
	}
	if sc.Name() == "execve" {
		// Its arguments are gone once it succeeds: decode them now.
		dc := decode.Call{Arch: sc.Arch, Nr: sc.Nr, Info: sc.Info, Args: sc.Args}
		r.execText = string(decode.AppendCall(nil, &dc, sc.Mem(), &decode.Options{StrSize: 64}))
	}
}

func (r *recorder) Exit(sc *tracer.Syscall, act *tracer.Action) {
	if r.exit != nil {
		r.exit(sc, act)
	}
	dc := decode.Call{Arch: sc.Arch, Nr: sc.Nr, Info: sc.Info, Args: sc.Args, Ret: sc.Ret, Exited: sc.Exited}
	if sc.Name() == "execve" {
		r.buf = append(r.buf[:0], r.execText...)
	} else {
		r.buf = decode.AppendCall(r.buf[:0], &dc, sc.Mem(), &decode.Options{StrSize: 64})
	}
	r.buf = decode.AppendRet(r.buf, &dc)
	c := call{
		Seq: sc.Seq, Lineage: sc.Thread.Lineage, Pid: sc.Pid(), Tid: sc.Tid(), Arch: sc.Arch,
		Name: sc.Name(), Args: sc.Args, Ret: sc.Ret, Text: string(r.buf), Skipped: sc.Skipped, Nth: sc.Nth,
		Enter: sc.Enter, Leave: sc.Leave,
	}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	if r.onCall != nil {
		r.onCall(c)
	}
}

func (r *recorder) Process(ev *tracer.ProcessEvent) {
	pe := procEvent{Kind: ev.Kind, Lineage: ev.Thread.Lineage, Signal: ev.Signal, Status: ev.Status, OldTid: ev.OldTid}
	if ev.Child != nil {
		pe.Child = ev.Child.Lineage
	}
	r.mu.Lock()
	r.events = append(r.events, pe)
	r.mu.Unlock()
}

func (r *recorder) named(name string) []call {
	var out []call
	for _, c := range r.calls {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

func (r *recorder) eventsOf(kind tracer.ProcessEventKind) []procEvent {
	var out []procEvent
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) dump() string {
	var b strings.Builder
	for _, c := range r.calls {
		fmt.Fprintf(&b, "%s %s\n", c.Lineage, c.Text)
	}
	return b.String()
}

// run traces argv with the recorder and returns the result and what the
// target wrote to stdout.
func run(t *testing.T, r *recorder, cfg tracer.Config, argv ...string) (tracer.Result, string) {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cfg.Handlers = append(cfg.Handlers, r)
	cfg.Stdout = out
	cfg.Logf = t.Logf
	res, err := tracer.New(cfg).Launch(argv)
	if err != nil {
		t.Fatalf("Launch(%q): %v", argv, err)
	}
	data, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	return res, string(data)
}

func TestHello(t *testing.T) {
	bin := testbin.C(t, "hello")
	for _, tc := range []struct {
		args []string
		code int
	}{{nil, 0}, {[]string{"3"}, 3}} {
		r := &recorder{}
		res, out := run(t, r, tracer.Config{}, append([]string{bin}, tc.args...)...)
		if res.ExitCode != tc.code || out != "hello\n" {
			t.Fatalf("hello %v: exit %d, stdout %q; want %d, %q", tc.args, res.ExitCode, out, tc.code, "hello\n")
		}
		writes := r.named("write")
		if len(writes) != 1 || writes[0].Text != `write(1, "hello\n", 6) = 6` {
			t.Fatalf("writes: %+v\ntrace:\n%s", writes, r.dump())
		}
		ex := r.named("execve")
		if len(ex) != 1 || ex[0].Ret != 0 || ex[0].Lineage != "1" {
			t.Fatalf("execve: %+v", ex)
		}
		if !strings.HasPrefix(ex[0].Text, `execve("`+bin+`", ["`+bin+`"`) {
			t.Fatalf("execve decoded as %q", ex[0].Text)
		}
		for i, c := range r.calls {
			if c.Seq != uint64(i+1) {
				t.Fatalf("call %d has seq %d", i, c.Seq)
			}
		}
	}
}

// TestSelectedOnly checks that only the selected calls stop in the tracer.
func TestSelectedOnly(t *testing.T) {
	bin := testbin.C(t, "threads")
	r := &recorder{}
	res, out := run(t, r, tracer.Config{Trace: []int{unix.SYS_GETPID}}, bin, "2", "50")
	if res.ExitCode != 0 || out != "threads done 2\n" {
		t.Fatalf("exit %d, out %q", res.ExitCode, out)
	}
	for _, c := range r.calls {
		if c.Name != "getpid" {
			t.Fatalf("unselected call trapped: %s", c.Text)
		}
	}
	if n := len(r.calls); n < 100 {
		t.Fatalf("saw %d getpid calls, want >= 100", n)
	}
}

func TestThreads(t *testing.T) {
	bin := testbin.C(t, "threads")
	r := &recorder{}
	res, out := run(t, r, tracer.Config{}, bin, "8", "200")
	if res.ExitCode != 0 || out != "threads done 8\n" {
		t.Fatalf("exit %d, out %q", res.ExitCode, out)
	}
	perThread := map[string]int{}
	pid := 0
	for _, c := range r.named("getpid") {
		perThread[c.Lineage]++
		if c.Ret != int64(c.Pid) {
			t.Fatalf("getpid in %s returned %d, pid %d", c.Lineage, c.Ret, c.Pid)
		}
		pid = c.Pid
	}
	for i := 1; i <= 8; i++ {
		l := fmt.Sprintf("1/t%d", i)
		if perThread[l] != 200 {
			t.Errorf("thread %s made %d getpid calls, want 200 (all: %v)", l, perThread[l], perThread)
		}
	}
	if got := len(r.eventsOf(tracer.EventThread)); got != 8 {
		t.Errorf("%d thread events, want 8", got)
	}
	opens := 0
	for _, c := range r.named("openat") {
		if strings.Contains(c.Text, `"/dev/zero"`) && c.Ret >= 0 {
			opens++
		}
	}
	if opens != 1600 {
		t.Errorf("%d successful openat(/dev/zero), want 1600", opens)
	}
	_ = pid
}

func TestForkExecChain(t *testing.T) {
	bin := testbin.C(t, "forkchain")
	r := &recorder{}
	res, out := run(t, r, tracer.Config{}, bin, "4")
	want := "level 0 leaf\nlevel 1 child exited 0\nlevel 2 child exited 1\nlevel 3 child exited 2\nlevel 4 child exited 3\n"
	if res.ExitCode != 4 || out != want {
		t.Fatalf("exit %d, out %q", res.ExitCode, out)
	}
	execs := map[string]int{}
	for _, c := range r.named("execve") {
		if c.Ret == 0 {
			execs[c.Lineage]++
		}
	}
	for _, l := range []string{"1", "1.1", "1.1.1", "1.1.1.1", "1.1.1.1.1"} {
		if execs[l] != 1 {
			t.Errorf("lineage %s: %d successful execve, want 1 (all %v)", l, execs[l], execs)
		}
	}
	exits := r.eventsOf(tracer.EventExit)
	statusOf := map[string]int{}
	for _, e := range exits {
		statusOf[e.Lineage] = e.Status
	}
	for l, s := range map[string]int{"1": 4, "1.1": 3, "1.1.1.1.1": 0} {
		if statusOf[l] != s {
			t.Errorf("exit status of %s = %d, want %d", l, statusOf[l], s)
		}
	}
}

func TestVfork(t *testing.T) {
	bin := testbin.C(t, "vfork")
	r := &recorder{}
	res, out := run(t, r, tracer.Config{}, bin)
	if res.ExitCode != 0 || out != "vfork child running\nvfork child exited 42\n" {
		t.Fatalf("exit %d, out %q", res.ExitCode, out)
	}
	vf := r.named("vfork")
	if len(vf) != 1 || vf[0].Ret <= 0 {
		t.Fatalf("vfork calls: %+v\n%s", vf, r.dump())
	}
	found := false
	for _, c := range r.named("execve") {
		if c.Lineage == "1.1" && c.Ret == 0 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no execve in the vfork child 1.1:\n%s", r.dump())
	}
}

func TestExecFromThread(t *testing.T) {
	bin := testbin.C(t, "execthread")
	r := &recorder{}
	res, out := run(t, r, tracer.Config{}, bin)
	if res.ExitCode != 0 || out != "before exec\nexec from thread ok\n" {
		t.Fatalf("exit %d, out %q\n%s", res.ExitCode, out, r.dump())
	}
	var ex []procEvent
	for _, e := range r.eventsOf(tracer.EventExec) {
		if e.OldTid != 0 {
			ex = append(ex, e)
		}
	}
	if len(ex) != 1 {
		t.Fatalf("exec events from a non-leader: %+v", r.eventsOf(tracer.EventExec))
	}
	// After the exec the process writes from its (new) leader.
	last := r.named("write")
	if len(last) == 0 || last[len(last)-1].Tid != last[len(last)-1].Pid {
		t.Fatalf("last write not from the leader: %+v", last)
	}
}

func TestSignals(t *testing.T) {
	bin := testbin.C(t, "signals")
	r := &recorder{}
	res, out := run(t, r, tracer.Config{}, bin)
	want := "got SIGUSR1\ngot SIGUSR2 via sigsuspend\nchild reaped status 0\ngot SIGCHLD\n"
	if res.ExitCode != 0 || out != want {
		t.Fatalf("exit %d, out %q", res.ExitCode, out)
	}
	seen := map[int]bool{}
	for _, e := range r.eventsOf(tracer.EventSignal) {
		seen[e.Signal] = true
	}
	for _, s := range []unix.Signal{unix.SIGUSR1, unix.SIGUSR2, unix.SIGCHLD} {
		if !seen[int(s)] {
			t.Errorf("signal %v not reported", s)
		}
	}
	ss := r.named("rt_sigsuspend")
	if len(ss) == 0 || ss[0].Ret != -514 { // ERESTARTNOHAND, as the tracer sees it
		t.Errorf("rt_sigsuspend: %+v", ss)
	}
}

func TestStopCont(t *testing.T) {
	bin := testbin.C(t, "stopcont")
	r := &recorder{}
	res, out := run(t, r, tracer.Config{}, bin)
	want := "child stopped by 19\nchild continued\nchild exited 7\n"
	if res.ExitCode != 0 || out != want {
		t.Fatalf("exit %d, out %q", res.ExitCode, out)
	}
	stops := r.eventsOf(tracer.EventStop)
	if len(stops) == 0 || stops[0].Lineage != "1.1" || stops[0].Signal != int(unix.SIGSTOP) {
		t.Fatalf("group stops: %+v", stops)
	}
}

// TestStoppedJob stops the target from outside with SIGSTOP, checks that
// the kernel shows it stopped, and continues it with SIGCONT.
func TestStoppedJob(t *testing.T) {
	bin := testbin.C(t, "selfstop")
	r := &recorder{}
	var pid int
	var once sync.Once
	ready := make(chan struct{})
	r.onCall = func(c call) {
		if c.Name == "write" {
			once.Do(func() { pid = c.Pid; close(ready) })
		}
	}
	go func() {
		<-ready
		for i := 0; i < 500; i++ {
			st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if f := strings.Fields(string(st)); len(f) > 2 && f[2] == "T" {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		unix.Kill(pid, unix.SIGCONT)
	}()
	res, out := run(t, r, tracer.Config{}, bin)
	if res.ExitCode != 0 || out != "before stop\nafter cont\n" {
		t.Fatalf("exit %d, out %q", res.ExitCode, out)
	}
	if len(r.eventsOf(tracer.EventStop)) == 0 {
		t.Fatal("no group-stop reported")
	}
}

func TestKilledBySignal(t *testing.T) {
	bin := testbin.C(t, "killself")
	for _, tc := range []struct {
		arg  string
		code int
	}{{"", 137}, {"fault", 139}, {"15", 143}} {
		r := &recorder{}
		argv := []string{bin}
		if tc.arg != "" {
			argv = append(argv, tc.arg)
		}
		res, out := run(t, r, tracer.Config{}, argv...)
		if res.ExitCode != tc.code || out != "dying\n" {
			t.Errorf("killself %s: exit %d, out %q; want %d", tc.arg, res.ExitCode, out, tc.code)
		}
		ex := r.eventsOf(tracer.EventExit)
		if len(ex) != 1 || ex[0].Signal != tc.code-128 {
			t.Errorf("killself %s: exit events %+v", tc.arg, ex)
		}
	}
}

// TestIgnoresSIGTERM sends SIGTERM to a target that ignores it: the signal
// is delivered (and reported), the target carries on and exits normally.
func TestIgnoresSIGTERM(t *testing.T) {
	bin := testbin.C(t, "ignoreterm")
	r := &recorder{}
	var once sync.Once
	r.onCall = func(c call) {
		if c.Name == "write" {
			once.Do(func() { unix.Kill(c.Pid, unix.SIGTERM) })
		}
	}
	res, out := run(t, r, tracer.Config{}, bin, "0.3")
	if res.ExitCode != 0 || out != "ready\ndone\n" {
		t.Fatalf("exit %d, out %q", res.ExitCode, out)
	}
	got := false
	for _, e := range r.eventsOf(tracer.EventSignal) {
		got = got || e.Signal == int(unix.SIGTERM)
	}
	if !got {
		t.Fatal("SIGTERM not reported")
	}
}

// TestStop checks that Stop ends a launched run: the target is killed and
// the result says the run was interrupted.
func TestStop(t *testing.T) {
	bin := testbin.C(t, "ignoreterm")
	r := &recorder{}
	var tr *tracer.Tracer
	var once sync.Once
	r.onCall = func(c call) {
		if c.Name == "write" {
			once.Do(func() { go tr.Stop(int(unix.SIGTERM)) })
		}
	}
	out, _ := os.CreateTemp(t.TempDir(), "out")
	defer out.Close()
	tr = tracer.New(tracer.Config{Handlers: []tracer.Handler{r}, Stdout: out})
	res, err := tr.Launch([]string{bin, "30"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.ExitCode != 128+int(unix.SIGTERM) {
		t.Fatalf("result %+v", res)
	}
}

func TestInt80(t *testing.T) {
	testbin.NeedInt80(t)
	bin := testbin.C(t, "int80")
	r := &recorder{}
	res, out := run(t, r, tracer.Config{Trace: []int{}}, bin)
	if res.ExitCode != 0 || out != "int80 write\nint80 getpid ok\n" {
		t.Fatalf("exit %d, out %q", res.ExitCode, out)
	}
	var got []string
	for _, c := range r.calls {
		if c.Arch == abi.ArchI386 {
			got = append(got, fmt.Sprintf("%s=%d", c.Name, c.Ret))
		}
	}
	if len(got) != 2 || got[0] != "write=12" || !strings.HasPrefix(got[1], "getpid=") {
		t.Fatalf("i386 calls: %v\n%s", got, r.dump())
	}
}

func TestX32(t *testing.T) {
	bin := testbin.C(t, "x32")
	r := &recorder{}
	res, out := run(t, r, tracer.Config{Trace: []int{}}, bin)
	if res.ExitCode != 0 || out != "x32 ret=-1 errno=ENOSYS\n" {
		t.Fatalf("exit %d, out %q", res.ExitCode, out)
	}
	if len(r.calls) != 1 || r.calls[0].Arch != abi.ArchX32 || r.calls[0].Name != "getpid" || r.calls[0].Ret != -int64(unix.ENOSYS) {
		t.Fatalf("calls: %+v", r.calls)
	}
}

func TestGoroutines(t *testing.T) {
	bin := testbin.Go(t, "goroutines")
	r := &recorder{}
	res, out := run(t, r, tracer.Config{}, bin, "32")
	if res.ExitCode != 0 || out != "goroutines done 32\n" {
		t.Fatalf("exit %d, out %q", res.ExitCode, out)
	}
	urg := 0
	for _, e := range r.eventsOf(tracer.EventSignal) {
		if e.Signal == int(unix.SIGURG) {
			urg++
		}
	}
	if urg == 0 {
		t.Error("no SIGURG seen: the test does not exercise preemption")
	}
	if len(r.eventsOf(tracer.EventThread)) == 0 {
		t.Error("no threads seen")
	}
	t.Logf("%d calls, %d SIGURG", len(r.calls), urg)
}

func TestAttachDetach(t *testing.T) {
	bin := testbin.C(t, "sleeper")
	var stdout bytes.Buffer
	var mu sync.Mutex
	pr, pw, _ := os.Pipe()
	defer pr.Close()
	proc, err := os.StartProcess(bin, []string{bin, "4"}, &os.ProcAttr{Files: []*os.File{nil, pw, os.Stderr}})
	pw.Close()
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := pr.Read(buf)
			mu.Lock()
			stdout.Write(buf[:n])
			mu.Unlock()
			for _, l := range strings.Split(strings.TrimSpace(string(buf[:n])), "\n") {
				if l != "" {
					lines <- l
				}
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	for l := range lines {
		if l == "ready" {
			break
		}
	}
	r := &recorder{}
	tr := tracer.New(tracer.Config{Handlers: []tracer.Handler{r}, Logf: t.Logf})
	var once sync.Once
	r.onCall = func(c call) {
		if c.Name == "write" {
			once.Do(func() { go tr.Stop(int(unix.SIGINT)) })
		}
	}
	res, err := tr.Attach(proc.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted {
		t.Fatalf("result %+v", res)
	}
	if len(r.named("write")) == 0 {
		t.Fatal("saw no write while attached")
	}
	// Still running and healthy: it answers SIGUSR1 and finishes normally.
	if err := proc.Signal(unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	st, err := proc.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	mu.Lock()
	defer mu.Unlock()
	if !st.Success() || !strings.Contains(stdout.String(), "alive") || !strings.HasSuffix(stdout.String(), "sleeper done\n") {
		t.Fatalf("after detach: %v, output %q", st, stdout.String())
	}
}

func TestAttachErrors(t *testing.T) {
	for _, pid := range []int{-5, 999999999, os.Getpid()} {
		_, err := tracer.New(tracer.Config{}).Attach(pid)
		if err == nil {
			t.Errorf("Attach(%d) succeeded", pid)
		}
	}
}

func TestLaunchErrors(t *testing.T) {
	dir := t.TempDir()
	noexec := dir + "/noexec"
	os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644)
	for _, tc := range []struct {
		argv []string
		code int
	}{
		{[]string{"/nonexistent/prog"}, 127},
		{[]string{"no-such-command-hermes"}, 127},
		{[]string{noexec}, 126},
		{[]string{dir}, 126},
	} {
		_, err := tracer.New(tracer.Config{}).Launch(tc.argv)
		ee, ok := err.(*tracer.ExecError)
		if !ok || ee.Code != tc.code {
			t.Errorf("Launch(%q) = %v, want exec error %d", tc.argv, err, tc.code)
		}
	}
}

// TestZombieLeader traces a process whose main thread exits first: the
// leader's exit is reported only after the last thread ends the process.
func TestZombieLeader(t *testing.T) {
	bin := testbin.C(t, "zombieleader")
	r := &recorder{}
	res, out := run(t, r, tracer.Config{}, bin, "9")
	if res.ExitCode != 9 || out != "worker done\n" {
		t.Fatalf("exit %d, out %q", res.ExitCode, out)
	}
	if n := len(r.named("getppid")); n != 10 {
		t.Errorf("%d getppid calls from the worker, want 10", n)
	}
	var leaderExit *procEvent
	for _, e := range r.eventsOf(tracer.EventExit) {
		if e.Lineage == "1" {
			e := e
			leaderExit = &e
		}
	}
	if leaderExit == nil || leaderExit.Status != 9 {
		t.Fatalf("leader exit: %+v (all %+v)", leaderExit, r.eventsOf(tracer.EventExit))
	}
}

// TestDiesWhileHeld kills a target while the tracer holds it (a delayed
// call): the tracer notices the death and reports it.
func TestDiesWhileHeld(t *testing.T) {
	bin := testbin.C(t, "hello")
	r := &recorder{
		enter: func(sc *tracer.Syscall, act *tracer.Action) {
			if sc.Name() == "write" {
				act.Delay = time.Hour
				unix.Kill(sc.Pid(), unix.SIGKILL)
			}
		},
	}
	res, out := run(t, r, tracer.Config{}, bin)
	if res.ExitCode != 137 || out != "" {
		t.Fatalf("exit %d, out %q", res.ExitCode, out)
	}
}

// TestDeterministic checks that Config.Deterministic makes clock reads of
// C and Go programs syscalls (the vDSO's functions are patched) and turns
// ASLR off (two runs see the same memory map), and that exec events carry
// AT_RANDOM.
func TestDeterministic(t *testing.T) {
	for _, tc := range []struct {
		name string
		argv []string
	}{
		{"date", []string{"/bin/date", "+%s%N"}},
		{"go", []string{testbin.Go(t, "gohello")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, det := range []bool{false, true} {
				var r recorder
				var atRandom uint64
				r2 := &procHook{recorder: &r, exec: func(ev *tracer.ProcessEvent) { atRandom = ev.AtRandom }}
				cfg := tracer.Config{Trace: []int{unix.SYS_CLOCK_GETTIME}, Deterministic: det, Handlers: []tracer.Handler{r2}}
				res, _ := run(t, &r, cfg, tc.argv...)
				if res.ExitCode != 0 {
					t.Fatalf("deterministic=%v: exit %d", det, res.ExitCode)
				}
				if n := len(r.named("clock_gettime")); (n > 0) != det {
					t.Errorf("deterministic=%v: %d clock_gettime syscalls", det, n)
				}
				if (atRandom != 0) != det {
					t.Errorf("deterministic=%v: AT_RANDOM at %#x", det, atRandom)
				}
			}
		})
	}
	maps := func(det bool) string {
		var r recorder
		_, out := run(t, &r, tracer.Config{Trace: []int{unix.SYS_GETPID}, Deterministic: det}, "/bin/cat", "/proc/self/maps")
		return out
	}
	if a, b := maps(true), maps(true); a != b || a == "" {
		t.Errorf("deterministic runs see different maps:\n%s\n---\n%s", a, b)
	}
	if v, err := os.ReadFile("/proc/sys/kernel/randomize_va_space"); err == nil && strings.TrimSpace(string(v)) == "0" {
		t.Log("ASLR is off on this machine: not checking that runs without Deterministic differ")
		return
	}
	if a, b := maps(false), maps(false); a == b {
		t.Errorf("ASLR seems off without Deterministic: both runs saw\n%s", a)
	}
}

// TestDeterministicVDSO runs a program that finds the vDSO itself
// (getauxval(AT_SYSINFO_EHDR), then its ELF symbols) and calls its
// functions: under Config.Deterministic the vDSO stays visible and each of
// its functions makes its syscall. When the image cannot be patched it is
// hidden instead, with a warning, and the program dies dereferencing NULL
// as it does with a vDSO hidden.
func TestDeterministicVDSO(t *testing.T) {
	bin := testbin.C(t, "vdso")
	nrs := map[string]int{"clock_gettime": unix.SYS_CLOCK_GETTIME, "gettimeofday": unix.SYS_GETTIMEOFDAY, "time": unix.SYS_TIME,
		"clock_getres": unix.SYS_CLOCK_GETRES, "getcpu": unix.SYS_GETCPU, "getrandom": unix.SYS_GETRANDOM}
	var trace []int
	for _, nr := range nrs {
		trace = append(trace, nr)
	}
	var r recorder
	res, out := run(t, &r, tracer.Config{Trace: trace, Deterministic: true}, bin)
	if res.ExitCode != 0 || !strings.Contains(out, "vdso clock_gettime: ") {
		t.Fatalf("exit %d, signal %d, stdout:\n%s", res.ExitCode, res.Signal, out)
	}
	// Each through the vDSO and through libc (clock_gettime twice each;
	// clock_getres only through the vDSO; vgetrandom where the kernel has
	// it).
	want := map[string]int{"clock_gettime": 4, "gettimeofday": 2, "time": 2, "clock_getres": 1, "getcpu": 2, "getrandom": 1}
	if strings.Contains(out, "vgetrandom: ") {
		want["getrandom"] = 2
	}
	for name, n := range want {
		if got := len(r.named(name)); got < n {
			t.Errorf("%d %s syscalls, want at least %d; stdout:\n%s", got, name, n, out)
		}
	}

	t.Run("unpatchable", func(t *testing.T) {
		restore, err := tracer.BreakVDSOPlan()
		if err != nil {
			t.Skip(err)
		}
		defer restore()
		var logs []string
		var mu sync.Mutex
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer devnull.Close()
		cfg := tracer.Config{Trace: trace, Deterministic: true, Stdout: devnull, Stderr: devnull, Logf: func(f string, a ...any) {
			mu.Lock()
			logs = append(logs, fmt.Sprintf(f, a...))
			mu.Unlock()
		}}
		res, err := tracer.New(cfg).Launch([]string{bin})
		if err != nil {
			t.Fatal(err)
		}
		if res.Signal != int(unix.SIGSEGV) {
			t.Errorf("exit %d, signal %d; want SIGSEGV (the vDSO hidden)", res.ExitCode, res.Signal)
		}
		if len(logs) != 1 || !strings.Contains(logs[0], "hiding it instead") {
			t.Errorf("warnings %q, want one saying the vDSO is hidden", logs)
		}
	})
}

// TestFairWait runs a futex test after LTP's futex_cmp_requeue01, with
// every call traced: a tester process (not the one launched) requeues its
// waiters, then wakes them while the ones woken first keep making calls.
// Taking one wait4 status at a time, the tracer served those busy
// children before the tester (wait4 looks at the newest tracees first), so
// the tester's FUTEX_WAKE came after the waiters' timeout.
func TestFairWait(t *testing.T) {
	bin := testbin.C(t, "futexwake")
	var r recorder
	res, out := run(t, &r, tracer.Config{}, bin, "200", "10")
	if res.ExitCode != 0 || out != "futexwake: 200 waiters woken\n" {
		t.Fatalf("exit %d, stdout:\n%s", res.ExitCode, out)
	}
}

// procHook passes process events to a function.
type procHook struct {
	*recorder
	exec func(ev *tracer.ProcessEvent)
}

func (h *procHook) Enter(*tracer.Syscall, *tracer.Action) {}
func (h *procHook) Exit(*tracer.Syscall, *tracer.Action)  {}
func (h *procHook) Process(ev *tracer.ProcessEvent) {
	if ev.Kind == tracer.EventExec {
		h.exec(ev)
	}
}

// TestEpoch checks that Config.Epoch is the zero of event times: with an
// epoch an hour ago, every call is made about an hour after it; without
// one, times count from the start of the run.
func TestEpoch(t *testing.T) {
	bin := testbin.C(t, "hello")
	for _, tc := range []struct {
		name     string
		epoch    time.Time
		min, max time.Duration
	}{
		{"hour ago", time.Now().Add(-time.Hour), time.Hour, time.Hour + time.Minute},
		{"none", time.Time{}, 0, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{}
			run(t, r, tracer.Config{Epoch: tc.epoch}, bin)
			if len(r.calls) == 0 {
				t.Fatal("no calls")
			}
			for _, c := range r.calls {
				if time.Duration(c.Enter) < tc.min || time.Duration(c.Enter) > tc.max || c.Leave < c.Enter {
					t.Fatalf("%s entered at %v, left at %v; want entry in [%v, %v]", c.Name, time.Duration(c.Enter), time.Duration(c.Leave), tc.min, tc.max)
				}
			}
		})
	}
}
