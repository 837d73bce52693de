package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/internal/testbin"
	"golang.org/x/sys/unix"
)

// hermesAt runs hermes in dir.
func hermesAt(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(hermesBin, args...)
	cmd.Dir = dir
	return runCommand(t, cmd)
}

// runCommand runs cmd and returns its stdout, stderr and exit status.
func runCommand(t *testing.T, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// treeState describes every file below dir: type, mode, size, mtime and
// contents, so that two states differ if any byte or time differs.
func treeState(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v %d %d", strings.TrimPrefix(path, dir), info.Mode(), info.Size(), info.ModTime().UnixNano())
		if info.IsDir() {
			line = fmt.Sprintf("%s %v", strings.TrimPrefix(path, dir), info.Mode()) // its times change as we look
		}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

// TestReplayView records real programs that change the files they work
// on, in their own directory with the trace written there under its
// default name, and replays each twice: the output is the recorded one
// byte for byte, there is no divergence, and the real directory is byte
// for byte and mtime for mtime what the recording left.
func TestReplayView(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the view as an ordinary user is TestReplayViewUnprivileged's")
	}
	script := `ls; cat old.txt; echo one > new.txt; mkdir d; echo two > d/f; mv d e; mv new.txt e/g; rm old.txt; ls; ls e`
	tests := []struct {
		name  string
		tools []string
		setup func(t *testing.T, dir string)
		argv  []string
	}{
		{"python listing its directory", []string{"python3"}, nil,
			[]string{"python3", "-c", `import json, os; print(json.dumps(sorted(os.listdir("."))))`}},
		{"git commit", []string{"git"}, func(t *testing.T, dir string) {
			for _, args := range [][]string{{"init", "-q", "."}, {"config", "user.email", "a@example.com"}, {"config", "user.name", "A"}} {
				if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
					t.Fatalf("git %v: %v\n%s", args, err, out)
				}
			}
			writeFile(t, filepath.Join(dir, "f.txt"), "hello\n")
		}, []string{"sh", "-c", "git add f.txt && git commit -q -m first && git log --format=%s && git status --short"}},
		{"tar czf", []string{"tar"}, func(t *testing.T, dir string) {
			for i := range 40 {
				writeFile(t, filepath.Join(dir, "src", fmt.Sprintf("f%d", i)), strings.Repeat("x", i*100))
			}
		}, []string{"sh", "-c", "tar czf x.tgz src && tar tzf x.tgz | wc -l"}},
		{"gcc -c into a new object", []string{"gcc"}, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "a.c"), "int f(int x) { return x + 1; }\n")
		}, []string{"gcc", "-c", "a.c", "-o", "a.o"}},
		{"sqlite insert from python", []string{"python3"}, nil, []string{"python3", "-c",
			`import sqlite3; c = sqlite3.connect("t.db"); c.execute("create table if not exists t(x)"); c.execute("insert into t values (1)"); c.commit(); print(c.execute("select count(*) from t").fetchone()[0])`}},
		{"shell creates, renames and deletes", nil, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "old.txt"), "there before\n")
		}, []string{"sh", "-c", script}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			need(t, tc.tools...)
			dir := t.TempDir()
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			recOut, stderr, code := hermesAt(t, dir, append([]string{"record", "--"}, tc.argv...)...)
			if code != 0 {
				t.Fatalf("record: exit %d\n%s", code, stderr)
			}
			after := treeState(t, dir)
			for i := range 2 {
				out, stderr, code := hermesAt(t, dir, "replay", "hermes.trace")
				if code != 0 || out != recOut || !strings.Contains(stderr, "replay: no divergence") {
					t.Fatalf("replay %d: exit %d, stdout %q (recorded %q)\n%s", i+1, code, out, recOut, stderr)
				}
				if now := treeState(t, dir); strings.Join(now, "\n") != strings.Join(after, "\n") {
					t.Fatalf("replay %d changed the real tree:\nafter recording:\n%s\nafter replay:\n%s", i+1, strings.Join(after, "\n"), strings.Join(now, "\n"))
				}
			}
			if tc.name == "shell creates, renames and deletes" {
				if !strings.Contains(recOut, "old.txt") {
					t.Errorf("the recorded listing lacks old.txt: %q", recOut)
				}
				if strings.Contains(recOut, "hermes.trace") {
					t.Errorf("the recorded program saw its own trace: %q", recOut)
				}
				if _, err := os.Stat(filepath.Join(dir, "old.txt")); !os.IsNotExist(err) {
					t.Errorf("old.txt is back in the real directory: %v", err)
				}
			}
		})
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReplayKeepFSAndCheck: --keep-fs holds exactly what the replayed run
// wrote (deletions in its manifest), and --check runs in the view and
// decides the exit status.
func TestReplayKeepFSAndCheck(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for the view")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "old.txt"), "old\n")
	writeFile(t, filepath.Join(dir, "same.txt"), "same\n")
	trace := filepath.Join(t.TempDir(), "run.trace")
	_, stderr, code := hermesAt(t, dir, "record", "-o", trace, "--", "sh", "-c",
		"cat same.txt >/dev/null; echo out > out.txt; mkdir sub; echo x > sub/y; rm old.txt; echo done")
	if code != 0 {
		t.Fatalf("record: %d\n%s", code, stderr)
	}
	// The replay's own writes are kept: the recording's are gone from the
	// view first (pre-images), so the run writes them again.
	keep := filepath.Join(t.TempDir(), "kept")
	out, stderr, code := hermesAt(t, dir, "replay", "--keep-fs", keep, "--check", "test -s out.txt && test ! -e old.txt", trace)
	if code != 0 || out != "done\n" {
		t.Fatalf("replay: exit %d, out %q\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "--check exited with status 0") {
		t.Errorf("no check line:\n%s", stderr)
	}
	var files []string
	_ = filepath.Walk(keep, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, strings.TrimPrefix(path, keep))
		}
		return nil
	})
	sort.Strings(files)
	want := []string{"/" + DeletedManifestName(), filepath.Join(dir, "out.txt"), filepath.Join(dir, "sub", "y")}
	sort.Strings(want)
	if strings.Join(files, " ") != strings.Join(want, " ") {
		t.Errorf("--keep-fs holds %v, want %v", files, want)
	}
	if b, _ := os.ReadFile(filepath.Join(keep, DeletedManifestName())); string(b) != filepath.Join(dir, "old.txt")+"\n" {
		t.Errorf("deleted manifest %q", b)
	}
	// A check that fails decides the status; the target's is printed.
	_, stderr, code = hermesAt(t, dir, "replay", "--check", "test ! -s out.txt", trace)
	if code != 1 || !strings.Contains(stderr, "the target exited with status 0; --check exited with status 1") {
		t.Errorf("failing check: exit %d\n%s", code, stderr)
	}
	// A check command that does not exist: the shell says so, status 127.
	_, stderr, code = hermesAt(t, dir, "replay", "--check", "no-such-command-here", trace)
	if code != 127 || !strings.Contains(stderr, "--check exited with status 127") {
		t.Errorf("missing check command: exit %d\n%s", code, stderr)
	}
	// Bad --keep-fs: a missing parent, a directory with something in it.
	for _, bad := range []string{filepath.Join(dir, "no", "such", "dir"), dir} {
		_, stderr, code = hermesAt(t, dir, "replay", "--keep-fs", bad, trace)
		if code != 125 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "--keep-fs") {
			t.Errorf("--keep-fs %s: exit %d, stderr %q", bad, code, stderr)
		}
	}
}

// DeletedManifestName is fsview.DeletedManifest, spelled out so that this
// test checks the documented name.
func DeletedManifestName() string { return ".hermes-deleted" }

// TestReplayNoPreimages: a trace without pre-images replays as before, in
// a view of the files as they are now, with a one-line note.
func TestReplayNoPreimages(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(t.TempDir(), "run.trace")
	_, stderr, code := hermesAt(t, dir, "record", "--no-preimages", "-o", trace, "--", "sh", "-c", "echo hi > f; cat f")
	if code != 0 {
		t.Fatalf("record: %d\n%s", code, stderr)
	}
	out, stderr, code := hermesAt(t, dir, "replay", trace)
	if !strings.Contains(stderr, "has no pre-images") {
		t.Errorf("no note about missing pre-images:\n%s", stderr)
	}
	if code != 0 || out != "hi\n" {
		t.Errorf("replay: exit %d out %q\n%s", code, out, stderr)
	}
}

// TestReplayViewUnprivileged records and replays as nobody in a directory
// nobody owns: the view is made in a user namespace where the kernel
// allows it; where it does not, replay says so in one line and runs on
// the live file system.
func TestReplayViewUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to become nobody")
	}
	need(t, "setpriv")
	bin := filepath.Join(t.TempDir(), "hermes")
	if out, err := exec.Command("cp", hermesBin, bin).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	for _, d := range []string{filepath.Dir(bin), bin} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Not below t.TempDir(), which only root may enter.
	dir, err := os.MkdirTemp("", "hermes-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "old.txt"), "old\n")
	if err := os.Chown(filepath.Join(dir, "old.txt"), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	asNobody := func(args ...string) (string, string, int) {
		cmd := exec.Command("setpriv", append([]string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", bin}, args...)...)
		cmd.Dir = dir
		return runCommand(t, cmd)
	}
	recOut, stderr, code := asNobody("record", "--", "sh", "-c", "ls; cat old.txt; rm old.txt; echo new > new.txt")
	if code != 0 {
		t.Fatalf("record as nobody: %d\n%s", code, stderr)
	}
	out, stderr, code := asNobody("replay", "hermes.trace")
	switch {
	case strings.Contains(stderr, "no private view"):
		t.Skipf("unprivileged user namespaces are not allowed here:\n%s", stderr)
	case code != 0 || out != recOut || !strings.Contains(stderr, "replay: no divergence"):
		t.Fatalf("replay as nobody: exit %d out %q (recorded %q)\n%s", code, out, recOut, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "old.txt")); !os.IsNotExist(err) {
		t.Errorf("old.txt is back: %v", err)
	}

	// A directory that is there renamed in such a view fails with EXDEV:
	// the divergence says why.
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o777); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := asNobody("record", "-o", "mv.trace", "--", "sh", "-c", "mv sub sub2 && mv sub2 sub"); code != 0 {
		t.Fatalf("record mv: %d\n%s", code, stderr)
	}
	if _, stderr, code := asNobody("replay", "mv.trace"); code != exitDiverged || !strings.Contains(stderr, "returned -1 EXDEV, recorded 0 (the replay's view of the files is made as an ordinary user") {
		t.Errorf("EXDEV in a user's view: exit %d\n%s", code, stderr)
	}

	// Where user namespaces are not allowed (here: a user namespace whose
	// limit on new ones is 0, as some CI images set it), replay says so in
	// one line and runs on the live file system, where old.txt is gone: the
	// recorded cat of it diverges.
	cmd := exec.Command("sh", "-c", `echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --reuid=65534 --regid=65534 --clear-groups "$0" replay hermes.trace`, bin)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 65534, HostID: 65534, Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 65534, HostID: 65534, Size: 1}},
		GidMappingsEnableSetgroups: true}
	var stdout, fallback strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &fallback
	err = cmd.Run()
	if n := strings.Count(fallback.String(), "hermes: no private view of the file system can be made here"); n != 1 {
		t.Fatalf("fallback said %d times (%v):\n%s", n, err, fallback.String())
	}
	if !strings.Contains(fallback.String(), "replaying on the live file system") || !strings.Contains(fallback.String(), "replay diverged") {
		t.Errorf("the fallback did not replay on the live file system:\n%s", fallback.String())
	}
}

// TestReplayWhatIf: a fault injected on replay makes the program take its
// error path and run to its own end (the run departs from the recording),
// with its own exit status, the same output every time (virtual clock,
// seeded random bytes), a --check that decides the status, and the real
// file left as the recording wrote it.
func TestReplayWhatIf(t *testing.T) {
	bin := testbin.C(t, "save")
	dir := t.TempDir()
	trace := filepath.Join(t.TempDir(), "save.trace")
	recOut, stderr, code := hermesAt(t, dir, "record", "-o", trace, "--", bin, "out.txt")
	if code != 0 || !strings.HasSuffix(recOut, "done\n") {
		t.Fatalf("record: exit %d out %q\n%s", code, recOut, stderr)
	}
	real := treeState(t, dir)
	inject := []string{"replay", "--inject", "builtin:enospc", "--param", "prefix=" + dir + "/"}
	var first string
	for i := range 3 {
		out, stderr, code := hermesAt(t, dir, append(inject, trace)...)
		if code != 4 {
			t.Fatalf("what-if %d: exit %d, want the program's 4\n%s", i, code, stderr)
		}
		startLine := strings.SplitN(recOut, "\n", 2)[0]
		if !strings.HasPrefix(out, startLine+"\nfailed at ") {
			t.Fatalf("what-if %d: stdout %q, want the recorded %q then the error path", i, out, startLine)
		}
		if n := strings.Count(stderr, "hermes: replay departed from the recording at 1 call #"); n != 1 ||
			!strings.Contains(stderr, "recorded = 4096, now = -1 ENOSPC") || !strings.Contains(stderr, "the target exited with status 4") {
			t.Fatalf("what-if %d: departure line missing or wrong:\n%s", i, stderr)
		}
		if strings.Contains(stderr, "diverged") {
			t.Fatalf("what-if %d: a divergence:\n%s", i, stderr)
		}
		if i == 0 {
			first = out
		} else if out != first {
			t.Fatalf("what-if %d printed %q, the first printed %q", i, out, first)
		}
	}
	if now := treeState(t, dir); strings.Join(now, "\n") != strings.Join(real, "\n") {
		t.Fatalf("the what-if changed the real tree:\n%s\nnow:\n%s", strings.Join(real, "\n"), strings.Join(now, "\n"))
	}
	// The check runs in the view the what-if left: out.txt is empty there.
	if _, stderr, code := hermesAt(t, dir, append(inject, "--check", "test ! -s out.txt", trace)...); code != 0 {
		t.Errorf("check that out.txt is empty: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := hermesAt(t, dir, append(inject, "--check", "test -s out.txt", trace)...); code != 1 ||
		!strings.Contains(stderr, "the target exited with status 4; --check exited with status 1") {
		t.Errorf("check that out.txt has data: exit %d\n%s", code, stderr)
	}
}

// openPty returns a new pseudo-terminal: its master side (drained into a
// buffer the caller reads after closing the slave) and its slave side.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	return ptmx, pts
}

// TestReplayStdio: a C and a Go program recorded with standard output to
// a file and standard input from a pipe replay with their output to a
// pipe, a terminal or a file, and their input from a file: what they learn
// about their inherited descriptors comes from the recording, and their
// output goes where the replay's goes.
func TestReplayStdio(t *testing.T) {
	need(t, "cat")
	for _, prog := range []struct{ name, bin string }{{"c", "cat"}, {"go", testbin.Go(t, "goecho")}} {
		t.Run(prog.name, func(t *testing.T) {
			dir := t.TempDir()
			trace := filepath.Join(dir, "run.trace")
			outFile := filepath.Join(dir, "rec.out")
			f, err := os.Create(outFile)
			if err != nil {
				t.Fatal(err)
			}
			rec := exec.Command(hermesBin, "record", "-o", trace, "--", prog.bin)
			rec.Stdin = strings.NewReader("alpha\nbeta\n") // a pipe
			rec.Stdout = f
			var stderr strings.Builder
			rec.Stderr = &stderr
			if err := rec.Run(); err != nil {
				t.Fatalf("record: %v\n%s", err, stderr.String())
			}
			f.Close()
			want, _ := os.ReadFile(outFile)
			if len(want) == 0 {
				t.Fatal("the recording printed nothing")
			}
			inFile := filepath.Join(dir, "in.txt")
			writeFile(t, inFile, "something else\n")
			for _, where := range []string{"pipe", "terminal", "file"} {
				t.Run(where, func(t *testing.T) {
					in, err := os.Open(inFile) // input from a file now
					if err != nil {
						t.Fatal(err)
					}
					defer in.Close()
					cmd := exec.Command(hermesBin, "replay", trace)
					cmd.Stdin = in
					var stderr, out strings.Builder
					cmd.Stderr = &stderr
					var got func() string
					switch where {
					case "pipe":
						cmd.Stdout = &out
						got = out.String
					case "terminal":
						master, slave := openPty(t)
						cmd.Stdout = slave
						done := make(chan string)
						go func() {
							b, _ := io.ReadAll(master)
							done <- string(b)
						}()
						got = func() string {
							slave.Close()
							master.SetReadDeadline(time.Now().Add(5 * time.Second))
							return strings.ReplaceAll(<-done, "\r\n", "\n")
						}
					case "file":
						path := filepath.Join(t.TempDir(), "out")
						f, err := os.Create(path)
						if err != nil {
							t.Fatal(err)
						}
						defer f.Close()
						cmd.Stdout = f
						got = func() string { b, _ := os.ReadFile(path); return string(b) }
					}
					err = cmd.Run()
					if s := got(); err != nil || s != string(want) || !strings.Contains(stderr.String(), "replay: no divergence") {
						t.Fatalf("replay to a %s: %v, stdout %q (recorded %q)\n%s", where, err, s, want, stderr.String())
					}
				})
			}
		})
	}
}

// TestPreimages: record keeps what each changed path was, dump and stats
// show it, and a file over --preimage-max is named in one line by replay,
// which cannot restore it.
func TestPreimages(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "small"), "tiny\n")
	writeFile(t, filepath.Join(dir, "big"), strings.Repeat("b", 100))
	trace := filepath.Join(t.TempDir(), "run.trace")
	_, stderr, code := hermesAt(t, dir, "record", "--preimage-max", "50", "-o", trace, "--", "sh", "-c",
		"echo changed > small; echo changed > big; mkdir d; ln -s small link; cat big")
	if code != 0 {
		t.Fatalf("record: %d\n%s", code, stderr)
	}
	out, stderr, code := hermes(t, "dump", trace)
	if code != 0 {
		t.Fatalf("dump: %d\n%s", code, stderr)
	}
	for _, want := range []string{
		fmt.Sprintf("--- pre-image %q: regular file 0644, 5 bytes ---", filepath.Join(dir, "small")),
		fmt.Sprintf("--- pre-image %q: regular file 0644, 100 bytes (contents over --preimage-max: only their digest kept) ---", filepath.Join(dir, "big")),
		fmt.Sprintf("--- pre-image %q: did not exist ---", filepath.Join(dir, "d")),
		fmt.Sprintf("--- pre-image %q: did not exist ---", filepath.Join(dir, "link")),
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("dump lacks %q", want)
		}
	}
	out, _, _ = hermes(t, "stats", trace)
	if !strings.Contains(out, "pre-images: 4 paths, 5 bytes of contents\n") {
		t.Errorf("stats:\n%s", out)
	}
	// A recording narrowed to other calls still keeps them.
	narrow := filepath.Join(t.TempDir(), "narrow.trace")
	writeFile(t, filepath.Join(dir, "gone"), "x")
	if _, stderr, code := hermesAt(t, dir, "record", "-e", "trace=getppid", "-o", narrow, "--", "rm", "gone"); code != 0 {
		t.Fatalf("record -e trace=getppid: %d\n%s", code, stderr)
	}
	if out, _, _ := hermes(t, "stats", narrow); !strings.Contains(out, "pre-images: 1 paths, 1 bytes of contents\n") {
		t.Errorf("narrowed recording: stats:\n%s", out)
	}
	if os.Geteuid() != 0 {
		return
	}
	out, stderr, code = hermesAt(t, dir, "replay", trace)
	line := "hermes: view: cannot restore " + filepath.Join(dir, "big") + ": its contents (100 bytes) were over the recording's --preimage-max\n"
	if strings.Count(stderr, "cannot restore") != 1 || !strings.Contains(stderr, line) {
		t.Errorf("replay did not name the file it cannot restore in one line:\n%s", stderr)
	}
	// Contents past one 4 MiB part come back whole.
	large := strings.Repeat("0123456789abcdef", 5<<16) // 5 MiB
	writeFile(t, filepath.Join(dir, "large"), large)
	writeFile(t, filepath.Join(dir, "large.orig"), large)
	ltrace := filepath.Join(t.TempDir(), "large.trace")
	if _, stderr, code := hermesAt(t, dir, "record", "-o", ltrace, "--", "sh", "-c", "echo more >> large"); code != 0 {
		t.Fatalf("record large: %d\n%s", code, stderr)
	}
	os.Remove(filepath.Join(dir, "large"))
	if _, stderr, code := hermesAt(t, dir, "replay", "--check", "head -c 5242880 large | cmp - large.orig", ltrace); code != 0 || strings.Contains(stderr, "cannot restore") {
		t.Errorf("a 5 MiB pre-image was not restored: exit %d\n%s", code, stderr)
	}
	// The real big file says "changed": so does the replay's cat; small
	// was restored, so the run does not diverge on it.
	if code != 0 || out != "changed\n" {
		t.Errorf("replay: exit %d out %q\n%s", code, out, stderr)
	}
}

// TestRecordHidesTrace: the program being recorded cannot see the trace
// hermes writes beside it, by name or in a listing.
func TestRecordHidesTrace(t *testing.T) {
	dir := t.TempDir()
	out, stderr, code := hermesAt(t, dir, "record", "--", "sh", "-c",
		"ls -a; cat hermes.trace.partial; cat hermes.trace; test -e hermes.trace.partial || echo hidden")
	if code != 0 {
		t.Fatalf("record: exit %d\n%s", code, stderr)
	}
	if out != ".\n..\nhidden\n" {
		t.Errorf("the program saw %q", out)
	}
	if !strings.Contains(stderr, "hermes.trace.partial: No such file or directory") {
		t.Errorf("cat was not told ENOENT:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "hermes.trace")); err != nil {
		t.Errorf("no trace: %v", err)
	}
}

// TestReplayCopyToPipe: cat of a file recorded into a file copies it with
// one copy_file_range; replayed into a pipe, which takes 64 KiB at a time,
// the copy is completed and the whole file comes out, with no divergence.
func TestReplayCopyToPipe(t *testing.T) {
	need(t, "cat")
	dir := t.TempDir()
	var b strings.Builder
	for i := range 30000 {
		fmt.Fprintf(&b, "%d\n", i)
	}
	in := filepath.Join(dir, "big.in")
	writeFile(t, in, b.String())
	f, err := os.Create(filepath.Join(dir, "rec.out"))
	if err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(dir, "cat.trace")
	rec := exec.Command(hermesBin, "record", "-o", trace, "--", "cat", in)
	rec.Stdout = f
	var recErr strings.Builder
	rec.Stderr = &recErr
	if err := rec.Run(); err != nil {
		t.Fatalf("record: %v\n%s", err, recErr.String())
	}
	f.Close()
	out, stderr, code := hermes(t, "replay", trace)
	if code != 0 || out != b.String() || !strings.Contains(stderr, "replay: no divergence") {
		t.Fatalf("replay into a pipe: exit %d, %d bytes of %d\n%s", code, len(out), b.Len(), stderr)
	}
}
