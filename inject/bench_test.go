package inject_test

import (
	"os"
	"runtime"
	"testing"

	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

func threadCPU() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return ts.Nano()
}

func benchEngine(b *testing.B, src string) {
	e, err := inject.LoadSource("bench.lua", []byte(src), inject.Options{Log: os.Stderr})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	th := &tracer.Thread{Tid: 100, Lineage: "1", Proc: &tracer.Process{Pid: 100, Lineage: "1"}}
	nr := abi.Lookup("write").Nr
	sc := &tracer.Syscall{Seq: 1, Thread: th, Arch: abi.ArchX86_64, Nr: nr, Info: abi.X86_64(nr), Args: [6]uint64{1, 0x7ffd12345678, 6}}
	var act tracer.Action
	// The tracer calls handlers on one locked thread; the thread's CPU time
	// is reported too, as cpu-ns/op: unlike ns/op it does not grow when
	// other processes load the machine.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := threadCPU()
	for i := 0; i < b.N; i++ {
		act = tracer.Action{}
		sc.Nth = uint64(i)
		e.Enter(sc, &act)
	}
	b.ReportMetric(float64(threadCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	if st := e.Stats(); st.Errors != 0 {
		b.Fatalf("errors: %+v", st)
	}
}

// BenchmarkOnSyscall is the Lua cost per event: a trivial on_syscall that
// reads ev.name and returns.
func BenchmarkOnSyscall(b *testing.B) {
	benchEngine(b, `
hermes.trap{"write"}
function on_syscall(ev)
  if ev.name == "write" then return end
end`)
}

// BenchmarkOnSyscallFields reads several fields and an argument.
func BenchmarkOnSyscallFields(b *testing.B) {
	benchEngine(b, `
hermes.trap{"write"}
local n = 0
function on_syscall(ev)
  if ev.name == "write" and ev.fd == 1 and ev.count > 0 and ev.nth % 1000 == 999 then n = n + 1 end
end`)
}

// BenchmarkOnSyscallDeny denies every call with a named errno.
func BenchmarkOnSyscallDeny(b *testing.B) {
	benchEngine(b, `
hermes.trap{"write"}
function on_syscall(ev) hermes.deny(hermes.EIO) end`)
}
