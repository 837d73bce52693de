package inject

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Limits of the sandbox.
const (
	callStackSize   = 200     // Lua call frames: unbounded recursion fails with "stack overflow"
	registrySize    = 1 << 14 // value stack slots
	registryMaxSize = 1 << 17
	maxRep          = 1 << 20 // largest string string.rep may build
	maxLuaString    = 1 << 20 // largest string .., format, gsub, table.concat may build
	maxScript       = 1 << 20 // largest script source
	maxLogLine      = 4 << 10 // longest hermes.log message (longer ones are cut)
	topLevelMin     = time.Second
)

// phase says which callback is running.
type phase uint8

const (
	phaseTop     phase = iota // the script's top level (load)
	phaseEnter                // on_syscall
	phaseExit                 // on_return
	phaseProcess              // on_process
	phaseFinish               // on_exit
)

func (p phase) hook() string {
	switch p {
	case phaseEnter:
		return "on_syscall"
	case phaseExit:
		return "on_return"
	case phaseProcess:
		return "on_process"
	case phaseFinish:
		return "on_exit"
	}
	return "top level"
}

// pending collects the actions of one callback; they reach the tracer's
// Action only if the callback returns without error.
type pending struct {
	any     bool
	skip    bool
	denied  bool // skip comes from hermes.deny: value is -errno
	value   int64
	setArgs uint8
	args    [6]uint64
	strings []tracer.StringArg
	delay   time.Duration
	signal  int
	kill    bool
}

// callCtx is the state of the running callback. Each script has its own,
// touched only by the goroutine that owns the script.
type callCtx struct {
	sc    *tracer.Syscall
	pev   *tracer.ProcessEvent
	phase phase
	p     pending

	// lazily decoded fields of sc, nil until asked for
	path, path2, fdpath lua.LValue
	outpath, iopath     lua.LValue
	outDone, outOK      bool // outFD worked out, and whether the call writes data
	outFd               int
	sockDone            bool
	family, port, ip    lua.LValue
	buf                 []byte
	// noAccess is set when the script asked for tracee memory that the
	// kernel refuses hermes: the call then fails closed.
	noAccess error
}

func (c *callCtx) begin(sc *tracer.Syscall, ph phase) {
	c.sc, c.phase = sc, ph
	c.path, c.path2, c.fdpath = nil, nil, nil
	c.outpath, c.iopath, c.outDone = nil, nil, false
	c.sockDone = false
	c.noAccess = nil
	strs := c.p.strings[:0]
	c.p = pending{strings: strs}
}

func (c *callCtx) end() {
	c.sc, c.pev = nil, nil
	c.phase = phaseTop
}

// script is one compiled version of a Lua script with its own LState.
type script struct {
	e    *Engine
	name string // chunk name: the file path or builtin:NAME
	L    *lua.LState
	dl   *deadline
	c    callCtx

	onSyscall, onReturn, onProcess, onExit *lua.LFunction

	ev, argsUD        *lua.LUserData
	evString, evRead  *lua.LFunction
	hermes, state     *lua.LTable
	trapDeclared      bool
	trapSet           []bool // x86_64 numbers the script declared
	trapNames         []string
	declared          map[string]bool // parameters hermes.param declared at the top level
	warnings          []string        // "file:line: warning: ..." found at load
	topLevelTimeLimit time.Duration
	callbackTimeLimit time.Duration
}

// LoadError is a script that cannot be loaded: Pos is "file:line".
type LoadError struct {
	Pos string
	Msg string
}

func (e *LoadError) Error() string {
	if e.Pos == "" {
		return e.Msg
	}
	return e.Pos + ": " + e.Msg
}

// compile builds a fresh sandboxed LState, compiles src and runs its top
// level. It runs on whatever goroutine calls it; the result is handed to
// the tracer goroutine afterwards and never used by two at once.
func compile(e *Engine, name string, src []byte) (*script, error) {
	s := &script{e: e, name: name, dl: newDeadline(watchPeriod(e.timeout)), callbackTimeLimit: e.timeout, declared: map[string]bool{}}
	s.topLevelTimeLimit = max(e.timeout, topLevelMin)
	if len(src) > maxScript {
		return nil, &LoadError{Pos: name, Msg: fmt.Sprintf("the script is %d bytes; the limit is %d", len(src), maxScript)}
	}
	L := lua.NewState(lua.Options{
		SkipOpenLibs:     true,
		CallStackSize:    callStackSize,
		RegistrySize:     registrySize,
		RegistryMaxSize:  registryMaxSize,
		RegistryGrowStep: registrySize,
		MaxStringSize:    maxLuaString,
	})
	s.L = L
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	if err := s.sandbox(); err != nil {
		return nil, err
	}
	if err := checkNesting(name, src); err != nil {
		return nil, err
	}
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		return nil, parseError(name, src, err)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		var ce *lua.CompileError
		if errors.As(err, &ce) {
			return nil, &LoadError{Pos: fmt.Sprintf("%s:%d", name, ce.Line), Msg: ce.Message}
		}
		return nil, &LoadError{Pos: name, Msg: err.Error()}
	}
	if err := staticCheck(name, src); err != nil {
		return nil, err
	}
	L.SetContext(s.dl)
	fn := L.NewFunctionFromProto(proto)
	s.dl.arm(s.topLevelTimeLimit)
	L.Push(fn)
	err = L.PCall(0, 0, nil)
	s.dl.disarm()
	if err != nil {
		return nil, loadErrorOf(name, err)
	}
	for _, h := range []struct {
		name string
		dst  **lua.LFunction
	}{{"on_syscall", &s.onSyscall}, {"on_return", &s.onReturn}, {"on_process", &s.onProcess}, {"on_exit", &s.onExit}} {
		switch v := L.GetGlobal(h.name).(type) {
		case *lua.LNilType:
		case *lua.LFunction:
			*h.dst = v
		default:
			return nil, &LoadError{Pos: name, Msg: fmt.Sprintf("%s must be a function, not a %s", h.name, v.Type())}
		}
	}
	s.warnings = hookWarnings(L, name)
	ok = true
	return s, nil
}

func (s *script) close() {
	if s == nil {
		return
	}
	s.dl.stop()
	if s.L != nil {
		s.L.Close()
	}
}

// parseError converts gopher-lua's parse error to "file:line: message".
func parseError(name string, src []byte, err error) error {
	var pe *parse.Error
	if errors.As(err, &pe) {
		line := pe.Pos.Line
		msg := strings.TrimSpace(pe.Message)
		if line == parse.EOF {
			line = bytes.Count(src, []byte("\n")) + 1
			msg += " at end of file"
		} else if pe.Token != "" {
			msg += fmt.Sprintf(" near '%s'", pe.Token)
		}
		return &LoadError{Pos: fmt.Sprintf("%s:%d", name, line), Msg: msg}
	}
	return &LoadError{Pos: name, Msg: strings.TrimSpace(err.Error())}
}

// luaMessage extracts "file:line: message" from a gopher-lua error.
func luaMessage(err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		if ae.Object != nil {
			if s, ok := ae.Object.(lua.LString); ok {
				return strings.TrimSpace(string(s))
			}
			return "error object: " + ae.Object.String()
		}
		return strings.TrimSpace(ae.Error())
	}
	return err.Error()
}

func loadErrorOf(name string, err error) error {
	msg := luaMessage(err)
	if pos, rest, ok := splitPos(msg); ok {
		return &LoadError{Pos: pos, Msg: rest}
	}
	return &LoadError{Pos: name, Msg: msg}
}

var posRE = regexp.MustCompile(`^(.*?:\d+):\s*(.*)$`)

func splitPos(msg string) (string, string, bool) {
	m := posRE.FindStringSubmatch(msg)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// sandbox opens the allowed libraries and installs the hermes API.
func (s *script) sandbox() error {
	L := s.L
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
	} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.fn), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return fmt.Errorf("open Lua library %q: %w", lib.name, err)
		}
	}
	for _, name := range []string{
		"dofile", "loadfile", "load", "loadstring", "require", "module",
		"collectgarbage", "getfenv", "setfenv", "_printregs", "newproxy",
	} {
		L.SetGlobal(name, lua.LNil)
	}
	str := L.GetGlobal("string").(*lua.LTable)
	str.RawSetString("dump", lua.LNil)
	str.RawSetString("rep", L.NewFunction(strRep))
	format := str.RawGetString("format").(*lua.LFunction)
	str.RawSetString("format", L.NewFunction(func(L *lua.LState) int {
		if err := checkFormat(L.CheckString(1)); err != "" {
			L.ArgError(1, err)
		}
		top := L.GetTop()
		L.Push(format)
		for i := 1; i <= top; i++ {
			L.Push(L.Get(i))
		}
		L.Call(top, 1)
		return 1
	}))
	math := L.GetGlobal("math").(*lua.LTable)
	math.RawSetString("random", L.NewFunction(s.luaRandom))
	math.RawSetString("randomseed", L.NewFunction(func(L *lua.LState) int { return 0 }))
	L.SetGlobal("print", L.NewFunction(s.luaLog))

	registerU64(L)
	s.installHermes()
	s.installEvent()
	params := L.NewTable()
	keys := make([]string, 0, len(s.e.opts.Params))
	for k := range s.e.opts.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		params.RawSetString(k, lua.LString(s.e.opts.Params[k]))
	}
	L.SetGlobal("params", params)
	return nil
}

// strRep is string.rep with a bound on the result's size.
func strRep(L *lua.LState) int {
	str := L.CheckString(1)
	n := L.CheckInt(2)
	sep := L.OptString(3, "")
	if n <= 0 {
		L.Push(lua.LString(""))
		return 1
	}
	// n copies of str and n-1 of sep, computed without overflowing
	// (2^20 * 2^44 bytes wrapped around to 0 and passed the check)
	if per := len(str) + len(sep); per > 0 && n > maxRep/per+1 {
		L.RaiseError("string.rep: result of %d copies of %d bytes exceeds the sandbox limit of %d", n, per, maxRep)
	}
	total := int64(len(str))*int64(n) + int64(len(sep))*int64(n-1)
	if total > maxRep {
		L.RaiseError("string.rep: result of %d bytes exceeds the sandbox limit of %d", total, maxRep)
	}
	if total == 0 {
		L.Push(lua.LString("")) // ("").rep(2^60) would loop for years
		return 1
	}
	var b strings.Builder
	b.Grow(int(total))
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(str)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// checkFormat enforces Lua 5.1's limit of two digits for the width and
// precision of a string.format directive (Go would build any size).
func checkFormat(f string) string {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		digits := 0
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			i++
			digits++
		}
		if digits > 2 {
			return "invalid format (width too long)"
		}
		if i < len(f) && f[i] == '.' {
			i++
			digits = 0
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				i++
				digits++
			}
			if digits > 2 {
				return "invalid format (precision too long)"
			}
		}
		if i < len(f) && f[i] == '*' {
			return "invalid format ('*' is not supported)"
		}
	}
	return ""
}

func (s *script) installEvent() {
	L := s.L
	evMT := L.NewTable()
	evMT.RawSetString("__index", L.NewFunction(s.eventIndex))
	evMT.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("the event is read-only (keep your own values in hermes.state or a global)")
		return 0
	}))
	evMT.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		if sc := s.c.sc; sc != nil {
			L.Push(lua.LString(fmt.Sprintf("event [%s] %s #%d", sc.Thread.Lineage, sc.Name(), sc.Nth)))
		} else {
			L.Push(lua.LString("event (expired)"))
		}
		return 1
	}))
	evMT.RawSetString("__metatable", lua.LString("hermes.event"))
	s.ev = L.NewUserData()
	s.ev.Metatable = evMT

	argsMT := L.NewTable()
	argsMT.RawSetString("__index", L.NewFunction(s.argsIndex))
	argsMT.RawSetString("__len", L.NewFunction(s.argsLen))
	argsMT.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("ev.args is read-only: use hermes.modify_arg(i, value)")
		return 0
	}))
	argsMT.RawSetString("__metatable", lua.LString("hermes.args"))
	s.argsUD = L.NewUserData()
	s.argsUD.Metatable = argsMT

	s.evString = L.NewFunction(s.evStringFn)
	s.evRead = L.NewFunction(s.evReadFn)
}

// staticCheck finds errno and signal names that cannot exist in literal
// uses: hermes.deny("EFOO"), hermes.signal("SIGFOO"), hermes.EFOO,
// hermes.SIGFOO.
var (
	litDenyRE   = regexp.MustCompile(`hermes\.(deny|signal)\(\s*["']([A-Za-z0-9_+]*)["']`)
	constNameRE = regexp.MustCompile(`hermes\.((?:E|SIG)[A-Z0-9_]+)\b`)
)

func staticCheck(name string, src []byte) error {
	line := func(off int) string {
		return fmt.Sprintf("%s:%d", name, bytes.Count(src[:off], []byte("\n"))+1)
	}
	for _, m := range litDenyRE.FindAllSubmatchIndex(src, -1) {
		fn, arg := string(src[m[2]:m[3]]), string(src[m[4]:m[5]])
		if fn == "deny" {
			if _, ok := errnoByName(arg); !ok {
				return &LoadError{Pos: line(m[0]), Msg: fmt.Sprintf("hermes.deny: unknown errno %q", arg)}
			}
		} else if _, ok := abi.SignalByName(arg); !ok {
			return &LoadError{Pos: line(m[0]), Msg: fmt.Sprintf("hermes.signal: unknown signal %q", arg)}
		}
	}
	for _, m := range constNameRE.FindAllSubmatchIndex(src, -1) {
		n := string(src[m[2]:m[3]])
		if _, ok := constants()[n]; !ok {
			return &LoadError{Pos: line(m[0]), Msg: fmt.Sprintf("unknown constant hermes.%s", n)}
		}
	}
	return nil
}
