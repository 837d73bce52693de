// Package symbols turns code addresses of a traced process into names that
// do not depend on where ASLR put things: "MODULE:SYMBOL+0xOFF",
// "MODULE+0xOFF" or "?". It reads /proc/PID/maps (Maps, one per process,
// cached) and the ELF symbol tables of the mapped files (Cache, shared,
// bounded). Nothing in it trusts its input: maps lines and ELF files that
// do not parse give no symbols, never a panic.
package symbols

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
)

// Mapping is one line of /proc/PID/maps.
type Mapping struct {
	Start, End uint64 // [Start, End)
	Offset     uint64 // file offset of Start
	Dev        uint64 // major<<32 | minor, as maps shows them
	Inode      uint64
	Read       bool
	Write      bool
	Exec       bool
	Path       string // file path, a pseudo-path ("[stack]", "[vdso]") or "" for anonymous memory
}

// File reports whether the mapping is of a file (not anonymous memory nor
// a pseudo-path such as [heap] or [vdso]).
func (m *Mapping) File() bool { return m.Inode != 0 && len(m.Path) > 0 && m.Path[0] == '/' }

// Module returns the name frames use for the mapping: the base name of its
// file ("libc.so.6"), the pseudo-path ("[vdso]"), or "" for anonymous
// memory.
func (m *Mapping) Module() string {
	p := m.Path
	if len(p) == 0 {
		return ""
	}
	if p[0] == '/' {
		p = trimDeleted(p)
		return path.Base(p)
	}
	return p
}

// trimDeleted removes the " (deleted)" maps appends to unlinked files.
func trimDeleted(p string) string {
	const del = " (deleted)"
	if len(p) > len(del) && p[len(p)-len(del):] == del {
		return p[:len(p)-len(del)]
	}
	return p
}

// MaxMappings bounds how many lines of a maps file are kept.
const MaxMappings = 1 << 16

// maxLine bounds one maps line (paths are at most PATH_MAX).
const maxLine = 8192

// ParseMapsLine parses one line of /proc/PID/maps:
//
//	55d0c3a00000-55d0c3a02000 r-xp 00002000 fd:01 1234   /usr/bin/cat
//
// It reports false for a line that is not of that form.
func ParseMapsLine(line []byte) (Mapping, bool) {
	var m Mapping
	line = bytes.TrimRight(line, "\n")
	field := func() []byte {
		for len(line) > 0 && line[0] == ' ' {
			line = line[1:]
		}
		i := bytes.IndexByte(line, ' ')
		if i < 0 {
			i = len(line)
		}
		f := line[:i]
		line = line[i:]
		return f
	}
	rng := field()
	dash := bytes.IndexByte(rng, '-')
	if dash < 0 {
		return m, false
	}
	var ok1, ok2 bool
	m.Start, ok1 = hex(rng[:dash])
	m.End, ok2 = hex(rng[dash+1:])
	if !ok1 || !ok2 || m.End < m.Start {
		return m, false
	}
	perms := field()
	if len(perms) != 4 {
		return m, false
	}
	m.Read, m.Write, m.Exec = perms[0] == 'r', perms[1] == 'w', perms[2] == 'x'
	var ok bool
	if m.Offset, ok = hex(field()); !ok {
		return m, false
	}
	dev := field()
	colon := bytes.IndexByte(dev, ':')
	if colon < 0 {
		return m, false
	}
	major, ok1 := hex(dev[:colon])
	minor, ok2 := hex(dev[colon+1:])
	if !ok1 || !ok2 || major > 0xffffffff || minor > 0xffffffff {
		return m, false
	}
	m.Dev = major<<32 | minor
	ino, err := strconv.ParseUint(string(field()), 10, 64)
	if err != nil {
		return m, false
	}
	m.Inode = ino
	for len(line) > 0 && line[0] == ' ' {
		line = line[1:]
	}
	m.Path = string(line)
	return m, true
}

// hex parses a non-empty hexadecimal number of at most 16 digits.
func hex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// ParseMaps parses a maps file, skipping lines that do not parse, keeping
// at most MaxMappings, sorted by Start.
func ParseMaps(r io.Reader) ([]Mapping, error) {
	br := bufio.NewReaderSize(r, 4096)
	var out []Mapping
	for len(out) < MaxMappings {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// Over-long line: skip the rest of it.
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			line = nil
		}
		if len(line) > 0 && len(line) <= maxLine {
			if m, ok := ParseMapsLine(line); ok {
				out = append(out, m)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out, nil
}

// ReadMaps reads /proc/PID/maps.
func ReadMaps(pid int) ([]Mapping, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseMaps(f)
}

// Find returns the mapping of sorted maps that holds addr, or nil.
func Find(maps []Mapping, addr uint64) *Mapping {
	i := sort.Search(len(maps), func(i int) bool { return maps[i].End > addr })
	if i < len(maps) && maps[i].Start <= addr && addr < maps[i].End {
		return &maps[i]
	}
	return nil
}

// Maps is the cached address space of one process. Its zero value, with
// Pid set, is ready: the maps file is read on first use, again after
// Invalidate (exec), and again when an address is not found in the cached
// copy (mmap and dlopen add modules), at most once per stamp, so a stop
// that looks up many bad addresses reads the file once.
type Maps struct {
	Pid    int
	maps   []Mapping
	read   bool
	stamp  uint64
	reread bool // the file was read for stamp
}

// Invalidate drops the cached maps (after exec).
func (m *Maps) Invalidate() { m.read, m.maps = false, nil }

// Find returns the mapping that holds addr, or nil. stamp identifies the
// caller's moment (a syscall stop's sequence number): a miss re-reads the
// maps file once per stamp.
func (m *Maps) Find(addr uint64, stamp uint64) *Mapping {
	if !m.read {
		m.load(stamp)
	}
	if mp := Find(m.maps, addr); mp != nil {
		return mp
	}
	if m.reread && m.stamp == stamp {
		return nil
	}
	m.load(stamp)
	return Find(m.maps, addr)
}

func (m *Maps) load(stamp uint64) {
	maps, _ := ReadMaps(m.Pid)
	m.maps, m.read = maps, true
	m.stamp, m.reread = stamp, true
}
