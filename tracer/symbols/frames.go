package symbols

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Frame is one frame of a stack trace as strace -k prints it, with the
// source line when the file has DWARF line tables:
//
//	> /usr/lib/x86_64-linux-gnu/libc.so.6(__write+0x10) [0xf8350]
//	> /tmp/prog(save+0x2c) [0x1185] at prog.c:17
type Frame struct {
	Path    string // the mapped file or pseudo-path; "" outside any mapping or in anonymous memory
	Symbol  string // "" when no function symbol precedes the address
	SymOff  uint64 // the address's distance from Symbol
	FileOff uint64 // the address as an offset in the file (from the mapping start for a pseudo-path)
	File    string // source file from DWARF, or ""
	Line    int
}

// AppendStrace appends the frame in strace -k's layout, the source line
// after it, and a newline.
func (f *Frame) AppendStrace(dst []byte, addr uint64) []byte {
	switch {
	case f.Path == "":
		dst = append(dst, " > backtracing_error [0x"...)
		dst = strconv.AppendUint(dst, addr, 16)
		return append(dst, "]\n"...)
	case f.Symbol != "":
		dst = append(dst, " > "...)
		dst = append(dst, f.Path...)
		dst = append(dst, '(')
		dst = append(dst, f.Symbol...)
		dst = append(dst, "+0x"...)
		dst = strconv.AppendUint(dst, f.SymOff, 16)
		dst = append(dst, ") [0x"...)
	default:
		dst = append(dst, " > "...)
		dst = append(dst, f.Path...)
		dst = append(dst, "() [0x"...)
	}
	dst = strconv.AppendUint(dst, f.FileOff, 16)
	dst = append(dst, ']')
	if f.File != "" {
		dst = append(dst, " at "...)
		dst = append(dst, f.File...)
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, int64(f.Line), 10)
	}
	return append(dst, '\n')
}

// nearTable is what a stack trace needs of one ELF file: its function
// symbols as libunwind (strace -k's unwinder) picks them, and its DWARF
// line table.
type nearTable struct {
	syms  []sym // by address; sizes ignored
	segs  []segment
	lines []lineRow
}

// lineRow is one row of a DWARF line table; end marks the address just
// past a sequence.
type lineRow struct {
	addr uint64
	file string
	line int
	end  bool
}

// Limits on the DWARF read from one file.
const (
	maxDebugLine = 64 << 20 // size of .debug_line and .debug_info read
	maxLineRows  = 1 << 21
)

// Describe returns the frame of address addr in process pid, whose
// mapping is m (nil: not mapped). activation is set for the innermost
// frame (the instruction after the syscall), whose own address is
// looked up; for the others, return addresses, the call before them is.
//
// The symbol is the nearest function symbol at or below the address, from
// .dynsym then .symtab, the first in table order among those at the same
// address, sizes ignored: libunwind's choice, so that frames read as
// strace -k prints them (a static function of a stripped library shows as
// the exported one before it).
func (c *Cache) Describe(pid int, m *Mapping, addr uint64, activation bool) Frame {
	if m == nil || m.Path == "" || addr < m.Start || addr >= m.End {
		return Frame{}
	}
	f := Frame{Path: trimDeleted(m.Path), FileOff: addr - m.Start + m.Offset}
	if !m.File() {
		f.FileOff = addr - m.Start
		return f
	}
	key := fileKey{m.Dev, m.Inode, m.Path}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.near == nil {
		c.near = make(map[fileKey]*nearTable)
	}
	t, ok := c.near[key]
	if !ok {
		t = loadNear(pid, m)
		if len(c.nearOrder) >= c.max {
			delete(c.near, c.nearOrder[0])
			c.nearOrder = c.nearOrder[1:]
		}
		c.near[key] = t
		c.nearOrder = append(c.nearOrder, key)
	}
	look := f.FileOff
	if !activation && look > 0 {
		look--
	}
	vaddr, ok := t.vaddr(look)
	if !ok {
		return f
	}
	if i := sort.Search(len(t.syms), func(i int) bool { return t.syms[i].addr > vaddr }) - 1; i >= 0 {
		// The first of the symbols at that address, in table order.
		for i > 0 && t.syms[i-1].addr == t.syms[i].addr {
			i--
		}
		f.Symbol = t.syms[i].name
		f.SymOff = vaddr - t.syms[i].addr
		if !activation {
			f.SymOff++
		}
	}
	if i := sort.Search(len(t.lines), func(i int) bool { return t.lines[i].addr > vaddr }) - 1; i >= 0 && !t.lines[i].end {
		f.File, f.Line = t.lines[i].file, t.lines[i].line
	}
	return f
}

// vaddr converts a file offset into the ELF virtual address it is loaded
// at.
func (t *nearTable) vaddr(off uint64) (uint64, bool) {
	for _, s := range t.segs {
		if off >= s.off && off < s.off+s.filesz {
			return off - s.off + s.vaddr, true
		}
	}
	return 0, false
}

// loadNear parses m's file for Describe (see loadFile).
func loadNear(pid int, m *Mapping) *nearTable {
	f, err := openRegular(fmt.Sprintf("/proc/%d/map_files/%x-%x", pid, m.Start, m.End))
	if err != nil {
		f, err = openRegular(trimDeleted(m.Path))
		if err != nil {
			return &nearTable{}
		}
	}
	defer f.Close()
	return parseNear(f)
}

// parseNear reads the symbols and line table of an ELF file; one that does
// not parse (debug/elf and debug/dwarf may panic on hostile input) gives
// what was read before.
func parseNear(r io.ReaderAt) (t *nearTable) {
	t = &nearTable{}
	defer func() {
		if recover() != nil {
			t.lines = nil
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return t
	}
	t.segs = execSegments(f)
	if len(t.segs) == 0 {
		return t
	}
	var all []sym
	for _, typ := range []elf.SectionType{elf.SHT_DYNSYM, elf.SHT_SYMTAB} {
		for _, s := range readSyms(f, typ) {
			name := s.Name
			if len(name) > maxName {
				name = strings.Clone(name[:maxName])
			}
			all = append(all, sym{addr: s.Value, size: s.Size, name: name})
			if len(all) >= MaxSymbols {
				break
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].addr < all[j].addr })
	t.syms = all
	t.lines = readLines(f)
	return t
}

// readLines reads the DWARF line tables of f, if it has them within
// bounds.
func readLines(f *elf.File) []lineRow {
	for _, name := range []string{".debug_line", ".debug_info"} {
		s := f.Section(name)
		if s == nil || s.Size > maxDebugLine {
			return nil
		}
	}
	d, err := f.DWARF()
	if err != nil {
		return nil
	}
	var rows []lineRow
	r := d.Reader()
	for len(rows) < maxLineRows {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
			continue
		}
		lr, err := d.LineReader(e)
		r.SkipChildren()
		if err != nil || lr == nil {
			continue
		}
		var le dwarf.LineEntry
		for len(rows) < maxLineRows {
			if err := lr.Next(&le); err != nil {
				break
			}
			name := ""
			if le.File != nil {
				name = le.File.Name
			}
			rows = append(rows, lineRow{addr: le.Address, file: name, line: le.Line, end: le.EndSequence})
		}
	}
	// An end marker sorts before a row starting at the same address.
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].addr != rows[j].addr {
			return rows[i].addr < rows[j].addr
		}
		return rows[i].end && !rows[j].end
	})
	return rows
}
