package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/internal/testbin"
)

// startHermes starts hermes with args and returns the command and a reader
// of the target's stdout (hermes passes its stdout to the target).
func startHermes(t *testing.T, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(hermesBin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewReader(out)
}

func waitLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if strings.HasPrefix(l, want) {
			return
		}
	}
}

func exitCodeOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func alive(pid int) bool {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(st))
	return len(f) > 2 && f[2] != "Z"
}

// TestInterruptLaunched sends SIGINT and SIGTERM to hermes while it runs a
// target that ignores SIGTERM: hermes ends the run, kills the target and
// reports 128+signal.
func TestInterruptLaunched(t *testing.T) {
	bin := testbin.C(t, "ignoreterm")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd, out := startHermes(t, "trace", "-o", os.DevNull, "--", bin, "30")
		waitLine(t, out, "ready")
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		if code := exitCodeOf(err); code != 128+int(sig) {
			t.Errorf("after %v: exit %d, want %d", sig, code, 128+int(sig))
		}
	}
}

// TestKilledHermesTakesTracees kills hermes with SIGKILL: its tracees die
// with it (PTRACE_O_EXITKILL).
func TestKilledHermesTakesTracees(t *testing.T) {
	bin := testbin.C(t, "sleeper")
	cmd, out := startHermes(t, "trace", "-o", os.DevNull, "--", bin, "30")
	l, err := out.ReadString('\n')
	if err != nil || !strings.HasPrefix(l, "pid ") {
		t.Fatalf("first line %q, %v", l, err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(l, "pid ")))
	waitLine(t, out, "ready")
	cmd.Process.Kill()
	cmd.Wait()
	for i := 0; i < 200 && alive(pid); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatal("tracee survived hermes's SIGKILL")
	}
}

// TestAttachInterrupt attaches to a running process, interrupts hermes
// with SIGINT and checks the process keeps running unharmed.
func TestAttachInterrupt(t *testing.T) {
	bin := testbin.C(t, "sleeper")
	target := exec.Command(bin, "3")
	tout, _ := target.StdoutPipe()
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(tout)
	waitLine(t, r, "ready")
	h := exec.Command(hermesBin, "trace", "-p", strconv.Itoa(target.Process.Pid))
	stderr, _ := h.StderrPipe()
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	hr := bufio.NewReader(stderr)
	var trace strings.Builder
	for !strings.Contains(trace.String(), "nanosleep") && !strings.Contains(trace.String(), "write(") {
		l, err := hr.ReadString('\n')
		if err != nil {
			t.Fatalf("trace ended early: %q", trace.String())
		}
		trace.WriteString(l)
	}
	h.Process.Signal(syscall.SIGINT)
	go func() { // drain
		for {
			if _, err := hr.ReadString('\n'); err != nil {
				return
			}
		}
	}()
	if err := h.Wait(); exitCodeOf(err) != 0 {
		t.Fatalf("hermes exit: %v", err)
	}
	target.Process.Signal(syscall.SIGUSR1)
	waitLine(t, r, "alive")
	waitLine(t, r, "sleeper done")
	if err := target.Wait(); err != nil {
		t.Fatalf("target after detach: %v", err)
	}
}

// TestGroupInterrupt sends SIGINT to hermes's whole process group, as a
// terminal's Ctrl-C does: hermes must still end the run (its doorbell
// survives), both when it launched the target and when it attached.
func TestGroupInterrupt(t *testing.T) {
	bin := testbin.C(t, "sleeper")
	target := exec.Command(bin, "30")
	target.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	tout, _ := target.StdoutPipe()
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	defer target.Process.Kill()
	waitLine(t, bufio.NewReader(tout), "ready")
	for _, args := range [][]string{
		{"trace", "-o", os.DevNull, "--", bin, "30"},
		{"trace", "-o", os.DevNull, "-p", strconv.Itoa(target.Process.Pid)},
	} {
		cmd := exec.Command(hermesBin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if args[len(args)-1] == "30" {
			waitLine(t, bufio.NewReader(out), "ready")
		} else {
			time.Sleep(300 * time.Millisecond) // let it attach
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second): // a hang detector, not a timing check
			cmd.Process.Kill()
			t.Fatalf("%v: hermes did not end after SIGINT to its process group", args)
		}
	}
	if !alive(target.Process.Pid) {
		t.Fatal("attached target did not survive the detach")
	}
}

// TestRecordInterrupted sends SIGINT to hermes record: the trace is
// finished (renamed, with its index), keeps every call the target made up
// to a point the target itself reported, and ends with the target's exit.
func TestRecordInterrupted(t *testing.T) {
	bin := testbin.C(t, "sleeper")
	trace := filepath.Join(t.TempDir(), "int.trace")
	cmd, out := startHermes(t, "record", "-o", trace, "--", bin, "30")
	l, err := out.ReadString('\n')
	if err != nil || !strings.HasPrefix(l, "pid ") {
		t.Fatalf("first line %q, %v", l, err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(l, "pid ")))
	waitLine(t, out, "ready")
	time.Sleep(200 * time.Millisecond)
	// The target says how many of its 1-byte writes it has made.
	syscall.Kill(pid, syscall.SIGUSR1)
	l, err = out.ReadString('\n')
	var n int
	if _, err2 := fmt.Sscanf(l, "alive %d", &n); err != nil || err2 != nil || n == 0 {
		t.Fatalf("alive line %q: %v %v", l, err, err2)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitCodeOf(cmd.Wait()); code != 128+int(syscall.SIGINT) && code != 128+int(syscall.SIGKILL) {
		t.Errorf("exit %d", code)
	}
	if _, err := os.Stat(trace + ".partial"); !os.IsNotExist(err) {
		t.Errorf("trace left partial: %v", err)
	}
	_, evs, complete := readTrace(t, trace)
	if !complete {
		t.Error("interrupted recording has no index")
	}
	if len(evs) == 0 {
		t.Fatal("empty trace")
	}
	writes, aliveSeen := 0, false
	for _, ev := range evs {
		s := ev.GetSyscall()
		if s == nil || s.Nr != int32(unix.SYS_WRITE) || len(s.Mem) == 0 {
			continue
		}
		switch d := string(s.Mem[0].Data); {
		case d == "x":
			writes++
		case d == l:
			aliveSeen = true
		}
	}
	if writes < n || !aliveSeen {
		t.Errorf("trace has %d writes and alive line %v; the target had made %d writes and printed %q", writes, aliveSeen, n, l)
	}
	last := evs[len(evs)-1]
	if p := last.GetProcess(); p == nil || p.Kind != tracepb.ProcessKind_PROCESS_KIND_EXIT || p.Pid != int32(pid) {
		t.Errorf("last event is not the target's exit: %v", last)
	}
}
