package decode

import (
	"math/bits"
	"net/netip"

	"github.com/hermes-trace/hermes/tracer/abi"
)

// appendStructAt reads the struct of C type t (qualifiers and pointer
// stripped) at v and appends strace's rendering; structs it does not know
// print as their address.
func (st *state) appendStructAt(dst []byte, t string, size int, v uint64) []byte {
	if v == 0 {
		return append(dst, "NULL"...)
	}
	need := 0
	switch t {
	case "struct stat":
		need = 144
	case "struct __kernel_timespec", "struct timespec", "struct __kernel_old_timeval", "struct timeval",
		"struct rlimit", "struct rlimit64":
		need = 16
	case "struct __kernel_itimerspec", "struct __kernel_old_itimerval":
		need = 32
	case "struct timezone":
		need = 8
	case "struct sysinfo":
		need = 112
	case "struct new_utsname":
		need = 390
	case "struct sigaction":
		need = 32
	case "siginfo_t", "struct siginfo":
		need = 128
	case "int", "unsigned", "unsigned int", "uid_t", "gid_t", "u32", "timer_t", "pid_t":
		need = 4
		if t == "int" && size == 8 {
			need = 8 // pipe's int[2]
		}
	case "loff_t", "size_t", "u64", "unsigned long", "aio_context_t", "__kernel_old_time_t", "long":
		need = 8
	case "struct statx":
		need = 256
	case "struct epoll_event":
		need = epollEventSize
	default:
		return appendPtr(dst, v)
	}
	b := st.raw[:need]
	if !readFull(st.mem, b, v) {
		return appendPtr(dst, v)
	}
	switch t {
	case "struct stat":
		return st.appendStat(dst, b)
	case "struct __kernel_timespec", "struct timespec":
		return appendTimespec(dst, b, "tv_nsec=")
	case "struct __kernel_old_timeval", "struct timeval":
		return appendTimespec(dst, b, "tv_usec=")
	case "struct __kernel_itimerspec":
		dst = append(dst, "{it_interval="...)
		dst = appendTimespec(dst, b, "tv_nsec=")
		dst = append(dst, ", it_value="...)
		dst = appendTimespec(dst, b[16:], "tv_nsec=")
		return append(dst, '}')
	case "struct __kernel_old_itimerval":
		dst = append(dst, "{it_interval="...)
		dst = appendTimespec(dst, b, "tv_usec=")
		dst = append(dst, ", it_value="...)
		dst = appendTimespec(dst, b[16:], "tv_usec=")
		return append(dst, '}')
	case "struct timezone":
		dst = append(dst, "{tz_minuteswest="...)
		dst = appendInt(dst, int64(int32(le32(b))))
		dst = append(dst, ", tz_dsttime="...)
		dst = appendInt(dst, int64(int32(le32(b[4:]))))
		return append(dst, '}')
	case "struct rlimit", "struct rlimit64":
		dst = append(dst, "{rlim_cur="...)
		dst = appendRlim(dst, le64(b))
		dst = append(dst, ", rlim_max="...)
		dst = appendRlim(dst, le64(b[8:]))
		return append(dst, '}')
	case "struct sysinfo":
		return appendSysinfo(dst, b)
	case "struct new_utsname":
		return st.appendUtsname(dst, b)
	case "struct sigaction":
		return appendSigaction(dst, b)
	case "siginfo_t", "struct siginfo":
		return appendSiginfo(dst, b)
	case "struct statx":
		return appendStatx(dst, b)
	case "struct epoll_event":
		return appendEpollEvent(dst, b)
	}
	dst = append(dst, '[')
	switch need {
	case 4:
		if t == "int" || t == "pid_t" || t == "timer_t" {
			dst = appendInt(dst, int64(int32(le32(b))))
		} else {
			dst = appendUint(dst, uint64(le32(b)))
		}
	case 8:
		switch t {
		case "int":
			// pipe's, pipe2's and socketpair's pair: new descriptors.
			for i := 0; i < 2; i++ {
				if i > 0 {
					dst = append(dst, ", "...)
				}
				fd := int32(le32(b[4*i:]))
				dst = appendInt(dst, int64(fd))
				if st.fds != nil && fd >= 0 {
					dst = st.fds.AppendFDName(dst, int(fd), true)
				}
			}
		case "loff_t", "long", "__kernel_old_time_t":
			dst = appendInt(dst, int64(le64(b)))
		default:
			dst = appendUint(dst, le64(b))
		}
	}
	return append(dst, ']')
}

// appendTimespec appends {tv_sec=1, tv_nsec=2} (or tv_usec=).
func appendTimespec(dst []byte, b []byte, sub string) []byte {
	dst = append(dst, "{tv_sec="...)
	dst = appendInt(dst, int64(le64(b)))
	dst = append(dst, ", "...)
	dst = append(dst, sub...)
	dst = appendInt(dst, int64(le64(b[8:])))
	return append(dst, '}')
}

// appendRlim appends a resource limit: RLIM64_INFINITY, 8192*1024, 1000.
func appendRlim(dst []byte, v uint64) []byte {
	switch {
	case v == ^uint64(0):
		return append(dst, "RLIM64_INFINITY"...)
	case v > 0 && v%1024 == 0:
		dst = appendUint(dst, v/1024)
		return append(dst, "*1024"...)
	}
	return appendUint(dst, v)
}

// File type bits of st_mode.
var fileTypes = [...]struct {
	bits uint32
	name string
}{
	{0140000, "S_IFSOCK"}, {0120000, "S_IFLNK"}, {0100000, "S_IFREG"}, {0060000, "S_IFBLK"},
	{0040000, "S_IFDIR"}, {0020000, "S_IFCHR"}, {0010000, "S_IFIFO"},
}

// appendFileMode appends st_mode as strace's print_symbolic_mode_t does:
// S_IFREG|0644, S_IFDIR|S_ISVTX|0777; the whole mode in octal when its
// file type has no name.
func appendFileMode(dst []byte, m uint32) []byte {
	if t := m & 0170000; t != 0 {
		named := false
		for _, ft := range fileTypes {
			if ft.bits == t {
				dst = append(dst, ft.name...)
				named = true
				break
			}
		}
		if !named {
			return appendOctalMode(dst, uint64(m))
		}
		dst = append(dst, '|')
	}
	if m&04000 != 0 {
		dst = append(dst, "S_ISUID|"...)
	}
	if m&02000 != 0 {
		dst = append(dst, "S_ISGID|"...)
	}
	if m&01000 != 0 {
		dst = append(dst, "S_ISVTX|"...)
	}
	return appendOctalMode(dst, uint64(m&0777))
}

// appendMakedev appends a device number: makedev(0x1, 0x3).
func appendMakedev(dst []byte, dev uint64) []byte {
	major := (dev>>8)&0xfff | (dev>>32)&^uint64(0xfff)
	minor := dev&0xff | (dev>>12)&^uint64(0xff)
	dst = append(dst, "makedev("...)
	dst = appendHexZero(dst, major)
	dst = append(dst, ", "...)
	dst = appendHexZero(dst, minor)
	return append(dst, ')')
}

// appendStat appends struct stat as strace does without -v:
// {st_mode=S_IFREG|0644, st_size=123, ...}, st_rdev for devices.
func (st *state) appendStat(dst []byte, b []byte) []byte {
	mode := le32(b[24:])
	dst = append(dst, "{st_mode="...)
	dst = appendFileMode(dst, mode)
	switch mode & 0170000 {
	case 0020000, 0060000:
		dst = append(dst, ", st_rdev="...)
		dst = appendMakedev(dst, le64(b[40:]))
	default:
		dst = append(dst, ", st_size="...)
		dst = appendInt(dst, int64(le64(b[48:])))
	}
	return append(dst, ", ..."+"}"...)
}

// appendSysinfo appends struct sysinfo in full, as strace does.
func appendSysinfo(dst []byte, b []byte) []byte {
	dst = append(dst, "{uptime="...)
	dst = appendInt(dst, int64(le64(b)))
	dst = append(dst, ", loads=["...)
	for i := 0; i < 3; i++ {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendUint(dst, le64(b[8+8*i:]))
	}
	dst = append(dst, ']')
	names := [...]string{", totalram=", ", freeram=", ", sharedram=", ", bufferram=", ", totalswap=", ", freeswap="}
	for i, n := range names {
		dst = append(dst, n...)
		dst = appendUint(dst, le64(b[32+8*i:]))
	}
	dst = append(dst, ", procs="...)
	dst = appendUint(dst, uint64(le16(b[80:])))
	dst = append(dst, ", totalhigh="...)
	dst = appendUint(dst, le64(b[88:]))
	dst = append(dst, ", freehigh="...)
	dst = appendUint(dst, le64(b[96:]))
	dst = append(dst, ", mem_unit="...)
	dst = appendUint(dst, uint64(le32(b[104:])))
	return append(dst, '}')
}

// appendUtsname appends struct utsname: sysname and nodename, or every
// field when verbose.
func (st *state) appendUtsname(dst []byte, b []byte) []byte {
	names := [...]string{"sysname=", "nodename=", "release=", "version=", "machine=", "domainname="}
	n := 2
	if st.verbose {
		n = len(names)
	}
	dst = append(dst, '{')
	for i := 0; i < n; i++ {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, names[i]...)
		f := b[65*i : 65*i+65]
		l := 0
		for l < len(f) && f[l] != 0 {
			l++
		}
		dst = AppendQuoted(dst, f[:l], false)
	}
	if !st.verbose {
		dst = append(dst, ", ..."...)
	}
	return append(dst, '}')
}

// appendSigset appends a signal mask of nbits bits as strace does:
// [HUP TERM], or ~[INT] when most signals are set.
func appendSigset(dst []byte, mask uint64, nbits int) []byte {
	if nbits < 64 {
		mask &= 1<<nbits - 1
	}
	if bits.OnesCount64(mask)*2 > nbits {
		dst = append(dst, '~')
		mask = ^mask
		if nbits < 64 {
			mask &= 1<<nbits - 1
		}
	}
	dst = append(dst, '[')
	first := true
	for mask != 0 {
		i := bits.TrailingZeros64(mask)
		mask &^= 1 << i
		if !first {
			dst = append(dst, ' ')
		}
		first = false
		name := abi.SignalName(i + 1)
		if len(name) > 3 && name[:3] == "SIG" {
			name = name[3:]
		}
		dst = append(dst, name...)
	}
	return append(dst, ']')
}

// appendSigsetAt reads a sigset of size bytes at v.
func (st *state) appendSigsetAt(dst []byte, v, size uint64) []byte {
	if v == 0 {
		return append(dst, "NULL"...)
	}
	if size == 0 || size > 128 {
		return appendPtr(dst, v)
	}
	n := min(size, 8)
	var w [8]byte
	b := st.word[:n]
	if !readFull(st.mem, b, v) {
		return appendPtr(dst, v)
	}
	copy(w[:], b)
	return appendSigset(dst, le64(w[:]), int(n)*8)
}

// sa_flags bits in the order strace prints them.
var saFlags = [...]struct {
	bit  uint64
	name string
}{
	{0x04000000, "SA_RESTORER"}, {0x08000000, "SA_ONSTACK"}, {0x10000000, "SA_RESTART"},
	{0x40000000, "SA_NODEFER"}, {0x80000000, "SA_RESETHAND"}, {4, "SA_SIGINFO"},
	{1, "SA_NOCLDSTOP"}, {2, "SA_NOCLDWAIT"}, {0x400, "SA_UNSUPPORTED"}, {0x800, "SA_EXPOSE_TAGBITS"},
}

// appendSigaction appends the kernel's struct sigaction.
func appendSigaction(dst []byte, b []byte) []byte {
	handler, flags, restorer, mask := le64(b), le64(b[8:]), le64(b[16:]), le64(b[24:])
	dst = append(dst, "{sa_handler="...)
	switch handler {
	case 0:
		dst = append(dst, "SIG_DFL"...)
	case 1:
		dst = append(dst, "SIG_IGN"...)
	default:
		dst = appendHexZero(dst, handler)
	}
	dst = append(dst, ", sa_mask="...)
	dst = appendSigset(dst, mask, 64)
	dst = append(dst, ", sa_flags="...)
	if flags == 0 {
		dst = append(dst, '0')
	} else {
		rest := flags
		first := true
		for _, f := range saFlags {
			if rest&f.bit != 0 {
				if !first {
					dst = append(dst, '|')
				}
				first = false
				dst = append(dst, f.name...)
				rest &^= f.bit
			}
		}
		if rest != 0 {
			if !first {
				dst = append(dst, '|')
			}
			dst = appendHexZero(dst, rest)
		}
	}
	if flags&0x04000000 != 0 {
		dst = append(dst, ", sa_restorer="...)
		dst = appendPtr(dst, restorer)
	}
	return append(dst, '}')
}

// Address families strace names in sockaddrs.
var afNames = [...]string{
	0: "AF_UNSPEC", 1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK", 17: "AF_PACKET",
}

// appendSockaddrAt reads a sockaddr of length l at v.
func (st *state) appendSockaddrAt(dst []byte, v uint64, l int64) []byte {
	if v == 0 {
		return append(dst, "NULL"...)
	}
	if l < 2 {
		return appendPtr(dst, v)
	}
	if l > 128 {
		l = 128
	}
	b := st.raw[:l]
	if !readFull(st.mem, b, v) {
		return appendPtr(dst, v)
	}
	return appendSockaddr(dst, b)
}

// appendSockaddr appends a sockaddr of len(b) bytes as strace does:
// {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}.
func appendSockaddr(dst []byte, b []byte) []byte {
	fam := le16(b)
	dst = append(dst, "{sa_family="...)
	if int(fam) < len(afNames) && afNames[fam] != "" {
		dst = append(dst, afNames[fam]...)
	} else {
		dst = appendUint(dst, uint64(fam))
	}
	switch {
	case fam == 1: // AF_UNIX
		p := b[2:]
		if len(p) == 0 {
			break
		}
		dst = append(dst, ", sun_path="...)
		if p[0] == 0 { // abstract
			dst = append(dst, '@')
			return append(AppendQuoted(dst, p[1:], false), '}')
		}
		l := 0
		for l < len(p) && p[l] != 0 {
			l++
		}
		dst = AppendQuoted(dst, p[:l], false)
	case fam == 2 && len(b) >= 8: // AF_INET
		dst = append(dst, ", sin_port=htons("...)
		dst = appendUint(dst, uint64(b[2])<<8|uint64(b[3]))
		dst = append(dst, "), sin_addr=inet_addr(\""...)
		dst = netip.AddrFrom4([4]byte(b[4:8])).AppendTo(dst)
		dst = append(dst, "\")"...)
	case fam == 10 && len(b) >= 24: // AF_INET6
		dst = append(dst, ", sin6_port=htons("...)
		dst = appendUint(dst, uint64(b[2])<<8|uint64(b[3]))
		dst = append(dst, "), sin6_flowinfo=htonl("...)
		dst = appendUint(dst, uint64(b[4])<<24|uint64(b[5])<<16|uint64(b[6])<<8|uint64(b[7]))
		dst = append(dst, "), inet_pton(AF_INET6, \""...)
		dst = netip.AddrFrom16([16]byte(b[8:24])).AppendTo(dst)
		dst = append(dst, "\", &sin6_addr)"...)
		if len(b) >= 28 {
			dst = append(dst, ", sin6_scope_id="...)
			dst = appendUint(dst, uint64(le32(b[24:])))
		}
	case fam == 16 && len(b) >= 12: // AF_NETLINK
		dst = append(dst, ", nl_pid="...)
		dst = appendUint(dst, uint64(le32(b[4:])))
		dst = append(dst, ", nl_groups="...)
		g := le32(b[8:])
		const digits = "0123456789abcdef"
		for s := 28; s >= 0; s -= 4 {
			dst = append(dst, digits[g>>s&15])
		}
	default:
		if len(b) > 2 {
			dst = append(dst, ", sa_data="...)
			dst = AppendQuoted(dst, b[2:], false)
		}
	}
	return append(dst, '}')
}

// appendProtocol appends socket's protocol: IPPROTO_* names for the IP
// families, decimal otherwise.
func appendProtocol(dst []byte, family uint32, v uint64) []byte {
	p := int32(v)
	if family == 2 || family == 10 {
		switch p {
		case 0:
			return append(dst, "IPPROTO_IP"...)
		case 1:
			return append(dst, "IPPROTO_ICMP"...)
		case 6:
			return append(dst, "IPPROTO_TCP"...)
		case 17:
			return append(dst, "IPPROTO_UDP"...)
		case 58:
			return append(dst, "IPPROTO_ICMPV6"...)
		case 132:
			return append(dst, "IPPROTO_SCTP"...)
		case 255:
			return append(dst, "IPPROTO_RAW"...)
		}
	}
	return appendInt(dst, int64(p))
}

// Clone flags that decide which clone arguments strace shows.
const (
	cloneSettls        = 0x00080000
	cloneParentSettid  = 0x00100000
	cloneChildCleartid = 0x00200000
	cloneChildSettid   = 0x01000000
	clonePidfd         = 0x00001000
)

// appendClone appends x86_64 clone(flags, newsp, parent_tid, child_tid,
// tls) as strace does: named arguments, shown as the flags make them used.
func (st *state) appendClone(dst []byte) []byte {
	c := st.c
	flags := c.Args[0]
	// strace prints the stack and flags at entry, the rest at exit.
	if st.wants(true) {
		dst = append(dst, "child_stack="...)
		dst = appendPtr(dst, c.Args[1])
		dst = append(dst, ", flags="...)
		dst = abi.FlagClone.Append(dst, flags)
	}
	if !st.wants(false) {
		return dst
	}
	if flags&(cloneParentSettid|clonePidfd) != 0 {
		if flags&cloneParentSettid != 0 {
			dst = append(dst, ", parent_tid="...)
		} else {
			dst = append(dst, ", pidfd="...)
		}
		dst = st.appendTidPtr(dst, c.Args[2])
	}
	if flags&cloneSettls != 0 {
		dst = append(dst, ", tls="...)
		dst = appendPtr(dst, c.Args[4])
	}
	if flags&(cloneChildSettid|cloneChildCleartid) != 0 {
		dst = append(dst, ", child_tidptr="...)
		dst = appendPtr(dst, c.Args[3])
	}
	return dst
}

// appendTidPtr appends a tid the kernel stored: [1234] after success, the
// address otherwise.
func (st *state) appendTidPtr(dst []byte, p uint64) []byte {
	if p == 0 || !st.c.succeeded() || !readFull(st.mem, st.word[:4], p) {
		return appendPtr(dst, p)
	}
	dst = append(dst, '[')
	dst = appendInt(dst, int64(int32(le32(st.word[:]))))
	return append(dst, ']')
}

// appendClone3 appends clone3(struct clone_args *, size).
func (st *state) appendClone3(dst []byte) []byte {
	c := st.c
	v, size := c.Args[0], c.Args[1]
	// strace prints the struct at entry, and what the kernel wrote into it
	// and the size at exit.
	ok := v != 0 && size >= 64 && readFull(st.mem, st.raw[:64], v)
	if !ok {
		if st.wants(true) {
			dst = appendPtr(dst, v)
		}
	} else {
		b := st.raw[:64]
		flags := le64(b)
		ptid := le64(b[24:])
		if st.wants(true) {
			dst = append(dst, "{flags="...)
			dst = abi.FlagClone.Append(dst, flags&^0xff)
			if flags&clonePidfd != 0 {
				dst = append(dst, ", pidfd="...)
				dst = appendPtr(dst, le64(b[8:]))
			}
			if flags&(cloneChildSettid|cloneChildCleartid) != 0 {
				dst = append(dst, ", child_tid="...)
				dst = appendPtr(dst, le64(b[16:]))
			}
			if flags&cloneParentSettid != 0 {
				dst = append(dst, ", parent_tid="...)
				dst = appendPtr(dst, ptid)
			}
			dst = append(dst, ", exit_signal="...)
			dst = appendSignal(dst, int64(le64(b[32:])))
			dst = append(dst, ", stack="...)
			dst = appendPtr(dst, le64(b[40:]))
			dst = append(dst, ", stack_size="...)
			dst = appendHexZero(dst, le64(b[48:]))
			if flags&cloneSettls != 0 {
				dst = append(dst, ", tls="...)
				dst = appendPtr(dst, le64(b[56:]))
			}
			dst = append(dst, '}')
		}
		if st.wants(false) && flags&cloneParentSettid != 0 && ptid != 0 && c.succeeded() && readFull(st.mem, st.word[:4], ptid) {
			dst = append(dst, " => {parent_tid=["...)
			dst = appendInt(dst, int64(int32(le32(st.word[:]))))
			dst = append(dst, "]}"...)
		}
	}
	if !st.wants(false) {
		return dst
	}
	dst = append(dst, ", "...)
	return appendUint(dst, size)
}

// ioctl commands strace names that are common enough to matter.
var ioctlNames = map[uint32]string{
	0x5401: "TCGETS", 0x5402: "TCSETS", 0x5403: "TCSETSW", 0x5404: "TCSETSF",
	0x5409: "TCSBRK", 0x540A: "TCXONC", 0x540B: "TCFLSH", 0x540C: "TIOCEXCL", 0x540D: "TIOCNXCL",
	0x540E: "TIOCSCTTY", 0x540F: "TIOCGPGRP", 0x5410: "TIOCSPGRP", 0x5411: "TIOCOUTQ", 0x5412: "TIOCSTI",
	0x5413: "TIOCGWINSZ", 0x5414: "TIOCSWINSZ", 0x541B: "FIONREAD", 0x5421: "FIONBIO", 0x5422: "TIOCNOTTY",
	0x5424: "TIOCGETD", 0x5427: "TIOCSBRK", 0x5428: "TIOCCBRK", 0x5429: "TIOCGSID", 0x5441: "TIOCGPTPEER",
	0x5450: "FIONCLEX", 0x5451: "FIOCLEX", 0x5452: "FIOASYNC", 0x5460: "FIOQSIZE",
	0x80045430: "TIOCGPTN", 0x40045431: "TIOCSPTLCK", 0x80045439: "TIOCGPTLCK", 0x80045440: "TIOCGEXCL",
	0x2: "FIGETBSZ",
	// The btrfs names come first: strace lists both, as the kernel
	// defines the generic ones with the same numbers.
	ioctlFiclone: "BTRFS_IOC_CLONE or FICLONE", ioctlFicloneRange: "BTRFS_IOC_CLONE_RANGE or FICLONERANGE",
	0xc0189436: "BTRFS_IOC_FILE_EXTENT_SAME or FIDEDUPERANGE",
}

// ioctl commands decoded below.
const (
	ioctlFiclone      = 0x40049409 // _IOW(0x94, 9, int)
	ioctlFicloneRange = 0x4020940d // _IOW(0x94, 13, struct file_clone_range)
)

// ioctlTakesNoArg reports the ioctl commands strace prints with two
// arguments: the ones without a parameter.
func ioctlTakesNoArg(cmd uint32) bool {
	switch cmd {
	case 0x5450, 0x5451, 0x5422, 0x540C, 0x540D, 0x5427, 0x5428: // FIONCLEX, FIOCLEX, TIOCNOTTY, TIOCEXCL, TIOCNXCL, TIOCSBRK, TIOCCBRK
		return true
	}
	return false
}

// appendIoctlCmd appends an ioctl request: its name or hex.
func appendIoctlCmd(dst []byte, cmd uint32) []byte {
	if n, ok := ioctlNames[cmd]; ok {
		return append(dst, n...)
	}
	return appendHexZero(dst, uint64(cmd))
}

// tcxonc names TCXONC's argument.
var tcxonc = [...]string{"TCOOFF", "TCOON", "TCIOFF", "TCION"}

// appendIoctlArg appends ioctl's third argument for the commands decoded.
func (st *state) appendIoctlArg(dst []byte, cmd uint32, v uint64) []byte {
	c := st.c
	switch cmd {
	case 0x5413, 0x5414: // TIOCGWINSZ, TIOCSWINSZ
		if v == 0 || (cmd == 0x5413 && !c.succeeded()) || !readFull(st.mem, st.word[:8], v) {
			return appendPtr(dst, v)
		}
		b := st.word[:8]
		dst = append(dst, "{ws_row="...)
		dst = appendUint(dst, uint64(le16(b)))
		dst = append(dst, ", ws_col="...)
		dst = appendUint(dst, uint64(le16(b[2:])))
		dst = append(dst, ", ws_xpixel="...)
		dst = appendUint(dst, uint64(le16(b[4:])))
		dst = append(dst, ", ws_ypixel="...)
		dst = appendUint(dst, uint64(le16(b[6:])))
		return append(dst, '}')
	case 0x541B, 0x540F, 0x5429, 0x80045430, 0x5411, 0x5424, 0x80045440:
		// FIONREAD, TIOCGPGRP, TIOCGSID, TIOCGPTN, TIOCOUTQ, TIOCGETD, TIOCGEXCL: int out
		if v == 0 || !c.succeeded() || !readFull(st.mem, st.word[:4], v) {
			return appendPtr(dst, v)
		}
		dst = append(dst, '[')
		dst = appendInt(dst, int64(int32(le32(st.word[:]))))
		return append(dst, ']')
	case 0x5410, 0x5421, 0x5452, 0x40045431: // TIOCSPGRP, FIONBIO, FIOASYNC, TIOCSPTLCK: int in
		if v == 0 || !readFull(st.mem, st.word[:4], v) {
			return appendPtr(dst, v)
		}
		dst = append(dst, '[')
		dst = appendInt(dst, int64(int32(le32(st.word[:]))))
		return append(dst, ']')
	case 0x540E, 0x5409, ioctlFiclone: // TIOCSCTTY, TCSBRK: an int; FICLONE: the source descriptor
		if cmd == ioctlFiclone {
			return st.appendFD(dst, int32(v))
		}
		return appendInt(dst, int64(int32(v)))
	case 0x540B: // TCFLSH
		return appendUint(dst, v)
	case 0x540A: // TCXONC
		if v < uint64(len(tcxonc)) {
			return append(dst, tcxonc[v]...)
		}
		dst = appendHexZero(dst, v)
		return append(dst, " /* TC??? */"...)
	case 0x5412: // TIOCSTI: the character
		if v == 0 {
			return appendPtr(dst, v)
		}
		return st.appendBuf(dst, v, 1, false)
	case ioctlFicloneRange:
		// struct file_clone_range {s64 src_fd; u64 src_offset, src_length, dest_offset}
		b := st.raw[:32]
		if v == 0 || !readFull(st.mem, b, v) {
			return appendPtr(dst, v)
		}
		dst = append(dst, "{src_fd="...)
		dst = st.appendFD(dst, int32(le64(b)))
		dst = append(dst, ", src_offset="...)
		dst = appendUint(dst, le64(b[8:]))
		dst = append(dst, ", src_length="...)
		dst = appendUint(dst, le64(b[16:]))
		dst = append(dst, ", dest_offset="...)
		dst = appendUint(dst, le64(b[24:]))
		return append(dst, '}')
	}
	return appendPtr(dst, v)
}

// fcntlTakesNoArg reports the fcntl commands strace prints with two
// arguments.
func fcntlTakesNoArg(cmd uint32) bool {
	switch cmd {
	case 1, 3, 9, 11, 1025, 1032, 1034: // F_GETFD, F_GETFL, F_GETOWN, F_GETSIG, F_GETLEASE, F_GETPIPE_SZ, F_GET_SEALS
		return true
	}
	return false
}

// appendFDFlags appends F_SETFD/F_GETFD flags.
func appendFDFlags(dst []byte, v uint64) []byte {
	switch v {
	case 0:
		return append(dst, '0')
	case 1:
		return append(dst, "FD_CLOEXEC"...)
	}
	if v&1 != 0 {
		dst = append(dst, "FD_CLOEXEC|"...)
		v &^= 1
	}
	return appendHexZero(dst, v)
}

// fcntl commands whose argument points to a struct.
const (
	fGetlk     = 5
	fSetlk     = 6
	fSetlkw    = 7
	fSetownEx  = 15
	fGetownEx  = 16
	fOFDGetlk  = 36
	fOFDSetlk  = 37
	fOFDSetlkw = 38
)

// appendFcntlArg appends fcntl's third argument by command.
func (st *state) appendFcntlArg(dst []byte, cmd uint32, v uint64) []byte {
	switch cmd {
	case 2: // F_SETFD
		return appendFDFlags(dst, v)
	case 4: // F_SETFL
		return abi.FlagOpenBits.Append(dst, uint64(uint32(v)))
	case 0, 1030, 8, 10, 1024, 1031, 1033: // F_DUPFD, F_DUPFD_CLOEXEC, F_SETOWN, F_SETSIG, F_SETLEASE, F_SETPIPE_SZ, F_ADD_SEALS
		return appendInt(dst, int64(int32(v)))
	case fSetlk, fSetlkw, fOFDSetlk, fOFDSetlkw:
		return st.appendFlock(dst, v, false)
	case fGetlk, fOFDGetlk:
		// The lock found, which the kernel wrote back: with its owner.
		if !st.c.succeeded() {
			return appendPtr(dst, v)
		}
		return st.appendFlock(dst, v, true)
	case fSetownEx, fGetownEx:
		if v == 0 || (cmd == fGetownEx && !st.c.succeeded()) || !readFull(st.mem, st.word[:8], v) {
			return appendPtr(dst, v)
		}
		// struct f_owner_ex {int type; pid_t pid;}
		dst = append(dst, "{type="...)
		dst = appendXval(dst, uint64(le32(st.word[:])), fOwnerTypes[:], " /* F_OWNER_??? */")
		dst = append(dst, ", pid="...)
		dst = appendInt(dst, int64(int32(le32(st.word[4:]))))
		return append(dst, '}')
	}
	return appendPtr(dst, v)
}

// Names in struct flock and struct f_owner_ex.
var (
	flockTypes  = [...]string{0: "F_RDLCK", 1: "F_WRLCK", 2: "F_UNLCK", 4: "F_EXLCK", 8: "F_SHLCK"}
	seekWhences = [...]string{"SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"}
	fOwnerTypes = [...]string{"F_OWNER_TID", "F_OWNER_PID", "F_OWNER_PGRP"}
)

// appendXval appends v's name in names, or v in hex followed by unknown
// (strace's printxval).
func appendXval(dst []byte, v uint64, names []string, unknown string) []byte {
	if v < uint64(len(names)) && names[v] != "" {
		return append(dst, names[v]...)
	}
	dst = appendHexZero(dst, v)
	return append(dst, unknown...)
}

// appendFlock appends the struct flock at v as strace does:
// {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=10}, and l_pid
// for the lock F_GETLK found.
func (st *state) appendFlock(dst []byte, v uint64, getlk bool) []byte {
	// struct flock {short l_type, l_whence; off_t l_start, l_len; pid_t l_pid;}
	b := st.raw[:32]
	if v == 0 || !readFull(st.mem, b, v) {
		return appendPtr(dst, v)
	}
	dst = append(dst, "{l_type="...)
	dst = appendXval(dst, uint64(le16(b)), flockTypes[:], " /* F_??? */")
	dst = append(dst, ", l_whence="...)
	dst = appendXval(dst, uint64(le16(b[2:])), seekWhences[:], " /* SEEK_??? */")
	dst = append(dst, ", l_start="...)
	dst = appendInt(dst, int64(le64(b[8:])))
	dst = append(dst, ", l_len="...)
	dst = appendInt(dst, int64(le64(b[16:])))
	if getlk {
		dst = append(dst, ", l_pid="...)
		dst = appendInt(dst, int64(int32(le32(b[24:]))))
	}
	return append(dst, '}')
}

// epollEventSize is the size of the packed x86_64 struct epoll_event.
const epollEventSize = 12

// appendEpollEvent appends a struct epoll_event as strace does:
// {events=EPOLLIN, data={u32=3, u64=3}}.
func appendEpollEvent(dst []byte, b []byte) []byte {
	data := le64(b[4:])
	dst = append(dst, "{events="...)
	dst = abi.FlagEpollEvents.Append(dst, uint64(le32(b)))
	dst = append(dst, ", data={u32="...)
	dst = appendUint(dst, uint64(uint32(data)))
	dst = append(dst, ", u64="...)
	dst = appendUint(dst, data)
	return append(dst, "}}"...)
}

// appendEpollEvents appends the events epoll_wait and epoll_pwait
// returned: as many as the result says, after success.
func (st *state) appendEpollEvents(dst []byte, v uint64) []byte {
	c := st.c
	if v == 0 || !c.succeeded() || c.Ret < 0 {
		return appendPtr(dst, v)
	}
	start := len(dst)
	dst = append(dst, '[')
	for i := int64(0); i < c.Ret; i++ {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		if i >= int64(st.maxVec) {
			dst = append(dst, "..."...)
			break
		}
		b := st.raw[:epollEventSize]
		if !readFull(st.mem, b, v+uint64(epollEventSize*i)) {
			return appendPtr(dst[:start], v)
		}
		dst = appendEpollEvent(dst, b)
	}
	return append(dst, ']')
}

// appendStatx appends struct statx as strace does without -v:
// {stx_mask=STATX_ALL, stx_attributes=0, stx_mode=S_IFREG|0644, stx_size=5, ...}.
func appendStatx(dst []byte, b []byte) []byte {
	dst = append(dst, "{stx_mask="...)
	dst = abi.FlagStatxMask.Append(dst, uint64(le32(b)))
	dst = append(dst, ", stx_attributes="...)
	dst = abi.FlagStatxAttrs.Append(dst, le64(b[8:]))
	dst = append(dst, ", stx_mode="...)
	dst = appendFileMode(dst, uint32(le16(b[28:])))
	dst = append(dst, ", stx_size="...)
	dst = appendUint(dst, le64(b[40:]))
	return append(dst, ", ...}"...)
}
