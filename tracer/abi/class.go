package abi

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ClassStatLike is strace's %%stat: every stat variant (on x86_64: stat,
// lstat, fstat, newfstatat, statx).
const ClassStatLike = ClassStat | ClassLstat | ClassFstat

var classByName = map[string]Class{
	"file": ClassFile, "process": ClassProcess, "network": ClassNetwork, "net": ClassNetwork,
	"signal": ClassSignal, "ipc": ClassIPC, "desc": ClassDesc, "memory": ClassMemory,
	"creds": ClassCreds, "clock": ClassClock, "stat": ClassStat, "lstat": ClassLstat,
	"fstat": ClassFstat, "statfs": ClassStatfs, "fstatfs": ClassFstatfs, "pure": ClassPure,
	"%stat": ClassStatLike, "%statfs": ClassStatfsLike,
}

// legacyClasses are the class names strace still accepts without "%" in
// -e trace= (any other bare word is a syscall name: "stat" is stat(2)).
var legacyClasses = map[string]bool{
	"file": true, "process": true, "network": true, "signal": true, "ipc": true, "desc": true, "memory": true,
}

// ParseClass parses a class name as strace spells it: "%file", "%net"
// (an alias of "%network"), "%%stat", "%%statfs", or the same names
// without the leading "%" ("file", "creds"). Names are case-sensitive.
func ParseClass(s string) (Class, bool) {
	s = strings.TrimPrefix(s, "%")
	c, ok := classByName[s]
	return c, ok
}

// In reports whether s belongs to any of the classes in c.
func (s *Syscall) In(c Class) bool {
	return s.Class&c != 0
}

// Select parses the value of strace's -e trace= option and returns the
// x86_64 syscalls it selects, in number order:
//
//   - a comma-separated list of syscall names ("openat"), decimal syscall
//     numbers ("257"), classes ("%file", "%%stat", "%net", and the legacy
//     bare "file", "process", "network", "signal", "ipc", "desc", "memory")
//     and regular expressions matched against names ("/^open");
//   - "all" and "none";
//   - a leading "!" negates the whole list ("!%memory,brk");
//   - a leading "?" on an item ignores it if it names nothing ("?foo").
//
// Empty items between commas are skipped, as strace does, but a spec with
// no item at all ("", "!", ",") is an error. An unknown name or class, a
// number outside the table, or a bad regular expression is an error naming
// the word.
func Select(spec string) ([]*Syscall, error) {
	if spec == "" {
		return nil, fmt.Errorf("abi: invalid system call %q", spec)
	}
	orig := spec
	neg := false
	if spec[0] == '!' {
		neg = true
		spec = spec[1:]
	}
	sel := make([]bool, len(sysX86_64))
	words := 0
	for _, word := range strings.Split(spec, ",") {
		if word == "" {
			continue
		}
		words++
		w := word
		optional := false
		if w[0] == '?' {
			optional = true
			w = w[1:]
		}
		ok, err := selectWord(w, sel)
		if err != nil {
			return nil, err
		}
		if !ok && !optional {
			return nil, fmt.Errorf("abi: invalid system call %q", word)
		}
	}
	if words == 0 {
		return nil, fmt.Errorf("abi: invalid system call %q", orig)
	}
	var r []*Syscall
	for i := range sysX86_64 {
		if sel[i] != neg {
			r = append(r, &sysX86_64[i])
		}
	}
	return r, nil
}

// selectWord marks what w selects. It returns false if w names nothing,
// and an error only for a malformed regular expression.
func selectWord(w string, sel []bool) (bool, error) {
	switch {
	case w == "all":
		for i := range sel {
			sel[i] = true
		}
		return true, nil
	case w == "none":
		return true, nil
	case w == "":
		return false, nil
	case w[0] == '/':
		re, err := regexp.Compile(w[1:])
		if err != nil {
			return false, fmt.Errorf("abi: bad regular expression %q: %v", w, err)
		}
		found := false
		for i := range sysX86_64 {
			if re.MatchString(sysX86_64[i].Name) {
				sel[i] = true
				found = true
			}
		}
		return found, nil
	case w[0] == '%':
		c, ok := classByName[w[1:]]
		if !ok {
			return false, nil
		}
		markClass(c, sel)
		return true, nil
	case w[0] >= '0' && w[0] <= '9':
		n, err := strconv.Atoi(w)
		if err != nil || n >= len(idxX86_64) {
			return false, nil
		}
		if i := idxX86_64[n]; i >= 0 {
			sel[i] = true
		}
		return true, nil
	}
	if legacyClasses[w] {
		markClass(classByName[w], sel)
		return true, nil
	}
	if s := Lookup(w); s != nil {
		sel[idxX86_64[s.Nr]] = true
		return true, nil
	}
	return false, nil
}

func markClass(c Class, sel []bool) {
	for i := range sysX86_64 {
		if sysX86_64[i].Class&c != 0 {
			sel[i] = true
		}
	}
}

var classNames = []struct {
	c    Class
	name string
}{
	{ClassFile, "%file"}, {ClassProcess, "%process"}, {ClassNetwork, "%network"},
	{ClassSignal, "%signal"}, {ClassIPC, "%ipc"}, {ClassDesc, "%desc"}, {ClassMemory, "%memory"},
	{ClassCreds, "%creds"}, {ClassClock, "%clock"}, {ClassStat, "%stat"}, {ClassLstat, "%lstat"},
	{ClassFstat, "%fstat"}, {ClassStatfs, "%statfs"}, {ClassFstatfs, "%fstatfs"}, {ClassPure, "%pure"},
	{ClassStatfsLike, "%%statfs"},
}

// String renders a class set as strace names joined by "|" ("%file|%desc"),
// or "0" for none.
func (c Class) String() string {
	var b strings.Builder
	for _, n := range classNames {
		if c&n.c != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(n.name)
			c &^= n.c
		}
	}
	if c != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		fmt.Fprintf(&b, "%#x", uint16(c))
	}
	if b.Len() == 0 {
		return "0"
	}
	return b.String()
}
