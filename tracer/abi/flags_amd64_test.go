package abi

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The hand-written values agree with golang.org/x/sys/unix (amd64).
func TestFlagValuesMatchUnix(t *testing.T) {
	check := map[FlagSet]map[string]uint64{
		FlagOpen: {"O_CREAT": unix.O_CREAT, "O_EXCL": unix.O_EXCL, "O_NOCTTY": unix.O_NOCTTY, "O_TRUNC": unix.O_TRUNC,
			"O_APPEND": unix.O_APPEND, "O_NONBLOCK": unix.O_NONBLOCK, "O_SYNC": unix.O_SYNC, "O_DSYNC": unix.O_DSYNC,
			"O_DIRECT": unix.O_DIRECT, "O_LARGEFILE": 0o100000, // unix.O_LARGEFILE is 0 on amd64
			"O_NOFOLLOW": unix.O_NOFOLLOW,
			"O_NOATIME":  unix.O_NOATIME, "O_CLOEXEC": unix.O_CLOEXEC, "O_PATH": unix.O_PATH, "O_TMPFILE": unix.O_TMPFILE,
			"O_DIRECTORY": unix.O_DIRECTORY, "FASYNC": unix.O_ASYNC},
		FlagAt: {"AT_SYMLINK_NOFOLLOW": unix.AT_SYMLINK_NOFOLLOW, "AT_REMOVEDIR": unix.AT_REMOVEDIR,
			"AT_SYMLINK_FOLLOW": unix.AT_SYMLINK_FOLLOW, "AT_NO_AUTOMOUNT": unix.AT_NO_AUTOMOUNT,
			"AT_EMPTY_PATH": unix.AT_EMPTY_PATH, "AT_RECURSIVE": unix.AT_RECURSIVE},
		FlagProt: {"PROT_READ": unix.PROT_READ, "PROT_WRITE": unix.PROT_WRITE, "PROT_EXEC": unix.PROT_EXEC,
			"PROT_GROWSDOWN": unix.PROT_GROWSDOWN, "PROT_GROWSUP": unix.PROT_GROWSUP},
		FlagMap: {"MAP_FIXED": unix.MAP_FIXED, "MAP_ANONYMOUS": unix.MAP_ANONYMOUS, "MAP_32BIT": unix.MAP_32BIT,
			"MAP_NORESERVE": unix.MAP_NORESERVE, "MAP_POPULATE": unix.MAP_POPULATE, "MAP_NONBLOCK": unix.MAP_NONBLOCK,
			"MAP_GROWSDOWN": unix.MAP_GROWSDOWN, "MAP_DENYWRITE": unix.MAP_DENYWRITE, "MAP_EXECUTABLE": unix.MAP_EXECUTABLE,
			"MAP_LOCKED": unix.MAP_LOCKED, "MAP_STACK": unix.MAP_STACK, "MAP_HUGETLB": unix.MAP_HUGETLB,
			"MAP_SYNC": unix.MAP_SYNC, "MAP_FIXED_NOREPLACE": unix.MAP_FIXED_NOREPLACE},
		FlagClone: {"CLONE_VM": unix.CLONE_VM, "CLONE_FS": unix.CLONE_FS, "CLONE_FILES": unix.CLONE_FILES,
			"CLONE_SIGHAND": unix.CLONE_SIGHAND, "CLONE_PIDFD": unix.CLONE_PIDFD, "CLONE_PTRACE": unix.CLONE_PTRACE,
			"CLONE_VFORK": unix.CLONE_VFORK, "CLONE_PARENT": unix.CLONE_PARENT, "CLONE_THREAD": unix.CLONE_THREAD,
			"CLONE_NEWNS": unix.CLONE_NEWNS, "CLONE_SYSVSEM": unix.CLONE_SYSVSEM, "CLONE_SETTLS": unix.CLONE_SETTLS,
			"CLONE_PARENT_SETTID": unix.CLONE_PARENT_SETTID, "CLONE_CHILD_CLEARTID": unix.CLONE_CHILD_CLEARTID,
			"CLONE_UNTRACED": unix.CLONE_UNTRACED, "CLONE_CHILD_SETTID": unix.CLONE_CHILD_SETTID,
			"CLONE_NEWCGROUP": unix.CLONE_NEWCGROUP, "CLONE_NEWUTS": unix.CLONE_NEWUTS, "CLONE_NEWIPC": unix.CLONE_NEWIPC,
			"CLONE_NEWUSER": unix.CLONE_NEWUSER, "CLONE_NEWPID": unix.CLONE_NEWPID, "CLONE_NEWNET": unix.CLONE_NEWNET,
			"CLONE_IO": unix.CLONE_IO},
		FlagWait: {"WNOHANG": unix.WNOHANG, "WEXITED": unix.WEXITED, "WSTOPPED": unix.WSTOPPED,
			"WCONTINUED": unix.WCONTINUED, "WNOWAIT": unix.WNOWAIT, "__WALL": unix.WALL, "__WNOTHREAD": unix.WNOTHREAD,
			"__WCLONE": unix.WCLONE},
		FlagFcntlCmd: {"F_DUPFD_CLOEXEC": unix.F_DUPFD_CLOEXEC, "F_GETFD": unix.F_GETFD, "F_SETFL": unix.F_SETFL,
			"F_OFD_SETLKW": unix.F_OFD_SETLKW, "F_SETPIPE_SZ": unix.F_SETPIPE_SZ, "F_ADD_SEALS": unix.F_ADD_SEALS,
			"F_GETOWN_EX": unix.F_GETOWN_EX, "F_NOTIFY": unix.F_NOTIFY},
		FlagPrctl: {"PR_SET_NAME": unix.PR_SET_NAME, "PR_SET_NO_NEW_PRIVS": unix.PR_SET_NO_NEW_PRIVS,
			"PR_SET_CHILD_SUBREAPER": unix.PR_SET_CHILD_SUBREAPER, "PR_CAP_AMBIENT": unix.PR_CAP_AMBIENT,
			"PR_SET_PDEATHSIG": unix.PR_SET_PDEATHSIG, "PR_SCHED_CORE": unix.PR_SCHED_CORE,
			"PR_SET_VMA": unix.PR_SET_VMA, "PR_GET_MEMORY_MERGE": unix.PR_GET_MEMORY_MERGE},
		FlagMadvise: {"MADV_DONTNEED": unix.MADV_DONTNEED, "MADV_FREE": unix.MADV_FREE, "MADV_COLLAPSE": unix.MADV_COLLAPSE,
			"MADV_HWPOISON": unix.MADV_HWPOISON, "MADV_POPULATE_WRITE": unix.MADV_POPULATE_WRITE},
		FlagAddressFamily: {"AF_NETLINK": unix.AF_NETLINK, "AF_VSOCK": unix.AF_VSOCK, "AF_XDP": unix.AF_XDP,
			"AF_MCTP": unix.AF_MCTP, "AF_PACKET": unix.AF_PACKET},
		FlagMsg: {"MSG_NOSIGNAL": unix.MSG_NOSIGNAL, "MSG_ZEROCOPY": unix.MSG_ZEROCOPY, "MSG_FASTOPEN": unix.MSG_FASTOPEN,
			"MSG_CMSG_CLOEXEC": unix.MSG_CMSG_CLOEXEC, "MSG_WAITFORONE": unix.MSG_WAITFORONE, "MSG_BATCH": unix.MSG_BATCH},
		FlagClockID: {"CLOCK_TAI": unix.CLOCK_TAI, "CLOCK_BOOTTIME_ALARM": unix.CLOCK_BOOTTIME_ALARM},
		FlagPtraceReq: {"PTRACE_SEIZE": unix.PTRACE_SEIZE, "PTRACE_GET_SYSCALL_INFO": unix.PTRACE_GET_SYSCALL_INFO,
			"PTRACE_SYSEMU": unix.PTRACE_SYSEMU, "PTRACE_GETREGSET": unix.PTRACE_GETREGSET},
		FlagRlimit:      {"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME},
		FlagMemfd:       {"MFD_ALLOW_SEALING": unix.MFD_ALLOW_SEALING, "MFD_HUGETLB": unix.MFD_HUGETLB},
		FlagArchPrctl:   {"ARCH_SET_FS": 0x1002, "ARCH_GET_GS": 0x1004},
		FlagFutexOp:     {"FUTEX_WAIT_BITSET": 9, "FUTEX_LOCK_PI2": 13},
		FlagPollEvents:  {"POLLRDHUP": unix.POLLRDHUP, "POLLWRBAND": 0x200},
		FlagEpollCtlOp:  {"EPOLL_CTL_MOD": unix.EPOLL_CTL_MOD},
		FlagGetrandom:   {"GRND_INSECURE": unix.GRND_INSECURE},
		FlagRename:      {"RENAME_WHITEOUT": unix.RENAME_WHITEOUT},
		FlagSeccompOp:   {"SECCOMP_GET_NOTIF_SIZES": 3},
		FlagMremap:      {"MREMAP_DONTUNMAP": unix.MREMAP_DONTUNMAP},
		FlagEventfd:     {"EFD_CLOEXEC": unix.EFD_CLOEXEC, "EFD_NONBLOCK": unix.EFD_NONBLOCK},
		FlagEpollCreate: {"EPOLL_CLOEXEC": unix.EPOLL_CLOEXEC},
		FlagStatxMask: {"STATX_ALL": unix.STATX_ALL, "STATX_BASIC_STATS": unix.STATX_BASIC_STATS,
			"STATX_BTIME": unix.STATX_BTIME, "STATX_MNT_ID": unix.STATX_MNT_ID, "STATX_DIOALIGN": unix.STATX_DIOALIGN},
		FlagStatxAttrs: {"STATX_ATTR_IMMUTABLE": unix.STATX_ATTR_IMMUTABLE, "STATX_ATTR_VERITY": unix.STATX_ATTR_VERITY,
			"STATX_ATTR_DAX": unix.STATX_ATTR_DAX, "STATX_ATTR_MOUNT_ROOT": unix.STATX_ATTR_MOUNT_ROOT},
		FlagFadvise: {"POSIX_FADV_DONTNEED": unix.FADV_DONTNEED, "POSIX_FADV_NOREUSE": unix.FADV_NOREUSE},
		FlagEpollEvents: {"EPOLLIN": unix.EPOLLIN, "EPOLLRDHUP": unix.EPOLLRDHUP, "EPOLLEXCLUSIVE": unix.EPOLLEXCLUSIVE,
			"EPOLLWAKEUP": unix.EPOLLWAKEUP, "EPOLLONESHOT": unix.EPOLLONESHOT, "EPOLLET": unix.EPOLLET},
		FlagIpcGet: {"IPC_CREAT": unix.IPC_CREAT, "IPC_EXCL": unix.IPC_EXCL, "IPC_NOWAIT": unix.IPC_NOWAIT},
		FlagShmGet: {"IPC_CREAT": unix.IPC_CREAT, "IPC_EXCL": unix.IPC_EXCL},
		FlagShmat:  {"SHM_RDONLY": unix.SHM_RDONLY, "SHM_RND": unix.SHM_RND},
		FlagIpcMsg: {"IPC_NOWAIT": unix.IPC_NOWAIT},
		// x/sys has no SHM_HUGETLB, SHM_NORESERVE, IPC_INFO, SHM_LOCK or
		// the GET*/SET* semctl commands.
		FlagShmctlCmd: {"IPC_RMID": unix.IPC_RMID, "IPC_SET": unix.IPC_SET, "IPC_STAT": unix.IPC_STAT},
		FlagMsgctlCmd: {"IPC_RMID": unix.IPC_RMID, "IPC_SET": unix.IPC_SET, "IPC_STAT": unix.IPC_STAT},
		FlagSemctlCmd: {"IPC_RMID": unix.IPC_RMID, "IPC_SET": unix.IPC_SET, "IPC_STAT": unix.IPC_STAT},
		FlagIpcKey:    {"IPC_PRIVATE": unix.IPC_PRIVATE},
	}
	for set, m := range check {
		byName := map[string]uint64{}
		d := &flagDefs[set]
		for _, e := range append(append([]flagName{}, d.bits...), d.field...) {
			byName[e.name] = e.v
		}
		for name, want := range m {
			got, ok := byName[name]
			if !ok {
				t.Errorf("%v: %s missing", set, name)
			} else if got != want {
				t.Errorf("%v: %s = %#x, unix says %#x", set, name, got, want)
			}
		}
	}
}
