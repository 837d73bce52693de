package inject_test

import (
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/inject"
)

func TestU64Lua(t *testing.T) {
	e, err := inject.LoadSource("u64.lua", []byte(`
local p = hermes.u64("0x7ffd12345678abcd")
assert(tostring(p) == "0x7ffd12345678abcd", tostring(p))
assert(p == hermes.u64("9222547627922992077"))
assert(p + 1 == hermes.u64("0x7ffd12345678abce"))
assert(tostring(p - hermes.u64(0xcd)) == "0x7ffd12345678ab00")
assert(hermes.u64(-100) == hermes.u64("0xffffffffffffff9c"))
assert(hermes.u64(-100):signed() == -100)
assert(hermes.u64("-100"):signed() == -100)
assert(hermes.u64(1) < p and p <= p and not (p < p))
assert(hermes.u64("0xffffffffffffffff") > p) -- unsigned order
assert(hermes.cmp(p, 1) == 1 and hermes.cmp(5, hermes.u64(5)) == 0 and hermes.cmp(-1, 1) == 1)
assert(hermes.band(0x80241, 0x40) == 0x40) -- O_CREAT in O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC
assert(hermes.bor(1, 2, 4) == 7)
assert(hermes.bxor(6, 3) == 5)
assert(hermes.band(p, 0xffff) == hermes.u64(0xabcd))
assert(tostring(hermes.band(p, hermes.u64("0xffff000000000000"))) == "0x7ffd000000000000")
assert(hermes.lshift(1, 62) == hermes.u64("0x4000000000000000") or hermes.lshift(1, 62) == 2^62)
assert(tostring(hermes.lshift(hermes.u64(1), 63)) == "0x8000000000000000")
assert(hermes.rshift(p, 48) == hermes.u64(0x7ffd))
assert(hermes.hex(255) == "0xff" and hermes.hex(-1) == "0xffffffffffffffff")
assert(tostring(hermes.bnot(hermes.u64(0))) == "0xffffffffffffffff")
assert(hermes.bnot(0) == -1)
assert(hermes.tonumber(hermes.u64(12345)) == 12345)
assert(p:hex() == "0x7ffd12345678abcd")
assert("p=" .. p == "p=0x7ffd12345678abcd")
assert(hermes.NULL == hermes.u64(0))
assert(not pcall(hermes.u64, 1.5))
assert(not pcall(hermes.u64, "0x1ffffffffffffffff"))
assert(not pcall(hermes.u64, 2^64))
assert(hermes.errno("ENOSPC") == hermes.ENOSPC and hermes.errname(28) == "ENOSPC")
assert(hermes.SIGUSR1 == 10 and hermes.EACCES == 13)
`), inject.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
}

// TestExact64 passes 64-bit values through ev.args, modify_arg, ret and
// ev.ret on a real program, above 2^53 and negative.
func TestExact64(t *testing.T) {
	p := probe(t)
	for _, tc := range []struct {
		name, script string
		argv         []string
		want         string
	}{
		{
			"read above 2^53 and modify back", `
hermes.trap{"lseek"}
function on_syscall(ev)
  local off = ev.args[2]
  assert(tostring(off) == "0x7ffd12345678abcd", tostring(off))
  assert(off == hermes.u64("0x7ffd12345678abcd"))
  hermes.modify_arg(2, off + 1)
end
function on_return(ev)
  assert(tostring(ev.ret) == "0x7ffd12345678abce", tostring(ev.ret))
end`,
			[]string{"lseek", "0x7ffd12345678abcd"}, "lseek = 0x7ffd12345678abce",
		},
		{
			"write u64 into an offset", `
hermes.trap{"lseek"}
function on_syscall(ev)
  assert(ev.args[2] == 1 and type(ev.args[2]) == "number")
  hermes.modify_arg(2, hermes.u64("0x7ffd12345678abcd"))
end`,
			[]string{"lseek", "1"}, "lseek = 0x7ffd12345678abcd",
		},
		{
			"write u64 from a string", `
hermes.trap{"lseek"}
function on_syscall(ev) hermes.modify_arg(2, hermes.u64("0x40000000000001")) end`,
			[]string{"lseek", "1"}, "lseek = 0x40000000000001",
		},
		{
			"negative beyond 2^53", `
hermes.trap{"lseek"}
function on_syscall(ev)
  assert(tostring(ev.args[2]) == "0xf000000000000000", tostring(ev.args[2]))
  assert(ev.args[2] == hermes.u64("-1152921504606846976"))
  hermes.modify_arg(2, 4096)
end`,
			[]string{"lseek", "-1152921504606846976"}, "lseek = 0x1000",
		},
		{
			"negative exact", `
hermes.trap{"lseek"}
function on_syscall(ev)
  assert(ev.args[2] == -5, tostring(ev.args[2]))
end
function on_return(ev) assert(ev.errno == "EINVAL" and ev.ret == -22) end`,
			[]string{"lseek", "-5"}, "lseek: EINVAL",
		},
		{
			"pointer round trip through ret", `
hermes.trap{"munmap"}
function on_syscall(ev)
  local a = ev.args[1]
  if a ~= hermes.u64("0x7ffd12345678a000") then return end
  assert(type(a) == "userdata" and tostring(a) == "0x7ffd12345678a000", tostring(a))
  assert(ev.args[2] == 4096)
  hermes.ret(a)
end`,
			[]string{"munmap", "0x7ffd12345678a000"}, "munmap = 0x7ffd12345678a000",
		},
		{
			"AT_FDCWD and O_ masks", `
hermes.trap{"openat"}
function on_syscall(ev)
  if ev.path ~= "/nonexistent/hermes-probe" then return end
  assert(ev.args[1] == -100 and ev.fd == -100)
  assert(hermes.band(ev.flags, 0x80000) == 0x80000 and hermes.band(ev.flags, 3) == 0)
  assert(tostring(ev.args[2]):sub(1, 2) == "0x")
  hermes.modify_arg(1, -100) -- a negative number writes its two's complement
  hermes.deny("EXDEV")
end`,
			[]string{"fdcwd"}, "openat: EXDEV",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runLua(t, tc.script, inject.Options{}, append([]string{p}, tc.argv...)...)
			expectLines(t, r.stdout, tc.want)
			if r.log != "" {
				t.Errorf("log: %s", r.log)
			}
			if strings.Contains(r.log, "assert") {
				t.Error("assertion failed")
			}
		})
	}
}
