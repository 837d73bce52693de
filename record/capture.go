package record

import (
	"encoding/binary"

	"github.com/hermes-trace/hermes/format/recorded"

	"github.com/hermes-trace/hermes/format"

	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
)

// Limits on what one syscall's capture may hold.
const (
	maxString = 4096     // a path or string argument (PATH_MAX)
	maxIn     = 4096     // an in-buffer (write data): enough to show and compare, not to replay
	maxOut    = 16 << 20 // an out-buffer the kernel wrote: all of it, up to 16 MiB
	maxVec    = 4096     // elements of argv/envp, iovec and array arguments
	iovSize   = 16       // struct iovec on x86_64
)

// capturer reads one call's memory into reusable Mem messages.
type capturer struct {
	mems []*tracepb.Mem
	n    int
	str  []byte
	// summarize: bulk data (in-buffers at entry, out-buffers at exit) is
	// kept as a summary (Options.Summarize).
	summarize bool
}

// bulk captures a data buffer: in full up to limit, or as a summary when
// the capturer summarizes. Whatever is cut (a summary's tail, a write past
// limit) is covered by a digest of all of it (read up to maxOut), so
// replay can still tell whether the data is the same.
func (c *capturer) bulk(mem *tracer.Memory, kind tracepb.MemKind, arg int, addr uint64, size, limit int) {
	keep := limit
	if c.summarize {
		keep = SummaryPrefix
	}
	if size <= keep {
		c.add(mem, kind, arg, addr, size, limit)
		return
	}
	m := c.add(mem, kind, arg, addr, size, maxOut)
	if m == nil || len(m.Data) <= keep {
		return
	}
	sum := format.CRC32C(m.Data)
	m.Size = uint64(len(m.Data))
	m.Data = m.Data[:keep]
	m.Digest = binary.LittleEndian.AppendUint32(m.Digest[:0], sum)
}

func (c *capturer) reset() { c.n = 0 }

// add appends a capture of size bytes at addr (cut at limit) and returns
// it, or nil when nothing could be read.
func (c *capturer) add(mem *tracer.Memory, kind tracepb.MemKind, arg int, addr uint64, size, limit int) *tracepb.Mem {
	if addr == 0 || size <= 0 {
		return nil
	}
	want := min(size, limit)
	m := c.next()
	if cap(m.Data) < want {
		m.Data = make([]byte, want)
	}
	m.Data = m.Data[:want]
	n, _ := mem.ReadAt(m.Data, addr)
	if n == 0 {
		c.n--
		return nil
	}
	m.Data = m.Data[:n]
	m.Addr, m.Kind, m.Arg, m.Size, m.Digest = addr, kind, uint32(arg), 0, m.Digest[:0]
	if n < size {
		m.Size = uint64(size)
	}
	return m
}

// addData records data that hermes wrote at addr itself.
func (c *capturer) addData(kind tracepb.MemKind, arg int, addr uint64, data []byte) {
	m := c.next()
	m.Data = append(m.Data[:0], data...)
	m.Addr, m.Kind, m.Arg, m.Size, m.Digest = addr, kind, uint32(arg), 0, m.Digest[:0]
}

// addString captures the NUL-terminated string at addr, NUL included.
func (c *capturer) addString(mem *tracer.Memory, arg int, addr uint64) {
	if addr == 0 {
		return
	}
	s, complete, _ := decode.ReadString(mem, addr, maxString, c.str[:0])
	c.str = s[:0]
	if len(s) == 0 && !complete {
		return
	}
	m := c.next()
	m.Data = append(append(m.Data[:0], s...), 0)
	if !complete {
		m.Data = m.Data[:len(s)]
	}
	m.Addr, m.Kind, m.Arg, m.Size, m.Digest = addr, tracepb.MemKind_MEM_KIND_IN, uint32(arg), 0, m.Digest[:0]
}

func (c *capturer) next() *tracepb.Mem {
	if c.n == len(c.mems) {
		c.mems = append(c.mems, &tracepb.Mem{})
	}
	m := c.mems[c.n]
	c.n++
	return m
}

func (c *capturer) list() []*tracepb.Mem { return c.mems[:c.n] }

// find returns this call's capture of kind at addr for argument arg.
func (c *capturer) find(kind tracepb.MemKind, arg int, addr uint64) *tracepb.Mem {
	for _, m := range c.mems[:c.n] {
		if m.Kind == kind && m.Arg == uint32(arg) && m.Addr == addr {
			return m
		}
	}
	return nil
}

// entryLen returns the length the call passed in the 4-byte in/out length
// at addr (socklen_t), as captured at entry, or max when there is none:
// the kernel rewrites it with the full length even when it copied less.
func (c *capturer) entryLen(arg int, addr uint64, max int) int {
	if m := c.find(tracepb.MemKind_MEM_KIND_IN, arg, addr); m != nil && len(m.Data) == 4 {
		return min(int(binary.LittleEndian.Uint32(m.Data)), max)
	}
	return max
}

// argSize returns argument i as a size, clamped to a sane int.
func argSize(args *[6]uint64, i int8) int {
	if i < 0 || int(i) >= len(args) {
		return 0
	}
	v := args[i]
	if v > 1<<40 {
		return 0
	}
	return int(v)
}

// entry captures what the kernel will read: strings, paths, in-buffers,
// argv and envp, iovecs, sockaddrs, in-structs and arrays.
func (c *capturer) entry(sc *tracer.Syscall) {
	if sc.Info == nil {
		return
	}
	mem := sc.Mem()
	for i, a := range sc.Info.Args {
		addr := sc.Args[i]
		switch a.Kind {
		case abi.KindPath, abi.KindString:
			c.addString(mem, i, addr)
		case abi.KindBufIn:
			c.bulk(mem, tracepb.MemKind_MEM_KIND_IN, i, addr, argSize(&sc.Args, a.SizeArg), maxIn)
		case abi.KindSockaddrIn:
			c.add(mem, tracepb.MemKind_MEM_KIND_IN, i, addr, argSize(&sc.Args, a.SizeArg), maxIn)
		case abi.KindStructIn, abi.KindStructInOut:
			c.add(mem, tracepb.MemKind_MEM_KIND_IN, i, addr, int(a.Size), int(a.Size))
		case abi.KindArrayIn, abi.KindArrayInOut:
			n := min(argSize(&sc.Args, a.SizeArg), maxVec)
			c.add(mem, tracepb.MemKind_MEM_KIND_IN, i, addr, n*int(a.Size), maxOut)
		case abi.KindFDSet:
			c.add(mem, tracepb.MemKind_MEM_KIND_IN, i, addr, (argSize(&sc.Args, a.SizeArg)+63)/64*8, maxIn)
		case abi.KindStrVec:
			c.strVec(mem, i, addr)
		case abi.KindIovIn:
			c.iov(mem, i, addr, argSize(&sc.Args, a.SizeArg), tracepb.MemKind_MEM_KIND_IN, -1)
		case abi.KindIovOut:
			// The iovec array itself is read by the kernel at entry.
			c.add(mem, tracepb.MemKind_MEM_KIND_IN, i, addr, min(argSize(&sc.Args, a.SizeArg), maxVec)*iovSize, maxOut)
		case abi.KindSockaddrOut, abi.KindBufOutLen:
			// The length is read through a pointer argument.
			if a.SizeArg >= 0 {
				c.add(mem, tracepb.MemKind_MEM_KIND_IN, int(a.SizeArg), sc.Args[a.SizeArg], 4, 4)
			}
		case abi.KindMsghdrIn:
			c.msghdr(mem, i, addr, tracepb.MemKind_MEM_KIND_IN, -1)
		case abi.KindMsghdrOut:
			// The header (where the kernel will write) as it was passed.
			c.add(mem, tracepb.MemKind_MEM_KIND_IN, i, addr, msghdrSize, msghdrSize)
		case abi.KindCmdArg:
			if m := sc.Info.CmdMemFor(&sc.Args, i); m != nil && m.In {
				c.add(mem, tracepb.MemKind_MEM_KIND_IN, i, addr, int(m.Size), int(m.Size))
			}
		case abi.KindIoctlArg:
			if n := recorded.IoctlInSize(sc.Args[1]); n > 0 {
				c.add(mem, tracepb.MemKind_MEM_KIND_IN, i, addr, n, maxIn)
			}
		}
	}
}

// struct msghdr on x86_64: msg_name, msg_namelen, msg_iov, msg_iovlen,
// msg_control, msg_controllen, msg_flags.
const (
	msghdrSize = 56
	mhName     = 0
	mhNameLen  = 8
	mhIov      = 16
	mhIovLen   = 24
	mhCtl      = 32
	mhCtlLen   = 40
)

// msghdr captures a struct msghdr and what it points to: the address, the
// iovec buffers (up to total bytes, -1: all) and the control data. At
// entry (sendmsg) all of it is what the kernel reads; at the exit of
// recvmsg it is what the kernel wrote, with the lengths it rewrote.
func (c *capturer) msghdr(mem *tracer.Memory, arg int, addr uint64, kind tracepb.MemKind, total int) {
	h := c.add(mem, kind, arg, addr, msghdrSize, msghdrSize)
	if h == nil || len(h.Data) < msghdrSize {
		return
	}
	le := binary.LittleEndian
	nameLen, ctlLen := int(le.Uint32(h.Data[mhNameLen:])), int(min(le.Uint64(h.Data[mhCtlLen:]), 1<<20))
	if in := c.find(tracepb.MemKind_MEM_KIND_IN, arg, addr); in != nil && in != h && len(in.Data) == msghdrSize {
		// recvmsg: the kernel rewrote the lengths with what it had, even
		// where it copied less than that into the buffers given.
		nameLen = min(nameLen, int(le.Uint32(in.Data[mhNameLen:])))
		ctlLen = min(ctlLen, int(min(le.Uint64(in.Data[mhCtlLen:]), 1<<20)))
	}
	c.add(mem, kind, arg, le.Uint64(h.Data[mhName:]), nameLen, maxIn)
	c.iov(mem, arg, le.Uint64(h.Data[mhIov:]), int(min(le.Uint64(h.Data[mhIovLen:]), 1<<20)), kind, total)
	c.add(mem, kind, arg, le.Uint64(h.Data[mhCtl:]), ctlLen, maxIn)
}

// strVec captures a NULL-terminated pointer array and every string in it.
func (c *capturer) strVec(mem *tracer.Memory, arg int, addr uint64) {
	if addr == 0 {
		return
	}
	var word [8]byte
	var ptrs []byte
	for i := 0; i < maxVec; i++ {
		if _, err := mem.ReadAt(word[:], addr+uint64(i)*8); err != nil {
			break
		}
		ptrs = append(ptrs, word[:]...)
		p := binary.LittleEndian.Uint64(word[:])
		if p == 0 {
			break
		}
		c.addString(mem, arg, p)
	}
	m := c.next()
	m.Data = append(m.Data[:0], ptrs...)
	m.Addr, m.Kind, m.Arg, m.Size, m.Digest = addr, tracepb.MemKind_MEM_KIND_IN, uint32(arg), 0, m.Digest[:0]
}

// iov captures an iovec array (at entry) and the buffers it points to, up
// to total bytes (-1: all of them, each cut at maxIn).
func (c *capturer) iov(mem *tracer.Memory, arg int, addr uint64, count int, kind tracepb.MemKind, total int) {
	count = min(count, maxVec)
	if addr == 0 || count <= 0 {
		return
	}
	var vec []byte
	if a := c.find(tracepb.MemKind_MEM_KIND_IN, arg, addr); a != nil {
		vec = a.Data // captured at entry (readv): not twice
	} else if a := c.add(mem, tracepb.MemKind_MEM_KIND_IN, arg, addr, count*iovSize, count*iovSize); a != nil {
		vec = a.Data
	}
	for i := 0; i+iovSize <= len(vec) && total != 0; i += iovSize {
		base := binary.LittleEndian.Uint64(vec[i:])
		n := int(min(binary.LittleEndian.Uint64(vec[i+8:]), 1<<40))
		limit := maxIn
		if total > 0 {
			n = min(n, total)
			total -= n
			limit = maxOut
		}
		c.bulk(mem, kind, arg, base, n, limit)
	}
}

// exit captures what the kernel wrote, sized by the syscall model's rules
// from the return value.
func (c *capturer) exit(sc *tracer.Syscall) {
	if sc.Info == nil {
		return
	}
	if sc.Ret < 0 {
		if abi.Interrupted(sc.Info, sc.Ret) {
			// A sleep a signal cut short: the time it had left.
			for i, a := range sc.Info.Args {
				if a.Kind == abi.KindStructOut && sc.Args[i] != 0 {
					c.add(sc.Mem(), tracepb.MemKind_MEM_KIND_OUT, i, sc.Args[i], int(a.Size), int(a.Size))
				}
			}
		}
		return
	}
	mem := sc.Mem()
	ret := int(min(sc.Ret, 1<<40))
	out := tracepb.MemKind_MEM_KIND_OUT
	for i, a := range sc.Info.Args {
		addr := sc.Args[i]
		switch a.Kind {
		case abi.KindBufOut:
			c.bulk(mem, out, i, addr, min(argSize(&sc.Args, a.SizeArg), ret), maxOut)
		case abi.KindStructOut, abi.KindStructInOut:
			c.add(mem, out, i, addr, int(a.Size), int(a.Size))
		case abi.KindSizedOut:
			c.add(mem, out, i, addr, argSize(&sc.Args, a.SizeArg), maxOut)
		case abi.KindArrayOut:
			c.add(mem, out, i, addr, min(argSize(&sc.Args, a.SizeArg), ret, maxVec)*int(a.Size), maxOut)
		case abi.KindArrayInOut:
			c.add(mem, out, i, addr, min(argSize(&sc.Args, a.SizeArg), maxVec)*int(a.Size), maxOut)
		case abi.KindFDSet:
			c.add(mem, out, i, addr, (argSize(&sc.Args, a.SizeArg)+63)/64*8, maxIn)
		case abi.KindIovOut:
			c.iov(mem, i, addr, argSize(&sc.Args, a.SizeArg), out, ret)
		case abi.KindSockaddrOut, abi.KindBufOutLen:
			if a.SizeArg < 0 {
				continue
			}
			l := c.add(mem, out, int(a.SizeArg), sc.Args[a.SizeArg], 4, 4)
			if l != nil && len(l.Data) == 4 {
				n := c.entryLen(int(a.SizeArg), sc.Args[a.SizeArg], int(binary.LittleEndian.Uint32(l.Data)))
				c.add(mem, out, i, addr, n, maxIn)
			}
		case abi.KindMsghdrOut:
			c.msghdr(mem, i, addr, out, ret)
		case abi.KindIoctlArg:
			if n := recorded.IoctlOutSize(sc.Args[1]); n > 0 {
				c.add(mem, out, i, addr, n, maxOut)
			}
		case abi.KindCmdArg:
			if m := sc.Info.CmdMemFor(&sc.Args, i); m != nil && m.Out {
				c.add(mem, out, i, addr, int(m.Size), int(m.Size))
			}
		}
	}
}
