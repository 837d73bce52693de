package tracer

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestThreadWaiting: a thread asleep inside a call, or stopped by a
// group stop, waits; a thread spinning on the CPU does not, and a Solo
// turn given to it ends once it spent the CPU budget.
func TestThreadWaiting(t *testing.T) {
	start := func(t *testing.T, argv ...string) *Thread {
		cmd := exec.Command(argv[0], argv[1:]...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		pid := cmd.Process.Pid
		return &Thread{Tid: pid, Proc: &Process{Pid: pid}}
	}
	eventually := func(t *testing.T, what string, f func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !f(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never %s", what)
			}
		}
	}
	t.Run("asleep in a call", func(t *testing.T) {
		th := start(t, "sleep", "10")
		eventually(t, "waiting", th.Waiting)
		if !th.blockedInCall() {
			t.Errorf("waiting but not in a call")
		}
	})
	t.Run("group stop", func(t *testing.T) {
		th := start(t, "sh", "-c", "while :; do :; done")
		if err := syscall.Kill(th.Tid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		eventually(t, "waiting", th.Waiting)
	})
	t.Run("spinning", func(t *testing.T) {
		th := start(t, "sh", "-c", "while :; do :; done")
		var s Solo
		s.Set(th, false)
		if s.Thread() != th || s.Over() {
			t.Fatal("over right after Set")
		}
		for i := 0; i < 20; i++ {
			if th.Waiting() {
				t.Fatal("a spinning thread waits")
			}
			time.Sleep(time.Millisecond)
		}
		eventually(t, "over", func() bool { return s.Over() })
		if cpu, ok := th.CPUTime(); !ok || cpu < SoloBudget {
			t.Errorf("over after %v of CPU", cpu)
		}
		s.Set(nil, false)
		if s.Thread() != nil || !s.Over() {
			t.Error("a cleared Solo is not over")
		}
	})
}
