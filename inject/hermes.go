package inject

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	lua "github.com/yuin/gopher-lua"
)

// constants are hermes.ENOSPC ... and hermes.SIGUSR1 ...: every errno
// name abi knows (aliases included) and every signal name.
var constants = sync.OnceValue(func() map[string]int {
	m := make(map[string]int)
	for e := 1; e <= abi.MaxErrno; e++ {
		if n := abi.ErrnoName(e); n != "" {
			m[n] = e
		}
	}
	for _, alias := range []string{"EWOULDBLOCK", "EDEADLOCK", "ENOTSUP"} {
		if e, ok := abi.ErrnoByName(alias); ok {
			m[alias] = e
		}
	}
	for sig := 1; sig <= abi.SigRTMax; sig++ {
		n := abi.SignalName(sig)
		if strings.HasPrefix(n, "SIG") {
			m[n] = sig
		}
	}
	for _, alias := range []string{"SIGIOT", "SIGPOLL", "SIGCLD", "SIGUNUSED"} {
		if sig, ok := abi.SignalByName(alias); ok {
			m[alias] = sig
		}
	}
	return m
})

// errnoByName accepts "EACCES" and, as strace does, "eacces".
func errnoByName(s string) (int, bool) {
	if e, ok := abi.ErrnoByName(s); ok {
		return e, true
	}
	return abi.ErrnoByName(strings.ToUpper(s))
}

func (s *script) installHermes() {
	L := s.L
	h := L.NewTable()
	s.hermes = h
	for name, v := range constants() {
		h.RawSetString(name, lua.LNumber(v))
	}
	fns := map[string]lua.LGFunction{
		"deny":           s.luaDeny,
		"ret":            s.luaRet,
		"modify_arg":     s.luaModifyArg,
		"delay":          s.luaDelay,
		"signal":         s.luaSignal,
		"kill":           s.luaKill,
		"log":            s.luaLog,
		"rand":           s.luaRand,
		"trap":           s.luaTrap,
		"param":          s.luaParam,
		"u64":            luaU64,
		"band":           bitop(func(a, b uint64) uint64 { return a & b }),
		"bor":            bitop(func(a, b uint64) uint64 { return a | b }),
		"bxor":           bitop(func(a, b uint64) uint64 { return a ^ b }),
		"bnot":           luaBnot,
		"lshift":         shiftop(func(a uint64, n uint) uint64 { return a << n }),
		"rshift":         shiftop(func(a uint64, n uint) uint64 { return a >> n }),
		"hex":            luaHex,
		"tonumber":       luaToNumber,
		"cmp":            luaCmp,
		"errno":          luaErrno,
		"errname":        luaErrname,
		"split":          luaSplit,
		"path_filter":    luaPathFilter,
		"program_filter": luaProgramFilter,
	}
	for name, fn := range fns {
		h.RawSetString(name, L.NewFunction(fn))
	}
	s.state = L.NewTable()
	h.RawSetString("state", s.state)
	h.RawSetString("script", lua.LString(s.name))
	h.RawSetString("seed", lua.LString(strconv.FormatUint(s.e.opts.Seed, 10)))
	h.RawSetString("NULL", newU64(L, 0))
	L.SetGlobal("hermes", h)
}

// action checks that an action function runs inside a syscall callback and
// returns the pending actions.
func (s *script) action(L *lua.LState, fn string, exitOK bool) *pending {
	switch s.c.phase {
	case phaseEnter:
	case phaseExit:
		if !exitOK {
			L.RaiseError("hermes.%s: not allowed in on_return (the call has already run)", fn)
		}
	default:
		L.RaiseError("hermes.%s: only allowed in on_syscall or on_return, not at %s", fn, s.c.phase.hook())
	}
	s.c.p.any = true
	return &s.c.p
}

func checkErrno(L *lua.LState, n int, fn string) int {
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		e := int(v)
		if float64(e) == float64(v) {
			if e < 0 {
				e = -e
			}
			if e >= 1 && e <= abi.MaxErrno {
				return e
			}
		}
		L.RaiseError("hermes.%s: errno %v out of range 1..%d", fn, v, abi.MaxErrno)
	case lua.LString:
		if e, ok := errnoByName(string(v)); ok {
			return e
		}
		if e, err := strconv.Atoi(string(v)); err == nil && e >= 1 && e <= abi.MaxErrno {
			return e
		}
		L.RaiseError("hermes.%s: unknown errno %q", fn, string(v))
	case *lua.LNilType:
		L.RaiseError("hermes.%s: errno is nil (misspelt constant?)", fn)
	default:
		L.RaiseError("hermes.%s: errno must be a name or a number, not a %s", fn, v.Type())
	}
	return 0
}

func checkSignal(L *lua.LState, n int, fn string) int {
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		sig := int(v)
		if float64(sig) == float64(v) && sig >= 1 && sig <= abi.SigRTMax {
			return sig
		}
		L.RaiseError("hermes.%s: signal %v out of range 1..%d", fn, v, abi.SigRTMax)
	case lua.LString:
		if sig, ok := abi.SignalByName(string(v)); ok {
			return sig
		}
		L.RaiseError("hermes.%s: unknown signal %q", fn, string(v))
	case *lua.LNilType:
		L.RaiseError("hermes.%s: signal is nil (misspelt constant?)", fn)
	default:
		L.RaiseError("hermes.%s: signal must be a name or a number, not a %s", fn, v.Type())
	}
	return 0
}

// hermes.deny(errno): fail the call with errno (skip it at entry; replace
// its result at exit).
func (s *script) luaDeny(L *lua.LState) int {
	p := s.action(L, "deny", true)
	e := checkErrno(L, 1, "deny")
	p.skip, p.denied, p.value = true, true, -int64(e)
	return 0
}

// hermes.ret(value): make the call return value.
func (s *script) luaRet(L *lua.LState) int {
	p := s.action(L, "ret", true)
	v := checkBits(L, 1, "hermes.ret")
	p.skip, p.denied, p.value = true, false, int64(v)
	return 0
}

// hermes.modify_arg(i, value): replace argument i (1..6) by an integer,
// a u64, or a string written into the tracee.
func (s *script) luaModifyArg(L *lua.LState) int {
	p := s.action(L, "modify_arg", false)
	i := L.CheckInt(1)
	if i < 1 || i > 6 {
		L.ArgError(1, "argument index must be 1..6")
	}
	switch v := L.Get(2).(type) {
	case lua.LString:
		for j := range p.strings {
			if p.strings[j].Index == i-1 {
				p.strings = append(p.strings[:j], p.strings[j+1:]...)
				break
			}
		}
		p.strings = append(p.strings, tracer.StringArg{Index: i - 1, Data: []byte(string(v))})
		p.setArgs &^= 1 << (i - 1)
	default:
		p.args[i-1] = checkBits(L, 2, "hermes.modify_arg")
		p.setArgs |= 1 << (i - 1)
		for j := range p.strings {
			if p.strings[j].Index == i-1 {
				p.strings = append(p.strings[:j], p.strings[j+1:]...)
				break
			}
		}
	}
	return 0
}

// hermes.delay(ms): hold the calling thread ms milliseconds (fractions
// allowed) before the call runs (at entry) or returns (at exit).
func (s *script) luaDelay(L *lua.LState) int {
	p := s.action(L, "delay", true)
	ms := float64(L.CheckNumber(1))
	if ms < 0 || math.IsNaN(ms) || ms > 3600e3 {
		L.ArgError(1, "delay must be 0..3600000 ms")
	}
	p.delay += time.Duration(ms * float64(time.Millisecond))
	return 0
}

// hermes.signal(sig): send sig to the calling thread.
func (s *script) luaSignal(L *lua.LState) int {
	p := s.action(L, "signal", true)
	p.signal = checkSignal(L, 1, "signal")
	return 0
}

// hermes.kill(): kill the calling process with SIGKILL.
func (s *script) luaKill(L *lua.LState) int {
	p := s.action(L, "kill", true)
	p.kill = true
	return 0
}

// hermes.log(...) and print(...): one line on hermes's stderr with the
// syscall context.
func (s *script) luaLog(L *lua.LState) int {
	var b strings.Builder
	b.WriteString("hermes: ")
	c := &s.c
	switch {
	case c.sc != nil:
		b.WriteString("[")
		b.WriteString(c.sc.Thread.Lineage)
		b.WriteString("] ")
		b.WriteString(c.sc.Name())
		b.WriteString(": ")
	case c.pev != nil && c.pev.Thread != nil:
		b.WriteString("[")
		b.WriteString(c.pev.Thread.Lineage)
		b.WriteString("] ")
		b.WriteString(processKind(c.pev.Kind))
		b.WriteString(": ")
	default:
		b.WriteString(s.name)
		b.WriteString(": ")
	}
	top := L.GetTop()
	for i := 1; i <= top; i++ {
		if b.Len() > maxLogLine {
			break
		}
		if i > 1 {
			b.WriteByte('\t')
		}
		v := L.Get(i)
		if v.Type() == lua.LTUserData || v.Type() == lua.LTTable {
			if fn := L.GetMetaField(v, "__tostring"); fn != lua.LNil {
				L.Push(fn)
				L.Push(v)
				L.Call(1, 1)
				b.WriteString(L.Get(-1).String())
				L.Pop(1)
				continue
			}
		}
		b.WriteString(v.String())
	}
	line := b.String()
	if len(line) > maxLogLine {
		line = fmt.Sprintf("%s... (cut: %d bytes or more)", line[:maxLogLine], len(line))
	}
	s.e.write(line + "\n")
	return 0
}

// hermes.rand() is a float in [0,1); hermes.rand(n) an integer in 1..n;
// hermes.rand(m, n) an integer in m..n. All draw from the run's generator
// seeded with --seed.
func (s *script) luaRand(L *lua.LState) int {
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(s.e.randFloat()))
	case 1:
		n := L.CheckInt64(1)
		if n < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(1 + s.e.randN(n)))
	default:
		m, n := L.CheckInt64(1), L.CheckInt64(2)
		if n < m {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(m + s.e.randN(n-m+1)))
	}
	return 1
}

// luaRandom replaces math.random with the seeded generator.
func (s *script) luaRandom(L *lua.LState) int { return s.luaRand(L) }

// hermes.trap{"write", "%file", ...}: declare the syscalls the script acts
// on. Only at the top level.
func (s *script) luaTrap(L *lua.LState) int {
	if s.c.phase != phaseTop {
		L.RaiseError("hermes.trap: only at the top level of the script (the filter is installed before the target starts)")
	}
	var names []string
	for i := 1; i <= L.GetTop(); i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			names = append(names, string(v))
		case *lua.LTable:
			n := v.Len()
			for j := 1; j <= n; j++ {
				it, ok := v.RawGetInt(j).(lua.LString)
				if !ok {
					L.RaiseError("hermes.trap: item %d is a %s, want a syscall name or %%class", j, v.RawGetInt(j).Type())
				}
				names = append(names, string(it))
			}
		default:
			L.RaiseError("hermes.trap: want a list of syscall names, got a %s", v.Type())
		}
	}
	if s.trapSet == nil {
		s.trapSet = make([]bool, maxNr)
	}
	s.trapDeclared = true
	for _, n := range names {
		calls, err := selectCalls(n)
		if err != nil {
			L.RaiseError("hermes.trap: %v", err)
		}
		for _, c := range calls {
			s.trapSet[c] = true
		}
		s.trapNames = append(s.trapNames, n)
	}
	return 0
}

// writeItem is the trap item that selects every call that can write file
// data: ev.outfd says which descriptor, when one does.
const writeItem = "@write"

// selectCalls resolves one trap item: a name, a number, a %class or a
// /regex, as strace's -e trace= does, or @write: the calls the syscall
// table says write a file's contents (write, pwrite64, writev, pwritev,
// pwritev2, copy_file_range, sendfile, splice, fallocate, ftruncate, and
// any the table gains), and ioctl, for FICLONE and FICLONERANGE.
func selectCalls(item string) ([]int, error) {
	if item == writeItem {
		var out []int
		for nr := range metas() {
			if metas()[nr].isWriteLike() {
				out = append(out, nr)
			}
		}
		return out, nil
	}
	if item == "" || strings.Contains(item, ",") || strings.HasPrefix(item, "!") {
		return nil, &trapError{item}
	}
	sel, err := abi.Select(item)
	if err != nil {
		return nil, &trapError{item}
	}
	out := make([]int, len(sel))
	for i, c := range sel {
		out[i] = c.Nr
	}
	return out, nil
}

type trapError struct{ item string }

func (e *trapError) Error() string { return "unknown syscall or class " + strconv.Quote(e.item) }

// hermes.param(name, default): params[name] converted to the type of
// default (number, boolean or string); default when unset. Called at the
// top level, it declares the parameter: a --param that no script declares
// is refused.
func (s *script) luaParam(L *lua.LState) int {
	name := L.CheckString(1)
	def := L.Get(2)
	if s.c.phase == phaseTop {
		s.declared[name] = true
	}
	raw, ok := s.e.opts.Params[name]
	if !ok {
		L.Push(def)
		return 1
	}
	switch def.Type() {
	case lua.LTNumber:
		f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil {
			L.RaiseError("parameter %s=%q: want a number", name, raw)
		}
		L.Push(lua.LNumber(f))
	case lua.LTBool:
		switch strings.ToLower(strings.TrimSpace(raw)) {
		case "1", "true", "yes", "on":
			L.Push(lua.LTrue)
		case "0", "false", "no", "off", "":
			L.Push(lua.LFalse)
		default:
			L.RaiseError("parameter %s=%q: want true or false", name, raw)
		}
	default:
		L.Push(lua.LString(raw))
	}
	return 1
}

// hermes.u64(x): x (number, u64, or integer string such as
// "0x7ffd12345678abcd" or "-100") as a u64.
func luaU64(L *lua.LState) int {
	L.Push(newU64(L, checkBits(L, 1, "hermes.u64")))
	return 1
}

func bitop(op func(a, b uint64) uint64) lua.LGFunction {
	return func(L *lua.LState) int {
		top := L.GetTop()
		if top < 2 {
			L.RaiseError("want at least two operands")
		}
		anyU := false
		acc := checkBits(L, 1, "bit operation")
		anyU = isU64(L.Get(1))
		for i := 2; i <= top; i++ {
			acc = op(acc, checkBits(L, i, "bit operation"))
			anyU = anyU || isU64(L.Get(i))
		}
		L.Push(resultOf(L, acc, anyU))
		return 1
	}
}

func luaBnot(L *lua.LState) int {
	v := checkBits(L, 1, "hermes.bnot")
	L.Push(resultOf(L, ^v, isU64(L.Get(1))))
	return 1
}

func shiftop(op func(a uint64, n uint) uint64) lua.LGFunction {
	return func(L *lua.LState) int {
		v := checkBits(L, 1, "shift")
		n := L.CheckInt(2)
		if n < 0 || n > 64 {
			L.ArgError(2, "shift must be 0..64")
		}
		r := uint64(0)
		if n < 64 {
			r = op(v, uint(n))
		}
		L.Push(resultOf(L, r, isU64(L.Get(1))))
		return 1
	}
}

func luaHex(L *lua.LState) int {
	L.Push(lua.LString(hex(checkBits(L, 1, "hermes.hex"))))
	return 1
}

// hermes.tonumber(x): a Lua number (exact below 2^53; u64 values are taken
// as unsigned).
func luaToNumber(L *lua.LState) int {
	v := L.Get(1)
	if n, ok := v.(lua.LNumber); ok {
		L.Push(n)
		return 1
	}
	L.Push(lua.LNumber(float64(checkBits(L, 1, "hermes.tonumber"))))
	return 1
}

// hermes.cmp(a, b): -1, 0 or 1, comparing numbers, u64s and integer
// strings as unsigned 64-bit values (negative numbers as their two's
// complement), so mixed operands compare exactly.
func luaCmp(L *lua.LState) int {
	a, b := checkBits(L, 1, "hermes.cmp"), checkBits(L, 2, "hermes.cmp")
	switch {
	case a < b:
		L.Push(lua.LNumber(-1))
	case a > b:
		L.Push(lua.LNumber(1))
	default:
		L.Push(lua.LNumber(0))
	}
	return 1
}

// hermes.errno("ENOENT") is 2.
func luaErrno(L *lua.LState) int {
	L.Push(lua.LNumber(checkErrno(L, 1, "errno")))
	return 1
}

// hermes.errname(2) is "ENOENT".
func luaErrname(L *lua.LState) int {
	e := checkErrno(L, 1, "errname")
	L.Push(errnoValues()[e])
	return 1
}

func processKind(k tracer.ProcessEventKind) string {
	switch k {
	case tracer.EventFork:
		return "fork"
	case tracer.EventThread:
		return "thread"
	case tracer.EventExec:
		return "exec"
	case tracer.EventSignal:
		return "signal"
	case tracer.EventExit:
		return "exit"
	case tracer.EventStop:
		return "stop"
	}
	return "event"
}
