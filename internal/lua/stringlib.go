package lua

import (
	"fmt"
	"math"
	"strings"

	"github.com/yuin/gopher-lua/pm"
)

const emptyLString LString = LString("")

func OpenString(L *LState) int {
	var mod *LTable
	//_, ok := L.G.builtinMts[int(LTString)]
	//if !ok {
	mod = L.RegisterModule(StringLibName, strFuncs).(*LTable)
	gmatch := L.NewClosure(strGmatch, L.NewFunction(strGmatchIter))
	mod.RawSetString("gmatch", gmatch)
	mod.RawSetString("gfind", gmatch)
	mod.RawSetString("__index", mod)
	L.G.builtinMts[int(LTString)] = mod
	//}
	L.Push(mod)
	return 1
}

var strFuncs = map[string]LGFunction{
	"byte":    strByte,
	"char":    strChar,
	"dump":    strDump,
	"find":    strFind,
	"format":  strFormat,
	"gsub":    strGsub,
	"len":     strLen,
	"lower":   strLower,
	"match":   strMatch,
	"rep":     strRep,
	"reverse": strReverse,
	"sub":     strSub,
	"upper":   strUpper,
}

func strByte(L *LState) int {
	str := L.CheckString(1)
	start := L.OptInt(2, 1) - 1
	end := L.OptInt(3, -1)
	l := len(str)
	if start < 0 {
		start = l + start + 1
	}
	if end < 0 {
		end = l + end + 1
	}

	if L.GetTop() == 2 {
		if start < 0 || start >= l {
			return 0
		}
		L.Push(LNumber(str[start]))
		return 1
	}

	start = intMax(start, 0)
	end = intMin(end, l)
	if end < 0 || end <= start || start >= l {
		return 0
	}

	L.checkResults(end-start, "string slice too long")
	for i := start; i < end; i++ {
		L.Push(LNumber(str[i]))
	}
	return end - start
}

func strChar(L *LState) int {
	top := L.GetTop()
	bytes := make([]byte, L.GetTop())
	for i := 1; i <= top; i++ {
		bytes[i-1] = uint8(L.CheckInt(i))
	}
	L.Push(LString(string(bytes)))
	return 1
}

func strDump(L *LState) int {
	L.RaiseError("GopherLua does not support the string.dump")
	return 0
}

func strFind(L *LState) int {
	str := L.CheckString(1)
	pattern := L.CheckString(2)
	if len(pattern) == 0 {
		L.Push(LNumber(1))
		L.Push(LNumber(0))
		return 2
	}
	init := luaIndex2StringIndex(str, L.OptInt(3, 1), true)
	plain := false
	if L.GetTop() == 4 {
		plain = LVAsBool(L.Get(4))
	}

	if plain {
		pos := strings.Index(str[init:], pattern)
		if pos < 0 {
			L.Push(LNil)
			return 1
		}
		L.Push(LNumber(init+pos) + 1)
		L.Push(LNumber(init + pos + len(pattern)))
		return 2
	}

	mds, err := pm.FindContext(L.ctx, pattern, unsafeFastStringToReadOnlyBytes(str), init, 1)
	if err != nil {
		L.RaiseError(err.Error())
	}
	if len(mds) == 0 {
		L.Push(LNil)
		return 1
	}
	md := mds[0]
	L.Push(LNumber(md.Capture(0) + 1))
	L.Push(LNumber(md.Capture(1)))
	for i := 2; i < md.CaptureLength(); i += 2 {
		if md.IsPosCapture(i) {
			L.Push(LNumber(md.Capture(i)))
		} else {
			L.Push(LString(str[md.Capture(i):md.Capture(i+1)]))
		}
	}
	return md.CaptureLength()/2 + 1
}

func strFormat(L *LState) int {
	str := L.CheckString(1)
	args := make([]interface{}, L.GetTop()-1)
	top := L.GetTop()
	for i := 2; i <= top; i++ {
		args[i-2] = L.Get(i)
	}
	npat := strings.Count(str, "%") - strings.Count(str, "%%")
	args = args[:intMin(npat, len(args))]
	if L.Options.MaxStringSize > 0 {
		L.checkStringSize(formatSizeBound(str, args))
	}
	L.Push(LString(fmt.Sprintf(str, args...)))
	return 1
}

// formatSizeBound returns an upper bound of the length of
// fmt.Sprintf(f, args...) for the LValue arguments of string.format
// (hermes), saturating at math.MaxInt.
func formatSizeBound(f string, args []interface{}) int {
	argLen := func(a interface{}) int {
		if s, ok := a.(LString); ok {
			return len(s)
		}
		return 0
	}
	longest := 0
	for _, a := range args {
		longest = intMax(longest, argLen(a))
	}
	const fmtMax = 1e6 // fmt's limit on widths and precisions
	// a number, a %!verb(MISSING) note, a table's address: at most 330 bytes
	const numMax = 330
	n := len(f)
	next := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		// flags, width, precision, argument indexes: add up every number
		indexed, pad, num := false, 0, 0
	spec:
		for ; i < len(f); i++ {
			switch c := f[i]; {
			case c >= '0' && c <= '9':
				num = intMin(num*10+int(c-'0'), fmtMax)
				continue
			case c == '*':
				num = fmtMax
				next++
			case c == '[':
				indexed = true
			case strings.IndexByte("-+ #.]", c) >= 0:
			default:
				break spec
			}
			pad = satAdd(pad, num)
			num = 0
		}
		pad = satAdd(pad, num)
		arg := 0
		if indexed {
			arg = longest
		} else if next < len(args) {
			arg = argLen(args[next])
		}
		next++
		if i < len(f) && f[i] == 'q' {
			arg = satAdd(satAdd(arg, arg), satAdd(arg, arg)) // \xNN
		}
		n = satAdd(n, satAdd(arg, satAdd(pad, numMax)))
	}
	return n
}

func satAdd(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

func strGsub(L *LState) int {
	str := L.CheckString(1)
	pat := L.CheckString(2)
	L.CheckTypes(3, LTString, LTTable, LTFunction)
	repl := L.CheckAny(3)
	limit := L.OptInt(4, -1)

	// hermes: upstream collected every match first, then spliced each
	// replacement into a copy of the whole string (quadratic time), with
	// no bound on the result. Matches are now found one at a time, under
	// L's context, and the result is built once, within MaxStringSize.
	cp, err := pm.Compile(pat)
	if err != nil {
		L.RaiseError(err.Error())
	}
	matcher := cp.Matcher(L.ctx, unsafeFastStringToReadOnlyBytes(str))
	var out []byte
	add := func(s string) {
		L.checkStringSize(len(out) + len(s))
		out = append(out, s...)
	}
	n, last := 0, 0
	for sp := 0; sp <= len(str) && (limit < 0 || n < limit); {
		match, next, err := matcher.FindFrom(sp)
		if err != nil {
			L.RaiseError(err.Error())
		}
		if match == nil {
			break
		}
		n++
		var value string
		var ok bool
		switch lv := repl.(type) {
		case LString:
			value, ok = string(lv), true
			if strings.IndexByte(value, '%') >= 0 {
				value = strGsubStr(L, str, value, match)
			}
		case *LTable:
			value, ok = strGsubTable(L, str, lv, match)
		case *LFunction:
			value, ok = strGsubFunc(L, str, lv, match)
		}
		if ok {
			add(str[last:match.Capture(0)])
			add(value)
			last = match.Capture(1)
		}
		if cp.Anchored() {
			break
		}
		sp = next
	}
	if n == 0 {
		L.SetTop(1)
		L.Push(LNumber(0))
		return 2
	}
	add(str[last:])
	L.Push(LString(out))
	L.Push(LNumber(n))
	return 2
}

func checkCaptureIndex(L *LState, m *pm.MatchData, idx int) {
	if idx <= 2 {
		return
	}
	if idx >= m.CaptureLength() {
		L.RaiseError("invalid capture index")
	}
}

func capturedString(L *LState, m *pm.MatchData, str string, idx int) string {
	checkCaptureIndex(L, m, idx)
	if idx >= m.CaptureLength() && idx == 2 {
		idx = 0
	}
	if m.IsPosCapture(idx) {
		return fmt.Sprint(m.Capture(idx))
	} else {
		return str[m.Capture(idx):m.Capture(idx+1)]
	}

}

// strGsubStr returns the replacement string repl makes of a match.
func strGsubStr(L *LState, str string, repl string, match *pm.MatchData) string {
	sc := newFlagScanner('%', "", "", repl)
	for c, eos := sc.Next(); !eos; c, eos = sc.Next() {
		if !sc.ChangeFlag {
			if sc.HasFlag {
				if c >= '0' && c <= '9' {
					s := capturedString(L, match, str, 2*(int(c)-48))
					L.checkStringSize(len(sc.buf) + len(s)) // hermes
					sc.AppendString(s)
				} else {
					sc.AppendChar('%')
					sc.AppendChar(c)
				}
				sc.HasFlag = false
			} else {
				sc.AppendChar(c)
			}
		}
	}
	return sc.String()
}

// strGsubTable returns the replacement of a match from table repl, and
// false to keep the match.
func strGsubTable(L *LState, str string, repl *LTable, match *pm.MatchData) (string, bool) {
	idx := 0
	if match.CaptureLength() > 2 { // has captures
		idx = 2
	}
	var value LValue
	if match.IsPosCapture(idx) {
		value = L.GetTable(repl, LNumber(match.Capture(idx)))
	} else {
		value = L.GetField(repl, str[match.Capture(idx):match.Capture(idx+1)])
	}
	if LVIsFalse(value) {
		return "", false
	}
	return LVAsString(value), true
}

// strGsubFunc returns the replacement of a match from function repl, and
// false to keep the match.
func strGsubFunc(L *LState, str string, repl *LFunction, match *pm.MatchData) (string, bool) {
	L.Push(repl)
	nargs := 0
	if match.CaptureLength() > 2 { // has captures
		for i := 2; i < match.CaptureLength(); i += 2 {
			if match.IsPosCapture(i) {
				L.Push(LNumber(match.Capture(i)))
			} else {
				L.Push(LString(capturedString(L, match, str, i)))
			}
			nargs++
		}
	} else {
		L.Push(LString(capturedString(L, match, str, 0)))
		nargs++
	}
	L.Call(nargs, 1)
	ret := L.reg.Pop()
	if LVIsFalse(ret) {
		return "", false
	}
	return LVAsString(ret), true
}

// strMatchData is the state of a string.gmatch iterator. hermes: matches
// are found one per call, under the caller's context, rather than all
// when the iterator is made.
type strMatchData struct {
	str  string
	pos  int
	pat  *pm.Pattern
	done bool
}

func strGmatchIter(L *LState) int {
	md := L.CheckUserData(1).Value.(*strMatchData)
	str := md.str
	if md.done || md.pos > len(str) {
		return 0
	}
	// under the context of the LState calling the iterator now
	match, next, err := md.pat.FindFrom(L.ctx, unsafeFastStringToReadOnlyBytes(str), md.pos)
	if err != nil {
		L.RaiseError(err.Error())
	}
	if match == nil {
		md.done = true
		return 0
	}
	md.pos = next
	if md.pat.Anchored() {
		md.done = true
	}
	if match.CaptureLength() == 2 {
		L.Push(LString(str[match.Capture(0):match.Capture(1)]))
		return 1
	}

	for i := 2; i < match.CaptureLength(); i += 2 {
		if match.IsPosCapture(i) {
			L.Push(LNumber(match.Capture(i)))
		} else {
			L.Push(LString(str[match.Capture(i):match.Capture(i+1)]))
		}
	}
	return match.CaptureLength()/2 - 1
}

func strGmatch(L *LState) int {
	str := L.CheckString(1)
	pattern := L.CheckString(2)
	pat, err := pm.Compile(pattern)
	if err != nil {
		L.RaiseError(err.Error())
	}
	L.Push(L.Get(UpvalueIndex(1)))
	ud := L.NewUserData()
	ud.Value = &strMatchData{str: str, pat: pat}
	L.Push(ud)
	return 2
}

func strLen(L *LState) int {
	str := L.CheckString(1)
	L.Push(LNumber(len(str)))
	return 1
}

func strLower(L *LState) int {
	str := L.CheckString(1)
	L.Push(LString(strings.ToLower(str)))
	return 1
}

func strMatch(L *LState) int {
	str := L.CheckString(1)
	pattern := L.CheckString(2)
	offset := L.OptInt(3, 1)
	l := len(str)
	if offset < 0 {
		offset = l + offset + 1
	}
	offset--
	if offset < 0 {
		offset = 0
	}

	mds, err := pm.FindContext(L.ctx, pattern, unsafeFastStringToReadOnlyBytes(str), offset, 1)
	if err != nil {
		L.RaiseError(err.Error())
	}
	if len(mds) == 0 {
		L.Push(LNil)
		return 0
	}
	md := mds[0]
	nsubs := md.CaptureLength() / 2
	switch nsubs {
	case 1:
		L.Push(LString(str[md.Capture(0):md.Capture(1)]))
		return 1
	default:
		for i := 2; i < md.CaptureLength(); i += 2 {
			if md.IsPosCapture(i) {
				L.Push(LNumber(md.Capture(i)))
			} else {
				L.Push(LString(str[md.Capture(i):md.Capture(i+1)]))
			}
		}
		return nsubs - 1
	}
}

func strRep(L *LState) int {
	str := L.CheckString(1)
	n := L.CheckInt(2)
	if n <= 0 || len(str) == 0 {
		L.Push(emptyLString)
	} else {
		// hermes: bounded by MaxStringSize
		if n > math.MaxInt/len(str) {
			L.checkStringSize(math.MaxInt)
		}
		L.checkStringSize(n * len(str))
		L.Push(LString(strings.Repeat(str, n)))
	}
	return 1
}

func strReverse(L *LState) int {
	str := L.CheckString(1)
	bts := []byte(str)
	out := make([]byte, len(bts))
	for i, j := 0, len(bts)-1; j >= 0; i, j = i+1, j-1 {
		out[i] = bts[j]
	}
	L.Push(LString(string(out)))
	return 1
}

func strSub(L *LState) int {
	str := L.CheckString(1)
	start := luaIndex2StringIndex(str, L.CheckInt(2), true)
	end := luaIndex2StringIndex(str, L.OptInt(3, -1), false)
	l := len(str)
	if start >= l || end < start {
		L.Push(emptyLString)
	} else {
		L.Push(LString(str[start:end]))
	}
	return 1
}

func strUpper(L *LState) int {
	str := L.CheckString(1)
	L.Push(LString(strings.ToUpper(str)))
	return 1
}

func luaIndex2StringIndex(str string, i int, start bool) int {
	if start && i != 0 {
		i -= 1
	}
	l := len(str)
	if i < 0 {
		i = l + i + 1
	}
	i = intMax(0, i)
	if !start && i > l {
		i = l
	}
	return i
}

//
