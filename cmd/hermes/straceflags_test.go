package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/internal/testbin"
)

// These tests run the same program under strace and under hermes trace
// with the same flag and compare what the two print: the same calls, the
// same decoded text, once what differs from run to run (addresses, pids,
// inode numbers, ports, strace's column padding) is set aside.

// straceBin returns strace's path; the tests need it.
func straceBin(t *testing.T) string {
	t.Helper()
	s, err := exec.LookPath("strace")
	if err != nil {
		t.Fatal("strace is required (apt-get install strace)")
	}
	return s
}

var (
	normAddr     = regexp.MustCompile(`0x[0-9a-f]{5,}`)
	normPad      = regexp.MustCompile(`(\)|>) +(= |<unfinished|<detached)`)
	normInode    = regexp.MustCompile(`(pipe|socket|UNIX|UNIX-STREAM|TCP|UDP):\[\d+([\]\-,])`)
	normPeer     = regexp.MustCompile(`(:\[N)->\d+`)
	normPort     = regexp.MustCompile(`(127\.0\.0\.1|htons\(|\[::1\]):?\(?\d+`)
	normOwnPid   = regexp.MustCompile(`^((?:set_tid_address|getpid|gettid)\(.*\) = )\d+$`)
	normTid      = regexp.MustCompile(`(parent_tid=\[)\d+`)
	normChild    = regexp.MustCompile(`^(clone3?\(.*\) = )\d+$`)
	normRandom   = regexp.MustCompile(`getrandom\("[^"]*"`)
	normSleepAbs = regexp.MustCompile(`tv_sec=\d+, tv_nsec=\d+`)
	// A child's pid and the CPU time it used, in SIGCHLD's siginfo: the
	// user time is kept as zero or not, with its comment.
	normSigPid   = regexp.MustCompile(`(si_pid=)\d+`)
	normSigUtime = regexp.MustCompile(`(si_utime=)[1-9]\d* /\* \d+\.\d\d s \*/`)
	normSigStime = regexp.MustCompile(`(si_stime=)\d+( /\* \d+\.\d\d s \*/)?`)
	// SysV IPC: the ids the kernel hands out, and the pids and times in
	// the structs IPC_STAT fills (a time of 0 stays 0).
	normIPCCall = regexp.MustCompile(`^(?:msg|sem|shm)(?:get|snd|rcv|ctl|op|timedop|at)\(`)
	normIPCID   = regexp.MustCompile(`^((?:msg|sem|shm)(?:snd|rcv|ctl|op|timedop|at)\()\d+`)
	normIPCGet  = regexp.MustCompile(`^((?:msg|sem|shm)get\(.*\) = )\d+$`)
	normIPCPid  = regexp.MustCompile(`((?:msg_lspid|msg_lrpid|shm_cpid|shm_lpid)=)\d+`)
	normIPCTime = regexp.MustCompile(`((?:msg_[src]|sem_[oc]|shm_[adc])time=)[1-9]\d*`)
)

// normalize reduces one line of strace or hermes output to what two runs
// share. pid prefixes are removed.
func normalize(line string) string {
	if m := pidPrefix.FindString(line); m != "" {
		line = line[len(m):]
	}
	line = normPad.ReplaceAllString(line, "$1 $2")
	line = normAddr.ReplaceAllString(line, "0xADDR")
	line = normInode.ReplaceAllString(line, "$1:[N$2")
	line = normPeer.ReplaceAllString(line, "$1->N")
	line = normPort.ReplaceAllString(line, "${1}P")
	line = normOwnPid.ReplaceAllString(line, "${1}PID")
	line = normTid.ReplaceAllString(line, "${1}TID")
	line = normChild.ReplaceAllString(line, "${1}TID")
	line = normRandom.ReplaceAllString(line, `getrandom("RANDOM"`)
	if normIPCCall.MatchString(line) {
		line = normIPCID.ReplaceAllString(line, "${1}ID")
		line = normIPCGet.ReplaceAllString(line, "${1}ID")
		line = normIPCPid.ReplaceAllString(line, "${1}PID")
		line = normIPCTime.ReplaceAllString(line, "${1}T")
	}
	if strings.HasPrefix(line, "--- SIGCHLD ") {
		line = normSigPid.ReplaceAllString(line, "${1}PID")
		line = normSigUtime.ReplaceAllString(line, "${1}N /* S s */")
		line = normSigStime.ReplaceAllString(line, "${1}T")
	}
	return normSleepAbs.ReplaceAllString(line, "tv_sec=S, tv_nsec=NS")
}

// normLines normalizes text line by line, leaving out lines for which
// drop says so (nil keeps all).
func normLines(text string, drop func(string) bool) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		n := normalize(l)
		if n == "" || (drop != nil && drop(n)) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// diffLines fails the test with both outputs if they differ.
func diffLines(t *testing.T, what string, strace, hermes []string) {
	t.Helper()
	if strings.Join(strace, "\n") == strings.Join(hermes, "\n") {
		return
	}
	for i := 0; i < len(strace) || i < len(hermes); i++ {
		var s, h string
		if i < len(strace) {
			s = strace[i]
		}
		if i < len(hermes) {
			h = hermes[i]
		}
		if s != h {
			t.Fatalf("%s: line %d differs:\nstrace: %s\nhermes: %s\n--- strace:\n%s\n--- hermes:\n%s", what, i+1, s, h,
				strings.Join(strace, "\n"), strings.Join(hermes, "\n"))
		}
	}
}

// runBoth runs argv under strace with sflags and under hermes trace with
// hflags, each writing its trace to a file (-o), and returns the two
// traces and hermes's standard error.
func runBoth(t *testing.T, sflags, hflags, argv []string) (string, string, string) {
	t.Helper()
	dir := t.TempDir()
	sout, hout := filepath.Join(dir, "strace.out"), filepath.Join(dir, "hermes.out")
	cmd := exec.Command(straceBin(t), append(append(append([]string{}, sflags...), "-o", sout), argv...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("strace %v: %v\n%s", sflags, err, out)
	}
	_, stderr, code := hermes(t, append(append(append([]string{"trace"}, hflags...), "-o", hout, "--"), argv...)...)
	if code != 0 {
		t.Fatalf("hermes trace %v: exit %d\n%s", hflags, code, stderr)
	}
	s, _ := os.ReadFile(sout)
	h, _ := os.ReadFile(hout)
	return string(s), string(h), stderr
}

// dataFile writes a small file for the programs to open.
func dataFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data.txt")
	if err := os.WriteFile(p, []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestStraceFlagsMatch compares hermes's output with strace's, flag by
// flag, on calls made the same way on every run: decoded structures
// (statx, fadvise64, epoll; fcntl locks, set-id modes, ioctls, futex ops
// and SIGCHLD's times; SysV IPC keys, flags, commands, messages, sembufs
// and the structs IPC_STAT fills), -y and -yy, -z, -Z and -P.
func TestStraceFlagsMatch(t *testing.T) {
	prog := testbin.C(t, "straceflags")
	kstate := testbin.C(t, "kstate")
	data := dataFile(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(data, link); err != nil {
		t.Fatal(err)
	}
	execve := func(l string) bool { return strings.HasPrefix(l, "execve(") }
	for _, tc := range []struct {
		name   string
		flags  []string
		argv   []string
		stderr string // a line hermes prints as strace does, after "hermes: "
	}{
		{"decode", nil, []string{prog, "decode", data}, ""},
		{"gaps", []string{"-f", "-e", "trace=fcntl,newfstatat,statx,ioctl,futex"}, []string{prog, "gaps", data}, ""},
		{"ipc ids", []string{"-e", "trace=ipc"}, []string{kstate, "ids"}, ""},
		{"ipc", []string{"-e", "trace=ipc"}, []string{prog, "ipc"}, ""},
		{"-y", []string{"-y"}, []string{prog, "fds", data}, ""},
		{"-yy", []string{"-yy"}, []string{prog, "fds", data}, ""},
		{"-z", []string{"-z"}, []string{prog, "mixed", data}, ""},
		{"-Z", []string{"-Z"}, []string{prog, "mixed", data}, ""},
		{"--failed-only", []string{"--failed-only"}, []string{prog, "mixed", data}, ""},
		{"-P", []string{"-P", data}, []string{prog, "mixed", data}, ""},
		{"-P link", []string{"-P", link}, []string{prog, "mixed", link},
			fmt.Sprintf("Requested path %q resolved into %q", link, data)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, h, stderr := runBoth(t, tc.flags, tc.flags, tc.argv)
			hl := normLines(h, execve)
			if len(hl) < 2 { // a call and the exit line at least
				t.Fatalf("hermes printed %d lines:\n%s", len(hl), h)
			}
			diffLines(t, tc.name, normLines(s, execve), hl)
			if tc.stderr != "" && !strings.Contains(stderr, "hermes: "+tc.stderr+"\n") {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
		})
	}
}

// summaryRows parses strace -c's table: header and dividers verbatim,
// and per row the calls, errors and name (times differ from run to run).
func summaryRows(t *testing.T, text string) (frame []string, rows []string) {
	t.Helper()
	row := regexp.MustCompile(`^ *\d+\.\d\d +\d+\.\d{6} +\d+ +(\d+) +(\d*) (\S+)$`)
	inTable := false
	for _, l := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(l, "% time"):
			inTable = true
			frame = append(frame, l)
		case !inTable:
		case strings.HasPrefix(l, "------"):
			frame = append(frame, l)
		default:
			if m := row.FindStringSubmatch(l); m != nil {
				rows = append(rows, m[3]+" calls="+m[1]+" errors="+m[2])
			} else if l != "" {
				t.Errorf("not a row of strace -c's table: %q", l)
			}
		}
	}
	if len(frame) != 3 {
		t.Errorf("no strace -c table (header and two dividers) in:\n%s", text)
	}
	return frame, rows
}

// TestStraceSummary compares -c and -C with strace's: the same rows
// (calls and errors per syscall, the total), in the same layout.
func TestStraceSummary(t *testing.T) {
	prog := testbin.C(t, "straceflags")
	data := dataFile(t)
	argv := []string{prog, "mixed", data}
	s, h, _ := runBoth(t, []string{"-f", "-c"}, []string{"-c"}, argv)
	sf, sr := summaryRows(t, s)
	hf, hr := summaryRows(t, h)
	diffLines(t, "-c frame", sf, hf)
	sort.Strings(sr)
	sort.Strings(hr)
	diffLines(t, "-c rows", sr, hr)
	if strings.Contains(h, "openat(") {
		t.Errorf("-c printed calls:\n%s", h)
	}

	s, h, _ = runBoth(t, []string{"-f", "-C"}, []string{"-C"}, argv)
	calls := func(text string) []string {
		before, _, _ := strings.Cut(text, "% time")
		return normLines(before, func(l string) bool { return strings.HasPrefix(l, "execve(") })
	}
	diffLines(t, "-C calls", calls(s), calls(h))
	sf, sr = summaryRows(t, s)
	hf, hr = summaryRows(t, h)
	diffLines(t, "-C frame", sf, hf)
	sort.Strings(sr)
	sort.Strings(hr)
	diffLines(t, "-C rows", sr, hr)
}

// TestStraceUnfinished: a thread blocked in read(2) while another thread's
// lines are printed is shown as strace shows it, unfinished then resumed.
func TestStraceUnfinished(t *testing.T) {
	prog := testbin.C(t, "straceflags")
	argv := []string{prog, "interleave"}
	dir := t.TempDir()
	sout := filepath.Join(dir, "strace.out")
	if out, err := exec.Command(straceBin(t), "-f", "-o", sout, "--", prog, "interleave").CombinedOutput(); err != nil {
		t.Fatalf("strace: %v\n%s", err, out)
	}
	_, h, code := hermes(t, append([]string{"trace", "--"}, argv...)...)
	if code != 0 {
		t.Fatalf("hermes: exit %d\n%s", code, h)
	}
	sb, _ := os.ReadFile(sout)
	for name, text := range map[string]string{"strace -f -o": string(sb), "hermes (stderr)": h} {
		var unfinished, resumed string
		for _, l := range strings.Split(text, "\n") {
			n := normalize(l)
			if n == "read(3,  <unfinished ...>" {
				unfinished = pidPrefix.FindString(l)
			}
			if n == `<... read resumed>"w", 1) = 1` {
				resumed = pidPrefix.FindString(l)
			}
		}
		if unfinished == "" || unfinished != resumed {
			t.Errorf("%s: no `read(3,  <unfinished ...>` and `<... read resumed>\"w\", 1) = 1` of one thread:\n%s", name, text)
		}
	}
	if !regexp.MustCompile(`(?m)^\[pid +\d+\] read\(3,  <unfinished \.\.\.>$`).MatchString(h) {
		t.Errorf("hermes's unfinished line lacks strace's [pid %%5d] prefix:\n%s", h)
	}
}

// TestStraceStacks: -k prints the frames strace -k prints, as far as the
// frame pointers go, with the source line of each frame from DWARF.
func TestStraceStacks(t *testing.T) {
	prog := testbin.C(t, "straceflags")
	s, h, _ := runBoth(t, []string{"-k", "-e", "trace=write"}, []string{"-k", "-e", "trace=write"}, []string{prog, "stack"})
	frames := func(text string) []string {
		var out []string
		in := false
		for _, l := range strings.Split(text, "\n") {
			l = strings.TrimPrefix(l, pidPrefix.FindString(l))
			switch {
			case strings.HasPrefix(l, "write("):
				in = true
			case in && strings.HasPrefix(l, " > "):
				out = append(out, l)
			default:
				in = false
			}
		}
		return out
	}
	sf, hf := frames(s), frames(h)
	if len(hf) < 4 || len(hf) > len(sf) {
		t.Fatalf("hermes printed %d frames, strace %d:\n%s\n---\n%s", len(hf), len(sf), h, s)
	}
	src, err := os.ReadFile(filepath.Join(testbin.Root(t), "testdata", "c", "straceflags.c"))
	if err != nil {
		t.Fatal(err)
	}
	line := 0
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, `write(1, "stack\n", 6)`) {
			line = i + 1
		}
	}
	for i, f := range hf {
		frame, at, _ := strings.Cut(f, " at ")
		if frame != sf[i] {
			t.Errorf("frame %d: hermes %q, strace %q", i, frame, sf[i])
		}
		if strings.Contains(frame, "(level2+") && !strings.HasSuffix(at, "straceflags.c:"+strconv.Itoa(line)) {
			t.Errorf("frame %d: %q lacks the source line straceflags.c:%d", i, f, line)
		}
	}
	for _, want := range []string{"(__write+", "(level2+", "(level1+", "(main+"} {
		if !strings.Contains(strings.Join(hf, "\n"), want) {
			t.Errorf("no %s frame:\n%s", want, strings.Join(hf, "\n"))
		}
	}
}

// TestStracePerThreadFiles: -ff -o F writes one file per thread, F.TID,
// with the lines strace writes to its own.
func TestStracePerThreadFiles(t *testing.T) {
	prog := testbin.C(t, "straceflags")
	dir := t.TempDir()
	if out, err := exec.Command(straceBin(t), "-ff", "-o", filepath.Join(dir, "s"), prog, "interleave").CombinedOutput(); err != nil {
		t.Fatalf("strace -ff: %v\n%s", err, out)
	}
	if _, stderr, code := hermes(t, "trace", "-ff", "-o", filepath.Join(dir, "h"), "--", prog, "interleave"); code != 0 {
		t.Fatalf("hermes -ff: exit %d\n%s", code, stderr)
	}
	// The main thread's file is the one with the execve; its futex calls
	// depend on when the other thread ends. hermes answers clone3 ENOSYS
	// (its flags could change under it) and libc falls back to clone, so
	// the thread's creation is one line under strace and two under hermes.
	files := func(prefix string) (main, thread []string) {
		paths, _ := filepath.Glob(filepath.Join(dir, prefix+".*"))
		if len(paths) != 2 {
			t.Fatalf("%s: %d files, want 2 (two threads): %v", prefix, len(paths), paths)
		}
		for _, p := range paths {
			if _, err := strconv.Atoi(strings.TrimPrefix(filepath.Ext(p), ".")); err != nil {
				t.Errorf("%s is not PREFIX.TID", p)
			}
			b, _ := os.ReadFile(p)
			lines := normLines(string(b), func(l string) bool {
				return strings.HasPrefix(l, "futex(") || strings.HasPrefix(l, "execve(") ||
					strings.HasPrefix(l, "clone3(") || strings.HasPrefix(l, "clone(")
			})
			if strings.Contains(string(b), "execve(") {
				main = lines
			} else {
				thread = lines
			}
		}
		return main, thread
	}
	sm, st := files("s")
	hm, ht := files("h")
	diffLines(t, "main thread's file", sm, hm)
	diffLines(t, "second thread's file", st, ht)
}

// traced is a program started for an attach test: its standard input is
// ours to write, and it has said "ready".
type traced struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

func startBlocked(t *testing.T, mode string) *traced {
	t.Helper()
	cmd := exec.Command(testbin.C(t, "straceflags"), mode)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("target said %q, %v", line, err)
	}
	go io.Copy(io.Discard, out)
	time.Sleep(50 * time.Millisecond) // into its read(2)
	return &traced{cmd, stdin}
}

// attach runs tracer (strace or hermes's argv) on the target until it has
// said that it attached, then calls then and waits for the tracer to end.
// It returns the tracer's standard error.
func attach(t *testing.T, argv []string, then func(tracer *exec.Cmd)) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	errp, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(errp)
	var text strings.Builder
	for {
		l, err := r.ReadString('\n')
		text.WriteString(l)
		if err != nil {
			t.Fatalf("%v: no attach line: %v\n%s", argv, err, text.String())
		}
		if strings.Contains(l, " attached") {
			break
		}
	}
	time.Sleep(200 * time.Millisecond)
	then(cmd)
	rest, _ := io.ReadAll(r)
	text.Write(rest)
	cmd.Wait()
	return text.String()
}

// TestStraceAttach: -p prints strace's "Process N attached" line, the
// call the process was blocked in as it resumes, and on Ctrl-C the calls
// in progress ("<unfinished ...>", "<detached ...>") and a "Process N
// detached" line per thread.
func TestStraceAttach(t *testing.T) {
	strace := straceBin(t)
	// The process prints the line, the tool's name differs.
	tool := regexp.MustCompile(`^(\S*strace|hermes): `)
	dir := t.TempDir()
	// The trace goes to a file (-o), the attach and detach lines to
	// standard error: strace's stderr would cut the line of a call in
	// progress in two.
	run := func(tracer func(pid int, out string) []string, mode string, then func(*traced, *exec.Cmd)) []string {
		target := startBlocked(t, mode)
		pid := target.cmd.Process.Pid
		out := filepath.Join(dir, strconv.Itoa(pid))
		notes := attach(t, tracer(pid, out), func(c *exec.Cmd) { then(target, c) })
		trace, _ := os.ReadFile(out)
		var lines []string
		for _, l := range append(normLines(notes, nil), normLines(string(trace), nil)...) {
			l = tool.ReplaceAllString(l, "")
			lines = append(lines, strings.ReplaceAll(l, strconv.Itoa(pid), "PID"))
		}
		return lines
	}
	straceP := func(pid int, out string) []string {
		return []string{strace, "-f", "-o", out, "-p", strconv.Itoa(pid)}
	}
	hermesP := func(pid int, out string) []string {
		return []string{hermesBin, "trace", "-o", out, "-p", strconv.Itoa(pid)}
	}

	// The read resumes and returns what is written.
	write := func(tg *traced, _ *exec.Cmd) {
		io.WriteString(tg.stdin, "hello\n")
		tg.stdin.Close()
	}
	s := run(straceP, "block", write)
	h := run(hermesP, "block", write)
	diffLines(t, "-p of a process blocked in read", s, h)
	if len(h) == 0 || h[0] != "Process PID attached" {
		t.Errorf("first line %q, want the attach line", h)
	}

	// Ctrl-C detaches from three threads blocked in read.
	interrupt := func(_ *traced, c *exec.Cmd) { c.Process.Signal(syscall.SIGINT) }
	canon := func(lines []string) []string {
		tids := regexp.MustCompile(`Process \d+ detached`)
		var out []string
		for _, l := range lines {
			l = tids.ReplaceAllString(l, "Process TID detached")
			l = strings.NewReplacer(" <detached ...>", " <in progress>", " <unfinished ...>", " <in progress>").Replace(l)
			out = append(out, l)
		}
		sort.Strings(out)
		return out
	}
	s = run(straceP, "blockthreads", interrupt)
	h = run(hermesP, "blockthreads", interrupt)
	diffLines(t, "Ctrl-C of -p", canon(s), canon(h))
	if n := strings.Count(strings.Join(h, "\n"), "<detached ...>"); n != 1 {
		t.Errorf("%d <detached ...> lines, want 1 (the call on the last line):\n%s", n, strings.Join(h, "\n"))
	}
	if h[0] != "Process PID attached with 3 threads" {
		t.Errorf("first line %q", h[0])
	}
}

// TestTraceRestartSyscall: a process attached while it sleeps resumes the
// sleep with restart_syscall, which hermes shows with the call it resumes
// (strace names the call it last saw, which it did not see here).
func TestTraceRestartSyscall(t *testing.T) {
	sleeper := exec.Command("sleep", "1")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Wait()
	time.Sleep(100 * time.Millisecond)
	_, stderr, code := hermes(t, "trace", "-p", strconv.Itoa(sleeper.Process.Pid))
	want := "restart_syscall(<... resuming interrupted clock_nanosleep ...>) = 0\n"
	if code != 0 || !strings.Contains(stderr, want) || !strings.HasPrefix(stderr, "hermes: Process "+strconv.Itoa(sleeper.Process.Pid)+" attached\n") {
		t.Errorf("exit %d, stderr lacks the attach line or %q:\n%s", code, want, stderr)
	}
}

// TestTraceFlagErrors: flags hermes refuses, each in one line.
func TestTraceFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-ff", "--", "true"}, "-ff needs -o FILE"},
		{[]string{"-ff", "-o", "-", "--", "true"}, "give a file name"},
		{[]string{"-z", "-Z", "--", "true"}, "-z and -Z"},
		{[]string{"-c", "-C", "--", "true"}, "-c and -C"},
		{[]string{"-yyy", "--", "true"}, "at most -yy"},
		{[]string{"-P", "", "--", "true"}, "-P: empty path"},
		// strace flags hermes does not have.
		{[]string{"-i", "--", "true"}, "unknown shorthand flag: 'i'"},
		{[]string{"-x", "--", "true"}, "unknown shorthand flag: 'x'"},
		{[]string{"-u", "nobody", "--", "true"}, "unknown shorthand flag: 'u'"},
		{[]string{"-D", "--", "true"}, "unknown shorthand flag: 'D'"},
		{[]string{"--seccomp-bpf", "--", "true"}, "unknown flag: --seccomp-bpf"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := hermes(t, append([]string{"trace"}, tc.args...)...)
			oneLine(t, strings.Join(tc.args, " "), code, stderr, tc.msg)
		})
	}
}

// TestVersionCommand: "hermes version" prints what --version prints.
func TestVersionCommand(t *testing.T) {
	v, stderr, code := hermes(t, "version")
	flag, _, _ := hermes(t, "--version")
	if code != 0 || v != flag || !strings.HasPrefix(v, "hermes version ") {
		t.Errorf("hermes version: exit %d, %q (--version: %q), stderr %q", code, v, flag, stderr)
	}
}

// TestStatsSummary: hermes stats prints strace -c's table of a recording
// (the same rows as strace -c of the same run, with the same fault
// injected), names each process's program and counts injected faults.
func TestStatsSummary(t *testing.T) {
	prog := testbin.C(t, "straceflags")
	data := dataFile(t)
	dir := t.TempDir()
	inject := "inject=read:error=EIO:when=2"
	sout := filepath.Join(dir, "strace.out")
	out, err := exec.Command(straceBin(t), "-f", "-c", "-e", inject, "-o", sout, prog, "mixed", data).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("strace: %v (want exit 1: the read fails)\n%s", err, out)
	}
	trace := filepath.Join(dir, "t.trace")
	if _, stderr, code := hermes(t, "record", "-o", trace, "-e", inject, "--", prog, "mixed", data); code != 1 {
		t.Fatalf("record: exit %d (want 1: the read fails)\n%s", code, stderr)
	}
	stats, stderr, code := hermes(t, "stats", trace)
	if code != 0 {
		t.Fatalf("stats: exit %d\n%s", code, stderr)
	}
	sb, _ := os.ReadFile(sout)
	sf, sr := summaryRows(t, string(sb))
	table, _, _ := strings.Cut(stats, "\n\n")
	hf, hr := summaryRows(t, table)
	diffLines(t, "stats frame", sf, hf)
	sort.Strings(sr)
	sort.Strings(hr)
	diffLines(t, "stats rows", sr, hr)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^process +calls +errors +seconds +program$`),
		regexp.MustCompile(`(?m)^1 +\d+ +\d+ +\d+\.\d{6} +` + regexp.QuoteMeta(prog) + `$`),
		regexp.MustCompile(`(?m)^injected +syscall +fault\n1 +read +EIO$`),
	} {
		if !want.MatchString(stats) {
			t.Errorf("stats lacks %s:\n%s", want, stats)
		}
	}
}

// TestYYUnboundUnixSocket: -yy names an unbound AF_UNIX socket, whose
// sock_diag lookup is answered in one datagram with no NLMSG_DONE; the
// lookup waited for more forever, on the tracer thread.
func TestYYUnboundUnixSocket(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	out := filepath.Join(t.TempDir(), "out.txt")
	_, stderr, code := runFor(t, time.Minute, hermesBin, "trace", "-yy", "-e", "trace=socket", "-o", out, "--",
		py, "-c", "import socket; socket.socket(socket.AF_UNIX)")
	b, _ := os.ReadFile(out)
	if code != 0 || !strings.Contains(string(b), "<UNIX-STREAM:[") {
		t.Fatalf("exit %d\n%s\nstderr:\n%s", code, b, stderr)
	}
}

// TestStraceGapsDump records the gaps calls and dumps the trace: what
// dump decodes from the memory the recording captured (struct flock at
// entry and F_GETLK's at exit, f_owner_ex, ioctl in-structs, futex
// timeouts) is what strace prints live; and the trace replays.
func TestStraceGapsDump(t *testing.T) {
	prog := testbin.C(t, "straceflags")
	data := dataFile(t)
	argv := []string{prog, "gaps", data}
	filter := "trace=fcntl,newfstatat,statx,ioctl,futex"
	dir := t.TempDir()
	sout, trace := filepath.Join(dir, "strace.out"), filepath.Join(dir, "gaps.trace")
	if out, err := exec.Command(straceBin(t), append([]string{"-f", "-e", filter, "-o", sout}, argv...)...).CombinedOutput(); err != nil {
		t.Fatalf("strace: %v\n%s", err, out)
	}
	if _, stderr, code := hermes(t, append([]string{"record", "-o", trace, "--"}, argv...)...); code != 0 {
		t.Fatalf("record: exit %d\n%s", code, stderr)
	}
	text, stderr, code := hermes(t, "dump", "-e", filter, trace)
	if code != 0 {
		t.Fatalf("dump: exit %d\n%s", code, stderr)
	}
	s, _ := os.ReadFile(sout)
	diffLines(t, "dump", normLines(string(s), nil), normLines(text, nil))
	if _, stderr, code := hermes(t, "replay", trace); code != 0 {
		t.Fatalf("replay: exit %d\n%s", code, stderr)
	}
}
