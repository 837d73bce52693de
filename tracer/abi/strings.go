package abi

import "strconv"

var argKindNames = [...]string{
	KindInt: "int", KindUint: "uint", KindHex: "hex", KindFD: "fd", KindDirFD: "dirfd", KindPath: "path",
	KindString: "string", KindBufIn: "bufin", KindBufOut: "bufout", KindStructIn: "structin",
	KindStructOut: "structout", KindStrVec: "strvec", KindIovIn: "iovin", KindIovOut: "iovout",
	KindFlags: "flags", KindMode: "mode", KindSignal: "signal", KindIoctlArg: "ioctlarg",
	KindSockaddrIn: "sockaddrin", KindSockaddrOut: "sockaddrout", KindOutUnknown: "outunknown",
	KindFDSet: "fdset", KindSizedOut: "sizedout", KindArrayIn: "arrayin", KindArrayOut: "arrayout",
	KindArrayInOut: "arrayinout", KindBufOutLen: "bufoutlen", KindStructInOut: "structinout",
	KindMsghdrIn: "msghdrin", KindMsghdrOut: "msghdrout", KindCmdArg: "cmdarg",
}

// String returns a short lower-case name of the kind ("path", "bufout").
func (k ArgKind) String() string {
	if int(k) < len(argKindNames) && argKindNames[k] != "" {
		return argKindNames[k]
	}
	return "ArgKind(" + strconv.Itoa(int(k)) + ")"
}

// String returns "int", "fd", "hex" or "none".
func (r RetKind) String() string {
	switch r {
	case RetInt:
		return "int"
	case RetFD:
		return "fd"
	case RetHex:
		return "hex"
	case RetNone:
		return "none"
	}
	return "RetKind(" + strconv.Itoa(int(r)) + ")"
}
