package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/internal/testbin"
)

// hermesBin is the hermes binary the tests run, built once.
var hermesBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hermes-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hermesBin = filepath.Join(dir, "hermes")
	if out, err := exec.Command("go", "build", "-o", hermesBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building hermes: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// hermes runs the hermes binary and returns stdout, stderr and the exit
// status.
func hermes(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return hermesAt(t, "", args...)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "data")
	notProg := filepath.Join(dir, "garbage")
	os.WriteFile(notExec, []byte("data\n"), 0o644)
	os.WriteFile(notProg, []byte("\x00\x01garbage\n"), 0o755)
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown flag", []string{"trace", "--bogus", "--", "true"}, 125, "unknown flag: --bogus"},
		{"unknown command", []string{"tracer"}, 125, "unknown command"},
		{"missing command", []string{"trace"}, 125, "missing command"},
		{"nonexistent command", []string{"trace", "--", "/nonexistent/bin"}, 127, "/nonexistent/bin"},
		{"command not in PATH", []string{"trace", "--", "no-such-hermes-cmd"}, 127, "command not found"},
		{"not executable", []string{"trace", "--", notExec}, 126, "permission denied"},
		{"not a program", []string{"trace", "--", notProg}, 126, "exec format error"},
		{"directory", []string{"trace", "--", "/tmp"}, 126, "is a directory"},
		{"pid does not exist", []string{"trace", "-p", "999999999"}, 125, "no such process"},
		{"pid not attachable", []string{"trace", "-p", "2"}, 125, "operation not permitted"},
		{"pid and command", []string{"trace", "-p", "1", "--", "true"}, 125, "either -p PID or a command"},
		{"unknown syscall", []string{"trace", "-e", "trace=openat,bogus", "--", "true"}, 125, "bogus"},
		{"unknown class", []string{"trace", "-e", "trace=%bogus", "--", "true"}, 125, "bogus"},
		{"unknown qualifier", []string{"trace", "-e", "frobnicate=1", "--", "true"}, 125, "frobnicate"},
		{"bad pid value", []string{"trace", "-p", "abc"}, 125, "invalid argument"},
		{"pid zero", []string{"trace", "-p", "0"}, 125, `"0" is not a process id`},
		{"negative pid", []string{"trace", "-p", "-5"}, 125, `"-5" is not a process id`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := hermes(t, tc.args...)
			// The trace itself may show a failed execve; hermes's own
			// complaint is exactly one line.
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if strings.HasPrefix(l, "hermes: ") || !strings.Contains(l, "execve(") {
					lines = append(lines, l)
				}
			}
			if code != tc.code || len(lines) != 1 || !strings.HasPrefix(lines[0], "hermes: ") ||
				!strings.Contains(strings.ToLower(lines[0]), strings.ToLower(tc.msg)) {
				t.Fatalf("exit %d, stderr %q; want exit %d and one line containing %q", code, stderr, tc.code, tc.msg)
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
				t.Fatalf("stack trace on stderr: %s", stderr)
			}
		})
	}
}

func TestExitStatusPassesThrough(t *testing.T) {
	hello := testbin.C(t, "hello")
	killself := testbin.C(t, "killself")
	for _, tc := range []struct {
		argv []string
		code int
	}{
		{[]string{hello}, 0},
		{[]string{hello, "42"}, 42},
		{[]string{killself}, 137},
		{[]string{killself, "fault"}, 139},
	} {
		stdout, _, code := hermes(t, append([]string{"trace", "-o", "/dev/null", "--"}, tc.argv...)...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.argv, code, tc.code)
		}
		if !strings.Contains(stdout, "hello") && !strings.Contains(stdout, "dying") {
			t.Errorf("%v: target output lost: %q", tc.argv, stdout)
		}
	}
}

func TestTraceOutput(t *testing.T) {
	hello := testbin.C(t, "hello")
	stdout, stderr, code := hermes(t, "trace", "--", hello)
	if code != 0 || stdout != "hello\n" {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
	for _, want := range []string{
		`execve("` + hello + `", ["`,
		`write(1, "hello\n", 6) = 6`,
		"exit_group(0) = ?",
		"+++ exited with 0 +++",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("trace lacks %q:\n%s", want, stderr)
		}
	}
	out := filepath.Join(t.TempDir(), "trace")
	hermes(t, "trace", "-e", "trace=openat", "-o", out, "--", "cat", "/nonexistent-file")
	data, _ := os.ReadFile(out)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		lines = append(lines, l[len(pidPrefix.FindString(l)):])
	}
	stderr = strings.Join(lines, "\n")
	if !regexp.MustCompile(`(?m)^openat\(AT_FDCWD, "/nonexistent-file", O_RDONLY\) = -1 ENOENT \(No such file or directory\)$`).MatchString(stderr) {
		t.Errorf("failed openat not shown like strace:\n%s", stderr)
	}
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !strings.HasPrefix(l, "openat(") && !strings.HasPrefix(l, "+++") {
			t.Errorf("-e trace=openat printed %q", l)
		}
	}
}

// sysLine is one syscall of a trace, reduced to what is comparable between
// two runs: the name and the return value.
type sysLine struct {
	pid  string
	name string
	ret  string
}

var (
	pidPrefix = regexp.MustCompile(`^(?:\[pid\s+(\d+)\]|(\d+))\s+`)
	callRe    = regexp.MustCompile(`^([a-z_0-9]+)\(.*\) += (\S+)`)
	resumedRe = regexp.MustCompile(`^<\.\.\. ([a-z_0-9]+) resumed>.*\) += (\S+)`)
)

// parseTrace reads strace -f (or hermes trace) output into per-process
// sequences.
func parseTrace(t *testing.T, path string) map[string][]sysLine {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	first := ""
	out := map[string][]sysLine{}
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		pid := ""
		if m := pidPrefix.FindStringSubmatch(line); m != nil {
			pid = m[1] + m[2]
			line = line[len(m[0]):]
		}
		var name, ret string
		if m := callRe.FindStringSubmatch(line); m != nil {
			name, ret = m[1], m[2]
		} else if m := resumedRe.FindStringSubmatch(line); m != nil {
			name, ret = m[1], m[2]
		} else {
			continue
		}
		if pid == "" {
			if first == "" {
				first = "main"
			}
			pid = first
		}
		out[pid] = append(out[pid], sysLine{pid, name, ret})
	}
	return out
}

// timingDependent calls differ between two runs of the same program.
var timingDependent = map[string]bool{
	"wait4": true, "rt_sigreturn": true, "restart_syscall": true, "futex": true,
}

// returnsPID lists calls whose result is a pid (or an address that changes
// with ASLR): compared by success only.
var variesByRun = map[string]bool{
	"clone": true, "clone3": true, "fork": true, "vfork": true, "getpid": true, "getppid": true,
	"gettid": true, "set_tid_address": true, "mmap": true, "brk": true, "mremap": true,
}

// signature reduces per-process sequences to sorted strings, since process
// numbering and interleaving differ between runs.
func signature(procs map[string][]sysLine) []string {
	var sigs []string
	for _, calls := range procs {
		var b strings.Builder
		for _, c := range calls {
			if timingDependent[c.name] {
				continue
			}
			ret := c.ret
			if variesByRun[c.name] {
				if strings.HasPrefix(ret, "-") {
					ret = "ERR"
				} else {
					ret = "OK"
				}
			}
			fmt.Fprintf(&b, "%s=%s\n", c.name, ret)
		}
		sigs = append(sigs, b.String())
	}
	sort.Strings(sigs)
	return sigs
}

// TestMatchesStrace runs real commands under strace -f and under hermes and
// compares the syscall names and results each process made.
func TestMatchesStrace(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Fatal("strace is required (apt-get install strace)")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		argv []string
	}{
		{"cat", []string{"cat", "/etc/hostname"}},
		{"ls", []string{"ls", "/"}},
		{"pipeline", []string{"sh", "-c", "echo hi | wc -c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sout := filepath.Join(dir, tc.name+".strace")
			hout := filepath.Join(dir, tc.name+".hermes")
			cmd := exec.Command(strace, append([]string{"-f", "-qq", "-o", sout}, tc.argv...)...)
			want, err := cmd.Output()
			if err != nil {
				t.Fatalf("strace: %v", err)
			}
			got, stderr, code := hermes(t, append([]string{"trace", "-o", hout, "--"}, tc.argv...)...)
			if code != 0 || got != string(want) {
				t.Fatalf("hermes: exit %d, stdout %q (strace run: %q), stderr %s", code, got, want, stderr)
			}
			ss, hs := signature(parseTrace(t, sout)), signature(parseTrace(t, hout))
			if strings.Join(ss, "--\n") != strings.Join(hs, "--\n") {
				st, _ := os.ReadFile(sout)
				ht, _ := os.ReadFile(hout)
				t.Fatalf("syscall sequences differ\nstrace:\n%s\nhermes:\n%s\n--- strace output:\n%s\n--- hermes output:\n%s",
					strings.Join(ss, "--\n"), strings.Join(hs, "--\n"), st, ht)
			}
		})
	}
}

// TestTraceTimestamps checks hermes trace's strace-style -t, -tt, -ttt,
// -r and -T on a live run.
func TestTraceTimestamps(t *testing.T) {
	hello := testbin.C(t, "hello")
	for _, tc := range []struct {
		flags []string
		line  string // the write line on stderr
	}{
		{[]string{"-t"}, `^\d\d:\d\d:\d\d write\(1, "hello\\n", 6\) = 6$`},
		{[]string{"-tt", "-T"}, `^\d\d:\d\d:\d\d\.\d{6} write\(1, "hello\\n", 6\) = 6 <0\.\d{6}>$`},
		{[]string{"-ttt"}, `^(\d{10}\.\d{6}) write\(1, "hello\\n", 6\) = 6$`},
		{[]string{"-r"}, `^ +0\.\d{6} write\(1, "hello\\n", 6\) = 6$`},
		{[]string{"-T", "-e", "inject=write:error=ENOSPC"}, `^write\(1, "hello\\n", 6\) = -1 ENOSPC \(No space left on device\) \(INJECTED by inject=write:error=ENOSPC\) <0\.\d{6}>$`},
	} {
		t.Run(strings.Join(tc.flags, " "), func(t *testing.T) {
			before := time.Now()
			args := append([]string{"trace", "-e", "trace=write"}, tc.flags...)
			_, stderr, _ := hermes(t, append(args, "--", hello)...)
			after := time.Now()
			re := regexp.MustCompile(tc.line)
			var m []string
			for _, l := range strings.Split(stderr, "\n") {
				if m = re.FindStringSubmatch(l); m != nil {
					break
				}
			}
			if m == nil {
				t.Fatalf("no line matching %s in:\n%s", tc.line, stderr)
			}
			if len(m) > 1 {
				sec, err := strconv.ParseFloat(m[1], 64)
				if err != nil {
					t.Fatal(err)
				}
				if at := time.Unix(0, int64(sec*1e9)); at.Before(before.Add(-time.Millisecond)) || at.After(after) {
					t.Errorf("write at %v, not within the run (%v to %v)", at, before, after)
				}
			}
		})
	}
}
