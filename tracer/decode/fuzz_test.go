package decode

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/hermes-trace/hermes/tracer/abi"
)

// fuzzMem is one mapped window of memory at a fixed base.
type fuzzMem struct {
	base uint64
	data []byte
}

func (m *fuzzMem) ReadAt(p []byte, addr uint64) (int, error) {
	if addr < m.base || addr-m.base >= uint64(len(m.data)) {
		return 0, errFault
	}
	n := copy(p, m.data[addr-m.base:])
	if n < len(p) {
		return n, errFault
	}
	return n, nil
}

func FuzzAppendCall(f *testing.F) {
	f.Add(uint16(257), uint8(0), []byte("\x9c\xff\xff\xff\xff\xff\xff\xff\x00\x10\x00\x00\x00\x00\x00\x00"), []byte("/etc/hostname\x00"), int64(3), true, uint8(32))
	f.Add(uint16(59), uint8(0), []byte{0, 0x10, 0, 0, 0, 0, 0, 0, 8, 0x10}, []byte("/bin/ls\x00\x00\x00\x00\x00\x00\x00\x00\x00"), int64(0), true, uint8(4))
	f.Add(uint16(0), uint8(1), []byte{3, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}, []byte("abcdef"), int64(6), true, uint8(0))
	f.Add(uint16(20), uint8(0), []byte{}, []byte{}, int64(-14), false, uint8(1))
	// fcntl F_GETLK and futex FUTEX_WAKE_OP, ioctl FICLONERANGE: structs and commands.
	f.Add(uint16(72), uint8(0), []byte{3, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}, make([]byte, 32), int64(0), true, uint8(0))
	f.Add(uint16(202), uint8(0), []byte{0, 0x10, 0, 0, 0, 0, 0, 0, 0x85, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0x14}, make([]byte, 16), int64(0), true, uint8(0))
	f.Add(uint16(16), uint8(0), []byte{4, 0, 0, 0, 0, 0, 0, 0, 0x0d, 0x94, 0x20, 0x40, 0, 0, 0, 0, 0, 0x10}, make([]byte, 32), int64(-95), true, uint8(0))
	f.Fuzz(func(t *testing.T, nr uint16, arch uint8, rawArgs []byte, mem []byte, ret int64, exited bool, strSize uint8) {
		c := &Call{Arch: abi.Arch(arch % 3), Nr: int(nr % 512), Ret: ret, Exited: exited}
		if c.Arch == abi.ArchX86_64 {
			c.Info = abi.X86_64(c.Nr)
		}
		for i := 0; i < 6 && len(rawArgs) > 0; i++ {
			var w [8]byte
			n := copy(w[:], rawArgs)
			rawArgs = rawArgs[n:]
			v := binary.LittleEndian.Uint64(w[:])
			// Steer pointers into the mapped window half of the time.
			if v&1 == 0 {
				v = 0x1000 + v%uint64(len(mem)+16)
			}
			c.Args[i] = v
		}
		m := &fuzzMem{base: 0x1000, data: mem}
		o := &Options{StrSize: int(strSize), Verbose: strSize&1 == 1}
		out := AppendCall(nil, c, m, o)
		out = AppendRet(out, c)
		// Bounded: six arguments, each at most a few arrays of quoted strings.
		s := o.StrSize
		if s == 0 {
			s = DefaultStrSize
		}
		limit := 6*(4*pathMax+64) + 4*len(mem)*(s+8) + 1<<16
		if len(out) > limit {
			t.Fatalf("output of %d bytes for %d bytes of memory", len(out), len(mem))
		}
		// The halves strace prints around "<unfinished ...>" make the whole,
		// with -y's names too.
		half := string(AppendCallEntry(nil, c, m, o)) + string(AppendCallExit(nil, c, m, o))
		if whole := string(AppendCall(nil, c, m, o)); half != whole {
			t.Fatalf("entry+exit %q != %q", half, whole)
		}
		o.FDs = fdNames{before: map[int]string{3: string(mem)}, after: map[int]string{3: "x"}}
		named := AppendResult(AppendCall(nil, c, m, o), c, o)
		if len(named) > limit+8*len(mem)+64 {
			t.Fatalf("output of %d bytes with -y", len(named))
		}
		if p := AppendFDPath(nil, string(mem)); bytes.ContainsAny(p, "<>") {
			t.Fatalf("AppendFDPath(%q) = %q", mem, p)
		}
		var si [128]byte
		copy(si[:], mem)
		_ = AppendSiginfoBytes(nil, si[:])
		_ = AppendWaitStatus(nil, uint32(ret))
		_ = AppendQuoted(nil, mem, exited)
		_, _, _ = ReadString(m, c.Args[0], int(strSize), nil)
	})
}
