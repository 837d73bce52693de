package abi

// FlagSet names a decoder for an integer argument of kind KindFlags (and for
// values found inside structs, such as poll events). FlagSet.Append renders a
// value the way strace 6.1 prints it: known names joined with "|", unknown
// leftover bits as one "0x..." term, a value with no known bit at all as
// "0x... /* PREFIX_??? */", and an unknown enumerated value the same way.
type FlagSet uint8

// The decoders. NoFlags renders the value in hex.
const (
	NoFlags           FlagSet = iota // no decoder: 0x... (or 0)
	FlagOpen                         // open/openat flags: O_RDONLY|O_CLOEXEC (access mode always named)
	FlagOpenBits                     // O_* bits without an access mode (pipe2, dup3, fcntl F_SETFL arg): O_NONBLOCK|O_CLOEXEC
	FlagAt                           // AT_* flags of *at calls: AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH
	FlagAtAccess                     // faccessat2 flags: AT_EACCESS names 0x200
	FlagAtStatx                      // statx flags: AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW
	FlagProt                         // mmap/mprotect prot: PROT_READ|PROT_WRITE, PROT_NONE
	FlagMap                          // mmap flags: MAP_PRIVATE|MAP_ANONYMOUS, N<<MAP_HUGE_SHIFT
	FlagClone                        // clone flags with the exit signal in the low byte: CLONE_VM|...|SIGCHLD
	FlagUnshare                      // CLONE_NEW* bits of unshare/setns, no signal byte
	FlagAddressFamily                // socket family: AF_INET
	FlagSockType                     // socket type: SOCK_STREAM|SOCK_CLOEXEC
	FlagAccess                       // access mode: F_OK, R_OK|W_OK
	FlagFcntlCmd                     // fcntl command: F_GETFD, F_DUPFD_CLOEXEC
	FlagSigHow                       // rt_sigprocmask how: SIG_BLOCK
	FlagWait                         // wait4/waitid options: WNOHANG|__WALL
	FlagPrctl                        // prctl option: PR_SET_NAME
	FlagArchPrctl                    // arch_prctl code: ARCH_SET_FS
	FlagWhence                       // lseek whence: SEEK_SET
	FlagMadvise                      // madvise advice: MADV_DONTNEED
	FlagFutexOp                      // futex op: FUTEX_WAIT_PRIVATE, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME
	FlagPollEvents                   // poll events: POLLIN|POLLOUT
	FlagEpollCtlOp                   // epoll_ctl op: EPOLL_CTL_ADD
	FlagEventfd                      // eventfd2 flags: EFD_CLOEXEC|EFD_NONBLOCK
	FlagEpollCreate                  // epoll_create1 flags: EPOLL_CLOEXEC
	FlagMsg                          // send/recv flags: MSG_DONTWAIT|MSG_NOSIGNAL
	FlagShutdownHow                  // shutdown how: SHUT_WR
	FlagMremap                       // mremap flags: MREMAP_MAYMOVE
	FlagMsync                        // msync flags: MS_SYNC
	FlagClockID                      // clock id: CLOCK_MONOTONIC
	FlagGetrandom                    // getrandom flags: GRND_NONBLOCK
	FlagMemfd                        // memfd_create flags: MFD_CLOEXEC, N<<MFD_HUGE_SHIFT
	FlagRename                       // renameat2 flags: RENAME_NOREPLACE
	FlagRlimit                       // rlimit resource: RLIMIT_NOFILE
	FlagRusageWho                    // getrusage who: RUSAGE_SELF
	FlagPtraceReq                    // ptrace request: PTRACE_TRACEME
	FlagSeccompOp                    // seccomp operation: SECCOMP_SET_MODE_FILTER
	FlagStatxMask                    // statx mask and stx_mask: STATX_ALL|STATX_MNT_ID, STATX_MODE
	FlagStatxAttrs                   // statx stx_attributes: STATX_ATTR_IMMUTABLE|STATX_ATTR_APPEND
	FlagFadvise                      // fadvise64 advice: POSIX_FADV_SEQUENTIAL
	FlagEpollEvents                  // epoll_event events: EPOLLIN|EPOLLET
	FlagTimer                        // clock_nanosleep and timer_settime flags: TIMER_ABSTIME
	FlagIpcKey                       // SysV IPC key: IPC_PRIVATE, else 0x...
	FlagIpcGet                       // msgget/semget flags with the mode: IPC_CREAT|IPC_EXCL|0600
	FlagShmGet                       // shmget flags with the mode: IPC_CREAT|SHM_HUGETLB|21<<SHM_HUGE_SHIFT|0600
	FlagShmat                        // shmat flags: SHM_RDONLY|SHM_RND
	FlagIpcMsg                       // msgsnd/msgrcv flags: MSG_NOERROR|IPC_NOWAIT
	FlagSemFlg                       // struct sembuf's sem_flg: SEM_UNDO|IPC_NOWAIT
	FlagShmctlCmd                    // shmctl command: IPC_STAT, IPC_64|SHM_STAT
	FlagMsgctlCmd                    // msgctl command: IPC_RMID, MSG_STAT_ANY
	FlagSemctlCmd                    // semctl command: GETVAL, SEM_STAT

	numFlagSets // keep last
)

type flagName struct {
	v    uint64
	name string
}

type flagStyle uint8

const (
	styleBits flagStyle = iota // OR of bits, optionally after an enumerated field
	styleEnum                  // one value out of a list
)

// flagDef is the table behind one FlagSet.
type flagDef struct {
	style     flagStyle
	name      string     // for String
	dflt      string     // comment for unknown values: "/* F_??? */"
	zero      string     // name of 0 for styleBits without a field
	fieldMask uint64     // styleBits: an enumerated field printed first
	field     []flagName // names of field values (may include 0)
	// fieldFold: an unnamed field value is not printed on its own but
	// folded into the bits (socket type); otherwise it is printed as
	// "0x.. /* dflt */" (mmap).
	fieldFold  bool
	bits       []flagName // in strace's print order; multi-bit names first
	shiftMask  uint64     // a numeric sub-field printed last as "N<<shiftName"
	shift      uint8
	shiftName  string
	sigByte    bool // clone: low byte is a signal printed last
	enumSigned bool // enum values are ints: -1 matches 0xffffffff and 0xffffffffffffffff
	// mode: the low 9 bits are a permission mode, printed last in octal
	// (the SysV IPC get calls: IPC_CREAT|0600, or 0600 alone).
	mode bool
	// ipc64: an enum whose IPC_64 bit (0x100) is printed first, as
	// "IPC_64|", before the name of the rest (the SysV IPC ctl commands).
	ipc64 bool
}

var flagDefs = [numFlagSets]flagDef{
	NoFlags: {style: styleBits},
	FlagOpen: {style: styleBits, name: "open", dflt: "O_???",
		fieldMask: 3, field: []flagName{{0, "O_RDONLY"}, {1, "O_WRONLY"}, {2, "O_RDWR"}, {3, "O_ACCMODE"}},
		bits: openBits},
	FlagOpenBits: {style: styleBits, name: "openbits", dflt: "O_???", bits: openBits},
	FlagAt:       {style: styleBits, name: "at", dflt: "AT_???", bits: atBits},
	FlagAtAccess: {style: styleBits, name: "ataccess", dflt: "AT_???", bits: []flagName{
		{0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_EACCESS"}, {0x1000, "AT_EMPTY_PATH"}}},
	FlagAtStatx: {style: styleBits, name: "atstatx", dflt: "AT_???",
		fieldMask: 0x6000, field: []flagName{{0, "AT_STATX_SYNC_AS_STAT"}, {0x2000, "AT_STATX_FORCE_SYNC"},
			{0x4000, "AT_STATX_DONT_SYNC"}, {0x6000, "AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC"}},
		bits: atBits},
	FlagProt: {style: styleBits, name: "prot", dflt: "PROT_???", zero: "PROT_NONE", bits: []flagName{
		{0x1, "PROT_READ"}, {0x2, "PROT_WRITE"}, {0x4, "PROT_EXEC"}, {0x8, "PROT_SEM"},
		{0x1000000, "PROT_GROWSDOWN"}, {0x2000000, "PROT_GROWSUP"}}},
	FlagMap: {style: styleBits, name: "map", dflt: "MAP_???",
		fieldMask: 0xf, field: []flagName{{0, "MAP_FILE"}, {1, "MAP_SHARED"}, {2, "MAP_PRIVATE"}, {3, "MAP_SHARED_VALIDATE"}},
		bits: []flagName{
			{0x10, "MAP_FIXED"}, {0x20, "MAP_ANONYMOUS"}, {0x40, "MAP_32BIT"}, {0x4000, "MAP_NORESERVE"},
			{0x8000, "MAP_POPULATE"}, {0x10000, "MAP_NONBLOCK"}, {0x100, "MAP_GROWSDOWN"}, {0x800, "MAP_DENYWRITE"},
			{0x1000, "MAP_EXECUTABLE"}, {0x2000, "MAP_LOCKED"}, {0x20000, "MAP_STACK"}, {0x40000, "MAP_HUGETLB"},
			{0x80000, "MAP_SYNC"}, {0x100000, "MAP_FIXED_NOREPLACE"}},
		shiftMask: 0x3f << 26, shift: 26, shiftName: "MAP_HUGE_SHIFT"},
	FlagClone:   {style: styleBits, name: "clone", dflt: "CLONE_???", bits: cloneBits, sigByte: true},
	FlagUnshare: {style: styleBits, name: "unshare", dflt: "CLONE_???", bits: cloneBits},
	FlagAddressFamily: {style: styleEnum, name: "family", dflt: "AF_???", bits: []flagName{
		{0, "AF_UNSPEC"}, {1, "AF_UNIX"}, {2, "AF_INET"}, {3, "AF_AX25"}, {4, "AF_IPX"}, {5, "AF_APPLETALK"},
		{6, "AF_NETROM"}, {7, "AF_BRIDGE"}, {8, "AF_ATMPVC"}, {9, "AF_X25"}, {10, "AF_INET6"}, {11, "AF_ROSE"},
		{12, "AF_DECnet"}, {13, "AF_NETBEUI"}, {14, "AF_SECURITY"}, {15, "AF_KEY"}, {16, "AF_NETLINK"},
		{17, "AF_PACKET"}, {18, "AF_ASH"}, {19, "AF_ECONET"}, {20, "AF_ATMSVC"}, {21, "AF_RDS"}, {22, "AF_SNA"},
		{23, "AF_IRDA"}, {24, "AF_PPPOX"}, {25, "AF_WANPIPE"}, {26, "AF_LLC"}, {27, "AF_IB"}, {28, "AF_MPLS"},
		{29, "AF_CAN"}, {30, "AF_TIPC"}, {31, "AF_BLUETOOTH"}, {32, "AF_IUCV"}, {33, "AF_RXRPC"}, {34, "AF_ISDN"},
		{35, "AF_PHONET"}, {36, "AF_IEEE802154"}, {37, "AF_CAIF"}, {38, "AF_ALG"}, {39, "AF_NFC"},
		{40, "AF_VSOCK"}, {41, "AF_KCM"}, {42, "AF_QIPCRTR"}, {43, "AF_SMC"}, {44, "AF_XDP"}, {45, "AF_MCTP"}}},
	FlagSockType: {style: styleBits, name: "socktype", dflt: "SOCK_???",
		fieldMask: 0xf, fieldFold: true, field: []flagName{
			{1, "SOCK_STREAM"}, {2, "SOCK_DGRAM"}, {3, "SOCK_RAW"}, {4, "SOCK_RDM"}, {5, "SOCK_SEQPACKET"},
			{6, "SOCK_DCCP"}, {10, "SOCK_PACKET"}},
		bits: []flagName{{0x80000, "SOCK_CLOEXEC"}, {0x800, "SOCK_NONBLOCK"}}},
	FlagAccess: {style: styleBits, name: "access", dflt: "?_OK", zero: "F_OK", bits: []flagName{
		{4, "R_OK"}, {2, "W_OK"}, {1, "X_OK"}}},
	FlagFcntlCmd: {style: styleEnum, name: "fcntl", dflt: "F_???", bits: []flagName{
		{0, "F_DUPFD"}, {1, "F_GETFD"}, {2, "F_SETFD"}, {3, "F_GETFL"}, {4, "F_SETFL"}, {5, "F_GETLK"},
		{6, "F_SETLK"}, {7, "F_SETLKW"}, {8, "F_SETOWN"}, {9, "F_GETOWN"}, {10, "F_SETSIG"}, {11, "F_GETSIG"},
		{12, "F_GETLK64"}, {13, "F_SETLK64"}, {14, "F_SETLKW64"}, {15, "F_SETOWN_EX"}, {16, "F_GETOWN_EX"}, {17, "F_GETOWNER_UIDS"}, {36, "F_OFD_GETLK"},
		{37, "F_OFD_SETLK"}, {38, "F_OFD_SETLKW"}, {1024, "F_SETLEASE"}, {1025, "F_GETLEASE"},
		{1026, "F_NOTIFY"}, {1030, "F_DUPFD_CLOEXEC"}, {1031, "F_SETPIPE_SZ"}, {1032, "F_GETPIPE_SZ"},
		{1033, "F_ADD_SEALS"}, {1034, "F_GET_SEALS"}, {1035, "F_GET_RW_HINT"}, {1036, "F_SET_RW_HINT"},
		{1037, "F_GET_FILE_RW_HINT"}, {1038, "F_SET_FILE_RW_HINT"}}},
	FlagSigHow: {style: styleEnum, name: "sighow", dflt: "SIG_???", bits: []flagName{
		{0, "SIG_BLOCK"}, {1, "SIG_UNBLOCK"}, {2, "SIG_SETMASK"}}},
	FlagWait: {style: styleBits, name: "wait", dflt: "W???", bits: []flagName{
		{1, "WNOHANG"}, {4, "WEXITED"}, {2, "WSTOPPED"}, {8, "WCONTINUED"}, {0x1000000, "WNOWAIT"},
		{0x80000000, "__WCLONE"}, {0x40000000, "__WALL"}, {0x20000000, "__WNOTHREAD"}}},
	FlagPrctl: {style: styleEnum, name: "prctl", dflt: "PR_???", bits: []flagName{
		{1, "PR_SET_PDEATHSIG"}, {2, "PR_GET_PDEATHSIG"}, {3, "PR_GET_DUMPABLE"}, {4, "PR_SET_DUMPABLE"},
		{5, "PR_GET_UNALIGN"}, {6, "PR_SET_UNALIGN"}, {7, "PR_GET_KEEPCAPS"}, {8, "PR_SET_KEEPCAPS"},
		{9, "PR_GET_FPEMU"}, {10, "PR_SET_FPEMU"}, {11, "PR_GET_FPEXC"}, {12, "PR_SET_FPEXC"},
		{13, "PR_GET_TIMING"}, {14, "PR_SET_TIMING"}, {15, "PR_SET_NAME"}, {16, "PR_GET_NAME"},
		{19, "PR_GET_ENDIAN"}, {20, "PR_SET_ENDIAN"}, {21, "PR_GET_SECCOMP"}, {22, "PR_SET_SECCOMP"},
		{23, "PR_CAPBSET_READ"}, {24, "PR_CAPBSET_DROP"}, {25, "PR_GET_TSC"}, {26, "PR_SET_TSC"},
		{27, "PR_GET_SECUREBITS"}, {28, "PR_SET_SECUREBITS"}, {29, "PR_SET_TIMERSLACK"},
		{30, "PR_GET_TIMERSLACK"}, {31, "PR_TASK_PERF_EVENTS_DISABLE"}, {32, "PR_TASK_PERF_EVENTS_ENABLE"},
		{33, "PR_MCE_KILL"}, {34, "PR_MCE_KILL_GET"}, {35, "PR_SET_MM"}, {36, "PR_SET_CHILD_SUBREAPER"},
		{37, "PR_GET_CHILD_SUBREAPER"}, {38, "PR_SET_NO_NEW_PRIVS"}, {39, "PR_GET_NO_NEW_PRIVS"},
		{40, "PR_GET_TID_ADDRESS"}, {41, "PR_SET_THP_DISABLE"}, {42, "PR_GET_THP_DISABLE"},
		{43, "PR_MPX_ENABLE_MANAGEMENT"}, {44, "PR_MPX_DISABLE_MANAGEMENT"}, {45, "PR_SET_FP_MODE"},
		{46, "PR_GET_FP_MODE"}, {47, "PR_CAP_AMBIENT"}, {50, "PR_SVE_SET_VL"}, {51, "PR_SVE_GET_VL"},
		{52, "PR_GET_SPECULATION_CTRL"}, {53, "PR_SET_SPECULATION_CTRL"}, {54, "PR_PAC_RESET_KEYS"},
		{55, "PR_SET_TAGGED_ADDR_CTRL"}, {56, "PR_GET_TAGGED_ADDR_CTRL"}, {57, "PR_SET_IO_FLUSHER"},
		{58, "PR_GET_IO_FLUSHER"}, {59, "PR_SET_SYSCALL_USER_DISPATCH"}, {60, "PR_PAC_SET_ENABLED_KEYS"},
		{61, "PR_PAC_GET_ENABLED_KEYS"}, {62, "PR_SCHED_CORE"}, {63, "PR_SME_SET_VL"}, {64, "PR_SME_GET_VL"},
		{65, "PR_SET_MDWE"}, {66, "PR_GET_MDWE"}, {67, "PR_SET_MEMORY_MERGE"}, {68, "PR_GET_MEMORY_MERGE"},
		{0x53564d41, "PR_SET_VMA"}}},
	FlagArchPrctl: {style: styleEnum, name: "archprctl", dflt: "ARCH_???", bits: []flagName{
		{0x1001, "ARCH_SET_GS"}, {0x1002, "ARCH_SET_FS"}, {0x1003, "ARCH_GET_FS"}, {0x1004, "ARCH_GET_GS"},
		{0x1011, "ARCH_GET_CPUID"}, {0x1012, "ARCH_SET_CPUID"}, {0x1021, "ARCH_GET_XCOMP_SUPP"},
		{0x1022, "ARCH_GET_XCOMP_PERM"}, {0x1023, "ARCH_REQ_XCOMP_PERM"}, {0x1024, "ARCH_GET_XCOMP_GUEST_PERM"},
		{0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"}, {0x2001, "ARCH_MAP_VDSO_X32"}, {0x2002, "ARCH_MAP_VDSO_32"},
		{0x2003, "ARCH_MAP_VDSO_64"}, {0x4001, "ARCH_GET_UNTAG_MASK"}, {0x4002, "ARCH_ENABLE_TAGGED_ADDR"},
		{0x4003, "ARCH_GET_MAX_TAG_BITS"}, {0x4004, "ARCH_FORCE_TAGGED_SVA"}, {0x5001, "ARCH_SHSTK_ENABLE"},
		{0x5002, "ARCH_SHSTK_DISABLE"}, {0x5003, "ARCH_SHSTK_LOCK"}, {0x5004, "ARCH_SHSTK_UNLOCK"},
		{0x5005, "ARCH_SHSTK_STATUS"}}},
	FlagWhence: {style: styleEnum, name: "whence", dflt: "SEEK_???", bits: []flagName{
		{0, "SEEK_SET"}, {1, "SEEK_CUR"}, {2, "SEEK_END"}, {3, "SEEK_DATA"}, {4, "SEEK_HOLE"}}},
	FlagMadvise: {style: styleEnum, name: "madvise", dflt: "MADV_???", bits: []flagName{
		{0, "MADV_NORMAL"}, {1, "MADV_RANDOM"}, {2, "MADV_SEQUENTIAL"}, {3, "MADV_WILLNEED"},
		{4, "MADV_DONTNEED"}, {8, "MADV_FREE"}, {9, "MADV_REMOVE"}, {10, "MADV_DONTFORK"},
		{11, "MADV_DOFORK"}, {12, "MADV_MERGEABLE"}, {13, "MADV_UNMERGEABLE"}, {14, "MADV_HUGEPAGE"},
		{15, "MADV_NOHUGEPAGE"}, {16, "MADV_DONTDUMP"}, {17, "MADV_DODUMP"}, {18, "MADV_WIPEONFORK"},
		{19, "MADV_KEEPONFORK"}, {20, "MADV_COLD"}, {21, "MADV_PAGEOUT"}, {22, "MADV_POPULATE_READ"},
		{23, "MADV_POPULATE_WRITE"}, {24, "MADV_DONTNEED_LOCKED"}, {25, "MADV_COLLAPSE"},
		{100, "MADV_HWPOISON"}, {101, "MADV_SOFT_OFFLINE"}, {102, "MADV_GUARD_INSTALL"},
		{103, "MADV_GUARD_REMOVE"}}},
	FlagFutexOp: {style: styleEnum, name: "futex", dflt: "FUTEX_???", bits: []flagName{
		{0, "FUTEX_WAIT"}, {1, "FUTEX_WAKE"}, {2, "FUTEX_FD"}, {3, "FUTEX_REQUEUE"},
		{4, "FUTEX_CMP_REQUEUE"}, {5, "FUTEX_WAKE_OP"}, {6, "FUTEX_LOCK_PI"}, {7, "FUTEX_UNLOCK_PI"},
		{8, "FUTEX_TRYLOCK_PI"}, {9, "FUTEX_WAIT_BITSET"}, {10, "FUTEX_WAKE_BITSET"},
		{11, "FUTEX_WAIT_REQUEUE_PI"}, {12, "FUTEX_CMP_REQUEUE_PI"}, {13, "FUTEX_LOCK_PI2"}}},
	FlagPollEvents: {style: styleBits, name: "poll", dflt: "POLL???", bits: []flagName{
		{0x1, "POLLIN"}, {0x2, "POLLPRI"}, {0x4, "POLLOUT"}, {0x8, "POLLERR"}, {0x10, "POLLHUP"},
		{0x20, "POLLNVAL"}, {0x40, "POLLRDNORM"}, {0x80, "POLLRDBAND"}, {0x100, "POLLWRNORM"},
		{0x200, "POLLWRBAND"}, {0x400, "POLLMSG"}, {0x1000, "POLLREMOVE"}, {0x2000, "POLLRDHUP"}}},
	FlagEpollCtlOp: {style: styleEnum, name: "epollctl", dflt: "EPOLL_CTL_???", bits: []flagName{
		{1, "EPOLL_CTL_ADD"}, {2, "EPOLL_CTL_DEL"}, {3, "EPOLL_CTL_MOD"}}},
	FlagEventfd: {style: styleBits, name: "eventfd", dflt: "EFD_???", bits: []flagName{
		{1, "EFD_SEMAPHORE"}, {0x80000, "EFD_CLOEXEC"}, {0x800, "EFD_NONBLOCK"}}},
	FlagEpollCreate: {style: styleBits, name: "epollcreate", dflt: "EPOLL_???", bits: []flagName{
		{0x80000, "EPOLL_CLOEXEC"}}},
	FlagMsg: {style: styleBits, name: "msg", dflt: "MSG_???", bits: []flagName{
		{0x1, "MSG_OOB"}, {0x2, "MSG_PEEK"}, {0x4, "MSG_DONTROUTE"}, {0x8, "MSG_CTRUNC"}, {0x10, "MSG_PROBE"},
		{0x20, "MSG_TRUNC"}, {0x40, "MSG_DONTWAIT"}, {0x80, "MSG_EOR"}, {0x100, "MSG_WAITALL"},
		{0x200, "MSG_FIN"}, {0x400, "MSG_SYN"}, {0x800, "MSG_CONFIRM"}, {0x1000, "MSG_RST"},
		{0x2000, "MSG_ERRQUEUE"}, {0x4000, "MSG_NOSIGNAL"}, {0x8000, "MSG_MORE"}, {0x10000, "MSG_WAITFORONE"},
		{0x20000, "MSG_SENDPAGE_NOTLAST"}, {0x40000, "MSG_BATCH"}, {0x80000, "MSG_NO_SHARED_FRAGS"},
		{0x4000000, "MSG_ZEROCOPY"}, {0x20000000, "MSG_FASTOPEN"}, {0x40000000, "MSG_CMSG_CLOEXEC"},
		{0x80000000, "MSG_CMSG_COMPAT"}}},
	FlagShutdownHow: {style: styleEnum, name: "shutdown", dflt: "SHUT_???", bits: []flagName{
		{0, "SHUT_RD"}, {1, "SHUT_WR"}, {2, "SHUT_RDWR"}}},
	FlagMremap: {style: styleBits, name: "mremap", dflt: "MREMAP_???", bits: []flagName{
		{1, "MREMAP_MAYMOVE"}, {2, "MREMAP_FIXED"}, {4, "MREMAP_DONTUNMAP"}}},
	FlagMsync: {style: styleBits, name: "msync", dflt: "MS_???", bits: []flagName{
		{4, "MS_SYNC"}, {1, "MS_ASYNC"}, {2, "MS_INVALIDATE"}}},
	FlagClockID: {style: styleEnum, name: "clock", dflt: "CLOCK_???", bits: []flagName{
		{0, "CLOCK_REALTIME"}, {1, "CLOCK_MONOTONIC"}, {2, "CLOCK_PROCESS_CPUTIME_ID"},
		{3, "CLOCK_THREAD_CPUTIME_ID"}, {4, "CLOCK_MONOTONIC_RAW"}, {5, "CLOCK_REALTIME_COARSE"},
		{6, "CLOCK_MONOTONIC_COARSE"}, {7, "CLOCK_BOOTTIME"}, {8, "CLOCK_REALTIME_ALARM"},
		{9, "CLOCK_BOOTTIME_ALARM"}, {10, "CLOCK_SGI_CYCLE"}, {11, "CLOCK_TAI"}}},
	FlagGetrandom: {style: styleBits, name: "getrandom", dflt: "GRND_???", bits: []flagName{
		{1, "GRND_NONBLOCK"}, {2, "GRND_RANDOM"}, {4, "GRND_INSECURE"}}},
	FlagMemfd: {style: styleBits, name: "memfd", dflt: "MFD_???", bits: []flagName{
		{1, "MFD_CLOEXEC"}, {2, "MFD_ALLOW_SEALING"}, {4, "MFD_HUGETLB"}},
		shiftMask: 0x3f << 26, shift: 26, shiftName: "MFD_HUGE_SHIFT"},
	FlagRename: {style: styleBits, name: "rename", dflt: "RENAME_???", bits: []flagName{
		{1, "RENAME_NOREPLACE"}, {2, "RENAME_EXCHANGE"}, {4, "RENAME_WHITEOUT"}}},
	FlagRlimit: {style: styleEnum, name: "rlimit", dflt: "RLIMIT_???", bits: []flagName{
		{0, "RLIMIT_CPU"}, {1, "RLIMIT_FSIZE"}, {2, "RLIMIT_DATA"}, {3, "RLIMIT_STACK"}, {4, "RLIMIT_CORE"},
		{5, "RLIMIT_RSS"}, {6, "RLIMIT_NPROC"}, {7, "RLIMIT_NOFILE"}, {8, "RLIMIT_MEMLOCK"}, {9, "RLIMIT_AS"},
		{10, "RLIMIT_LOCKS"}, {11, "RLIMIT_SIGPENDING"}, {12, "RLIMIT_MSGQUEUE"}, {13, "RLIMIT_NICE"},
		{14, "RLIMIT_RTPRIO"}, {15, "RLIMIT_RTTIME"}}},
	FlagRusageWho: {style: styleEnum, name: "rusage", dflt: "RUSAGE_???", enumSigned: true, bits: []flagName{
		{0, "RUSAGE_SELF"}, {^uint64(0), "RUSAGE_CHILDREN"}, {1, "RUSAGE_THREAD"}}},
	FlagPtraceReq: {style: styleEnum, name: "ptrace", dflt: "PTRACE_???", bits: []flagName{
		{0, "PTRACE_TRACEME"}, {1, "PTRACE_PEEKTEXT"}, {2, "PTRACE_PEEKDATA"}, {3, "PTRACE_PEEKUSER"},
		{4, "PTRACE_POKETEXT"}, {5, "PTRACE_POKEDATA"}, {6, "PTRACE_POKEUSER"}, {7, "PTRACE_CONT"},
		{8, "PTRACE_KILL"}, {9, "PTRACE_SINGLESTEP"}, {12, "PTRACE_GETREGS"}, {13, "PTRACE_SETREGS"},
		{14, "PTRACE_GETFPREGS"}, {15, "PTRACE_SETFPREGS"}, {16, "PTRACE_ATTACH"}, {17, "PTRACE_DETACH"},
		{18, "PTRACE_GETFPXREGS"}, {19, "PTRACE_SETFPXREGS"}, {24, "PTRACE_SYSCALL"},
		{25, "PTRACE_GET_THREAD_AREA"}, {26, "PTRACE_SET_THREAD_AREA"}, {30, "PTRACE_ARCH_PRCTL"},
		{31, "PTRACE_SYSEMU"}, {32, "PTRACE_SYSEMU_SINGLESTEP"}, {33, "PTRACE_SINGLEBLOCK"},
		{0x4200, "PTRACE_SETOPTIONS"}, {0x4201, "PTRACE_GETEVENTMSG"}, {0x4202, "PTRACE_GETSIGINFO"},
		{0x4203, "PTRACE_SETSIGINFO"}, {0x4204, "PTRACE_GETREGSET"}, {0x4205, "PTRACE_SETREGSET"},
		{0x4206, "PTRACE_SEIZE"}, {0x4207, "PTRACE_INTERRUPT"}, {0x4208, "PTRACE_LISTEN"},
		{0x4209, "PTRACE_PEEKSIGINFO"}, {0x420a, "PTRACE_GETSIGMASK"}, {0x420b, "PTRACE_SETSIGMASK"},
		{0x420c, "PTRACE_SECCOMP_GET_FILTER"}, {0x420d, "PTRACE_SECCOMP_GET_METADATA"},
		{0x420e, "PTRACE_GET_SYSCALL_INFO"}, {0x420f, "PTRACE_GET_RSEQ_CONFIGURATION"},
		{0x4210, "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG"}, {0x4211, "PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG"}}},
	FlagSeccompOp: {style: styleEnum, name: "seccomp", dflt: "SECCOMP_SET_MODE_???", bits: []flagName{
		{0, "SECCOMP_SET_MODE_STRICT"}, {1, "SECCOMP_SET_MODE_FILTER"}, {2, "SECCOMP_GET_ACTION_AVAIL"},
		{3, "SECCOMP_GET_NOTIF_SIZES"}}},
	// strace 6.1's order: the two unions first, then single bits.
	FlagStatxMask: {style: styleBits, name: "statxmask", dflt: "STATX_???", bits: []flagName{
		{0xfff, "STATX_ALL"}, {0x7ff, "STATX_BASIC_STATS"}, {0x1, "STATX_TYPE"}, {0x2, "STATX_MODE"},
		{0x4, "STATX_NLINK"}, {0x8, "STATX_UID"}, {0x10, "STATX_GID"}, {0x20, "STATX_ATIME"},
		{0x40, "STATX_MTIME"}, {0x80, "STATX_CTIME"}, {0x100, "STATX_INO"}, {0x200, "STATX_SIZE"},
		{0x400, "STATX_BLOCKS"}, {0x800, "STATX_BTIME"}, {0x1000, "STATX_MNT_ID"}, {0x2000, "STATX_DIOALIGN"}}},
	FlagStatxAttrs: {style: styleBits, name: "statxattrs", dflt: "STATX_ATTR_???", bits: []flagName{
		{0x4, "STATX_ATTR_COMPRESSED"}, {0x10, "STATX_ATTR_IMMUTABLE"}, {0x20, "STATX_ATTR_APPEND"},
		{0x40, "STATX_ATTR_NODUMP"}, {0x800, "STATX_ATTR_ENCRYPTED"}, {0x1000, "STATX_ATTR_AUTOMOUNT"},
		{0x2000, "STATX_ATTR_MOUNT_ROOT"}, {0x100000, "STATX_ATTR_VERITY"}, {0x200000, "STATX_ATTR_DAX"}}},
	FlagFadvise: {style: styleEnum, name: "fadvise", dflt: "POSIX_FADV_???", bits: []flagName{
		{0, "POSIX_FADV_NORMAL"}, {1, "POSIX_FADV_RANDOM"}, {2, "POSIX_FADV_SEQUENTIAL"},
		{3, "POSIX_FADV_WILLNEED"}, {4, "POSIX_FADV_DONTNEED"}, {5, "POSIX_FADV_NOREUSE"}}},
	FlagEpollEvents: {style: styleBits, name: "epollevents", dflt: "EPOLL???", bits: []flagName{
		{0x1, "EPOLLIN"}, {0x2, "EPOLLPRI"}, {0x4, "EPOLLOUT"}, {0x8, "EPOLLERR"}, {0x10, "EPOLLHUP"},
		{0x20, "EPOLLNVAL"}, {0x40, "EPOLLRDNORM"}, {0x80, "EPOLLRDBAND"}, {0x100, "EPOLLWRNORM"},
		{0x200, "EPOLLWRBAND"}, {0x400, "EPOLLMSG"}, {0x2000, "EPOLLRDHUP"}, {0x10000000, "EPOLLEXCLUSIVE"},
		{0x20000000, "EPOLLWAKEUP"}, {0x40000000, "EPOLLONESHOT"}, {0x80000000, "EPOLLET"}}},
	FlagTimer: {style: styleBits, name: "timer", dflt: "TIMER_???", bits: []flagName{{1, "TIMER_ABSTIME"}}},
	// strace prints an unknown key, and unknown get flags, in hex
	// without a comment.
	FlagIpcKey: {style: styleEnum, name: "ipckey", bits: []flagName{{0, "IPC_PRIVATE"}}},
	FlagIpcGet: {style: styleBits, name: "ipcget", mode: true, bits: []flagName{
		{0o1000, "IPC_CREAT"}, {0o2000, "IPC_EXCL"}, {0o4000, "IPC_NOWAIT"}}},
	FlagShmGet: {style: styleBits, name: "shmget", mode: true, bits: []flagName{
		{0o1000, "IPC_CREAT"}, {0o2000, "IPC_EXCL"}, {0o4000, "SHM_HUGETLB"}, {0o10000, "SHM_NORESERVE"}},
		shiftMask: 0x3f << 26, shift: 26, shiftName: "SHM_HUGE_SHIFT"},
	FlagShmat: {style: styleBits, name: "shmat", dflt: "SHM_???", bits: []flagName{
		{0o10000, "SHM_RDONLY"}, {0o20000, "SHM_RND"}, {0o40000, "SHM_REMAP"}, {0o100000, "SHM_EXEC"}}},
	FlagIpcMsg: {style: styleBits, name: "ipcmsg", dflt: "MSG_???", bits: []flagName{
		{0o10000, "MSG_NOERROR"}, {0o20000, "MSG_EXCEPT"}, {0o40000, "MSG_COPY"}, {0o4000, "IPC_NOWAIT"}}},
	FlagSemFlg: {style: styleBits, name: "semflg", dflt: "SEM_???", bits: []flagName{
		{0x1000, "SEM_UNDO"}, {0o4000, "IPC_NOWAIT"}}},
	FlagShmctlCmd: {style: styleEnum, name: "shmctl", dflt: "SHM_???", ipc64: true, bits: append(ipcCtlCmds[:4:4],
		flagName{11, "SHM_LOCK"}, flagName{12, "SHM_UNLOCK"}, flagName{13, "SHM_STAT"}, flagName{14, "SHM_INFO"},
		flagName{15, "SHM_STAT_ANY"})},
	FlagMsgctlCmd: {style: styleEnum, name: "msgctl", dflt: "MSG_???", ipc64: true, bits: append(ipcCtlCmds[:4:4],
		flagName{11, "MSG_STAT"}, flagName{12, "MSG_INFO"}, flagName{13, "MSG_STAT_ANY"})},
	FlagSemctlCmd: {style: styleEnum, name: "semctl", dflt: "SEM_???", ipc64: true, bits: append(ipcCtlCmds[:4:4],
		flagName{11, "GETPID"}, flagName{12, "GETVAL"}, flagName{13, "GETALL"}, flagName{14, "GETNCNT"},
		flagName{15, "GETZCNT"}, flagName{16, "SETVAL"}, flagName{17, "SETALL"}, flagName{18, "SEM_STAT"},
		flagName{19, "SEM_INFO"}, flagName{20, "SEM_STAT_ANY"})},
}

// ipcCtlCmds are the commands shmctl, msgctl and semctl share.
var ipcCtlCmds = [...]flagName{{0, "IPC_RMID"}, {1, "IPC_SET"}, {2, "IPC_STAT"}, {3, "IPC_INFO"}}

// ipc64 is the bit of a SysV IPC ctl command asking for the 64-bit
// structures.
const ipc64 = 0x100

// openBits is strace's order for O_* flags other than the access mode.
// O_SYNC and O_TMPFILE are multi-bit and come before their parts.
var openBits = []flagName{
	{0o100, "O_CREAT"}, {0o200, "O_EXCL"}, {0o400, "O_NOCTTY"}, {0o1000, "O_TRUNC"}, {0o2000, "O_APPEND"},
	{0o4000, "O_NONBLOCK"}, {0o4010000, "O_SYNC"}, {0o10000, "O_DSYNC"}, {0o40000, "O_DIRECT"},
	{0o100000, "O_LARGEFILE"}, {0o400000, "O_NOFOLLOW"}, {0o1000000, "O_NOATIME"}, {0o2000000, "O_CLOEXEC"},
	{0o10000000, "O_PATH"}, {0o20200000, "O_TMPFILE"}, {0o200000, "O_DIRECTORY"}, {0o20000000, "__O_TMPFILE"},
	{0o20000, "FASYNC"},
}

var atBits = []flagName{
	{0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_REMOVEDIR"}, {0x400, "AT_SYMLINK_FOLLOW"},
	{0x800, "AT_NO_AUTOMOUNT"}, {0x1000, "AT_EMPTY_PATH"}, {0x8000, "AT_RECURSIVE"},
}

var cloneBits = []flagName{
	{0x100, "CLONE_VM"}, {0x200, "CLONE_FS"}, {0x400, "CLONE_FILES"}, {0x800, "CLONE_SIGHAND"},
	{0x1000, "CLONE_PIDFD"}, {0x2000, "CLONE_PTRACE"}, {0x4000, "CLONE_VFORK"}, {0x8000, "CLONE_PARENT"},
	{0x10000, "CLONE_THREAD"}, {0x20000, "CLONE_NEWNS"}, {0x40000, "CLONE_SYSVSEM"}, {0x80000, "CLONE_SETTLS"},
	{0x100000, "CLONE_PARENT_SETTID"}, {0x200000, "CLONE_CHILD_CLEARTID"}, {0x800000, "CLONE_UNTRACED"},
	{0x1000000, "CLONE_CHILD_SETTID"}, {0x2000000, "CLONE_NEWCGROUP"}, {0x4000000, "CLONE_NEWUTS"},
	{0x8000000, "CLONE_NEWIPC"}, {0x10000000, "CLONE_NEWUSER"}, {0x20000000, "CLONE_NEWPID"},
	{0x40000000, "CLONE_NEWNET"}, {0x80000000, "CLONE_IO"},
}

// String returns a short name of the decoder ("open", "clone", ...), or
// "FlagSet(N)" for an unknown value.
func (f FlagSet) String() string {
	if f < numFlagSets && flagDefs[f].name != "" {
		return flagDefs[f].name
	}
	if f == NoFlags {
		return "none"
	}
	return "FlagSet(" + string(appendUint(nil, uint64(f))) + ")"
}

// Lookup returns the name of one exact value in the set (an enum value or a
// single flag), and false if the set does not name it.
func (f FlagSet) Lookup(v uint64) (string, bool) {
	if f >= numFlagSets {
		return "", false
	}
	d := &flagDefs[f]
	if d.style == styleEnum {
		return d.lookupEnum(v)
	}
	for _, b := range d.bits {
		if b.v == v {
			return b.name, true
		}
	}
	return "", false
}

func (d *flagDef) lookupEnum(v uint64) (string, bool) {
	for _, b := range d.bits {
		if b.v == v {
			return b.name, true
		}
	}
	if d.enumSigned && v == 0xffffffff {
		for _, b := range d.bits {
			if b.v == ^uint64(0) {
				return b.name, true
			}
		}
	}
	return "", false
}

// Append appends to dst the strace rendering of v under the decoder f and
// returns the extended buffer. It never allocates when dst has room.
func (f FlagSet) Append(dst []byte, v uint64) []byte {
	if f >= numFlagSets || f == NoFlags {
		return appendHex(dst, v)
	}
	d := &flagDefs[f]
	if f == FlagFutexOp {
		return appendFutexOp(dst, d, v)
	}
	if d.style == styleEnum {
		if d.ipc64 && v&ipc64 != 0 {
			dst = append(dst, "IPC_64|"...)
			v &^= ipc64
		}
		if name, ok := d.lookupEnum(v); ok {
			return append(dst, name...)
		}
		return appendUnknown(dst, v, d.dflt)
	}
	if d.mode {
		// strace prints the flags only when there are some.
		if rest := v &^ 0o777; rest != 0 {
			dst = d.appendBits(dst, rest)
			dst = append(dst, '|')
		}
		return appendOctal(dst, v&0o777)
	}
	return d.appendBits(dst, v)
}

// appendBits renders v under a styleBits decoder.
func (d *flagDef) appendBits(dst []byte, v uint64) []byte {
	wrote := false
	sep := func(dst []byte) []byte {
		if wrote {
			dst = append(dst, '|')
		}
		wrote = true
		return dst
	}

	var sig uint64
	if d.sigByte {
		sig = v & 0xff
		v &^= 0xff
	}
	var shifted uint64
	if d.shiftMask != 0 {
		shifted = (v & d.shiftMask) >> d.shift
		v &^= d.shiftMask
	}
	if d.fieldMask != 0 {
		fv := v & d.fieldMask
		named := false
		for _, e := range d.field {
			if e.v == fv {
				dst = sep(dst)
				dst = append(dst, e.name...)
				named = true
				break
			}
		}
		if named {
			v &^= d.fieldMask
		} else if !d.fieldFold {
			dst = sep(dst)
			dst = appendUnknown(dst, fv, d.dflt)
			v &^= d.fieldMask
		}
	}
	if v == 0 && !wrote && sig == 0 && shifted == 0 {
		if d.zero != "" {
			return append(dst, d.zero...)
		}
		return append(dst, '0')
	}
	matched := false
	for _, b := range d.bits {
		if b.v != 0 && v&b.v == b.v {
			dst = sep(dst)
			dst = append(dst, b.name...)
			v &^= b.v
			matched = true
		}
	}
	if v != 0 {
		if matched || wrote {
			dst = sep(dst)
			dst = appendHex(dst, v)
		} else {
			dst = sep(dst)
			dst = appendUnknown(dst, v, d.dflt)
		}
	}
	if shifted != 0 {
		dst = sep(dst)
		dst = appendUint(dst, shifted)
		dst = append(dst, "<<"...)
		dst = append(dst, d.shiftName...)
	}
	if sig != 0 {
		dst = sep(dst)
		if name := signalNameOnly(int(sig)); name != "" {
			dst = append(dst, name...)
		} else {
			dst = appendUint(dst, sig)
		}
	}
	return dst
}

const (
	futexPrivate       = 0x80
	futexClockRealtime = 0x100
)

// appendFutexOp renders FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME.
func appendFutexOp(dst []byte, d *flagDef, v uint64) []byte {
	name, ok := d.lookupEnum(v &^ (futexPrivate | futexClockRealtime))
	if !ok {
		return appendUnknown(dst, v, d.dflt)
	}
	dst = append(dst, name...)
	if v&futexPrivate != 0 {
		dst = append(dst, "_PRIVATE"...)
	}
	if v&futexClockRealtime != 0 {
		dst = append(dst, "|FUTEX_CLOCK_REALTIME"...)
	}
	return dst
}

// appendUnknown renders a value no name matched: 0x10 /* PROT_??? */.
func appendUnknown(dst []byte, v uint64, dflt string) []byte {
	dst = appendHex(dst, v)
	if dflt != "" {
		dst = append(dst, " /* "...)
		dst = append(dst, dflt...)
		dst = append(dst, " */"...)
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendHex appends v as 0x..., or "0" for zero, as strace prints flags.
func appendHex(dst []byte, v uint64) []byte {
	if v == 0 {
		return append(dst, '0')
	}
	var b [18]byte
	i := len(b)
	for v != 0 {
		i--
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
	i--
	b[i] = 'x'
	i--
	b[i] = '0'
	return append(dst, b[i:]...)
}

// appendOctal appends a permission mode as strace's
// print_numeric_umode_t does: 0640, 000, 004.
func appendOctal(dst []byte, v uint64) []byte {
	var b [24]byte
	i := len(b)
	for v != 0 {
		i--
		b[i] = byte('0' + v&7)
		v >>= 3
	}
	for len(b)-i < 2 {
		i--
		b[i] = '0'
	}
	i--
	b[i] = '0'
	return append(dst, b[i:]...)
}

func appendUint(dst []byte, v uint64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

func appendInt(dst []byte, v int64) []byte {
	if v < 0 {
		dst = append(dst, '-')
		return appendUint(dst, uint64(-v))
	}
	return appendUint(dst, uint64(v))
}
