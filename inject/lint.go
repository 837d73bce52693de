package inject

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// hookNames are the global functions hermes calls.
var hookNames = []string{"on_syscall", "on_return", "on_process", "on_exit"}

// hookWarnings finds global functions named like a hook that are not one
// (on_syscal, onSyscall, on_Return): hermes never calls them, so a script
// with such a typo runs and injects nothing. Each warning is
// "file:line: warning: ...".
func hookWarnings(L *lua.LState, name string) []string {
	var out []string
	L.G.Global.ForEach(func(k, v lua.LValue) {
		key, ok := k.(lua.LString)
		fn, isFn := v.(*lua.LFunction)
		if !ok || !isFn || fn.Proto == nil {
			return // not a function, or a Go one hermes installed
		}
		if hook, ok := nearHook(string(key)); ok {
			out = append(out, fmt.Sprintf("%s:%d: warning: %s is not a hook, so hermes never calls it (did you mean %s? hooks: %s)",
				name, fn.Proto.LineDefined, key, hook, strings.Join(hookNames, ", ")))
		}
	})
	sort.Strings(out)
	return out
}

// nearHook returns the hook a function name looks like a misspelling of:
// the same letters but for case and underscores, or two edits away.
func nearHook(name string) (string, bool) {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "") }
	n := norm(name)
	for _, h := range hookNames {
		if name == h {
			return "", false
		}
	}
	for _, h := range hookNames {
		if editDistance(n, norm(h)) <= 2 {
			return h, true
		}
	}
	return "", false
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
