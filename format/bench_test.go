package format

import (
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/hermes-trace/hermes/format/tracepb"
)

// typicalGen produces, in place and without allocating, the syscall events
// of a small program: a mix of openat (path in), read (text out), fstat
// (struct stat out), mmap, close and getppid, from two threads; or, in
// loop mode, nothing but getppid.
type typicalGen struct {
	g    *regsGen
	ev   *tracepb.Event
	sc   *tracepb.Syscall
	mem  *tracepb.Mem
	mems []*tracepb.Mem
	buf  []byte
	stat []byte
	now  int64
	loop bool
}

var typicalPaths = [][]byte{
	[]byte("/etc/ld.so.cache"),
	[]byte("/lib/x86_64-linux-gnu/libc.so.6"),
	[]byte("/usr/lib/python3.11/encodings/__init__.py"),
	[]byte("/usr/share/locale/locale.alias"),
	[]byte("/proc/self/maps"),
}

const typicalText = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\n"

func newTypical(seed int64, loop bool) *typicalGen {
	t := &typicalGen{g: newRegsGen(seed), mem: &tracepb.Mem{}, buf: make([]byte, 0, 256), stat: make([]byte, 144), loop: loop}
	t.sc = &tracepb.Syscall{Lineage: "1", Pid: 100}
	t.ev = &tracepb.Event{Kind: &tracepb.Event_Syscall{Syscall: t.sc}}
	t.mems = []*tracepb.Mem{t.mem}
	t.sc.Regs = make([]byte, nReg*8)
	return t
}

func (t *typicalGen) next(i int) *tracepb.Event {
	sc := t.sc
	rng := t.g.rng
	sc.Seq = uint64(i + 1)
	sc.Tid = 100 + int32(i%3/2)
	if t.loop {
		sc.Tid = 100
	}
	t.now += 2000 + int64(rng.Intn(3000))
	sc.EnterNs = t.now
	t.now += 300 + int64(rng.Intn(500))
	sc.ExitNs = t.now
	sc.Mem = nil
	var nr int32
	if t.loop {
		nr = 110
		sc.Ret = 99
	} else {
		switch k := i % 8; k {
		case 0:
			nr = 257
			sc.Ret = 3 + int64(rng.Intn(3))
			p := typicalPaths[rng.Intn(len(typicalPaths))]
			t.mem.Kind, t.mem.Arg, t.mem.Data = tracepb.MemKind_MEM_KIND_IN, 1, p
			sc.Mem = t.mems
		case 1, 2:
			nr = 0
			n := 16 + rng.Intn(100)
			off := rng.Intn(len(typicalText) - n)
			t.buf = append(t.buf[:0], typicalText[off:off+n]...)
			sc.Ret = int64(n)
			t.mem.Kind, t.mem.Arg, t.mem.Data = tracepb.MemKind_MEM_KIND_OUT, 1, t.buf
			sc.Mem = t.mems
		case 3:
			nr = 5
			binary.LittleEndian.PutUint64(t.stat[0:], 0x803)
			binary.LittleEndian.PutUint64(t.stat[8:], uint64(rng.Intn(1<<20)))
			binary.LittleEndian.PutUint64(t.stat[48:], uint64(rng.Intn(1<<16)))
			binary.LittleEndian.PutUint64(t.stat[72:], 1700000000+uint64(rng.Intn(1000)))
			sc.Ret = 0
			t.mem.Kind, t.mem.Arg, t.mem.Data = tracepb.MemKind_MEM_KIND_OUT, 1, t.stat
			sc.Mem = t.mems
		case 4:
			nr = 9
			sc.Ret = 0x7f3a1c400000 + int64(rng.Intn(1<<10))<<12
		case 5:
			nr = 3
			sc.Ret = 0
		default:
			nr = 110
			sc.Ret = 99
		}
	}
	sc.Nr = nr
	if t.loop {
		// A tight loop: the same call from the same place with the same
		// leftover argument registers; only the clobbered ones change.
		if sc.Regs[0] == 0 && sc.Regs[1] == 0 {
			copy(sc.Regs, t.g.step(sc.Tid, nr))
		}
		put(sc.Regs, rRAX, uint64(0xffffffffffffffda))
		put(sc.Regs, rR11, 0x246)
	} else {
		copy(sc.Regs, t.g.step(sc.Tid, nr))
	}
	t.mem.Addr = argValue(sc.Regs, sc.Arch, t.mem.Arg)
	return t.ev
}

// For TestMemoryBounded.
func typicalEvent() (*tracepb.Event, *typicalGen) {
	t := newTypical(1, false)
	return t.ev, t
}

func nextTypical(_ *regsGen, t *typicalGen, i int) { t.next(i) }

// BenchmarkAppend measures Append of typical syscall events, and reports
// the trace size per event (file bytes after Close / events).
func BenchmarkAppend(b *testing.B) {
	for _, loop := range []bool{false, true} {
		for _, full := range []bool{false, true} {
			name := fmt.Sprintf("mixed/delta=%v", !full)
			if loop {
				name = fmt.Sprintf("getppid/delta=%v", !full)
			}
			b.Run(name, func(b *testing.B) {
				path := tracePath(b)
				w, err := Create(path, testHeader(), WriterOptions{FullRegs: full})
				if err != nil {
					b.Fatal(err)
				}
				tg := newTypical(1, loop)
				for i := 0; i < 1000; i++ { // warm up buffers
					w.Append(tg.next(i))
				}
				b.ReportAllocs()
				cpu0 := cpuTime()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := w.Append(tg.next(1000 + i)); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				// CPU of the whole process (Append, compression, writes)
				// per event: what recording costs besides the ptrace stops.
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				fi, _ := os.Stat(path)
				b.ReportMetric(float64(fi.Size())/float64(b.N+1000), "bytes/event")
			})
		}
	}
}

// BenchmarkEncode measures the work Append does on the caller's goroutine
// (delta and protobuf encoding), without the pipeline behind it.
func BenchmarkEncode(b *testing.B) {
	w, err := Create(tracePath(b), nil, WriterOptions{FlushInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	tg := newTypical(1, false)
	evs := make([]*tracepb.Event, 64)
	for i := range evs {
		evs[i] = proto.Clone(tg.next(i)).(*tracepb.Event)
		w.Append(evs[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := evs[i%len(evs)]
		w.mu.Lock()
		w.marshal(ev, seqOf(ev))
		w.mu.Unlock()
	}
}

func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func TestAppendDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("race detector allocates")
	}
	w, err := Create(tracePath(t), nil, WriterOptions{ChunkSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tg := newTypical(1, false)
	i := 0
	for ; i < 5000; i++ {
		w.Append(tg.next(i))
	}
	// next() itself does not allocate; Append must not either, chunk
	// cuts included (64 KiB chunks: several cuts during the run).
	allocs := testing.AllocsPerRun(20000, func() {
		if err := w.Append(tg.next(i)); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs > 0.01 {
		t.Errorf("Append allocates %.3f times per call", allocs)
	}
}

// TestTraceSize logs bytes per event for typical workloads with and
// without the register delta.
func TestTraceSize(t *testing.T) {
	const n = 100000
	for _, loop := range []bool{false, true} {
		for _, full := range []bool{false, true} {
			path := tracePath(t)
			w, err := Create(path, testHeader(), WriterOptions{FullRegs: full})
			if err != nil {
				t.Fatal(err)
			}
			tg := newTypical(1, loop)
			for i := 0; i < n; i++ {
				if err := w.Append(tg.next(i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			st := w.Stats()
			name := "mixed"
			if loop {
				name = "getppid"
			}
			t.Logf("%-8s delta=%-5v %6.1f bytes/event on disk, %6.1f uncompressed", name, !full,
				float64(st.Bytes)/n, float64(st.RawBytes)/n)
		}
	}
}
