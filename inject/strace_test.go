package inject_test

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/tracer/abi"
)

func TestParseStrace(t *testing.T) {
	write := abi.Lookup("write").Nr
	for _, tc := range []struct {
		spec string
		want inject.Rule // Spec and Calls are checked separately
		err  bool
	}{
		{spec: "inject=write:error=EIO", want: inject.Rule{Errno: 5, First: 1, Step: 1}},
		{spec: "-e inject=write:error=eio:when=3", want: inject.Rule{Errno: 5, First: 3}},
		{spec: "inject=write:error=4095", want: inject.Rule{Errno: 4095, First: 1, Step: 1}},
		{spec: "inject=write:retval=0x10:when=2..5", want: inject.Rule{Retval: 16, HasRetval: true, First: 2, Last: 5, Step: 1}},
		{spec: "inject=write:retval=-5", want: inject.Rule{Retval: -5, HasRetval: true, First: 1, Step: 1}},
		{spec: "inject=write:signal=SIGUSR1:when=3+", want: inject.Rule{Signal: 10, First: 3, Step: 1}},
		{spec: "inject=write:signal=10:when=3+2", want: inject.Rule{Signal: 10, First: 3, Step: 2}},
		{spec: "inject=write:error=EIO:when=2..5+", want: inject.Rule{Errno: 5, First: 2, Last: 5, Step: 1}},
		{spec: "inject=write:error=EIO:when=1..65534+3", want: inject.Rule{Errno: 5, First: 1, Last: 65534, Step: 3}},
		{spec: "inject=write:error=EIO:when=+3", want: inject.Rule{Errno: 5, First: 1, Step: 3}},
		{spec: "inject=write:error=EIO:when=3:when=5", want: inject.Rule{Errno: 5, First: 5}},
		{spec: "inject=write:delay_enter=1.5ms", want: inject.Rule{DelayEnter: 1500 * time.Microsecond, First: 1, Step: 1}},
		{spec: "inject=write:delay_exit=250", want: inject.Rule{DelayExit: 250 * time.Microsecond, First: 1, Step: 1}},
		{spec: "inject=write:delay_enter=1s:delay_exit=3ns", want: inject.Rule{DelayEnter: time.Second, DelayExit: 3, First: 1, Step: 1}},
		{spec: "inject=write:error=ENOSPC:", want: inject.Rule{Errno: 28, First: 1, Step: 1}},
		{spec: "inject=write:error=ENOSPC::when=1", want: inject.Rule{Errno: 28, First: 1}},
		{spec: "fault=write", want: inject.Rule{Errno: 38, First: 1, Step: 1}},
		{spec: "fault=write:when=3", want: inject.Rule{Errno: 38, First: 3}},
		{spec: "fault=write:error=EPERM", want: inject.Rule{Errno: 1, First: 1, Step: 1}},
		{spec: "inject=write:error=EIO:when=5..3", err: true},
		{spec: "inject=write:error=EIO:when=0", err: true},
		{spec: "inject=write:error=EIO:when=3+0", err: true},
		{spec: "inject=write:error=EIO:when=65536", err: true},
		{spec: "inject=write:error=EIO:when=1..65535", err: true},
		{spec: "inject=write:error=EIO:when=2..", err: true},
		{spec: "inject=write:retval=5:error=EIO", err: true},
		{spec: "inject=write:error=EIO:error=EPERM", err: true},
		{spec: "inject=write:error=EIO:signal=SIGUSR1:signal=SIGUSR2", err: true},
		{spec: "inject=write", err: true},
		{spec: "inject=write:when=2", err: true},
		{spec: "inject=write:error=4096", err: true},
		{spec: "inject=write:error=0", err: true},
		{spec: "inject=write:error= EIO", err: true},
		{spec: "inject=write:signal=0", err: true},
		{spec: "inject=write:signal=65", err: true},
		{spec: "inject=write:delay_exit=abc", err: true},
		{spec: "inject=write:delay_enter=-1", err: true},
		{spec: "inject=write:bogus=1:error=EIO", err: true},
		{spec: "inject=foo:error=EIO", err: true},
		{spec: "inject=:error=EIO", err: true},
		{spec: "fault=write:retval=3", err: true},
		{spec: "fault=write:signal=SIGUSR1", err: true},
		{spec: "fault=write:delay_enter=5", err: true},
		{spec: "trace=write", err: true},
		{spec: "inject=write:poke_enter=@arg1=00", err: true},
		// hermes's own keys: lineage= and short=.
		{spec: "inject=write:error=ENOSPC:when=3:lineage=1", want: inject.Rule{Errno: 28, First: 3, Lineage: "1"}},
		{spec: "inject=write:error=EIO:lineage=1.2", want: inject.Rule{Errno: 5, First: 1, Step: 1, Lineage: "1.2"}},
		{spec: "inject=write:lineage=1.2.10/t3:retval=0", want: inject.Rule{HasRetval: true, First: 1, Step: 1, Lineage: "1.2.10/t3"}},
		{spec: "fault=write:lineage=1.1", want: inject.Rule{Errno: 38, First: 1, Step: 1, Lineage: "1.1"}},
		{spec: "inject=write:short=3", want: inject.Rule{Short: 3, HasShort: true, First: 1, Step: 1}},
		{spec: "inject=write:short=0:when=2", want: inject.Rule{HasShort: true, First: 2}},
		{spec: "inject=write:short=3:when=1:lineage=1.1", want: inject.Rule{Short: 3, HasShort: true, First: 1, Lineage: "1.1"}},
		{spec: "inject=write:when=3:short=100:signal=SIGUSR1:delay_enter=1ms",
			want: inject.Rule{Short: 100, HasShort: true, Signal: 10, DelayEnter: time.Millisecond, First: 3}},
		{spec: "inject=write:lineage=1", err: true}, // no action
		{spec: "inject=write:error=EIO:lineage=", err: true},
		{spec: "inject=write:error=EIO:lineage=0", err: true},
		{spec: "inject=write:error=EIO:lineage=01", err: true},
		{spec: "inject=write:error=EIO:lineage=1.", err: true},
		{spec: "inject=write:error=EIO:lineage=.1", err: true},
		{spec: "inject=write:error=EIO:lineage=1/t", err: true},
		{spec: "inject=write:error=EIO:lineage=1/3", err: true},
		{spec: "inject=write:error=EIO:lineage=1/t3/t4", err: true},
		{spec: "inject=write:error=EIO:lineage=a", err: true},
		{spec: "inject=write:error=EIO:lineage=1:lineage=1", err: true},
		{spec: "inject=write:short=", err: true},
		{spec: "inject=write:short=-1", err: true},
		{spec: "inject=write:short=+3", err: true},
		{spec: "inject=write:short=0x10", err: true},
		{spec: "inject=write:short=9223372036854775808", err: true},
		{spec: "inject=write:short=3:short=4", err: true},
		{spec: "inject=write:short=3:error=EIO", err: true},
		{spec: "inject=write:error=EIO:short=3", err: true},
		{spec: "inject=write:retval=1:short=3", err: true},
		{spec: "inject=write:short=3:retval=1", err: true},
		{spec: "fault=write:short=3", err: true},
	} {
		r, err := inject.ParseStrace(tc.spec)
		if tc.err {
			if err == nil {
				t.Errorf("%s: accepted as %+v", tc.spec, r)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.spec, err)
			continue
		}
		if !reflect.DeepEqual(r.Calls, []int{write}) {
			t.Errorf("%s: calls %v", tc.spec, r.Calls)
		}
		r.Calls, r.Spec = nil, ""
		if !reflect.DeepEqual(r, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.spec, r, tc.want)
		}
	}
	r, err := inject.ParseStrace("inject=%file,read:error=ENOENT")
	if err != nil || len(r.Calls) < 20 {
		t.Errorf("class set: %v %v", r.Calls, err)
	}

	// short= takes the calls with a plain byte count, and refuses a set
	// holding any other, saying which.
	for _, tc := range []struct {
		spec string
		err  string // "" accepted; else a substring of the error
	}{
		{"inject=read,write,pread64,pwrite64,sendto,recvfrom,getrandom,getdents64:short=1", ""},
		{"inject=/^(read|write)$:short=1", ""},
		{"inject=readv:short=1", "readv (it is vectored"},
		{"inject=write,writev:short=1", "writev (it is vectored"},
		{"inject=sendmsg:short=1", "sendmsg (it is vectored"},
		{"inject=getpid:short=1", "getpid"},
		{"inject=clone3:short=1", "clone3"},                 // a struct size, not a transfer
		{"inject=rt_sigprocmask:short=1", "rt_sigprocmask"}, // a sigset size
		{"inject=%file:short=1", "has none"},
	} {
		_, err := inject.ParseStrace(tc.spec)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.spec, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one with %q", tc.spec, err, tc.err)
		}
	}
}

// TestCountArg: the byte count is the length argument of the data buffer,
// from the generated table.
func TestCountArg(t *testing.T) {
	for _, tc := range []struct {
		name string
		idx  int // -1: none
	}{
		{"read", 2}, {"write", 2}, {"pread64", 2}, {"pwrite64", 2}, {"sendto", 2}, {"recvfrom", 2},
		{"getrandom", 1}, {"getdents64", 2},
		{"readv", -1}, {"writev", -1}, {"preadv2", -1}, {"recvmsg", -1}, {"sendmmsg", -1},
		{"getpid", -1}, {"openat2", -1}, {"clone3", -1}, {"setsockopt", -1}, {"getcwd", -1},
	} {
		i, ok := inject.CountArg(abi.Lookup(tc.name))
		if (tc.idx < 0 && ok) || (tc.idx >= 0 && (!ok || i != tc.idx)) {
			t.Errorf("CountArg(%s) = %d, %v; want %d", tc.name, i, ok, tc.idx)
		}
	}
	if _, ok := inject.CountArg(nil); ok {
		t.Errorf("CountArg(nil) reports a count")
	}
}

func FuzzParseStrace(f *testing.F) {
	for _, s := range []string{
		"inject=write:error=EIO:when=3", "fault=read", "inject=%file:retval=0x10:signal=SIGUSR1",
		"inject=write:delay_enter=1.5ms:delay_exit=2us:when=2..5+2", "inject=!write:error=4095",
		"inject=/^open:error=ENOENT:when=+3", "inject=write:when=1..65534+65535:retval=-1",
		"inject=write:error=ENOSPC:when=3:lineage=1.2/t3", "inject=read,write:short=3:when=2+:lineage=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := inject.ParseStrace(s)
		if err != nil {
			return
		}
		if r.First < 1 || r.First > 65535 || r.Step < 0 || r.Step > 65535 || r.Last < 0 || r.Last > 65534 ||
			(r.Last > 0 && r.Last < r.First) {
			t.Fatalf("%q: bad when %+v", s, r)
		}
		if r.Errno < 0 || r.Errno > 4095 || (r.Errno != 0 && r.HasRetval) {
			t.Fatalf("%q: bad error %+v", s, r)
		}
		if r.Signal < 0 || r.Signal > 64 || r.DelayEnter < 0 || r.DelayExit < 0 {
			t.Fatalf("%q: bad signal/delay %+v", s, r)
		}
		if r.HasShort {
			if r.Errno != 0 || r.HasRetval || r.Short > math.MaxInt64 {
				t.Fatalf("%q: short= with error/retval %+v", s, r)
			}
			for _, nr := range r.Calls {
				if _, ok := inject.CountArg(abi.X86_64(nr)); !ok {
					t.Fatalf("%q: short= on %s, which has no byte count", s, abi.Name(abi.ArchX86_64, nr))
				}
			}
		}
		if r.Lineage != "" && !regexp.MustCompile(`^[1-9][0-9]*(\.[1-9][0-9]*)*(/t[1-9][0-9]*)?$`).MatchString(r.Lineage) {
			t.Fatalf("%q: bad lineage %q", s, r.Lineage)
		}
		if r.Errno == 0 && !r.HasRetval && !r.HasShort && r.Signal == 0 && r.DelayEnter == 0 && r.DelayExit == 0 &&
			!strings.Contains(s, "delay_") {
			t.Fatalf("%q: no action %+v", s, r)
		}
		if len(r.Calls) == 0 && !strings.Contains(s, "none") && !strings.HasPrefix(strings.TrimPrefix(s, "-e "), "inject=!") &&
			!strings.Contains(s, "?") && !strings.Contains(s, "fault=!") && !strings.Contains(s, "=!") {
			t.Fatalf("%q: empty set", s)
		}
	})
}

func rulesRun(t *testing.T, specs []string, argv ...string) run {
	t.Helper()
	var rules []inject.Rule
	for _, s := range specs {
		r, err := inject.ParseStrace(s)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r)
	}
	return launch(t, inject.NewRules(rules, inject.Options{}), nil, argv...)
}

func TestRulesOnProgram(t *testing.T) {
	p := probe(t)
	r := rulesRun(t, []string{"inject=getppid:error=ENOSPC:when=2..4+2"}, p, "getppid", "5")
	checkGetppid(t, r.stdout, map[int]string{2: "ENOSPC", 4: "ENOSPC"}, 5)

	r = rulesRun(t, []string{"fault=getppid:when=3"}, p, "getppid", "4")
	checkGetppid(t, r.stdout, map[int]string{3: "ENOSYS"}, 4)

	r = rulesRun(t, []string{"inject=getppid:retval=42:when=2+"}, p, "getppid", "3")
	checkGetppid(t, r.stdout, map[int]string{2: "42", 3: "42"}, 3)

	// A later rule naming the same syscall replaces the earlier one.
	r = rulesRun(t, []string{"inject=getppid:error=EIO", "inject=getppid:error=EPERM:when=1"}, p, "getppid", "2")
	checkGetppid(t, r.stdout, map[int]string{1: "EPERM"}, 2)

	r = rulesRun(t, []string{"inject=getppid:signal=SIGUSR1"}, p, "signal")
	expectLines(t, r.stdout, "got SIGUSR1")

	for _, spec := range []string{"inject=getppid:delay_enter=60ms", "inject=getppid:delay_exit=60000"} {
		r = rulesRun(t, []string{spec}, p, "delay")
		m := regexp.MustCompile(`getppid took (\d+) us`).FindStringSubmatch(r.stdout)
		if us, _ := strconv.Atoi(m[1]); m == nil || us < 60000 {
			t.Errorf("%s: %q, want >= 60ms", spec, r.stdout)
		}
	}
}

var reportRE = regexp.MustCompile(`((?:child|parent): -?\d+ -?\d+)\n`)

// TestShortAndLineage runs testdata/c/forkwrite (a child, then its parent,
// each make two writes and report what they returned) and
// testdata/c/explorestack under short= and lineage= rules: short= makes
// the chosen write transfer that many bytes; lineage= applies a rule, and
// counts when=, in one process only.
func TestShortAndLineage(t *testing.T) {
	fw := testbin.C(t, "forkwrite")
	for _, tc := range []struct {
		spec   string
		stdout string
		report []string // the stderr lines, child's first
	}{
		{"inject=write:short=3:when=1", "chichild-data\nparparent-data\n", []string{"child: 3 11", "parent: 3 12"}},
		{"inject=write:short=3:when=1:lineage=1.1", "chichild-data\nparent-data\nparent-data\n", []string{"child: 3 11", "parent: 12 12"}},
		{"inject=write:short=3:when=1:lineage=1", "child-data\nchild-data\nparparent-data\n", []string{"child: 11 11", "parent: 3 12"}},
		{"inject=write:short=5:when=2:lineage=1", "child-data\nchild-data\nparent-data\nparen", []string{"child: 11 11", "parent: 12 5"}},
		// A count already under short= is left alone.
		{"inject=write:short=100:when=1", "child-data\nchild-data\nparent-data\nparent-data\n", []string{"child: 11 11", "parent: 12 12"}},
		{"inject=write:error=ENOSPC:when=2:lineage=1.1", "child-data\nparent-data\nparent-data\n", []string{"child: 11 -28", "parent: 12 12"}},
		{"inject=write:error=ENOSPC:lineage=1.2", "child-data\nchild-data\nparent-data\nparent-data\n", []string{"child: 11 11", "parent: 12 12"}},
	} {
		r := rulesRun(t, []string{tc.spec}, fw)
		// Standard output and error are one file: the reports follow the
		// data of their process, which may not end in a newline.
		var report []string
		for _, m := range reportRE.FindAllStringSubmatch(r.stdout, -1) {
			report = append(report, m[1])
		}
		data := reportRE.ReplaceAllString(r.stdout, "")
		if data != tc.stdout || !reflect.DeepEqual(report, tc.report) {
			t.Errorf("%s: data %q and reports %q, want %q and %q", tc.spec, data, report, tc.stdout, tc.report)
		}
	}
	// explorestack's save ignores short writes: the first loses its newline.
	r := rulesRun(t, []string{"inject=write:short=3:when=1"}, testbin.C(t, "explorestack"))
	if r.stdout != "onetwo\n" {
		t.Errorf("explorestack with its first write short: %q, want %q", r.stdout, "onetwo\n")
	}
}

// checkGetppid checks probe getppid output: the listed calls show the
// given result, every other one the real parent pid.
func checkGetppid(t *testing.T, out string, want map[int]string, n int) {
	t.Helper()
	got := lines(out)
	if len(got) != n {
		t.Fatalf("output %q", got)
	}
	ppid := ""
	for i, l := range got {
		v := strings.TrimPrefix(l, fmt.Sprintf("getppid %d: ", i+1))
		if w, ok := want[i+1]; ok {
			if v != w {
				t.Errorf("call %d: %q, want %q", i+1, v, w)
			}
			continue
		}
		if ppid == "" {
			ppid = v
		}
		if _, err := strconv.Atoi(v); err != nil || v != ppid || v == "42" {
			t.Errorf("call %d: %q, want the real ppid", i+1, v)
		}
	}
}

// TestRulesWithLua: rules and a script in one engine; the script sees the
// rule's result and can override it.
func TestRulesWithLua(t *testing.T) {
	p := probe(t)
	e, err := inject.LoadSource("mix.lua", []byte(`
hermes.trap{"getppid"}
function on_syscall(ev) if ev.nth == 3 then hermes.deny("EACCES") end end
`), inject.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rule, _ := inject.ParseStrace("inject=getppid:error=EIO:when=1+2")
	e.AddRules(rule)
	r := launch(t, e, nil, p, "getppid", "4")
	checkGetppid(t, r.stdout, map[int]string{1: "EIO", 3: "EACCES"}, 4)
}
