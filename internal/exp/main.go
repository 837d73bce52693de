package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/hermes-trace/hermes/tracer"
	"golang.org/x/sys/unix"
)

type h struct{ exit bool }

func (x h) Enter(sc *tracer.Syscall, act *tracer.Action) { act.WantExit = x.exit }
func (x h) Exit(sc *tracer.Syscall, act *tracer.Action)  {}

func main() {
	if p := os.Getenv("PROF"); p != "" {
		f, _ := os.Create(p)
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	for _, exit := range []bool{false, true} {
		start := time.Now()
		t := tracer.New(tracer.Config{Trace: []int{unix.SYS_GETPPID}, Handlers: []tracer.Handler{h{exit}}})
		if _, err := t.Launch([]string{"/tmp/loop", "100000", "getppid"}); err != nil {
			panic(err)
		}
		fmt.Printf("exit=%v: %.2f us/call\n", exit, float64(time.Since(start).Microseconds())/100000)
	}
}
