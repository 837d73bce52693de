package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Where a syscall carries an id that is not the same in two runs: a pid, or
// an id the kernel hands out. Replay gives the program the recorded id and
// the kernel the live one (see abi.IDRef). An argument whose C type in the
// tracepoint format is pid_t is a pid without being listed here; idSpecs
// adds what the C types do not say, one token per place:
//
//	WHERE:KIND[@OFF][/out][?ARG=VAL]
//
//	WHERE     an argument index (0-5), or "ret" for the return value
//	KIND      pid, msq, sem, shm (SysV IPC ids), key (key serials), timer
//	          (POSIX timer ids)
//	@OFF      a 32-bit field at byte offset OFF of the struct the argument
//	          points to, not the argument itself
//	/out      the kernel writes it (the return value always is)
//	?ARG=VAL  only when argument ARG equals VAL (a command)
//
// "-N" drops argument N's pid_t default (a token for argument N replaces it
// as well).
var idSpecs = map[string]string{
	// pids inside structures and behind commands
	"capget": "0:pid@4",
	"capset": "0:pid@4",
	"fcntl":  "2:pid?1=8 ret:pid?1=9 2:pid@4?1=15 2:pid@4/out?1=16 2:pid@24/out?1=5", // F_SETOWN, F_GETOWN, F_SETOWN_EX, F_GETOWN_EX, F_GETLK's l_pid
	"ioctl": "2:pid@0?1=0x8901 2:pid@0?1=0x8902 2:pid@0/out?1=0x8903 2:pid@0/out?1=0x8904 " + // FIOSETOWN, SIOCSPGRP, FIOGETOWN, SIOCGPGRP
		"2:pid@0?1=0x5410 2:pid@0/out?1=0x540f 2:pid@0/out?1=0x5429", // TIOCSPGRP, TIOCGPGRP, TIOCGSID
	"ioprio_get":      "1:pid?0=1 1:pid?0=2", // IOPRIO_WHO_PROCESS, IOPRIO_WHO_PGRP
	"ioprio_set":      "1:pid?0=1 1:pid?0=2",
	"waitid":          "1:pid?0=1 1:pid?0=2", // P_PID, P_PGID
	"ptrace":          "1:pid",
	"perf_event_open": "1:pid",
	// SysV IPC ids
	"msgget":     "ret:msq",
	"msgsnd":     "0:msq",
	"msgrcv":     "0:msq",
	"msgctl":     "0:msq",
	"semget":     "ret:sem",
	"semop":      "0:sem",
	"semtimedop": "0:sem",
	"semctl":     "0:sem",
	"shmget":     "ret:shm",
	"shmat":      "0:shm",
	"shmctl":     "0:shm",
	// key serials (keyctl: the key is argument 1; LINK, UNLINK, SEARCH,
	// MOVE name a keyring in argument 2 or 3; GET_KEYRING_ID,
	// JOIN_SESSION_KEYRING and SEARCH return one)
	"add_key":     "ret:key 4:key",
	"request_key": "ret:key 3:key",
	"keyctl": "1:key 2:key?0=8 2:key?0=9 3:key?0=10 2:key?0=30 3:key?0=30 " +
		"ret:key?0=0 ret:key?0=1 ret:key?0=10",
	// POSIX timer ids
	"timer_create":     "2:timer@0/out",
	"timer_settime":    "0:timer",
	"timer_gettime":    "0:timer",
	"timer_getoverrun": "0:timer",
	"timer_delete":     "0:timer",
}

var idKinds = map[string]string{
	"pid": "IDPid", "msq": "IDMsq", "sem": "IDSem", "shm": "IDShm", "key": "IDKey", "timer": "IDTimer",
}

// idRef is one parsed token.
type idRef struct {
	kind      string
	arg, off  int
	out       bool
	ifArg     int
	ifVal     uint64
	hasIfCond bool
}

func parseIDToken(tok string, nargs int) (idRef, error) {
	r := idRef{off: -1, ifArg: -1}
	if i := strings.IndexByte(tok, '?'); i >= 0 {
		a, v, ok := strings.Cut(tok[i+1:], "=")
		if !ok {
			return r, fmt.Errorf("%q: condition wants ARG=VAL", tok)
		}
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 || n >= nargs {
			return r, fmt.Errorf("%q: bad condition argument", tok)
		}
		val, err := strconv.ParseUint(v, 0, 64)
		if err != nil {
			return r, fmt.Errorf("%q: %v", tok, err)
		}
		r.ifArg, r.ifVal, r.hasIfCond = n, val, true
		tok = tok[:i]
	}
	if s, ok := strings.CutSuffix(tok, "/out"); ok {
		r.out, tok = true, s
	}
	where, what, ok := strings.Cut(tok, ":")
	if !ok {
		return r, fmt.Errorf("%q: want WHERE:KIND", tok)
	}
	if k, off, ok := strings.Cut(what, "@"); ok {
		n, err := strconv.Atoi(off)
		if err != nil || n < 0 {
			return r, fmt.Errorf("%q: bad offset", tok)
		}
		r.off, what = n, k
	}
	if _, ok := idKinds[what]; !ok {
		return r, fmt.Errorf("%q: unknown id kind %q", tok, what)
	}
	r.kind = what
	if where == "ret" {
		if r.off >= 0 {
			return r, fmt.Errorf("%q: the return value has no fields", tok)
		}
		r.arg, r.out = 6, true
		return r, nil
	}
	n, err := strconv.Atoi(where)
	if err != nil || n < 0 || n >= nargs {
		return r, fmt.Errorf("%q: bad argument %q", tok, where)
	}
	r.arg = n
	if r.out && r.off < 0 {
		return r, fmt.Errorf("%q: only a field or the return value is written", tok)
	}
	return r, nil
}

// idsLiteral renders the IDs field of a table entry ("" for none): the
// pid_t arguments, and idSpecs.
func idsLiteral(name string, args []tpArg) (string, error) {
	var refs []idRef
	listed := map[int]bool{}
	for _, tok := range strings.Fields(idSpecs[name]) {
		if n, ok := strings.CutPrefix(tok, "-"); ok {
			i, err := strconv.Atoi(n)
			if err != nil {
				return "", fmt.Errorf("%s: bad id token %q", name, tok)
			}
			listed[i] = true
			continue
		}
		r, err := parseIDToken(tok, len(args))
		if err != nil {
			return "", fmt.Errorf("%s: %v", name, err)
		}
		if r.arg < 6 {
			listed[r.arg] = true
		}
		refs = append(refs, r)
	}
	for i, a := range args {
		if a.ctype == "pid_t" && !listed[i] {
			refs = append(refs, idRef{kind: "pid", arg: i, off: -1, ifArg: -1})
		}
	}
	if len(refs) == 0 {
		return "", nil
	}
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].arg < refs[j].arg })
	var b strings.Builder
	b.WriteString(" IDs: []IDRef{")
	for _, r := range refs {
		fmt.Fprintf(&b, "{Kind: %s, Arg: %d, Off: %d", idKinds[r.kind], r.arg, r.off)
		if r.out {
			b.WriteString(", Out: true")
		}
		if r.hasIfCond {
			fmt.Fprintf(&b, ", If: %d, IfVal: %#x", r.ifArg, r.ifVal)
		} else {
			b.WriteString(", If: NoArg")
		}
		b.WriteString("}, ")
	}
	b.WriteString("},")
	return b.String(), nil
}
