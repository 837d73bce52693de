package decode

import (
	"encoding/binary"
	"testing"
)

// TestStraceGaps checks decoders against what strace 6.1 prints for the
// same calls: struct flock and f_owner_ex behind fcntl, the set-id bits
// of st_mode and stx_mode, ioctl names and arguments, futex's arguments
// per op.
func TestStraceGaps(t *testing.T) {
	m := newMem()
	flock := func(typ, whence uint16, start, l int, pid int32) uint64 {
		return m.alloc(le(typ, whence, uint32(0), start, l, pid, uint32(0)))
	}
	wr := flock(1, 0, 0, 10, 0)
	unl := flock(2, 0, 0, 10, 0)
	held := flock(1, 1, 5, 0, 4242)
	odd := flock(3, 7, -1, -2, 0)
	stat := func(mode uint32) uint64 {
		b := make([]byte, 144)
		binary.LittleEndian.PutUint32(b[24:], mode)
		binary.LittleEndian.PutUint64(b[48:], 12288)
		return m.alloc(b)
	}
	statx := func(mode uint16) uint64 {
		b := make([]byte, 256)
		binary.LittleEndian.PutUint32(b, 0x7ff)
		binary.LittleEndian.PutUint16(b[28:], mode)
		binary.LittleEndian.PutUint64(b[40:], 12288)
		return m.alloc(b)
	}
	ts := m.alloc(le(0, 1000))
	one := m.alloc(le(int32(1)))
	word := uint64(0x7ffe48a091bc)
	for _, tt := range []struct {
		c    *Call
		want string
	}{
		// fcntl locks: the struct at entry, F_GETLK's at exit with l_pid.
		{mk(t, "fcntl", 0, 3, 6, wr), `fcntl(3, F_SETLK, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=10}) = 0`},
		{mk(t, "fcntl", -11, 3, 7, wr), `fcntl(3, F_SETLKW, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=10}) = -1 EAGAIN (Resource temporarily unavailable)`},
		{mk(t, "fcntl", 0, 3, 5, unl), `fcntl(3, F_GETLK, {l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=10, l_pid=0}) = 0`},
		{mk(t, "fcntl", 0, 3, 5, held), `fcntl(3, F_GETLK, {l_type=F_WRLCK, l_whence=SEEK_CUR, l_start=5, l_len=0, l_pid=4242}) = 0`},
		{mk(t, "fcntl", -14, 3, 5, 8), `fcntl(3, F_GETLK, 0x8) = -1 EFAULT (Bad address)`},
		{mk(t, "fcntl", -22, 3, 5, unl), `fcntl(3, F_GETLK, 0x` + hex(unl) + `) = -1 EINVAL (Invalid argument)`},
		{mk(t, "fcntl", -14, 3, 6, 8), `fcntl(3, F_SETLK, 0x8) = -1 EFAULT (Bad address)`},
		{mk(t, "fcntl", 0, 3, 37, odd), `fcntl(3, F_OFD_SETLK, {l_type=0x3 /* F_??? */, l_whence=0x7 /* SEEK_??? */, l_start=-1, l_len=-2}) = 0`},
		{mk(t, "fcntl", 0, 3, 38, wr), `fcntl(3, F_OFD_SETLKW, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=10}) = 0`},
		{mk(t, "fcntl", 0, 3, 36, flock(2, 0, 100, 0, -1)), `fcntl(3, F_OFD_GETLK, {l_type=F_UNLCK, l_whence=SEEK_SET, l_start=100, l_len=0, l_pid=-1}) = 0`},
		{mk(t, "fcntl", -22, 3, 13, wr), `fcntl(3, F_SETLK64, 0x` + hex(wr) + `) = -1 EINVAL (Invalid argument)`},
		{mk(t, "fcntl", 0, 3, 15, m.alloc(le(int32(1), int32(77)))), `fcntl(3, F_SETOWN_EX, {type=F_OWNER_PID, pid=77}) = 0`},
		{mk(t, "fcntl", 0, 3, 16, m.alloc(le(int32(0), int32(78)))), `fcntl(3, F_GETOWN_EX, {type=F_OWNER_TID, pid=78}) = 0`},
		{mk(t, "fcntl", 0, 3, 16, m.alloc(le(int32(9), int32(78)))), `fcntl(3, F_GETOWN_EX, {type=0x9 /* F_OWNER_??? */, pid=78}) = 0`},

		// st_mode and stx_mode: strace's print_symbolic_mode_t.
		{mk(t, "newfstatat", 0, neg(-100), m.str("/tmp"), stat(041777), 0), `newfstatat(AT_FDCWD, "/tmp", {st_mode=S_IFDIR|S_ISVTX|0777, st_size=12288, ...}, 0) = 0`},
		{mk(t, "newfstatat", 0, neg(-100), m.str("/x"), stat(0106755), 0), `newfstatat(AT_FDCWD, "/x", {st_mode=S_IFREG|S_ISUID|S_ISGID|0755, st_size=12288, ...}, 0) = 0`},
		{mk(t, "newfstatat", 0, neg(-100), m.str("/x"), stat(0102000), 0), `newfstatat(AT_FDCWD, "/x", {st_mode=S_IFREG|S_ISGID|000, st_size=12288, ...}, 0) = 0`},
		{mk(t, "newfstatat", 0, neg(-100), m.str("/x"), stat(04644), 0), `newfstatat(AT_FDCWD, "/x", {st_mode=S_ISUID|0644, st_size=12288, ...}, 0) = 0`},
		{mk(t, "newfstatat", 0, neg(-100), m.str("/x"), stat(0174644), 0), `newfstatat(AT_FDCWD, "/x", {st_mode=0174644, st_size=12288, ...}, 0) = 0`},
		{mk(t, "statx", 0, neg(-100), m.str("/tmp"), 0, 0x7ff, statx(041777)), `statx(AT_FDCWD, "/tmp", AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, {stx_mask=STATX_BASIC_STATS, stx_attributes=0, stx_mode=S_IFDIR|S_ISVTX|0777, stx_size=12288, ...}) = 0`},

		// ioctl names and arguments.
		{mk(t, "ioctl", -95, 4, 0x40049409, 3), `ioctl(4, BTRFS_IOC_CLONE or FICLONE, 3) = -1 EOPNOTSUPP (Operation not supported)`},
		{mk(t, "ioctl", -9, 4, 0x40049409, neg(-1)), `ioctl(4, BTRFS_IOC_CLONE or FICLONE, -1) = -1 EBADF (Bad file descriptor)`},
		{mk(t, "ioctl", -95, 4, 0x4020940d, m.alloc(le(3, 1, 2, 3))), `ioctl(4, BTRFS_IOC_CLONE_RANGE or FICLONERANGE, {src_fd=3, src_offset=1, src_length=2, dest_offset=3}) = -1 EOPNOTSUPP (Operation not supported)`},
		{mk(t, "ioctl", -14, 4, 0xc0189436, 0), `ioctl(4, BTRFS_IOC_FILE_EXTENT_SAME or FIDEDUPERANGE, NULL) = -1 EFAULT (Bad address)`},
		{mk(t, "ioctl", 0, 4, 0x5421, one), `ioctl(4, FIONBIO, [1]) = 0`},
		{mk(t, "ioctl", 0, 4, 0x5451, 0x7ffd), `ioctl(4, FIOCLEX) = 0`},
		{mk(t, "ioctl", 0, 4, 0x5450), `ioctl(4, FIONCLEX) = 0`},
		{mk(t, "ioctl", -25, 4, 0x5422, neg(-1)), `ioctl(4, TIOCNOTTY) = -1 ENOTTY (Inappropriate ioctl for device)`},
		{mk(t, "ioctl", 0, 3, 0x540c), `ioctl(3, TIOCEXCL) = 0`},
		{mk(t, "ioctl", 0, 3, 0x540d), `ioctl(3, TIOCNXCL) = 0`},
		{mk(t, "ioctl", -25, 4, 0x540e, 0), `ioctl(4, TIOCSCTTY, 0) = -1 ENOTTY (Inappropriate ioctl for device)`},
		{mk(t, "ioctl", 0, 3, 0x5411, m.alloc(le(int32(0)))), `ioctl(3, TIOCOUTQ, [0]) = 0`},
		{mk(t, "ioctl", 0, 3, 0x5424, m.alloc(le(int32(0)))), `ioctl(3, TIOCGETD, [0]) = 0`},
		{mk(t, "ioctl", 0, 3, 0x80045440, m.alloc(le(int32(0)))), `ioctl(3, TIOCGEXCL, [0]) = 0`},
		{mk(t, "ioctl", 0, 3, 0x540a, 1), `ioctl(3, TCXONC, TCOON) = 0`},
		{mk(t, "ioctl", -22, 3, 0x540a, 9), `ioctl(3, TCXONC, 0x9 /* TC??? */) = -1 EINVAL (Invalid argument)`},
		{mk(t, "ioctl", 0, 3, 0x5409, 1), `ioctl(3, TCSBRK, 1) = 0`},
		{mk(t, "ioctl", 0, 3, 0x5412, m.alloc([]byte("x"))), `ioctl(3, TIOCSTI, "x") = 0`},
		{mk(t, "ioctl", 0, 4, 0x2, 0x7ffe48a095dc), `ioctl(4, FIGETBSZ, 0x7ffe48a095dc) = 0`},
		{mk(t, "ioctl", 0, 4, 0x5460, 0x7ffe48a095dc), `ioctl(4, FIOQSIZE, 0x7ffe48a095dc) = 0`},

		// futex: the arguments each op takes.
		{mk(t, "futex", 0, word, 0x81, 1, 0, 0, 0), `futex(0x7ffe48a091bc, FUTEX_WAKE_PRIVATE, 1) = 0`},
		{mk(t, "futex", -11, word, 0x80, 1, 0, 0, 0), `futex(0x7ffe48a091bc, FUTEX_WAIT_PRIVATE, 1, NULL) = -1 EAGAIN (Resource temporarily unavailable)`},
		{mk(t, "futex", -110, word, 0, 0, ts, 0, 0), `futex(0x7ffe48a091bc, FUTEX_WAIT, 0, {tv_sec=0, tv_nsec=1000}) = -1 ETIMEDOUT (Connection timed out)`},
		{mk(t, "futex", -110, word, 0x109, 0, ts, 0, 0xff), `futex(0x7ffe48a091bc, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=1000}, 0xff) = -1 ETIMEDOUT (Connection timed out)`},
		{mk(t, "futex", -22, word, 9, 1, 0, 0, 0), `futex(0x7ffe48a091bc, FUTEX_WAIT_BITSET, 1, NULL, 0) = -1 EINVAL (Invalid argument)`},
		{mk(t, "futex", 0, word, 10, 1, 0, 0, 0xffffffff), `futex(0x7ffe48a091bc, FUTEX_WAKE_BITSET, 1, FUTEX_BITSET_MATCH_ANY) = 0`},
		{mk(t, "futex", 0, word, 3, 1, 2, one, 0), `futex(0x7ffe48a091bc, FUTEX_REQUEUE, 1, 2, 0x` + hex(one) + `) = 0`},
		{mk(t, "futex", 0, word, 4, 1, 2, one, 0), `futex(0x7ffe48a091bc, FUTEX_CMP_REQUEUE, 1, 2, 0x` + hex(one) + `, 0) = 0`},
		{mk(t, "futex", -22, word, 4, 0xffffffff, 0xfffffffe, one, 0xfffffffd), `futex(0x7ffe48a091bc, FUTEX_CMP_REQUEUE, 4294967295, 4294967294, 0x` + hex(one) + `, 4294967293) = -1 EINVAL (Invalid argument)`},
		{mk(t, "futex", 0, word, 12, 1, 2, one, 0), `futex(0x7ffe48a091bc, FUTEX_CMP_REQUEUE_PI, 1, 2, 0x` + hex(one) + `, 0) = 0`},
		{mk(t, "futex", 0, word, 5, 1, 2, one, 0x14001000), `futex(0x7ffe48a091bc, FUTEX_WAKE_OP, 1, 2, 0x` + hex(one) + `, FUTEX_OP_ADD<<28|0x1<<12|FUTEX_OP_CMP_GT<<24|0) = 0`},
		{mk(t, "futex", 0, word, 0x85, 1, 2, one, 0xa1005007), `futex(0x7ffe48a091bc, FUTEX_WAKE_OP_PRIVATE, 1, 2, 0x` + hex(one) + `, FUTEX_OP_OPARG_SHIFT<<28|FUTEX_OP_OR<<28|0x5<<12|FUTEX_OP_CMP_NE<<24|0x7) = 0`},
		{mk(t, "futex", 0, word, 5, 1, 2, one, 0), `futex(0x7ffe48a091bc, FUTEX_WAKE_OP, 1, 2, 0x` + hex(one) + `, FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_EQ<<24|0) = 0`},
		{mk(t, "futex", -38, word, 5, 1, 2, one, 0x7fffffff), `futex(0x7ffe48a091bc, FUTEX_WAKE_OP, 1, 2, 0x` + hex(one) + `, 0x7<<28 /* FUTEX_OP_??? */|0xfff<<12|0xf<<24 /* FUTEX_OP_CMP_??? */|0xfff) = -1 ENOSYS (Function not implemented)`},
		{mk(t, "futex", -38, word, 2, 1, 0, 0, 0), `futex(0x7ffe48a091bc, FUTEX_FD, 1) = -1 ENOSYS (Function not implemented)`},
		{mk(t, "futex", 0, word, 6, 1, ts, 0, 0), `futex(0x7ffe48a091bc, FUTEX_LOCK_PI, {tv_sec=0, tv_nsec=1000}) = 0`},
		{mk(t, "futex", 0, word, 13|0x80, 0, 0, 0, 0), `futex(0x7ffe48a091bc, FUTEX_LOCK_PI2_PRIVATE, NULL) = 0`},
		{mk(t, "futex", -35, word, 8, 1, 0, 0, 0), `futex(0x7ffe48a091bc, FUTEX_TRYLOCK_PI) = -1 EDEADLK (Resource deadlock avoided)`},
		{mk(t, "futex", 0, word, 7, 1, 0, 0, 0), `futex(0x7ffe48a091bc, FUTEX_UNLOCK_PI) = 0`},
		{mk(t, "futex", -11, word, 11, 1, ts, one, 0), `futex(0x7ffe48a091bc, FUTEX_WAIT_REQUEUE_PI, 1, {tv_sec=0, tv_nsec=1000}, 0x` + hex(one) + `) = -1 EAGAIN (Resource temporarily unavailable)`},
		{mk(t, "futex", -38, word, 99, 1, 2, one, 5), `futex(0x7ffe48a091bc, 0x63 /* FUTEX_??? */, 1, 0x2, 0x` + hex(one) + `, 0x5) = -1 ENOSYS (Function not implemented)`},
	} {
		if got := render(tt.c, m, nil); got != tt.want {
			t.Errorf("\n got: %s\nwant: %s", got, tt.want)
		}
	}
}

// TestGapsPhases checks what strace prints at entry and at exit for the
// calls above: F_GETLK's struct and F_GETOWN_EX's when the call returns,
// F_SETLK's and futex's arguments when it is made.
func TestGapsPhases(t *testing.T) {
	m := newMem()
	fl := m.alloc(le(uint16(2), uint16(0), uint32(0), 0, 10, int32(0), uint32(0)))
	for _, tt := range []struct {
		c           *Call
		entry, exit string
	}{
		{mk(t, "fcntl", 0, 3, 5, fl), `fcntl(3, F_GETLK, `, `{l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=10, l_pid=0})`},
		{mk(t, "fcntl", 0, 3, 36, fl), `fcntl(3, F_OFD_GETLK, `, `{l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=10, l_pid=0})`},
		{mk(t, "fcntl", 0, 3, 16, m.alloc(le(int32(1), int32(5)))), `fcntl(3, F_GETOWN_EX, `, `{type=F_OWNER_PID, pid=5})`},
		{mk(t, "fcntl", 0, 3, 7, fl), `fcntl(3, F_SETLKW, {l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=10}`, `)`},
		{mk(t, "futex", 0, 0x1000, 0x80, 1, 0, 0, 0), `futex(0x1000, FUTEX_WAIT_PRIVATE, 1, NULL`, `)`},
		{mk(t, "ioctl", 0, 3, 0x5411, m.alloc(le(int32(7)))), `ioctl(3, TIOCOUTQ, `, `[7])`},
		{mk(t, "ioctl", 0, 3, 0x5451), `ioctl(3, FIOCLEX`, `)`},
	} {
		checkHalves(t, tt.c, m, tt.entry, tt.exit)
	}
	// Before F_GETLK returns, its struct is an address.
	c := mk(t, "fcntl", 0, 3, 5, fl)
	c.Exited = false
	if got, want := string(AppendCall(nil, c, m, nil)), `fcntl(3, F_GETLK, 0x`+hex(fl)+`)`; got != want {
		t.Errorf("unfinished F_GETLK: %s, want %s", got, want)
	}
}

// TestAppendClock checks clock_t values as strace prints them in siginfo.
func TestAppendClock(t *testing.T) {
	for _, tt := range []struct {
		v    uint64
		want string
	}{
		{0, "0"}, {3, "3 /* 0.03 s */"}, {100, "100 /* 1.00 s */"}, {150, "150 /* 1.50 s */"}, {12345, "12345 /* 123.45 s */"},
	} {
		if got := string(appendClock(nil, tt.v)); got != tt.want {
			t.Errorf("appendClock(%d) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
