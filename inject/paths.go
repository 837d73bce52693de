package inject

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// splitList splits a comma- or space-separated parameter value.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// luaSplit is hermes.split(s): the fields of a comma- or space-separated
// list, as a table (for parameters such as syscalls=read,write).
func luaSplit(L *lua.LState) int {
	t := L.NewTable()
	for _, f := range splitList(L.CheckString(1)) {
		t.Append(lua.LString(f))
	}
	L.Push(t)
	return 1
}

// luaPathFilter is hermes.path_filter(prefix, exclude): a function of a
// path that is true for paths under prefix and not under any of the
// comma-separated exclude prefixes (an exclude that covers prefix itself
// is ignored, so prefix=/dev/shm still works with exclude=/dev/). nil and
// non-string paths are false. Policies use it to keep the dynamic loader,
// /proc and devices out of a fault's way.
func luaPathFilter(L *lua.LState) int {
	prefix := L.CheckString(1)
	var excludes []string
	for _, e := range splitList(L.OptString(2, "")) {
		if !strings.HasPrefix(prefix, e) {
			excludes = append(excludes, e)
		}
	}
	L.Push(L.NewFunction(func(L *lua.LState) int {
		path, ok := L.Get(1).(lua.LString)
		if !ok || !strings.HasPrefix(string(path), prefix) {
			L.Push(lua.LFalse)
			return 1
		}
		for _, e := range excludes {
			if strings.HasPrefix(string(path), e) {
				L.Push(lua.LFalse)
				return 1
			}
		}
		L.Push(lua.LTrue)
		return 1
	}))
	return 1
}
