package abi

import "testing"

// Expected strings are what strace 6.1 printed for the same values (the
// syscalls were issued under a seccomp filter that failed them, and strace
// decoded their arguments).
var flagCases = []struct {
	set  FlagSet
	v    uint64
	want string
}{
	{FlagOpen, 0x80000, "O_RDONLY|O_CLOEXEC"},
	{FlagOpen, 3, "O_ACCMODE"},
	{FlagOpen, 0x40000001, "O_WRONLY|0x40000000"},
	{FlagOpen, 0x410000, "O_RDONLY|O_TMPFILE"},
	{FlagOpen, 0x101000, "O_RDONLY|O_SYNC"},
	{FlagOpen, 0x1000, "O_RDONLY|O_DSYNC"},
	{FlagOpen, 0x11000, "O_RDONLY|O_DSYNC|O_DIRECTORY"},
	{FlagOpen, 0x2000, "O_RDONLY|FASYNC"},
	{FlagOpen, 0x210000, "O_RDONLY|O_PATH|O_DIRECTORY"},
	{FlagOpen, 0x400000, "O_RDONLY|__O_TMPFILE"},
	{FlagOpen, 0x402000, "O_RDONLY|__O_TMPFILE|FASYNC"},
	{FlagOpen, 0xf1fff, "O_ACCMODE|O_CREAT|O_EXCL|O_NOCTTY|O_TRUNC|O_APPEND|O_NONBLOCK|O_DSYNC|O_NOFOLLOW|O_NOATIME|O_CLOEXEC|O_DIRECTORY|0x3c"},
	{FlagOpen, 0x3ff000, "O_RDONLY|O_SYNC|O_DIRECT|O_LARGEFILE|O_NOFOLLOW|O_NOATIME|O_CLOEXEC|O_PATH|O_DIRECTORY|FASYNC"},
	{FlagOpen, 0xffffffff, "O_ACCMODE|O_CREAT|O_EXCL|O_NOCTTY|O_TRUNC|O_APPEND|O_NONBLOCK|O_SYNC|O_DIRECT|O_LARGEFILE|O_NOFOLLOW|O_NOATIME|O_CLOEXEC|O_PATH|O_TMPFILE|FASYNC|0xff80003c"},
	{FlagOpenBits, 0x80000, "O_CLOEXEC"},
	{FlagOpenBits, 0x84800, "O_NONBLOCK|O_DIRECT|O_CLOEXEC"},
	{FlagOpenBits, 0, "0"},
	{FlagProt, 0, "PROT_NONE"},
	{FlagProt, 3, "PROT_READ|PROT_WRITE"},
	{FlagProt, 7, "PROT_READ|PROT_WRITE|PROT_EXEC"},
	{FlagProt, 0x10, "0x10 /* PROT_??? */"},
	{FlagProt, 0x1000000, "PROT_GROWSDOWN"},
	{FlagProt, 0x11000000, "PROT_GROWSDOWN|0x10000000"},
	{FlagProt, 0xffffffff, "PROT_READ|PROT_WRITE|PROT_EXEC|PROT_SEM|PROT_GROWSDOWN|PROT_GROWSUP|0xfcfffff0"},
	{FlagMap, 0x22, "MAP_PRIVATE|MAP_ANONYMOUS"},
	{FlagMap, 3, "MAP_SHARED_VALIDATE"},
	{FlagMap, 2, "MAP_PRIVATE"},
	{FlagMap, 0x20, "MAP_FILE|MAP_ANONYMOUS"},
	{FlagMap, 0x1000, "MAP_FILE|MAP_EXECUTABLE"},
	{FlagMap, 0x80, "MAP_FILE|0x80"},
	{FlagMap, 0x10000000, "MAP_FILE|4<<MAP_HUGE_SHIFT"},
	{FlagMap, 0xffffffff, "0xf /* MAP_??? */|MAP_FIXED|MAP_ANONYMOUS|MAP_32BIT|MAP_NORESERVE|MAP_POPULATE|MAP_NONBLOCK|MAP_GROWSDOWN|MAP_DENYWRITE|MAP_EXECUTABLE|MAP_LOCKED|MAP_STACK|MAP_HUGETLB|MAP_SYNC|MAP_FIXED_NOREPLACE|0x3e00680|63<<MAP_HUGE_SHIFT"},
	{FlagClone, 0x3d0f00, "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID"},
	{FlagClone, 0x01200011, "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"},
	{FlagClone, 0, "0"},
	{FlagClone, 0x11, "SIGCHLD"},
	{FlagClone, 0x100, "CLONE_VM"},
	{FlagClone, 0x400000, "0x400000 /* CLONE_??? */"},
	{FlagClone, 0x400011, "0x400000 /* CLONE_??? */|SIGCHLD"},
	{FlagClone, 0x100000000, "0x100000000 /* CLONE_??? */"},
	{FlagClone, 0xffffffff, "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_PIDFD|CLONE_PTRACE|CLONE_VFORK|CLONE_PARENT|CLONE_THREAD|CLONE_NEWNS|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID|CLONE_UNTRACED|CLONE_CHILD_SETTID|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET|CLONE_IO|0x400000|255"},
	{FlagUnshare, 0x20000, "CLONE_NEWNS"},
	{FlagUnshare, 0x40000011, "CLONE_NEWNET|0x11"},
	{FlagAddressFamily, 2, "AF_INET"},
	{FlagAddressFamily, 0, "AF_UNSPEC"},
	{FlagAddressFamily, 1, "AF_UNIX"},
	{FlagAddressFamily, 10, "AF_INET6"},
	{FlagAddressFamily, 99, "0x63 /* AF_??? */"},
	{FlagSockType, 0x80801, "SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK"},
	{FlagSockType, 0x801, "SOCK_STREAM|SOCK_NONBLOCK"},
	{FlagSockType, 0x80002, "SOCK_DGRAM|SOCK_CLOEXEC"},
	{FlagSockType, 5, "SOCK_SEQPACKET"},
	{FlagSockType, 0xff, "0xff /* SOCK_??? */"},
	{FlagSockType, 0x100, "0x100 /* SOCK_??? */"},
	{FlagSockType, 0, "0"},
	{FlagAccess, 0, "F_OK"},
	{FlagAccess, 6, "R_OK|W_OK"},
	{FlagAccess, 0xff, "R_OK|W_OK|X_OK|0xf8"},
	{FlagAccess, 8, "0x8 /* ?_OK */"},
	{FlagFcntlCmd, 1030, "F_DUPFD_CLOEXEC"},
	{FlagFcntlCmd, 0, "F_DUPFD"},
	{FlagFcntlCmd, 1, "F_GETFD"},
	{FlagFcntlCmd, 4, "F_SETFL"},
	{FlagFcntlCmd, 5, "F_GETLK"},
	{FlagFcntlCmd, 1024, "F_SETLEASE"},
	{FlagFcntlCmd, 1033, "F_ADD_SEALS"},
	{FlagFcntlCmd, 0x12345, "0x12345 /* F_??? */"},
	{FlagSigHow, 0, "SIG_BLOCK"},
	{FlagSigHow, 2, "SIG_SETMASK"},
	{FlagSigHow, 3, "0x3 /* SIG_??? */"},
	{FlagWait, 0x40000001, "WNOHANG|__WALL"},
	{FlagWait, 0, "0"},
	{FlagWait, 2, "WSTOPPED"},
	{FlagWait, 0x10, "0x10 /* W??? */"},
	{FlagWait, 0x20000000, "__WNOTHREAD"},
	{FlagWait, 0xffffffff, "WNOHANG|WEXITED|WSTOPPED|WCONTINUED|WNOWAIT|__WCLONE|__WALL|__WNOTHREAD|0x1efffff0"},
	{FlagPrctl, 15, "PR_SET_NAME"},
	{FlagPrctl, 1, "PR_SET_PDEATHSIG"},
	{FlagPrctl, 38, "PR_SET_NO_NEW_PRIVS"},
	{FlagPrctl, 22, "PR_SET_SECCOMP"},
	{FlagPrctl, 0x12345, "0x12345 /* PR_??? */"},
	{FlagArchPrctl, 0x1002, "ARCH_SET_FS"},
	{FlagArchPrctl, 0x1001, "ARCH_SET_GS"},
	{FlagArchPrctl, 0x1003, "ARCH_GET_FS"},
	{FlagArchPrctl, 0x3001, "0x3001 /* ARCH_??? */"},
	{FlagArchPrctl, 0x1234, "0x1234 /* ARCH_??? */"},
	{FlagWhence, 0, "SEEK_SET"},
	{FlagWhence, 3, "SEEK_DATA"},
	{FlagWhence, 4, "SEEK_HOLE"},
	{FlagWhence, 9, "0x9 /* SEEK_??? */"},
	{FlagMadvise, 4, "MADV_DONTNEED"},
	{FlagMadvise, 0, "MADV_NORMAL"},
	{FlagMadvise, 8, "MADV_FREE"},
	{FlagMadvise, 25, "MADV_COLLAPSE"},
	{FlagMadvise, 100, "MADV_HWPOISON"},
	{FlagMadvise, 999, "0x3e7 /* MADV_??? */"},
	{FlagFutexOp, 128, "FUTEX_WAIT_PRIVATE"},
	{FlagFutexOp, 0, "FUTEX_WAIT"},
	{FlagFutexOp, 1, "FUTEX_WAKE"},
	{FlagFutexOp, 129, "FUTEX_WAKE_PRIVATE"},
	{FlagFutexOp, 0x100, "FUTEX_WAIT|FUTEX_CLOCK_REALTIME"},
	{FlagFutexOp, 9, "FUTEX_WAIT_BITSET"},
	{FlagFutexOp, 393, "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME"},
	{FlagFutexOp, 0x109, "FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME"},
	{FlagFutexOp, 12, "FUTEX_CMP_REQUEUE_PI"},
	{FlagFutexOp, 139, "FUTEX_WAIT_REQUEUE_PI_PRIVATE"},
	{FlagFutexOp, 0x10, "0x10 /* FUTEX_??? */"},
	{FlagFutexOp, 0xff, "0xff /* FUTEX_??? */"},
	{FlagAt, 0x1100, "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH"},
	{FlagAt, 0x200, "AT_REMOVEDIR"},
	{FlagAt, 0, "0"},
	{FlagAt, 2, "0x2 /* AT_??? */"},
	{FlagAt, 0x800, "AT_NO_AUTOMOUNT"},
	{FlagAt, 0x6000, "0x6000 /* AT_??? */"},
	{FlagAt, 0xffffffff, "AT_SYMLINK_NOFOLLOW|AT_REMOVEDIR|AT_SYMLINK_FOLLOW|AT_NO_AUTOMOUNT|AT_EMPTY_PATH|AT_RECURSIVE|0xffff60ff"},
	{FlagAtAccess, 0x200, "AT_EACCESS"},
	{FlagAtAccess, 0x1300, "AT_SYMLINK_NOFOLLOW|AT_EACCESS|AT_EMPTY_PATH"},
	{FlagAtAccess, 0xffffffff, "AT_SYMLINK_NOFOLLOW|AT_EACCESS|AT_EMPTY_PATH|0xffffecff"},
	{FlagAtStatx, 0, "AT_STATX_SYNC_AS_STAT"},
	{FlagAtStatx, 1, "AT_STATX_SYNC_AS_STAT|0x1"},
	{FlagAtStatx, 0x6100, "AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC|AT_SYMLINK_NOFOLLOW"},
	{FlagAtStatx, 0xffffffff, "AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC|AT_SYMLINK_NOFOLLOW|AT_REMOVEDIR|AT_SYMLINK_FOLLOW|AT_NO_AUTOMOUNT|AT_EMPTY_PATH|AT_RECURSIVE|0xffff00ff"},
	{FlagEpollCtlOp, 1, "EPOLL_CTL_ADD"},
	{FlagEpollCtlOp, 4, "0x4 /* EPOLL_CTL_??? */"},
	{FlagEventfd, 1, "EFD_SEMAPHORE"},
	{FlagEventfd, 0x80800, "EFD_CLOEXEC|EFD_NONBLOCK"},
	{FlagEventfd, 0x80801, "EFD_SEMAPHORE|EFD_CLOEXEC|EFD_NONBLOCK"},
	{FlagEpollCreate, 0x80000, "EPOLL_CLOEXEC"},
	{FlagEpollCreate, 0, "0"},
	{FlagStatxMask, 0xfff, "STATX_ALL"},
	{FlagStatxMask, 0x1fff, "STATX_ALL|STATX_MNT_ID"},
	{FlagStatxMask, 0x7ff, "STATX_BASIC_STATS"},
	{FlagStatxMask, 0x2, "STATX_MODE"},
	{FlagStatxMask, 0x80000000, "0x80000000 /* STATX_??? */"},
	{FlagStatxAttrs, 0, "0"},
	{FlagStatxAttrs, 0x30, "STATX_ATTR_IMMUTABLE|STATX_ATTR_APPEND"},
	{FlagFadvise, 2, "POSIX_FADV_SEQUENTIAL"},
	{FlagFadvise, 9, "0x9 /* POSIX_FADV_??? */"},
	{FlagEpollEvents, 0x80000005, "EPOLLIN|EPOLLOUT|EPOLLET"},
	{FlagEpollEvents, 0, "0"},
	{FlagTimer, 1, "TIMER_ABSTIME"},
	{FlagTimer, 0, "0"},
	{FlagMsg, 0x4040, "MSG_DONTWAIT|MSG_NOSIGNAL"},
	{FlagMsg, 0x102, "MSG_PEEK|MSG_WAITALL"},
	{FlagMsg, 0, "0"},
	{FlagMsg, 0xffffffff, "MSG_OOB|MSG_PEEK|MSG_DONTROUTE|MSG_CTRUNC|MSG_PROBE|MSG_TRUNC|MSG_DONTWAIT|MSG_EOR|MSG_WAITALL|MSG_FIN|MSG_SYN|MSG_CONFIRM|MSG_RST|MSG_ERRQUEUE|MSG_NOSIGNAL|MSG_MORE|MSG_WAITFORONE|MSG_SENDPAGE_NOTLAST|MSG_BATCH|MSG_NO_SHARED_FRAGS|MSG_ZEROCOPY|MSG_FASTOPEN|MSG_CMSG_CLOEXEC|MSG_CMSG_COMPAT|0x1bf00000"},
	{FlagShutdownHow, 1, "SHUT_WR"},
	{FlagShutdownHow, 9, "0x9 /* SHUT_??? */"},
	{FlagMremap, 3, "MREMAP_MAYMOVE|MREMAP_FIXED"},
	{FlagMremap, 0xff, "MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP|0xf8"},
	{FlagMsync, 4, "MS_SYNC"},
	{FlagMsync, 0, "0"},
	{FlagMsync, 7, "MS_SYNC|MS_ASYNC|MS_INVALIDATE"},
	{FlagClockID, 1, "CLOCK_MONOTONIC"},
	{FlagClockID, 7, "CLOCK_BOOTTIME"},
	{FlagClockID, 99, "0x63 /* CLOCK_??? */"},
	{FlagGetrandom, 3, "GRND_NONBLOCK|GRND_RANDOM"},
	{FlagGetrandom, 0, "0"},
	{FlagGetrandom, 0xff, "GRND_NONBLOCK|GRND_RANDOM|GRND_INSECURE|0xf8"},
	{FlagMemfd, 3, "MFD_CLOEXEC|MFD_ALLOW_SEALING"},
	{FlagMemfd, 0x54000001, "MFD_CLOEXEC|21<<MFD_HUGE_SHIFT"},
	{FlagRename, 1, "RENAME_NOREPLACE"},
	{FlagRename, 6, "RENAME_EXCHANGE|RENAME_WHITEOUT"},
	{FlagRlimit, 3, "RLIMIT_STACK"},
	{FlagRlimit, 99, "0x63 /* RLIMIT_??? */"},
	{FlagRusageWho, 0xffffffffffffffff, "RUSAGE_CHILDREN"},
	{FlagRusageWho, 0xffffffff, "RUSAGE_CHILDREN"},
	{FlagRusageWho, 5, "0x5 /* RUSAGE_??? */"},
	{FlagPtraceReq, 0, "PTRACE_TRACEME"},
	{FlagPtraceReq, 0x4206, "PTRACE_SEIZE"},
	{FlagSeccompOp, 1, "SECCOMP_SET_MODE_FILTER"},
	{FlagPollEvents, 5, "POLLIN|POLLOUT"},
	{FlagIpcKey, 0, "IPC_PRIVATE"},
	{FlagIpcKey, 0x4e524d48, "0x4e524d48"},
	{FlagIpcGet, 0o1600, "IPC_CREAT|0600"},
	{FlagIpcGet, 0o3640, "IPC_CREAT|IPC_EXCL|0640"},
	{FlagIpcGet, 0o4000, "IPC_NOWAIT|000"},
	{FlagIpcGet, 0o600, "0600"},
	{FlagIpcGet, 0, "000"},
	{FlagIpcGet, 4, "004"},
	{FlagIpcGet, 0x100000 | 0o600, "0x100000|0600"},
	{FlagIpcGet, 0x100000 | 0o3600, "IPC_CREAT|IPC_EXCL|0x100000|0600"},
	{FlagShmGet, 0o11640, "IPC_CREAT|SHM_NORESERVE|0640"},
	{FlagShmGet, 0o4000 | 21<<26 | 0o600, "SHM_HUGETLB|21<<SHM_HUGE_SHIFT|0600"},
	{FlagShmGet, 30<<26 | 0o600, "30<<SHM_HUGE_SHIFT|0600"},
	{FlagShmGet, 0o700, "0700"},
	{FlagShmat, 0, "0"},
	{FlagShmat, 0o30000, "SHM_RDONLY|SHM_RND"},
	{FlagShmat, 0o140000, "SHM_REMAP|SHM_EXEC"},
	{FlagShmat, 0x400000, "0x400000 /* SHM_??? */"},
	{FlagIpcMsg, 0, "0"},
	{FlagIpcMsg, 0o14000, "MSG_NOERROR|IPC_NOWAIT"},
	{FlagIpcMsg, 0o24000, "MSG_EXCEPT|IPC_NOWAIT"},
	{FlagIpcMsg, 0o40000, "MSG_COPY"},
	{FlagIpcMsg, 1, "0x1 /* MSG_??? */"},
	{FlagSemFlg, 0, "0"},
	{FlagSemFlg, 0x1800, "SEM_UNDO|IPC_NOWAIT"},
	{FlagSemFlg, 0x8000, "0x8000 /* SEM_??? */"},
	{FlagShmctlCmd, 0, "IPC_RMID"},
	{FlagShmctlCmd, 2, "IPC_STAT"},
	{FlagShmctlCmd, 11, "SHM_LOCK"},
	{FlagShmctlCmd, 15, "SHM_STAT_ANY"},
	{FlagShmctlCmd, 0x102, "IPC_64|IPC_STAT"},
	{FlagShmctlCmd, 0x10d, "IPC_64|SHM_STAT"},
	{FlagShmctlCmd, 99, "0x63 /* SHM_??? */"},
	{FlagShmctlCmd, 0x163, "IPC_64|0x63 /* SHM_??? */"},
	{FlagMsgctlCmd, 1, "IPC_SET"},
	{FlagMsgctlCmd, 12, "MSG_INFO"},
	{FlagMsgctlCmd, 13, "MSG_STAT_ANY"},
	{FlagMsgctlCmd, 0x102, "IPC_64|IPC_STAT"},
	{FlagMsgctlCmd, 99, "0x63 /* MSG_??? */"},
	{FlagSemctlCmd, 3, "IPC_INFO"},
	{FlagSemctlCmd, 11, "GETPID"},
	{FlagSemctlCmd, 12, "GETVAL"},
	{FlagSemctlCmd, 16, "SETVAL"},
	{FlagSemctlCmd, 20, "SEM_STAT_ANY"},
	{FlagSemctlCmd, 0x112, "IPC_64|SEM_STAT"},
	{FlagSemctlCmd, 77, "0x4d /* SEM_??? */"},
	{NoFlags, 0, "0"},
	{NoFlags, 0x1f, "0x1f"},
}

func TestFlagSetAppend(t *testing.T) {
	for _, c := range flagCases {
		if got := string(c.set.Append(nil, c.v)); got != c.want {
			t.Errorf("%v.Append(%#x) = %q, want %q", c.set, c.v, got, c.want)
		}
	}
	// Appends after existing content.
	if got := string(FlagProt.Append([]byte("prot="), 1)); got != "prot=PROT_READ" {
		t.Errorf("append to prefix: %q", got)
	}
}

func TestFlagSetAppendNoAlloc(t *testing.T) {
	buf := make([]byte, 0, 512)
	for _, c := range flagCases {
		allocs := testing.AllocsPerRun(100, func() {
			buf = c.set.Append(buf[:0], c.v)
		})
		if allocs != 0 {
			t.Errorf("%v.Append(%#x) allocates %v times", c.set, c.v, allocs)
		}
	}
}

func TestFlagSetLookupAndString(t *testing.T) {
	if n, ok := FlagFcntlCmd.Lookup(1030); !ok || n != "F_DUPFD_CLOEXEC" {
		t.Errorf("Lookup F_DUPFD_CLOEXEC = %q %v", n, ok)
	}
	if n, ok := FlagOpen.Lookup(0x80000); !ok || n != "O_CLOEXEC" {
		t.Errorf("Lookup O_CLOEXEC = %q %v", n, ok)
	}
	if _, ok := FlagOpen.Lookup(0x40000000); ok {
		t.Error("Lookup of an unknown bit succeeded")
	}
	for f := FlagSet(0); f < numFlagSets; f++ {
		if f.String() == "" {
			t.Errorf("FlagSet(%d) has no name", f)
		}
	}
	if got := FlagSet(200).String(); got != "FlagSet(200)" {
		t.Errorf("FlagSet(200).String() = %q", got)
	}
	if got := string(FlagSet(200).Append(nil, 16)); got != "0x10" {
		t.Errorf("unknown FlagSet Append = %q", got)
	}
}

func FuzzFlagSetAppend(f *testing.F) {
	for _, c := range flagCases {
		f.Add(uint8(c.set), c.v)
	}
	f.Add(uint8(255), uint64(1<<63))
	f.Fuzz(func(t *testing.T, set uint8, v uint64) {
		out := FlagSet(set).Append(nil, v)
		if len(out) == 0 {
			t.Fatalf("FlagSet(%d).Append(%#x) is empty", set, v)
		}
	})
}
