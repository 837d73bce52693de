package inject_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/internal/testbin"
)

func TestDenyThirdWrite(t *testing.T) {
	p := probe(t)
	out := filepath.Join(t.TempDir(), "out")
	r := runLua(t, `
hermes.trap{"write"}
local n = 0
function on_syscall(ev)
  if ev.fdpath == "`+out+`" then
    n = n + 1
    if n == 3 then hermes.deny(hermes.ENOSPC) end
  end
end
`, inject.Options{}, p, "writes", out, "5")
	expectLines(t, r.stdout, "write 1: ok", "write 2: ok", "write 3: ENOSPC", "write 4: ok", "write 5: ok")
	if b, _ := os.ReadFile(out); string(b) != "xxxx" {
		t.Errorf("file holds %q, want 4 bytes", b)
	}
	if st := r.engine.Stats(); st.Injected != 1 {
		t.Errorf("stats %+v, want 1 injected", st)
	}
}

func TestDenyByNameAndNth(t *testing.T) {
	p := probe(t)
	out := filepath.Join(t.TempDir(), "out")
	// ev.nth counts writes per process: stdout lines count too, so match
	// on the fd path and use nth only in the log.
	r := runLua(t, `
hermes.trap{"write"}
function on_syscall(ev)
  if ev.fdpath == "`+out+`" and ev.count == 1 and hermes.state.n == nil then
    hermes.state.n = ev.nth
    hermes.deny("EIO")
    hermes.log("denied", ev.nth)
  end
end
`, inject.Options{}, p, "writes", out, "2")
	expectLines(t, r.stdout, "write 1: EIO", "write 2: ok")
	if !regexp.MustCompile(`hermes: \[1\] write: denied\t\d+\n`).MatchString(r.log) {
		t.Errorf("log %q lacks the hermes.log line", r.log)
	}
}

func TestRewritePath(t *testing.T) {
	p := probe(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("contents of a\n"), 0o644)
	os.WriteFile(b, []byte("contents of b\n"), 0o644)
	r := runLua(t, `
hermes.trap{"openat", "open"}
function on_syscall(ev)
  if ev.path == "`+a+`" then hermes.modify_arg(2, "`+b+`") end
end
`, inject.Options{}, p, "open", a)
	expectLines(t, r.stdout, "open "+a+": contents of b")
}

func TestRetAndOnReturn(t *testing.T) {
	p := probe(t)
	r := runLua(t, `
hermes.trap{"getppid"}
function on_syscall(ev)
  if ev.nth == 2 then hermes.ret(4242) end
end
function on_return(ev)
  if ev.nth == 3 then hermes.deny("ECHILD") end
  if ev.nth == 1 and ev.ret < 0 then error("ret " .. ev.ret) end
end
`, inject.Options{}, p, "getppid", "3")
	got := lines(r.stdout)
	if len(got) != 3 || got[1] != "getppid 2: 4242" || got[2] != "getppid 3: ECHILD" || strings.HasSuffix(got[0], "4242") {
		t.Errorf("got %q", got)
	}
	if r.log != "" {
		t.Errorf("log: %s", r.log)
	}
}

func TestDelay(t *testing.T) {
	p := probe(t)
	r := runLua(t, `
hermes.trap{"getppid"}
function on_syscall(ev) hermes.delay(60) end
`, inject.Options{}, p, "delay")
	m := regexp.MustCompile(`getppid took (\d+) us`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("output %q", r.stdout)
	}
	if us, _ := strconv.Atoi(m[1]); us < 60000 {
		t.Errorf("getppid took %dus, want >= 60ms", us)
	}
}

func TestDelayAndModifyCompose(t *testing.T) {
	p := probe(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(b, []byte("B\n"), 0o644)
	start := time.Now()
	r := runLua(t, `
hermes.trap{"openat"}
function on_syscall(ev)
  if ev.path == "`+a+`" then
    hermes.modify_arg(2, "`+b+`")
    hermes.delay(50)
  end
end
`, inject.Options{}, p, "open", a)
	expectLines(t, r.stdout, "open "+a+": B")
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("run took %v, want >= 50ms", d)
	}
}

func TestSignal(t *testing.T) {
	p := probe(t)
	r := runLua(t, `
hermes.trap{"getppid"}
function on_syscall(ev) hermes.signal("SIGUSR1") end
`, inject.Options{}, p, "signal")
	expectLines(t, r.stdout, "got SIGUSR1")
	r = runLua(t, `
hermes.trap{"getppid"}
function on_syscall(ev) hermes.signal(hermes.SIGUSR1) end
`, inject.Options{}, p, "signal")
	expectLines(t, r.stdout, "got SIGUSR1")
}

func TestKill(t *testing.T) {
	p := probe(t)
	r := runLua(t, `
hermes.trap{"getppid"}
function on_syscall(ev) if ev.nth == 2 then hermes.kill() end end
`, inject.Options{}, p, "getppid", "3")
	if r.res.Signal != 9 || r.res.ExitCode != 137 {
		t.Errorf("result %+v, want killed by 9", r.res)
	}
	got := lines(r.stdout)
	if len(got) != 1 || !strings.HasPrefix(got[0], "getppid 1: ") {
		t.Errorf("output %q", got)
	}
}

func TestOnProcessAndOnExit(t *testing.T) {
	p := probe(t)
	r := runLua(t, `
hermes.trap{"getppid"}
local kinds = {}
function on_syscall(ev) end
function on_process(ev)
  kinds[#kinds+1] = ev.kind
  if ev.kind == "exit" then hermes.log("exit status", ev.status, ev.lineage) end
end
function on_exit(s)
  hermes.log("summary", s.exit_code, s.calls, table.concat(kinds, ","))
end
`, inject.Options{}, p, "getppid", "2")
	if !strings.Contains(r.log, "hermes: [1] exit: exit status\t0\t1\n") {
		t.Errorf("log lacks the exit event: %q", r.log)
	}
	if !regexp.MustCompile(`hermes: test.lua: summary\t0\t2\t(\w+,)*exit\n`).MatchString(r.log) {
		t.Errorf("log lacks the summary: %q", r.log)
	}
}

func TestEventFields(t *testing.T) {
	p := probe(t)
	r := runLua(t, `
hermes.trap{"openat"}
function on_syscall(ev)
  if ev.path ~= "/nonexistent/hermes-probe" then return end
  hermes.log(ev.name, ev.nr, ev.fd, ev.flags, ev.args[1], ev.args[3], #ev.args, ev.comm, ev.pid > 0, ev.tid == ev.pid, ev.lineage, ev.seq > 0, ev.exit, ev.ret, ev.errno, ev.count)
end
function on_return(ev)
  if ev.path ~= "/nonexistent/hermes-probe" then return end
  hermes.log("ret", ev.ret, ev.errno, ev.exit)
end
`, inject.Options{}, p, "fdcwd")
	expectLines(t, r.stdout, "openat: ENOENT")
	want := "hermes: [1] openat: openat\t257\t-100\t524288\t-100\t524288\t4\tprobe\ttrue\ttrue\t1\ttrue\tfalse\tnil\tnil\tnil\n" +
		"hermes: [1] openat: ret\t-2\tENOENT\ttrue\n"
	if r.log != want {
		t.Errorf("log\n%q\nwant\n%q", r.log, want)
	}
}

// TestWriteFields: @write traps every call that writes file data, and the
// event says which descriptor it writes to (ev.outfd: copy_file_range's
// third argument), its byte count, and whether that is a standard
// descriptor the run started with.
func TestWriteFields(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "src"), []byte(strings.Repeat("s", 8192)), 0o644)
	os.WriteFile(filepath.Join(dir, "big"), []byte(strings.Repeat("b", 100)), 0o644)
	r := runLua(t, `
hermes.trap{"@write"}
function on_syscall(ev)
  local out = ev.outpath
  if out ~= nil then out = out:gsub(".*/", ""):gsub("^stdout%d+$", "STDOUT") end
  local exe = ev.exe:gsub(".*/", "")
  hermes.log(ev.outfd ~= nil and ev.outfd == ev.iofd, out, ev.count, ev.count_arg, ev.stdio, exe)
end
`, inject.Options{}, testbin.C(t, "writekinds"), dir, "copy_file_range", "sendfile", "splice", "ftruncate-grow", "ftruncate-shrink", "ficlone")
	for _, w := range []string{
		"] copy_file_range: true\tcopy_file_range.out\t100\t5\tfalse\twritekinds\n",
		"] write: true\tSTDOUT\t21\t3\ttrue\twritekinds\n", // "copy_file_range: 100\n"
		"] sendfile: true\tsendfile.out\t100\t4\tfalse\twritekinds\n",
		"] splice: true\tsplice.out\t100\t5\tfalse\twritekinds\n",
		"] ftruncate: true\tftruncate-grow.out\tnil\tnil\tfalse\twritekinds\n",
		"] ftruncate: false\tnil\tnil\tnil\tfalse\twritekinds\n", // shrinks: writes no data
		"] ioctl: true\tficlone.out\tnil\tnil\tfalse\twritekinds\n",
	} {
		if !strings.Contains(r.log, w) {
			t.Errorf("log lacks %q:\n%s", w, r.log)
		}
	}
	if n := strings.Count(r.log, "] ioctl: true"); n != 1 {
		t.Errorf("%d ioctls, want the one FICLONE:\n%s", n, r.log)
	}
}
