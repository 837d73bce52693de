package abi

import (
	"strings"
	"testing"
)

func TestErrno(t *testing.T) {
	cases := []struct {
		e          int
		name, msg  string
		appendWant string
	}{
		{1, "EPERM", "Operation not permitted", "EPERM (Operation not permitted)"},
		{2, "ENOENT", "No such file or directory", "ENOENT (No such file or directory)"},
		{11, "EAGAIN", "Resource temporarily unavailable", "EAGAIN (Resource temporarily unavailable)"},
		{28, "ENOSPC", "No space left on device", "ENOSPC (No space left on device)"},
		{38, "ENOSYS", "Function not implemented", "ENOSYS (Function not implemented)"},
		{95, "EOPNOTSUPP", "Operation not supported", "EOPNOTSUPP (Operation not supported)"},
		{133, "EHWPOISON", "Memory page has hardware error", "EHWPOISON (Memory page has hardware error)"},
		{41, "", "Unknown error 41", "(errno 41)"},
		{134, "", "Unknown error 134", "(errno 134)"},
		{512, "ERESTARTSYS", "To be restarted if SA_RESTART is set", "ERESTARTSYS (To be restarted if SA_RESTART is set)"},
		{513, "ERESTARTNOINTR", "To be restarted", "ERESTARTNOINTR (To be restarted)"},
		{514, "ERESTARTNOHAND", "To be restarted if no handler", "ERESTARTNOHAND (To be restarted if no handler)"},
		{515, "ENOIOCTLCMD", "Unknown error 515", "ENOIOCTLCMD (Unknown error 515)"},
		{516, "ERESTART_RESTARTBLOCK", "Interrupted by signal", "ERESTART_RESTARTBLOCK (Interrupted by signal)"},
		{4095, "", "Unknown error 4095", "(errno 4095)"},
		{0, "", "Unknown error 0", "(errno 0)"},
		{-5, "", "Unknown error -5", "(errno -5)"},
	}
	for _, c := range cases {
		if got := ErrnoName(c.e); got != c.name {
			t.Errorf("ErrnoName(%d) = %q, want %q", c.e, got, c.name)
		}
		if got := ErrnoMessage(c.e); got != c.msg {
			t.Errorf("ErrnoMessage(%d) = %q, want %q", c.e, got, c.msg)
		}
		if got := string(AppendErrno(nil, c.e)); got != c.appendWant {
			t.Errorf("AppendErrno(%d) = %q, want %q", c.e, got, c.appendWant)
		}
	}
	for e := 1; e < len(errnoTable); e++ {
		name := ErrnoName(e)
		if name == "" {
			continue
		}
		if got, ok := ErrnoByName(name); !ok || got != e {
			t.Errorf("ErrnoByName(%q) = %d %v, want %d", name, got, ok, e)
		}
	}
	for name, want := range map[string]int{"EWOULDBLOCK": 11, "EDEADLOCK": 35, "ENOTSUP": 95, "ENOSPC": 28} {
		if got, ok := ErrnoByName(name); !ok || got != want {
			t.Errorf("ErrnoByName(%q) = %d %v, want %d", name, got, ok, want)
		}
	}
	for _, bad := range []string{"", "enoent", "EFOO", "2"} {
		if _, ok := ErrnoByName(bad); ok {
			t.Errorf("ErrnoByName(%q) succeeded", bad)
		}
	}
	buf := make([]byte, 0, 128)
	if a := testing.AllocsPerRun(100, func() { buf = AppendErrno(buf[:0], 2) }); a != 0 {
		t.Errorf("AppendErrno allocates %v times", a)
	}
}

func TestSignals(t *testing.T) {
	cases := []struct {
		sig  int
		want string
	}{
		{0, "0"}, {1, "SIGHUP"}, {9, "SIGKILL"}, {15, "SIGTERM"}, {16, "SIGSTKFLT"}, {17, "SIGCHLD"},
		{23, "SIGURG"}, {31, "SIGSYS"}, {32, "SIGRTMIN"}, {33, "SIGRT_1"}, {35, "SIGRT_3"}, {64, "SIGRT_32"},
		{65, "65"}, {-1, "-1"},
	}
	for _, c := range cases {
		if got := SignalName(c.sig); got != c.want {
			t.Errorf("SignalName(%d) = %q, want %q", c.sig, got, c.want)
		}
	}
	for sig := 1; sig <= SigRTMax; sig++ {
		if got, ok := SignalByName(SignalName(sig)); !ok || got != sig {
			t.Errorf("SignalByName(SignalName(%d)) = %d %v", sig, got, ok)
		}
	}
	good := map[string]int{"SIGTERM": 15, "TERM": 15, "term": 15, "sigterm": 15, "15": 15, "SIGCHLD": 17,
		"CHLD": 17, "SIGCLD": 17, "SIGIOT": 6, "SIGPOLL": 29, "RTMIN": 32, "SIGRTMIN+3": 35, "RTMIN+3": 35,
		"SIGRTMAX": 64, "SIGRTMAX-1": 63, "SIGRT_3": 35, "64": 64, "1": 1}
	for s, want := range good {
		if got, ok := SignalByName(s); !ok || got != want {
			t.Errorf("SignalByName(%q) = %d %v, want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "0", "65", "SIGFOO", "SIG", "SIGRTMIN+33", "SIGRTMAX-40", "SIGRT_33", "-1", "1x"} {
		if got, ok := SignalByName(s); ok {
			t.Errorf("SignalByName(%q) = %d, want failure", s, got)
		}
	}
	if a := testing.AllocsPerRun(100, func() { _ = SignalName(40) }); a != 0 {
		t.Errorf("SignalName allocates %v times", a)
	}
}

func TestKindStrings(t *testing.T) {
	for k := KindInt; k <= KindCmdArg; k++ {
		if strings.HasPrefix(k.String(), "ArgKind(") {
			t.Errorf("kind %d has no name", k)
		}
	}
	if RetFD.String() != "fd" || ArchX32.String() != "x32" {
		t.Error("String methods")
	}
}
