package record

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/format/tracepb"
	"golang.org/x/sys/unix"
)

// dirents builds linux_dirent64 records for names.
func dirents(names ...string) []byte {
	var b []byte
	for i, n := range names {
		reclen := (19 + len(n) + 1 + 7) &^ 7
		rec := make([]byte, reclen)
		binary.LittleEndian.PutUint64(rec[0:], uint64(i+1))
		binary.LittleEndian.PutUint64(rec[8:], uint64(i+1))
		binary.LittleEndian.PutUint16(rec[16:], uint16(reclen))
		rec[18] = 8
		copy(rec[19:], n)
		b = append(b, rec...)
	}
	return b
}

func names(b []byte) string {
	var out []string
	for r := 0; r+19 <= len(b); {
		reclen := int(binary.LittleEndian.Uint16(b[r+16:]))
		name := b[r+19 : r+reclen]
		out = append(out, strings.TrimRight(string(name), "\x00"))
		r += reclen
	}
	return strings.Join(out, " ")
}

func TestRemoveDirents(t *testing.T) {
	hide := func(n []byte) bool { return string(n) == "hermes.trace.partial" || string(n) == "hermes.trace" }
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{".", "..", "a.txt"}, ". .. a.txt"},
		{[]string{".", "hermes.trace.partial", "a.txt"}, ". a.txt"},
		{[]string{"hermes.trace", "hermes.trace.partial"}, ""},
		{[]string{"a", "hermes.trace.partial.x", "hermes.trac"}, "a hermes.trace.partial.x hermes.trac"},
	}
	for _, tc := range tests {
		got := names(removeDirents(dirents(tc.in...), hide))
		if got != tc.want {
			t.Errorf("removeDirents(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// A record that claims more than the buffer holds ends the walk.
	b := dirents("a", "b")
	binary.LittleEndian.PutUint16(b[16:], 4000)
	if got := removeDirents(b, hide); len(got) != 0 {
		t.Errorf("a bad record was kept: %q", got)
	}
}

// redactExec masks the values of the redacted variables in the strings an
// exec's argv and envp point to, and nothing else.
func TestRedactExec(t *testing.T) {
	redact := func(name string) bool { return strings.HasSuffix(strings.ToUpper(name), "_TOKEN") }
	const argvAt, envpAt, strAt = 0x1000, 0x2000, 0x3000
	// call returns the call nr of arch with its argv and envp arrays at
	// argument argv and argv+1, and strings.
	call := func(arch tracepb.Arch, nr int32, argv uint32, strs map[uint32][]string) *tracepb.Syscall {
		regs := make([]byte, 216)
		words := [6]int{14, 13, 12, 7, 9, 8}
		if arch == tracepb.Arch_ARCH_I386 {
			words = [6]int{5, 11, 12, 13, 14, 4}
		}
		binary.LittleEndian.PutUint64(regs[words[argv]*8:], argvAt)
		binary.LittleEndian.PutUint64(regs[words[argv+1]*8:], envpAt)
		sc := &tracepb.Syscall{Arch: arch, Nr: nr, Regs: regs}
		addr := uint64(strAt)
		for _, arg := range []uint32{argv, argv + 1} {
			array := uint64(argvAt)
			if arg == argv+1 {
				array = envpAt
			}
			// The array itself: pointers, which may hold any bytes.
			sc.Mem = append(sc.Mem, &tracepb.Mem{Addr: array, Arg: arg, Data: []byte("A_TOKEN=xy\x00\x00\x00\x00\x00\x00")})
			for _, s := range strs[arg] {
				sc.Mem = append(sc.Mem, &tracepb.Mem{Addr: addr, Arg: arg, Data: append([]byte(s), 0)})
				addr += uint64(len(s) + 1)
			}
		}
		return sc
	}
	// A shell command line's assignments, and a secret the environment
	// holds (GH_TOKEN's value) in an argument, are masked too.
	argv := []string{"env", "MY_TOKEN=s3cret", "--my_token=flag", "sh", "-c", "MY_TOKEN=s3cret run; A_TOKEN='x y' echo ok", "Bearer ghp_x."}
	envp := []string{"PATH=/bin", "GH_TOKEN=ghp_x", "GH_TOKEN=", "X=GH_TOKEN=y"}
	masked := map[bool][]string{
		true:  {"env", "MY_TOKEN=******", "--my_token=flag", "sh", "-c", "MY_TOKEN=****** run; A_TOKEN='***' echo ok", "Bearer *****."},
		false: {"PATH=/bin", "GH_TOKEN=*****", "GH_TOKEN=", "X=GH_TOKEN=y"},
	}
	for _, tc := range []struct {
		name string
		sc   *tracepb.Syscall
		want bool // masked
	}{
		{"execve", call(tracepb.Arch_ARCH_X86_64, unix.SYS_EXECVE, 1, map[uint32][]string{1: argv, 2: envp}), true},
		{"execveat", call(tracepb.Arch_ARCH_X86_64, unix.SYS_EXECVEAT, 2, map[uint32][]string{2: argv, 3: envp}), true},
		{"i386 execve", call(tracepb.Arch_ARCH_I386, 11, 1, map[uint32][]string{1: argv, 2: envp}), true},
		{"not an exec", call(tracepb.Arch_ARCH_X86_64, unix.SYS_WRITE, 1, map[uint32][]string{1: argv, 2: envp}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redactExec(tc.sc, redact, nil); tc.want && !slices.Equal(got, []string{"ghp_x"}) {
				t.Errorf("secrets %q, want the value of GH_TOKEN", got)
			}
			var got []string
			for _, m := range tc.sc.Mem {
				if m.Addr == argvAt || m.Addr == envpAt {
					if string(m.Data) != "A_TOKEN=xy\x00\x00\x00\x00\x00\x00" {
						t.Errorf("array changed: %q", m.Data)
					}
					continue
				}
				got = append(got, strings.TrimSuffix(string(m.Data), "\x00"))
			}
			want := append(append([]string(nil), argv...), envp...)
			if tc.want {
				want = append(append([]string(nil), masked[true]...), masked[false]...)
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("strings\n%q\nwant\n%q", got, want)
			}
		})
	}
}
