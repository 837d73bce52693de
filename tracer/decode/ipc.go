package decode

import "github.com/hermes-trace/hermes/tracer/abi"

// System V IPC: what strace 6.1 prints for the message buffers of msgsnd
// and msgrcv, the sembuf arrays of semop and semtimedop, and the structs
// the ctl commands read and write (x86_64 layouts: struct ipc64_perm,
// shmid64_ds, msqid64_ds, semid64_ds, and the *_INFO structs).

// The ctl commands whose argument is a struct; the others (IPC_RMID,
// SHM_LOCK, GETVAL, SETVAL ...) print their argument as an address.
const (
	ipcSet  = 1
	ipcStat = 2
	ipcInfo = 3

	shmStat    = 13
	shmInfo    = 14
	shmStatAny = 15
	msgStat    = 11
	msgInfo    = 12
	msgStatAny = 13
	semStat    = 18
	semInfo    = 19
	semStatAny = 20

	ipc64Bit = 0x100
)

// Sizes of the structs on x86_64.
const (
	msgbufHead  = 16 // struct msgbuf {long mtype; char mtext[1];}
	sembufSize  = 6
	shmidDsSize = 112
	msqidDsSize = 120
	semidDsSize = 104
	shminfoSize = 72 // struct shminfo64: 9 unsigned longs
	shmInfoSize = 48 // struct shm_info
	msginfoSize = 32 // struct msginfo
	seminfoSize = 40 // struct seminfo: 10 ints
)

// ipcObject says which of the three kinds of objects a ctl call works on.
type ipcObject uint8

const (
	ipcShm ipcObject = iota
	ipcMsg
	ipcSem
)

// ipcCtl returns the object and the argument holding the command of a
// SysV IPC ctl call (shmctl, msgctl, semctl), and ok false for others.
func ipcCtl(c *Call) (obj ipcObject, cmdArg int, ok bool) {
	if c.Info == nil {
		return 0, 0, false
	}
	switch c.Info.Name {
	case "shmctl":
		return ipcShm, 1, true
	case "msgctl":
		return ipcMsg, 1, true
	case "semctl":
		return ipcSem, 2, true
	}
	return 0, 0, false
}

// ipcCmdKind says what a ctl command does with its struct argument.
type ipcCmdKind uint8

const (
	ipcCmdAddr ipcCmdKind = iota // no struct: the address
	ipcCmdSet                    // IPC_SET: read at entry, the settable fields
	ipcCmdStat                   // the object's struct, written on success
	ipcCmdInfo                   // a *_INFO struct, written on success
)

// ipcCmdOf classifies cmd (without IPC_64) for obj, as strace does.
func ipcCmdOf(obj ipcObject, cmd uint32) ipcCmdKind {
	switch cmd {
	case ipcSet:
		return ipcCmdSet
	case ipcStat:
		return ipcCmdStat
	case ipcInfo:
		return ipcCmdInfo
	}
	switch obj {
	case ipcShm:
		switch cmd {
		case shmStat, shmStatAny:
			return ipcCmdStat
		case shmInfo:
			return ipcCmdInfo
		}
	case ipcMsg:
		switch cmd {
		case msgStat, msgStatAny:
			return ipcCmdStat
		case msgInfo:
			return ipcCmdInfo
		}
	case ipcSem:
		switch cmd {
		case semStat, semStatAny:
			return ipcCmdStat
		case semInfo:
			return ipcCmdInfo
		}
	}
	return ipcCmdAddr
}

// ipcCtlWrites reports whether argument i of c is a struct a ctl command
// writes, which strace prints when the call returns.
func ipcCtlWrites(c *Call, i int) bool {
	obj, cmdArg, ok := ipcCtl(c)
	if !ok || i != cmdArg+1 {
		return false
	}
	k := ipcCmdOf(obj, uint32(c.Args[cmdArg])&^ipc64Bit)
	return k == ipcCmdStat || k == ipcCmdInfo
}

// appendIpcCtlArg appends the last argument of shmctl, msgctl or semctl
// by command: the struct it reads or writes, else its address (semctl's
// SETVAL value included, as strace prints it).
func (st *state) appendIpcCtlArg(dst []byte, obj ipcObject, cmd uint32, v uint64) []byte {
	cmd &^= ipc64Bit
	k := ipcCmdOf(obj, cmd)
	if k == ipcCmdAddr || v == 0 || (k != ipcCmdSet && !st.c.succeeded()) {
		return appendPtr(dst, v)
	}
	var size int
	switch {
	case k == ipcCmdSet || k == ipcCmdStat:
		size = [...]int{ipcShm: shmidDsSize, ipcMsg: msqidDsSize, ipcSem: semidDsSize}[obj]
	case obj == ipcShm && cmd == shmInfo:
		size = shmInfoSize
	default:
		size = [...]int{ipcShm: shminfoSize, ipcMsg: msginfoSize, ipcSem: seminfoSize}[obj]
	}
	b := st.raw[:size]
	if !readFull(st.mem, b, v) {
		return appendPtr(dst, v)
	}
	set := k == ipcCmdSet
	switch {
	case k == ipcCmdInfo && obj == ipcShm && cmd == shmInfo:
		return append(appendFields(append(dst, '{'), b, shmInfoFields[:]), '}')
	case k == ipcCmdInfo:
		fields := [...][]ipcField{ipcShm: shminfoFields[:], ipcMsg: msginfoFields[:], ipcSem: seminfoFields[:]}[obj]
		return append(appendFields(append(dst, '{'), b, fields), '}')
	}
	dst = append(dst, [...]string{ipcShm: "{shm_perm=", ipcMsg: "{msg_perm=", ipcSem: "{sem_perm="}[obj]...)
	dst = appendIpcPerm(dst, b, set)
	switch {
	case set && obj == ipcMsg:
		dst = append(dst, ", msg_qbytes="...)
		dst = appendUint(dst, le64(b[88:]))
	case !set:
		fields := [...][]ipcField{ipcShm: shmidFields[:], ipcMsg: msqidFields[:], ipcSem: semidFields[:]}[obj]
		dst = appendFields(append(dst, ", "...), b, fields)
	}
	return append(dst, '}')
}

// ipcField is one integer field of a struct: its name (with "="), offset,
// size in bytes (4 or 8; 2 for an unsigned short) and signedness.
type ipcField struct {
	name   string
	off    uint8
	size   uint8
	signed bool
}

// The fields strace prints, in its order.
var (
	shmidFields = [...]ipcField{{"shm_segsz=", 48, 8, false}, {"shm_cpid=", 80, 4, true}, {"shm_lpid=", 84, 4, true},
		{"shm_nattch=", 88, 8, false}, {"shm_atime=", 56, 8, false}, {"shm_dtime=", 64, 8, false}, {"shm_ctime=", 72, 8, false}}
	msqidFields = [...]ipcField{{"msg_stime=", 48, 8, false}, {"msg_rtime=", 56, 8, false}, {"msg_ctime=", 64, 8, false},
		{"msg_qnum=", 80, 8, false}, {"msg_qbytes=", 88, 8, false}, {"msg_lspid=", 96, 4, true}, {"msg_lrpid=", 100, 4, true}}
	semidFields   = [...]ipcField{{"sem_otime=", 48, 8, false}, {"sem_ctime=", 64, 8, false}, {"sem_nsems=", 80, 8, false}}
	shminfoFields = [...]ipcField{{"shmmax=", 0, 8, false}, {"shmmin=", 8, 8, false}, {"shmmni=", 16, 8, false},
		{"shmseg=", 24, 8, false}, {"shmall=", 32, 8, false}}
	shmInfoFields = [...]ipcField{{"used_ids=", 0, 4, true}, {"shm_tot=", 8, 8, false}, {"shm_rss=", 16, 8, false},
		{"shm_swp=", 24, 8, false}, {"swap_attempts=", 32, 8, false}, {"swap_successes=", 40, 8, false}}
	msginfoFields = [...]ipcField{{"msgpool=", 0, 4, true}, {"msgmap=", 4, 4, true}, {"msgmax=", 8, 4, true},
		{"msgmnb=", 12, 4, true}, {"msgmni=", 16, 4, true}, {"msgssz=", 20, 4, true}, {"msgtql=", 24, 4, true},
		{"msgseg=", 28, 2, false}}
	seminfoFields = [...]ipcField{{"semmap=", 0, 4, true}, {"semmni=", 4, 4, true}, {"semmns=", 8, 4, true},
		{"semmnu=", 12, 4, true}, {"semmsl=", 16, 4, true}, {"semopm=", 20, 4, true}, {"semume=", 24, 4, true},
		{"semusz=", 28, 4, true}, {"semvmx=", 32, 4, true}, {"semaem=", 36, 4, true}}
)

// appendFields appends "name=value, ..." for the fields of b.
func appendFields(dst []byte, b []byte, fields []ipcField) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, f.name...)
		switch {
		case f.size == 2:
			dst = appendUint(dst, uint64(le16(b[f.off:])))
		case f.size == 4 && f.signed:
			dst = appendInt(dst, int64(int32(le32(b[f.off:]))))
		case f.size == 4:
			dst = appendUint(dst, uint64(le32(b[f.off:])))
		default:
			dst = appendUint(dst, le64(b[f.off:]))
		}
	}
	return dst
}

// appendIpcPerm appends struct ipc64_perm: {uid=0, gid=0, mode=0600,
// key=0, cuid=0, cgid=0}; for IPC_SET only what the call sets.
func appendIpcPerm(dst []byte, b []byte, set bool) []byte {
	dst = append(dst, "{uid="...)
	dst = appendID(dst, le32(b[4:]))
	dst = append(dst, ", gid="...)
	dst = appendID(dst, le32(b[8:]))
	dst = append(dst, ", mode="...)
	dst = appendOctalMode(dst, uint64(le32(b[20:])))
	if !set {
		dst = append(dst, ", key="...)
		dst = appendUint(dst, uint64(le32(b)))
		dst = append(dst, ", cuid="...)
		dst = appendID(dst, le32(b[12:]))
		dst = append(dst, ", cgid="...)
		dst = appendID(dst, le32(b[16:]))
	}
	return append(dst, '}')
}

// appendID appends a uid or gid as strace does: -1 for (uid_t)-1.
func appendID(dst []byte, id uint32) []byte {
	if id == ^uint32(0) {
		return append(dst, "-1"...)
	}
	return appendUint(dst, uint64(id))
}

// appendMsgbuf appends the struct msgbuf at v with size bytes of text:
// {mtype=1, mtext="hello"}; its address when it cannot be read.
func (st *state) appendMsgbuf(dst []byte, v, size uint64) []byte {
	if v == 0 || !readFull(st.mem, st.word[:msgbufHead], v) {
		return appendPtr(dst, v)
	}
	dst = append(dst, "{mtype="...)
	dst = appendInt(dst, int64(le64(st.word[:])))
	dst = append(dst, ", mtext="...)
	dst = st.appendBuf(dst, v+8, size, false)
	return append(dst, '}')
}

// appendSembufs appends the struct sembuf array of semop and semtimedop:
// [{sem_num=0, sem_op=1, sem_flg=SEM_UNDO}], as strace's print_array does.
func (st *state) appendSembufs(dst []byte, v uint64, count uint32) []byte {
	if v == 0 {
		return append(dst, "NULL"...)
	}
	if count == 0 {
		return append(dst, "[]"...)
	}
	if v+uint64(count)*sembufSize <= v {
		return appendPtr(dst, v)
	}
	b := st.word[:sembufSize]
	for i := uint64(0); i < uint64(count); i++ {
		addr := v + i*sembufSize
		if i > 0 {
			dst = append(dst, ", "...)
		}
		if !readFull(st.mem, b, addr) {
			if i == 0 {
				return appendPtr(dst, v)
			}
			dst = append(dst, "... /* "...)
			dst = appendPtr(dst, addr)
			dst = append(dst, " */"...)
			break
		}
		if i == 0 {
			dst = append(dst, '[')
		}
		if i >= uint64(st.maxVec) {
			dst = append(dst, "..."...)
			break
		}
		dst = append(dst, "{sem_num="...)
		dst = appendUint(dst, uint64(le16(b)))
		dst = append(dst, ", sem_op="...)
		dst = appendInt(dst, int64(int16(le16(b[2:]))))
		dst = append(dst, ", sem_flg="...)
		dst = abi.FlagSemFlg.Append(dst, uint64(le16(b[4:])))
		dst = append(dst, '}')
	}
	return append(dst, ']')
}
