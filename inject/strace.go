package inject

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
)

// Rule is one strace-style tampering rule, -e inject=... or -e fault=...
type Rule struct {
	Spec       string // as given, for messages and Action.By
	Calls      []int  // x86_64 syscall numbers of the set
	Errno      int    // fail with this errno (0: none)
	Retval     int64  // with HasRetval: return this value
	HasRetval  bool   //
	Signal     int    // deliver this signal at entry (0: none)
	DelayEnter time.Duration
	DelayExit  time.Duration
	// When: the invocations (counted per syscall and per thread, from 1, as
	// strace's "per syscall and per tracee") that are tampered with:
	// First, then every Step (0: only First), up to Last (0: no end).
	First, Last, Step int
	// Lineage, if set, restricts the rule to the thread whose
	// tracer.Thread.Lineage it is ("1", "1.2", "1.2/t3"); other threads'
	// calls are neither tampered with nor counted.
	Lineage string
	// Short, with HasShort, lowers the call's byte count (see CountArg) to
	// at most Short: a short read or write.
	Short    uint64
	HasShort bool
}

// matches reports whether the n-th invocation is tampered with.
func (r *Rule) matches(n uint32) bool {
	k := int(n)
	if k < r.First || (r.Last > 0 && k > r.Last) {
		return false
	}
	if r.Step == 0 {
		return k == r.First
	}
	return (k-r.First)%r.Step == 0
}

// ParseStrace parses strace's tampering spelling, with or without the
// "-e " and with "inject=" or "fault=" (fault is inject with error
// defaulting to ENOSYS, and only error=, when= and lineage= allowed):
//
//	inject=SET:error=ERRNO|retval=N|short=N[:signal=SIG][:delay_enter=T][:delay_exit=T][:when=EXPR][:lineage=L]
//	fault=SET[:error=ERRNO][:when=EXPR][:lineage=L]
//
// SET is strace's -e trace= syntax (names, %classes, /regex, !negation);
// T is a time with an optional s, ms, us or ns suffix (microseconds by
// default); EXPR is FIRST[..LAST][+[STEP]] with FIRST and STEP in 1..65535
// and LAST in 1..65534. Unknown keys, duplicate error=/retval=/signal=,
// error with retval, and an inject rule with no action are errors, as in
// strace. poke_enter=, poke_exit= and syscall= are not supported.
//
// Two keys are hermes's own:
//
//   - lineage=L applies the rule only to the thread of lineage L ("1" is
//     the first process's first thread, "1.2" its second child, "1.2/t3"
//     that child's third thread; see tracer.Thread.Lineage), and when=
//     counts only that thread's calls. Without it a rule applies to every
//     thread, counting per thread as strace does.
//   - short=N runs the call with its byte count lowered to N (when it is
//     above N): a short read or write, the kernel transferring at most N
//     bytes. Every call of SET must have a plain byte count (read, write,
//     pread64, pwrite64, sendto, recvfrom, getdents64, getrandom: see
//     CountArg); vectored calls (readv, sendmsg...) are refused, since
//     lowering an iovec count is not the same. short= combines with
//     when=, lineage=, signal= and the delays, not with error= or retval=.
func ParseStrace(spec string) (Rule, error) {
	orig := spec
	spec = strings.TrimPrefix(spec, "-e ")
	spec = strings.TrimPrefix(spec, "--")
	kind, body, ok := strings.Cut(spec, "=")
	if !ok || (kind != "inject" && kind != "fault") {
		return Rule{}, fmt.Errorf("%q: want inject=SET:OPTIONS or fault=SET:OPTIONS", orig)
	}
	fault := kind == "fault"
	bad := func(format string, args ...any) (Rule, error) {
		return Rule{}, fmt.Errorf("invalid %s argument %q: %s", kind, body, fmt.Sprintf(format, args...))
	}
	parts := strings.Split(body, ":")
	set := parts[0]
	if set == "" {
		return bad("empty syscall set")
	}
	calls, err := abi.Select(set)
	if err != nil {
		return bad("invalid system call %q", set)
	}
	r := Rule{Spec: kind + "=" + body, First: 1, Step: 1}
	for _, c := range calls {
		r.Calls = append(r.Calls, c.Nr)
	}
	var haveErr, haveSig, haveDelay, haveLineage bool
	for _, p := range parts[1:] {
		if p == "" {
			continue
		}
		key, val, ok := strings.Cut(p, "=")
		if !ok {
			return bad("%q is not KEY=VALUE", p)
		}
		if fault && key != "error" && key != "when" && key != "lineage" {
			return bad("fault= accepts only error=, when= and lineage=")
		}
		switch key {
		case "error":
			if r.HasShort {
				return bad("short= and error= exclude each other")
			}
			if haveErr {
				return bad("only one error= or retval=")
			}
			haveErr = true
			e, ok := parseErrno(val)
			if !ok {
				return bad("invalid error %q", val)
			}
			r.Errno = e
		case "retval":
			if r.HasShort {
				return bad("short= and retval= exclude each other")
			}
			if haveErr {
				return bad("only one error= or retval=")
			}
			haveErr = true
			v, ok := parseRetval(val)
			if !ok {
				return bad("invalid retval %q", val)
			}
			r.Retval, r.HasRetval = v, true
		case "signal":
			if haveSig {
				return bad("only one signal=")
			}
			haveSig = true
			sig, ok := abi.SignalByName(val)
			if !ok || sig < 1 || sig > abi.SigRTMax {
				return bad("invalid signal %q", val)
			}
			r.Signal = sig
		case "delay_enter", "delay_exit":
			d, ok := parseDelay(val)
			if !ok {
				return bad("invalid delay %q", val)
			}
			haveDelay = true
			if key == "delay_enter" {
				r.DelayEnter = d
			} else {
				r.DelayExit = d
			}
		case "when":
			first, last, step, ok := parseWhen(val)
			if !ok {
				return bad("invalid when %q", val)
			}
			r.First, r.Last, r.Step = first, last, step
		case "lineage":
			if haveLineage {
				return bad("only one lineage=")
			}
			haveLineage = true
			if !validLineage(val) {
				return bad("invalid lineage %q (want N[.N...][/tN], as 1, 1.2 or 1.2/t3)", val)
			}
			r.Lineage = val
		case "short":
			if r.HasShort {
				return bad("only one short=")
			}
			if haveErr {
				return bad("short= and error=/retval= exclude each other")
			}
			n, err := strconv.ParseUint(val, 10, 63)
			if err != nil || val == "" || val[0] == '+' {
				return bad("invalid short %q (want a byte count)", val)
			}
			for _, c := range calls {
				if _, ok := CountArg(c); !ok {
					return bad("short= needs calls with a byte-count argument, and %s has none", countlessWhy(c))
				}
			}
			r.Short, r.HasShort = n, true
		case "poke_enter", "poke_exit", "syscall":
			return bad("%s= is not supported by hermes (use a Lua script)", key)
		default:
			return bad("unknown key %q", key)
		}
	}
	if fault && !haveErr {
		r.Errno = int(enosys)
		haveErr = true
	}
	if !haveErr && !haveSig && !haveDelay && !r.HasShort {
		return bad("at least one of error, retval, short, signal, delay_enter or delay_exit is required")
	}
	return r, nil
}

// CountArg returns the index of a syscall's byte-count argument, the one
// short= lowers: the length of its data buffer (an abi.KindBufIn or
// KindBufOut argument's SizeArg in the generated table), for the calls
// that move data through a descriptor or from the kernel's random pool
// (abi.ReplayRead, ReplayWrite, ReplayRandom). Other buffer lengths
// (sigset sizes, struct sizes of clone3 or openat2) are not byte counts
// of a transfer, and vectored calls count iovecs.
func CountArg(s *abi.Syscall) (int, bool) {
	if s == nil || s.Replay&(abi.ReplayRead|abi.ReplayWrite|abi.ReplayRandom) == 0 {
		return 0, false
	}
	idx := -1
	for _, a := range s.Args {
		if (a.Kind == abi.KindBufIn || a.Kind == abi.KindBufOut) && a.SizeArg >= 0 && int(a.SizeArg) < len(s.Args) {
			if idx >= 0 && idx != int(a.SizeArg) {
				return 0, false // two buffers: which count is ambiguous
			}
			idx = int(a.SizeArg)
		}
	}
	return idx, idx >= 0
}

// countlessWhy names a call without a byte count, and why.
func countlessWhy(s *abi.Syscall) string {
	for _, a := range s.Args {
		switch a.Kind {
		case abi.KindIovIn, abi.KindIovOut, abi.KindMsghdrIn, abi.KindMsghdrOut:
			return s.Name + " (it is vectored: lowering its iovec count is not a short transfer)"
		}
	}
	return s.Name
}

// validLineage reports whether s is spelled like a tracer lineage:
// N[.N...][/tN], numbers from 1 without leading zeros.
func validLineage(s string) bool {
	proc, thread, hasThread := strings.Cut(s, "/t")
	if hasThread && !validNum(thread) {
		return false
	}
	for _, n := range strings.Split(proc, ".") {
		if !validNum(n) {
			return false
		}
	}
	return true
}

func validNum(s string) bool {
	if s == "" || len(s) > 9 || s[0] == '0' {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

const enosys = 38

func parseErrno(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	if s[0] >= '0' && s[0] <= '9' {
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= 1 && n <= abi.MaxErrno
	}
	return errnoByName(s)
}

// parseRetval accepts what strtoull(s, 0) does, and negative numbers.
func parseRetval(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	if s[0] == '-' {
		v, err := strconv.ParseInt(s, 0, 64)
		return v, err == nil
	}
	v, err := strconv.ParseUint(s, 0, 64)
	return int64(v), err == nil
}

// parseDelay parses strace's time spec: a decimal number with an optional
// suffix s, ms, us or ns; microseconds by default.
func parseDelay(s string) (time.Duration, bool) {
	unit := time.Microsecond
	for _, suf := range []struct {
		s string
		u time.Duration
	}{{"ms", time.Millisecond}, {"us", time.Microsecond}, {"ns", time.Nanosecond}, {"s", time.Second}} {
		if strings.HasSuffix(s, suf.s) {
			s, unit = strings.TrimSuffix(s, suf.s), suf.u
			break
		}
	}
	if s == "" || strings.ContainsAny(s, " \t+") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	d := f * float64(unit)
	if d > float64(24*time.Hour) {
		return 0, false
	}
	return time.Duration(d), true
}

// parseWhen parses FIRST[..LAST][+[STEP]].
func parseWhen(s string) (first, last, step int, ok bool) {
	num := func(t string, max int) (int, bool) {
		if t == "" || t[0] < '0' || t[0] > '9' {
			return 0, false
		}
		n, err := strconv.Atoi(t)
		return n, err == nil && n >= 1 && n <= max
	}
	rest := s
	var stepPart string
	hasPlus := false
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		rest, stepPart, hasPlus = rest[:i], rest[i+1:], true
	}
	firstPart, lastPart, hasRange := strings.Cut(rest, "..")
	if firstPart == "" && hasPlus && !hasRange {
		first = 1 // strace accepts "+STEP"
	} else if first, ok = num(firstPart, 65535); !ok {
		return 0, 0, 0, false
	}
	if hasRange {
		if last, ok = num(lastPart, 65534); !ok || last < first {
			return 0, 0, 0, false
		}
		step = 1
	}
	if hasPlus {
		if stepPart == "" {
			step = 1
		} else if step, ok = num(stepPart, 65535); !ok {
			return 0, 0, 0, false
		}
	}
	return first, last, step, true
}

// ruleSet applies rules. As in strace, a later rule naming a syscall
// replaces an earlier one for that syscall, and invocations are counted
// per syscall and per thread.
type ruleSet struct {
	rules  []Rule
	byNr   []int16 // rule index+1 per syscall number
	slot   []int16 // counter slot+1 per syscall number
	nslots int
	counts map[*tracer.Thread][]uint32
}

func newRuleSet() *ruleSet {
	return &ruleSet{byNr: make([]int16, maxNr), slot: make([]int16, maxNr), counts: make(map[*tracer.Thread][]uint32)}
}

func (rs *ruleSet) add(r Rule) {
	rs.rules = append(rs.rules, r)
	for _, nr := range r.Calls {
		if nr < 0 || nr >= maxNr {
			continue
		}
		rs.byNr[nr] = int16(len(rs.rules))
		if rs.slot[nr] == 0 {
			rs.nslots++
			rs.slot[nr] = int16(rs.nslots)
		}
	}
	// Threads seen before this rule keep counting in slices that are
	// too short: reset them (rules are added before the run anyway).
	clear(rs.counts)
}

func (rs *ruleSet) trapped() []int {
	var out []int
	for nr, i := range rs.byNr {
		if i != 0 {
			out = append(out, nr)
		}
	}
	return out
}

func (rs *ruleSet) rule(sc *tracer.Syscall) *Rule {
	if sc.Arch != abi.ArchX86_64 || sc.Nr < 0 || sc.Nr >= maxNr || rs.byNr[sc.Nr] == 0 {
		return nil
	}
	return &rs.rules[rs.byNr[sc.Nr]-1]
}

// enter counts the invocation and applies the rule at entry; it reports
// whether it changed the action.
func (rs *ruleSet) enter(sc *tracer.Syscall, act *tracer.Action) bool {
	r := rs.rule(sc)
	if r == nil || (r.Lineage != "" && sc.Thread.Lineage != r.Lineage) {
		return false
	}
	cnt := rs.counts[sc.Thread]
	if cnt == nil {
		cnt = make([]uint32, rs.nslots)
		rs.counts[sc.Thread] = cnt
	}
	i := rs.slot[sc.Nr] - 1
	cnt[i]++
	if !r.matches(cnt[i]) {
		return false
	}
	switch {
	case r.Errno != 0:
		if !failUnchanged(sc, act) {
			act.Skip, act.Value = true, -int64(r.Errno)
		}
	case r.HasRetval:
		act.Skip, act.Value = true, r.Retval
	case r.HasShort:
		if i, ok := CountArg(sc.Info); ok {
			n := sc.Args[i]
			if act.SetArgs&(1<<i) != 0 {
				n = act.Args[i]
			}
			if n > r.Short {
				act.SetArgs |= 1 << i
				act.Args[i] = r.Short
			}
		}
	}
	if r.Signal != 0 {
		act.Signal = r.Signal
	}
	if r.DelayEnter > 0 {
		act.Delay += r.DelayEnter
	}
	if r.DelayExit > 0 {
		act.WantExit = true
	}
	act.By = r.Spec
	return true
}

// exit applies delay_exit to a call whose entry matched.
func (rs *ruleSet) exit(sc *tracer.Syscall, act *tracer.Action) bool {
	r := rs.rule(sc)
	if r == nil || r.DelayExit == 0 || (r.Lineage != "" && sc.Thread.Lineage != r.Lineage) {
		return false
	}
	cnt := rs.counts[sc.Thread]
	if cnt == nil || !r.matches(cnt[rs.slot[sc.Nr]-1]) {
		return false
	}
	act.Delay += r.DelayExit
	act.By = r.Spec
	return false // counted at entry
}

func (rs *ruleSet) forget(th *tracer.Thread) { delete(rs.counts, th) }
