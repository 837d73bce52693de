package replay

import (
	"encoding/binary"
	"fmt"

	"github.com/hermes-trace/hermes/format/recorded"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
)

// A trace file is not trusted: the bytes a replay writes into its target
// come from it. Replay writes only inside the buffers the syscall table
// says the kernel writes for that call, sized from the call's live
// arguments and the result it is given, and only where the target itself
// could write (tracer.Memory.WriteAsKernel: process_vm_writev honours
// page protections). A write outside them ends the replay with
// UnsafeWriteError.

// region is a range of tracee memory the kernel may write for a call.
type region struct{ addr, size uint64 }

// maxRegions bounds the regions one call has (iovec arrays are long).
const maxRegions = 1024

// UnsafeWriteError is a trace that asked the replay to write outside the
// buffers of the call it emulated.
type UnsafeWriteError struct {
	Lineage string
	Call    string
	Addr    uint64
	Size    int
}

func (e *UnsafeWriteError) Error() string {
	return fmt.Sprintf("the trace asks to write %d bytes at %#x for %s in %s, outside the buffers that call gives the kernel: refused (a damaged or crafted trace)",
		e.Size, e.Addr, e.Call, e.Lineage)
}

// outRegions lists where the kernel may write for sc returning ret: the
// same rules record uses to capture what it wrote (record/capture.go),
// with lengths from args (the arguments the program made the call with)
// and live memory.
func outRegions(sc *tracer.Syscall, args *[6]uint64, ret int64, dst []region) []region {
	info := sc.Info
	if info != nil && ret < 0 && abi.Interrupted(info, ret) {
		for i, a := range info.Args {
			if a.Kind == abi.KindStructOut && args[i] != 0 && len(dst) < maxRegions {
				dst = append(dst, region{args[i], uint64(a.Size)})
			}
		}
		return dst
	}
	if info == nil || ret < 0 {
		return dst
	}
	mem := sc.Mem()
	r := uint64(min(ret, 1<<40))
	size := func(i int8) uint64 {
		if i < 0 || int(i) >= len(args) {
			return 0
		}
		return min(args[i], 1<<40)
	}
	add := func(addr, n uint64) {
		if addr != 0 && n > 0 && len(dst) < maxRegions {
			dst = append(dst, region{addr, n})
		}
	}
	var word [8]byte
	readLen := func(addr uint64) uint64 {
		if _, err := mem.ReadAt(word[:4], addr); err != nil {
			return 0
		}
		return uint64(binary.LittleEndian.Uint32(word[:4]))
	}
	iov := func(addr, count, total uint64) {
		count = min(count, maxRegions)
		vec := make([]byte, count*16)
		if n, _ := mem.ReadAt(vec, addr); uint64(n) < count*16 {
			vec = vec[:n/16*16]
		}
		for i := 0; i+16 <= len(vec) && total > 0; i += 16 {
			n := min(binary.LittleEndian.Uint64(vec[i+8:]), total)
			add(binary.LittleEndian.Uint64(vec[i:]), n)
			total -= n
		}
	}
	for i, a := range info.Args {
		addr := args[i]
		switch a.Kind {
		case abi.KindBufOut:
			add(addr, min(size(a.SizeArg), r))
		case abi.KindStructOut, abi.KindStructInOut:
			add(addr, uint64(a.Size))
		case abi.KindSizedOut:
			add(addr, size(a.SizeArg))
		case abi.KindArrayOut, abi.KindArrayInOut:
			add(addr, min(size(a.SizeArg), 1<<20)*uint64(a.Size))
		case abi.KindFDSet:
			add(addr, (size(a.SizeArg)+63)/64*8)
		case abi.KindIovOut:
			iov(addr, size(a.SizeArg), r)
		case abi.KindSockaddrOut, abi.KindBufOutLen:
			if a.SizeArg >= 0 {
				add(args[a.SizeArg], 4)
				add(addr, min(readLen(args[a.SizeArg]), 1<<16))
			}
		case abi.KindMsghdrOut:
			const msghdrSize = 56
			add(addr, msghdrSize)
			h := make([]byte, msghdrSize)
			if n, _ := mem.ReadAt(h, addr); n == msghdrSize {
				le := binary.LittleEndian
				add(le.Uint64(h[0:]), min(uint64(le.Uint32(h[8:])), 1<<16))
				iov(le.Uint64(h[16:]), le.Uint64(h[24:]), r)
				add(le.Uint64(h[32:]), min(le.Uint64(h[40:]), 1<<20))
			}
		case abi.KindIoctlArg:
			if n := recorded.IoctlOutSize(args[1]); n > 0 {
				add(addr, uint64(n))
			}
		case abi.KindCmdArg:
			if m := info.CmdMemFor(args, i); m != nil && m.Out {
				add(addr, uint64(m.Size))
			}
		}
	}
	idRegions(sc, args, add)
	return dst
}

// inside reports whether [addr, addr+n) lies within one of the regions.
func inside(regions []region, addr uint64, n int) bool {
	end := addr + uint64(n)
	if end < addr {
		return false
	}
	for _, r := range regions {
		if addr >= r.addr && end <= r.addr+r.size && r.addr+r.size >= r.addr {
			return true
		}
	}
	return false
}

// bound checks the writes act asks for against the call's out-buffers.
// A write outside them ends the replay: no write is made, and Finish
// returns an UnsafeWriteError.
func (rp *Replayer) bound(sc *tracer.Syscall, args *[6]uint64, act *tracer.Action) {
	if len(act.Writes) == 0 {
		return
	}
	rp.regions = outRegions(sc, args, act.Value, rp.regions[:0])
	for _, w := range act.Writes {
		if inside(rp.regions, w.Addr, len(w.Data)) {
			continue
		}
		if rp.unsafe == nil {
			rp.unsafe = &UnsafeWriteError{Lineage: sc.Thread.Lineage, Call: sc.Name(), Addr: w.Addr, Size: len(w.Data)}
		}
		act.Writes = act.Writes[:0]
		act.Kill = true
		rp.stop()
		return
	}
}
