package decode

import (
	"strings"

	"github.com/hermes-trace/hermes/tracer/abi"
)

// Open flag bits that make open/openat take a mode.
const (
	oCreat      = 0100
	oTmpfileBit = 020000000
)

// appendArgs appends the arguments of a call with a known description.
func (st *state) appendArgs(dst []byte) []byte {
	c := st.c
	info := c.Info
	n := len(info.Args)
	if n > abi.MaxArgs {
		n = abi.MaxArgs
	}
	switch info.Name {
	case "open":
		if c.Args[1]&(oCreat|oTmpfileBit) == 0 && n > 2 {
			n = 2
		}
	case "openat":
		if c.Args[2]&(oCreat|oTmpfileBit) == 0 && n > 3 {
			n = 3
		}
	case "clone":
		return st.appendClone(dst)
	case "clone3":
		return st.appendClone3(dst)
	case "futex":
		return st.appendFutex(dst)
	case "fcntl":
		if fcntlTakesNoArg(uint32(c.Args[1])) && n > 2 {
			n = 2
		}
	case "ioctl":
		if ioctlTakesNoArg(uint32(c.Args[1])) && n > 2 {
			n = 2
		}
	}
	split := n
	if st.phase != phaseAll {
		split = st.exitSplit(n)
	}
	for i := 0; i < n; i++ {
		// The separator before an argument printed at entry is printed at
		// entry too, and so is the one after the last of them: "read(3, ".
		if i > 0 && st.wants(i <= split) {
			dst = append(dst, ", "...)
		}
		if st.wants(i < split) {
			dst = st.appendArg(dst, i)
		}
	}
	return dst
}

// exitSplit returns the index of the first of c's n arguments that strace
// prints when the call returns rather than when it is made: the first one
// the kernel writes. Everything after it is printed at exit too.
func (st *state) exitSplit(n int) int {
	c := st.c
	for i := 0; i < n; i++ {
		switch c.Info.Args[i].Kind {
		case abi.KindBufOut, abi.KindStructOut, abi.KindIovOut, abi.KindSockaddrOut, abi.KindOutUnknown,
			abi.KindSizedOut, abi.KindArrayOut, abi.KindBufOutLen, abi.KindMsghdrOut:
			return i
		case abi.KindIoctlArg:
			if ioctlWrites(uint32(c.Args[1])) {
				return i
			}
		case abi.KindCmdArg:
			// A struct the kernel writes back (fcntl's F_GETLK): strace
			// prints it when the call returns.
			if m := c.Info.CmdMemFor(&c.Args, i); (m != nil && m.Out) || ipcCtlWrites(c, i) {
				return i
			}
		}
	}
	return n
}

// ioctlWrites reports ioctl requests whose argument the kernel fills.
func ioctlWrites(cmd uint32) bool {
	switch cmd {
	case 0x5401, 0x5413, 0x541B, 0x540F, 0x5429, 0x5411, 0x5424: // TCGETS, TIOCGWINSZ, FIONREAD, TIOCGPGRP, TIOCGSID, TIOCOUTQ, TIOCGETD
		return true
	}
	return cmd>>30&2 != 0 // _IOC_READ
}

// appendArg appends argument i, with the per-syscall decoders first.
func (st *state) appendArg(dst []byte, i int) []byte {
	c := st.c
	a := &c.Info.Args[i]
	v := c.Args[i]
	switch c.Info.Name {
	case "execve":
		if i == 2 {
			return st.appendEnv(dst, v)
		}
	case "execveat":
		if i == 3 {
			return st.appendEnv(dst, v)
		}
	case "mmap":
		if i == 5 {
			return appendHexZero(dst, v)
		}
	case "getrandom":
		if i == 0 {
			return st.appendBufOut(dst, a, v, true)
		}
	case "wait4":
		if i == 1 {
			if v == 0 || !c.succeeded() || c.Ret == 0 || !readFull(st.mem, st.word[:4], v) {
				return appendPtr(dst, v)
			}
			return AppendWaitStatus(dst, le32(st.word[:]))
		}
	case "socket", "socketpair":
		if i == 2 {
			return appendProtocol(dst, uint32(c.Args[0]), v)
		}
	case "ioctl":
		switch i {
		case 1:
			return appendIoctlCmd(dst, uint32(v))
		case 2:
			return st.appendIoctlArg(dst, uint32(c.Args[1]), v)
		}
	case "fcntl":
		if i == 2 {
			return st.appendFcntlArg(dst, uint32(c.Args[1]), v)
		}
	case "getcwd":
		if i == 0 {
			if v == 0 || !c.succeeded() || c.Ret <= 0 {
				return appendPtr(dst, v)
			}
			return st.appendCString(dst, v, int(min(uint64(c.Ret), uint64(pathMax))))
		}
	case "getdents", "getdents64":
		if i == 1 {
			return st.appendDents(dst, v)
		}
	case "nanosleep", "clock_nanosleep":
		// The remaining time is written only when the sleep is interrupted.
		if i == len(c.Info.Args)-1 {
			if v == 0 || !c.Exited || c.Ret != -4 { // EINTR
				return appendPtr(dst, v)
			}
			return st.appendStructAt(dst, "struct __kernel_timespec", 16, v)
		}
	case "rseq":
		if i == 1 {
			return appendHexZero(dst, v)
		}
	case "msgsnd":
		if i == 1 {
			return st.appendMsgbuf(dst, v, c.Args[2])
		}
	case "msgrcv":
		// strace shows the buffer's size in text, whatever was received.
		if i == 1 {
			if !c.succeeded() {
				return appendPtr(dst, v)
			}
			return st.appendMsgbuf(dst, v, c.Args[2])
		}
	case "semop", "semtimedop":
		if i == 1 {
			return st.appendSembufs(dst, v, uint32(c.Args[2]))
		}
	case "shmctl", "msgctl", "semctl":
		if obj, cmdArg, _ := ipcCtl(c); i == cmdArg+1 {
			return st.appendIpcCtlArg(dst, obj, uint32(c.Args[cmdArg]), v)
		}
	case "arch_prctl":
		if i == 1 {
			return appendPtr(dst, v)
		}
	}
	return st.appendByKind(dst, a, v, i)
}

// appendByKind renders an argument from its abi description alone.
func (st *state) appendByKind(dst []byte, a *abi.Arg, v uint64, i int) []byte {
	c := st.c
	switch a.Kind {
	case abi.KindInt:
		if is64(a.Type) {
			return appendInt(dst, int64(v))
		}
		return appendInt(dst, int64(int32(v)))
	case abi.KindUint:
		if is64(a.Type) {
			return appendUint(dst, v)
		}
		return appendUint(dst, uint64(uint32(v)))
	case abi.KindHex, abi.KindOutUnknown, abi.KindMsghdrIn, abi.KindMsghdrOut:
		return appendPtr(dst, v)
	case abi.KindFD:
		return st.appendFD(dst, int32(v))
	case abi.KindDirFD:
		if int32(v) == -100 {
			dst = append(dst, "AT_FDCWD"...)
			if st.fds != nil {
				dst = st.fds.AppendFDName(dst, -100, false)
			}
			return dst
		}
		return st.appendFD(dst, int32(v))
	case abi.KindPath:
		return st.appendCString(dst, v, pathMax)
	case abi.KindString:
		return st.appendCString(dst, v, st.strSize)
	case abi.KindBufIn:
		if baseType(a.Type) == "sigset_t" {
			return st.appendSigsetAt(dst, v, st.sizeArg(a))
		}
		return st.appendBuf(dst, v, st.sizeArg(a), false)
	case abi.KindBufOut:
		return st.appendBufOut(dst, a, v, false)
	case abi.KindSizedOut:
		if v == 0 || !c.succeeded() {
			return appendPtr(dst, v)
		}
		if baseType(a.Type) == "sigset_t" {
			return st.appendSigsetAt(dst, v, st.sizeArg(a))
		}
		return appendPtr(dst, v)
	case abi.KindStructIn, abi.KindStructInOut:
		return st.appendStructAt(dst, baseType(a.Type), int(a.Size), v)
	case abi.KindStructOut:
		if v == 0 || !c.succeeded() {
			return appendPtr(dst, v)
		}
		return st.appendStructAt(dst, baseType(a.Type), int(a.Size), v)
	case abi.KindStrVec:
		return st.appendStrVec(dst, v)
	case abi.KindIovIn:
		return st.appendIov(dst, v, st.sizeArg(a), false)
	case abi.KindIovOut:
		return st.appendIov(dst, v, st.sizeArg(a), true)
	case abi.KindFlags:
		if !is64(a.Type) {
			v = uint64(uint32(v))
		}
		return a.Flags.Append(dst, v)
	case abi.KindMode:
		return appendOctalMode(dst, uint64(uint32(v)))
	case abi.KindSignal:
		return appendSignal(dst, int64(int32(v)))
	case abi.KindIoctlArg, abi.KindCmdArg:
		if v < 4096 {
			return appendUint(dst, v)
		}
		return appendHexZero(dst, v)
	case abi.KindSockaddrIn:
		return st.appendSockaddrAt(dst, v, int64(int32(st.sizeArg(a))))
	case abi.KindSockaddrOut:
		if v == 0 || !c.succeeded() || a.SizeArg < 0 || int(a.SizeArg) >= abi.MaxArgs {
			return appendPtr(dst, v)
		}
		lp := c.Args[a.SizeArg]
		if lp == 0 || !readFull(st.mem, st.word[:4], lp) {
			return appendPtr(dst, v)
		}
		return st.appendSockaddrAt(dst, v, int64(int32(le32(st.word[:]))))
	case abi.KindFDSet:
		return st.appendFDSet(dst, v, st.sizeArg(a))
	case abi.KindArrayInOut:
		if baseType(a.Type) == "struct pollfd" {
			return st.appendPollfds(dst, v, st.sizeArg(a))
		}
		return appendPtr(dst, v)
	case abi.KindArrayOut:
		if baseType(a.Type) == "struct epoll_event" {
			return st.appendEpollEvents(dst, v)
		}
		return appendPtr(dst, v)
	case abi.KindBufOutLen:
		if v == 0 || !c.succeeded() || a.SizeArg < 0 || int(a.SizeArg) >= abi.MaxArgs {
			return appendPtr(dst, v)
		}
		lp := c.Args[a.SizeArg]
		if lp == 0 || !readFull(st.mem, st.word[:4], lp) {
			return appendPtr(dst, v)
		}
		n := int32(le32(st.word[:]))
		if n == 4 && readFull(st.mem, st.word[:4], v) {
			dst = append(dst, '[')
			dst = appendInt(dst, int64(int32(le32(st.word[:]))))
			return append(dst, ']')
		}
		if n < 0 {
			return appendPtr(dst, v)
		}
		return st.appendBuf(dst, v, uint64(n), false)
	}
	return appendHexZero(dst, v)
}

// appendFD appends a descriptor argument, named when -y asks for it.
func (st *state) appendFD(dst []byte, fd int32) []byte {
	dst = appendInt(dst, int64(fd))
	if st.fds != nil && fd >= 0 {
		dst = st.fds.AppendFDName(dst, int(fd), false)
	}
	return dst
}

// sizeArg returns the value of the argument a's size lives in.
func (st *state) sizeArg(a *abi.Arg) uint64 {
	if a.SizeArg < 0 || int(a.SizeArg) >= abi.MaxArgs {
		return 0
	}
	return st.c.Args[a.SizeArg]
}

// is64 reports whether a C type from a tracepoint format is 64 bits wide
// on x86_64 (long, size_t, off_t, pointers ...), as opposed to int-sized.
func is64(t string) bool {
	return strings.Contains(t, "long") || strings.Contains(t, "size_t") ||
		strings.Contains(t, "off_t") || strings.Contains(t, "64") ||
		strings.Contains(t, "time_t") || strings.Contains(t, "aio_context_t") ||
		strings.Contains(t, "*")
}

// baseType strips qualifiers and one level of pointer from a C type:
// "const struct rlimit64 *" gives "struct rlimit64".
func baseType(t string) string {
	t = strings.TrimSpace(t)
	t = strings.TrimSuffix(t, "const")
	t = strings.TrimSpace(t)
	t = strings.TrimSuffix(t, "*")
	t = strings.TrimSpace(t)
	t = strings.TrimPrefix(t, "const ")
	return strings.TrimSpace(t)
}

// keepBuf keeps a grown string buffer for the next read.
func (st *state) keepBuf(s []byte) {
	if cap(s) > cap(st.buf) {
		st.buf = s[:0]
	}
}

// appendCString appends the NUL-terminated string at addr, at most max
// bytes of it, quoted; NULL, or the address when it cannot be read.
func (st *state) appendCString(dst []byte, addr uint64, max int) []byte {
	if addr == 0 {
		return append(dst, "NULL"...)
	}
	s, complete, err := ReadString(st.mem, addr, max, st.buf)
	st.keepBuf(s)
	if err != nil && len(s) == 0 {
		return appendPtr(dst, addr)
	}
	return AppendQuoted(dst, s, !complete)
}

// bufFor returns st.buf resized to n bytes.
func (st *state) bufFor(n int) []byte {
	if cap(st.buf) < n {
		st.buf = make([]byte, 0, n)
	}
	return st.buf[:n]
}

// appendBuf appends size bytes at addr, at most StrSize of them, quoted.
func (st *state) appendBuf(dst []byte, addr, size uint64, hex bool) []byte {
	if addr == 0 {
		return append(dst, "NULL"...)
	}
	n := size
	if n > uint64(st.strSize) {
		n = uint64(st.strSize)
	}
	b := st.bufFor(int(n))
	if !readFull(st.mem, b, addr) {
		return appendPtr(dst, addr)
	}
	if hex {
		return appendQuotedHex(dst, b, size > n)
	}
	return AppendQuoted(dst, b, size > n)
}

// appendBufOut appends an out-buffer: its content up to the return value
// after a successful call, its address otherwise.
func (st *state) appendBufOut(dst []byte, a *abi.Arg, v uint64, hex bool) []byte {
	c := st.c
	if v == 0 || !c.succeeded() || c.Ret < 0 {
		return appendPtr(dst, v)
	}
	n := uint64(c.Ret)
	if a.SizeArg >= 0 && int(a.SizeArg) < abi.MaxArgs {
		if s := c.Args[a.SizeArg]; s < n {
			n = s
		}
	}
	return st.appendBuf(dst, v, n, hex)
}

// readPtrs reads up to len(st.raw)/8 pointers at addr, not crossing a page,
// and returns how many it read.
func (st *state) readPtrs(addr uint64) int {
	n := pageSize - int(addr%pageSize)
	if n > len(st.raw) {
		n = len(st.raw)
	}
	n &^= 7
	if n == 0 { // a misaligned pointer straddling two pages
		n = 8
	}
	if st.mem == nil {
		return 0
	}
	got, _ := st.mem.ReadAt(st.raw[:n], addr)
	if got < 0 {
		got = 0
	}
	return min(got, n) / 8
}

// appendStrVec appends a NULL-terminated array of strings: ["ls", "/"].
func (st *state) appendStrVec(dst []byte, v uint64) []byte {
	if v == 0 {
		return append(dst, "NULL"...)
	}
	start := len(dst)
	dst = append(dst, '[')
	addr := v
	shown := 0
	for {
		k := st.readPtrs(addr)
		if k == 0 {
			return appendPtr(dst[:start], v)
		}
		// Copy the pointers out: reading the strings reuses st.buf only,
		// but keep st.raw stable by consuming it before the next readPtrs.
		for j := 0; j < k; j++ {
			p := le64(st.raw[j*8:])
			if p == 0 {
				return append(dst, ']')
			}
			if shown >= st.maxVec {
				if shown > 0 {
					dst = append(dst, ", "...)
				}
				return append(dst, "...]"...)
			}
			if shown > 0 {
				dst = append(dst, ", "...)
			}
			dst = st.appendCString(dst, p, st.strSize)
			shown++
		}
		addr += uint64(k) * 8
	}
}

// appendEnv appends envp: in full when verbose, else as strace's
// "0x7ffc12345678 /* 23 vars */".
func (st *state) appendEnv(dst []byte, v uint64) []byte {
	if st.verbose || v == 0 {
		return st.appendStrVec(dst, v)
	}
	const maxCount = 1 << 20
	count := 0
	addr := v
	for count < maxCount {
		k := st.readPtrs(addr)
		if k == 0 {
			return appendPtr(dst, v)
		}
		for j := 0; j < k; j++ {
			if le64(st.raw[j*8:]) == 0 {
				dst = appendPtr(dst, v)
				dst = append(dst, " /* "...)
				dst = appendInt(dst, int64(count))
				return append(dst, " vars */"...)
			}
			count++
		}
		addr += uint64(k) * 8
	}
	return appendPtr(dst, v)
}

// appendIov appends an iovec array of count elements. For an out-array the
// data is shown only after success, clamped in total to the return value.
func (st *state) appendIov(dst []byte, v, count uint64, out bool) []byte {
	c := st.c
	if v == 0 {
		return append(dst, "NULL"...)
	}
	showData := !out || c.succeeded()
	remaining := uint64(0)
	if out && c.Ret > 0 {
		remaining = uint64(c.Ret)
	}
	start := len(dst)
	dst = append(dst, '[')
	for i := uint64(0); i < count; i++ {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		if i >= uint64(st.maxVec) {
			dst = append(dst, "..."...)
			break
		}
		if !readFull(st.mem, st.word[:16], v+16*i) {
			return appendPtr(dst[:start], v)
		}
		base, l := le64(st.word[:]), le64(st.word[8:])
		dst = append(dst, "{iov_base="...)
		if showData {
			n := l
			if out {
				n = min(n, remaining)
				remaining -= n
			}
			dst = st.appendBuf(dst, base, n, false)
		} else {
			dst = appendPtr(dst, base)
		}
		dst = append(dst, ", iov_len="...)
		dst = appendUint(dst, l)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// appendSignal appends a signal number: SIGxxx, or decimal when unnamed.
func appendSignal(dst []byte, sig int64) []byte {
	if sig > 0 && sig <= abi.SigRTMax {
		return append(dst, abi.SignalName(int(sig))...)
	}
	return appendInt(dst, sig)
}

// appendFDSet appends an fd_set of nfds bits: [3 4].
func (st *state) appendFDSet(dst []byte, v, nfds uint64) []byte {
	if v == 0 {
		return append(dst, "NULL"...)
	}
	n := int32(nfds)
	if n < 0 {
		return appendPtr(dst, v)
	}
	if int(n) > len(st.raw)*8 {
		n = int32(len(st.raw) * 8)
	}
	size := (int(n) + 63) / 64 * 8
	if !readFull(st.mem, st.raw[:size], v) {
		return appendPtr(dst, v)
	}
	dst = append(dst, '[')
	first := true
	for fd := 0; fd < int(n); fd++ {
		if st.raw[fd/8]&(1<<(fd%8)) != 0 {
			if !first {
				dst = append(dst, ' ')
			}
			first = false
			dst = appendInt(dst, int64(fd))
		}
	}
	return append(dst, ']')
}

// appendPollfds appends a pollfd array: [{fd=3, events=POLLIN}].
func (st *state) appendPollfds(dst []byte, v, count uint64) []byte {
	if v == 0 {
		return append(dst, "NULL"...)
	}
	start := len(dst)
	dst = append(dst, '[')
	for i := uint64(0); i < uint64(uint32(count)); i++ {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		if i >= uint64(st.maxVec) {
			dst = append(dst, "..."...)
			break
		}
		if !readFull(st.mem, st.word[:8], v+8*i) {
			return appendPtr(dst[:start], v)
		}
		dst = append(dst, "{fd="...)
		dst = st.appendFD(dst, int32(le32(st.word[:])))
		dst = append(dst, ", events="...)
		dst = abi.FlagPollEvents.Append(dst, uint64(le16(st.word[4:])))
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// appendDents appends a getdents buffer as strace does without -v:
// "0x5555deadbeef /* 20 entries */".
func (st *state) appendDents(dst []byte, v uint64) []byte {
	c := st.c
	dst = appendPtr(dst, v)
	if v == 0 || !c.succeeded() || c.Ret < 0 {
		return dst
	}
	total := uint64(c.Ret)
	entries := 0
	for off := uint64(0); off+18 <= total; {
		if !readFull(st.mem, st.word[:2], v+off+16) {
			return dst
		}
		rl := uint64(le16(st.word[:]))
		if rl == 0 {
			break
		}
		entries++
		off += rl
	}
	dst = append(dst, " /* "...)
	dst = appendInt(dst, int64(entries))
	if entries == 1 {
		return append(dst, " entry */"...)
	}
	return append(dst, " entries */"...)
}
