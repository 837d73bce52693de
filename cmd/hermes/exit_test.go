package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/hermes-trace/hermes/internal/testbin"
)

// TestReplayExitStatuses checks the status of each way a replay ends, and
// which wins when several apply: hermes's own failure, then a divergence,
// then --check's status, then the target's.
func TestReplayExitStatuses(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "in.txt")
	os.WriteFile(file, []byte("recorded content\n"), 0o644)
	trace, out, code := recordRun(t, nil, testbin.C(t, "envdiv"), file)
	if code != 0 || !strings.Contains(out, "recorded content") {
		t.Fatalf("record: exit %d, output %q", code, out)
	}
	hello42, _, code := recordRun(t, nil, testbin.C(t, "hello"), "42")
	if code != 42 {
		t.Fatalf("record hello 42: exit %d", code)
	}
	// A recording of a running process, from when hermes attached to it
	// until it ended.
	attached := filepath.Join(dir, "attached.trace")
	target := exec.Command(testbin.C(t, "sleeper"), "0.5")
	tout, _ := target.StdoutPipe()
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	waitLine(t, bufio.NewReader(tout), "ready")
	pid := strconv.Itoa(target.Process.Pid)
	if _, stderr, code := hermes(t, "record", "-o", attached, "-p", pid); code != 0 {
		t.Fatalf("record -p: exit %d\n%s", code, stderr)
	}
	target.Wait()
	same := func() { os.WriteFile(file, []byte("recorded content\n"), 0o644) }
	changed := func() { os.WriteFile(file, []byte("recorded CONTENT\n"), 0o644) }
	for _, tc := range []struct {
		name   string
		input  func()
		args   []string
		code   int
		stderr string // a line stderr must have
		not    string // what stderr must not say
	}{
		{"clean: the target's status", same, []string{hello42}, 42, "replay: no divergence", "diverged"},
		{"check over the target's status", same, []string{"--check", "exit 7", hello42}, 7, "replay: no divergence", "diverged"},
		{"divergence", changed, []string{trace}, exitDiverged, "hermes: replay diverged at 1 call #", "no divergence"},
		{"lenient divergence", changed, []string{"--lenient", trace}, exitDiverged, "divergences (--lenient)", "no divergence"},
		{"divergence over check", changed, []string{"--check", "exit 7", trace}, exitDiverged, "hermes: replay diverged", "no divergence"},
		{"lenient divergence over check", changed, []string{"--lenient", "--check", "exit 0", trace}, exitDiverged, "divergences (--lenient)", "no divergence"},
		{"attached recording", same, []string{attached}, exitError, "recorded by attaching to a running process (-p " + pid + "): it has no start to replay from", "diverged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.input()
			_, stderr, code := hermes(t, append([]string{"replay"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) || strings.Contains(stderr, tc.not) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d, %q and not %q", code, stderr, tc.code, tc.stderr, tc.not)
			}
		})
	}
}

// TestReplayInterrupted sends SIGINT to a replay: it ends with 128+SIGINT
// and says it was interrupted, not that nothing diverged.
func TestReplayInterrupted(t *testing.T) {
	trace, _, code := recordRun(t, nil, testbin.C(t, "sleeper"), "1")
	if code != 0 {
		t.Fatalf("record: exit %d", code)
	}
	// Real clocks: the replay sleeps as long as the recording did.
	cmd := exec.Command(hermesBin, "replay", "--emulate=-time", trace)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitLine(t, bufio.NewReader(pipe), "ready")
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	if code := exitCodeOf(err); code != 128+int(syscall.SIGINT) || strings.Contains(stderr.String(), "no divergence") ||
		!strings.Contains(stderr.String(), "replay: interrupted") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

// TestDumpNoMatch: a --pid or --lineage that selects nothing says so.
func TestDumpNoMatch(t *testing.T) {
	trace, _, _ := recordRun(t, nil, testbin.C(t, "hello"))
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--pid", "999999"}, exitNoMatch, "no event matched --pid 999999"},
		{[]string{"--lineage", "foo"}, exitNoMatch, "no event matched --lineage foo"},
		{[]string{"--lineage", "1"}, 0, ""},
	} {
		stdout, stderr, code := hermes(t, append(append([]string{"dump"}, tc.args...), trace)...)
		if code != tc.code || (tc.msg == "" && (stderr != "" || stdout == "")) ||
			(tc.msg != "" && (stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.msg))) {
			t.Errorf("dump %v: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, stdout, stderr, tc.code, tc.msg)
		}
	}
}
