package replay

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/hermes-trace/hermes/format/recorded"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// compareEntry compares a call at entry with its recording: the number,
// integer and descriptor arguments, paths and strings, and (with data)
// what a write passes.
func (rp *Replayer) compareEntry(sc *tracer.Syscall, e *entry, data bool) string {
	if !sameNr(sc, e) {
		return fmt.Sprintf("the recording made %s here", recorded.Name(e.s))
	}
	if sc.Info == nil {
		return ""
	}
	if rp.opts.Command && e.idx == 0 && e.s.Lineage == "1" {
		return "" // the exec of a command given instead of the recorded one
	}
	for i, a := range sc.Info.Args {
		switch {
		case e.noise && !(i == 0 && sc.Nr == unix.SYS_CLOCK_NANOSLEEP):
			// A lock word or a sleep: only which clock matters.
		case a.Kind == abi.KindFD || a.Kind == abi.KindDirFD || a.Kind == abi.KindInt || a.Kind == abi.KindFlags ||
			a.Kind == abi.KindSignal || a.Kind == abi.KindMode:
			if uint32(sc.Args[i]) != uint32(e.args[i]) {
				return fmt.Sprintf("argument %d (%s) is %d, recorded %d", i+1, a.Name, int32(sc.Args[i]), int32(e.args[i]))
			}
		}
	}
	if data {
		// What the program writes is what it computed: the first place a
		// difference in its state shows.
		if reason := rp.compareWritten(sc, e); reason != "" {
			return reason
		}
	}
	for _, m := range e.s.Mem {
		if m.Kind != tracepb.MemKind_MEM_KIND_IN || int(m.Arg) >= len(sc.Info.Args) {
			continue
		}
		a := sc.Info.Args[m.Arg]
		if a.Kind != abi.KindPath && a.Kind != abi.KindString {
			continue
		}
		if m.Addr != e.args[m.Arg] {
			continue // a string inside an array, not the argument itself
		}
		s, _, _ := decode.ReadString(sc.Mem(), sc.Args[m.Arg], len(m.Data)+256, rp.str[:0])
		rp.str = s
		want := bytes.TrimSuffix(m.Data, []byte{0})
		if !bytes.Equal(s, want) {
			return fmt.Sprintf("argument %d (%s) is %q, recorded %q", m.Arg+1, a.Name, s, want)
		}
	}
	return ""
}

// translateResult does, at the exit of a call that ran, what the state of
// replay needs: it notes the sockets the program makes and gives the
// program the recorded pids where pids are emulated. It runs whether or
// not the call is compared.
func (rp *Replayer) translateResult(sc *tracer.Syscall, e *entry, act *tracer.Action) {
	if sc.Arch != abi.ArchX86_64 || sc.Skipped || sc.Ret < 0 {
		return
	}
	f := callFlags[sc.Nr]
	if f&fSocket != 0 {
		switch sc.Args[0] {
		case unix.AF_INET, unix.AF_INET6, unix.AF_UNIX, unix.AF_NETLINK:
			rp.netSock[sc.Thread.Proc.FDPath(int(sc.Ret))] = true
		}
	}
	if rp.opts.Emulate&Pid == 0 {
		return
	}
	if sc.Nr == unix.SYS_WAITID && sc.Ret == 0 {
		rp.waitidPid(sc)
	}
	rp.translateIDResults(sc, e, act)
	if f&fPidResult == 0 || sc.Ret == 0 {
		return
	}
	ret := sc.Ret
	if recPid, ok := rp.pids.toRecorded(int(ret)); ok {
		ret = int64(recPid)
	} else if lin, ok := rp.pids.lineageOf(int(ret)); ok && e.s.Ret > 0 {
		// A child the recording has not named yet: its recorded pid is
		// what this call returned then.
		rp.pids.setRecorded(int32(e.s.Ret), lin)
		ret = e.s.Ret
	}
	if ret != sc.Ret {
		act.Skip, act.Value, act.By = true, ret, "replay"
	}
}

// compareExit compares the result of a call run for real with the
// recording (translateResult has made pids recorded ones).
func (rp *Replayer) compareExit(sc *tracer.Syscall, e *entry, act *tracer.Action) string {
	ret := sc.Ret
	if act.Skip {
		ret = act.Value
	}
	if ret != e.s.Ret {
		if sc.Info != nil && sc.Info.Ret == abi.RetHex && (!rp.hdr.Deterministic || sc.Thread.Proc.Threads() > 1) {
			// Addresses differ between runs with ASLR on, and where the
			// threads of a process map memory in another order.
			return ""
		}
		reason := fmt.Sprintf("returned %s, recorded %s", retString(ret), retString(e.s.Ret))
		if ret == -int64(unix.EXDEV) && rp.opts.ViewLimits != "" && sc.Info != nil && sc.Info.FS != nil {
			reason += " (" + rp.opts.ViewLimits + ")"
		}
		return reason
	}
	if sc.Arch == abi.ArchX86_64 && ret > 0 && (sc.Nr == unix.SYS_READ || sc.Nr == unix.SYS_PREAD64) {
		for _, m := range e.s.Mem {
			if m.Kind == tracepb.MemKind_MEM_KIND_OUT && m.Arg == 1 {
				return rp.compareBuf(sc, e, m, int(ret), "read")
			}
		}
	}
	return ""
}

// waitidPid rewrites the pid in the siginfo a waitid filled to the
// recorded one.
func (rp *Replayer) waitidPid(sc *tracer.Syscall) {
	const siPid = 16 // offset of si_pid in siginfo_t for SIGCHLD
	var b [4]byte
	addr := sc.Args[2]
	if addr == 0 {
		return
	}
	if n, _ := sc.Mem().ReadAt(b[:], addr+siPid); n != 4 {
		return
	}
	real := int(int32(binary.LittleEndian.Uint32(b[:])))
	if v, ok := rp.pids.toRecorded(real); ok && int(v) != real {
		binary.LittleEndian.PutUint32(b[:], uint32(v))
		_ = sc.Mem().WriteAt(b[:], addr+siPid)
	}
}

// compareWritten compares the data a write-like call passes (write,
// pwrite64, sendto; the iovecs of writev, pwritev and sendmsg) with the
// recording: its length and its bytes.
func (rp *Replayer) compareWritten(sc *tracer.Syscall, e *entry) string {
	if sc.Arch != abi.ArchX86_64 {
		return ""
	}
	switch sc.Nr {
	case unix.SYS_WRITE, unix.SYS_PWRITE64, unix.SYS_SENDTO:
		n := int(min(sc.Args[2], 1<<30))
		for _, m := range e.s.Mem {
			if m.Kind == tracepb.MemKind_MEM_KIND_IN && m.Arg == 1 && m.Addr == e.args[1] {
				return rp.compareBufAt(sc, m, sc.Args[1], n, "writes")
			}
		}
		if n > 0 {
			return fmt.Sprintf("writes %d bytes, recorded none", n)
		}
	case unix.SYS_WRITEV, unix.SYS_PWRITEV, unix.SYS_PWRITEV2:
		return rp.compareIov(sc, e, 1, sc.Args[1], sc.Args[2], e.args[1])
	case unix.SYS_SENDMSG:
		var live [msghdrSize]byte
		if n, _ := sc.Mem().ReadAt(live[:], sc.Args[1]); n != msghdrSize {
			return ""
		}
		for _, m := range e.s.Mem {
			if m.Kind == tracepb.MemKind_MEM_KIND_IN && m.Arg == 1 && m.Addr == e.args[1] && len(m.Data) == msghdrSize {
				le := binary.LittleEndian
				return rp.compareIov(sc, e, 1, le.Uint64(live[16:]), le.Uint64(live[24:]),
					e.args[1], le.Uint64(m.Data[0:]), le.Uint64(m.Data[16:]), le.Uint64(m.Data[32:]))
			}
		}
	}
	return ""
}

// msghdrSize is sizeof(struct msghdr) on x86_64; msg_iov is at 16,
// msg_iovlen at 24.
const msghdrSize = 56

// compareIov compares the buffers of a live iovec array (count entries
// at addr) with the buffers the recording captured for argument arg, in
// order; captures at the recorded addresses in skip (the array itself, a
// msghdr and its name and control) are not buffers.
func (rp *Replayer) compareIov(sc *tracer.Syscall, e *entry, arg uint32, addr, count uint64, skip ...uint64) string {
	rec := rp.iovRecs[:0]
next:
	for _, m := range e.s.Mem {
		if m.Kind != tracepb.MemKind_MEM_KIND_IN || m.Arg != arg {
			continue
		}
		for _, s := range skip {
			if m.Addr == s {
				continue next
			}
		}
		rec = append(rec, m)
	}
	rp.iovRecs = rec
	count = min(count, 1024)
	if cap(rp.iovBuf) < int(count)*16 {
		rp.iovBuf = make([]byte, count*16)
	}
	vec := rp.iovBuf[:count*16]
	if n, _ := sc.Mem().ReadAt(vec, addr); n != len(vec) {
		return ""
	}
	i := 0
	for j := 0; j+16 <= len(vec); j += 16 {
		base, n := binary.LittleEndian.Uint64(vec[j:]), int(min(binary.LittleEndian.Uint64(vec[j+8:]), 1<<30))
		if base == 0 || n == 0 {
			continue
		}
		if i >= len(rec) {
			return fmt.Sprintf("writes more buffers than the %d recorded", len(rec))
		}
		if reason := rp.compareBufAt(sc, rec[i], base, n, "writes"); reason != "" {
			return fmt.Sprintf("buffer %d %s", i, reason)
		}
		i++
	}
	if i < len(rec) {
		return fmt.Sprintf("writes %d buffers, recorded %d", i, len(rec))
	}
	return ""
}

// compareBuf compares n bytes of live memory at the address of capture m
// (relative to the call's arguments) with it; see compareBufAt.
func (rp *Replayer) compareBuf(sc *tracer.Syscall, e *entry, m *tracepb.Mem, n int, what string) string {
	return rp.compareBufAt(sc, m, relocate(&sc.Args, e, m), n, what)
}

// compareBufAt compares n bytes of live memory at addr with capture m: the
// length (for writes; a read returns what it returns), byte for byte as
// far as m holds data, then by a digest of all of it where m is cut. what
// names the data in the reason.
func (rp *Replayer) compareBufAt(sc *tracer.Syscall, m *tracepb.Mem, addr uint64, n int, what string) string {
	total := len(m.Data)
	if m.Size != 0 {
		total = int(m.Size)
	}
	if what != "read" && n != total {
		return fmt.Sprintf("%s %d bytes, recorded %d", what, n, total)
	}
	if len(m.Digest) == 4 {
		n = min(n, total)
	} else {
		n = min(n, len(m.Data))
	}
	if cap(rp.scratch) < n {
		rp.scratch = make([]byte, n)
	}
	got := rp.scratch[:n]
	k, _ := sc.Mem().ReadAt(got, addr)
	got = got[:k]
	want := m.Data[:min(len(m.Data), n)]
	if p := got[:min(len(got), len(want))]; !bytes.Equal(p, want) || len(got) < len(want) {
		at := 0
		for at < len(p) && p[at] == want[at] {
			at++
		}
		return fmt.Sprintf("%s different data: byte %d is %s, recorded %s", what, at, quoteAt(got, at), quoteAt(want, at))
	}
	if len(m.Digest) == 4 && format.CRC32C(got) != binary.LittleEndian.Uint32(m.Digest) {
		return fmt.Sprintf("%s different data: the first %d bytes are as recorded, the %d bytes in all are not (CRC-32C)", what, len(want), len(got))
	}
	return ""
}

func quoteAt(b []byte, at int) string {
	if at >= len(b) {
		return "the end"
	}
	end := min(len(b), at+16)
	return strconv.Quote(string(b[at:end]))
}

func retString(v int64) string {
	if v < 0 && v >= -4095 {
		return fmt.Sprintf("-1 %s", abi.ErrnoName(int(-v)))
	}
	return strconv.FormatInt(v, 10)
}

// diverge reports a divergence at recorded call e (its idx alone when the
// recording has no such call); unless lenient, the replay stops.
func (rp *Replayer) diverge(th *thread, e *entry, sc *tracer.Syscall, atExit bool, reason string) {
	th.mode = modeUnchecked
	d := &Divergence{Lineage: th.lineage, Index: e.idx, Reason: reason}
	if e.s != nil {
		d.Seq = e.s.Seq
	}
	if rp.first == nil {
		rp.first = d
	}
	rp.reports++
	if rp.reports <= maxReports {
		rp.report(th, d, e, sc, atExit)
	}
	if !rp.opts.Lenient {
		rp.stop()
	} else if rp.reports > maxReports {
		// A run this far from its recording is matched to the wrong calls
		// and may wait forever for data that emulation no longer gives.
		fmt.Fprintf(rp.opts.Report, "hermes: replay: more than %d divergences; stopping\n", maxReports)
		rp.gaveUp = true
		rp.stop()
	}
}

// render decodes a recorded call like hermes dump.
func (rp *Replayer) render(e *entry) string {
	return string(recorded.AppendSyscall(nil, e.s, &decode.Options{StrSize: 64}))
}

// report prints one divergence: where, the recorded and the actual call,
// and the calls matched before it in the thread.
func (rp *Replayer) report(th *thread, d *Divergence, e *entry, sc *tracer.Syscall, atExit bool) {
	opts := &decode.Options{StrSize: 64}
	b := rp.buf[:0]
	b = fmt.Appendf(b, "hermes: replay diverged at %s call #%d", d.Lineage, d.Index)
	if e.s != nil {
		b = fmt.Appendf(b, " (trace seq %d)", e.s.Seq)
	}
	b = append(b, ":\n  recorded: "...)
	if e.s != nil {
		b = recorded.AppendSyscall(b, e.s, opts)
	} else {
		b = append(b, "(nothing)"...)
	}
	b = append(b, "\n  actual:   "...)
	c := decode.Call{Arch: sc.Arch, Nr: sc.Nr, Info: sc.Info, Args: sc.Args, Ret: sc.Ret, Exited: atExit}
	b = decode.AppendCall(b, &c, sc.Mem(), opts)
	if atExit {
		b = decode.AppendRet(b, &c)
	}
	b = append(b, "\n  reason:   "...)
	b = append(b, d.Reason...)
	b = append(b, '\n')
	n := th.nhist
	if e.s != nil && n > 0 && th.hist[(n-1)%historyLen] == e {
		n-- // the diverging call itself is the newest entry
	}
	first := max(0, n-(historyLen-1))
	if first < n {
		b = fmt.Appendf(b, "  before it in %s:\n", th.lineage)
	}
	for i := first; i < n; i++ {
		h := th.hist[i%historyLen]
		b = fmt.Appendf(b, "    #%d %s\n", h.idx, recorded.AppendSyscall(nil, h.s, opts))
	}
	rp.buf = b
	rp.opts.Report.Write(b)
}
