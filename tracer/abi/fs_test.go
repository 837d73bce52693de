package abi

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestFSEffect(t *testing.T) {
	tests := []struct {
		name string
		nr   int
		args [6]uint64
		how  uint64
		want bool
	}{
		{"openat read", unix.SYS_OPENAT, [6]uint64{2: unix.O_RDONLY}, 0, false},
		{"openat write", unix.SYS_OPENAT, [6]uint64{2: unix.O_WRONLY}, 0, true},
		{"openat rdwr", unix.SYS_OPENAT, [6]uint64{2: unix.O_RDWR}, 0, true},
		{"openat creat", unix.SYS_OPENAT, [6]uint64{2: unix.O_RDONLY | unix.O_CREAT}, 0, true},
		{"open trunc", unix.SYS_OPEN, [6]uint64{1: unix.O_TRUNC}, 0, true},
		{"open directory", unix.SYS_OPEN, [6]uint64{1: unix.O_DIRECTORY | unix.O_CLOEXEC}, 0, false},
		{"openat tmpfile", unix.SYS_OPENAT, [6]uint64{2: unix.O_TMPFILE | unix.O_RDWR}, 0, true},
		{"openat2 read", unix.SYS_OPENAT2, [6]uint64{}, unix.O_RDONLY, false},
		{"openat2 write", unix.SYS_OPENAT2, [6]uint64{}, unix.O_WRONLY, true},
		{"mmap private", unix.SYS_MMAP, [6]uint64{2: unix.PROT_READ | unix.PROT_WRITE, 3: unix.MAP_PRIVATE}, 0, false},
		{"mmap shared read", unix.SYS_MMAP, [6]uint64{2: unix.PROT_READ, 3: unix.MAP_SHARED}, 0, false},
		{"mmap shared write", unix.SYS_MMAP, [6]uint64{2: unix.PROT_WRITE, 3: unix.MAP_SHARED}, 0, true},
		{"unlink", unix.SYS_UNLINK, [6]uint64{}, 0, true},
		{"write", unix.SYS_WRITE, [6]uint64{}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := X86_64(tc.nr).FS
			if fs == nil {
				t.Fatalf("%s has no FS effect", tc.name)
			}
			if got := fs.Changes(&tc.args, tc.how); got != tc.want {
				t.Errorf("Changes = %v, want %v", got, tc.want)
			}
		})
	}
	for _, nr := range []int{unix.SYS_READ, unix.SYS_STAT, unix.SYS_GETDENTS64, unix.SYS_FSYNC} {
		if fs := X86_64(nr).FS; fs != nil {
			t.Errorf("%s has an FS effect %+v", X86_64(nr).Name, fs)
		}
	}
	// The two names of a rename, the link itself.
	rn := X86_64(unix.SYS_RENAMEAT2).FS
	if rn.Paths != [2]PathRef{{0, 1}, {2, 3}} || !rn.NoFollow || !rn.Tree {
		t.Errorf("renameat2: %+v", rn)
	}
}

func TestReplayFacts(t *testing.T) {
	tests := []struct {
		nr   int
		want ReplayFacts
	}{
		{unix.SYS_CLOCK_GETTIME, ReplayTime | ReplayNoise},
		{unix.SYS_WRITE, ReplayWrite | ReplayVisible},
		{unix.SYS_GETDENTS64, ReplayRead | ReplayMeta},
		{unix.SYS_WAIT4, ReplayPidResult | ReplayWait},
		{unix.SYS_KILL, ReplayPidArgs | ReplayVisible},
		{unix.SYS_NEWFSTATAT, ReplayMeta | ReplayFDInfo},
		{unix.SYS_OPENAT, 0},
	}
	for _, tc := range tests {
		if got := X86_64(tc.nr).Replay; got != tc.want {
			t.Errorf("%s: Replay = %#x, want %#x", X86_64(tc.nr).Name, got, tc.want)
		}
	}
}

// TestDataWrite: the calls that write a file's contents, with the
// descriptor they write through and their byte count.
func TestDataWrite(t *testing.T) {
	for _, tc := range []struct {
		nr            int
		fd, len, grow int8
	}{
		{unix.SYS_WRITE, 0, 2, NoArg},
		{unix.SYS_PWRITE64, 0, 2, NoArg},
		{unix.SYS_WRITEV, 0, NoArg, NoArg},
		{unix.SYS_PWRITEV2, 0, NoArg, NoArg},
		{unix.SYS_COPY_FILE_RANGE, 2, 4, NoArg},
		{unix.SYS_SENDFILE, 0, 3, NoArg},
		{unix.SYS_SPLICE, 2, 4, NoArg},
		{unix.SYS_FALLOCATE, 0, NoArg, NoArg},
		{unix.SYS_FTRUNCATE, 0, NoArg, 1},
	} {
		s := X86_64(tc.nr)
		if s.FS == nil || s.FS.Data == nil || s.FS.FD != tc.fd || s.FS.Data.Len != tc.len || s.FS.Data.Grow != tc.grow {
			t.Errorf("%s: FS %+v, want data through arg %d, len %d, grow %d", s.Name, s.FS, tc.fd, tc.len, tc.grow)
		}
	}
	// Names and metadata are not data.
	for _, nr := range []int{unix.SYS_FCHMOD, unix.SYS_RENAMEAT2, unix.SYS_OPENAT, unix.SYS_MMAP, unix.SYS_FSETXATTR} {
		if s := X86_64(nr); s.FS == nil || s.FS.Data != nil {
			t.Errorf("%s: FS %+v, want a change that writes no data", s.Name, s.FS)
		}
	}
}
