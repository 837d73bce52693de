// Command goroutines is a busy Go program: many threads, many syscalls,
// constant asynchronous preemption (SIGURG) and runtime signals.
//
// Usage: goroutines [G [DURATION]]
//
// It starts G worker goroutines (default 64). Until DURATION (a Go
// duration, default 300ms) has passed, each worker repeatedly writes a few
// bytes to its own os.DevNull file, calls os.Getpid, spins in a tight
// call-free loop, allocates garbage (driving frequent GC cycles, whose stack
// scans preempt running goroutines) and sleeps briefly. In addition,
// GOMAXPROCS "hog" goroutines spin in call-free loops for the whole
// duration, so sysmon must preempt them asynchronously with SIGURG every
// 10ms. GOGC defaults to 20 here (unless set in the environment) for even
// more GC-driven preemption. Expect several hundred SIGURGs (tgkill) per run
// natively on 2 CPUs. Then it prints "goroutines done G\n" and exits 0.
// Failures print to stderr and exit 1.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var (
	sink atomic.Uint64
	stop atomic.Bool
	junk [][]byte
	mu   sync.Mutex
)

// hog spins without function calls (hence without synchronous preemption
// points) until stop is set.
func hog() uint64 {
	x := uint64(88172645463325252)
	for !stop.Load() {
		for i := 0; i < 1000; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	return x
}

func spin(n int) uint64 {
	x := uint64(n) | 1
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func main() {
	g := 64
	dur := 300 * time.Millisecond
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "usage: goroutines [G [DURATION]]")
			os.Exit(2)
		}
		g = n
	}
	if len(os.Args) > 2 {
		d, err := time.ParseDuration(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "usage: goroutines [G [DURATION]]")
			os.Exit(2)
		}
		dur = d
	}
	if os.Getenv("GOGC") == "" {
		// Frequent GC cycles mean frequent signal-based stack scans.
		debug.SetGCPercent(20)
	}
	time.AfterFunc(dur, func() { stop.Store(true) })
	pid := os.Getpid()
	var wg sync.WaitGroup
	var failed atomic.Bool
	for i := 0; i < runtime.GOMAXPROCS(0); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sink.Add(hog())
		}()
	}
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, "goroutines:", err)
				failed.Store(true)
				return
			}
			defer f.Close()
			buf := []byte("goroutine write\n")
			for !stop.Load() {
				for j := 0; j < 8; j++ {
					if _, err := f.Write(buf); err != nil {
						fmt.Fprintln(os.Stderr, "goroutines:", err)
						failed.Store(true)
						return
					}
				}
				if os.Getpid() != pid {
					fmt.Fprintln(os.Stderr, "goroutines: getpid mismatch")
					failed.Store(true)
					return
				}
				sink.Add(spin(200000 + i))
				b := make([]byte, 256<<10)
				b[i] = byte(i)
				mu.Lock()
				junk = append(junk, b)
				if len(junk) > 16 {
					junk = junk[:0]
				}
				mu.Unlock()
				time.Sleep(50 * time.Microsecond)
			}
		}(i)
	}
	wg.Wait()
	if failed.Load() {
		os.Exit(1)
	}
	fmt.Printf("goroutines done %d\n", g)
}
