package symbols

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/internal/testbin"
)

func TestParseMapsLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		ok   bool
		want Mapping
	}{
		{"55d0c3a00000-55d0c3a02000 r-xp 00002000 fd:01 1234    /usr/bin/cat\n", true,
			Mapping{Start: 0x55d0c3a00000, End: 0x55d0c3a02000, Offset: 0x2000, Dev: 0xfd<<32 | 1, Inode: 1234, Read: true, Exec: true, Path: "/usr/bin/cat"}},
		{"7ffd1000-7ffd2000 rw-p 00000000 00:00 0                          [stack]", true,
			Mapping{Start: 0x7ffd1000, End: 0x7ffd2000, Read: true, Write: true, Path: "[stack]"}},
		{"7f0000000000-7f0000001000 ---p 00000000 00:00 0", true,
			Mapping{Start: 0x7f0000000000, End: 0x7f0000001000}},
		{"1000-2000 r-xs 0000a000 103:02 99 /tmp/a file (deleted)", true,
			Mapping{Start: 0x1000, End: 0x2000, Offset: 0xa000, Dev: 0x103<<32 | 2, Inode: 99, Read: true, Exec: true, Path: "/tmp/a file (deleted)"}},
		{"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]", true,
			Mapping{Start: 0xffffffffff600000, End: 0xffffffffff601000, Exec: true, Path: "[vsyscall]"}},
		{"", false, Mapping{}},
		{"garbage", false, Mapping{}},
		{"2000-1000 r-xp 00000000 00:00 0", false, Mapping{}},                    // end before start
		{"1000-2000 r-x 00000000 00:00 0", false, Mapping{}},                     // short perms
		{"1000-2000 r-xp 0000000g 00:00 0", false, Mapping{}},                    // bad offset
		{"1000-2000 r-xp 00000000 0000 0", false, Mapping{}},                     // bad device
		{"1000-2000 r-xp 00000000 00:00 x /a", false, Mapping{}},                 // bad inode
		{"10000000000000000-2 r-xp 00000000 00:00 0", false, Mapping{}},          // 17 hex digits
		{"1000-2000 r-xp 00000000 100000000:0 0 /a", false, Mapping{}},           // major over 32 bits
		{"-2000 r-xp 00000000 00:00 0", false, Mapping{}},                        // empty start
		{"1000-2000 r-xp 00000000 00:00 18446744073709551616", false, Mapping{}}, // inode overflow
	} {
		got, ok := ParseMapsLine([]byte(tc.line))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("ParseMapsLine(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseMapsAndFind(t *testing.T) {
	in := "3000-4000 r-xp 00001000 08:01 7 /lib/b.so\n" +
		"bad line\n" +
		"1000-2000 r--p 00000000 08:01 7 /lib/b.so\n" +
		strings.Repeat("x", 10000) + "\n" + // over-long: skipped
		"5000-6000 rw-p 00000000 00:00 0\n" +
		"7000-8000 r-xp 00000000 00:00 0 [vdso]" // no final newline
	maps, err := ParseMaps(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(maps) != 4 || maps[0].Start != 0x1000 || maps[1].Start != 0x3000 || maps[3].Path != "[vdso]" {
		t.Fatalf("ParseMaps = %+v", maps)
	}
	for _, tc := range []struct {
		addr  uint64
		start uint64 // 0: not found
	}{
		{0xfff, 0}, {0x1000, 0x1000}, {0x1fff, 0x1000}, {0x2000, 0}, {0x3abc, 0x3000},
		{0x5000, 0x5000}, {0x7fff, 0x7000}, {0x8000, 0}, {^uint64(0), 0},
	} {
		m := Find(maps, tc.addr)
		if (m == nil) != (tc.start == 0) || (m != nil && m.Start != tc.start) {
			t.Errorf("Find(%#x) = %+v, want start %#x", tc.addr, m, tc.start)
		}
	}
	for _, tc := range []struct {
		m            Mapping
		module, path string
		file         bool
	}{
		{Mapping{Inode: 1, Path: "/lib/x86_64-linux-gnu/libc.so.6"}, "libc.so.6", "", true},
		{Mapping{Inode: 1, Path: "/tmp/prog (deleted)"}, "prog", "", true},
		{Mapping{Path: "[vdso]"}, "[vdso]", "", false},
		{Mapping{}, "", "", false},
	} {
		if got := tc.m.Module(); got != tc.module || tc.m.File() != tc.file {
			t.Errorf("%+v: Module() = %q, File() = %v; want %q, %v", tc.m, got, tc.m.File(), tc.module, tc.file)
		}
	}
}

// elfSym returns the address and size of symbol name in the .symtab of
// ELF file path, and the executable PT_LOAD segment holding it.
func elfSym(t *testing.T, path, name string) (elf.Symbol, *elf.Prog) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name != name {
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && s.Value >= p.Vaddr && s.Value < p.Vaddr+p.Filesz {
				return s, p
			}
		}
	}
	t.Fatalf("%s: no symbol %q in an executable segment", path, name)
	return elf.Symbol{}, nil
}

// TestFrame symbolizes addresses of real binaries (a C program and a Go
// one) mapped at different bases, as ASLR would, and of the other kinds
// of mapping.
func TestFrame(t *testing.T) {
	c := NewCache(2)
	for _, tc := range []struct {
		bin, sym, module string
	}{
		{testbin.C(t, "explorestack"), "save", "explorestack"},
		{testbin.Go(t, "gohello"), "main.main", "gohello"},
	} {
		s, p := elfSym(t, tc.bin, tc.sym)
		for _, base := range []uint64{0x555555554000, 0x7f1234560000} {
			// The text mapping as the loader makes it: page-aligned
			// offset and address, at base.
			m := &Mapping{Start: base + p.Vaddr&^0xfff, Offset: p.Off &^ 0xfff, Read: true, Exec: true, Inode: 77, Path: tc.bin}
			m.End = m.Start + (p.Filesz+p.Off-m.Offset+0xfff)&^0xfff
			at := func(vaddr uint64) uint64 { return m.Start + vaddr - p.Vaddr + p.Off - m.Offset }
			for _, ac := range []struct {
				addr uint64
				want string
			}{
				{at(s.Value + 3), tc.module + ":" + tc.sym + "+0x3"},
				// A return address just past the function's end is still
				// the function's (the call was its last instruction).
				{at(s.Value + s.Size), tc.module + ":" + tc.sym + "+0x" + strconv.FormatUint(s.Size, 16)},
				// Before the segment's file contents: the file offset.
				{m.Start, tc.module + "+0x" + strconv.FormatUint(m.Offset, 16)},
				{m.End, "?"},
			} {
				if got := c.Frame(-1, m, ac.addr); got != ac.want {
					t.Errorf("%s at %#x: Frame(%#x) = %q, want %q", tc.module, base, ac.addr, got, ac.want)
				}
			}
		}
	}

	anon := &Mapping{Start: 0x1000, End: 0x3000, Exec: true}
	vdso := &Mapping{Start: 0x1000, End: 0x3000, Exec: true, Path: "[vdso]"}
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.so")
	os.WriteFile(junk, append([]byte("\x7fELF\x02\x01\x01"), bytes.Repeat([]byte{0xff}, 200)...), 0o755)
	bad := &Mapping{Start: 0x1000, End: 0x3000, Offset: 0x4000, Exec: true, Inode: 5, Path: junk}
	missing := &Mapping{Start: 0x1000, End: 0x3000, Exec: true, Inode: 6, Path: filepath.Join(dir, "gone.so")}
	for _, tc := range []struct {
		m    *Mapping
		addr uint64
		want string
	}{
		{nil, 0x1234, "?"},
		{anon, 0x1234, "?"},
		{vdso, 0x1234, "[vdso]+0x234"},
		{vdso, 0x5000, "?"}, // outside the mapping
		{bad, 0x1234, "junk.so+0x4234"},
		{missing, 0x1010, "gone.so+0x10"},
	} {
		if got := c.Frame(-1, tc.m, tc.addr); got != tc.want {
			t.Errorf("Frame(%+v, %#x) = %q, want %q", tc.m, tc.addr, got, tc.want)
		}
	}
	if len(c.files) > 2 || len(c.order) > 2 {
		t.Errorf("cache holds %d files (%d in order), over its bound 2", len(c.files), len(c.order))
	}

	// Live: this process's own maps.
	m := &Maps{Pid: os.Getpid()}
	if got := Symbolize(m, c, 8, 1); got != "?" {
		t.Errorf("Symbolize(8) = %q, want ?", got)
	}
	exe, _ := os.Executable()
	pc := uint64(reflect.ValueOf(TestFrame).Pointer())
	if mp := m.Find(pc, 1); mp == nil || !mp.Exec || mp.Module() != filepath.Base(exe) {
		t.Errorf("own maps: %#x is in %+v, want an executable mapping of %s", pc, mp, exe)
	}
}

// TestParseELFHostile: truncations and corruptions of a real ELF file
// give a table or none, never a panic.
func TestParseELFHostile(t *testing.T) {
	data, err := os.ReadFile(testbin.C(t, "explorestack"))
	if err != nil {
		t.Fatal(err)
	}
	if tb := parseELF(bytes.NewReader(data)); len(tb.syms) == 0 || len(tb.segs) == 0 {
		t.Fatalf("explorestack gives %d symbols, %d segments", len(tb.syms), len(tb.segs))
	}
	for _, n := range []int{0, 4, 16, 64, 100, 1000, 4096, len(data) / 2} {
		parseELF(bytes.NewReader(data[:n]))
	}
	hdr := append([]byte(nil), data[:4096]...)
	for i := 16; i < 64; i++ {
		for _, v := range []byte{0, 0xff, 0x7f} {
			c := append([]byte(nil), hdr...)
			c[i] = v
			parseELF(bytes.NewReader(c))
		}
	}
}

func FuzzParseMapsLine(f *testing.F) {
	for _, s := range []string{
		"55d0c3a00000-55d0c3a02000 r-xp 00002000 fd:01 1234    /usr/bin/cat",
		"7ffd1000-7ffd2000 rw-p 00000000 00:00 0 [stack]",
		"1000-2000 ---p 00000000 00:00 0",
		"-", "1-0 rwxp 0 0:0 0",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, ok := ParseMapsLine(line)
		if !ok {
			return
		}
		if m.End < m.Start {
			t.Fatalf("%q: end %#x before start %#x", line, m.End, m.Start)
		}
		// What parses finds itself.
		maps, _ := ParseMaps(bytes.NewReader(append(append([]byte(nil), line...), '\n')))
		if m.End > m.Start && !bytes.ContainsAny(line, "\n") && len(line) <= maxLine {
			if got := Find(maps, m.Start); got == nil || *got != m {
				t.Fatalf("%q: Find(%#x) = %+v, want %+v", line, m.Start, got, m)
			}
		}
		c := NewCache(1)
		_ = c.Frame(-1, &m, m.Start)
	})
}

func FuzzParseELF(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseELF(bytes.NewReader(data))
	})
}

// TestDescribe names frames as strace -k does, with DWARF source lines:
// a return address names the call before it; the innermost frame its own
// address; an address past a function's end still names the nearest
// symbol below it, as libunwind does.
func TestDescribe(t *testing.T) {
	bin := testbin.C(t, "explorestack")
	s, p := elfSym(t, bin, "save")
	c := NewCache(1)
	m := &Mapping{Start: 0x555555554000 + p.Vaddr&^0xfff, Offset: p.Off &^ 0xfff, Read: true, Exec: true, Inode: 77, Path: bin}
	m.End = m.Start + (p.Filesz+p.Off-m.Offset+0xfff)&^0xfff
	at := func(vaddr uint64) uint64 { return m.Start + vaddr - p.Vaddr + p.Off - m.Offset }
	src, err := os.ReadFile(filepath.Join(testbin.Root(t), "testdata", "c", "explorestack.c"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	for _, tc := range []struct {
		vaddr      uint64
		activation bool
		sym        string
		off        uint64
	}{
		{s.Value + 4, true, "save", 4},
		{s.Value + 4, false, "save", 4},
		{s.Value, true, "save", 0},
		{s.Value + s.Size, false, "save", s.Size}, // a call as the last instruction
	} {
		f := c.Describe(-1, m, at(tc.vaddr), tc.activation)
		if f.Path != bin || f.Symbol != tc.sym || f.SymOff != tc.off || f.FileOff != at(tc.vaddr)-m.Start+m.Offset {
			t.Errorf("Describe(%#x, %v) = %+v, want %s+%#x in %s", tc.vaddr, tc.activation, f, tc.sym, tc.off, bin)
			continue
		}
		// The source line is inside save's body.
		if !strings.HasSuffix(f.File, "explorestack.c") || f.Line < 1 || f.Line > len(lines) {
			t.Errorf("Describe(%#x): source %s:%d", tc.vaddr, f.File, f.Line)
			continue
		}
		if body := strings.Join(lines[f.Line-3:f.Line], "\n"); !strings.Contains(body, "save") && !strings.Contains(body, "write") {
			t.Errorf("Describe(%#x): line %d is not save's: %q", tc.vaddr, f.Line, lines[f.Line-1])
		}
		text := string(f.AppendStrace(nil, 0))
		want := " > " + bin + "(" + tc.sym + "+0x" + strconv.FormatUint(tc.off, 16) + ") [0x" + strconv.FormatUint(f.FileOff, 16) + "] at "
		if !strings.HasPrefix(text, want) || !strings.HasSuffix(text, ":"+strconv.Itoa(f.Line)+"\n") {
			t.Errorf("AppendStrace = %q, want %q...", text, want)
		}
	}
	for _, tc := range []struct {
		f    Frame
		want string
	}{
		{Frame{}, " > backtracing_error [0x1234]\n"},
		{Frame{Path: "[vdso]", FileOff: 0x10}, " > [vdso]() [0x10]\n"},
		{Frame{Path: "/lib/x.so", Symbol: "f", SymOff: 0x2a, FileOff: 0x102a}, " > /lib/x.so(f+0x2a) [0x102a]\n"},
	} {
		if got := string(tc.f.AppendStrace(nil, 0x1234)); got != tc.want {
			t.Errorf("AppendStrace(%+v) = %q, want %q", tc.f, got, tc.want)
		}
	}
	if f := c.Describe(-1, &Mapping{Start: 0x1000, End: 0x2000, Exec: true}, 0x1800, false); f.Path != "" {
		t.Errorf("anonymous memory: %+v", f)
	}
}

// TestParseNearHostile: truncated and corrupted ELF and DWARF give what
// could be read, never a panic.
func TestParseNearHostile(t *testing.T) {
	data, err := os.ReadFile(testbin.C(t, "explorestack"))
	if err != nil {
		t.Fatal(err)
	}
	if tb := parseNear(bytes.NewReader(data)); len(tb.syms) == 0 || len(tb.lines) == 0 {
		t.Fatalf("explorestack gives %d symbols, %d line rows", len(tb.syms), len(tb.lines))
	}
	for _, n := range []int{0, 64, 4096, len(data) / 2, len(data) - 100} {
		parseNear(bytes.NewReader(data[:n]))
	}
	for i := len(data) / 2; i < len(data); i += 97 {
		c := append([]byte(nil), data...)
		c[i] ^= 0xff
		parseNear(bytes.NewReader(c))
	}
}

func FuzzParseNear(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseNear(bytes.NewReader(data))
	})
}
