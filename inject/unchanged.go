package inject

import (
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
)

// failUnchanged fails the call sc the kernel's way where the kernel never
// fails it with an error (the syscall table's abi.ReplayUnchanged): it
// runs with argument 0 set to 0, which changes nothing and returns the
// current state. A brk that cannot grow returns the current break, and
// libc's sbrk reports ENOMEM; a -ENOMEM returned as the break would be a
// bad pointer no kernel gives, and the program would crash where it never
// can. It reports whether it acted.
func failUnchanged(sc *tracer.Syscall, act *tracer.Action) bool {
	if sc.Info == nil || sc.Info.Replay&abi.ReplayUnchanged == 0 {
		return false
	}
	act.Skip = false
	act.SetArgs |= 1
	act.Args[0] = 0
	return true
}
