package abi

import "strconv"

// MaxArgs is the number of argument registers of a Linux syscall.
const MaxArgs = 6

// The tables live in zsyscalls_amd64.go (generated, see gen.go). Entries
// are shared: callers must not modify a *Syscall or its Args.

var byName = func() map[string]*Syscall {
	m := make(map[string]*Syscall, len(sysX86_64))
	for i := range sysX86_64 {
		m[sysX86_64[i].Name] = &sysX86_64[i]
	}
	return m
}()

// all is the x86_64 table in number order, built once.
var all = func() []*Syscall {
	r := make([]*Syscall, len(sysX86_64))
	for i := range sysX86_64 {
		r[i] = &sysX86_64[i]
	}
	return r
}()

// X86_64 returns the x86_64 syscall numbered nr, or nil if there is none.
// nr must not include the x32 bit.
func X86_64(nr int) *Syscall {
	if nr < 0 || nr >= len(idxX86_64) {
		return nil
	}
	i := idxX86_64[nr]
	if i < 0 {
		return nil
	}
	return &sysX86_64[i]
}

// Lookup returns the x86_64 syscall with the given name ("openat",
// "newfstatat", "_sysctl"), or nil if there is none.
func Lookup(name string) *Syscall {
	return byName[name]
}

// All returns every x86_64 syscall in number order. The slice is shared:
// do not modify it.
func All() []*Syscall {
	return all
}

// Name returns the name of syscall nr in arch's table. For ArchX32, nr
// includes X32Bit (as seccomp_data.nr and orig_rax show it); x32 entries
// reserved to the 64-bit ABI carry strace's "#64" suffix
// ("rt_sigaction#64"). A number with no name gives strace's
// "syscall_0x1ff" form (the number as given, in hex).
func Name(arch Arch, nr int) string {
	var n string
	switch arch {
	case ArchX86_64:
		if s := X86_64(nr); s != nil {
			n = s.Name
		}
	case ArchI386:
		if nr >= 0 && nr < len(namesI386) {
			n = namesI386[nr]
		}
	case ArchX32:
		if nr&X32Bit != 0 {
			if i := nr &^ X32Bit; i >= 0 && i < len(namesX32) {
				n = namesX32[i]
			}
		}
	}
	if n != "" {
		return n
	}
	return "syscall_0x" + strconv.FormatUint(uint64(nr), 16)
}
