package replay

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

func timespec(sec, nsec int64) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(sec))
	return binary.LittleEndian.AppendUint64(b, uint64(nsec))
}

func TestClockBook(t *testing.T) {
	b := newClockBook()
	b.now = func(uint32) (int64, bool) { return 500e9, true } // the real clock reads 500 s
	b.learn(unix.CLOCK_REALTIME, timespec(100, 5), 1)         // recorded: 100 s + 5 ns
	b.learn(unix.CLOCK_MONOTONIC, timespec(7, 1), 1000)       // a timeval: 7 s + 1 µs
	b.learn(unix.CLOCK_PROCESS_CPUTIME_ID, timespec(1, 0), 1) // the process's own: not kept
	tests := []struct {
		name string
		got  int64
		want int64
	}{
		{"realtime moved into recorded time", must(b.shift(unix.CLOCK_REALTIME, 501e9)), 101e9 + 5},
		{"monotonic moved", must(b.shift(unix.CLOCK_MONOTONIC, 500e9)), 7e9 + 1000},
		{"virtual goes on from the last reading", b.virtual(unix.CLOCK_REALTIME, 0), 100e9 + 5 + ClockStep},
		{"by a step a read", b.virtual(unix.CLOCK_REALTIME, 0), 100e9 + 5 + 2*ClockStep},
		{"a clock never read starts at start", b.virtual(unix.CLOCK_BOOTTIME, 42), 42 + ClockStep},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	if _, ok := b.shift(unix.CLOCK_PROCESS_CPUTIME_ID, 1); ok {
		t.Error("a CPU clock was shifted")
	}
}

func must(v int64, ok bool) int64 {
	if !ok {
		return -1
	}
	return v
}
