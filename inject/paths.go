package inject

import (
	"fmt"
	"path"
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

// luaProgramFilter is hermes.program_filter(comm, exe): a function of an
// event that is true for the processes a policy acts on: those whose comm
// (ev.comm, /proc/PID/comm) matches one of the comma-separated globs in
// comm, or whose executable (ev.exe) matches one of those in exe (a glob
// with a / against the whole path, one without against its base name).
// With neither, it is true for every process. A chaos test picks the
// program under test this way (exe=*.test for go test), and leaves its
// toolchain alone.
func luaProgramFilter(L *lua.LState) int {
	comms := splitList(L.OptString(1, ""))
	exes := splitList(L.OptString(2, ""))
	for i, list := range [][]string{comms, exes} {
		for _, g := range list {
			if _, err := path.Match(g, ""); err != nil {
				L.ArgError(i+1, fmt.Sprintf("bad glob %q", g))
			}
		}
	}
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if len(comms) == 0 && len(exes) == 0 {
			L.Push(lua.LTrue)
			return 1
		}
		ev := L.Get(1)
		comm, _ := L.GetField(ev, "comm").(lua.LString)
		exe, _ := L.GetField(ev, "exe").(lua.LString)
		L.Push(lua.LBool(matchAny(comms, string(comm)) || (exe != "" && matchExe(exes, string(exe)))))
		return 1
	}))
	return 1
}

func matchAny(globs []string, s string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}

// matchExe matches an executable's path against globs: one with a / the
// whole path, one without its base name.
func matchExe(globs []string, exe string) bool {
	for _, g := range globs {
		s := exe
		if !strings.Contains(g, "/") {
			s = path.Base(exe)
		}
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}
