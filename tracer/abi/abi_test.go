//go:build amd64

package abi

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestAllSysnumsFromUnix(t *testing.T) {
	if len(unixSysnums) != len(All()) {
		t.Errorf("table has %d entries, x/sys has %d", len(All()), len(unixSysnums))
	}
	for _, u := range unixSysnums {
		s := X86_64(u.nr)
		if s == nil {
			t.Errorf("unix %s = %d: not in the table", u.name, u.nr)
			continue
		}
		if s.Name != u.name || s.Nr != u.nr {
			t.Errorf("X86_64(%d) = %d %q, want %q", u.nr, s.Nr, s.Name, u.name)
		}
	}
}

func TestTableConsistency(t *testing.T) {
	prev := -1
	for _, s := range All() {
		if s.Nr <= prev {
			t.Errorf("%s: number %d not increasing", s.Name, s.Nr)
		}
		prev = s.Nr
		if Lookup(s.Name) != s || X86_64(s.Nr) != s {
			t.Errorf("%s: lookups disagree", s.Name)
		}
		if len(s.Args) > MaxArgs {
			t.Errorf("%s: %d args", s.Name, len(s.Args))
		}
		for i, a := range s.Args {
			if a.Name == "" || a.Type == "" {
				t.Errorf("%s arg %d: no name or type", s.Name, i)
			}
			needSize := map[ArgKind]bool{KindBufIn: true, KindBufOut: true, KindIovIn: true, KindIovOut: true,
				KindSockaddrIn: true, KindSockaddrOut: true, KindFDSet: true, KindSizedOut: true, KindArrayIn: true,
				KindArrayOut: true, KindArrayInOut: true, KindBufOutLen: true}
			if needSize[a.Kind] != (a.SizeArg != NoArg) {
				t.Errorf("%s arg %s: kind %v with SizeArg %d", s.Name, a.Name, a.Kind, a.SizeArg)
			}
			if a.SizeArg != NoArg && (int(a.SizeArg) >= len(s.Args) || int(a.SizeArg) == i) {
				t.Errorf("%s arg %s: bad SizeArg %d", s.Name, a.Name, a.SizeArg)
			}
			fixed := a.Kind == KindStructIn || a.Kind == KindStructOut || a.Kind == KindStructInOut ||
				a.Kind == KindArrayIn || a.Kind == KindArrayOut || a.Kind == KindArrayInOut
			if fixed != (a.Size != 0) {
				t.Errorf("%s arg %s: kind %v with Size %d", s.Name, a.Name, a.Kind, a.Size)
			}
			if (a.Kind == KindFlags) != (a.Flags != NoFlags) {
				t.Errorf("%s arg %s: kind %v with Flags %v", s.Name, a.Name, a.Kind, a.Flags)
			}
			if a.Kind == KindPath && !strings.Contains(a.Type, "char *") {
				t.Errorf("%s arg %s: path of type %q", s.Name, a.Name, a.Type)
			}
		}
	}
}

type argWant struct {
	name    string
	kind    ArgKind
	sizeArg int8
	size    uint16
	flags   FlagSet
}

func TestKnownSyscalls(t *testing.T) {
	n := int8(NoArg)
	cases := []struct {
		name  string
		nr    int
		ret   RetKind
		class Class
		args  []argWant
	}{
		{"read", 0, RetInt, ClassDesc, []argWant{{"fd", KindFD, n, 0, 0}, {"buf", KindBufOut, 2, 0, 0}, {"count", KindUint, n, 0, 0}}},
		{"write", 1, RetInt, ClassDesc, []argWant{{"fd", KindFD, n, 0, 0}, {"buf", KindBufIn, 2, 0, 0}, {"count", KindUint, n, 0, 0}}},
		{"openat", 257, RetFD, ClassDesc | ClassFile, []argWant{{"dfd", KindDirFD, n, 0, 0}, {"filename", KindPath, n, 0, 0},
			{"flags", KindFlags, n, 0, FlagOpen}, {"mode", KindMode, n, 0, 0}}},
		{"execve", 59, RetInt, ClassFile | ClassProcess, []argWant{{"filename", KindPath, n, 0, 0}, {"argv", KindStrVec, n, 0, 0}, {"envp", KindStrVec, n, 0, 0}}},
		{"fstat", 5, RetInt, ClassDesc | ClassFstat, []argWant{{"fd", KindFD, n, 0, 0}, {"statbuf", KindStructOut, n, 144, 0}}},
		{"stat", 4, RetInt, ClassFile | ClassStat, []argWant{{"filename", KindPath, n, 0, 0}, {"statbuf", KindStructOut, n, 144, 0}}},
		{"newfstatat", 262, RetInt, ClassDesc | ClassFile | ClassFstat, []argWant{{"dfd", KindDirFD, n, 0, 0},
			{"filename", KindPath, n, 0, 0}, {"statbuf", KindStructOut, n, 144, 0}, {"flag", KindFlags, n, 0, FlagAt}}},
		{"statx", 332, RetInt, ClassDesc | ClassFile | ClassFstat, []argWant{{"dfd", KindDirFD, n, 0, 0},
			{"filename", KindPath, n, 0, 0}, {"flags", KindFlags, n, 0, FlagAtStatx}, {"mask", KindFlags, n, 0, FlagStatxMask},
			{"buffer", KindStructOut, n, 256, 0}}},
		{"clock_gettime", 228, RetInt, ClassClock, []argWant{{"which_clock", KindFlags, n, 0, FlagClockID}, {"tp", KindStructOut, n, 16, 0}}},
		{"gettimeofday", 96, RetInt, ClassClock, []argWant{{"tv", KindStructOut, n, 16, 0}, {"tz", KindStructOut, n, 8, 0}}},
		{"pipe2", 293, RetInt, ClassDesc, []argWant{{"fildes", KindStructOut, n, 8, 0}, {"flags", KindFlags, n, 0, FlagOpenBits}}},
		{"pipe", 22, RetInt, ClassDesc, []argWant{{"fildes", KindStructOut, n, 8, 0}}},
		{"wait4", 61, RetInt, ClassProcess, []argWant{{"upid", KindInt, n, 0, 0}, {"stat_addr", KindStructOut, n, 4, 0},
			{"options", KindFlags, n, 0, FlagWait}, {"ru", KindStructOut, n, 144, 0}}},
		{"uname", 63, RetInt, 0, []argWant{{"name", KindStructOut, n, 390, 0}}},
		{"sysinfo", 99, RetInt, 0, []argWant{{"info", KindStructOut, n, 112, 0}}},
		{"getrusage", 98, RetInt, 0, []argWant{{"who", KindFlags, n, 0, FlagRusageWho}, {"ru", KindStructOut, n, 144, 0}}},
		{"getrlimit", 97, RetInt, 0, []argWant{{"resource", KindFlags, n, 0, FlagRlimit}, {"rlim", KindStructOut, n, 16, 0}}},
		{"rt_sigprocmask", 14, RetInt, ClassSignal, []argWant{{"how", KindFlags, n, 0, FlagSigHow}, {"nset", KindBufIn, 3, 0, 0},
			{"oset", KindSizedOut, 3, 0, 0}, {"sigsetsize", KindUint, n, 0, 0}}},
		{"readv", 19, RetInt, ClassDesc, []argWant{{"fd", KindFD, n, 0, 0}, {"vec", KindIovOut, 2, 0, 0}, {"vlen", KindUint, n, 0, 0}}},
		{"recvfrom", 45, RetInt, ClassNetwork, []argWant{{"fd", KindFD, n, 0, 0}, {"ubuf", KindBufOut, 2, 0, 0}, {"size", KindUint, n, 0, 0},
			{"flags", KindFlags, n, 0, FlagMsg}, {"addr", KindSockaddrOut, 5, 0, 0}, {"addr_len", KindStructInOut, n, 4, 0}}},
		{"recvmsg", 47, RetInt, ClassNetwork, []argWant{{"fd", KindFD, n, 0, 0}, {"msg", KindMsghdrOut, n, 0, 0}, {"flags", KindFlags, n, 0, FlagMsg}}},
		{"connect", 42, RetInt, ClassNetwork, []argWant{{"fd", KindFD, n, 0, 0}, {"uservaddr", KindSockaddrIn, 2, 0, 0}, {"addrlen", KindInt, n, 0, 0}}},
		{"getdents64", 217, RetInt, ClassDesc, []argWant{{"fd", KindFD, n, 0, 0}, {"dirent", KindBufOut, 2, 0, 0}, {"count", KindUint, n, 0, 0}}},
		{"getrandom", 318, RetInt, 0, []argWant{{"ubuf", KindBufOut, 1, 0, 0}, {"len", KindUint, n, 0, 0}, {"flags", KindFlags, n, 0, FlagGetrandom}}},
		{"readlinkat", 267, RetInt, ClassDesc | ClassFile, []argWant{{"dfd", KindDirFD, n, 0, 0}, {"pathname", KindPath, n, 0, 0},
			{"buf", KindBufOut, 3, 0, 0}, {"bufsiz", KindInt, n, 0, 0}}},
		{"ioctl", 16, RetInt, ClassDesc, []argWant{{"fd", KindFD, n, 0, 0}, {"cmd", KindUint, n, 0, 0}, {"arg", KindIoctlArg, n, 0, 0}}},
		{"mmap", 9, RetHex, ClassDesc | ClassMemory, []argWant{{"addr", KindHex, n, 0, 0}, {"len", KindUint, n, 0, 0},
			{"prot", KindFlags, n, 0, FlagProt}, {"flags", KindFlags, n, 0, FlagMap}, {"fd", KindFD, n, 0, 0}, {"off", KindUint, n, 0, 0}}},
		{"clone", 56, RetInt, ClassProcess, []argWant{{"clone_flags", KindFlags, n, 0, FlagClone}, {"newsp", KindHex, n, 0, 0},
			{"parent_tidptr", KindOutUnknown, n, 0, 0}, {"child_tidptr", KindOutUnknown, n, 0, 0}, {"tls", KindHex, n, 0, 0}}},
		{"kill", 62, RetInt, ClassSignal | ClassProcess, []argWant{{"pid", KindInt, n, 0, 0}, {"sig", KindSignal, n, 0, 0}}},
		{"socket", 41, RetFD, ClassNetwork, []argWant{{"family", KindFlags, n, 0, FlagAddressFamily}, {"type", KindFlags, n, 0, FlagSockType}, {"protocol", KindInt, n, 0, 0}}},
		{"fcntl", 72, RetInt, ClassDesc, []argWant{{"fd", KindFD, n, 0, 0}, {"cmd", KindFlags, n, 0, FlagFcntlCmd}, {"arg", KindCmdArg, n, 0, 0}}},
		{"futex", 202, RetInt, 0, []argWant{{"uaddr", KindHex, n, 0, 0}, {"op", KindFlags, n, 0, FlagFutexOp}, {"val", KindUint, n, 0, 0},
			{"utime", KindCmdArg, n, 0, 0}, {"uaddr2", KindHex, n, 0, 0}, {"val3", KindUint, n, 0, 0}}},
		{"epoll_wait", 232, RetInt, ClassDesc, []argWant{{"epfd", KindFD, n, 0, 0}, {"events", KindArrayOut, 2, 12, 0},
			{"maxevents", KindInt, n, 0, 0}, {"timeout", KindInt, n, 0, 0}}},
		{"poll", 7, RetInt, ClassDesc, []argWant{{"ufds", KindArrayInOut, 1, 8, 0}, {"nfds", KindUint, n, 0, 0}, {"timeout_msecs", KindInt, n, 0, 0}}},
		{"exit_group", 231, RetNone, ClassProcess, []argWant{{"error_code", KindInt, n, 0, 0}}},
		{"brk", 12, RetHex, ClassMemory, []argWant{{"brk", KindHex, n, 0, 0}}},
		{"getpid", 39, RetInt, ClassPure, nil},
		{"getuid", 102, RetInt, ClassCreds | ClassPure, nil},
		{"rt_sigreturn", 15, RetInt, ClassSignal, nil},
		{"fork", 57, RetInt, ClassProcess, nil},
		{"umount2", 166, RetInt, ClassFile, []argWant{{"name", KindPath, n, 0, 0}, {"flags", KindInt, n, 0, 0}}},
		{"sendfile", 40, RetInt, ClassDesc | ClassNetwork, []argWant{{"out_fd", KindFD, n, 0, 0}, {"in_fd", KindFD, n, 0, 0},
			{"offset", KindStructInOut, n, 8, 0}, {"count", KindUint, n, 0, 0}}},
		{"finit_module", 313, RetInt, ClassDesc, []argWant{{"fd", KindFD, n, 0, 0}, {"uargs", KindString, n, 0, 0}, {"flags", KindInt, n, 0, 0}}},
		{"pidfd_open", 434, RetFD, ClassDesc, []argWant{{"pid", KindInt, n, 0, 0}, {"flags", KindUint, n, 0, 0}}},
		{"ustat", 136, RetInt, ClassStatfsLike, []argWant{{"dev", KindUint, n, 0, 0}, {"ubuf", KindStructOut, n, 32, 0}}},
	}
	for _, c := range cases {
		s := Lookup(c.name)
		if s == nil {
			t.Errorf("Lookup(%q) = nil", c.name)
			continue
		}
		if s.Nr != c.nr || s.Ret != c.ret || s.Class != c.class {
			t.Errorf("%s: nr %d ret %v class %v, want %d %v %v", c.name, s.Nr, s.Ret, s.Class, c.nr, c.ret, c.class)
		}
		var got []argWant
		for _, a := range s.Args {
			got = append(got, argWant{a.Name, a.Kind, a.SizeArg, a.Size, a.Flags})
		}
		if !reflect.DeepEqual(got, c.args) {
			t.Errorf("%s args:\n got  %v\n want %v", c.name, got, c.args)
		}
	}
	if X86_64(-1) != nil || X86_64(400) != nil || X86_64(100000) != nil || Lookup("nosuchcall") != nil {
		t.Error("lookup of a missing syscall succeeded")
	}
	for _, name := range []string{"open", "openat", "openat2", "socket", "accept", "accept4", "dup", "dup2", "dup3",
		"eventfd", "eventfd2", "epoll_create", "epoll_create1", "memfd_create", "pidfd_open", "signalfd4",
		"timerfd_create", "inotify_init1", "creat"} {
		if s := Lookup(name); s == nil || s.Ret != RetFD {
			t.Errorf("%s: Ret is not RetFD", name)
		}
	}
	for _, name := range []string{"mmap", "mremap", "brk", "shmat"} {
		if s := Lookup(name); s.Ret != RetHex {
			t.Errorf("%s: Ret is not RetHex", name)
		}
	}
}

func TestName(t *testing.T) {
	cases := []struct {
		arch Arch
		nr   int
		want string
	}{
		{ArchX86_64, 0, "read"},
		{ArchX86_64, 257, "openat"},
		{ArchX86_64, 435, "clone3"},
		{ArchX86_64, 0x1ff, "syscall_0x1ff"},
		{ArchX86_64, 340, "syscall_0x154"},
		{ArchX86_64, -1, "syscall_0xffffffffffffffff"},
		{ArchI386, 0, "restart_syscall"},
		{ArchI386, 3, "read"},
		{ArchI386, 5, "open"},
		{ArchI386, 11, "execve"},
		{ArchI386, 102, "socketcall"},
		{ArchI386, 140, "_llseek"},
		{ArchI386, 192, "mmap2"},
		{ArchI386, 295, "openat"},
		{ArchI386, 5000, "syscall_0x1388"},
		{ArchX32, X32Bit, "read"}, // read is x32 syscall 0
		{ArchX32, X32Bit | 257, "openat"},
		{ArchX32, X32Bit | 13, "rt_sigaction#64"},
		{ArchX32, X32Bit | 59, "execve#64"},
		{ArchX32, X32Bit | 512, "rt_sigaction"},
		{ArchX32, X32Bit | 520, "execve"},
		{ArchX32, X32Bit | 547, "pwritev2"},
		{ArchX32, X32Bit | 548, "syscall_0x40000224"},
		{ArchX32, 0, "syscall_0x0"},
		{Arch(9), 0, "syscall_0x0"},
	}
	for _, c := range cases {
		if got := Name(c.arch, c.nr); got != c.want {
			t.Errorf("Name(%v, %#x) = %q, want %q", c.arch, c.nr, got, c.want)
		}
	}
}

func TestAllOrder(t *testing.T) {
	a := All()
	if len(a) < 370 || a[0].Name != "read" || !slices.IsSortedFunc(a, func(x, y *Syscall) int { return x.Nr - y.Nr }) {
		t.Errorf("All() is not the table in number order (%d entries)", len(a))
	}
}

func TestParseClass(t *testing.T) {
	cases := []struct {
		in   string
		want Class
		ok   bool
	}{
		{"%file", ClassFile, true}, {"file", ClassFile, true}, {"%net", ClassNetwork, true},
		{"%network", ClassNetwork, true}, {"creds", ClassCreds, true}, {"%%stat", ClassStatLike, true},
		{"%%statfs", ClassStatfsLike, true}, {"%pure", ClassPure, true}, {"%fstatfs", ClassFstatfs, true},
		{"%FILE", 0, false}, {"", 0, false}, {"%", 0, false}, {"%bogus", 0, false},
	}
	for _, c := range cases {
		got, ok := ParseClass(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseClass(%q) = %v %v, want %v %v", c.in, got, ok, c.want, c.ok)
		}
	}
	if s := Lookup("openat"); !s.In(ClassFile) || !s.In(ClassFile|ClassNetwork) || s.In(ClassNetwork) {
		t.Error("Syscall.In is wrong for openat")
	}
	if got := (ClassFile | ClassDesc).String(); got != "%file|%desc" {
		t.Errorf("Class.String = %q", got)
	}
}

func names(ss []*Syscall) []string {
	var r []string
	for _, s := range ss {
		r = append(r, s.Name)
	}
	return r
}

func TestSelect(t *testing.T) {
	cases := []struct {
		spec    string
		want    []string // exact, in order; nil: see check
		check   func([]*Syscall) bool
		wantErr string
	}{
		{spec: "open,close", want: []string{"open", "close"}},
		{spec: "close,open", want: []string{"open", "close"}},
		{spec: "open,,close", want: []string{"open", "close"}},
		{spec: "openat,?nosuch", want: []string{"openat"}},
		{spec: "?%nosuch,read", want: []string{"read"}},
		{spec: "1", want: []string{"write"}},
		{spec: "none", want: nil},
		{spec: "!all", want: nil},
		{spec: "%stat", want: []string{"stat"}},
		{spec: "%lstat", want: []string{"lstat"}},
		{spec: "%fstat", want: []string{"fstat", "newfstatat", "statx"}},
		{spec: "%%stat", want: []string{"stat", "fstat", "lstat", "newfstatat", "statx"}},
		{spec: "%%statfs", want: []string{"ustat", "statfs", "fstatfs"}},
		{spec: "%statfs", want: []string{"statfs"}},
		{spec: "%pure", want: []string{"getpid", "getuid", "getgid", "geteuid", "getegid", "getppid", "getpgrp", "gettid"}},
		{spec: "%clock", want: []string{"gettimeofday", "adjtimex", "settimeofday", "time", "clock_settime", "clock_gettime", "clock_getres", "clock_adjtime"}},
		{spec: "/^open", want: []string{"open", "openat", "open_by_handle_at", "open_tree", "openat2", "open_tree_attr"}},
		{spec: "all", check: func(s []*Syscall) bool { return len(s) == len(All()) }},
		{spec: "!open", check: func(s []*Syscall) bool { return len(s) == len(All())-1 && s[0].Name == "read" && s[2].Name == "close" }},
		{spec: "!%memory,openat", check: func(s []*Syscall) bool {
			return !slices.ContainsFunc(s, func(x *Syscall) bool { return x.Name == "mmap" || x.Name == "openat" }) &&
				slices.ContainsFunc(s, func(x *Syscall) bool { return x.Name == "read" })
		}},
		{spec: "%file", check: func(s []*Syscall) bool {
			return slices.ContainsFunc(s, func(x *Syscall) bool { return x.Name == "openat" }) &&
				!slices.ContainsFunc(s, func(x *Syscall) bool { return x.Name == "read" || x.Name == "memfd_create" })
		}},
		{spec: "file", check: func(s []*Syscall) bool {
			return slices.ContainsFunc(s, func(x *Syscall) bool { return x.Name == "execve" })
		}},
		{spec: "%net,%process", check: func(s []*Syscall) bool {
			return slices.ContainsFunc(s, func(x *Syscall) bool { return x.Name == "socket" }) &&
				slices.ContainsFunc(s, func(x *Syscall) bool { return x.Name == "clone3" })
		}},
		{spec: "stat", want: []string{"stat"}},
		{spec: "", wantErr: `""`},
		{spec: "foo", wantErr: `"foo"`},
		{spec: "open,foo,close", wantErr: `"foo"`},
		{spec: "%foo", wantErr: `"%foo"`},
		{spec: "open,!close", wantErr: `"!close"`},
		{spec: "creds", wantErr: `"creds"`},
		{spec: "net", wantErr: `"net"`},
		{spec: "%FILE", wantErr: `"%FILE"`},
		{spec: "99999", wantErr: `"99999"`},
		{spec: "/[", wantErr: `"/["`},
		{spec: "?/[", wantErr: `"/["`},
		{spec: "/^nomatch$", wantErr: `"/^nomatch$"`},
		{spec: "?", want: nil},
		{spec: "!", wantErr: `"!"`},
		{spec: ",", wantErr: `","`},
	}
	for _, c := range cases {
		got, err := Select(c.spec)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("Select(%q) error = %v, want one naming %s", c.spec, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Select(%q): %v", c.spec, err)
			continue
		}
		if c.check != nil {
			if !c.check(got) {
				t.Errorf("Select(%q) = %v", c.spec, names(got))
			}
		} else if !slices.Equal(names(got), c.want) {
			t.Errorf("Select(%q) = %v, want %v", c.spec, names(got), c.want)
		}
	}
}

func FuzzSelect(f *testing.F) {
	for _, s := range []string{"open,close", "!%file", "?foo,/^read", "all", "none", "%%stat", "1,2,3", "/[", ",,", "!", "?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		got, err := Select(spec)
		if err != nil && got != nil {
			t.Fatalf("Select(%q) returned both a result and %v", spec, err)
		}
		for i := 1; i < len(got); i++ {
			if got[i-1].Nr >= got[i].Nr {
				t.Fatalf("Select(%q) not in number order", spec)
			}
		}
	})
}

// TestIDRefs checks where the table says calls carry pids and ids the
// kernel hands out: every pid_t argument, and the places the C types do
// not say (internal/mkabi/spec_ids.go).
func TestIDRefs(t *testing.T) {
	for _, tc := range []struct {
		call string
		args [6]uint64
		want string // "KIND:ARG[@OFF][/out]" of the refs that apply, space-separated
	}{
		{"kill", [6]uint64{}, "pid:0"},
		{"tgkill", [6]uint64{}, "pid:0 pid:1"},
		{"kcmp", [6]uint64{}, "pid:0 pid:1"},
		{"move_pages", [6]uint64{}, "pid:0"},
		{"capget", [6]uint64{}, "pid:0@4"},
		{"ioprio_get", [6]uint64{1}, "pid:1"},
		{"ioprio_get", [6]uint64{3}, ""}, // IOPRIO_WHO_USER: a uid
		{"fcntl", [6]uint64{3, 15}, "pid:2@4"},
		{"fcntl", [6]uint64{3, 16}, "pid:2@4/out"},
		{"fcntl", [6]uint64{3, 9}, "pid:6/out"},
		{"fcntl", [6]uint64{3, 3}, ""},
		{"ioctl", [6]uint64{3, 0x8901}, "pid:2@0"},
		{"ioctl", [6]uint64{3, 0x8903}, "pid:2@0/out"},
		{"msgget", [6]uint64{}, "msq:6/out"},
		{"msgsnd", [6]uint64{}, "msq:0"},
		{"semget", [6]uint64{}, "sem:6/out"},
		{"shmat", [6]uint64{}, "shm:0"},
		{"add_key", [6]uint64{}, "key:4 key:6/out"},
		{"keyctl", [6]uint64{11}, "key:1"},
		{"keyctl", [6]uint64{0}, "key:1 key:6/out"},
		{"timer_create", [6]uint64{}, "timer:2@0/out"},
		{"timer_gettime", [6]uint64{}, "timer:0"},
		{"read", [6]uint64{}, ""},
	} {
		sc := Lookup(tc.call)
		if sc == nil {
			t.Fatalf("no %s", tc.call)
		}
		var got []string
		for i := range sc.IDs {
			r := &sc.IDs[i]
			if !r.Applies(&tc.args) {
				continue
			}
			s := fmt.Sprintf("%s:%d", r.Kind, r.Arg)
			if r.Off >= 0 {
				s += fmt.Sprintf("@%d", r.Off)
			}
			if r.Out {
				s += "/out"
			}
			got = append(got, s)
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("%s%v: IDs %q, want %q", tc.call, tc.args[:2], g, tc.want)
		}
	}
	for _, sc := range All() {
		for i, a := range sc.Args {
			if a.Type != "pid_t" {
				continue
			}
			found := false
			for _, r := range sc.IDs {
				found = found || (r.Kind == IDPid && int(r.Arg) == i)
			}
			if !found {
				t.Errorf("%s: pid_t argument %d (%s) has no IDRef", sc.Name, i, a.Name)
			}
		}
	}
}
