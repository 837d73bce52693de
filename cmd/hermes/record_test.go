package main

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/internal/testbin"
)

func TestRecordDumpStats(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "run.trace")
	hello := testbin.C(t, "hello")
	stdout, stderr, code := hermes(t, "record", "-o", trace, "--", hello, "3")
	if code != 3 || stdout != "hello\n" {
		t.Fatalf("record: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(trace + ".partial"); !os.IsNotExist(err) {
		t.Fatalf("partial file left behind: %v", err)
	}
	text, stderr, code := hermes(t, "dump", trace)
	if code != 0 || !strings.Contains(text, `write(1, "hello\n", 6) = 6`) || !strings.Contains(text, "+++ exited with 3 +++") || stderr != "" {
		t.Fatalf("dump: exit %d, stderr %q, out:\n%s", code, stderr, text)
	}
	js, _, code := hermes(t, "dump", "--json", "-e", "trace=write", trace)
	type jsonEv struct {
		Name string `json:"name"`
		Ret  int64  `json:"ret"`
		Regs string `json:"regs"`
		Text string `json:"text"`
	}
	lines := strings.Split(strings.TrimSpace(js), "\n")
	var writes int
	for _, l := range lines {
		var ev jsonEv
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
		if ev.Name == "write" {
			writes++
			if ev.Ret != 6 || len(ev.Regs) != 2*216 || ev.Text != `write(1, "hello\n", 6) = 6` {
				t.Errorf("write event: %+v", ev)
			}
		}
	}
	if code != 0 || writes != 1 {
		t.Fatalf("dump --json: exit %d, %d writes", code, writes)
	}
	st, _, code := hermes(t, "stats", trace)
	if code != 0 || !strings.Contains(st, "write") || !strings.Contains(st, "total") || !strings.Contains(st, "bytes/event") {
		t.Fatalf("stats: exit %d:\n%s", code, st)
	}
}

// TestRecordKilled kills hermes with SIGKILL while it records a busy
// target: the partial trace keeps every completed chunk, and dump reads it
// and says what it recovered.
func TestRecordKilled(t *testing.T) {
	dir := t.TempDir()
	partial := killedRecording(t, dir, 64<<10)
	out, stderr, code := hermes(t, "dump", "-e", "trace=getppid", partial)
	n := strings.Count(out, "getppid() = ")
	if code != 0 || n < 1000 || !strings.Contains(stderr, "partial trace: recovered") {
		t.Fatalf("dump of killed recording: exit %d, %d getppid lines, stderr %q", code, n, stderr)
	}
}

// killedRecording records a busy getppid loop into dir, kills hermes with
// SIGKILL once the partial trace holds more than size bytes, and returns
// the partial trace's path.
func killedRecording(t *testing.T, dir string, size int64) string {
	t.Helper()
	trace := filepath.Join(dir, "busy.trace")
	cmd, _ := startHermes(t, "record", "-o", trace, "--", testbin.C(t, "loop"), "100000000", "getppid")
	partial := trace + ".partial"
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(partial); err == nil && fi.Size() > size {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("trace did not grow")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	return partial
}

func TestRecordBadInput(t *testing.T) {
	dir := t.TempDir()
	notTrace := filepath.Join(dir, "not.trace")
	os.WriteFile(notTrace, []byte("hello, I am not a trace\n"), 0o644)
	good := filepath.Join(dir, "good.trace")
	if _, _, code := hermes(t, "record", "-o", good, "--", "true"); code != 0 {
		t.Fatal("record true failed")
	}
	data, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "trunc.trace")
	os.WriteFile(truncated, data[:10], 0o644)
	newer := filepath.Join(dir, "newer.trace")
	nd := append([]byte(nil), data...)
	nd[8] = 9 // major version, little-endian u16 after the 8-byte magic
	os.WriteFile(newer, nd, 0o644)
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"missing file", []string{"dump", filepath.Join(dir, "nope.trace")}, "no such file"},
		{"not a trace", []string{"dump", notTrace}, "not a hermes trace"},
		{"truncated header", []string{"stats", truncated}, "truncated"},
		{"newer major", []string{"dump", newer}, "newer"},
		{"output onto a directory", []string{"record", "-o", dir, "--", "true"}, "is a directory"},
		{"output in a missing directory", []string{"record", "-o", filepath.Join(dir, "no/such/x.trace"), "--", "true"}, "no such file"},
		{"missing command", []string{"record"}, "missing command"},
		{"pid zero", []string{"record", "-p", "0"}, `"0" is not a process id`},
		{"unwritable output", []string{"record", "-o", "/proc/hermes.trace", "--", "true"}, "/proc/hermes.trace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := hermes(t, tc.args...)
			if code != 125 || strings.Count(stderr, "\n") != 1 || !strings.Contains(strings.ToLower(stderr), strings.ToLower(tc.msg)) {
				t.Fatalf("exit %d, stderr %q; want 125 and one line with %q", code, stderr, tc.msg)
			}
		})
	}
}

// TestRecordMsghdr checks that sendmsg's iovecs are recorded as what the
// kernel read and recvmsg's buffer and control data as what it wrote.
func TestRecordMsghdr(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "msg.trace")
	out, _, code := hermes(t, "record", "-o", trace, "--", testbin.C(t, "msg"))
	if code != 0 || out != "hello, msghdr\n" {
		t.Fatalf("record: exit %d, stdout %q", code, out)
	}
	js, _, _ := hermes(t, "dump", "--json", "-e", "trace=sendmsg,recvmsg", trace)
	type mem struct {
		Kind string `json:"kind"`
		Data string `json:"data"`
	}
	got := map[string]map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(js), "\n") {
		var ev struct {
			Name string `json:"name"`
			Mem  []mem  `json:"mem"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Name == "" {
			continue
		}
		got[ev.Name] = map[string]bool{}
		for _, m := range ev.Mem {
			b, _ := hex.DecodeString(m.Data)
			got[ev.Name][m.Kind+" "+string(b)] = true
		}
	}
	for name, want := range map[string][]string{
		"sendmsg": {"in hello, ", "in msghdr\n"},
		"recvmsg": {"out hello, msghdr\n"},
	} {
		for _, w := range want {
			if !got[name][w] {
				t.Errorf("%s: no capture %q in %v", name, w, got[name])
			}
		}
	}
	// The control data (SCM_CREDENTIALS: level SOL_SOCKET, type 2) too.
	var ctl bool
	for k := range got["recvmsg"] {
		d := strings.TrimPrefix(k, "out ")
		ctl = ctl || (d != k && len(d) >= 16 && d[8:16] == "\x01\x00\x00\x00\x02\x00\x00\x00")
	}
	if !ctl {
		t.Errorf("recvmsg: no control data in %v", got["recvmsg"])
	}
}

// TestRecordTimePrecision checks that event times are rounded as
// --time-precision says, and that the header says so.
func TestRecordTimePrecision(t *testing.T) {
	hello := testbin.C(t, "hello")
	for _, tc := range []struct {
		flag string
		res  int64
	}{
		{"", 1000},
		{"--time-precision=ns", 1},
		{"--time-precision=us", 1000},
		{"--time-precision=ms", 1000000},
	} {
		t.Run(strings.TrimPrefix(tc.flag, "--"), func(t *testing.T) {
			trace := filepath.Join(t.TempDir(), "run.trace")
			args := []string{"record", "-o", trace}
			if tc.flag != "" {
				args = append(args, tc.flag)
			}
			if _, stderr, code := hermes(t, append(args, "--", hello)...); code != 0 {
				t.Fatalf("record: exit %d: %s", code, stderr)
			}
			hdr, evs, _ := readTrace(t, trace)
			if got := hdr.TimeResolutionNs; got != tc.res {
				t.Errorf("header time_resolution_ns %d, want %d", got, tc.res)
			}
			var times []int64
			for _, ev := range evs {
				if s := ev.GetSyscall(); s != nil {
					times = append(times, s.EnterNs, s.ExitNs)
				} else {
					times = append(times, ev.GetProcess().TimeNs)
				}
			}
			odd := 0
			for _, ns := range times {
				if ns%tc.res != 0 {
					t.Fatalf("time %d is not a multiple of %d", ns, tc.res)
				}
				if ns%1000 != 0 {
					odd++
				}
			}
			// At nanosecond precision, some of the times are not whole
			// microseconds (all of them being so is a 1 in 1000^n chance).
			if tc.res == 1 && odd == 0 {
				t.Errorf("all %d times are whole microseconds at ns precision", len(times))
			}
		})
	}
	if _, stderr, code := hermes(t, "record", "--time-precision=s", "--", hello); code != 125 || !strings.Contains(stderr, "not ns, us or ms") {
		t.Errorf("bad --time-precision: exit %d, %q", code, stderr)
	}
}

// TestRecordProgress runs record with stderr on a terminal: it shows a
// progress line while the target runs and erases it at the end. With
// stderr not a terminal, nothing of it is printed.
func TestRecordProgress(t *testing.T) {
	// A second of a target writing every 10 ms: several 250 ms ticks,
	// however fast the machine.
	sleeper := testbin.C(t, "sleeper")
	args := []string{"record", "-o", filepath.Join(t.TempDir(), "run.trace"), "--", sleeper, "1"}

	ptmx, pts := openPty(t)
	cmd := exec.Command(hermesBin, args...)
	cmd.Stderr = pts
	out := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(ptmx) // ends with EIO once the last slave fd closes
		out <- b
	}()
	if err := cmd.Run(); err != nil {
		t.Fatalf("record: %v", err)
	}
	pts.Close()
	got := string(<-out)
	if !strings.Contains(got, "\r\x1b[Khermes: ") || !strings.Contains(got, " events, ") || !strings.Contains(got, " events/s") {
		t.Errorf("no progress line on the terminal: %q", got)
	}
	if !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("progress line not erased at the end: %q", got)
	}

	if _, stderr, code := hermes(t, args...); code != 0 || stderr != "" {
		t.Errorf("stderr not a terminal: exit %d, stderr %q", code, stderr)
	}
}

// TestDumpTimestamps checks dump's strace-style -t, -tt, -ttt, -r and -T,
// on a recording of date, whose clock read hermes answers at the entry
// stop: -ttt of that line is the time it returned, give or take the
// microseconds between the two clock reads (1.5 ms off if event times did
// not count from the header's start time).
func TestDumpTimestamps(t *testing.T) {
	date, err := exec.LookPath("date")
	if err != nil {
		t.Skip("no date")
	}
	trace := filepath.Join(t.TempDir(), "run.trace")
	if _, stderr, code := hermes(t, "record", "-o", trace, "--", date, "+%s.%N"); code != 0 {
		t.Fatalf("record: exit %d: %s", code, stderr)
	}
	for _, tc := range []struct {
		flags []string
		line  string // every line
	}{
		{[]string{"-t"}, `^\d+ \d\d:\d\d:\d\d \S`},
		{[]string{"-tt"}, `^\d+ \d\d:\d\d:\d\d\.\d{6} \S`},
		{[]string{"-ttt"}, `^\d+ \d{10}\.\d{6} \S`},
		{[]string{"-r"}, `^\d+ +\d+\.\d{6} \S`},
		{[]string{"-tt", "-r"}, `^\d+ \d\d:\d\d:\d\d\.\d{6} \(\+ +\d+\.\d{6}\) \S`},
		{[]string{"-T"}, `^\d+ (.* <\d+\.\d{6}>|exit_group\(.*\) = \?|\+\+\+ .*)$`},
	} {
		t.Run(strings.Join(tc.flags, " "), func(t *testing.T) {
			out, stderr, code := hermes(t, append(append([]string{"dump"}, tc.flags...), trace)...)
			if code != 0 || stderr != "" {
				t.Fatalf("dump %s: exit %d: %s", tc.flags, code, stderr)
			}
			re := regexp.MustCompile(tc.line)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			for _, l := range lines {
				if !re.MatchString(l) {
					t.Fatalf("line %q does not match %s", l, tc.line)
				}
			}
			switch tc.flags[0] {
			case "-ttt":
				clock := regexp.MustCompile(`^\d+ (\d+)\.(\d{6}) clock_gettime\(CLOCK_REALTIME, \{tv_sec=(\d+), tv_nsec=(\d+)\}\) = 0$`)
				found := false
				for _, l := range lines {
					m := clock.FindStringSubmatch(l)
					if m == nil {
						continue
					}
					found = true
					n := make([]int64, 4)
					for i := range n {
						n[i], _ = strconv.ParseInt(m[i+1], 10, 64)
					}
					stamp, got := time.Unix(n[0], n[1]*1000), time.Unix(n[2], n[3])
					if d := got.Sub(stamp); d < -time.Millisecond || d > 500*time.Microsecond {
						t.Errorf("clock_gettime stamped %v returned %v (%v later)", stamp, got, d)
					}
				}
				if !found {
					t.Errorf("no clock_gettime(CLOCK_REALTIME) line:\n%s", out)
				}
			case "-r":
				if f := strings.Fields(lines[0]); f[1] != "0.000000" {
					t.Errorf("first -r stamp %q, want 0.000000", f[1])
				}
			}
		})
	}
	if _, stderr, code := hermes(t, "dump", "--json", "-T", trace); code != 125 || !strings.Contains(stderr, "--json") {
		t.Errorf("dump --json -T: exit %d, %q", code, stderr)
	}
}

// readTrace reads a whole trace: its header, its events, and whether it
// was complete (closed with its index).
func readTrace(t *testing.T, path string) (*tracepb.TraceHeader, []*tracepb.Event, bool) {
	t.Helper()
	hdr, evs, complete, err := format.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return hdr, evs, complete
}

// TestRecordStacks: record --stacks keeps each call's call sites and dump
// prints them after the call, " > MODULE:SYMBOL+0xOFF" a line, and as
// "frames" with --json; without --stacks there are none.
func TestRecordStacks(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.C(t, "explorestack")
	trace := filepath.Join(dir, "run.trace")
	if out, stderr, code := hermes(t, "record", "--stacks", "-o", trace, "--", bin); code != 0 || out != "one\ntwo\n" {
		t.Fatalf("record --stacks: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	text, stderr, code := hermes(t, "dump", "-e", "trace=write", trace)
	if code != 0 {
		t.Fatalf("dump: exit %d, stderr %q", code, stderr)
	}
	re := regexp.MustCompile(`(?m)^\d+ write\(1, "two\\n", 4\) = 4\n > explorestack:save\+0x[0-9a-f]+\n > explorestack:relay\+0x[0-9a-f]+\n > explorestack:main\+0x[0-9a-f]+\n`)
	if !re.MatchString(text) {
		t.Errorf("dump does not show the second write's frames:\n%s", text)
	}
	js, _, _ := hermes(t, "dump", "--json", "-e", "trace=write", trace)
	var ev struct {
		Name   string   `json:"name"`
		Frames []string `json:"frames"`
	}
	for _, l := range strings.Split(strings.TrimSpace(js), "\n") {
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
		if ev.Name == "write" {
			break
		}
	}
	if ev.Name != "write" || len(ev.Frames) < 2 || !strings.HasPrefix(ev.Frames[0], "explorestack:save+0x") {
		t.Errorf("dump --json: first write's frames %q, want explorestack:save+0x... first", ev.Frames)
	}
	plain := filepath.Join(dir, "plain.trace")
	hermes(t, "record", "-o", plain, "--", bin)
	if text, _, _ := hermes(t, "dump", plain); strings.Contains(text, " > ") {
		t.Errorf("frames without --stacks:\n%s", text)
	}
	if js, _, _ := hermes(t, "dump", "--json", plain); strings.Contains(js, `"frames"`) {
		t.Errorf("frames in JSON without --stacks")
	}
}
