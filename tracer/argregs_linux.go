package tracer

// A system call leaves every register but rax (and rcx and r11, which
// the syscall instruction itself uses) as it found them, and compiled code
// counts on it: glibc's brk wrapper compares the new break with the
// argument still in rdi. Argument registers a handler changes
// (Action.SetArgs, strings moved to the scratch mapping) are therefore
// saved at entry and given back at the call's exit, as the program left
// them; the handlers see the changed values (Syscall.Args) until then.

// stringArgs returns the mask of the arguments act points at new strings.
func stringArgs(act *Action) uint8 {
	var m uint8
	for _, s := range act.Strings {
		if s.Index >= 0 && s.Index < 6 {
			m |= 1 << s.Index
		}
	}
	return m
}

// saveArgs keeps what the argument registers of mask hold now, for those
// not kept already in this call (a call entered again keeps the program's
// first values).
func (th *Thread) saveArgs(mask uint8) {
	mask &^= th.argSaved
	if mask == 0 {
		return
	}
	regs, err := th.sc.Regs()
	if err != nil {
		return
	}
	ar := argRegs(regs, th.sc.Arch)
	for i := 0; i < 6; i++ {
		if mask&(1<<i) != 0 {
			th.argOrig[i] = *ar[i]
		}
	}
	th.argSaved |= mask
}

// restoreArgs gives the program back the argument registers saved in this
// call, unless the call replaced every register (a successful execve, an
// rt_sigreturn).
func (th *Thread) restoreArgs() {
	mask := th.argSaved
	th.argSaved = 0
	sc := &th.sc
	if mask == 0 {
		return
	}
	switch sc.Name() {
	case "rt_sigreturn", "sigreturn":
		return
	case "execve", "execveat":
		if sc.Ret == 0 && !sc.Skipped {
			return
		}
	}
	regs, err := sc.Regs()
	if err != nil {
		return
	}
	ar := argRegs(regs, sc.Arch)
	for i := 0; i < 6; i++ {
		if mask&(1<<i) != 0 {
			*ar[i] = th.argOrig[i]
		}
	}
	sc.regsDirty = true
}
