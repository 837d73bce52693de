package abi

import "strconv"

// Signal numbers strace names specially.
const (
	SigRTMin = 32 // the kernel's SIGRTMIN; strace prints it "SIGRTMIN"
	SigRTMax = 64 // the kernel's _NSIG; strace prints it "SIGRT_32"
)

var signalNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
	8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
	14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP",
	20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

// signalAliases are other names glibc and the kernel accept.
var signalAliases = map[string]int{
	"SIGIOT": 6, "SIGPOLL": 29, "SIGCLD": 17, "SIGUNUSED": 31, "SIGLOST": 29,
}

// rtNames holds "SIGRT_1" ... "SIGRT_32" so that SignalName never allocates.
var rtNames = func() [SigRTMax - SigRTMin + 1]string {
	var a [SigRTMax - SigRTMin + 1]string
	a[0] = "SIGRTMIN"
	for i := 1; i < len(a); i++ {
		a[i] = "SIGRT_" + strconv.Itoa(i)
	}
	return a
}()

// signalNameOnly returns the name of sig, or "" if it has none.
func signalNameOnly(sig int) string {
	switch {
	case sig > 0 && sig < len(signalNames):
		return signalNames[sig]
	case sig >= SigRTMin && sig <= SigRTMax:
		return rtNames[sig-SigRTMin]
	}
	return ""
}

// SignalName returns the name of signal sig as strace prints it: "SIGCHLD",
// "SIGRTMIN" for 32, "SIGRT_1" for 33 ... "SIGRT_32" for 64, and the
// decimal number for anything else (including 0, as in kill(pid, 0)).
func SignalName(sig int) string {
	if n := signalNameOnly(sig); n != "" {
		return n
	}
	return strconv.Itoa(sig)
}

// SignalByName parses a signal: "SIGTERM", "TERM", "sigterm", "15",
// "SIGRTMIN", "SIGRTMIN+3", "RTMIN+3", "SIGRTMAX-1", "SIGRT_3". It accepts
// numbers 1..64.
func SignalByName(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	if s[0] >= '0' && s[0] <= '9' {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > SigRTMax {
			return 0, false
		}
		return n, true
	}
	u := upperASCII(s)
	if len(u) < 3 || u[:3] != "SIG" {
		u = "SIG" + u
	}
	for i, n := range signalNames {
		if n != "" && n == u {
			return i, true
		}
	}
	if n, ok := signalAliases[u]; ok {
		return n, true
	}
	switch {
	case len(u) > 6 && u[:6] == "SIGRT_":
		n, err := strconv.Atoi(u[6:])
		if err == nil && n >= 0 && n <= SigRTMax-SigRTMin {
			return SigRTMin + n, true
		}
	case u == "SIGRTMIN":
		return SigRTMin, true
	case u == "SIGRTMAX":
		return SigRTMax, true
	case len(u) > 9 && u[:9] == "SIGRTMIN+":
		n, err := strconv.Atoi(u[9:])
		if err == nil && n >= 0 && SigRTMin+n <= SigRTMax {
			return SigRTMin + n, true
		}
	case len(u) > 9 && u[:9] == "SIGRTMAX-":
		n, err := strconv.Atoi(u[9:])
		if err == nil && n >= 0 && SigRTMax-n >= SigRTMin {
			return SigRTMax - n, true
		}
	}
	return 0, false
}

func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'a' && c <= 'z' {
					b[j] = c - 'a' + 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
