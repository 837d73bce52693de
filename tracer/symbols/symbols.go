package symbols

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Limits on what one ELF file may cost.
const (
	// MaxSymbols bounds the symbols kept from one file.
	MaxSymbols = 1 << 20
	// maxSection bounds the size of a symbol or string table read.
	maxSection = 128 << 20
	// maxName bounds one symbol name.
	maxName = 512
	// memoMax bounds the memo of symbolized addresses; it is cleared when full.
	memoMax = 1 << 16
)

// DefaultFiles is how many files' symbol tables a Cache made with
// NewCache(0) keeps.
const DefaultFiles = 64

type sym struct {
	addr, size uint64
	name       string
}

type segment struct{ off, filesz, vaddr uint64 }

// table is what one ELF file gives: its function symbols sorted by address
// and its PT_LOAD segments.
type table struct {
	syms []sym
	segs []segment
}

type fileKey struct {
	dev, ino uint64
	path     string
}

type memoKey struct {
	file fileKey
	off  uint64
}

// Cache holds parsed ELF symbol tables, keyed by the (device, inode, path)
// of the mapped file, at most a fixed number of files (the oldest is
// dropped), and a bounded memo of frame strings. It is safe for
// concurrent use.
type Cache struct {
	mu    sync.Mutex
	max   int
	files map[fileKey]*table
	order []fileKey
	memo  map[memoKey]string
	// Describe's tables (symbols as strace -k names them, DWARF lines),
	// loaded only for stack traces, as many files at most.
	near      map[fileKey]*nearTable
	nearOrder []fileKey
}

// NewCache returns a cache of at most maxFiles symbol tables
// (DefaultFiles if maxFiles <= 0).
func NewCache(maxFiles int) *Cache {
	if maxFiles <= 0 {
		maxFiles = DefaultFiles
	}
	return &Cache{max: maxFiles} // the maps are made on first use
}

// Frame returns the name of return address addr in process pid, whose
// mapping is m (nil: not mapped): "MODULE:SYMBOL+0xOFF", "MODULE+0xOFF"
// (file offset) when no symbol covers it, "?" for anonymous memory. The
// symbol is the one covering addr-1 (the call instruction: a call at the
// end of a function returns past it), the offset is from addr.
func (c *Cache) Frame(pid int, m *Mapping, addr uint64) string {
	if m == nil || m.Path == "" || addr < m.Start || addr >= m.End {
		return "?"
	}
	mod := m.Module()
	fileOff := addr - m.Start + m.Offset
	if !m.File() {
		return mod + "+0x" + strconv.FormatUint(addr-m.Start, 16)
	}
	key := fileKey{m.Dev, m.Inode, m.Path}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.files == nil {
		c.files, c.memo = make(map[fileKey]*table), make(map[memoKey]string)
	}
	mk := memoKey{key, fileOff}
	if s, ok := c.memo[mk]; ok {
		return s
	}
	t := c.table(pid, m, key)
	s := ""
	if name, off, ok := t.lookup(fileOff); ok {
		s = mod + ":" + name + "+0x" + strconv.FormatUint(off, 16)
	} else {
		s = mod + "+0x" + strconv.FormatUint(fileOff, 16)
	}
	if len(c.memo) >= memoMax {
		clear(c.memo)
	}
	c.memo[mk] = s
	return s
}

// table returns the symbol table of m's file, loading it if needed.
func (c *Cache) table(pid int, m *Mapping, key fileKey) *table {
	if t, ok := c.files[key]; ok {
		return t
	}
	t := loadFile(pid, m)
	if len(c.order) >= c.max {
		old := c.order[0]
		c.order = c.order[1:]
		delete(c.files, old)
		for k := range c.memo {
			if k.file == old {
				delete(c.memo, k)
			}
		}
	}
	c.files[key] = t
	c.order = append(c.order, key)
	return t
}

// lookup finds the symbol covering file offset off-1 and returns its name
// and off's distance from its start.
func (t *table) lookup(off uint64) (string, uint64, bool) {
	if t == nil || off == 0 {
		return "", 0, false
	}
	var vaddr uint64
	found := false
	for _, s := range t.segs {
		if off-1 >= s.off && off-1 < s.off+s.filesz {
			vaddr = off - s.off + s.vaddr
			found = true
			break
		}
	}
	if !found {
		return "", 0, false
	}
	v := vaddr - 1
	i := sort.Search(len(t.syms), func(i int) bool { return t.syms[i].addr > v }) - 1
	if i < 0 {
		return "", 0, false
	}
	s := &t.syms[i]
	if v-s.addr >= s.size {
		return "", 0, false
	}
	return s.name, vaddr - s.addr, true
}

// loadFile parses the file of mapping m: through /proc/PID/map_files (the
// very file mapped, even if it was replaced or deleted since, or lives in
// another mount namespace), else by path. A file that does not parse gives
// an empty table.
func loadFile(pid int, m *Mapping) *table {
	f, err := openRegular(fmt.Sprintf("/proc/%d/map_files/%x-%x", pid, m.Start, m.End))
	if err != nil {
		f, err = openRegular(trimDeleted(m.Path))
		if err != nil {
			return &table{}
		}
	}
	defer f.Close()
	return parseELF(f)
}

// openRegular opens a regular file, without blocking on anything else (a
// FIFO put at the path since).
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, os.ErrInvalid
	}
	return f, nil
}

// parseELF reads the function symbols (.symtab, else .dynsym) and the
// loadable segments of an ELF file. debug/elf may panic on hostile input:
// that gives an empty table.
func parseELF(r io.ReaderAt) (t *table) {
	t = &table{}
	defer func() {
		if recover() != nil {
			t = &table{}
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
	syms := readSyms(f, elf.SHT_SYMTAB)
	if len(syms) == 0 {
		syms = readSyms(f, elf.SHT_DYNSYM)
	}
	t.syms = pick(syms)
	return t
}

// readSyms returns the defined function symbols of the first section of
// type typ, if its tables are within bounds.
func readSyms(f *elf.File, typ elf.SectionType) []elf.Symbol {
	var sec *elf.Section
	for _, s := range f.Sections {
		if s.Type == typ {
			sec = s
			break
		}
	}
	if sec == nil || sec.Size > maxSection || sec.Link >= uint32(len(f.Sections)) || f.Sections[sec.Link].Size > maxSection {
		return nil
	}
	var syms []elf.Symbol
	var err error
	if typ == elf.SHT_SYMTAB {
		syms, err = f.Symbols()
	} else {
		syms, err = f.DynamicSymbols()
	}
	if err != nil {
		return nil
	}
	out := syms[:0]
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Section != elf.SHN_UNDEF && s.Value != 0 && s.Size > 0 && s.Name != "" {
			out = append(out, s)
		}
	}
	if len(out) > MaxSymbols {
		out = out[:MaxSymbols]
	}
	return out
}

// pick sorts the symbols by address and keeps one per address, chosen the
// same way every time: fewer leading underscores (write over __write),
// then global over weak over local binding, then the smaller name.
func pick(syms []elf.Symbol) []sym {
	sort.Slice(syms, func(i, j int) bool {
		a, b := &syms[i], &syms[j]
		if a.Value != b.Value {
			return a.Value < b.Value
		}
		if ua, ub := underscores(a.Name), underscores(b.Name); ua != ub {
			return ua < ub
		}
		if ba, bb := bindRank(a.Info), bindRank(b.Info); ba != bb {
			return ba < bb
		}
		if a.Size != b.Size {
			return a.Size > b.Size
		}
		return a.Name < b.Name
	})
	out := make([]sym, 0, len(syms))
	for i := range syms {
		s := &syms[i]
		if len(out) > 0 && out[len(out)-1].addr == s.Value {
			continue
		}
		name := s.Name
		if len(name) > maxName {
			name = strings.Clone(name[:maxName])
		}
		out = append(out, sym{addr: s.Value, size: s.Size, name: name})
	}
	return out
}

func underscores(s string) int {
	n := 0
	for n < len(s) && s[n] == '_' {
		n++
	}
	return n
}

func bindRank(info byte) int {
	switch elf.ST_BIND(info) {
	case elf.STB_GLOBAL:
		return 0
	case elf.STB_WEAK:
		return 1
	}
	return 2
}

// Symbolize names return address addr of the process whose address space
// maps caches, with the symbol tables of c (see Cache.Frame). stamp is
// passed to Maps.Find.
func Symbolize(maps *Maps, c *Cache, addr, stamp uint64) string {
	return c.Frame(maps.Pid, maps.Find(addr, stamp), addr)
}

// execSegments lists the executable loadable segments of f.
func execSegments(f *elf.File) []segment {
	var segs []segment
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && p.Filesz > 0 {
			segs = append(segs, segment{p.Off, p.Filesz, p.Vaddr})
		}
	}
	return segs
}
