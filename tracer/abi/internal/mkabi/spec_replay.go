package main

import (
	"fmt"
	"sort"
	"strings"
)

// replaySpecs is what replay needs to know of a syscall, beside its
// arguments: how its outcome is had again (rr's syscalls.py keeps the same
// facts next to each call). Tokens, each a Replay* constant of package abi:
//
//	time      a clock, a sleep or CPU accounting (emulation class time)
//	random    random bytes (class random)
//	pidret    returns a pid of the caller's family (class pid)
//	uname     the system's name (class uname)
//	poll      readiness of descriptors (class poll)
//	read      reads data from its descriptor (argument 0) into memory
//	write     writes data to its descriptor (argument 0)
//	sock      other socket calls whose outcome the peer decides
//	accept    accepts a connection
//	pidresult returns a pid (fork, clone, wait4, setsid...)
//	wait      reaps a child (wait4)
//	pidargs   has pid arguments
//	socket    makes a socket
//	noise     how often it is made depends on timing (locks, sleeps,
//	          a runtime's thread starts and memory)
//	fdinfo    asks what its descriptor (argument 0) is
//	meta      stat, statfs or a directory listing of a file (class meta)
//	visible   its effect reaches outside the process: a replay that never
//	          made it missed something the program's user can see
//	timeset   arms a timer: it runs (the program waits for what the timer
//	          sends), and its result and out-structures (the time the
//	          timer it replaces had left) come from the recording
//	timeleft  interrupted by a signal, it writes the time left into its
//	          out-structures (a sleep's remaining time)
//	statcmd   for the commands whose struct the syscall table says the
//	          kernel writes (CmdMem, out), it reports an object's state:
//	          pids, times and counters that cannot be the same twice
//	          (class meta: emulated)
//	unchanged the kernel never fails it with an error: where it cannot do
//	          what was asked it changes nothing and returns the current
//	          state, which is what argument 0 set to 0 asks for (brk
//	          returns the current break, and libc's sbrk reports ENOMEM);
//	          an injected failure is made that way
var replaySpecs = map[string]string{
	"clock_gettime":      "time noise",
	"gettimeofday":       "time",
	"time":               "time",
	"clock_nanosleep":    "time noise timeleft",
	"nanosleep":          "time noise timeleft",
	"times":              "time",
	"getrusage":          "time",
	"sysinfo":            "time",
	"clock_getres":       "time",
	"adjtimex":           "time",
	"clock_adjtime":      "time",
	"getitimer":          "time",
	"timer_gettime":      "time",
	"timer_getoverrun":   "time",
	"timerfd_gettime":    "time",
	"alarm":              "timeset",
	"setitimer":          "timeset",
	"timer_settime":      "timeset",
	"timerfd_settime":    "timeset",
	"getrandom":          "random",
	"brk":                "unchanged",
	"shmctl":             "statcmd",
	"msgctl":             "statcmd",
	"semctl":             "statcmd",
	"getpid":             "pidret noise",
	"getppid":            "pidret",
	"gettid":             "pidret noise",
	"getpgrp":            "pidret",
	"uname":              "uname",
	"poll":               "poll",
	"ppoll":              "poll",
	"select":             "poll",
	"pselect6":           "poll",
	"epoll_wait":         "poll noise",
	"epoll_pwait":        "poll noise",
	"epoll_pwait2":       "poll noise",
	"read":               "read",
	"pread64":            "read",
	"readv":              "read",
	"preadv":             "read",
	"preadv2":            "read",
	"recvfrom":           "read",
	"recvmsg":            "read",
	"recvmmsg":           "read",
	"getdents64":         "read meta",
	"getdents":           "read meta",
	"write":              "write visible",
	"pwrite64":           "write visible",
	"writev":             "write visible",
	"pwritev":            "write visible",
	"pwritev2":           "write visible",
	"sendto":             "write visible",
	"sendmsg":            "write visible",
	"sendmmsg":           "write visible",
	"connect":            "sock visible",
	"getpeername":        "sock",
	"getsockname":        "sock",
	"getsockopt":         "sock",
	"shutdown":           "sock",
	"accept":             "accept",
	"accept4":            "accept",
	"fork":               "pidresult visible",
	"vfork":              "pidresult visible",
	"clone":              "pidresult visible",
	"clone3":             "pidresult visible",
	"wait4":              "pidresult wait",
	"setsid":             "pidresult",
	"getsid":             "pidresult pidargs",
	"getpgid":            "pidresult pidargs",
	"set_tid_address":    "pidresult",
	"socket":             "socket",
	"stat":               "meta",
	"lstat":              "meta",
	"fstat":              "meta fdinfo",
	"newfstatat":         "meta fdinfo",
	"statx":              "meta fdinfo",
	"statfs":             "meta",
	"fstatfs":            "meta fdinfo",
	"ioctl":              "fdinfo",
	"lseek":              "fdinfo",
	"fcntl":              "fdinfo",
	"fadvise64":          "fdinfo",
	"futex":              "noise",
	"sched_yield":        "noise",
	"tgkill":             "noise pidargs visible",
	"rt_sigreturn":       "noise",
	"rt_sigprocmask":     "noise",
	"sigaltstack":        "noise",
	"sched_getaffinity":  "noise pidargs",
	"madvise":            "noise",
	"munmap":             "noise",
	"restart_syscall":    "noise",
	"kill":               "pidargs visible",
	"tkill":              "pidargs visible",
	"rt_sigqueueinfo":    "pidargs visible",
	"rt_tgsigqueueinfo":  "pidargs visible",
	"setpgid":            "pidargs visible",
	"sched_setaffinity":  "pidargs",
	"sched_setparam":     "pidargs",
	"sched_getparam":     "pidargs",
	"sched_setscheduler": "pidargs",
	"sched_getscheduler": "pidargs",
	"prlimit64":          "pidargs",
	"pidfd_open":         "pidargs",
	"process_vm_readv":   "pidargs",
	"process_vm_writev":  "pidargs",
	"waitid":             "pidargs",
	"execve":             "visible",
	"execveat":           "visible",
	"exit_group":         "visible",
	"unlink":             "visible",
	"unlinkat":           "visible",
	"rename":             "visible",
	"renameat":           "visible",
	"renameat2":          "visible",
	"mkdir":              "visible",
	"mkdirat":            "visible",
	"rmdir":              "visible",
	"truncate":           "visible",
	"ftruncate":          "visible",
	"sendfile":           "visible",
}

var replayTokens = map[string]string{
	"time": "ReplayTime", "random": "ReplayRandom", "pidret": "ReplayPidRet", "uname": "ReplayUname",
	"poll": "ReplayPoll", "read": "ReplayRead", "write": "ReplayWrite", "sock": "ReplaySock",
	"accept": "ReplayAccept", "pidresult": "ReplayPidResult", "wait": "ReplayWait", "pidargs": "ReplayPidArgs",
	"socket": "ReplaySocket", "noise": "ReplayNoise", "fdinfo": "ReplayFDInfo", "meta": "ReplayMeta",
	"visible": "ReplayVisible", "timeleft": "ReplayTimeLeft", "timeset": "ReplayTimeSet", "unchanged": "ReplayUnchanged", "statcmd": "ReplayStatCmd",
}

// replayLiteral renders the Replay field of a table entry ("" for none).
func replayLiteral(name string) (string, error) {
	s, ok := replaySpecs[name]
	if !ok {
		return "", nil
	}
	var out []string
	for _, tok := range strings.Fields(s) {
		c, ok := replayTokens[tok]
		if !ok {
			return "", fmt.Errorf("%s: unknown replay token %q", name, tok)
		}
		out = append(out, c)
	}
	sort.Strings(out)
	return " Replay: " + strings.Join(out, "|") + ",", nil
}
