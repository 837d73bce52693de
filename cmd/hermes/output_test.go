package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
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
	"github.com/hermes-trace/hermes/internal/testbin"
	"golang.org/x/sys/unix"
)

// Tests of hermes's own files: trace and record outputs never damage a
// link, a device, a FIFO or another user's file, streams work both ways,
// a broken output pipe ends the run, files are 0600, secrets are redacted.

// fileState is what hermes must leave alone about a file it was pointed
// at: type and mode, inode, owner, device number and bytes (or link
// target).
type fileState struct {
	mode  fs.FileMode
	ino   uint64
	uid   uint32
	rdev  uint64
	bytes string
}

func stateOf(t *testing.T, path string) fileState {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	s := fileState{mode: fi.Mode(), ino: st.Ino, uid: st.Uid, rdev: st.Rdev}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		s.bytes, err = os.Readlink(path)
	case fi.Mode().IsRegular():
		var b []byte
		b, err = os.ReadFile(path)
		s.bytes = string(b)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func unchanged(t *testing.T, path string, before fileState) {
	t.Helper()
	if after := stateOf(t, path); after != before {
		t.Errorf("%s changed: now %+v, was %+v", path, after, before)
	}
}

// runIn runs cmd (at most a minute) and returns its stdout, stderr and
// exit status; cmd.Stdout may be set by the caller.
func runIn(t *testing.T, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &stdout
	}
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%v did not end within a minute; stderr %q", cmd.Args, stderr.String())
	}
	return stdout.String(), stderr.String(), exitCodeOf(err)
}

// hermesIn returns a hermes command running in dir.
func hermesIn(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(hermesBin, args...)
	cmd.Dir = dir
	return cmd
}

// oneLine checks a refusal: exit 125, one "hermes: " line containing msg.
func oneLine(t *testing.T, what string, code int, stderr, msg string) {
	t.Helper()
	if code != 125 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "hermes: ") || !strings.Contains(stderr, msg) {
		t.Errorf("%s: exit %d, stderr %q; want 125 and one line with %q", what, code, stderr, msg)
	}
}

// readFIFO starts a reader of the FIFO at path (cat, a process of ours)
// and returns the function that returns what it read once the writer is
// done. A reader still waiting (nothing ever opened the FIFO for writing)
// is killed.
func readFIFO(t *testing.T, path string) func() []byte {
	t.Helper()
	var out bytes.Buffer
	cat := exec.Command("cat", path)
	cat.Stdout = &out
	if err := cat.Start(); err != nil {
		t.Fatal(err)
	}
	return func() []byte {
		done := make(chan struct{})
		go func() { cat.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cat.Process.Kill()
			<-done
		}
		return out.Bytes()
	}
}

// dumpOf decodes a trace held in memory with hermes dump -.
func dumpOf(t *testing.T, trace []byte) string {
	t.Helper()
	cmd := exec.Command(hermesBin, "dump", "-")
	cmd.Stdin = bytes.NewReader(trace)
	out, stderr, code := runIn(t, cmd)
	if code != 0 {
		t.Fatalf("dump -: exit %d: %s", code, stderr)
	}
	return out
}

// TestOutputNeverDamages points record and trace at a device node, a
// FIFO, symbolic links and a planted NAME.partial link in a scratch
// directory: streams are written through, the rest is refused, and no
// node, link or unrelated file changes.
func TestOutputNeverDamages(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	echo := []string{"--", "/bin/echo", "the command ran"}
	devNull := stateOf(t, "/dev/null")

	t.Run("device node", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("mknod needs root")
		}
		dev := filepath.Join(dir, "null.dev")
		if err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Fatal(err)
		}
		before := stateOf(t, dev)
		for _, cmd := range []string{"record", "trace"} {
			out, stderr, code := runIn(t, hermesIn(dir, append([]string{cmd, "-o", dev}, echo...)...))
			if code != 0 || out != "the command ran\n" {
				t.Errorf("%s -o DEVICE: exit %d, stdout %q, stderr %q", cmd, code, out, stderr)
			}
			unchanged(t, dev, before)
		}
		if _, err := os.Lstat(dev + ".partial"); err == nil {
			t.Errorf("%s.partial created", dev)
		}
	})

	t.Run("link to /dev/null", func(t *testing.T) {
		link := filepath.Join(dir, "null.link")
		os.Symlink("/dev/null", link)
		before := stateOf(t, link)
		for _, cmd := range []string{"record", "trace"} {
			out, stderr, code := runIn(t, hermesIn(dir, append([]string{cmd, "-o", link}, echo...)...))
			if code != 0 || out != "the command ran\n" {
				t.Errorf("%s -o LINK: exit %d, stdout %q, stderr %q", cmd, code, out, stderr)
			}
			unchanged(t, link, before)
			unchanged(t, "/dev/null", devNull)
		}
	})

	t.Run("FIFO", func(t *testing.T) {
		fifo := filepath.Join(dir, "fifo")
		if err := unix.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		before := stateOf(t, fifo)
		read := readFIFO(t, fifo)
		out, stderr, code := runIn(t, hermesIn(dir, append([]string{"record", "-o", fifo}, echo...)...))
		trace := read()
		if code != 0 || out != "the command ran\n" {
			t.Errorf("record -o FIFO: exit %d, stdout %q, stderr %q", code, out, stderr)
		}
		unchanged(t, fifo, before)
		if code == 0 && !strings.Contains(dumpOf(t, trace), `write(1, "the command ran\n", 16) = 16`) {
			t.Errorf("the trace read from the FIFO lacks the write")
		}
		read = readFIFO(t, fifo)
		_, stderr, code = runIn(t, hermesIn(dir, append([]string{"trace", "-e", "trace=write", "-o", fifo}, echo...)...))
		if text := string(read()); code != 0 || !strings.Contains(text, `write(1, "the command ran\n", 16) = 16`) {
			t.Errorf("trace -o FIFO: exit %d, stderr %q, read %q", code, stderr, text)
		}
		unchanged(t, fifo, before)
	})

	t.Run("link to a file", func(t *testing.T) {
		link := filepath.Join(dir, "file.link")
		os.Symlink(victim, link)
		before, vs := stateOf(t, link), stateOf(t, victim)
		for _, cmd := range []string{"record", "trace"} {
			out, stderr, code := runIn(t, hermesIn(dir, append([]string{cmd, "-o", link}, echo...)...))
			oneLine(t, cmd+" -o LINK", code, stderr, "symbolic link")
			if out != "" {
				t.Errorf("%s -o LINK ran the command", cmd)
			}
			unchanged(t, link, before)
			unchanged(t, victim, vs)
		}
	})

	t.Run("planted partial", func(t *testing.T) {
		path := filepath.Join(dir, "x.trace")
		os.Symlink(victim, path+".partial")
		before, vs := stateOf(t, path+".partial"), stateOf(t, victim)
		out, stderr, code := runIn(t, hermesIn(dir, append([]string{"record", "-o", path}, echo...)...))
		oneLine(t, "record over a planted NAME.partial", code, stderr, "symbolic link")
		if out != "" {
			t.Errorf("the command ran")
		}
		unchanged(t, path+".partial", before)
		unchanged(t, victim, vs)
		if _, err := os.Lstat(path); err == nil {
			t.Errorf("%s created", path)
		}
	})

	t.Run("another user's link or FIFO", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("chown needs root")
		}
		// What a user could plant in /tmp for a root hermes: a link to a
		// device, a FIFO to read the trace from.
		dev := filepath.Join(dir, "their.dev")
		if err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "their.link")
		os.Symlink(dev, link)
		unix.Lchown(link, 65534, 65534)
		fifo := filepath.Join(dir, "their.fifo")
		unix.Mkfifo(fifo, 0o666)
		os.Chown(fifo, 65534, 65534)
		for _, p := range []string{link, fifo} {
			before, ds := stateOf(t, p), stateOf(t, dev)
			for _, cmd := range []string{"record", "trace"} {
				out, stderr, code := runIn(t, hermesIn(dir, append([]string{cmd, "-o", p}, echo...)...))
				oneLine(t, cmd+" -o "+p, code, stderr, "owned by uid 65534")
				if out != "" {
					t.Errorf("%s -o %s ran the command", cmd, p)
				}
				unchanged(t, p, before)
				unchanged(t, dev, ds)
			}
		}
	})

	t.Run("hard link", func(t *testing.T) {
		// trace truncates its text file in place: not one with another
		// name (record replaces the name, leaving the other one alone).
		path := filepath.Join(dir, "hard.txt")
		if err := os.Link(victim, path); err != nil {
			t.Fatal(err)
		}
		vs := stateOf(t, victim)
		_, stderr, code := runIn(t, hermesIn(dir, append([]string{"trace", "-o", path}, echo...)...))
		oneLine(t, "trace -o HARDLINK", code, stderr, "hard links")
		unchanged(t, victim, vs)
		if _, stderr, code := runIn(t, hermesIn(dir, append([]string{"record", "-o", path}, echo...)...)); code != 0 {
			t.Errorf("record -o HARDLINK: exit %d, %s", code, stderr)
		}
		unchanged(t, victim, vs)
	})

	t.Run("another user's file", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("chown needs root")
		}
		other := filepath.Join(dir, "other.trace")
		os.WriteFile(other, []byte("theirs\n"), 0o644)
		os.Chown(other, 65534, 65534)
		before := stateOf(t, other)
		for _, cmd := range []string{"record", "trace"} {
			_, stderr, code := runIn(t, hermesIn(dir, append([]string{cmd, "-o", other}, echo...)...))
			oneLine(t, cmd+" -o OTHER", code, stderr, "another user's file")
			unchanged(t, other, before)
		}
	})
}

// TestOutputNeverDamagesNonRoot runs hermes as nobody in a sticky,
// world-writable directory (as /tmp is) where root planted links, a FIFO
// and a device: nothing planted, and no file they point to, changes.
func TestOutputNeverDamagesNonRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to plant files and to become nobody")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("no setpriv")
	}
	// hermes where nobody can run it, and a sticky scratch directory.
	binDir, err := os.MkdirTemp("", "hermes-nobody-bin")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(binDir)
	bin := filepath.Join(binDir, "hermes")
	data, err := os.ReadFile(hermesBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "hermes-nobody-scratch")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, d := range []string{binDir, dir} {
		mode := os.FileMode(0o755)
		if d == dir {
			mode = 0o777 | os.ModeSticky
		}
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
	}
	asNobody := func(args ...string) *exec.Cmd {
		return exec.Command(setpriv, append([]string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", bin}, args...)...)
	}
	echo := []string{"--", "/bin/echo", "the command ran"}

	// A file of nobody's that root's planted links point to.
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("nobody's precious\n"), 0o644)
	os.Chown(victim, 65534, 65534)
	partialLink := filepath.Join(dir, "x.trace.partial")
	link := filepath.Join(dir, "y.trace")
	textLink := filepath.Join(dir, "z.txt")
	fifo := filepath.Join(dir, "fifo")
	dev := filepath.Join(dir, "null.dev")
	for _, l := range []string{partialLink, link, textLink} {
		if err := os.Symlink(victim, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(fifo, 0o666)
	if err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dev, 0o666)
	states := map[string]fileState{}
	for _, p := range []string{victim, partialLink, link, textLink, fifo, dev} {
		states[p] = stateOf(t, p)
	}

	for _, tc := range []struct {
		args []string
		ok   bool // streamed; else refused with msg
		msg  string
	}{
		{[]string{"record", "-o", filepath.Join(dir, "x.trace")}, false, "symbolic link"},
		{[]string{"record", "-o", link}, false, "symbolic link"},
		{[]string{"trace", "-o", textLink}, false, "symbolic link"},
		{[]string{"record", "-o", dev}, true, ""},
		{[]string{"trace", "-o", dev}, true, ""},
		{[]string{"record", "-o", fifo}, true, ""},
	} {
		name := strings.Join(tc.args, " ")
		var read func() []byte
		if tc.args[2] == fifo {
			read = readFIFO(t, fifo)
		}
		out, stderr, code := runIn(t, asNobody(append(tc.args, echo...)...))
		if read != nil {
			if trace := read(); code == 0 && !strings.Contains(dumpOf(t, trace), "the command ran") {
				t.Errorf("%s: the trace read from the FIFO lacks the write", name)
			}
		}
		if tc.ok {
			if code != 0 || out != "the command ran\n" {
				t.Errorf("%s as nobody: exit %d, stdout %q, stderr %q", name, code, out, stderr)
			}
		} else {
			oneLine(t, name+" as nobody", code, stderr, tc.msg)
			if out != "" {
				t.Errorf("%s as nobody: the command ran", name)
			}
		}
		for p, st := range states {
			unchanged(t, p, st)
		}
		if tc.args[0] == "record" {
			if _, err := os.Lstat(tc.args[2] + ".partial"); err == nil && tc.args[2]+".partial" != partialLink {
				t.Errorf("%s: %s.partial left behind", name, tc.args[2])
			}
		}
	}
}

// TestRecordStdoutToDump pipes record -o - into dump - and stats -: the
// trace decodes, and the command's own output went to stderr, after one
// line that says so.
func TestRecordStdoutToDump(t *testing.T) {
	hello := testbin.C(t, "hello")
	dir := t.TempDir()
	var trace bytes.Buffer
	rec := hermesIn(dir, "record", "-o", "-", "--", hello)
	rec.Stdout = &trace
	_, stderr, code := runIn(t, rec)
	const notice = "hermes: the trace goes to standard output; the command's standard output goes to standard error\n"
	if code != 0 || stderr != notice+"hello\n" {
		t.Fatalf("record -o -: exit %d, stderr %q", code, stderr)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("record -o - left files: %v", ents)
	}

	// Through a real pipe, as a shell would: record -o - | dump -.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	rec = hermesIn(dir, "record", "-o", "-", "--", hello, "3")
	rec.Stdout = pw
	dump := hermesIn(dir, "dump", "-")
	dump.Stdin = pr
	var dumpOut, dumpErr bytes.Buffer
	dump.Stdout, dump.Stderr = &dumpOut, &dumpErr
	if err := dump.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	_, _, code = runIn(t, rec)
	pw.Close()
	derr := dump.Wait()
	text := dumpOut.String()
	if code != 3 || derr != nil || !strings.Contains(text, `write(1, "hello\n", 6) = 6`) || !strings.Contains(text, "+++ exited with 3 +++") || dumpErr.Len() != 0 {
		t.Fatalf("record -o - | dump -: record exit %d, dump %v, stderr %q, out:\n%s", code, derr, dumpErr.String(), text)
	}

	st := hermesIn(dir, "stats", "-")
	st.Stdin = bytes.NewReader(trace.Bytes())
	out, serr, code := runIn(t, st)
	if code != 0 || !strings.Contains(out, "write") || !strings.Contains(out, fmt.Sprintf("trace: %d bytes", trace.Len())) {
		t.Errorf("stats -: exit %d, stderr %q, out:\n%s", code, serr, out)
	}

	// A regular file on standard input is read in place.
	file := filepath.Join(dir, "t.trace")
	os.WriteFile(file, trace.Bytes(), 0o600)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := hermesIn(dir, "dump", "-e", "trace=write", "-")
	d.Stdin = f
	if out, serr, code := runIn(t, d); code != 0 || !strings.Contains(out, `write(1, "hello\n", 6) = 6`) {
		t.Errorf("dump - < FILE: exit %d, stderr %q, out %q", code, serr, out)
	}

	// Not a trace, or nothing, on standard input: one line.
	for _, in := range []string{"", "not a trace\n"} {
		d := hermesIn(dir, "dump", "-")
		d.Stdin = strings.NewReader(in)
		_, serr, code := runIn(t, d)
		oneLine(t, fmt.Sprintf("dump - < %q", in), code, serr, "standard input")
	}
}

// TestRecordDevStdout records to the real /dev/stdout (as root, hermes
// could replace the node): it streams, and /dev/stdout is unchanged. It
// first checks the same on a scratch link, so that a hermes that replaces
// its output never gets to touch the real one.
func TestRecordDevStdout(t *testing.T) {
	hello := testbin.C(t, "hello")
	dir := t.TempDir()
	scratch := filepath.Join(dir, "stdout")
	os.Symlink("/proc/self/fd/1", scratch)
	before := stateOf(t, scratch)
	runIn(t, hermesIn(dir, "record", "-o", scratch, "--", hello))
	if stateOf(t, scratch) != before {
		t.Fatalf("record replaced a scratch link to /proc/self/fd/1: not trying the real /dev/stdout")
	}
	if _, err := os.Lstat("/dev/stdout"); err != nil {
		t.Skip("no /dev/stdout")
	}
	dev := stateOf(t, "/dev/stdout")
	var trace bytes.Buffer
	rec := hermesIn(dir, "record", "-o", "/dev/stdout", "--", hello)
	rec.Stdout = &trace
	_, stderr, code := runIn(t, rec)
	unchanged(t, "/dev/stdout", dev)
	if _, err := os.Lstat("/dev/stdout.partial"); err == nil {
		t.Errorf("/dev/stdout.partial exists")
	}
	if code != 0 || !strings.HasSuffix(stderr, "hello\n") {
		t.Fatalf("record -o /dev/stdout: exit %d, stderr %q", code, stderr)
	}
	if text := dumpOf(t, trace.Bytes()); !strings.Contains(text, `write(1, "hello\n", 6) = 6`) {
		t.Errorf("dump of the trace from /dev/stdout:\n%s", text)
	}
}

// TestBrokenOutputPipe: hermes trace -o /dev/stdout -- LOOP | head -1 and
// hermes record -o - -- LOOP | head -c 4096 end soon after the reader
// goes, exit 141 like strace killed by SIGPIPE, and leave no process (the
// target, stopped or not).
func TestBrokenOutputPipe(t *testing.T) {
	loop := testbin.C(t, "loop")
	for _, tc := range []struct {
		args []string
		read func(r *bufio.Reader) (string, error)
	}{
		{[]string{"trace", "-o", "/dev/stdout"}, func(r *bufio.Reader) (string, error) { return r.ReadString('\n') }},
		{[]string{"record", "-o", "-"}, func(r *bufio.Reader) (string, error) {
			b := make([]byte, 4096)
			_, err := io.ReadFull(r, b)
			return string(b), err
		}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// The target says its pid on stderr (hermes's), then loops.
			cmd := exec.CommandContext(ctx, hermesBin, append(tc.args, "--", "sh", "-c", "echo pid $$ >&2; exec \"$0\" 1000000000 getppid", loop)...)
			cmd.Dir = t.TempDir()
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = pw, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			got, rerr := tc.read(bufio.NewReader(pr))
			pr.Close() // head exits
			err = cmd.Wait()
			if ctx.Err() != nil {
				t.Fatalf("hermes %s did not end within 20 s of its output pipe closing (read %v); stderr %q", strings.Join(tc.args, " "), rerr, stderr.String())
			}
			if code := exitCodeOf(err); code != exitBrokenPipe || rerr != nil {
				t.Errorf("exit %d (want %d), read %v, stderr %q", code, exitBrokenPipe, rerr, stderr.String())
			}
			if strings.Contains(stderr.String(), "panic") {
				t.Errorf("stderr: %s", stderr.String())
			}
			// No process left: not the target, stopped or not.
			if !strings.Contains(got, "execve(") && !strings.HasPrefix(got, "HERMTRC") {
				t.Errorf("read %q: neither a trace line nor a trace", got)
			}
			m := regexp.MustCompile(`(?m)^pid (\d+)$`).FindStringSubmatch(stderr.String())
			if m == nil {
				t.Fatalf("no pid on stderr: %q", stderr.String())
			}
			pid, _ := strconv.Atoi(m[1])
			for i := 0; i < 200 && alive(pid); i++ {
				time.Sleep(10 * time.Millisecond)
			}
			if alive(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
				t.Errorf("target %d outlived hermes", pid)
			}
		})
	}
}

// TestOutputMode0600: trace files are 0600, also over an existing 0644
// file of the user's.
func TestOutputMode0600(t *testing.T) {
	dir := t.TempDir()
	for _, cmd := range []string{"trace", "record"} {
		fresh := filepath.Join(dir, cmd+".new")
		old := filepath.Join(dir, cmd+".old")
		os.WriteFile(old, []byte("an old trace\n"), 0o644)
		for _, p := range []string{fresh, old} {
			if _, stderr, code := runIn(t, hermesIn(dir, cmd, "-o", p, "--", "true")); code != 0 {
				t.Fatalf("%s -o %s: exit %d: %s", cmd, p, code, stderr)
			}
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != 0o600 {
				t.Errorf("%s -o %s: mode %v, want -rw-------", cmd, p, fi.Mode())
			}
			if b, _ := os.ReadFile(p); strings.Contains(string(b), "an old trace") {
				t.Errorf("%s -o %s: old contents kept", cmd, p)
			}
		}
	}
}

// TestRecordRedactEnv: environment variables named like secrets are stored
// as a digest; --redact-env adds patterns, --redact-env=none drops the
// defaults.
func TestRecordRedactEnv(t *testing.T) {
	dir := t.TempDir()
	// digest stands for the placeholder of v, which redactedMatches
	// checks.
	digest := func(v string) string { return "placeholder of " + v }
	env := append(os.Environ(), "GITHUB_TOKEN=ghp_not_really", "DB_PASSWORD=hunter2", "MY_CUSTOM=custom-secret", "HERMES_PLAIN=visible")
	headerEnv := func(flags ...string) map[string]string {
		t.Helper()
		trace := filepath.Join(dir, "env.trace")
		cmd := hermesIn(dir, append(append([]string{"record", "-o", trace}, flags...), "--", "true")...)
		cmd.Env = env
		if _, stderr, code := runIn(t, cmd); code != 0 {
			t.Fatalf("record %v: exit %d: %s", flags, code, stderr)
		}
		hdr, _, _, err := format.ReadFile(trace)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, kv := range hdr.Env {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			if match, _ := redactedMatches(m[k], v); match {
				m[k] = digest(v)
			}
		}
		return m
	}
	got := headerEnv("--redact-env", "my_*")
	for k, want := range map[string]string{
		"GITHUB_TOKEN": digest("ghp_not_really"), "DB_PASSWORD": digest("hunter2"),
		"MY_CUSTOM": digest("custom-secret"), "HERMES_PLAIN": "visible",
	} {
		if got[k] != want {
			t.Errorf("%s=%q, want %q", k, got[k], want)
		}
	}
	got = headerEnv("--redact-env=none", "--redact-env=MY_*")
	if got["GITHUB_TOKEN"] != "ghp_not_really" || got["MY_CUSTOM"] != digest("custom-secret") {
		t.Errorf("--redact-env=none --redact-env=MY_*: GITHUB_TOKEN=%q MY_CUSTOM=%q", got["GITHUB_TOKEN"], got["MY_CUSTOM"])
	}
	_, stderr, code := runIn(t, hermesIn(dir, "record", "--redact-env", "[", "--", "true"))
	oneLine(t, "bad --redact-env", code, stderr, "--redact-env")
}

func TestRestoreRedactedEnv(t *testing.T) {
	salt := []byte("0123456789abcdef")
	red := func(v string) string { return redactedValue(salt, v) }
	env := []string{"PATH=/bin", "A_TOKEN=" + red("a"), "B_TOKEN=" + red("b"), "C_TOKEN=" + red("c"), "D_TOKEN=" + red("d")}
	own := map[string]string{"A_TOKEN": "a", "B_TOKEN": "not b", "C_TOKEN": "own c"}
	var lines []string
	logf := func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }
	got := restoreRedactedEnv(env, []string{"C_TOKEN=flag c"}, func(k string) (string, bool) { v, ok := own[k]; return v, ok }, logf)
	want := []string{"PATH=/bin", "A_TOKEN=a", "B_TOKEN=not b", "C_TOKEN=" + red("c"), "D_TOKEN=" + red("d")}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if env[1] != "A_TOKEN="+red("a") {
		t.Error("env modified in place")
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "C_TOKEN from --env") || !strings.Contains(lines[0], "; B_TOKEN (not the recorded value) from hermes's environment") || strings.Contains(lines[0], "A_TOKEN") || !strings.Contains(lines[0], "D_TOKEN left as") {
		t.Errorf("note: %q", lines)
	}
	// setEnv then applies --env as replay does.
	final, _ := setEnv(got, []string{"C_TOKEN=flag c"})
	if final[len(final)-1] != "C_TOKEN=flag c" {
		t.Errorf("after setEnv: %q", final)
	}
	lines = nil
	if out := restoreRedactedEnv([]string{"PATH=/bin"}, nil, func(string) (string, bool) { return "", false }, logf); len(out) != 1 || len(lines) != 0 {
		t.Errorf("nothing redacted: %q, %q", out, lines)
	}
}

// TestOutputTerminal: record refuses a terminal as its output, and dump
// a terminal as its input, in one line, before running anything.
func TestOutputTerminal(t *testing.T) {
	ptmx, pts := openPty(t)
	ptsPath, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", pts.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, ptmx)
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	for _, args := range [][]string{{"record", "-o", "-"}, {"record", "-o", ptsPath}} {
		cmd := hermesIn(dir, append(args, "--", "touch", marker)...)
		cmd.Stdout = pts
		_, stderr, code := runIn(t, cmd)
		oneLine(t, strings.Join(args, " "), code, stderr, "terminal")
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("%v ran the command", args)
		}
	}
	cmd := hermesIn(dir, "dump", "-")
	cmd.Stdin = pts
	_, stderr, code := runIn(t, cmd)
	oneLine(t, "dump - on a terminal", code, stderr, "terminal")
}
