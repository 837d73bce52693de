package testbin

import (
	"bufio"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Every program in testdata must have an entry here (checked by
// TestAllProgramsCovered).
var cPrograms = []string{
	"hello", "threads", "forkchain", "vfork", "execthread", "signals",
	"stopcont", "selfstop", "killself", "ignoreterm", "int80", "x32", "loop",
	"sleeper", "files", "seccomp_exec", "zombieleader", "probe", "msg", "restart", "tcpserve", "edges", "nondet",
	"tcpget", "chaoswrite", "envdiv", "save", "explorestack", "forkwrite",
	"badsave", "goodsave", "nullfopen", "spinretry", "flaky", "escape", "writekinds",
	"vdso", "futexwake", "envexec", "straceflags", "kstate", "mutexorder", "racecount", "argregs",
}

var goPrograms = []string{"goroutines", "gohello", "gonet", "gotime", "goecho", "gofinish", "gotempdir"}

func TestRoot(t *testing.T) {
	root := Root(t)
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "module github.com/hermes-trace/hermes") {
		t.Fatalf("Root() = %s, whose go.mod is not HERMES's", root)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "testbin", "testbin.go")); err != nil {
		t.Fatalf("Root() = %s: %v", root, err)
	}
}

func TestAllProgramsCovered(t *testing.T) {
	root := Root(t)
	cs, _ := filepath.Glob(filepath.Join(root, "testdata", "c", "*.c"))
	for _, f := range cs {
		name := strings.TrimSuffix(filepath.Base(f), ".c")
		if !slices.Contains(cPrograms, name) {
			t.Errorf("testdata/c/%s.c is not covered by this test", name)
		}
	}
	gos, _ := filepath.Glob(filepath.Join(root, "testdata", "go", "*", "main.go"))
	tests, _ := filepath.Glob(filepath.Join(root, "testdata", "go", "*", "*_test.go"))
	for _, f := range tests {
		if only, err := IsGoTest(filepath.Dir(f)); err == nil && only {
			gos = append(gos, f)
		}
	}
	for _, f := range gos {
		name := filepath.Base(filepath.Dir(f))
		if !slices.Contains(goPrograms, name) {
			t.Errorf("testdata/go/%s is not covered by this test", name)
		}
	}
	if len(cs) != len(cPrograms) || len(gos) != len(goPrograms) {
		t.Errorf("found %d C and %d Go programs, want %d and %d", len(cs), len(gos), len(cPrograms), len(goPrograms))
	}
}

func TestCFlags(t *testing.T) {
	flags := CFlags(t, "int80")
	if !slices.Contains(flags, "-no-pie") || !slices.Contains(flags, "-pthread") {
		t.Errorf("CFlags(int80) = %q, want base flags plus -no-pie", flags)
	}
	if flags := CFlags(t, "hello"); !slices.Equal(flags, baseCFlags) {
		t.Errorf("CFlags(hello) = %q, want %q", flags, baseCFlags)
	}
	got := cflags([]byte("// testbin:cflags -a  -b\n  // testbin:cflags -c\n// testbin:cflagsX -d\n/* // testbin:cflags */\n"))
	if want := append(slices.Clone(baseCFlags), "-a", "-b", "-c"); !slices.Equal(got, want) {
		t.Errorf("cflags = %q, want %q", got, want)
	}
}

// TestInt80NonPIE checks that the directive took effect: int80 must be a
// position-dependent executable so its static data is below 4 GiB.
func TestInt80NonPIE(t *testing.T) {
	f, err := elf.Open(C(t, "int80"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC {
		t.Errorf("int80 ELF type = %v, want ET_EXEC (non-PIE)", f.Type)
	}
}

func TestCached(t *testing.T) {
	p1 := C(t, "hello")
	fi1, err := os.Stat(p1)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p1) != "hello" || !strings.HasPrefix(p1, CacheDir()) {
		t.Errorf("C(hello) = %s, want CacheDir()/KEY/hello", p1)
	}
	// Concurrent requests in one process share the result.
	var wg sync.WaitGroup
	paths := make([]string, 8)
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := buildC("hello")
			if err != nil {
				t.Error(err)
			}
			paths[i] = p
		}()
	}
	wg.Wait()
	for _, p := range paths {
		if p != p1 {
			t.Errorf("C(hello) = %s, then %s", p1, p)
		}
	}
	fi2, err := os.Stat(p1)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(fi1, fi2) {
		t.Errorf("hello was rebuilt")
	}
	if g1, g2 := Go(t, "gohello"), Go(t, "gohello"); g1 != g2 || filepath.Base(g1) != "gohello" {
		t.Errorf("Go(gohello) = %s, then %s", g1, g2)
	}
}

// TestInstallRace simulates several processes building the same program into
// an empty cache at once: all must succeed and leave one usable binary and no
// temporary files.
func TestInstallRace(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	src := filepath.Join(Root(t), "testdata", "c", "hello.c")
	var wg sync.WaitGroup
	paths := make([]string, 6)
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := install("racekey", "hello", func(out string) (string, []byte, error) {
				o, err := exec.Command("gcc", "-O1", "-o", out, src).CombinedOutput()
				return "gcc", o, err
			})
			if err != nil {
				t.Error(err)
			}
			paths[i] = p
		}()
	}
	wg.Wait()
	want := filepath.Join(CacheDir(), "racekey", "hello")
	for _, p := range paths {
		if p != want {
			t.Errorf("install = %q, want %q", p, want)
		}
	}
	out, err := exec.Command(want).Output()
	if err != nil || string(out) != "hello\n" {
		t.Errorf("running raced binary: %q, %v", out, err)
	}
	ents, _ := os.ReadDir(filepath.Dir(want))
	if len(ents) != 1 {
		t.Errorf("cache dir holds %d entries, want just the binary", len(ents))
	}
}

func TestBuildErrors(t *testing.T) {
	if _, err := buildC("no-such-program"); err == nil {
		t.Error("buildC(no-such-program) succeeded")
	}
	if _, err := buildGo("no-such-program"); err == nil {
		t.Error("buildGo(no-such-program) succeeded")
	}
	if _, err := buildC("../c/hello"); err == nil {
		t.Error("buildC accepted a path")
	}
	t.Setenv("TMPDIR", t.TempDir())
	_, err := install("failkey", "broken", func(out string) (string, []byte, error) {
		cmd := exec.Command("gcc", "-x", "c", "-o", out, "-")
		cmd.Stdin = strings.NewReader("int main(void) { return undeclared; }\n")
		o, err := cmd.CombinedOutput()
		return "gcc -x c -", o, err
	})
	if err == nil || !strings.Contains(err.Error(), "undeclared") {
		t.Errorf("install of broken program: error %v does not carry the compiler output", err)
	}
	// And the Fatalf path of the public API.
	ft := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		C(ft, "no-such-program")
	}()
	<-done
	if !strings.Contains(ft.msg, "no-such-program") {
		t.Errorf("C(no-such-program) Fatalf message = %q", ft.msg)
	}
}

type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	// Like the real Fatalf, stop the calling goroutine.
	runtime.Goexit()
}

type runCase struct {
	name   string // subtest name; default: prog and args
	prog   string
	goProg bool
	args   []string
	// argsFn, if set, computes args (e.g. paths of other binaries).
	argsFn func(t *testing.T) []string
	env    []string       // added to the environment
	stdout string         // exact expected stdout, unless re is set
	re     *regexp.Regexp // expected stdout pattern
	exit   int
	signal syscall.Signal // expected terminating signal, if any
}

func TestRunPrograms(t *testing.T) {
	dir := t.TempDir()
	fileA := filepath.Join(dir, "a.txt")
	fileB := filepath.Join(dir, "b.txt")
	outFile := filepath.Join(dir, "out.txt")
	if err := os.WriteFile(fileA, []byte("alpha\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fileB, []byte("beta\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fileA+".b", []byte("alpha b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	chaosFile := filepath.Join(dir, "chaos.txt")
	cases := []runCase{
		{prog: "hello", stdout: "hello\n"},
		{prog: "hello", args: []string{"7"}, stdout: "hello\n", exit: 7},
		{prog: "zombieleader", stdout: "worker done\n", exit: 5},
		{prog: "save", args: []string{filepath.Join(dir, "saved")}, re: regexp.MustCompile(`^start [0-9]+ [0-9a-f]{16}\ndone\n$`)},
		{prog: "save", args: []string{"/dev/full"}, re: regexp.MustCompile(`^start [0-9]+ [0-9a-f]{16}\nfailed at [0-9]+ [0-9a-f]{16}\n$`), exit: 4},
		{prog: "save", exit: 2},
		{prog: "probe", args: []string{"fdcwd"}, stdout: "openat: ENOENT\n"},
		{prog: "threads", stdout: "threads done 8\n"},
		{prog: "threads", args: []string{"32", "50"}, stdout: "threads done 32\n"},
		{prog: "forkchain", stdout: "level 0 leaf\nlevel 1 child exited 0\nlevel 2 child exited 1\nlevel 3 child exited 2\n", exit: 3},
		{prog: "forkchain", args: []string{"1"}, stdout: "level 0 leaf\nlevel 1 child exited 0\n", exit: 1},
		{prog: "forkchain", args: []string{"0"}, stdout: "level 0 leaf\n"},
		{prog: "vfork", stdout: "vfork child running\nvfork child exited 42\n"},
		{prog: "vfork", args: []string{"true"}, stdout: "vfork child exited 0\n"},
		{prog: "execthread", stdout: "before exec\nexec from thread ok\n"},
		{prog: "signals", stdout: "got SIGUSR1\ngot SIGUSR2 via sigsuspend\nchild reaped status 0\ngot SIGCHLD\n"},
		{prog: "stopcont", stdout: "child stopped by 19\nchild continued\nchild exited 7\n"},
		{prog: "killself", stdout: "dying\n", signal: syscall.SIGKILL},
		{prog: "killself", args: []string{"fault"}, stdout: "dying\n", signal: syscall.SIGSEGV},
		{prog: "killself", args: []string{"15"}, stdout: "dying\n", signal: syscall.SIGTERM},
		{prog: "ignoreterm", args: []string{"0.05"}, stdout: "ready\ndone\n"},
		{prog: "int80", stdout: "int80 write\nint80 getpid ok\n"},
		// The reference kernel has CONFIG_X86_X32_ABI off; accept an
		// x32-enabled kernel too.
		{prog: "x32", re: regexp.MustCompile(`^x32 ret=(-1 errno=ENOSYS|getpid)\n$`)},
		{prog: "loop", stdout: "loop done\n"},
		{prog: "loop", args: []string{"500", "getpid"}, stdout: "loop done\n"},
		{prog: "loop", args: []string{"500", "write"}, stdout: "loop done\n"},
		{prog: "loop", args: []string{"500", "openat"}, stdout: "loop done\n"},
		{prog: "loop", args: []string{"1", "bogus"}, exit: 2},
		{prog: "sleeper", args: []string{"0.05"}, re: regexp.MustCompile(`^pid [0-9]+\nready\nsleeper done\n$`)},
		{prog: "files", args: []string{fileA, fileB}, stdout: "alpha\nbeta\n"},
		{prog: "files", args: []string{"-w", outFile, fileA}, stdout: "alpha\n"},
		{prog: "files", args: []string{fileA, filepath.Join(dir, "missing"), fileB}, stdout: "alpha\nbeta\n", exit: 1},
		{name: "seccomp_exec hello 3", prog: "seccomp_exec", argsFn: func(t *testing.T) []string { return []string{C(t, "hello"), "3"} }, stdout: "hello\n", exit: 3},
		{name: "seccomp_exec loop 1000", prog: "seccomp_exec", argsFn: func(t *testing.T) []string { return []string{C(t, "loop"), "1000"} }, stdout: "loop done\n"},
		{prog: "seccomp_exec", exit: 2},
		{prog: "gohello", goProg: true, stdout: "hello from go\n"},
		{prog: "goecho", goProg: true, stdout: "0 lines\n"},
		{prog: "gohello", goProg: true, args: []string{"3"}, stdout: "hello from go\n", exit: 3},
		{prog: "goroutines", goProg: true, stdout: "goroutines done 64\n"},
		{prog: "goroutines", goProg: true, args: []string{"4", "50ms"}, stdout: "goroutines done 4\n"},
		{prog: "nondet", re: regexp.MustCompile(`^realtime: [0-9]+\.[0-9]{9}\nmonotonic: [0-9]+\.[0-9]{9}\ntime: [0-9]+\n` +
			`gettimeofday: [0-9]+\.[0-9]{6}\ngetrandom: [0-9a-f]{32}\nurandom: [0-9a-f]{32}\n` +
			`pid: [0-9]+\nppid: [0-9]+\ntid: [0-9]+\nuptime: [0-9.]+ [0-9.]+\nuname: [^ \n]+ [^ \n]+\n$`)},
		{name: "tcpget server", prog: "tcpget", argsFn: tcpServer(true), stdout: "got 10 bytes:\nhello tcp\n"},
		{name: "tcpget refused", prog: "tcpget", argsFn: tcpServer(false), exit: 1},
		{prog: "tcpget", exit: 2},
		{prog: "chaoswrite", args: []string{chaosFile, "3"}, stdout: "write 0: ok\nwrite 1: ok\nwrite 2: ok\nfailed 0 of 3\n"},
		{prog: "chaoswrite", args: []string{"/dev/full", "2"}, stdout: "write 0: No space left on device\nwrite 1: No space left on device\nfailed 2 of 2\n", exit: 3},
		{name: "envdiv a", prog: "envdiv", args: []string{fileA}, env: []string{"HERMES_MODE=a"}, stdout: "length 6\nalpha\n"},
		{name: "envdiv b", prog: "envdiv", args: []string{fileA}, env: []string{"HERMES_MODE=b"}, stdout: "length 8\nalpha b\n"},
		{name: "envdiv b missing", prog: "envdiv", args: []string{fileB}, env: []string{"HERMES_MODE=b"}, exit: 2},
		{name: "gonet", prog: "gonet", goProg: true, argsFn: func(t *testing.T) []string { return []string{t.TempDir()} },
			re: regexp.MustCompile(`^start: [0-9]+\nworker 0: 1400 bytes echoed, file ok\nworker 1: 2800 bytes echoed, file ok\n` +
				`worker 2: 4200 bytes echoed, file ok\nworker 3: 5600 bytes echoed, file ok\n$`)},
		{prog: "vdso", re: regexp.MustCompile(`^vdso clock_gettime: [0-9]+\.[0-9]{9}\nvdso monotonic: [0-9]+\.[0-9]{9}\n` +
			`vdso gettimeofday: [0-9]+\.[0-9]{6}\nvdso time: [0-9]+\nvdso clock_getres: [0-9]+\.[0-9]{9}\nvdso getcpu: ok\n` +
			`(vgetrandom: [0-9a-f]{32}\n)?realtime: [0-9]+\.[0-9]{9}\nmonotonic: [0-9]+\.[0-9]{9}\n` +
			`gettimeofday: [0-9]+\.[0-9]{6}\ntime: [0-9]+\ngetcpu: ok\ngetrandom: [0-9a-f]{32}\n$`)},
		{prog: "futexwake", args: []string{"20", "5"}, stdout: "futexwake: 20 waiters woken\n"},
		{prog: "futexwake", args: []string{"1"}, exit: 2},
		{prog: "gotempdir", goProg: true, args: []string{"-test.v"}, re: regexp.MustCompile(`^=== RUN   TestTempDir\n` +
			`dir TestTempDir[0-9]+/001 files f0 f1 f2 f3 size 14\n--- PASS: TestTempDir \([0-9.]+s\)\nPASS\n$`)},
		{prog: "gotime", goProg: true, re: regexp.MustCompile(`^unixnano: [0-9]+\nrfc3339: [0-9]{4}-[0-9T:.+Z-]+\n` +
			`rand: [0-9a-f]{32}\npid: [0-9]+\nuptime: [0-9.]+ [0-9.]+\n$`)},
	}
	for _, tc := range cases {
		name := tc.name
		if name == "" {
			name = strings.Join(append([]string{tc.prog}, tc.args...), " ")
		}
		name = strings.ReplaceAll(name, dir+string(filepath.Separator), "")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if tc.prog == "int80" {
				NeedInt80(t)
			}
			var bin string
			if tc.goProg {
				bin = Go(t, tc.prog)
			} else {
				bin = C(t, tc.prog)
			}
			args := tc.args
			if tc.argsFn != nil {
				args = tc.argsFn(t)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			if tc.env != nil {
				cmd.Env = append(os.Environ(), tc.env...)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if ctx.Err() != nil {
				t.Fatalf("timed out; stdout %q stderr %q", out, stderr.String())
			}
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			switch {
			case tc.signal != 0:
				if !ws.Signaled() || ws.Signal() != tc.signal {
					t.Errorf("status %v, want killed by %v", cmd.ProcessState, tc.signal)
				}
			case !ws.Exited() || ws.ExitStatus() != tc.exit:
				t.Errorf("status %v, want exit %d; stderr %q", cmd.ProcessState, tc.exit, stderr.String())
			}
			if tc.re != nil {
				if !tc.re.Match(out) {
					t.Errorf("stdout %q does not match %v", out, tc.re)
				}
			} else if string(out) != tc.stdout {
				t.Errorf("stdout %q, want %q; stderr %q", out, tc.stdout, stderr.String())
			}
		})
	}
	t.Cleanup(func() {
		// Runs after the parallel subtests.
		data, err := os.ReadFile(outFile)
		if err != nil || string(data) != "written\n" {
			t.Errorf("files -w wrote %q, %v", data, err)
		}
		data, err = os.ReadFile(chaosFile)
		if err != nil || string(data) != "line 0\nline 1\nline 2\n" {
			t.Errorf("chaoswrite wrote %q, %v", data, err)
		}
	})
}

// tcpServer returns an argsFn for tcpget: the port of a loopback listener
// that answers one "GET\n" with "hello tcp\n" and closes, or (serve false)
// of a port that was just closed, so that connect is refused.
func tcpServer(serve bool) func(t *testing.T) []string {
	return func(t *testing.T) []string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		if !serve {
			ln.Close()
			return []string{port}
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			req, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || req != "GET\n" {
				fmt.Fprintf(c, "bad request %q %v\n", req, err)
				return
			}
			io.WriteString(c, "hello tcp\n")
		}()
		return []string{port}
	}
}

// started is a running program whose stdout is read line by line.
type started struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string
}

func start(t *testing.T, bin string, args ...string) *started {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &started{t: t, cmd: cmd, lines: make(chan string, 100)}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return s
}

// expect reads the next line and checks it against the pattern.
func (s *started) expect(pattern string) []string {
	s.t.Helper()
	re := regexp.MustCompile("^" + pattern + "$")
	select {
	case line, ok := <-s.lines:
		if !ok {
			s.t.Fatalf("EOF, want line matching %q", pattern)
		}
		m := re.FindStringSubmatch(line)
		if m == nil {
			s.t.Fatalf("got line %q, want %q", line, pattern)
		}
		return m
	case <-time.After(20 * time.Second):
		s.t.Fatalf("timed out waiting for line %q", pattern)
	}
	return nil
}

// wait checks that stdout ends and the program exits 0.
func (s *started) wait() {
	s.t.Helper()
	for line := range s.lines {
		s.t.Errorf("unexpected line %q", line)
	}
	if err := s.cmd.Wait(); err != nil {
		s.t.Fatalf("exit: %v", err)
	}
}

func (s *started) signal(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
}

// procState returns the state letter from /proc/PID/stat.
func procState(pid int) (byte, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 || i+2 >= len(data) {
		return 0, fmt.Errorf("bad stat %q", data)
	}
	return data[i+2], nil
}

func TestSelfStop(t *testing.T) {
	t.Parallel()
	s := start(t, C(t, "selfstop"))
	s.expect("before stop")
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := procState(s.cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if st == 'T' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("selfstop never stopped (state %c)", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.signal(syscall.SIGCONT)
	s.expect("after cont")
	s.wait()
}

func TestSleeper(t *testing.T) {
	t.Parallel()
	s := start(t, C(t, "sleeper"), "1")
	m := s.expect(`pid ([0-9]+)`)
	if pid, _ := strconv.Atoi(m[1]); pid != s.cmd.Process.Pid {
		t.Errorf("sleeper printed pid %d, want %d", pid, s.cmd.Process.Pid)
	}
	s.expect("ready")
	s.signal(syscall.SIGUSR1)
	m = s.expect(`alive ([0-9]+)`)
	n1, _ := strconv.Atoi(m[1])
	time.Sleep(100 * time.Millisecond)
	s.signal(syscall.SIGUSR1)
	m = s.expect(`alive ([0-9]+)`)
	if n2, _ := strconv.Atoi(m[1]); n2 <= n1 {
		t.Errorf("iteration count did not advance: %d then %d", n1, n2)
	}
	s.expect("sleeper done")
	s.wait()
}

func TestIgnoreTerm(t *testing.T) {
	t.Parallel()
	s := start(t, C(t, "ignoreterm"), "0.3")
	s.expect("ready")
	s.signal(syscall.SIGTERM)
	s.signal(syscall.SIGTERM)
	s.expect("done")
	s.wait()
}

// TestGoBuildExplicitTestdata documents that the go tool builds a package
// under testdata when it is named explicitly, which Go relies on.
func TestGoBuildExplicitTestdata(t *testing.T) {
	cmd := exec.Command(goCommand(), "list", "-f", "{{.Name}}", "./testdata/go/gohello")
	cmd.Dir = Root(t)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "main" {
		t.Fatalf("go list ./testdata/go/gohello: %v\n%s", err, out)
	}
}
