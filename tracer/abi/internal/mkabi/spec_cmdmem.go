package main

import (
	"fmt"
	"strconv"
	"strings"
)

// Memory a command-dependent argument (kind "cmd", abi.KindCmdArg) points
// to for given values of the command: what the generic kinds cannot say,
// since the same argument is an integer for one command and a struct for
// another (see abi.CmdMem). One token per place:
//
//	ARG:SIZE/DIR?CMD[&MASK]=VAL[,VAL...]
//
//	ARG   the pointer argument (0-5)
//	SIZE  the struct's size in bytes on x86_64
//	DIR   in (the kernel reads it at entry), out (it writes it when the
//	      call succeeds) or inout (both)
//	CMD   the command argument; VAL the command values, one entry each;
//	      MASK the bits of the command compared (default: all)
var cmdMemSpecs = map[string]string{
	// struct flock (32 bytes): F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW
	// read it; F_GETLK and F_OFD_GETLK read it and write the lock found
	// back. struct f_owner_ex (8 bytes): F_SETOWN_EX reads it,
	// F_GETOWN_EX writes it. (F_GETLK64 and the like are 32-bit only:
	// x86_64's fcntl fails them with EINVAL.)
	"fcntl": "2:32/in?1=6,7,37,38 2:32/inout?1=5,36 2:8/in?1=15 2:8/out?1=16",
	// The timeout (struct __kernel_timespec) of FUTEX_WAIT, FUTEX_LOCK_PI,
	// FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI and FUTEX_LOCK_PI2, whatever
	// FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME say.
	"futex": "3:16/in?1&0x7f=0,6,9,11,13",
	// The SysV IPC stat commands fill the object's struct (shmid_ds 112,
	// msqid_ds 120, semid_ds 104 bytes): IPC_STAT, and SHM_STAT(_ANY),
	// MSG_STAT(_ANY), SEM_STAT(_ANY), whatever IPC_64 (0x100) says;
	// IPC_SET (1) reads the same struct.
	"shmctl": "2:112/out?1&0xff=2,13,15 2:112/in?1&0xff=1",
	"msgctl": "2:120/out?1&0xff=2,11,13 2:120/in?1&0xff=1",
	"semctl": "3:104/out?2&0xff=2,18,20 3:104/in?2&0xff=1",
}

// cmdMemRef is one parsed entry (a token gives one per value).
type cmdMemRef struct {
	arg, size int
	in, out   bool
	ifArg     int
	ifMask    uint64
	ifVal     uint64
}

func parseCmdMemToken(tok string, nargs int) ([]cmdMemRef, error) {
	body, cond, ok := strings.Cut(tok, "?")
	if !ok {
		return nil, fmt.Errorf("%q: want ?CMD=VAL", tok)
	}
	where, dir, ok := strings.Cut(body, "/")
	if !ok {
		return nil, fmt.Errorf("%q: want /in, /out or /inout", tok)
	}
	a, s, ok := strings.Cut(where, ":")
	if !ok {
		return nil, fmt.Errorf("%q: want ARG:SIZE", tok)
	}
	var r cmdMemRef
	var err error
	if r.arg, err = strconv.Atoi(a); err != nil || r.arg < 0 || r.arg >= nargs {
		return nil, fmt.Errorf("%q: bad argument %q", tok, a)
	}
	if r.size, err = strconv.Atoi(s); err != nil || r.size <= 0 || r.size > 1<<16-1 {
		return nil, fmt.Errorf("%q: bad size %q", tok, s)
	}
	switch dir {
	case "in":
		r.in = true
	case "out":
		r.out = true
	case "inout":
		r.in, r.out = true, true
	default:
		return nil, fmt.Errorf("%q: bad direction %q", tok, dir)
	}
	c, vals, ok := strings.Cut(cond, "=")
	if !ok {
		return nil, fmt.Errorf("%q: condition wants CMD=VAL", tok)
	}
	r.ifMask = ^uint64(0)
	if cmd, mask, ok := strings.Cut(c, "&"); ok {
		if r.ifMask, err = strconv.ParseUint(mask, 0, 64); err != nil || r.ifMask == 0 {
			return nil, fmt.Errorf("%q: bad mask %q", tok, mask)
		}
		c = cmd
	}
	if r.ifArg, err = strconv.Atoi(c); err != nil || r.ifArg < 0 || r.ifArg >= nargs || r.ifArg == r.arg {
		return nil, fmt.Errorf("%q: bad command argument %q", tok, c)
	}
	var refs []cmdMemRef
	for _, v := range strings.Split(vals, ",") {
		if r.ifVal, err = strconv.ParseUint(v, 0, 64); err != nil || r.ifVal&^r.ifMask != 0 {
			return nil, fmt.Errorf("%q: bad value %q", tok, v)
		}
		refs = append(refs, r)
	}
	return refs, nil
}

// cmdMemLiteral renders the CmdMem field of a table entry ("" for none).
func cmdMemLiteral(name string, args []tpArg) (string, error) {
	toks := strings.Fields(cmdMemSpecs[name])
	if len(toks) == 0 {
		return "", nil
	}
	var b strings.Builder
	b.WriteString(" CmdMem: []CmdMem{")
	seen := map[[2]uint64]bool{}
	for _, tok := range toks {
		refs, err := parseCmdMemToken(tok, len(args))
		if err != nil {
			return "", fmt.Errorf("%s: %v", name, err)
		}
		for _, r := range refs {
			if args[r.arg].ctype != "unsigned long" && !strings.Contains(args[r.arg].ctype, "*") {
				return "", fmt.Errorf("%s: %q: argument %d (%s) cannot hold a pointer", name, tok, r.arg, args[r.arg].ctype)
			}
			k := [2]uint64{uint64(r.arg), r.ifVal}
			if seen[k] {
				return "", fmt.Errorf("%s: %q: argument %d listed twice for %d", name, tok, r.arg, r.ifVal)
			}
			seen[k] = true
			fmt.Fprintf(&b, "{Arg: %d, Size: %d, If: %d, IfVal: %#x", r.arg, r.size, r.ifArg, r.ifVal)
			if r.ifMask != ^uint64(0) {
				fmt.Fprintf(&b, ", IfMask: %#x", r.ifMask)
			}
			if r.in {
				b.WriteString(", In: true")
			}
			if r.out {
				b.WriteString(", Out: true")
			}
			b.WriteString("}, ")
		}
	}
	b.WriteString("},")
	return b.String(), nil
}
