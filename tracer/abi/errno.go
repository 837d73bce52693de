package abi

import "strconv"

// MaxErrno is the largest errno a syscall return value can carry: returns
// in -MaxErrno..-1 are errors.
const MaxErrno = 4095

// ErrnoName returns the symbolic name of errno e as strace prints it
// ("ENOENT"; EAGAIN rather than EWOULDBLOCK, EDEADLK rather than EDEADLOCK,
// EOPNOTSUPP rather than ENOTSUP), including the kernel-internal restart
// codes (ERESTARTSYS = 512 ...). It returns "" for a value with no name
// (strace prints those as "(errno 41)"; see AppendErrno).
func ErrnoName(e int) string {
	if e <= 0 || e >= len(errnoTable) {
		return ""
	}
	return errnoTable[e].name
}

// ErrnoMessage returns the text strace prints in parentheses after the
// errno name: glibc's strerror text ("No such file or directory"), strace's
// own text for the restart codes ("To be restarted if SA_RESTART is set"),
// and "Unknown error N" otherwise, as strerror says.
func ErrnoMessage(e int) string {
	if e > 0 && e < len(errnoTable) && errnoTable[e].msg != "" {
		return errnoTable[e].msg
	}
	return "Unknown error " + strconv.Itoa(e)
}

// AppendErrno appends strace's rendering of errno e after "= -1 ":
// "ENOENT (No such file or directory)", "ENOIOCTLCMD (Unknown error 515)",
// or "(errno 41)" for a value with no name. It does not allocate when dst
// has room.
func AppendErrno(dst []byte, e int) []byte {
	name := ErrnoName(e)
	if name == "" {
		dst = append(dst, "(errno "...)
		dst = appendInt(dst, int64(e))
		return append(dst, ')')
	}
	dst = append(dst, name...)
	dst = append(dst, " ("...)
	if msg := errnoTable[e].msg; msg != "" {
		dst = append(dst, msg...)
	} else {
		dst = append(dst, "Unknown error "...)
		dst = appendInt(dst, int64(e))
	}
	return append(dst, ')')
}

// errnoAliases are the other Linux names of values errnoTable names
// differently.
var errnoAliases = map[string]int{
	"EWOULDBLOCK": 11, // EAGAIN
	"EDEADLOCK":   35, // EDEADLK
	"ENOTSUP":     95, // EOPNOTSUPP
}

var errnoByName = func() map[string]int {
	m := make(map[string]int, len(errnoTable)+len(errnoAliases))
	for e, ent := range errnoTable {
		if ent.name != "" {
			m[ent.name] = e
		}
	}
	for n, e := range errnoAliases {
		m[n] = e
	}
	return m
}()

// ErrnoByName returns the value of an errno name ("ENOENT", also the
// aliases EWOULDBLOCK, EDEADLOCK and ENOTSUP, and the kernel-internal
// ERESTARTSYS ...). Names are case-sensitive, as in C.
func ErrnoByName(s string) (int, bool) {
	e, ok := errnoByName[s]
	return e, ok
}
