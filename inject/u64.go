package inject

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// u64 values: gopher-lua numbers are float64 and hold integers exactly only
// up to 2^53. Pointers, and integers whose magnitude reaches 2^53, reach Lua
// as a userdata holding the 64 raw bits (Value is a u64), with a metatable
// that prints them in hex and compares and adds them exactly.

// u64 is the Go value inside a Lua u64 userdata.
type u64 uint64

const u64TypeName = "hermes.u64"

// maxExact is 2^53: every integer of smaller magnitude is exact in a float64.
const maxExact = 1 << 53

// newU64 wraps v in a u64 userdata of L.
func newU64(L *lua.LState, v uint64) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = u64(v)
	ud.Metatable = L.GetTypeMetatable(u64TypeName)
	return ud
}

// signedValue returns v as a Lua number when it is exact, else as a u64
// holding its two's-complement bits.
func signedValue(L *lua.LState, v int64) lua.LValue {
	if v > -maxExact && v < maxExact {
		return lua.LNumber(v)
	}
	return newU64(L, uint64(v))
}

// unsignedValue returns v as a Lua number when it is exact, else as a u64.
func unsignedValue(L *lua.LState, v uint64) lua.LValue {
	if v < maxExact {
		return lua.LNumber(v)
	}
	return newU64(L, v)
}

// toBits converts a Lua number, u64 or integer string to 64 bits. Numbers
// must be integral and within -2^63..2^64-1; negative numbers give their
// two's complement.
func toBits(v lua.LValue) (uint64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return numberBits(float64(x))
	case *lua.LUserData:
		if u, ok := x.Value.(u64); ok {
			return uint64(u), true
		}
	case lua.LString:
		return parseBits(string(x))
	}
	return 0, false
}

func numberBits(f float64) (uint64, bool) {
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	switch {
	case f < 0:
		if f < -(1 << 63) {
			return 0, false
		}
		return uint64(int64(f)), true
	case f >= 1<<64:
		return 0, false
	case f >= 1<<63:
		return uint64(f), true
	}
	return uint64(int64(f)), true
}

// parseBits parses "0x7ffd12345678abcd", "18446744073709551615", "-100"
// (two's complement), "0o755", "0b101".
func parseBits(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	u, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		u = -u
	}
	return u, true
}

// checkBits is toBits for argument n of a Go function, raising a Lua
// error on bad input.
func checkBits(L *lua.LState, n int, fn string) uint64 {
	v := L.Get(n)
	b, ok := toBits(v)
	if !ok {
		L.RaiseError("%s: argument %d: want an integer, a u64 or an integer string, got %s", fn, n, describe(v))
	}
	return b
}

func describe(v lua.LValue) string {
	switch v := v.(type) {
	case lua.LNumber:
		return "non-integral or out-of-range number " + v.String()
	case lua.LString:
		return strconv.Quote(string(v))
	}
	return v.Type().String()
}

func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// registerU64 installs the u64 metatable in L.
func registerU64(L *lua.LState) {
	mt := L.NewTypeMetatable(u64TypeName)
	bits := func(L *lua.LState, n int) uint64 { return checkBits(L, n, "u64") }
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(hex(bits(L, 1))))
		return 1
	}))
	mt.RawSetString("__concat", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(concatPart(L.Get(1)) + concatPart(L.Get(2))))
		return 1
	}))
	mt.RawSetString("__eq", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LBool(bits(L, 1) == bits(L, 2)))
		return 1
	}))
	mt.RawSetString("__lt", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LBool(bits(L, 1) < bits(L, 2)))
		return 1
	}))
	mt.RawSetString("__le", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LBool(bits(L, 1) <= bits(L, 2)))
		return 1
	}))
	mt.RawSetString("__add", L.NewFunction(func(L *lua.LState) int {
		L.Push(newU64(L, bits(L, 1)+bits(L, 2)))
		return 1
	}))
	mt.RawSetString("__sub", L.NewFunction(func(L *lua.LState) int {
		L.Push(newU64(L, bits(L, 1)-bits(L, 2)))
		return 1
	}))
	mt.RawSetString("__mul", L.NewFunction(func(L *lua.LState) int {
		L.Push(newU64(L, bits(L, 1)*bits(L, 2)))
		return 1
	}))
	mt.RawSetString("__metatable", lua.LString("hermes.u64"))
	methods := L.NewTable()
	methods.RawSetString("hex", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(hex(bits(L, 1))))
		return 1
	}))
	methods.RawSetString("tonumber", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(float64(bits(L, 1))))
		return 1
	}))
	methods.RawSetString("signed", L.NewFunction(func(L *lua.LState) int {
		L.Push(signedValue(L, int64(bits(L, 1))))
		return 1
	}))
	mt.RawSetString("__index", methods)
}

func concatPart(v lua.LValue) string {
	if ud, ok := v.(*lua.LUserData); ok {
		if u, ok := ud.Value.(u64); ok {
			return hex(uint64(u))
		}
	}
	return v.String()
}

// resultOf returns a bit operation's result: a u64 when either operand
// was one, else a number when exact.
func resultOf(L *lua.LState, v uint64, anyU64 bool) lua.LValue {
	if anyU64 {
		return newU64(L, v)
	}
	return signedValue(L, int64(v))
}

func isU64(v lua.LValue) bool {
	if ud, ok := v.(*lua.LUserData); ok {
		_, ok := ud.Value.(u64)
		return ok
	}
	return false
}
