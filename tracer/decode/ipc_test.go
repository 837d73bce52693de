package decode

import "testing"

// ipcPerm builds a struct ipc64_perm (48 bytes).
func ipcPerm(key int32, uid, gid, mode uint32) []byte {
	return le(key, uid, gid, uint32(0), uint32(0), mode, uint16(1), uint16(0), uint32(0), 0, 0)
}

// TestDecodeIPC checks the SysV IPC calls against what strace 6.1
// printed for the same calls (kstate ids, straceflags ipc and more).
func TestDecodeIPC(t *testing.T) {
	m := newMem()
	msqid := m.alloc(le(ipcPerm(0, 0, 0, 0o600), 1796535129, 1796535130, 1796535131, 0, 0, 16384, int32(11209), int32(11210), 0, 0))
	semid := m.alloc(le(ipcPerm(0x4e524d48, 0, 0, 0o600), 1796535129, 0, 1796535128, 0, 1, 0, 0))
	shmid := m.alloc(le(ipcPerm(0, 1000, ^uint32(0), 0o2640), 4096, 1796535129, 0, 1796535128, int32(11209), int32(11208), 1, 0, 0))
	msgbuf := m.alloc(le(1, []byte("hello\x00\x00\x00")))
	long := m.alloc(le(1, make([]byte, 100)))
	sops := m.alloc(le(uint16(0), uint16(2), uint16(0x1000), uint16(1), uint16(0xffff), uint16(0x800)))
	sops1 := m.alloc(le(uint16(0), uint16(1), uint16(0)))
	ts := m.alloc(le(0, 1000))
	msginfo := m.alloc(le(int32(512000), int32(16384), int32(8192), int32(16384), int32(32000), int32(16), int32(16384), uint16(65535), uint16(0)))
	seminfo := m.alloc(le(int32(1024000000), int32(32000), int32(1024000000), int32(1024000000), int32(32000), int32(500), int32(500), int32(20), int32(32767), int32(32767)))
	shminfo := m.alloc(le(uint64(18446744073692774399), 1, 4096, 4096, uint64(18446744073692774399), 0, 0, 0, 0))
	shmInfo := m.alloc(le(int32(1), uint32(0), 1, 0, 0, 0, 0))
	for _, tt := range []struct {
		c    *Call
		want string
	}{
		// Keys and get flags.
		{mk(t, "msgget", 45, 0, 0o1600), `msgget(IPC_PRIVATE, IPC_CREAT|0600) = 45`},
		{mk(t, "msgget", -2, 0x4e524d48, 0), `msgget(0x4e524d48, 000) = -1 ENOENT (No such file or directory)`},
		{mk(t, "msgget", -17, 0x4e524d48, 0x100000|0o3600), `msgget(0x4e524d48, IPC_CREAT|IPC_EXCL|0x100000|0600) = -1 EEXIST (File exists)`},
		{mk(t, "semget", 45, 0, 2, 0o600), `semget(IPC_PRIVATE, 2, 0600) = 45`},
		{mk(t, "shmget", 45, 0, 8192, 0o11640), `shmget(IPC_PRIVATE, 8192, IPC_CREAT|SHM_NORESERVE|0640) = 45`},
		{mk(t, "shmget", -12, 0, 4096, 0o4600|21<<26), `shmget(IPC_PRIVATE, 4096, SHM_HUGETLB|21<<SHM_HUGE_SHIFT|0600) = -1 ENOMEM (Cannot allocate memory)`},

		// Messages: the text up to the size argument, msgrcv's on success.
		{mk(t, "msgsnd", 0, 45, msgbuf, 8, 0), `msgsnd(45, {mtype=1, mtext="hello\0\0\0"}, 8, 0) = 0`},
		{mk(t, "msgsnd", 0, 45, msgbuf, 3, 0o4000), `msgsnd(45, {mtype=1, mtext="hel"}, 3, IPC_NOWAIT) = 0`},
		{mk(t, "msgsnd", 0, 45, long, 100, 0o4000), `msgsnd(45, {mtype=1, mtext="\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"...}, 100, IPC_NOWAIT) = 0`},
		{mk(t, "msgsnd", -14, 45, 0, 4, 0), `msgsnd(45, NULL, 4, 0) = -1 EFAULT (Bad address)`},
		{mk(t, "msgsnd", -14, 45, 8, 4, 0), `msgsnd(45, 0x8, 4, 0) = -1 EFAULT (Bad address)`},
		{mk(t, "msgrcv", 8, 45, msgbuf, 8, 0, 0), `msgrcv(45, {mtype=1, mtext="hello\0\0\0"}, 8, 0, 0) = 8`},
		{mk(t, "msgrcv", 3, 45, msgbuf, 8, neg(-10), 0o14000), `msgrcv(45, {mtype=1, mtext="hello\0\0\0"}, 8, -10, MSG_NOERROR|IPC_NOWAIT) = 3`},
		{mk(t, "msgrcv", -42, 45, msgbuf, 8, 0, 0o24000), `msgrcv(45, 0x` + hex(msgbuf) + `, 8, 0, MSG_EXCEPT|IPC_NOWAIT) = -1 ENOMSG (No message of desired type)`},

		// Semaphore operations.
		{mk(t, "semtimedop", 0, 45, sops1, 1, 0), `semtimedop(45, [{sem_num=0, sem_op=1, sem_flg=0}], 1, NULL) = 0`},
		{mk(t, "semtimedop", 0, 45, sops, 2, ts), `semtimedop(45, [{sem_num=0, sem_op=2, sem_flg=SEM_UNDO}, {sem_num=1, sem_op=-1, sem_flg=IPC_NOWAIT}], 2, {tv_sec=0, tv_nsec=1000}) = 0`},
		{mk(t, "semop", -22, 45, sops, 0), `semop(45, [], 0) = -1 EINVAL (Invalid argument)`},
		{mk(t, "semop", -14, 45, 0, 1), `semop(45, NULL, 1) = -1 EFAULT (Bad address)`},
		{mk(t, "semop", -14, 45, 8, 2), `semop(45, 0x8, 2) = -1 EFAULT (Bad address)`},
		{mk(t, "semop", -14, 45, sops1, 2), `semop(45, [{sem_num=0, sem_op=1, sem_flg=0}, ... /* 0x` + hex(sops1+6) + ` */], 2) = -1 EFAULT (Bad address)`},

		// The ctl commands: structs, and addresses for the others.
		{mk(t, "msgctl", 0, 45, 2, msqid), `msgctl(45, IPC_STAT, {msg_perm={uid=0, gid=0, mode=0600, key=0, cuid=0, cgid=0}, msg_stime=1796535129, msg_rtime=1796535130, msg_ctime=1796535131, msg_qnum=0, msg_qbytes=16384, msg_lspid=11209, msg_lrpid=11210}) = 0`},
		{mk(t, "msgctl", 0, 45, 1, msqid), `msgctl(45, IPC_SET, {msg_perm={uid=0, gid=0, mode=0600}, msg_qbytes=16384}) = 0`},
		{mk(t, "msgctl", 0, 45, 0, 0), `msgctl(45, IPC_RMID, NULL) = 0`},
		{mk(t, "msgctl", -22, 45, 0x102, msqid), `msgctl(45, IPC_64|IPC_STAT, 0x` + hex(msqid) + `) = -1 EINVAL (Invalid argument)`},
		{mk(t, "msgctl", -22, 45, 99, msqid), `msgctl(45, 0x63 /* MSG_??? */, 0x` + hex(msqid) + `) = -1 EINVAL (Invalid argument)`},
		{mk(t, "msgctl", -14, 45, 2, 0), `msgctl(45, IPC_STAT, NULL) = -1 EFAULT (Bad address)`},
		{mk(t, "msgctl", 55, 45, 3, msginfo), `msgctl(45, IPC_INFO, {msgpool=512000, msgmap=16384, msgmax=8192, msgmnb=16384, msgmni=32000, msgssz=16, msgtql=16384, msgseg=65535}) = 55`},
		{mk(t, "msgctl", 45, 0, 11, msqid), `msgctl(0, MSG_STAT, {msg_perm={uid=0, gid=0, mode=0600, key=0, cuid=0, cgid=0}, msg_stime=1796535129, msg_rtime=1796535130, msg_ctime=1796535131, msg_qnum=0, msg_qbytes=16384, msg_lspid=11209, msg_lrpid=11210}) = 45`},
		{mk(t, "semctl", 1, 45, 0, 12, 0), `semctl(45, 0, GETVAL, NULL) = 1`},
		{mk(t, "semctl", 0, 45, 1, 16, 5), `semctl(45, 1, SETVAL, 0x5) = 0`},
		{mk(t, "semctl", 0, 45, 0, 13, 0x7ffe3b8a84e0), `semctl(45, 0, GETALL, 0x7ffe3b8a84e0) = 0`},
		{mk(t, "semctl", 0, 45, 0, 2, semid), `semctl(45, 0, IPC_STAT, {sem_perm={uid=0, gid=0, mode=0600, key=1314016584, cuid=0, cgid=0}, sem_otime=1796535129, sem_ctime=1796535128, sem_nsems=1}) = 0`},
		{mk(t, "semctl", 0, 45, 0, 1, semid), `semctl(45, 0, IPC_SET, {sem_perm={uid=0, gid=0, mode=0600}}) = 0`},
		{mk(t, "semctl", 45, 0, 0, 20, semid), `semctl(0, 0, SEM_STAT_ANY, {sem_perm={uid=0, gid=0, mode=0600, key=1314016584, cuid=0, cgid=0}, sem_otime=1796535129, sem_ctime=1796535128, sem_nsems=1}) = 45`},
		{mk(t, "semctl", -22, 45, 0, 77, 0), `semctl(45, 0, 0x4d /* SEM_??? */, NULL) = -1 EINVAL (Invalid argument)`},
		{mk(t, "semctl", 54, 45, 0, 3, seminfo), `semctl(45, 0, IPC_INFO, {semmap=1024000000, semmni=32000, semmns=1024000000, semmnu=1024000000, semmsl=32000, semopm=500, semume=500, semusz=20, semvmx=32767, semaem=32767}) = 54`},
		{mk(t, "shmctl", 0, 45, 2, shmid), `shmctl(45, IPC_STAT, {shm_perm={uid=1000, gid=-1, mode=02640, key=0, cuid=0, cgid=0}, shm_segsz=4096, shm_cpid=11209, shm_lpid=11208, shm_nattch=1, shm_atime=1796535129, shm_dtime=0, shm_ctime=1796535128}) = 0`},
		{mk(t, "shmctl", 0, 45, 1, shmid), `shmctl(45, IPC_SET, {shm_perm={uid=1000, gid=-1, mode=02640}}) = 0`},
		{mk(t, "shmctl", 0, 45, 11, 0), `shmctl(45, SHM_LOCK, NULL) = 0`},
		{mk(t, "shmctl", 54, 45, 3, shminfo), `shmctl(45, IPC_INFO, {shmmax=18446744073692774399, shmmin=1, shmmni=4096, shmseg=4096, shmall=18446744073692774399}) = 54`},
		{mk(t, "shmctl", 54, 45, 14, shmInfo), `shmctl(45, SHM_INFO, {used_ids=1, shm_tot=1, shm_rss=0, shm_swp=0, swap_attempts=0, swap_successes=0}) = 54`},
		{mk(t, "shmctl", -14, 45, 14, 8), `shmctl(45, SHM_INFO, 0x8) = -1 EFAULT (Bad address)`},

		// shmat's flags.
		{mk(t, "shmat", 0x7f6a3822f000, 45, 0, 0), `shmat(45, NULL, 0) = 0x7f6a3822f000`},
		{mk(t, "shmat", 0x7f6a3822f000, 45, 0, 0o30000), `shmat(45, NULL, SHM_RDONLY|SHM_RND) = 0x7f6a3822f000`},
		{mk(t, "shmat", 0x7f6a3822f000, 45, 0, 0x400000), `shmat(45, NULL, 0x400000 /* SHM_??? */) = 0x7f6a3822f000`},
	} {
		if got := render(tt.c, m, nil); got != tt.want {
			t.Errorf("\n got: %s\nwant: %s", got, tt.want)
		}
	}

	// More elements than -s shows: the rest as "...".
	many := m.alloc(make([]byte, 6*40))
	got := render(mk(t, "semop", 0, 45, many, 40), m, &Options{StrSize: 2})
	if want := `semop(45, [{sem_num=0, sem_op=0, sem_flg=0}, {sem_num=0, sem_op=0, sem_flg=0}, ...], 40) = 0`; got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

// TestDecodeIPCPhases checks what strace prints at entry and at exit:
// msgrcv's buffer and the structs the ctl commands write when the call
// returns, IPC_SET's struct and msgsnd's buffer when it is made.
func TestDecodeIPCPhases(t *testing.T) {
	m := newMem()
	buf := m.alloc(make([]byte, 120))
	msgbuf := m.alloc(le(1, []byte("hi\x00\x00\x00\x00\x00\x00")))
	for _, tt := range []struct {
		c           *Call
		entry, exit string
	}{
		{mk(t, "msgrcv", 2, 45, msgbuf, 2, 0, 0), `msgrcv(45, `, `{mtype=1, mtext="hi"}, 2, 0, 0)`},
		{mk(t, "msgsnd", 0, 45, msgbuf, 2, 0), `msgsnd(45, {mtype=1, mtext="hi"}, 2, 0`, `)`},
		{mk(t, "msgctl", 0, 45, 2, buf), `msgctl(45, IPC_STAT, `, `{msg_perm={uid=0, gid=0, mode=000, key=0, cuid=0, cgid=0}, msg_stime=0, msg_rtime=0, msg_ctime=0, msg_qnum=0, msg_qbytes=0, msg_lspid=0, msg_lrpid=0})`},
		{mk(t, "msgctl", 0, 45, 3, buf), `msgctl(45, IPC_INFO, `, `{msgpool=0, msgmap=0, msgmax=0, msgmnb=0, msgmni=0, msgssz=0, msgtql=0, msgseg=0})`},
		{mk(t, "msgctl", 0, 45, 1, buf), `msgctl(45, IPC_SET, {msg_perm={uid=0, gid=0, mode=000}, msg_qbytes=0}`, `)`},
		{mk(t, "semctl", 0, 45, 0, 0x112, buf), `semctl(45, 0, IPC_64|SEM_STAT, `, `{sem_perm={uid=0, gid=0, mode=000, key=0, cuid=0, cgid=0}, sem_otime=0, sem_ctime=0, sem_nsems=0})`},
		{mk(t, "semctl", 0, 45, 0, 16, 1), `semctl(45, 0, SETVAL, 0x1`, `)`},
		{mk(t, "shmctl", 0, 45, 14, buf), `shmctl(45, SHM_INFO, `, `{used_ids=0, shm_tot=0, shm_rss=0, shm_swp=0, swap_attempts=0, swap_successes=0})`},
	} {
		checkHalves(t, tt.c, m, tt.entry, tt.exit)
	}
	// Before IPC_STAT returns, its struct is an address.
	c := mk(t, "shmctl", 0, 45, 2, buf)
	c.Exited = false
	if got, want := string(AppendCall(nil, c, m, nil)), `shmctl(45, IPC_STAT, 0x`+hex(buf)+`)`; got != want {
		t.Errorf("unfinished IPC_STAT: %s, want %s", got, want)
	}
}
