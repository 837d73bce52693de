package replay

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseClasses(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Classes
		err  string
	}{
		{"", Default, ""},
		{"file", Default | File, ""},
		{"none", 0, ""},
		{"none,time", Time, ""},
		{"-net", Default &^ Net, ""},
		{"-net, -poll ,file", Default&^(Net|Poll) | File, ""},
		{"all", All, ""},
		{"all,-time", All &^ Time, ""},
		{"clocks", 0, `unknown emulation class "clocks"`},
		{"none,-", 0, `missing after -`},
	} {
		got, err := ParseClasses(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseClasses(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseClasses(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestClassesString(t *testing.T) {
	if s := Default.String(); s != "time,random,pid,uname,proc,net,input,poll,meta" {
		t.Errorf("Default = %q", s)
	}
	if s := Classes(0).String(); s != "none" {
		t.Errorf("0 = %q", s)
	}
	// String and ParseClasses agree on every single class.
	for _, n := range classNames {
		got, err := ParseClasses("none," + n.c.String())
		if err != nil || got != n.c {
			t.Errorf("round trip of %s: %v, %v", n.name, got, err)
		}
	}
}

func FuzzParseClasses(f *testing.F) {
	for _, s := range []string{"", "none", "file,-net", "all,-time", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseClasses(s)
		if err != nil {
			return
		}
		// Whatever parsed prints as names that parse back to it.
		back, err := ParseClasses("none," + c.String())
		if err != nil || back != c {
			t.Fatalf("ParseClasses(%q) = %v; String %q parses as %v, %v", s, c, c.String(), back, err)
		}
	})
}

func TestFdClass(t *testing.T) {
	rp := &Replayer{outside: map[string]bool{"pipe:[7]": true, "/dev/pts/0": true},
		netSock: map[string]bool{"socket:[9]": true}}
	for _, tc := range []struct {
		path string
		want Classes
	}{
		{"/proc/uptime", Proc},
		{"/sys/fs/cgroup/cpu.max", Proc},
		{"/dev/urandom", Random},
		{"/dev/random", Random},
		{"pipe:[7]", Input},
		{"/dev/pts/0", Input},
		{"pipe:[8]", 0},
		{"socket:[9]", Net},
		{"socket:[10]", 0},
		{"/etc/passwd", File},
		{"/dev/null", 0},
		{"", 0},
	} {
		if got := rp.fdClass(tc.path); got != tc.want {
			t.Errorf("fdClass(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestNoise(t *testing.T) {
	for _, tc := range []struct {
		nr   int
		args [6]uint64
		want bool
	}{
		{unix.SYS_FUTEX, [6]uint64{}, true},
		{unix.SYS_CLONE, [6]uint64{unix.CLONE_THREAD | unix.CLONE_VM}, true},
		{unix.SYS_CLONE, [6]uint64{uint64(unix.SIGCHLD)}, false},
		{unix.SYS_MMAP, [6]uint64{0, 4096, 3, unix.MAP_PRIVATE | unix.MAP_ANONYMOUS}, true},
		{unix.SYS_MMAP, [6]uint64{0, 4096, 1, unix.MAP_PRIVATE, 3}, false},
		{unix.SYS_OPENAT, [6]uint64{}, false},
		{unix.SYS_WRITE, [6]uint64{}, false},
		{-1, [6]uint64{}, false},
		{100000, [6]uint64{}, false},
	} {
		if got := isNoise(0, tc.nr, &tc.args); got != tc.want {
			t.Errorf("isNoise(%d, %x) = %v, want %v", tc.nr, tc.args, got, tc.want)
		}
	}
}
